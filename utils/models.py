"""Saved models: ``models/<name>.keras`` beside the sidecar ``<name>.json`` saying how to use it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Sequence

import keras

from utils.images import preparation
from utils.paths import REPO_ROOT, models_dir

SIDECAR_VERSION = 2  # 2: records the image preparation
COLOUR_MODES = ("rgb", "grey")  # "grey": converted to greyscale, repeated to 3 channels
PREPROCESSING = ("divide_by_255", "none")  # "none": the model takes pixels in [0, 255]
OUTPUTS = ("softmax", "logit", "sigmoid")  # "logit", "sigmoid": one value, for the 2nd class
CHOICES = {"colour_mode": COLOUR_MODES, "preprocessing": PREPROCESSING, "output": OUTPUTS}
COURSE_MODELS = {"smiles": "01_smiles_sequential", "signs": "02_signs_functional",
                 "resnet50_signs": "03_resnet50_signs", "alpaca": "04_alpaca_transfer_learning"}
ALIASES = {"resnet50": "resnet50_signs"}


class ModelError(Exception):
    """A saved model cannot be used; the one-line message names the file and what to do."""


def _commit() -> str | None:
    """The repository's short commit hash, or None outside a git checkout."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, check=True,
                              capture_output=True, text=True, timeout=10).stdout.strip() or None
    return None


def save_model(model, name: str, *, class_names: Sequence[str], colour_mode: str,
               preprocessing: str, output: str, notebook: str, antialias: bool = True,
               metrics: dict[str, float] | None = None) -> Path:
    """Save ``model`` as ``<models_dir>/<name>.keras`` with its sidecar; return the path.

    ``colour_mode``, ``preprocessing``, ``output``: see :data:`CHOICES`; ``antialias``: as the
    notebook's :func:`utils.images.prepare_image`. Example: ``save_model(m, "signs", ...)``.
    """
    for what, value in zip(CHOICES, (colour_mode, preprocessing, output)):
        if value not in CHOICES[what]:
            raise ValueError(f"{what}={value!r}; use one of {', '.join(CHOICES[what])}")
    models_dir().mkdir(parents=True, exist_ok=True)
    model.save(path := models_dir() / f"{name}.keras")
    sidecar = dict(
        format=SIDECAR_VERSION, name=name, model_file=path.name, class_names=list(class_names),
        input_size=[int(d) for d in model.inputs[0].shape[1:3]], colour_mode=colour_mode,
        preparation=preparation(antialias), preprocessing=preprocessing, output=output,
        precision=model.dtype_policy.name,
        metrics={k: round(float(v), 4) for k, v in (metrics or {}).items()},
        notebook=notebook, commit=_commit(), saved=time.strftime("%Y-%m-%d %H:%M:%S"))
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
    return path


def _remake(name: str, notebook: str | None = None) -> str:
    """What to run to save the model ``name`` again."""
    if notebook := notebook or COURSE_MODELS.get(name):
        return f"run notebooks/{notebook}.ipynb again (or `make course`) to save it anew"
    return "run the notebook that saves it again (or `make course`)"


def _saved_models() -> str:
    """One phrase listing the models in models_dir() and the notebook that made each."""
    found = []
    for path in sorted(models_dir().glob("*.keras")):
        notebook = COURSE_MODELS.get(path.stem)
        with contextlib.suppress(OSError, ValueError, AttributeError):
            notebook = json.loads(path.with_suffix(".json").read_text()).get("notebook") or notebook
        found.append(f"{path.stem} (from {notebook})" if notebook else path.stem)
    return (f"Saved models in {models_dir()}: {', '.join(found)}" if found
            else f"No model is saved in {models_dir()} yet")


def resolve_model(model: str | Path) -> Path:
    """The unchecked ``.keras`` path of a path, or of a name or alias in ``models_dir()``."""
    text = str(model)
    if isinstance(model, Path) or text.endswith(".keras") or "/" in text or os.sep in text:
        return Path(model)
    return models_dir() / f"{ALIASES.get(text, text)}.keras"


def read_sidecar(path: str | Path) -> dict:
    """Read and check the sidecar beside the model file ``path``: ``read_sidecar(p)["name"]``."""
    side, remake = (path := Path(path)).with_suffix(".json"), _remake(path.stem)
    if not side.is_file():
        raise ModelError(f"{path} has no sidecar {side.name} (how to prepare images); {remake}.")
    try:
        sidecar = json.loads(side.read_text())
    except (OSError, ValueError) as err:
        raise ModelError(f"The sidecar {side} cannot be read ({type(err).__name__}); "
                         f"{remake}.") from None
    if not isinstance(sidecar, dict):
        raise ModelError(f"The sidecar {side} is not a JSON object; {remake}.")
    remake = _remake(path.stem, sidecar.get("notebook"))
    if sidecar.get("format") != SIDECAR_VERSION:
        raise ModelError(f"The sidecar {side} has format {sidecar.get('format')!r}, not "
                         f"{SIDECAR_VERSION}: it comes from an older (or newer) run; {remake}.")

    def bad(field: str, expected: str) -> ModelError:
        return ModelError(f"The sidecar {side} has {field}={sidecar.get(field)!r}, expected "
                          f"{expected}: it was edited or is damaged; {remake}.")
    names, size = sidecar.get("class_names"), sidecar.get("input_size")
    if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) for n in names):
        raise bad("class_names", "a list of at least two class names")
    if not (isinstance(size, list) and len(size) == 2
            and all(isinstance(d, int) and d > 0 for d in size)):
        raise bad("input_size", "[height, width]")
    for field, allowed in CHOICES.items():
        if sidecar.get(field) not in allowed:
            raise bad(field, " or ".join(repr(a) for a in allowed))
    if sidecar["output"] != "softmax" and len(names) != 2:
        raise bad("class_names", f"two classes for output={sidecar['output']!r}")
    prep = sidecar.get("preparation")
    if not isinstance(prep, dict) or prep.get("antialias") not in (True, False) \
            or prep != preparation(prep["antialias"]):
        raise ModelError(f"The sidecar {side} says its images were prepared as {prep}, which "
                         f"this course cannot repeat (it does {preparation()}, with antialias "
                         f"true or false): predictions would not match its notebook's; {remake}.")
    return sidecar


def load_model(model: str | Path):
    """``net, sidecar = load_model("signs")``: a model and its checked sidecar, or ModelError."""
    path = resolve_model(model)
    if not path.exists() and not isinstance(model, Path) and path.parent == models_dir():
        course = "; ".join(f"notebooks/{nb}.ipynb saves {n}" for n, nb in COURSE_MODELS.items())
        how = (f"run notebooks/{nb}.ipynb (or `make course`)" if (nb := COURSE_MODELS.get(
            path.stem)) else f"run the notebook that saves it (or `make course`: {course})")
        raise ModelError(f"No saved model {str(model)!r}: {path} does not exist. "
                         f"{_saved_models()}. To make it, {how}.")
    if path.is_dir():
        raise ModelError(f"{path} is a folder, not a .keras model file. {_saved_models()}.")
    if not path.is_file():
        raise ModelError(f"{path} does not exist. {_saved_models()}; give one of their names "
                         "or the path of a .keras file.")
    if path.stat().st_size == 0:
        raise ModelError(f"{path} is empty (0 bytes), not a Keras model; {_remake(path.stem)}.")
    try:
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                raise ModelError(f"{path} is a zip archive but not a Keras model (no config.json "
                                 f"inside); {_remake(path.stem)}.")
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ModelError(f"{path} is not a Keras model file (a .keras file is a zip archive; this "
                         f"one is not, or is cut short); {_remake(path.stem)}.") from None
    sidecar = read_sidecar(path)
    remake, side = _remake(path.stem, sidecar.get("notebook")), path.with_suffix(".json").name
    try:
        net = keras.models.load_model(path, compile=False)
    except Exception as err:  # Keras raises many kinds; the learner needs one line, not a traceback
        if "safe_mode" in str(err):
            raise ModelError(f"{path} holds a Lambda layer (Python code), which Keras loads only "
                             "with safe_mode=False; if you trust the file, load it yourself with "
                             "keras.models.load_model(path, safe_mode=False).") from None
        detail = " ".join(str(err).split())
        raise ModelError(f"Keras {keras.__version__} could not load {path} ({type(err).__name__}: "
                         f"{detail[:200]}{'...' * (len(detail) > 200)}). It may be damaged or "
                         f"saved by another Keras version; {remake}.") from None
    if len(net.inputs) != 1 or len(net.outputs) != 1:
        raise ModelError(f"{path} has {len(net.inputs)} inputs and {len(net.outputs)} outputs, "
                         "not the one image input and one output predictions need.")
    shape, (height, width) = tuple(net.inputs[0].shape), sidecar["input_size"]
    if len(shape) != 4 or any(d not in (None, e) for d, e in zip(shape[1:3], (height, width))):
        raise ModelError(f"{path} takes inputs of shape {shape} but its sidecar {side} says "
                         f"{height}x{width} images: they do not belong together; {remake}.")
    units, n, output = net.outputs[0].shape[-1], len(sidecar["class_names"]), sidecar["output"]
    if units != (n if output == "softmax" else 1):
        raise ModelError(f"{path} returns {units} value(s) per image but its sidecar {side} says "
                         f"{n} classes, output={output!r}: they do not belong together; {remake}.")
    return net, sidecar
