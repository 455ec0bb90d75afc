"""Shared helpers for the image-classification course notebooks.

One module per concern:

- :mod:`utils.data`     find, fetch, verify and load the datasets;
- :mod:`utils.plots`    the figures the notebooks draw;
- :mod:`utils.models`   save a trained model with its sidecar, load it, predict files;
- :mod:`utils.repro`    seeds, op determinism, versions, precision policy, and
                        building a model's training state before ``fit``;
- :mod:`utils.results`  each notebook's headline metrics in ``results/``;
- :mod:`utils.versions` the oldest library versions the course works with.

Importing this package first checks the library versions
(:func:`utils.versions.require_versions`): an environment older than the
course needs raises one ``ImportError`` that says what to install, before
TensorFlow is touched. It then sets three environment defaults *before* TensorFlow is
imported, so import it first in a notebook:

- ``TF_ENABLE_ONEDNN_OPTS=1`` on x86-64 CPUs: TensorFlow's oneDNN kernels for
  convolutions, matrix products and batch normalisation. TensorFlow 2.21 turned
  them on by itself on an AVX-512 CPU but not on an AVX2-only one (like most
  laptops), where it falls back to slower Eigen kernels. Measured on a 2-core
  AMD Zen 3 (AVX2): ResNet50 training 1.9 times faster, notebook 2's small
  network 4 times faster (``benchmarks/RESULTS.md``). Set it to ``0``
  yourself to compare;

- ``TF_CPP_MIN_LOG_LEVEL=3`` hides TensorFlow's C++ info, warning and error
  logs. Level 3 rather than 2 because with op determinism on (see
  :func:`utils.setup`) TensorFlow 2.21 logs a harmless error line, "NodeDef
  mentions attribute use_unbounded_threadpool ...", each time Keras feeds
  NumPy arrays to ``fit``, ``evaluate`` or ``predict`` (its parallel map is
  rewritten into a sequential one). Real failures still reach Python as
  exceptions. Example: ``TF_CPP_MIN_LOG_LEVEL=0 jupyter lab`` shows all logs;
- ``KERAS_HOME`` defaults to ``datasets/keras`` inside the repository, so the
  weight files the course places for ``keras.applications`` stay in the
  project instead of your personal ``~/.keras``. Set either variable yourself
  to override it.

It also imports TensorFlow once with the C++ start-up messages it prints
before its logging is configured (oneDNN notes, CUDA probing on machines
without a GPU) sent to ``/dev/null``, so notebooks start clean. Python errors
still show as usual.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

from utils.versions import require_versions  # noqa: E402

require_versions()  # one readable message instead of a traceback deep in Keras

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if platform.machine().lower() in ("x86_64", "amd64"):
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # see the module docstring
os.environ.setdefault(
    "KERAS_HOME",
    str(Path(os.environ.get("COURSE_DATA_DIR", REPO_ROOT / "datasets")) / "keras"),
)


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and probe its devices with file descriptor 2 silenced."""
    import sys

    if "tensorflow" in sys.modules:
        return
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.config.list_physical_devices()
        tf.constant(0)  # the first op creates the device context (and its logs)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_import_tensorflow_quietly()

from utils.data import (  # noqa: E402
    DataError,
    array_dataset,
    check_image_folder,
    duplicate_groups,
    ensure_dataset,
    image_folder_datasets,
    install_keras_weights,
    load_course_h5,
    load_signs,
    load_smiles,
    load_smiles_all,
    mobilenet_v2_weights,
    no_autotune,
    read_image,
    split_class_folders,
    train_val_split,
)
from utils.plots import (  # noqa: E402
    grad_cam,
    plot_confusion_matrix,
    plot_history,
    show_augmentations,
    show_examples,
    show_feature_maps,
    show_grad_cam,
    show_grid,
    show_mistakes,
    show_prediction,
    show_predictions,
)
from utils.models import ModelError, load_model, models_dir, predict_files, save_model  # noqa: E402
from utils.repro import build_for_training, environment, fast_precision, setup  # noqa: E402
from utils.results import load_results, results_dir, save_results, seed_study  # noqa: E402

__all__ = [
    "REPO_ROOT",
    "DataError",
    "ModelError",
    "array_dataset",
    "build_for_training",
    "check_image_folder",
    "duplicate_groups",
    "ensure_dataset",
    "environment",
    "fast_precision",
    "grad_cam",
    "image_folder_datasets",
    "install_keras_weights",
    "load_course_h5",
    "load_model",
    "load_results",
    "load_signs",
    "load_smiles",
    "load_smiles_all",
    "mobilenet_v2_weights",
    "models_dir",
    "no_autotune",
    "plot_confusion_matrix",
    "plot_history",
    "predict_files",
    "read_image",
    "results_dir",
    "save_model",
    "save_results",
    "seed_study",
    "setup",
    "show_augmentations",
    "show_examples",
    "show_feature_maps",
    "show_grad_cam",
    "show_grid",
    "show_mistakes",
    "show_prediction",
    "show_predictions",
    "split_class_folders",
    "train_val_split",
]
