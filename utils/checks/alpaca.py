"""Notebook 4's checks: the augmentation model, the frozen base with a new head,
and the fine-tuning freeze.

The frozen-base check compares the learner's model with a reference built here
around the same ``base`` and ``augment``; how the base is called (its
``training`` argument) is read from the graph through :mod:`utils.keras_graph`.

Example, in notebook 4 right after stage B's model::

    import utils.checks
    utils.checks.frozen_base_model(model, base, augment)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers

from utils import keras_graph
from utils.checks.core import (
    CheckFailed,
    Exercise,
    NotImplementedYet,
    Step,
    call_learner,
    chain_back,
    common_hint,
    compare_numbers,
    compare_steps,
    copy_weights,
    count_params,
    count_trainable,
    describe,
    run_check,
    steps_of,
    tolerance_for,
)

# Notebook 4's exercises in order (utils.exercises puts each task above its gap, its check
# below).
TASKS = [
    Exercise(
        "augment = keras.Sequential(",
        "Make `augment`, a `keras.Sequential` model named `augment` holding "
        "`layers.RandomFlip(\"horizontal\")` and then `layers.RandomRotation(0.2)`.",
        "utils.checks.augmentation(augment)"),
    Exercise(
        "base.trainable = False\n",
        "Freeze `base`, then build `model`: an input of shape `IMAGE_SIZE + (3,)`, "
        "`augment`, `mobilenet_v2.preprocess_input`, `base(x, training=False)`, "
        "`GlobalAveragePooling2D`, `Dropout(0.2)` and `Dense(1)` with no "
        "activation (it outputs a logit). Name the model `alpaca_classifier`.",
        "utils.checks.frozen_base_model(model, base, augment)"),
    Exercise(
        "FINE_TUNE_AT = 120",
        "Make the base trainable again, then freeze its first `FINE_TUNE_AT` "
        "layers (`base.layers[:FINE_TUNE_AT]`).",
        "utils.checks.fine_tune_freeze(model, base, FINE_TUNE_AT)"),
]


def reference_augmentation() -> keras.Sequential:
    """Notebook 4's augmentation model, the checks' reference."""
    return keras.Sequential([layers.RandomFlip("horizontal"),
                             layers.RandomRotation(0.2)])


def augmentation(model: Any) -> None:
    """Check notebook 4's augmentation model (``augment``).

    It must hold RandomFlip("horizontal") then RandomRotation(0.2) and leave
    images unchanged at inference time. Example: ``augmentation(augment)``.
    """
    def body() -> None:
        if model is None:
            raise NotImplementedYet
        if not isinstance(model, keras.Sequential):
            raise CheckFailed(f"expected a keras.Sequential model, got "
                              f"{type(model).__name__}.")

        def hint(where: str, e: Step | None, g: Step | None) -> str:
            if e and g and e.kind == g.kind == "RandomRotation":
                return ("the factor is a fraction of a full turn: 0.2 means up to "
                        "+-72 degrees.")
            if e and g and e.kind == g.kind == "RandomFlip":
                return 'flip left-right only: RandomFlip("horizontal").'
            return 'use [layers.RandomFlip("horizontal"), layers.RandomRotation(0.2)].'

        compare_steps("augmentation",
                      [describe(op) for op in reference_augmentation().layers],
                      [describe(op) for op in model.layers], hint)
        x = np.random.default_rng(2).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
        out = call_learner("your augmentation model", model, x, training=False)
        if tuple(out.shape) != x.shape or not np.allclose(out, x, atol=1e-3):
            raise CheckFailed("at inference time (training=False) the model should "
                              "return the images unchanged. Hint: only random "
                              "augmentation layers belong here.")

    run_check("augmentation", body)


def reference_frozen_model(base: keras.Model, augment: keras.Model) -> keras.Model:
    """Notebook 4's stage-B model around the learner's ``base`` and ``augment``."""
    inputs = keras.Input(shape=tuple(base.input_shape[1:]))
    x = augment(inputs)
    x = keras.applications.mobilenet_v2.preprocess_input(x)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    return keras.Model(inputs, layers.Dense(1)(x))


def _base_call_training(model: keras.Model, base: keras.Model) -> list:
    """The ``training`` argument of every call of ``base`` inside ``model``."""
    ops = set(id(op) for op in model.operations)
    values = []
    for inputs, kwargs in keras_graph.calls(base):
        producers = [keras_graph.producer(t)[0] for t in inputs]
        if producers and all(id(p) in ops for p in producers):
            values.append(kwargs.get("training"))
    return values


def _loss_from_logits(model: keras.Model) -> bool | None:
    loss = getattr(model, "loss", None)
    if loss is None:
        return None
    if isinstance(loss, str):
        return False
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    return bool(config.get("from_logits", False))


def frozen_base_model(model: Any, base: Any, augment: Any) -> None:
    """Check notebook 4's stage-B ``model``: frozen ``base``, new one-logit head.

    Compares the chain augment -> preprocess_input -> base(training=False) ->
    GlobalAveragePooling2D -> Dropout(0.2) -> Dense(1) and the trainable
    parameters with a reference built here around the same ``base`` and
    ``augment``, and the logits on two fixed images. If the model is already
    compiled, its loss must match a logit output (``from_logits=True``).
    Example: ``frozen_base_model(model, base, augment)``.
    """
    def body() -> None:
        if model is None:
            raise NotImplementedYet
        if not isinstance(model, keras.Model):
            raise CheckFailed(f"expected a keras.Model, got {type(model).__name__}.")
        if not any(layer is base for layer in model.layers):
            raise CheckFailed("the model does not use `base`. Hint: call "
                              "base(x, training=False) inside the model.")
        if base.trainable:
            raise CheckFailed("the base is still trainable, so training would "
                              "overwrite its ImageNet weights. Hint: set "
                              "base.trainable = False before building the model.")
        calls = _base_call_training(model, base)
        if calls != [False]:
            shown = "training=True" if True in calls else "no training argument"
            raise CheckFailed(
                f"the base is called with {shown}. Hint: call base(x, "
                "training=False), as the instructions say: the base runs in "
                "inference mode.")
        reference = reference_frozen_model(base, augment)
        ops, merge = chain_back(model.outputs[0])
        want, _ = chain_back(reference.outputs[0])

        def hint(where: str, e: Step | None, g: Step | None) -> str:
            if e and g and e.kind == g.kind == "Dense" and g.settings[1] == "sigmoid":
                return ("the loss used here is BinaryCrossentropy(from_logits=True), "
                        "which applies the sigmoid itself: output a plain logit, "
                        "Dense(1) without activation.")
            return common_hint(e, g) or (
                "the order is augment, mobilenet_v2.preprocess_input, base, "
                "GlobalAveragePooling2D, Dropout(0.2), Dense(1).")

        compare_steps("model", steps_of(want), steps_of(ops), hint)
        from_logits = _loss_from_logits(model)
        if from_logits is False:
            raise CheckFailed("the model outputs a logit but its loss expects "
                              "probabilities. Hint: "
                              "keras.losses.BinaryCrossentropy(from_logits=True).")
        if count_trainable(model) != count_trainable(reference):
            raise CheckFailed(f"{count_trainable(model):,} trainable parameters, "
                              f"expected {count_trainable(reference):,} (the head "
                              "only).")
        if count_params(model) != count_params(reference):
            raise CheckFailed(f"{count_params(model):,} parameters, expected "
                              f"{count_params(reference):,}.")
        copy_weights([(ops[-1][0], want[-1][0])])
        x = np.random.default_rng(3).uniform(
            0, 255, (2, *base.input_shape[1:])).astype("float32")
        compare_numbers(model(x, training=False), reference(x, training=False),
                        tolerance_for(model))

    run_check("frozen_base_model", body)


def fine_tune_freeze(model: Any, base: Any, fine_tune_at: int) -> None:
    """Check notebook 4's fine-tuning setup: base layers before ``fine_tune_at`` frozen.

    Example: ``fine_tune_freeze(model, base, FINE_TUNE_AT)``.
    """
    def body() -> None:
        if base is None or model is None:
            raise NotImplementedYet
        if not base.trainable:
            raise CheckFailed("base.trainable is still False, so no layer of the "
                              "base can learn. Hint: set base.trainable = True, then "
                              f"freeze base.layers[:{fine_tune_at}].")
        flags = [layer.trainable for layer in base.layers]
        if all(flags[:fine_tune_at]):
            raise CheckFailed(f"all {fine_tune_at} early layers of the base are trainable. "
                              f"Hint: set trainable = False for base.layers"
                              f"[:{fine_tune_at}].")
        norm = keras.layers.BatchNormalization
        for i, (layer, flag) in enumerate(zip(base.layers, flags)):
            if i >= fine_tune_at and isinstance(layer, norm):
                if flag:
                    raise CheckFailed(
                        f"base layer {i} ('{layer.name}') is a BatchNormalization "
                        "layer left trainable, so fit would replace ImageNet's "
                        "statistics with those of small alpaca batches. Hint: set "
                        "trainable = False on the BatchNormalization layers among "
                        f"base.layers[{fine_tune_at}:].")
                continue
            expected = i >= fine_tune_at
            if flag != expected:
                state = "trainable" if flag else "frozen"
                raise CheckFailed(
                    f"base layer {i} ('{layer.name}') is {state}; layers 0-"
                    f"{fine_tune_at - 1} should be frozen and layers {fine_tune_at}-"
                    f"{len(flags) - 1} trainable (batch norm excepted). Hint: freeze "
                    f"base.layers[:{fine_tune_at}], the early layers.")
        expected = sum(int(np.prod(w.shape)) for layer in base.layers[fine_tune_at:]
                       if not isinstance(layer, norm) for w in layer.trainable_weights)
        if count_trainable(base) != expected:
            raise CheckFailed(f"the base has {count_trainable(base):,} trainable "
                              f"parameters, expected {expected:,}.")
        head = [layer for layer in model.layers if layer is not base]
        if not any(layer.trainable_weights for layer in head):
            raise CheckFailed("the head has no trainable weights left. Hint: freeze "
                              "layers of the base only.")
        if _base_call_training(model, base) != [False]:
            raise CheckFailed("the base must still be called with training=False.")

    run_check("fine_tune_freeze", body)
