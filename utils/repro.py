"""Reproducibility: :func:`setup` seeds everything, turns on op determinism, sets the precision."""

from __future__ import annotations

import random

import keras
import numpy as np
import tensorflow as tf

from utils.machine import device_settings, environment, fast_precision


def setup(seed: int = 42, mixed_precision: bool = False, precision: str | None = None,
          verbose: bool = True) -> dict:
    """Seed Python, NumPy and TensorFlow, enable op determinism, set the precision; print them.

    The precision is :func:`utils.machine.device_settings`' (float32 unless ``mixed_precision``)
    unless ``precision`` names a Keras policy (``"auto"``: :func:`utils.machine.fast_precision`).
    Returns :func:`utils.machine.environment` plus ``steps_per_execution``.
    Example: ``env = setup(seed=0)``.
    """
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # seeds Python, NumPy and TensorFlow
    tf.config.experimental.enable_op_determinism()
    settings = device_settings(mixed_precision)
    precision = fast_precision() if precision == "auto" else precision
    keras.mixed_precision.set_global_policy(precision or settings["precision"])
    env = environment()
    if verbose:
        shown = ("python", "tensorflow", "keras", "numpy", "device", "precision")
        print(" | ".join(f"{k} {env[k]}" for k in shown) + f" | seed {seed}")
    return {**env, "steps_per_execution": settings["steps_per_execution"]}

