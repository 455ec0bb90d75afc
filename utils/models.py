"""Saved models: each notebook's final model plus a small sidecar that says how to use it.

A model is saved as ``models/<name>.keras`` (the native Keras format) next to
``models/<name>.json``, the sidecar: class names, input size, colour mode,
preprocessing, precision, headline metrics, and the notebook and commit that
made it. ``models/`` is git-ignored; ``COURSE_MODELS_DIR`` moves it.

Using a saved model: :func:`load_model` reads it back with its sidecar and
:func:`predict_files` classifies image files the way the model was trained
(colour mode, size, preprocessing, output) from the sidecar alone. Anything
that stops a model from being used raises :class:`ModelError`, whose one-line
message names the file and says what to do.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from utils.results import REPO_ROOT

SIDECAR_VERSION = 1
COLOUR_MODES = ("rgb", "grey")  # "grey": converted to greyscale, repeated to 3 channels
PREPROCESSING = ("divide_by_255", "none")  # "none": the model takes pixels in [0, 255]
OUTPUTS = ("softmax", "logit", "sigmoid")
# The course's saved models and the notebook that saves each one.
COURSE_MODELS = {
    "smiles": "01_smiles_sequential",
    "signs": "02_signs_functional",
    "resnet50_signs": "03_resnet50_signs",
    "alpaca": "04_alpaca_transfer_learning",
}
ALIASES = {"resnet50": "resnet50_signs"}


class ModelError(Exception):
    """A saved model cannot be used: missing, not a Keras model, without a
    matching sidecar, or not loadable. The one-line message names the file
    and says what to do.
    """


def models_dir() -> Path:
    """Return the folder saved models go to (``COURSE_MODELS_DIR`` or ``models/``).

    Example: ``models_dir() / "smiles.keras"``.
    """
    return Path(os.environ.get("COURSE_MODELS_DIR") or REPO_ROOT / "models")


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def save_model(model, name: str, *, class_names: Sequence[str], colour_mode: str,
               preprocessing: str, output: str, notebook: str,
               metrics: dict[str, float] | None = None) -> Path:
    """Save ``model`` as ``<models_dir>/<name>.keras`` with its sidecar ``<name>.json``.

    ``colour_mode`` is ``"rgb"`` or ``"grey"`` (photos are turned grey and
    repeated to 3 channels, as the smiles model was trained); ``preprocessing``
    is ``"divide_by_255"`` or ``"none"`` (the model scales its input itself);
    ``output`` says what the model returns: ``"softmax"`` probabilities, or one
    ``"logit"`` or ``"sigmoid"`` value for the second class. The input size and
    precision are read from the model. Returns the ``.keras`` path.
    Example: ``save_model(model, "smiles", class_names=names, colour_mode="grey",
    preprocessing="divide_by_255", output="sigmoid", notebook="01_smiles_sequential",
    metrics={"test_accuracy": 0.93})``.
    """
    for value, allowed, what in ((colour_mode, COLOUR_MODES, "colour_mode"),
                                 (preprocessing, PREPROCESSING, "preprocessing"),
                                 (output, OUTPUTS, "output")):
        if value not in allowed:
            raise ValueError(f"{what}={value!r}; use one of {', '.join(allowed)}")
    folder = models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.keras"
    model.save(path)
    height, width = (int(d) for d in model.inputs[0].shape[1:3])
    sidecar = {
        "format": SIDECAR_VERSION,
        "name": name,
        "model_file": path.name,
        "class_names": list(class_names),
        "input_size": [height, width],
        "colour_mode": colour_mode,
        "preprocessing": preprocessing,
        "output": output,
        "precision": model.dtype_policy.name,
        "metrics": {k: round(float(v), 4) for k, v in (metrics or {}).items()},
        "notebook": notebook,
        "commit": _commit(),
        "saved": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
    return path


# ---------------------------------------------------------------- using a saved model


def _remake(name: str, notebook: str | None = None) -> str:
    """What to run to save the model ``name`` again."""
    notebook = notebook or COURSE_MODELS.get(name)
    if notebook:
        return f"run notebooks/{notebook}.ipynb again (or `make course`) to save it anew"
    return "run the notebook that saves it again (or `make course`)"


def _saved_models() -> str:
    """One phrase listing the models in models_dir() and the notebook that made each."""
    folder = models_dir()
    found = []
    for path in sorted(folder.glob("*.keras")):
        try:
            notebook = json.loads(path.with_suffix(".json").read_text()).get("notebook")
        except (OSError, ValueError, AttributeError):
            notebook = None
        notebook = notebook or COURSE_MODELS.get(path.stem)
        found.append(f"{path.stem} (from {notebook})" if notebook else path.stem)
    if found:
        return f"Saved models in {folder}: {', '.join(found)}"
    return f"No model is saved in {folder} yet"


def _course_list() -> str:
    return "; ".join(f"notebooks/{nb}.ipynb saves {name}" for name, nb in COURSE_MODELS.items())


def resolve_model(model: str | Path) -> Path:
    """Return the ``.keras`` path for a model name or path (nothing is checked).

    A short name (``smiles``, ``signs``, ``resnet50_signs`` or ``resnet50``,
    ``alpaca``, or any name given to :func:`save_model`) is looked up in
    :func:`models_dir`; a ``Path``, or a string with a folder or a ``.keras``
    ending, is taken as it is.
    Example: ``resolve_model("resnet50")`` is ``models/resnet50_signs.keras``.
    """
    text = str(model)
    if isinstance(model, Path) or text.endswith(".keras") or "/" in text or os.sep in text:
        return Path(model)
    return models_dir() / f"{ALIASES.get(text, text)}.keras"


def _check_sidecar(sidecar: dict, side: Path, remake: str) -> None:
    """Raise ModelError unless the sidecar holds usable values."""
    def bad(field: str, expected: str) -> ModelError:
        return ModelError(f"The sidecar {side} has {field}={sidecar.get(field)!r}, expected "
                          f"{expected}: it was edited or is damaged; {remake}.")

    names = sidecar.get("class_names")
    if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) for n in names):
        raise bad("class_names", "a list of at least two class names")
    size = sidecar.get("input_size")
    if not (isinstance(size, list) and len(size) == 2
            and all(isinstance(d, int) and d > 0 for d in size)):
        raise bad("input_size", "[height, width]")
    for field, allowed in (("colour_mode", COLOUR_MODES), ("preprocessing", PREPROCESSING),
                           ("output", OUTPUTS)):
        if sidecar.get(field) not in allowed:
            raise bad(field, " or ".join(repr(a) for a in allowed))
    if sidecar["output"] != "softmax" and len(names) != 2:
        raise bad("class_names", f"two classes for output={sidecar['output']!r}")


def read_sidecar(path: str | Path) -> dict:
    """Read and check the sidecar ``<name>.json`` next to the model file ``path``.

    Raises :class:`ModelError` when it is missing, not JSON, of another
    format version (a model from an older run) or holds values the course
    does not know. Example: ``read_sidecar("models/signs.keras")["class_names"]``.
    """
    path = Path(path)
    side = path.with_suffix(".json")
    remake = _remake(path.stem)
    if not side.is_file():
        raise ModelError(f"{path} has no sidecar {side.name} beside it (it says how to prepare "
                         f"images for the model); {remake}.")
    try:
        sidecar = json.loads(side.read_text())
    except (OSError, ValueError) as err:
        raise ModelError(f"The sidecar {side} cannot be read ({type(err).__name__}); {remake}.") from None
    if not isinstance(sidecar, dict):
        raise ModelError(f"The sidecar {side} is not a JSON object; {remake}.")
    remake = _remake(path.stem, sidecar.get("notebook"))
    if sidecar.get("format") != SIDECAR_VERSION:
        raise ModelError(
            f"The sidecar {side} has format {sidecar.get('format')!r} but this course reads "
            f"format {SIDECAR_VERSION}: the model comes from an older (or newer) run; {remake}.")
    _check_sidecar(sidecar, side, remake)
    return sidecar


def _check_keras_file(path: Path, remake: str) -> None:
    """Raise ModelError unless ``path`` looks like a native Keras file (a zip with config.json)."""
    if path.is_dir():
        raise ModelError(f"{path} is a folder, not a .keras model file; give the .keras file "
                         f"or a model name. {_saved_models()}.")
    if not path.is_file():
        raise ModelError(f"{path} does not exist. {_saved_models()}; give one of their names "
                         "or the path of a .keras file.")
    if path.stat().st_size == 0:
        raise ModelError(f"{path} is empty (0 bytes), not a Keras model; {remake}.")
    try:
        with zipfile.ZipFile(path) as archive:
            has_config = "config.json" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ModelError(f"{path} is not a Keras model file (a .keras file is a zip archive; this "
                         f"one is not, or is cut short); {remake}.") from None
    if not has_config:
        raise ModelError(f"{path} is a zip archive but not a Keras model (no config.json inside); "
                         f"{remake}.")


def load_model(model: str | Path):
    """Load a saved model and its sidecar: returns ``(keras.Model, sidecar dict)``.

    ``model`` is a short name looked up in :func:`models_dir` (``smiles``,
    ``signs``, ``resnet50_signs`` or ``resnet50``, ``alpaca``, or any name
    given to :func:`save_model`) or the path of a ``.keras`` file. Every
    problem raises :class:`ModelError` with one line naming the file and what
    to do: no such model (the message lists the saved ones), a file that is
    not a Keras model, a missing sidecar or one of another format version,
    a model Keras cannot load, or a sidecar that does not fit the model.
    Example: ``model, sidecar = load_model("signs"); sidecar["class_names"]``.
    """
    path = resolve_model(model)
    name = path.stem
    if not path.exists() and not isinstance(model, Path) and path.parent == models_dir():
        notebook = COURSE_MODELS.get(name)
        how = (f"run notebooks/{notebook}.ipynb (or `make course`)" if notebook else
               f"run the notebook that saves it (or `make course`: {_course_list()})")
        raise ModelError(f"No saved model {str(model)!r}: {path} does not exist. "
                         f"{_saved_models()}. To make it, {how}.")
    _check_keras_file(path, _remake(name))
    sidecar = read_sidecar(path)
    remake = _remake(name, sidecar.get("notebook"))

    import keras

    try:
        net = keras.models.load_model(path, compile=False)
    except Exception as err:  # Keras raises many kinds; the learner needs one line, not a traceback
        if "safe_mode" in str(err):
            raise ModelError(f"{path} holds a Lambda layer (Python code), which Keras loads only "
                             "with safe_mode=False; if you trust the file, load it yourself with "
                             "keras.models.load_model(path, safe_mode=False).") from None
        detail = " ".join(str(err).split())
        detail = detail[:200] + "..." if len(detail) > 200 else detail
        raise ModelError(f"Keras {keras.__version__} could not load {path} ({type(err).__name__}: "
                         f"{detail}). It may be damaged or saved by another Keras version; "
                         f"{remake}.") from None
    _check_fits(net, sidecar, path, remake)
    return net, sidecar


def _check_fits(net, sidecar: dict, path: Path, remake: str) -> None:
    """Raise ModelError when the model's input or output does not match its sidecar."""
    side = path.with_suffix(".json").name
    if len(net.inputs) != 1 or len(net.outputs) != 1:
        raise ModelError(f"{path} has {len(net.inputs)} inputs and {len(net.outputs)} outputs; "
                         "predictions need one image input and one output.")
    shape = tuple(net.inputs[0].shape)
    expected_size = tuple(sidecar["input_size"])
    if len(shape) != 4 or any(m is not None and m != e for m, e in zip(shape[1:3], expected_size)):
        raise ModelError(f"{path} takes inputs of shape {shape} but its sidecar {side} says "
                         f"{expected_size[0]}x{expected_size[1]} images: they do not belong "
                         f"together; {remake}.")
    units = net.outputs[0].shape[-1]
    n = len(sidecar["class_names"])
    wanted = n if sidecar["output"] == "softmax" else 1
    if units != wanted:
        raise ModelError(f"{path} returns {units} value(s) per image but its sidecar {side} "
                         f"describes {n} classes with output={sidecar['output']!r}: they do not "
                         f"belong together; {remake}.")


def _model_input(path, sidecar: dict, channels: int = 3) -> np.ndarray:
    """The pixels the model sees: read with the sidecar's colour mode, resized to its input size."""
    from utils.data import read_image

    size = tuple(sidecar["input_size"])
    if sidecar["colour_mode"] == "grey":
        grey = read_image(path, size=size, channels=1, fast=True)
        return grey if channels == 1 else np.repeat(grey, channels, axis=-1)
    return read_image(path, size=size, channels=3, fast=True)


def _probabilities(raw: np.ndarray, sidecar: dict) -> np.ndarray:
    """One row of class probabilities per image from the model's raw output."""
    output, side = sidecar["output"], f"{sidecar.get('name', 'the model')}.json"
    if output == "softmax":
        sums = raw.sum(axis=1)
        if raw.min() < -1e-3 or np.abs(sums - 1).max() > 0.02:
            raise ModelError(f"The sidecar {side} says output='softmax' but the model's outputs are "
                             f"not probabilities (row sums {sums.min():.3g} to {sums.max():.3g}); "
                             "save it again with the output it really has (probably 'logit').")
        return np.clip(raw, 0.0, 1.0)
    value = raw[:, 0]
    if output == "logit":
        p = 0.5 * (1.0 + np.tanh(value / 2.0))  # the logistic function, without overflow
    else:
        if value.min() < -1e-3 or value.max() > 1 + 1e-3:
            raise ModelError(f"The sidecar {side} says output='sigmoid' but the model returns "
                             f"values from {value.min():.3g} to {value.max():.3g}; save it again "
                             "with output='logit'.")
        p = np.clip(value, 0.0, 1.0)
    return np.stack([1.0 - p, p], axis=1)


def _predict(net, sidecar: dict, paths, top_k: int, batch_size: int = 32):
    """Predictions (as predict_files returns them) and the model's view of each image (or None)."""
    from utils.data import DataError

    import keras

    if isinstance(paths, (str, Path)):
        paths = [paths]
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k={top_k!r}; give a whole number of classes, 1 or more")
    names = sidecar["class_names"]
    channels = int(net.inputs[0].shape[-1] or 3)
    results: list[dict] = []
    views: list[np.ndarray | None] = []
    for path in paths:
        try:
            views.append(_model_input(path, sidecar, channels))
            results.append({"file": str(path), "ok": True})
        except DataError as err:
            views.append(None)
            results.append({"file": str(path), "ok": False, "error": " ".join(str(err).split())})
    good = [i for i, view in enumerate(views) if view is not None]
    for start in range(0, len(good), batch_size):
        chunk = good[start:start + batch_size]
        x = np.stack([views[i] for i in chunk]).astype("float32")
        if sidecar["preprocessing"] == "divide_by_255":
            x /= 255.0
        try:
            raw = keras.ops.cast(net(x, training=False), "float32")
            raw = np.asarray(raw.numpy() if hasattr(raw, "numpy") else raw, np.float64)
        except Exception as err:
            raise ModelError(f"The model {sidecar.get('name')} failed on its input "
                             f"({type(err).__name__}: {' '.join(str(err).split())[:200]}).") from None
        probs = _probabilities(raw.reshape(len(chunk), -1), sidecar)
        k = len(names) if sidecar["output"] != "softmax" else min(top_k, len(names))
        for i, row in zip(chunk, probs):
            order = np.argsort(-row, kind="stable")[:k]
            results[i].update({
                "class": names[order[0]],
                "class_index": int(order[0]),
                "probability": round(float(row[order[0]]), 6),
                "top_k": [{"class": names[j], "probability": round(float(row[j]), 6)} for j in order],
            })
    return results, views


def predict_files(model, paths: Iterable[str | Path], top_k: int = 3) -> list[dict]:
    """Classify image files with a saved model, reading each as its sidecar says.

    ``model`` is a name or ``.keras`` path (see :func:`load_model`) or the
    ``(model, sidecar)`` pair it returns. Each image is read in the sidecar's
    colour mode (``"grey"``: greyscale repeated to 3 channels), resized to its
    input size and scaled by its preprocessing; the output (softmax, logit or
    sigmoid) becomes class probabilities. Returns one dict per path, in order:
    ``{"file", "ok": True, "class", "class_index", "probability", "top_k"}``
    where ``top_k`` lists ``{"class", "probability"}`` best first (the ``top_k``
    best for a multi-class model, both classes for a binary one), or
    ``{"file", "ok": False, "error"}`` with one line saying what is wrong with
    that file. A bad file never stops the others; a model that cannot be
    loaded raises :class:`ModelError`.
    Example: ``predict_files("signs", ["my_hand.jpg"])[0]["class"]``.
    """
    net, sidecar = model if isinstance(model, tuple) else load_model(model)
    return _predict(net, sidecar, paths, top_k)[0]
