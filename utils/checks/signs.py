"""Notebook 2's checks: the one-hot labels and the Functional model.

Example, in notebook 2::

    import utils.checks
    utils.checks.one_hot(y_train, y_train_onehot, num_classes)
    utils.checks.functional_model(build_course_model)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import layers

from utils.checks.core import (
    CheckFailed,
    Exercise,
    NotImplementedYet,
    call_learner,
    check_plain_model,
    run_check,
)

# Notebook 2's exercises in order (utils.exercises puts each task above its gap, its check
# below).
TASKS = [
    Exercise(
        "y_train_onehot = ",
        "Turn the integer labels `y_train` and `y_test` into one-hot rows with "
        "`keras.utils.to_categorical(labels, num_classes)`: name them "
        "`y_train_onehot` and `y_test_onehot`.",
        "utils.checks.one_hot(y_train, y_train_onehot, num_classes)\n"
        "utils.checks.one_hot(y_test, y_test_onehot, num_classes)"),
    Exercise(
        "def build_course_model",
        "Build the model with the Functional API: `keras.Input(shape=(64, 64, "
        "3))`, then call each layer on the previous tensor: `Conv2D(8, 4, "
        "padding=\"same\")`, `ReLU`, `MaxPool2D(8, strides=8, padding=\"same\")`, "
        "`Conv2D(16, 2, padding=\"same\")`, `ReLU`, `MaxPool2D(4, strides=4, "
        "padding=\"same\")`, `Flatten`, `Dense(num_classes, "
        "activation=\"softmax\")`. Return `keras.Model(inputs, outputs)`.",
        "utils.checks.functional_model(build_course_model)"),
]


def reference_signs_model(input_shape: tuple[int, int, int] = (64, 64, 3),
                          classes: int = 6) -> keras.Model:
    """Notebook 2's Functional model, the checks' reference."""
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(8, 4, padding="same")(inputs)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(8, strides=8, padding="same")(x)
    x = layers.Conv2D(16, 2, padding="same")(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(4, strides=4, padding="same")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def functional_model(fn_or_model: Callable[..., Any] | keras.Model,
                     classes: int = 6) -> None:
    """Check notebook 2's Functional model (``build_course_model``, or the model).

    Example: ``functional_model(build_course_model)``.
    """
    def body() -> None:
        model = fn_or_model
        if not isinstance(model, keras.Model):
            model = call_learner("your build_course_model", fn_or_model)
        if isinstance(model, keras.Sequential):
            raise CheckFailed("this is a keras.Sequential model. Hint: use the "
                              "Functional API: keras.Input, call each layer on the "
                              "previous tensor, then keras.Model(inputs, outputs).")
        check_plain_model("functional_model", model,
                          reference_signs_model((64, 64, 3), classes), (64, 64, 3))

    run_check("functional_model", body)


def one_hot(labels: Any, onehot: Any, num_classes: int) -> None:
    """Check one-hot labels (notebook 2) against ``np.eye(num_classes)[labels]``.

    Example: ``one_hot(y_train, y_train_onehot, 6)``.
    """
    def body() -> None:
        if onehot is None:
            raise NotImplementedYet
        y = np.asarray(labels).reshape(-1).astype(int)
        got = np.asarray(onehot)
        want = np.eye(num_classes, dtype="float32")[y]
        if got.shape != want.shape:
            hint = "use keras.utils.to_categorical(labels, num_classes)."
            if got.shape == want.shape[::-1]:
                hint = "rows and columns are swapped: one row per image, please."
            elif got.ndim == 1 or got.shape[-1] == 1:
                hint = ("these are still integer labels; " + hint)
            raise CheckFailed(f"shape {got.shape}, expected {want.shape} (one row "
                              f"per image, one column per class). Hint: {hint}")
        if not np.issubdtype(got.dtype, np.floating):
            raise CheckFailed(f"dtype {got.dtype}, expected floating point numbers. "
                              "Hint: keras.utils.to_categorical returns float32.")
        wrong = np.flatnonzero(np.any(got != want, axis=1))
        if wrong.size:
            i = int(wrong[0])
            raise CheckFailed(
                f"{wrong.size} rows differ; row {i} (label {y[i]}) is "
                f"{got[i].tolist()}, expected {want[i].tolist()}. Hint: a 1 in "
                "the column of the label and 0 elsewhere.")

    run_check("one_hot", body)
