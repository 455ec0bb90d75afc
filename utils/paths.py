"""Where the course keeps things: the one place that knows the repository root.

Each folder can be moved with an environment variable (a read-only checkout, a test).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Datasets: ``$COURSE_DATA_DIR`` or ``datasets/``. Example: ``data_dir() / "signs"``."""
    return Path(os.environ.get("COURSE_DATA_DIR") or REPO_ROOT / "datasets")


def models_dir() -> Path:
    """Models: ``$COURSE_MODELS_DIR`` or ``models/``. Example: ``models_dir() / "x.keras"``."""
    return Path(os.environ.get("COURSE_MODELS_DIR") or REPO_ROOT / "models")


def results_dir() -> Path:
    """Notebook metrics: ``$COURSE_RESULTS_DIR`` or ``results/``.

    Example: ``results_dir() / "03_resnet50_signs.json"``.
    """
    return Path(os.environ.get("COURSE_RESULTS_DIR") or REPO_ROOT / "results")
