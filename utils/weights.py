"""The Keras weight cache: MobileNetV2 ImageNet weights where ``keras.applications`` looks."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
from pathlib import Path

import keras

from utils.fetch import (DataError, dataset_files, ensure_dataset, mirror, part_path,
                         remove_stale_parts, sha256_of)

_MOBILENET = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}{top}.h5"
_COURSE_WEIGHTS = "weights/mobilenet_v2/derived_keras_h5/"
# The course's files (224-px weights only) and their one name in the Keras cache.
KERAS_WEIGHT_NAMES = {_COURSE_WEIGHTS + name: name for name in (
    _MOBILENET.format(size=224, top=top) for top in ("_no_top", ""))}
KERAS_WEIGHT_NAMES["weights/imagenet_class_index.json"] = "imagenet_class_index.json"
KERAS_MOBILENET_SIZES = (96, 128, 160, 192, 224)
KERAS_MOBILENET_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"


def keras_home() -> Path:
    """The Keras cache: ``$KERAS_HOME`` (``import utils`` sets it), else ``~/.keras``."""
    return Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser()


def _is_course_copy(path: Path) -> bool:
    """Whether ``path`` holds exactly the bytes of one of the course's 224-px weight files."""
    shas = {e.sha256 for e in dataset_files("mobilenet_v2")
            if e.path.startswith(_COURSE_WEIGHTS) and e.size == path.stat().st_size}
    return bool(shas) and sha256_of(path) in shas


def install_keras_weights() -> list[Path]:
    """Place the 224-px MobileNetV2 weights and class index in the Keras cache; return them."""
    target = keras_home() / "models"
    remove_stale_parts(target / name for name in KERAS_WEIGHT_NAMES.values())
    for old in (target / _MOBILENET.format(size=160, top=top) for top in ("", "_no_top")):
        if old.is_file() and _is_course_copy(old):
            old.unlink()  # an older course version's copy, posing as Keras' 160-px file
    todo = {s: target / n for s, n in KERAS_WEIGHT_NAMES.items() if not (target / n).exists()}
    if not todo:
        return []
    try:
        root = ensure_dataset("mobilenet_v2", progress=False, only=list(KERAS_WEIGHT_NAMES))
    except DataError:
        if any(e.source is None for e in dataset_files("mobilenet_v2")) and not mirror():
            return []  # online without a mirror: Keras fetches the official files
        raise
    target.mkdir(parents=True, exist_ok=True)
    for src, dest in todo.items():
        os.replace(shutil.copyfile(root / src, part_path(dest)), dest)
    return list(todo.values())


def _download_keras_file(name: str, timeout: float = 20.0) -> bool:
    """Try to download Keras' file ``name`` into the Keras cache; ``True`` if it is there now."""
    saved = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # a blocked network fails in seconds, not minutes
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # no "Downloading ..." line when offline
            keras.utils.get_file(name, KERAS_MOBILENET_URL + name, cache_subdir="models")
        return (keras_home() / "models" / name).is_file()
    except Exception:  # offline, blocked or a server error: Keras raises several kinds
        return False
    finally:
        socket.setdefaulttimeout(saved)


def mobilenet_v2_weights(size: int = 224, include_top: bool = False, download: bool = True) -> str:
    """The ``weights=`` argument for MobileNetV2 (alpha 1.0) at ``size`` x ``size`` px.

    ``"imagenet"`` if Keras' file trained at that size is cached or (``download``) downloads now,
    else a 224-px file's path, which loads at any size. Example: ``mobilenet_v2_weights(160)``.
    """
    top, cache = ("" if include_top else "_no_top"), keras_home() / "models"
    own = cache / _MOBILENET.format(size=size, top=top)
    if size in KERAS_MOBILENET_SIZES and (
            own.is_file() and (size == 224 or not _is_course_copy(own))
            or download and _download_keras_file(own.name)):
        return "imagenet"
    if (at_224 := cache / _MOBILENET.format(size=224, top=top)).is_file():
        return str(at_224)
    src = _COURSE_WEIGHTS + at_224.name
    return str(ensure_dataset("mobilenet_v2", progress=False, only=[src]) / src)
