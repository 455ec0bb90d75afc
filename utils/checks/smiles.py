"""Notebook 1's checks: the smile detector as a ``keras.Sequential`` model, balanced accuracy.

Example, in notebook 1 right after each exercise::

    import utils.checks
    utils.checks.sequential_model(smile_model)
    utils.checks.balanced_accuracy(balanced_accuracy)

``sequential_model`` judges the model by what it computes, not by how it is spelled.
Variants it accepts (each one tested in ``tests/test_checks_smiles.py``): any layer names or
none; ``ReLU()`` or ``Activation("relu")``; ``ZeroPadding2D(3)``, ``ZeroPadding2D((3, 3))`` or
``((3, 3), (3, 3))``, or no padding layer and ``Conv2D(..., padding="same")`` (the same
numbers, as the notebook shows); ``Conv2D(32, (7, 7), strides=(1, 1))``;
``BatchNormalization()`` (its default axis is the last one);
``MaxPooling2D()`` (default 2x2); ``Dense(1)`` followed by ``Activation("sigmoid")``; layers
added with ``model.add``. Mistakes it names: batch normalisation over the wrong axis, no
sigmoid, no padding, a 3x3 kernel, 16 filters, stride 2, ReLU fused into the convolution
(``activation="relu"``: then it comes before batch normalisation), ReLU and batch
normalisation swapped, no max pooling, a softmax output of two units, no ``keras.Input``,
``input_shape`` ignored, a Functional model.

``balanced_accuracy`` runs the learner's function on fixed labels: an imbalanced case where
plain accuracy differs, a class that is never predicted, three classes, labels as columns
``(n, 1)`` and as 1-D arrays. Mistakes it names: plain accuracy (also when written as a mean
over the samples of each sample's class recall), precision instead of recall (dividing by the
predictions of each class, which is recall with ``y_true`` and ``y_pred`` swapped), integer
division, only the classes 0 and 1, a column of labels compared with a 1-D array without
flattening, returning several numbers, returning nothing. Variants it accepts: any float
type, a loop or a confusion-matrix count, classes from ``np.unique`` or a set, ``np.squeeze``
or ``reshape(-1)`` for ``np.ravel``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import layers

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
    describe,
    fixed_input,
    randomize,
    run_check,
    tolerance_for,
)

# Notebook 1's exercises in order (utils.exercises puts each task above its gap, its check
# below).
TASKS = [
    Exercise(
        "def smile_model",
        "Return the `keras.Sequential` model of the table above for images of shape "
        "`input_shape`, in the table's order: zero padding of 3 pixels, a 7x7 convolution "
        "with 32 filters and stride 1, batch normalisation over the channels, ReLU, 2x2 max "
        "pooling, flatten, one sigmoid unit. Start with `keras.Input(shape=input_shape)`. "
        "For 64x64x3 images it has output shape `(None, 1)` and 37,633 parameters. The "
        "check compares what the model computes with the course's model (layer names are "
        "up to you; `padding=\"same\"` in place of the padding layer is fine) and builds it "
        "once more for 32x32x1 images.",
        "utils.checks.sequential_model(smile_model)"),
    Exercise(
        "def balanced_accuracy",
        "Return the balanced accuracy of the predicted labels `y_pred` against the true "
        "labels `y_true` as one number: the mean, over the classes that occur in "
        "`y_true`, of each class's recall (the share of that class's examples predicted "
        "as that class). It must work for any number of classes, and for labels given as "
        "1-D arrays or as columns of shape `(n, 1)`, in any mix (flatten them first). The "
        "check runs it on small fixed labels, among them an imbalanced set, a class that "
        "is never predicted, and three classes.",
        "utils.checks.balanced_accuracy(balanced_accuracy)"),
]

CAUSES = {
    "test_accuracy": ("a model that is not the course's (run the check after smile_model), a "
                      "changed recipe (epochs, learning rate, batch size), or pixels scaled "
                      "differently for training and testing"),
    "balanced_accuracy": ("a balanced_accuracy that is not the mean of the per-class recalls "
                          "(run its check), or a model that misses many smiling faces: one that "
                          "is not the course's, a changed recipe, or pixels scaled differently"),
}
"""For :func:`utils.checks.result_is_normal`: the likely causes of a low metric."""


# ---------------------------------------------------------------------------
# the model


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


def canonical_steps(ops: list) -> list[tuple[Step, Any]]:
    """The model's steps with equivalent spellings made equal, each with its weighted layer.

    A stride-1 ``Conv2D(k, padding="same")`` with an odd ``k`` becomes
    ``ZeroPadding2D((k - 1) / 2)`` + the ``valid`` convolution (the same numbers), and
    ``Dense`` without activation + ``Activation(a)`` becomes ``Dense(a)``. Returns
    ``(step, layer)`` pairs; ``layer`` is ``None`` for a step added by the rewriting.
    """
    out: list[tuple[Step, Any]] = []
    for op in ops:
        step = describe(op)
        if step.kind == "Conv2D":
            filters, kernel, strides, padding, activation = step.settings
            if (padding == "same" and strides == (1, 1) and kernel[0] == kernel[1]
                    and kernel[0] % 2 == 1):
                pad = (kernel[0] - 1) // 2
                out.append((Step("ZeroPadding2D", (str(pad),), f"ZeroPadding2D({pad})"), None))
                text = step.text.replace("padding same", "padding valid")
                step = Step("Conv2D", (filters, kernel, strides, "valid", activation), text)
        if (step.kind == "Activation" and out and out[-1][0].kind == "Dense"
                and out[-1][0].settings[1] == "linear"):
            units, name = out[-1][0].settings[0], step.settings[0]
            unit = "unit" if units == 1 else "units"
            out[-1] = (Step("Dense", (units, name), f"Dense({units} {unit}, {name})"),
                       out[-1][1])
            continue
        out.append((step, op))
    return out


def _model_hint(where: str, expected: Step | None, got: Step | None) -> str:
    """What probably went wrong at the first differing step of the smile model."""
    if expected and got and expected.kind == "ZeroPadding2D" and got.kind == "Conv2D":
        return ("a 7x7 convolution needs a 3-pixel border to keep 64x64 maps: "
                "ZeroPadding2D(3) before it, or padding='same'.")
    if got and got.kind == "Conv2D" and got.settings[4] != "linear":
        return ("leave the convolution without activation: batch normalisation comes "
                "right after it, and ReLU after that, as a layer of its own.")
    if expected and got and {expected.kind, got.kind} == {"BatchNormalization", "ReLU"}:
        return "batch normalisation comes right after the convolution, ReLU after it."
    if expected and got and expected.kind == got.kind == "Conv2D":
        return "32 filters of 7x7, stride 1, as the table says."
    if expected and got and expected.kind == "MaxPooling2D" and got.kind != "MaxPooling2D":
        return "2x2 max pooling halves the maps before they are flattened."
    return common_hint(expected, got) or "compare your layers, in order, with the table above."


def _check_smile_model(model: Any, input_shape: tuple[int, int, int],
                       numbers: bool = True) -> None:
    """Raise CheckFailed where ``model`` differs from the course's model for ``input_shape``."""
    if not isinstance(model, keras.Model):
        raise CheckFailed(f"expected a keras model, got {type(model).__name__}. "
                          "Hint: return the model you built.")
    if not isinstance(model, keras.Sequential):
        raise CheckFailed(f"expected a keras.Sequential model, got {type(model).__name__}. "
                          "Hint: this exercise uses keras.Sequential([...]).")
    if not model.built or not model.inputs:
        raise CheckFailed("the model has no input shape. Hint: start the list with "
                          "keras.Input(shape=input_shape).")
    if tuple(model.input_shape[1:]) != tuple(input_shape):
        raise CheckFailed(f"built for input_shape={input_shape}, the model takes "
                          f"{model.input_shape}. Hint: use the argument input_shape in "
                          "keras.Input(shape=input_shape).")
    ops, merge = chain_back(model.outputs[0])
    if merge is not None:
        raise CheckFailed(f"the model contains a {type(merge[0]).__name__} layer; "
                          "this model is one straight chain of layers.")
    reference = reference_smile_model(input_shape)
    got = canonical_steps([op for op, _ in ops])
    want = canonical_steps([op for op, _ in chain_back(reference.outputs[0])[0]])
    compare_steps("your model", [s for s, _ in want], [s for s, _ in got], _model_hint)
    check_size(model, reference)
    if numbers:
        randomize(model, seed=0)
        weighted = [(a, b) for (_, a), (_, b) in zip(got, want)
                    if a is not None and getattr(b, "weights", None)]
        copy_weights(weighted)
        x = fixed_input((2, *input_shape), scale=0.5) + 0.5
        compare_numbers(model(x, training=False), reference(x, training=False),
                        tolerance_for(model))


def sequential_model(fn_or_model: Callable[..., Any] | keras.Model) -> None:
    """Check notebook 1's Sequential model (``smile_model``, or the built model).

    Example: ``sequential_model(smile_model)`` prints
    ``sequential_model: all checks passed`` for the course's model.
    """
    def body() -> None:
        if isinstance(fn_or_model, keras.Model):
            _check_smile_model(fn_or_model, (64, 64, 3))
            return
        model = call_learner("your smile_model", fn_or_model)
        _check_smile_model(model, (64, 64, 3))
        small = call_learner("your smile_model(input_shape=(32, 32, 1))", fn_or_model,
                             input_shape=(32, 32, 1))
        _check_smile_model(small, (32, 32, 1), numbers=False)

    run_check("sequential_model", body)


# ---------------------------------------------------------------------------
# balanced accuracy


def reference_balanced_accuracy(y_true: Any, y_pred: Any) -> float:
    """The mean over the classes of ``y_true`` of each class's recall: the checks' reference.

    Example: ``reference_balanced_accuracy([0, 0, 0, 1], [0, 0, 0, 0])`` is 0.5.
    """
    y_true, y_pred = np.ravel(y_true), np.ravel(y_pred)
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]))


def _cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The fixed inputs, in the order they are tried: (what, y_true, y_pred)."""
    y_true = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    y_pred = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 0])  # recalls 0.75, 0.5; accuracy 0.7
    three_true = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2])
    three_pred = np.array([0, 0, 0, 1, 1, 0, 2, 2, 2, 2, 1, 0])
    return [
        ("8 labels 0 and 2 labels 1", y_true, y_pred),
        ("a class that is never predicted (always 0)", y_true, np.zeros_like(y_true)),
        ("three classes", three_true, three_pred),
        ("y_true as a float column (n, 1), y_pred 1-D", y_true.reshape(-1, 1).astype("float32"),
         y_pred),
        ("y_true 1-D, y_pred as a column (n, 1)", y_true, y_pred.reshape(-1, 1)),
        ("both as columns (n, 1)", y_true.reshape(-1, 1), y_pred.reshape(-1, 1)),
    ]


def _per_class(y_true: np.ndarray, y_pred: np.ndarray, classes, by_prediction: bool = False,
               floor: bool = False) -> float:
    """A mean of per-class ratios, computed right or in one of the typical wrong ways."""
    values = []
    for c in classes:
        mine = (y_pred == c) if by_prediction else (y_true == c)
        hits = float(np.sum((y_true == c) & (y_pred == c)))
        values.append(np.floor(hits / mine.sum()) if floor and mine.sum() else
                      hits / mine.sum() if mine.sum() else np.nan)
    return float(np.mean(values))


def _wrong_answers(y_true: np.ndarray, y_pred: np.ndarray) -> list[tuple[float, str]]:
    """What typical mistakes return on these labels, each with its hint."""
    t, p = np.ravel(y_true), np.ravel(y_pred)
    classes = np.unique(t)
    return [
        (float(np.mean(t == p)),
         "that is plain accuracy (the share of all examples predicted right), which the "
         "common class dominates. Compute each class's recall on its own, then average "
         "the recalls: every class counts the same however many examples it has."),
        (_per_class(t, p, classes, by_prediction=True),
         "you divided each class's hits by how often that class was predicted: that is "
         "precision (it is what you get with y_true and y_pred swapped). Recall divides by "
         "the number of examples that truly belong to the class."),
        (_per_class(t, p, classes, floor=True),
         "each recall came out as 0 or 1: integer division (//) rounds down. Divide with /."),
        (_per_class(t, p, [0, 1]),
         "only classes 0 and 1 were counted. Take the classes from y_true, e.g. "
         "np.unique(y_true), so it works for any number of classes."),
    ]


def _as_number(value: Any, what: str) -> float:
    """The learner's result as one float, or a CheckFailed saying what came back."""
    if value is None:
        raise CheckFailed(f"{what} returned None. Hint: end the function with return.")
    array = np.asarray(value)
    if array.size != 1 or not np.issubdtype(array.dtype, np.number):
        shown = (f"{array.size} values" if np.issubdtype(array.dtype, np.number)
                 else f"a {type(value).__name__}")
        raise CheckFailed(f"{what} returned {shown}, not one number. Hint: return the mean "
                          "of the per-class recalls, a single float.")
    return float(array.reshape(()))


def _check_case(fn: Callable[[Any, Any], Any], what: str, y_true: np.ndarray,
                y_pred: np.ndarray) -> None:
    """Run the learner's function on one fixed case; raise CheckFailed with a hint if wrong."""
    call = f"your balanced_accuracy on {what}"
    column = y_true.ndim > 1 or y_pred.ndim > 1
    try:
        got = _as_number(call_learner(call, fn, y_true.copy(), y_pred.copy()), call)
    except CheckFailed as failure:
        if not column:
            raise
        raise CheckFailed(f"{failure} Hint: np.ravel(y_true) and np.ravel(y_pred) first, so "
                          "both are 1-D.") from None
    want = reference_balanced_accuracy(y_true, y_pred)
    if np.isclose(got, want, rtol=0, atol=1e-6):
        return
    head = f"{call}: got {got:.4g}, expected {want:.4g}."
    if column:
        flat = _as_number(call_learner(call, fn, np.ravel(y_true), np.ravel(y_pred)), call)
        if np.isclose(flat, want, rtol=0, atol=1e-6):
            raise CheckFailed(f"{head} With 1-D labels it gives the right answer. Hint: a "
                              "column (n, 1) compared with a 1-D array (n,) broadcasts to an "
                              "n x n table; flatten both with np.ravel first.")
    if np.isnan(got):
        raise CheckFailed(f"{head} Hint: a class missing from your denominator gives an empty "
                          "mean (nan). Recall divides by the examples that truly belong to "
                          "the class, and the classes come from y_true; is your function "
                          "dividing by the predictions (precision)?")
    for value, hint in _wrong_answers(y_true, y_pred):
        if np.isfinite(value) and np.isclose(got, value, rtol=0, atol=1e-6):
            raise CheckFailed(f"{head} Hint: {hint}")
    raise CheckFailed(f"{head} Hint: recall of class c = (examples of class c predicted as "
                      "c) / (examples of class c); return the mean of the recalls over the "
                      "classes in y_true.")


def balanced_accuracy(fn: Callable[[Any, Any], Any]) -> None:
    """Check notebook 1's ``balanced_accuracy(y_true, y_pred)`` on fixed labels.

    Example: ``balanced_accuracy(balanced_accuracy)`` prints
    ``balanced_accuracy: all checks passed`` for a correct function.
    """
    def body() -> None:
        if fn is None:
            raise NotImplementedYet
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a learner's empty mean warns; the hint explains
            for what, y_true, y_pred in _cases():
                _check_case(fn, what, y_true, y_pred)

    run_check("balanced_accuracy", body)
