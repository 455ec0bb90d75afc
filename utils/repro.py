"""Reproducibility: :func:`setup` seeds everything, turns on op determinism, sets the precision."""

from __future__ import annotations

import random
import warnings

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


def build_for_training(model, data) -> None:
    """Create a compiled model's optimizer and metric variables now, before ``fit``.

    Else ``fit`` creates them while TensorFlow traces its training step, which is then traced
    twice (about 9 s of ResNet50's first epoch on 2 cores). Built from the shapes in ``data``
    alone (a ``tf.data.Dataset`` of ``(x, y)`` batches, or arrays ``(x, y)``): no number
    ``fit`` computes changes. Call it after every ``compile``. It relies on the private
    ``Model._symbolic_build``; without it, it warns and builds only the optimizer.
    Example: ``model.compile(...); build_for_training(model, train_ds); model.fit(train_ds)``.
    """
    if getattr(model, "optimizer", None) is None:
        raise ValueError("build_for_training needs a compiled model: call model.compile first")
    if isinstance(data, tf.data.Dataset):
        batch = data.element_spec  # shapes and dtypes only: nothing is read
    else:
        x, y = data
        batch = (x[:1], y[:1])
    build = getattr(model, "_symbolic_build", None)
    if build is None:
        warnings.warn("this Keras has no Model._symbolic_build: utils.build_for_training built "
                      "the optimizer only, so fit may still trace its step twice", stacklevel=2)
        model.optimizer.build(model.trainable_variables)
        return
    build(data_batch=batch)
