"""Shared helpers for the course notebooks (``import utils`` first), one module per concern:

- :mod:`utils.paths`       the repository root and the data, models and results folders;
- :mod:`utils.versions`    the supported Python, platform and libraries (checked first);
- :mod:`utils.fetch`       the dataset manifest, download and verification;
- :mod:`utils.images`      image files: decoding, EXIF orientation, ``read_image``, folder checks;
- :mod:`utils.datasets`    splits, loaders and ``tf.data`` helpers;
- :mod:`utils.weights`     the Keras weight cache (pretrained MobileNetV2);
- :mod:`utils.machine`     CPU flags, device, precision policy, environment record, speed probe;
- :mod:`utils.repro`       seeds and op determinism (``setup``);
- :mod:`utils.models`      save a trained model with its sidecar, load it back;
- :mod:`utils.predict`     a saved model's predictions on image files;
- :mod:`utils.plots`       the figures the notebooks draw;
- :mod:`utils.gradcam`     Grad-CAM heatmaps and their figure;
- :mod:`utils.keras_graph` the only module using private Keras attributes (graph walks);
- :mod:`utils.results`     each notebook's metrics in ``results/`` and the seed-study summary;
- :mod:`utils.checks`      (a package) the exercise checks, one module per notebook;
- :mod:`utils.exercises`   the exercise-notebook generator;
- :mod:`utils.course`      the course runner (``python -m utils.course``);
- :mod:`utils.doctor`      the checks of ``python -m utils doctor`` (why slow or failing);
- :mod:`utils.__main__`    the command line ``python -m utils fetch|predict|doctor``.

Importing it checks the versions (one ``ImportError`` saying what to install), sets three
environment defaults (yours win) and imports TensorFlow with its start-up logs silenced.
"""

from __future__ import annotations

import os
import platform
import sys

from utils.paths import REPO_ROOT, data_dir, models_dir, results_dir
from utils.versions import require_versions

require_versions()  # one readable message instead of a traceback deep in Keras
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # op determinism logs harmless C++ errors
if platform.machine().lower() in ("x86_64", "amd64"):  # oneDNN, on by default only on AVX-512,
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # trains 1.9-4x faster on AVX2 laptops
os.environ.setdefault("KERAS_HOME", str(data_dir() / "keras"))  # weights stay in the project


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and probe its devices with file descriptor 2 silenced."""
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

from utils.datasets import (  # noqa: E402
    duplicate_groups, image_folder_datasets, load_course_h5, load_signs, load_smiles,
    load_smiles_all, no_autotune, split_class_folders, train_val_split)
from utils.fetch import DataError, ensure_dataset  # noqa: E402
from utils.images import check_image_folder, prepare_image, read_image  # noqa: E402
from utils.weights import install_keras_weights, mobilenet_v2_weights  # noqa: E402
from utils.gradcam import grad_cam, show_grad_cam  # noqa: E402
from utils.machine import environment, fast_precision  # noqa: E402
from utils.models import ModelError, load_model, save_model  # noqa: E402
from utils.plots import (  # noqa: E402
    plot_confusion_matrix, plot_history, show_augmentations, show_examples, show_feature_maps,
    show_grid, show_mistakes, show_prediction, show_predictions)
from utils.predict import predict_files  # noqa: E402
from utils.repro import setup  # noqa: E402
from utils.results import load_results, save_results, seed_study  # noqa: E402

__all__ = ["REPO_ROOT", "DataError", "ModelError",
           "check_image_folder", "duplicate_groups", "ensure_dataset", "environment",
           "fast_precision", "grad_cam", "image_folder_datasets", "install_keras_weights",
           "load_course_h5", "load_model", "load_results", "load_signs", "load_smiles",
           "load_smiles_all", "mobilenet_v2_weights", "models_dir", "no_autotune",
           "plot_confusion_matrix", "plot_history", "predict_files", "prepare_image", "read_image",
           "results_dir", "save_model", "save_results", "seed_study", "setup", "show_augmentations",
           "show_examples", "show_feature_maps", "show_grad_cam", "show_grid", "show_mistakes",
           "show_prediction", "show_predictions", "split_class_folders", "train_val_split"]
