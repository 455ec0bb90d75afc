"""Datasets: ``tf.data`` pipelines, train/validation splits, and the course's checked loaders."""

from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path
from typing import Iterable

import h5py
import numpy as np
import tensorflow as tf

from utils.fetch import DataError, ensure_dataset
from utils.images import check_image_file, check_image_folder, image_files, read_image

SMILES_CLASSES = ("negatives", "positives")  # folder of label 0 (not smiling), label 1 (smiling)
H5_LAYOUT = {"happy_house": ("happy_house/train_happy.h5", "happy_house/test_happy.h5"),
             "signs_h5": ("signs/train_signs.h5", "signs/test_signs.h5")}
_FETCH = "Run `python -m utils fetch` (or `make data`) to fetch"


def image_folder_datasets(directory: str | Path, image_size: tuple[int, int] = (160, 160),
                          batch_size: int = 32, validation_split: float = 0.2,
                          seed: int = 42, cache: bool = True, check_files: bool = True):
    """Train and validation pipelines (pixels 0-255, cached): ``image_folder_datasets(folder)``."""
    class_names = check_image_folder(directory, check_files=check_files)
    # single images (batch_size=None); the seeded shuffle of the files decides the split
    common = dict(labels="inferred", label_mode="int", class_names=class_names,
                  image_size=image_size, batch_size=None, color_mode="rgb",
                  validation_split=validation_split, seed=seed, shuffle=True)
    load = tf.keras.utils.image_dataset_from_directory
    train = load(str(directory), subset="training", **common)
    val = load(str(directory), subset="validation", verbose=False, **common)
    if cache:  # decode and resize once
        train, val = train.cache(), val.cache()
    train = train.shuffle(int(train.cardinality()), seed=seed, reshuffle_each_iteration=True)
    return (train.batch(batch_size).prefetch(tf.data.AUTOTUNE),
            val.batch(batch_size).prefetch(tf.data.AUTOTUNE), class_names)


def no_autotune(dataset):
    """``dataset`` with tf.data's autotuner off, which can stall an epoch's end for seconds."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def split_class_folders(source: str | Path, target: str | Path,
                        validation_fraction: float = 0.2, seed: int = 42) -> dict:
    """Copy class folders to ``target/{train,validation}/<class>`` but bad images; count them."""
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError("validation_fraction must be between 0 and 1")
    source, target = Path(source), Path(target)
    report: dict = {"train": {}, "validation": {}, "skipped": []}
    rng = random.Random(seed)
    for name in check_image_folder(source, check_files=False):
        good = []
        for file in sorted(p for p in (source / name).iterdir() if p.is_file()):
            try:
                check_image_file(file)
                good.append(file)
            except DataError:
                report["skipped"].append(str(file))
        rng.shuffle(good)
        n_val = int(round(len(good) * validation_fraction))
        for subset, files in (("validation", good[:n_val]), ("train", good[n_val:])):
            (folder := target / subset / name).mkdir(parents=True, exist_ok=True)
            for file in (f for f in files if not (folder / f.name).exists()):
                shutil.copy2(file, folder / file.name)
            report[subset][name] = len(files)
    return report


def check_arrays(images: np.ndarray, labels: np.ndarray, n_classes: int, source: str | Path,
                 shape: tuple[int, int, int] = (64, 64, 3)) -> None:
    """Raise a DataError naming ``source`` unless: uint8 ``(n, *shape)``, n labels < n_classes."""
    images, labels = np.asarray(images), np.asarray(labels)
    problem = None
    if images.dtype != np.uint8:
        problem = f"its images are {images.dtype}, not uint8 pixels from 0 to 255"
    elif images.ndim != 4 or images.shape[1:] != tuple(shape):
        problem = (f"its images have shape {images.shape}; the course expects "
                   f"(n, {', '.join(map(str, shape))})")
    elif labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        problem = f"its labels are {labels.dtype} of shape {labels.shape}, not integers (n,)"
    elif len(labels) != len(images):
        problem = f"it has {len(images)} images but {len(labels)} labels"
    elif len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        bad = sorted(set(labels[(labels < 0) | (labels >= n_classes)].tolist()))[:5]
        problem = f"its labels include {bad}, outside the {n_classes} classes 0-{n_classes - 1}"
    if problem:
        raise DataError(f"{source}: {problem}. Delete it and fetch it again.")


def duplicate_groups(images: np.ndarray) -> list[np.ndarray]:
    """Indexes of byte-identical images, grouped, in order of their first member."""
    groups: dict[bytes, list[int]] = {}
    for i, image in enumerate(np.asarray(images)):
        key = hashlib.sha256(np.ascontiguousarray(image).tobytes()).digest()
        groups.setdefault(key, []).append(i)
    return [np.array(g) for g in groups.values()]


def train_val_split(images: np.ndarray, labels: np.ndarray, val_fraction: float = 0.15,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Fit and validation indexes (shuffled), stratified, with copies kept on one side."""
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    rng, groups = np.random.default_rng(seed), duplicate_groups(images)
    is_val = np.zeros(len(labels), bool)
    for label in np.unique(labels):
        own = [g for g in groups if labels[g[0]] == label]
        wanted, taken = int(round(val_fraction * sum(len(g) for g in own))), 0
        for k in rng.permutation(len(own)):
            if taken >= wanted:
                break
            is_val[own[k]] = True
            taken += len(own[k])
    return rng.permutation(np.flatnonzero(~is_val)), rng.permutation(np.flatnonzero(is_val))


def _read_classes(root: Path, folders: Iterable[str], channels: int):
    """Images (64x64), labels (k for the k-th folder) and files of ``root/<folder>``s, sorted."""
    images, labels, files = [], [], []
    for label, folder in enumerate(folders):
        if not (paths := image_files(root / folder)):
            raise DataError(f"The class folder {root / folder} holds no images. {_FETCH} them.")
        for path in paths:
            if (image := read_image(path, channels=channels)).shape[:2] != (64, 64):
                raise DataError(f"{path} is {image.shape[1]}x{image.shape[0]} pixels; every "
                                "image of this dataset is 64x64. Delete it and fetch it again.")
            images.append(image)
            labels.append(label)
            files.append(f"{folder}/{path.name}")
    return np.stack(images), np.array(labels, np.int64), np.array(files)


def load_smiles_all(channels: int = 3):
    """Every SMILEsmileD face: ``images, labels, files, class_names = load_smiles_all()``.

    13,165 uint8 ``(n, 64, 64, channels)``, labels 0 (not smiling) or 1, files ``negatives/29.jpg``;
    a few photos are in both classes (:func:`duplicate_groups` finds them).
    """
    root = ensure_dataset("smiles", progress=False) / "smiles"
    images, labels, files = _read_classes(root, SMILES_CLASSES, 1)
    images = np.repeat(images, 3, axis=-1) if channels == 3 else images
    check_arrays(images, labels, 2, root, shape=(64, 64, channels))
    return images, labels, files, ["not smiling", "smiling"]


def load_smiles(test_fraction: float = 0.2, seed: int = 0, channels: int = 3):
    """SMILEsmileD faces split by image, stratified: ``x_train, y_train, x_test, y_test, names``."""
    images, labels, _, class_names = load_smiles_all(channels)
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), bool)
    for label in (0, 1):  # the same share of each class goes to the test split
        idx = np.flatnonzero(labels == label)
        is_test[rng.choice(idx, size=int(round(len(idx) * test_fraction)), replace=False)] = True
    train, test = rng.permutation(np.flatnonzero(~is_test)), np.flatnonzero(is_test)
    return images[train], labels[train], images[test], labels[test], class_names


def load_signs():
    """SIGNS: ``x_train, y_train, x_test, y_test, names``, 1,080 and 120 uint8 64x64 RGB, 0-5."""
    root = ensure_dataset("signs", progress=False) / "signs"
    class_names = [str(d) for d in range(6)]
    parts = []
    for split in ("train", "test"):
        images, labels, _ = _read_classes(root / split, class_names, 3)
        check_arrays(images, labels, len(class_names), root / split)
        parts += [images, labels]
    return (*parts, class_names)


def read_h5_split(path: Path, prefix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read and check ``<prefix>_set_x``, ``<prefix>_set_y`` and ``list_classes`` of a course h5."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} is missing. {_FETCH} it.")
    if not h5py.is_hdf5(path):
        raise DataError(f"{path} is not an HDF5 file (perhaps an HTML error page or a Git "
                        "LFS pointer saved under a .h5 name). Delete it and fetch it again.")
    keys = (f"{prefix}_set_x", f"{prefix}_set_y", "list_classes")
    try:
        with h5py.File(path, "r") as f:
            if missing := [k for k in keys if k not in f]:
                raise DataError(f"{path} lacks the key(s) {', '.join(missing)} (it has: "
                                f"{', '.join(sorted(f.keys())) or 'nothing'}). It is not the "
                                "course file; delete it and fetch it again.")
            x, y, classes = (np.asarray(f[k][()]) for k in keys)
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"{path} could not be read ({err}). "
                        "Delete it and fetch it again.") from None
    y, classes = y.reshape(-1), classes.reshape(-1)
    if not np.issubdtype(classes.dtype, np.integer) or classes.tolist() != [*range(len(classes))]:
        raise DataError(f"{path}: its list_classes is {classes.tolist()}, not 0, 1, 2, ... "
                        "Delete it and fetch the course file again.")
    check_arrays(x, y, len(classes), path)
    return x, y, classes


def load_course_h5(name: str = "happy_house", split: str | None = None):
    """Course ``.h5`` files (``happy_house``, ``signs_h5``): train and test, or one ``split``."""
    if name not in H5_LAYOUT:
        raise DataError(f"Unknown course h5 dataset {name!r}; use one of {sorted(H5_LAYOUT)}.")
    if split not in (None, "train", "test"):
        raise ValueError(f"split={split!r}; use 'train', 'test' or None (both)")
    files = dict(zip(("train", "test"), H5_LAYOUT[name]))
    wanted = ("train", "test") if split is None else (split,)
    root = ensure_dataset(name, progress=False, only=[files[s] for s in wanted])
    parts = {s: read_h5_split(root / files[s], s) for s in wanted}
    if split is not None:
        return parts[split]
    return (*parts["train"][:2], *parts["test"][:2], parts["train"][2])
