"""Notebook 1's check: the smile detector as a ``keras.Sequential`` model.

Example, in notebook 1 right after ``smile_model``::

    import utils.checks
    utils.checks.sequential_model(smile_model)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import layers

from utils.checks.core import (
    CheckFailed,
    Exercise,
    call_learner,
    check_plain_model,
    require_names,
    run_check,
)

# Notebook 1's exercises in order (utils.exercises puts each task above its gap, its check
# below).
TASKS = [
    Exercise(
        "def smile_model",
        "Return a `keras.Sequential` model with these layers, in this order and "
        "with these names: `keras.Input(shape=input_shape)`; `ZeroPadding2D` of 3 "
        "(`zero_pad`); `Conv2D` with 32 filters of 7x7, stride 1 (`conv`); "
        "`BatchNormalization` over the channel axis 3 (`batch_norm`); `ReLU` "
        "(`relu`); `MaxPooling2D` of 2 (`max_pool`); `Flatten` (`flatten`); "
        "`Dense(1, activation=\"sigmoid\")` (`output`). Name the model "
        "`smile_model`.",
        "utils.checks.sequential_model(smile_model)"),
]


def reference_smile_model(input_shape: tuple[int, int, int] = (64, 64, 3)) -> keras.Model:
    """Notebook 1's Sequential model, the checks' reference."""
    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.ZeroPadding2D(3),
        layers.Conv2D(32, 7, strides=1),
        layers.BatchNormalization(axis=3),
        layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])


def sequential_model(fn_or_model: Callable[..., Any] | keras.Model) -> None:
    """Check notebook 1's Sequential model (``smile_model``, or the built model).

    Example: ``sequential_model(smile_model)`` prints
    ``sequential_model: all checks passed`` for the course's model.
    """
    def body() -> None:
        model = fn_or_model
        if not isinstance(model, keras.Model):
            model = call_learner("your smile_model", fn_or_model)
        if not isinstance(model, keras.Sequential):
            raise CheckFailed(f"expected a keras.Sequential model, got "
                              f"{type(model).__name__}. Hint: this exercise uses "
                              "keras.Sequential([...]).")
        check_plain_model("sequential_model", model, reference_smile_model(),
                          (64, 64, 3))
        require_names(model, ["conv", "relu", "max_pool"],
                      'name="conv", name="relu", name="max_pool"')

    run_check("sequential_model", body)
