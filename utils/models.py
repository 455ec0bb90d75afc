"""Saved models: each notebook's final model plus a small sidecar that says how to use it.

A model is saved as ``models/<name>.keras`` (the native Keras format) next to
``models/<name>.json``, the sidecar: class names, input size, colour mode,
preprocessing, precision, headline metrics, and the notebook and commit that
made it. ``models/`` is git-ignored; ``COURSE_MODELS_DIR`` moves it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Sequence

from utils.results import REPO_ROOT

SIDECAR_VERSION = 1
COLOUR_MODES = ("rgb", "grey")  # "grey": converted to greyscale, repeated to 3 channels
PREPROCESSING = ("divide_by_255", "none")  # "none": the model takes pixels in [0, 255]
OUTPUTS = ("softmax", "logit", "sigmoid")


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
