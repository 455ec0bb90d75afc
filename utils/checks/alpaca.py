"""Notebook 4's checks: the frozen base with a new head, the loss on logits with the
decision at 0, and the fine-tuning freeze; ``CAUSES`` for ``result_is_normal``.

The frozen-base check compares the learner's model with a reference built here
around the same ``base`` and ``augment``; how the base is called (its
``training`` argument) is read from the graph through :mod:`utils.keras_graph`.
The logit check compiles a one-weight probe model with the learner's
``compile_model`` and evaluates it on fixed logits, so it tests the loss and
metric Keras will really use, whatever way they were written.

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
    check_size,
    common_hint,
    compare_numbers,
    compare_steps,
    copy_weights,
    count_trainable,
    describe,
    run_check,
    tolerance_for,
)

# Notebook 4's exercises in the order of their cells (utils.exercises puts each task above
# its gap, its check below).
TASKS = [
    Exercise(
        "def small_cnn(",
        "Complete `small_cnn(augmentation, dropout)` so that it builds the small CNN of the "
        "list above: input `SMALL + (3,)` with 0-255 pixels, one logit out, 8,081 "
        "parameters at 64x64 (names are free; ReLU may be a layer of its own). When "
        "`augmentation` is not None, apply it to the input photos, before any other layer "
        "(right after the rescaling is fine too); when `dropout` > 0, add "
        "`Dropout(dropout)` on the flattened features, right before the output layer, and "
        "no dropout when it is 0. Call both without a `training` argument. The check "
        "builds your model plain, with dropout 0.3, with an augmentation that turns each "
        "photo by 90 degrees in training, and with both. Each must have the plain model's "
        "parameters and, with `training=False`, its logits (the one with dropout also when "
        "called without a `training` argument); in training, the augmented one must give "
        "the plain model's logits on the turned photos.",
        "utils.checks.overfitting_model(small_cnn, SMALL)"),
    Exercise(
        "base.trainable = False\n",
        "Freeze `base` (`base.trainable = False`) and build `model` from an input of shape "
        "`IMAGE_SIZE + (3,)`: `augment`, MobileNetV2's scaling (`mobilenet_v2.preprocess_input`, "
        "or `x / 127.5 - 1` written another way), the base called once as `base(x, "
        "training=False)`, then the head described above, in this order: "
        "`GlobalAveragePooling2D`, `Dropout(0.2)`, `Dense(1)` without activation. The check "
        "wants that order, one logit per image, 2,259,265 parameters of which only the "
        "head's 1,281 are trainable, and the same logits as its own model on two fixed images "
        "(with your head's weights).",
        "utils.checks.frozen_base_model(model, base, augment)"),
    Exercise(
        "def predict_class(",
        "Write `compile_model(model, learning_rate)`: compile `model` with "
        "`keras.optimizers.Adam(learning_rate)`, a binary cross-entropy that reads the "
        "output as a logit, and one accuracy metric named `\"accuracy\"` that decides at a "
        "logit of 0 (the learning curves look that name up). Then `predict_class(logits)`: "
        "class 1 (`not alpaca`) for a positive logit, else 0, one per logit, as integers or "
        "booleans; a logit of exactly 0 is a tie and may go either way. The check compiles "
        "a small model of its own with your function and compares loss and accuracy on fixed "
        "logits, and calls `predict_class` on fixed logits.",
        "utils.checks.logit_decision(compile_model, predict_class)"),
    Exercise(
        "FINE_TUNE_AT = 120",
        "Make the base trainable again (`base.trainable = True`), then freeze its first "
        "`FINE_TUNE_AT` layers (`base.layers[:FINE_TUNE_AT]`): the base's layers from "
        "`FINE_TUNE_AT` on learn, except `BatchNormalization` layers, which stay frozen (keep "
        "their ImageNet statistics). Change the base only: the head stays trainable and the "
        "base is still called with `training=False`. The check reads every base layer's "
        "`trainable` flag and counts the trainable parameters.",
        "utils.checks.fine_tune_freeze(model, base, FINE_TUNE_AT)"),
]

# What a result below the seed study's range usually means (utils.checks.result_is_normal).
CAUSES: dict[str, str] = {
    "val_accuracy_frozen": "a sigmoid on the logit or a loss without from_logits=True, a "
                           "threshold of 0.5 on logits, or a base left trainable",
    "val_accuracy_fine_tuned": "BatchNormalization layers left trainable, layers before "
                               "FINE_TUNE_AT unfrozen, or a learning rate not ten times smaller",
}


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
    if not hasattr(loss, "get_config"):
        return None  # a plain function: logit_decision tests its numbers
    return bool(loss.get_config().get("from_logits", False))


PREPROCESS = Step("Preprocess", text="MobileNetV2's scaling x / 127.5 - 1 (preprocess_input)")


def _scaling_steps(ops: list) -> list[Step]:
    """Each op as a :class:`Step`, with MobileNetV2's scaling as one step however written.

    ``preprocess_input`` on a symbolic tensor records a division, then a subtraction (as
    ``x / 127.5 - 1`` does); ``layers.Rescaling(1 / 127.5, offset=-1)`` is one layer. The
    constants are not compared here: the logits on two fixed images are.
    """
    steps: list[Step] = []
    for op, _ in ops:
        step = describe(op)
        if step.kind == "Subtract" and steps and steps[-1].kind == "TrueDivide":
            steps[-1] = PREPROCESS
            continue
        if step.kind == "Rescaling":
            config = op.get_config()
            scale = float(np.ravel(config["scale"])[0])
            offset = float(np.ravel(config["offset"])[0])
            if np.isclose(scale * 127.5, 1.0) and np.isclose(offset, -1.0):
                step = PREPROCESS
        steps.append(step)
    return steps


def frozen_base_model(model: Any, base: Any, augment: Any) -> None:
    """Check notebook 4's stage-B ``model``: frozen ``base``, new one-logit head.

    Compares the chain augment -> MobileNetV2's scaling (``preprocess_input``, or
    ``x / 127.5 - 1`` or ``Rescaling(1 / 127.5, offset=-1)``) -> base(training=False) ->
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
            if e == PREPROCESS:
                return ("the base expects pixels scaled from [0, 255] to [-1, 1] as in "
                        "its ImageNet training: x = mobilenet_v2.preprocess_input(x) "
                        "right after augment.")
            return common_hint(e, g) or (
                "the order is augment, mobilenet_v2.preprocess_input, base, "
                "GlobalAveragePooling2D, Dropout(0.2), Dense(1).")

        compare_steps("model", _scaling_steps(want), _scaling_steps(ops), hint)
        from_logits = _loss_from_logits(model)
        if from_logits is False:
            raise CheckFailed("the model outputs a logit but its loss expects "
                              "probabilities. Hint: "
                              "keras.losses.BinaryCrossentropy(from_logits=True).")
        if count_trainable(model) != count_trainable(reference):
            raise CheckFailed(f"{count_trainable(model):,} trainable parameters, "
                              f"expected {count_trainable(reference):,} (the head "
                              "only).")
        check_size(model, reference)
        copy_weights([(ops[-1][0], want[-1][0])])
        x = np.random.default_rng(3).uniform(
            0, 255, (2, *base.input_shape[1:])).astype("float32")
        compare_numbers(model(x, training=False), reference(x, training=False),
                        tolerance_for(model))

    run_check("frozen_base_model", body)


# logit_decision: the loss on logits and the decision at 0 (notebook 4, stage B).
# Typical mistakes, each named by the check (tests/test_checks_alpaca.py tries them all):
# - the loss reads the logits as probabilities: loss="binary_crossentropy" or
#   BinaryCrossentropy() (from_logits=False on a head without activation);
# - the accuracy thresholds the logits at 0.5: metrics=["accuracy"] or BinaryAccuracy();
# - the metric is not named "accuracy": BinaryAccuracy(threshold=0.0) alone is
#   "binary_accuracy", which the learning-curve plots do not find;
# - a fixed learning rate (Adam(1e-3) or optimizer="adam") instead of the argument;
# - predict_class thresholds the logits at 0.5 (logits > 0.5, logits >= 0.5);
# - predict_class applies a sigmoid twice (tf.sigmoid(tf.sigmoid(z)) > 0.5) or compares a
#   probability with 0 (tf.sigmoid(z) > 0): every photo becomes "not alpaca";
# - predict_class returns probabilities instead of classes; classes swapped (logits < 0).
# Variants it accepts: logits >= 0 (a logit of exactly 0 is a tie: either class counts),
# tf.sigmoid(logits) > 0.5, booleans or integers, a NumPy array or a tensor, shape (n,) or
# (n, 1); the loss as a function with from_logits=True; BinaryAccuracy(threshold=0).
DECISION_LOGITS = np.array([-2.5, -0.8, -0.3, 0.2, 0.4, 0.9, 1.7, 3.0], "float32")
DECISION_LABELS = np.array([0, 1, 0, 1, 1, 1, 1, 0])
CLASS_LOGITS = np.array([-6.0, -2.0, -0.8, -0.1, 0.0, 0.1, 0.3, 0.5, 0.8, 2.0, 6.0], "float32")


def _binary_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean binary cross-entropy of ``labels`` given ``logits``, in the stable form."""
    z, y = logits.astype("float64"), labels.astype("float64")
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def _check_compile(compile_model: Any) -> None:
    """Compile a probe whose output equals its input with the learner's ``compile_model``."""
    probe = keras.Sequential([keras.Input((1,)), layers.Dense(1)], name="probe")
    probe.layers[-1].set_weights([np.ones((1, 1), "float32"), np.zeros(1, "float32")])
    learning_rate = 2.5e-4
    call_learner(f"compile_model(model, {learning_rate})", compile_model, probe,
                 learning_rate)
    optimizer = getattr(probe, "optimizer", None)
    if optimizer is None:
        raise CheckFailed("compile_model did not compile the model it was given. Hint: "
                          "call model.compile(...) on its `model` argument.")
    if not isinstance(optimizer, keras.optimizers.Adam):
        raise CheckFailed(f"the optimizer is {type(optimizer).__name__}, expected Adam. "
                          "Hint: keras.optimizers.Adam(learning_rate).")
    used = float(np.asarray(optimizer.learning_rate))
    if not np.isclose(used, learning_rate):
        raise CheckFailed(f"compile_model(model, {learning_rate}) gave Adam the learning "
                          f"rate {used:g}. Hint: pass the `learning_rate` argument to Adam; "
                          "stage C compiles again with a ten times smaller one.")
    got = probe.evaluate(DECISION_LOGITS[:, None], DECISION_LABELS, verbose=0,
                         batch_size=len(DECISION_LOGITS), return_dict=True)
    loss = _binary_cross_entropy(DECISION_LOGITS, DECISION_LABELS)
    if not np.isclose(float(got["loss"]), loss, rtol=1e-4, atol=1e-5):
        raise CheckFailed(
            f"on fixed logits the loss is {float(got['loss']):.4f}, expected {loss:.4f} "
            "(binary cross-entropy of the logits). Hint: the model outputs logits, not "
            "probabilities: keras.losses.BinaryCrossentropy(from_logits=True).")
    if "accuracy" not in got:
        others = [name for name in got if name != "loss"]
        named = f" (your metric is called {others[0]!r})" if others else ""
        raise CheckFailed(f"no metric named 'accuracy'{named}. Hint: "
                          "keras.metrics.BinaryAccuracy(name=\"accuracy\", threshold=0.0); "
                          "the learning-curve plots look the name up.")
    accuracy = float(np.mean((DECISION_LOGITS > 0) == DECISION_LABELS))
    at_half = float(np.mean((DECISION_LOGITS > 0.5) == DECISION_LABELS))
    if not np.isclose(float(got["accuracy"]), accuracy):
        why = (" That is the accuracy of a threshold of 0.5 on the logits (the string "
               "\"accuracy\" and BinaryAccuracy() both use 0.5)."
               if np.isclose(float(got["accuracy"]), at_half) else "")
        raise CheckFailed(
            f"on fixed logits the accuracy is {float(got['accuracy']):.3f}, expected "
            f"{accuracy:.3f}.{why} Hint: a logit decides at 0, because sigmoid(0) = 0.5: "
            "keras.metrics.BinaryAccuracy(name=\"accuracy\", threshold=0.0).")


def _check_predict_class(predict_class: Any) -> None:
    """Call the learner's ``predict_class`` on fixed logits; compare with ``logits > 0``."""
    z = CLASS_LOGITS
    got = np.asarray(call_learner("predict_class(logits)", predict_class, z.copy()))
    if got.size != z.size:
        raise CheckFailed(f"predict_class gave shape {got.shape} for {z.size} logits. "
                          "Hint: one class per logit.")
    got = got.reshape(-1)
    if got.dtype.kind not in "biuf" or not np.isin(got.astype("float64"), (0, 1)).all():
        shown = [round(float(v), 3) if got.dtype.kind in "biuf" else v for v in got[:3]]
        raise CheckFailed(f"predict_class gave {shown}... for the logits "
                          f"{np.round(z[:3], 3).tolist()}...: expected classes 0 and 1. "
                          "Hint: return classes, not probabilities: logits > 0.")
    got = got.astype(int)
    want = (z > 0).astype(int)
    tie = z == 0  # sigmoid(0) = 0.5 exactly: either class is right
    wrong = np.flatnonzero((got != want) & ~tie)
    if not len(wrong):
        return
    i = wrong[0]
    shown = f"predict_class gave class {got[i]} for the logit {z[i]:g}, expected {want[i]}."
    if (np.array_equal(got[~tie], (z[~tie] >= 0.5).astype(int))
            or np.array_equal(got[~tie], (z[~tie] > 0.5).astype(int))):
        hint = ("that is a threshold of 0.5 on the logit; a logit decides at 0, because "
                "sigmoid(0) = 0.5: logits > 0.")
    elif got[~tie].all():
        hint = ("every logit gave class 1, even -6: a probability is always above 0, and the "
                "sigmoid of a probability always above 0.5 (a sigmoid applied twice?). "
                "Compare the logit with 0, or sigmoid(logit) with 0.5.")
    elif np.array_equal(got[~tie], 1 - want[~tie]):
        hint = "the classes are swapped: a positive logit means class 1, `not alpaca`."
    else:
        hint = "class 1 (`not alpaca`) exactly where the logit is positive: logits > 0."
    raise CheckFailed(f"{shown} Hint: {hint}")


def logit_decision(compile_model: Any, predict_class: Any) -> None:
    """Check notebook 4's ``compile_model`` and ``predict_class``: a loss on logits, decision at 0.

    ``compile_model(model, learning_rate)`` must compile with Adam at that learning rate,
    binary cross-entropy on logits and an accuracy named ``"accuracy"`` thresholded at 0;
    ``predict_class(logits)`` must give 1 where a logit is positive, else 0 (a tie at
    exactly 0 may go either way). Example: ``logit_decision(compile_model, predict_class)``.
    """
    def body() -> None:
        if compile_model is None or predict_class is None:
            raise NotImplementedYet
        _check_compile(compile_model)
        _check_predict_class(predict_class)

    run_check("logit_decision", body)


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


# ---------------------------------------------------------------------------
# The over-fitting experiment's small CNN, ``small_cnn(augmentation, dropout)``.
#
# Mistakes tried in tests/test_checks_overfit.py, each failing with its hint: no dropout; a
# fixed dropout rate instead of the argument; Dropout(0.5) even when dropout=0.0; dropout in
# every block; dropout on the logit (after the output layer); Dropout called with
# training=True (it then drops features whenever the model is called without a training
# argument); augmentation missing; the notebook's global `augment` instead of the argument;
# augmentation after the convolutions; augmentation wrapped in a Lambda layer with
# training=True (it then acts at prediction time); a sigmoid output; two output units;
# GlobalAveragePooling2D instead of Flatten; no rescaling; pixels scaled to [-1, 1].
# Variants it accepts: any layer and model names; Activation("relu") or ReLU() after a
# linear convolution; Dropout before or after Flatten; Dropout(0.0) when no dropout is
# asked; augmentation right after the rescaling; the augmentation's layers applied one by
# one; `augmentation(inputs, training=True)` (fit, predict and evaluate override a flag
# written in the model, and a random layer called without one augments anyway);
# `inputs / 255` for Rescaling(1 / 255); a keras.Sequential model.

SMALL_CNN_FILTERS = (8, 16, 32)


def reference_small_cnn(image_size: tuple[int, int], augmentation: Any = None,
                        dropout: float = 0.0) -> keras.Model:
    """The over-fitting experiment's small CNN: the check's reference.

    Example: ``reference_small_cnn((64, 64)).count_params() == 8_081``.
    """
    inputs = keras.Input(shape=(*image_size, 3))
    x = augmentation(inputs) if augmentation is not None else inputs
    x = layers.Rescaling(1 / 255)(x)
    for filters in SMALL_CNN_FILTERS:
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, layers.Dense(1)(x))


def _small_cnn_steps(model: Any, augmentation: Any) -> list[tuple[Step, Any]]:
    """The model's chain of layers as ``(step, layer)``, in a form where equivalent code
    compares equal: a ReLU layer after a linear convolution joins it, a division by a
    constant is rescaling, the augmentation (or its layers one by one) is one step, and
    Dropout(0.0) none."""
    if not isinstance(model, keras.Model):
        raise CheckFailed(f"expected a keras model, got {type(model).__name__}. Hint: return "
                          "the model you built.")
    if not model.built or not model.inputs:
        raise CheckFailed("the model has no input shape. Hint: start with "
                          "keras.Input(shape=SMALL + (3,)).")
    ops, merge = chain_back(model.outputs[0])
    if merge is not None:
        raise CheckFailed(f"the model contains a {type(merge[0]).__name__} layer; this model "
                          "is one straight chain of layers.")
    inner = {id(op) for op in getattr(augmentation, "layers", [])}
    steps: list[tuple[Step, Any]] = []
    for op, _ in ops:
        if op is augmentation or id(op) in inner:
            if not steps or steps[-1][0].kind != "augmentation":
                steps.append((Step("augmentation", text="the augmentation"), op))
            continue
        step = describe(op)
        if step.kind in ("Rescaling", "TrueDivide", "Divide", "Multiply"):
            step = Step("Rescaling", text="Rescaling(1 / 255)")
        elif step.kind == "Conv2D":
            filters, size, _, padding, activation = step.settings
            step = Step("Conv2D", step.settings, f"Conv2D({filters} filters, {size[0]}x"
                        f"{size[1]}, padding {padding}, {activation.replace('relu', 'ReLU')})")
        elif (step.kind == "ReLU" and steps and steps[-1][0].kind == "Conv2D"
              and steps[-1][0].settings[4] == "linear"):
            conv, conv_op = steps.pop()
            step, op = Step("Conv2D", (*conv.settings[:4], "relu"),
                            conv.text.replace("linear)", "ReLU)")), conv_op
        elif step.kind == "Dropout" and not step.settings[0]:
            continue  # Dropout(0.0) changes nothing
        steps.append((step, op))
    return steps


def _called_with_training(op: Any) -> bool:
    """Whether ``op`` was called with ``training=True`` written in the model."""
    return any(kwargs.get("training") is True for _, kwargs in keras_graph.calls(op))


def _weighted(steps: list[tuple[Step, Any]]) -> list:
    """The layers with weights, in order, each once (a convolution's ReLU is its own step)."""
    found: dict[int, Any] = {}
    for step, op in steps:
        if step.kind != "augmentation" and getattr(op, "weights", None):
            found.setdefault(id(op), op)
    return list(found.values())


def _logits(model: keras.Model, x: np.ndarray, training: bool | None) -> np.ndarray:
    return np.asarray(model(x) if training is None else model(x, training=training))


def overfitting_model(small_cnn: Any, image_size: tuple[int, int] = (64, 64)) -> None:
    """Check the over-fitting experiment's ``small_cnn(augmentation, dropout)``.

    Builds the learner's model four ways: plain, with dropout 0.3, with an augmentation
    that always turns the photo by 90 degrees in training, and with both. The plain model
    must match the reference layer by layer (names are free), in parameters and in its
    logits on fixed photos once its weights are copied into the reference. Dropout must
    sit on the flattened features, the augmentation on the input photos; neither may add
    parameters, and with ``training=False`` each variant must compute what the plain model
    computes with the same weights (the dropout variant also when called without a training
    argument: Keras' random augmentation layers augment then). In training, the augmented
    model must compute the plain model on turned photos.
    Example: ``overfitting_model(small_cnn, SMALL)``.
    """
    shape = (*image_size, 3)
    x = np.random.default_rng(4).uniform(0, 255, (2, *shape)).astype("float32")

    def build(augmentation: Any, dropout: float) -> tuple[keras.Model, list]:
        what = f"small_cnn({'augmentation' if augmentation is not None else 'None'}, " \
               f"{dropout})"
        model = call_learner(what, small_cnn, augmentation, dropout)
        if model is None:
            raise NotImplementedYet
        return model, _small_cnn_steps(model, augmentation)

    def body() -> None:
        reference = reference_small_cnn(image_size)
        plain, steps = build(None, 0.0)
        if tuple(plain.input_shape[1:]) != shape:
            raise CheckFailed(f"input shape {plain.input_shape}, expected {(None, *shape)}. "
                              "Hint: keras.Input(shape=SMALL + (3,)).")
        if any(step.kind == "Dropout" for step, _ in steps):
            raise CheckFailed("small_cnn(None, 0.0) holds a Dropout layer, but dropout=0.0 asks "
                              "for none. Hint: add Dropout(dropout) only when dropout > 0.")
        compare_steps("small_cnn(None, 0.0)",
                      [step for step, _ in _small_cnn_steps(reference, None)],
                      [step for step, _ in steps], _small_cnn_hint)
        check_size(plain, reference)
        rng = np.random.default_rng(5)
        for op in _weighted(steps):
            op.set_weights([rng.normal(0, 0.1, w.shape).astype("float32")
                            for w in op.get_weights()])
        for mine, theirs in zip(_weighted(_small_cnn_steps(reference, None)),
                                _weighted(steps)):
            mine.set_weights(theirs.get_weights())
        expected = _logits(reference, x, False)
        if not np.allclose(_logits(plain, x, False), expected, atol=1e-4, rtol=1e-4):
            raise CheckFailed("the layers look right but the logits differ from the reference's "
                              "on fixed photos. Hint: Rescaling(1 / 255) maps the 0-255 pixels "
                              "to [0, 1]; check which tensor each layer is applied to.")
        _check_dropout(build, steps, x, expected)
        _check_augmentation(build, steps, reference, x, expected)

    run_check("overfitting_model", body)


def _small_cnn_hint(where: str, e: Step | None, g: Step | None) -> str:
    if e and g and e.kind == g.kind == "Dense" and g.settings[0] != 1:
        return "one output: Dense(1), a single logit for 'not alpaca'."
    if (e and g and e.kind == g.kind == "Dense") or (e is None and g and g.kind in (
            "Activation", "ReLU")):
        return ("output a logit: Dense(1) without activation; the loss "
                "BinaryCrossentropy(from_logits=True) applies the sigmoid itself.")
    if g and g.kind == "GlobalAveragePooling2D":
        return "this model keeps every position of the last maps: Flatten()."
    return ("compare your layers, in order, with the design above the exercise: "
            "Rescaling(1 / 255), three blocks of a 3x3 Conv2D (padding same, ReLU) and "
            "MaxPooling2D, then Flatten and Dense(1).")


def _same_as_plain(model: keras.Model, steps: list, plain_steps: list, x: np.ndarray,
                   expected: np.ndarray, call: str, hint: str,
                   ways: tuple = (False,)) -> None:
    """Copy the plain model's weights in; outside training ``model`` must compute ``expected``.

    ``ways``: the ``training`` values to call it with (``None``: no argument).
    """
    for mine, theirs in zip(_weighted(steps), _weighted(plain_steps)):
        mine.set_weights(theirs.get_weights())
    for training in ways:
        got = [_logits(model, x, training) for _ in range(2)]
        if not all(np.allclose(g, expected, atol=1e-4, rtol=1e-4) for g in got):
            how = "with training=False" if training is False else \
                "called without a training argument"
            raise CheckFailed(f"{how}, {call} does not compute what the plain model computes "
                              f"with the same weights. Hint: {hint}")


def _check_dropout(build: Any, plain_steps: list, x: np.ndarray,
                   expected: np.ndarray) -> None:
    call = "small_cnn(None, 0.3)"
    model, steps = build(None, 0.3)
    found = [(i, step, op) for i, (step, op) in enumerate(steps) if step.kind == "Dropout"]
    if not found:
        raise CheckFailed(f"{call} has no Dropout layer. Hint: when dropout > 0, add "
                          "Dropout(dropout) on the flattened features, right before the output "
                          "layer.")
    if len(found) > 1:
        raise CheckFailed(f"{call} has {len(found)} Dropout layers; the design has one, on the "
                          "flattened features, right before the output layer.")
    i, step, op = found[0]
    if step.settings[0] != 0.3:
        raise CheckFailed(f"{call} holds Dropout({step.settings[0]}). Hint: use the `dropout` "
                          "argument as the rate: Dropout(dropout).")
    kinds = [s.kind for s, _ in steps]
    before = [k for k in kinds[:i] if k != "Flatten"]
    after = [k for k in kinds[i + 1:] if k != "Flatten"]
    if after != ["Dense"] or not before or before[-1] != "MaxPooling2D":
        where = "after the output layer, on the logit itself" if "Dense" in kinds[:i] \
            else f"right after {steps[i - 1][0]}" if i else "on the input photos"
        raise CheckFailed(f"{call} applies Dropout {where}. Hint: put it on the flattened "
                          "features, right before the output Dense layer.")
    if _called_with_training(op):
        raise CheckFailed(f"{call} calls Dropout with training=True, so it also drops features "
                          "whenever the model is called without a training argument. Hint: call "
                          "it without one; fit switches it on, predict and evaluate switch it off.")
    if model.count_params() != sum(w.size for o in _weighted(plain_steps)
                                   for w in o.get_weights()):
        raise CheckFailed(f"{call} has {model.count_params():,} parameters: dropout adds none.")
    _same_as_plain(model, steps, plain_steps, x, expected, call,
                   "dropout acts only in training.", ways=(False, None))


def _check_augmentation(build: Any, plain_steps: list, reference: keras.Model,
                        x: np.ndarray, expected: np.ndarray) -> None:
    def rotation() -> keras.Sequential:  # random in name only: always 90 degrees
        return keras.Sequential([layers.RandomRotation((0.25, 0.25), fill_mode="constant")],
                                name="augmentation_of_the_check")

    n_params = sum(w.size for o in _weighted(plain_steps) for w in o.get_weights())
    for dropout in (0.0, 0.3):
        augmentation = rotation()
        model, steps = build(augmentation, dropout)
        call = f"small_cnn(augmentation, {dropout})"
        if model.count_params() != n_params:
            raise CheckFailed(f"{call} has {model.count_params():,} parameters, expected "
                              f"{n_params:,}: augmentation and dropout add none.")
        _same_as_plain(model, steps, plain_steps, x, expected, call,
                       "the augmentation acts at prediction time too. Apply it as a layer "
                       "of the model, x = augmentation(inputs): Keras then switches it off "
                       "in predict and evaluate.")
        kinds = [s.kind for s, _ in steps]
        if "augmentation" not in kinds:
            raise CheckFailed(f"{call} does not use `augmentation`, its argument. Hint: when "
                              "it is not None, apply it to the input photos: "
                              "x = augmentation(inputs).")
        if dropout and "Dropout" not in kinds:
            raise CheckFailed(f"{call} has no Dropout layer: with augmentation and dropout both "
                              "asked for, the model needs both.")
        at = kinds.index("augmentation")
        if kinds[:at] not in ([], ["Rescaling"]):
            raise CheckFailed(f"{call} applies the augmentation after {steps[at - 1][0]}, so it "
                              "distorts feature maps, not photos. Hint: apply it to the input "
                              "photos, before any other layer.")
        if dropout:
            continue
        turned = _logits(reference, np.asarray(rotation()(x, training=True)), False)
        if not np.allclose(_logits(model, x, True), turned, atol=1e-4, rtol=1e-4):
            raise CheckFailed(f"in training, {call} does not compute the plain model on "
                              "augmented photos. Hint: x = augmentation(inputs), then the layers "
                              "of the plain model.")
