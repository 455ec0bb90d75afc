"""The machinery every exercise check shares: running, describing, comparing.

A check body raises :class:`CheckFailed` (or :class:`NotImplementedYet`) and
:func:`run_check` turns that, or any other exception, into the one line the
notebook prints. The rest compares a learner's model with a reference one:
:func:`describe` reduces each layer to a :class:`Step`, :func:`chain_back`
walks the functional graph (through :mod:`utils.keras_graph`),
:func:`compare_steps` names the first difference with a hint, and
:func:`compare_numbers` compares the outputs once the learner's weights are
copied into the reference (:func:`copy_weights`).

Example, the body of a check::

    def body() -> None:
        model = call_learner("your smile_model", smile_model)
        check_plain_model("sequential_model", model, reference, (64, 64, 3))

    run_check("sequential_model", body)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from utils import keras_graph

PASSED = "all checks passed"
NOT_IMPLEMENTED = ("not implemented yet: replace `raise NotImplementedError()` "
                   "with your code, run that cell, then run this check again")


class CheckFailed(Exception):
    """A check found a mistake; the message says what and where."""


class NotImplementedYet(Exception):
    """The learner's cell still holds the placeholder."""


@dataclass(frozen=True)
class Exercise:
    """One gap of an exercise notebook, as :mod:`utils.exercises` makes it.

    ``anchor``: text its solution cell contains; ``task``: the instruction shown above the
    gap; ``check``: the check call run below it. Example: each notebook module's ``TASKS``.
    """

    anchor: str
    task: str
    check: str


# ---------------------------------------------------------------------------
# running the learner's code and reporting


def run_check(exercise: str, body: Callable[[], None]) -> None:
    """Run one check body and print a single line with the verdict.

    The models built during the check (the learner's and the reference) use the
    float32 policy, whatever the notebook set (notebooks 1-3 may compute in
    mixed_bfloat16); the notebook's policy is restored afterwards.
    """
    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        body()
    except NotImplementedYet:
        print(f"{exercise}: {NOT_IMPLEMENTED}")
    except CheckFailed as failure:
        print(f"{exercise}: check failed: {failure}")
    except Exception as error:  # noqa: BLE001 - never show a traceback
        print(f"{exercise}: check failed: the check itself could not run "
              f"({type(error).__name__}: {_first_line(error)})")
    else:
        print(f"{exercise}: {PASSED}")
    finally:
        keras.mixed_precision.set_global_policy(policy)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "no message"


def call_learner(what: str, fn: Callable[..., Any], *args: Any,
                 shape_hint: str = "", **kwargs: Any) -> Any:
    """Call the learner's function; turn its exceptions into one-line failures.

    ``shape_hint`` is added when the error is a shape mismatch (for example two
    tensors of different shapes reaching an ``Add``).
    """
    if fn is None:
        raise NotImplementedYet
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise NotImplementedYet from None
    except Exception as error:  # noqa: BLE001
        message = _first_line(error)
        hint = f" Hint: {shape_hint}" if shape_hint and "shape" in message else ""
        raise CheckFailed(f"{what} raised {type(error).__name__}: {message}."
                          + hint) from None


# ---------------------------------------------------------------------------
# describing layers so that two models can be compared


@dataclass(frozen=True)
class Step:
    """One operation of a model, reduced to what the exercise specifies."""

    kind: str
    settings: tuple = ()
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.text or self.kind


def _pair(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def describe(op: Any) -> Step:
    """Reduce a layer or operation to a comparable :class:`Step`.

    Example: ``describe(layers.Conv2D(8, 4, padding="same"))`` gives
    ``Conv2D(8 filters, 4x4, stride 1, padding same)``.
    """
    kind = type(op).__name__
    if kind == "ReLU" or (kind == "Activation"
                          and op.get_config()["activation"] == "relu"):
        return Step("ReLU", text="ReLU")
    if kind == "Activation":
        name = op.get_config()["activation"]
        return Step("Activation", (name,), f"Activation({name})")
    if kind == "Conv2D":
        c = op.get_config()
        k, s = _pair(c["kernel_size"]), _pair(c["strides"])
        act = c["activation"]
        # A 1x1 kernel never needs padding: "same" computes exactly what "valid" does.
        padding = "valid" if k == (1, 1) else c["padding"]
        text = (f"Conv2D({c['filters']} filters, {k[0]}x{k[1]}, stride {s[0]}"
                + ("" if k == (1, 1) else f", padding {padding}")
                + ("" if act == "linear" else f", {act}") + ")")
        return Step(kind, (c["filters"], k, s, padding, act), text)
    if kind == "BatchNormalization":
        axis = op.axis
        axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        if isinstance(axis, int) and axis == -1:
            axis = 3
        return Step(kind, (axis,), f"BatchNormalization(axis {axis})")
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        c = op.get_config()
        p, s = _pair(c["pool_size"]), _pair(c["strides"] or c["pool_size"])
        return Step(kind, (p, s, c["padding"]),
                    f"{kind}({p[0]}x{p[1]}, stride {s[0]}, padding {c['padding']})")
    if kind == "ZeroPadding2D":
        pad = op.get_config()["padding"]
        flat = [int(v) for v in np.ravel(pad)]
        pad = flat[0] if len(set(flat)) == 1 else tuple(flat)
        return Step(kind, (str(pad),), f"ZeroPadding2D({pad})")
    if kind == "Dense":
        c = op.get_config()
        unit = "unit" if c["units"] == 1 else "units"
        return Step(kind, (c["units"], c["activation"]),
                    f"Dense({c['units']} {unit}, {c['activation']})")
    if kind == "Dropout":
        rate = op.get_config()["rate"]
        return Step(kind, (rate,), f"Dropout({rate})")
    if kind == "RandomFlip":
        mode = op.get_config()["mode"]
        return Step(kind, (mode,), f'RandomFlip("{mode}")')
    if kind == "RandomRotation":
        factor = op.get_config()["factor"]
        factor = tuple(float(f) for f in _pair(factor))
        if factor[0] == factor[1]:
            factor = (-abs(factor[0]), abs(factor[0]))
        return Step(kind, (factor,), f"RandomRotation({factor[1]:g})")
    if kind == "TrueDivide":
        return Step(kind, text="a division (the first step of preprocess_input)")
    if kind == "Subtract":
        return Step(kind, text="a subtraction (the second step of preprocess_input)")
    if kind in ("Functional", "Sequential", "Model"):
        return Step("Model", (op.name,), f"the model '{op.name}'")
    return Step(kind, text=kind)


def chain_back(tensor: Any) -> tuple[list[tuple[Any, int]], Any]:
    """Operations from ``tensor`` back to the model input or to a merge.

    Returns the single-input operations in forward order and the merge
    operation (an op with several inputs) where the walk stopped, or ``None``
    when it reached the input.
    """
    ops: list[tuple[Any, int]] = []
    while True:
        op, index = keras_graph.producer(tensor)
        if type(op).__name__ == "InputLayer":
            return ops[::-1], None
        inputs = keras_graph.call_inputs(op, index)
        if len(inputs) != 1:
            return ops[::-1], (op, index)
        ops.append((op, index))
        tensor = inputs[0]


def steps_of(ops: list) -> list[Step]:
    """The :class:`Step` of each ``(operation, call index)`` pair from :func:`chain_back`."""
    return [describe(op) for op, _ in ops]


def compare_steps(where: str, expected: list[Step], got: list[Step],
                  hint: Callable[[str, Step | None, Step | None], str]) -> None:
    """Raise CheckFailed at the first step where two lists of steps differ."""
    for i in range(max(len(expected), len(got))):
        e = expected[i] if i < len(expected) else None
        g = got[i] if i < len(got) else None
        if e != g:
            advice = hint(where, e, g)
            raise CheckFailed(
                f"{where}, layer {i + 1}: expected {e or 'nothing more'}, "
                f"got {g or 'nothing'}." + (f" Hint: {advice}" if advice else ""))


def common_hint(e: Step | None, g: Step | None) -> str:
    """Hints that apply to every exercise."""
    if e and g and e.kind == g.kind == "BatchNormalization":
        return ("normalise over the channel axis, the last one: "
                "BatchNormalization(axis=3).")
    if e and g and e.kind == g.kind == "Dense" and e.settings[1] != g.settings[1]:
        return (f"the output layer needs activation='{e.settings[1]}' "
                "(sigmoid: one unit for yes/no; softmax: one unit per class; "
                "linear: a logit for a loss with from_logits=True).")
    if e and g and e.kind == g.kind == "Conv2D" and e.settings[3] != g.settings[3]:
        return f"this convolution uses padding='{e.settings[3]}'."
    if e and g and e.kind == g.kind and e.kind.endswith("Pooling2D"):
        return "check pool_size, strides and padding against the text above."
    return ""


# ---------------------------------------------------------------------------
# weights, numbers and names


def randomize(model: keras.Model, seed: int = 0) -> None:
    """Give every weight of ``model`` seeded random values (BN statistics too)."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if variable.name in ("moving_variance", "gamma"):
            values = rng.uniform(0.5, 1.5, shape)
        else:
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 10
            values = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
        variable.assign(values.astype(variable.dtype))


def copy_weights(pairs: list[tuple[Any, Any]]) -> None:
    """Copy each learner layer's weights into its reference twin."""
    for learner_op, reference_op in pairs:
        if getattr(reference_op, "weights", None):
            reference_op.set_weights(learner_op.get_weights())


def tolerance_for(model: Any) -> float:
    """1e-4 for float32 models; 5e-2 when some layer computes in 16 bits."""
    dtypes = {str(getattr(op, "compute_dtype", "float32"))
              for op in getattr(model, "operations", None) or model.layers}
    return 1e-4 if dtypes <= {"float32", "None"} else 5e-2


def compare_numbers(got: Any, expected: Any, tolerance: float = 1e-4) -> None:
    """Raise CheckFailed when ``got`` is off by more than ``tolerance`` * max(1, |expected|)."""
    got = np.asarray(got, dtype="float64")
    expected = np.asarray(expected, dtype="float64")
    gap = float(np.max(np.abs(got - expected)))
    if not gap <= tolerance * max(1.0, float(np.max(np.abs(expected)))):
        raise CheckFailed(
            f"the layers look right but the output differs from the reference by "
            f"up to {gap:.3g} on the fixed test input. Hint: check which tensor "
            "each layer is applied to.")


def require_names(model: keras.Model, names: list[str], pattern: str) -> None:
    """Fail when layers that later notebook cells look up by name are missing."""
    present = {op.name for op in getattr(model, "operations", None) or model.layers}
    missing = [n for n in names if n not in present]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckFailed(
            f"the layers are right, but later cells look layers up by name and "
            f"no layer is named '{missing[0]}'{more}. Hint: name the layers as the "
            f"instructions say ({pattern}).")


def count_params(model: keras.Model) -> int:
    """The model's number of parameters, trainable or not."""
    return int(model.count_params())


def count_trainable(model: Any) -> int:
    """The number of trainable parameters of a model or layer."""
    return int(sum(int(np.prod(v.shape)) for v in model.trainable_weights))


def fixed_input(shape: tuple[int, ...], seed: int = 1, scale: float = 1.0) -> np.ndarray:
    """Seeded normal float32 numbers of ``shape`` times ``scale``: a check's test input."""
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype("float32")


# ---------------------------------------------------------------------------
# a model without branches (notebooks 1 and 2)


def check_size(model: keras.Model, reference: keras.Model) -> None:
    """Fail unless ``model`` has the reference's parameter count and output shape."""
    if count_params(model) != count_params(reference):
        raise CheckFailed(f"{count_params(model):,} parameters, expected "
                          f"{count_params(reference):,}.")
    if tuple(model.output_shape) != tuple(reference.output_shape):
        raise CheckFailed(f"output shape {model.output_shape}, expected "
                          f"{reference.output_shape}.")


def check_plain_model(exercise: str, model: Any, reference: keras.Model,
                      input_shape: tuple[int, ...]) -> None:
    """Compare a model without branches with its reference, step by step."""
    if not isinstance(model, keras.Model):
        raise CheckFailed(f"expected a keras model, got {type(model).__name__}. "
                          "Hint: return the model you built.")
    if not model.built or not model.inputs:
        raise CheckFailed("the model has no input shape. Hint: start with "
                          f"keras.Input(shape={input_shape}).")
    if tuple(model.input_shape[1:]) != tuple(input_shape):
        raise CheckFailed(f"input shape {model.input_shape}, expected "
                          f"{(None, *input_shape)}.")
    ops, merge = chain_back(model.outputs[0])
    if merge is not None:
        raise CheckFailed(f"the model contains a {type(merge[0]).__name__} layer; "
                          "this model is one straight chain of layers.")
    want, _ = chain_back(reference.outputs[0])
    compare_steps("your model", steps_of(want), steps_of(ops),
                  lambda w, e, g: common_hint(e, g)
                  or "compare your layers, in order, with the table above the exercise.")
    check_size(model, reference)
    randomize(model, seed=0)
    copy_weights([(a, b) for (a, _), (b, _) in zip(ops, want)])
    x = fixed_input((2, *input_shape), scale=0.5) + 0.5
    compare_numbers(model(x, training=False), reference(x, training=False),
                    tolerance_for(model))
