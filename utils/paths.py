"""Where the course keeps things: the one place that knows the repository root.

Every other module asks here instead of working the root out again, so moving
a folder means editing one line. Each folder can be overridden with an
environment variable, for a learner whose checkout is read-only or a test
that must not touch tracked files.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The folder datasets are fetched into: ``$COURSE_DATA_DIR`` or ``datasets/``.

    Example: ``data_dir() / "signs"``.
    """
    return Path(os.environ.get("COURSE_DATA_DIR") or REPO_ROOT / "datasets")


def models_dir() -> Path:
    """The folder trained models are saved in: ``$COURSE_MODELS_DIR`` or ``models/``.

    Example: ``models_dir() / "alpaca.keras"``.
    """
    return Path(os.environ.get("COURSE_MODELS_DIR") or REPO_ROOT / "models")


def results_dir() -> Path:
    """The folder of the notebooks' metrics: ``$COURSE_RESULTS_DIR`` or ``results/``.

    Example: ``results_dir() / "03_resnet50_signs.json"``.
    """
    return Path(os.environ.get("COURSE_RESULTS_DIR") or REPO_ROOT / "results")
