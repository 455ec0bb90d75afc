"""Checks for the exercise notebooks: run the learner's code, explain what is wrong.

Each public function checks one exercise. It runs the learner's code on small
fixed inputs and compares the result with a reference built here, at check
time, from the same description the notebook gives: output shape, parameter
count, layer types and settings in order, how the layers are wired, trainable
flags, and (where the model is small) the numbers it computes, with the
learner's weights copied into the reference. It prints one line: either
``"<exercise>: all checks passed"`` or what is wrong, where, and a hint. It
never lets a traceback through: errors raised by the learner's code are
reported in one line. Every check returns ``None``.

Example, in notebook 3 right after the identity block::

    import utils.checks
    utils.checks.identity_block(identity_block)
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
from keras import layers

PASSED = "all checks passed"
NOT_IMPLEMENTED = ("not implemented yet: replace `raise NotImplementedError()` "
                   "with your code, run that cell, then run this check again")


class CheckFailed(Exception):
    """A check found a mistake; the message says what and where."""


class _NotImplemented(Exception):
    """The learner's cell still holds the placeholder."""


# ---------------------------------------------------------------------------
# running the learner's code and reporting


def _run(exercise: str, body: Callable[[], None]) -> None:
    """Run one check body and print a single line with the verdict.

    The models built during the check (the learner's and the reference) use the
    float32 policy, whatever the notebook set (notebooks 1-3 may compute in
    mixed_bfloat16); the notebook's policy is restored afterwards.
    """
    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        body()
    except _NotImplemented:
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


def _call(what: str, fn: Callable[..., Any], *args: Any,
          shape_hint: str = "", **kwargs: Any) -> Any:
    """Call the learner's function; turn its exceptions into one-line failures.

    ``shape_hint`` is added when the error is a shape mismatch (for example two
    tensors of different shapes reaching an ``Add``).
    """
    if fn is None:
        raise _NotImplemented
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise _NotImplemented from None
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
        text = (f"Conv2D({c['filters']} filters, {k[0]}x{k[1]}, stride {s[0]}, "
                f"padding {c['padding']}" + ("" if act == "linear" else f", {act}")
                + ")")
        return Step(kind, (c["filters"], k, s, c["padding"], act), text)
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


def _history(tensor: Any) -> tuple[Any, int]:
    op, node_index, _ = tensor._keras_history
    return op, node_index


def _inputs(op: Any, node_index: int) -> list:
    return list(op._inbound_nodes[node_index].arguments.keras_tensors)


def _chain_back(tensor: Any) -> tuple[list[tuple[Any, int]], Any]:
    """Operations from ``tensor`` back to the model input or to a merge.

    Returns the single-input operations in forward order and the merge
    operation (an op with several inputs) where the walk stopped, or ``None``
    when it reached the input.
    """
    ops: list[tuple[Any, int]] = []
    while True:
        op, index = _history(tensor)
        if type(op).__name__ == "InputLayer":
            return ops[::-1], None
        inputs = _inputs(op, index)
        if len(inputs) != 1:
            return ops[::-1], (op, index)
        ops.append((op, index))
        tensor = inputs[0]


def _compare(where: str, expected: list[Step], got: list[Step],
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


def _common_hint(e: Step | None, g: Step | None) -> str:
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


def _randomize(model: keras.Model, seed: int = 0) -> None:
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


def _copy_weights(pairs: list[tuple[Any, Any]]) -> None:
    """Copy each learner layer's weights into its reference twin."""
    for learner_op, reference_op in pairs:
        if getattr(reference_op, "weights", None):
            reference_op.set_weights(learner_op.get_weights())


def _tolerance(model: Any) -> float:
    """1e-4 for float32 models; 5e-2 when some layer computes in 16 bits."""
    dtypes = {str(getattr(op, "compute_dtype", "float32"))
              for op in getattr(model, "operations", None) or model.layers}
    return 1e-4 if dtypes <= {"float32", "None"} else 5e-2


def _compare_numbers(got: Any, expected: Any, tolerance: float = 1e-4) -> None:
    got = np.asarray(got, dtype="float64")
    expected = np.asarray(expected, dtype="float64")
    gap = float(np.max(np.abs(got - expected)))
    if not gap <= tolerance * max(1.0, float(np.max(np.abs(expected)))):
        raise CheckFailed(
            f"the layers look right but the output differs from the reference by "
            f"up to {gap:.3g} on the fixed test input. Hint: check which tensor "
            "each layer is applied to.")


def _require_names(model: keras.Model, names: list[str], pattern: str) -> None:
    """Fail when layers that later notebook cells look up by name are missing."""
    present = {op.name for op in getattr(model, "operations", None) or model.layers}
    missing = [n for n in names if n not in present]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckFailed(
            f"the layers are right, but later cells look layers up by name and "
            f"no layer is named '{missing[0]}'{more}. Hint: name the layers as the "
            f"instructions say ({pattern}).")


def _count_params(model: keras.Model) -> int:
    return int(model.count_params())


def _count_trainable(model: Any) -> int:
    return int(sum(int(np.prod(v.shape)) for v in model.trainable_weights))


def _fixed_input(shape: tuple[int, ...], seed: int = 1, scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype("float32")


# ---------------------------------------------------------------------------
# residual blocks (notebook 3)


def reference_identity_block(x: Any, f: int, filters: tuple[int, int, int],
                             name: str) -> Any:
    """The identity block as notebook 3 describes it (the checks' reference)."""
    f1, f2, f3 = filters
    y = x
    for i, (n, k) in enumerate([(f1, 1), (f2, f), (f3, 1)], start=1):
        y = layers.Conv2D(n, k, padding="same" if k > 1 else "valid",
                          name=f"{name}_ref_c{i}")(y)
        y = layers.BatchNormalization(axis=3, name=f"{name}_ref_b{i}")(y)
        if i < 3:
            y = layers.ReLU(name=f"{name}_ref_r{i}")(y)
    y = layers.Add(name=f"{name}_ref_add")([y, x])
    return layers.ReLU(name=f"{name}_ref_out")(y)


def reference_convolutional_block(x: Any, f: int, filters: tuple[int, int, int],
                                  s: int, name: str) -> Any:
    """The convolutional block as notebook 3 describes it (the checks' reference)."""
    f1, f2, f3 = filters
    y = x
    for i, (n, k, stride) in enumerate([(f1, 1, s), (f2, f, 1), (f3, 1, 1)], start=1):
        y = layers.Conv2D(n, k, strides=stride, padding="same" if k > 1 else "valid",
                          name=f"{name}_ref_c{i}")(y)
        y = layers.BatchNormalization(axis=3, name=f"{name}_ref_b{i}")(y)
        if i < 3:
            y = layers.ReLU(name=f"{name}_ref_r{i}")(y)
    short = layers.Conv2D(f3, 1, strides=s, name=f"{name}_ref_sc")(x)
    short = layers.BatchNormalization(axis=3, name=f"{name}_ref_sb")(short)
    y = layers.Add(name=f"{name}_ref_add")([y, short])
    return layers.ReLU(name=f"{name}_ref_out")(y)


@dataclass
class _Block:
    """A residual block split into its parts: main path, shortcut, merge and tail."""

    main: list
    shortcut: list
    merge: Any
    tail: list


def _split_block(output: Any) -> _Block:
    tail, merge = _chain_back(output)
    if merge is None:
        raise CheckFailed(
            "the block never joins two paths: no Add layer found between the "
            "input and the output. Hint: add the shortcut to the main path with "
            "layers.Add()([main_path, shortcut]).")
    op, index = merge
    branches = []
    for tensor in _inputs(op, index):
        ops, inner = _chain_back(tensor)
        if inner is not None:
            raise CheckFailed(
                f"a path into the {type(op).__name__} layer contains another "
                f"{type(inner[0]).__name__} layer. Hint: each block has one main "
                "path and one shortcut, joined once.")
        branches.append(ops)
    if len(branches) != 2:
        raise CheckFailed(f"the {type(op).__name__} layer joins {len(branches)} "
                          "tensors; expected 2 (main path and shortcut).")
    branches.sort(key=len, reverse=True)
    return _Block(branches[0], branches[1], merge, tail)


def _steps(ops: list) -> list[Step]:
    return [describe(op) for op, _ in ops]


def _block_hint(where: str, e: Step | None, g: Step | None) -> str:
    common = _common_hint(e, g)
    if common:
        return common
    if e and g and e.kind == g.kind == "Conv2D":
        if e.settings[2] != g.settings[2]:
            return ("the stride s belongs on the FIRST 1x1 convolution of the main "
                    "path and on the shortcut's 1x1 convolution; the fxf "
                    "convolution in the middle keeps stride 1.")
        return ("the three convolutions use F1, F2, F3 filters with kernels 1x1, "
                "fxf, 1x1.")
    if where == "shortcut":
        if e and e.kind == "BatchNormalization" and g is None:
            return ("the shortcut needs its own BatchNormalization(axis=3) after "
                    "its 1x1 convolution.")
        if e and e.kind == "Conv2D" and g is None:
            return ("in the convolutional block the shortcut is a 1x1 Conv2D with "
                    "stride s, then batch norm, so that its shape matches the main "
                    "path.")
        if e is None:
            return "the identity block's shortcut is the input x itself, unchanged."
    if where == "main path":
        if e is None and g is not None and g.kind == "ReLU":
            return ("the main path ends with the third batch norm, without ReLU; "
                    "the ReLU comes after the Add.")
        if e is None:
            return "the main path ends with the third batch norm."
        if g is None:
            return "the main path is conv, BN, ReLU, conv, BN, ReLU, conv, BN."
    if where == "after the merge":
        if e and e.kind == "ReLU" and g is None:
            return ("apply a ReLU after the Add: the block computes "
                    "ReLU(main path + shortcut).")
        return ("add the shortcut right after the third batch norm, then apply "
                "one ReLU and nothing else.")
    return "compare your layers with the description above the exercise."


SHAPE_HINTS = {
    "identity_block": "the main path must keep the input's shape: no stride, "
                      "padding='same' on the fxf convolution, F3 equal to the "
                      "input's channels.",
    "convolutional_block": "the shortcut needs a 1x1 Conv2D with F3 filters and "
                           "the same stride s as the first convolution, so both "
                           "paths reach the Add with the same shape; the fxf "
                           "convolution uses padding='same'.",
}


def _check_block(exercise: str, fn: Callable[..., Any], reference: Callable[..., Any],
                 args: dict[str, Any], input_shape: tuple[int, ...]) -> None:
    learner_in = keras.Input(shape=input_shape)
    out = _call(f"your {exercise}", fn, learner_in, **args, name=f"check_{exercise}",
                shape_hint=SHAPE_HINTS[exercise])
    if not isinstance(out, keras.KerasTensor):
        raise CheckFailed(f"your {exercise} returned {type(out).__name__}; expected "
                          "the output tensor of the block. Hint: end with `return` "
                          "and the output of the last layer.")
    reference_in = keras.Input(shape=input_shape)
    ref_out = reference(reference_in, **args, name=f"ref_{exercise}")
    got, want = _split_block(out), _split_block(ref_out)
    merge_got, merge_want = describe(got.merge[0]), describe(want.merge[0])
    if merge_got.kind != merge_want.kind:
        raise CheckFailed(
            f"the two paths are joined with {merge_got}, expected Add. Hint: a "
            "residual block sums the main path and the shortcut with layers.Add(); "
            "Concatenate would stack their channels instead.")
    _compare("main path", _steps(want.main), _steps(got.main), _block_hint)
    _compare("shortcut", _steps(want.shortcut), _steps(got.shortcut), _block_hint)
    _compare("after the merge", _steps(want.tail), _steps(got.tail), _block_hint)
    if tuple(out.shape) != tuple(ref_out.shape):
        hint = ""
        if out.shape[-1] != ref_out.shape[-1]:
            hint = " Hint: the last convolution needs F3 filters."
        elif out.shape[1] != ref_out.shape[1]:
            hint = " Hint: check the strides (s on the first 1x1 convolution)."
        raise CheckFailed(f"output shape for an input of shape {(None, *input_shape)} "
                          f"should be {tuple(ref_out.shape)}, got {tuple(out.shape)}."
                          + hint)
    model, ref_model = keras.Model(learner_in, out), keras.Model(reference_in, ref_out)
    if _count_params(model) != _count_params(ref_model):
        raise CheckFailed(f"the block has {_count_params(model):,} parameters, "
                          f"expected {_count_params(ref_model):,}. Hint: keep the "
                          "default use_bias and BatchNormalization settings.")
    _randomize(model, seed=0)
    pairs = [(a, b) for part in ("main", "shortcut", "tail")
             for (a, _), (b, _) in zip(getattr(got, part), getattr(want, part))]
    _copy_weights(pairs)
    x = _fixed_input((2, *input_shape))
    _compare_numbers(model(x, training=False), ref_model(x, training=False))
    prefix = f"check_{exercise}"
    suffixes = ["conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3",
                "add", "out"]
    if want.shortcut:
        suffixes += ["short_conv", "short_bn"]
    _require_names(model, [f"{prefix}_{s}" for s in suffixes],
                   'name=f"{name}_conv1", ..., f"{name}_add", f"{name}_out"')


def identity_block(fn: Callable[..., Any]) -> None:
    """Check ``identity_block(x, f, filters, name)`` from notebook 3.

    Runs it on an input of shape (4, 4, 6) with f=3 and filters (2, 4, 6).
    Example: ``identity_block(identity_block)`` prints
    ``identity_block: all checks passed`` for a correct block.
    """
    _run("identity_block", lambda: _check_block(
        "identity_block", fn, reference_identity_block,
        {"f": 3, "filters": (2, 4, 6)}, (4, 4, 6)))


def convolutional_block(fn: Callable[..., Any]) -> None:
    """Check ``convolutional_block(x, f, filters, s, name)`` from notebook 3.

    Runs it on an input of shape (4, 4, 6) with f=3, filters (2, 4, 8), s=2.
    Example: ``convolutional_block(convolutional_block)``.
    """
    _run("convolutional_block", lambda: _check_block(
        "convolutional_block", fn, reference_convolutional_block,
        {"f": 3, "filters": (2, 4, 8), "s": 2}, (4, 4, 6)))


# ---------------------------------------------------------------------------
# ResNet50 (notebook 3)


RESNET_STAGES = [(64, 64, 256), 1, 2], [(128, 128, 512), 2, 3], \
    [(256, 256, 1024), 2, 5], [(512, 512, 2048), 2, 2]


def reference_resnet50(input_shape: tuple[int, int, int] = (64, 64, 3),
                       classes: int = 6) -> keras.Model:
    """ResNet50 as notebook 3 describes it, from the reference blocks."""
    inputs = keras.Input(shape=input_shape)
    x = layers.ZeroPadding2D(3)(inputs)
    x = layers.Conv2D(64, 7, strides=2)(x)
    x = layers.BatchNormalization(axis=3)(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(3, strides=2)(x)
    for stage, (filters, stride, n_identity) in enumerate(RESNET_STAGES, start=2):
        x = reference_convolutional_block(x, 3, filters, stride, f"s{stage}a")
        for i in range(n_identity):
            x = reference_identity_block(x, 3, filters, f"s{stage}{'bcdef'[i]}")
    x = layers.AveragePooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@dataclass(frozen=True)
class _ResNetSummary:
    params: int
    kinds: tuple
    stem: tuple
    head: tuple
    block_shapes: tuple
    output_shape: tuple


def _summarise_resnet(model: keras.Model) -> _ResNetSummary:
    ops = [op for op in model.operations if type(op).__name__ != "InputLayer"]
    steps = [describe(op) for op in ops]
    merges = [op for op in ops if type(op).__name__ in ("Add", "Concatenate")]
    head, _ = _chain_back(model.outputs[0])
    return _ResNetSummary(
        params=_count_params(model),
        kinds=tuple(sorted(Counter(s.kind for s in steps).items())),
        stem=tuple(steps[:5]),
        head=tuple(s for s in _steps(head) if s.kind != "ReLU"),
        block_shapes=tuple(tuple(op.output.shape) for op in merges),
        output_shape=tuple(model.output_shape))


@functools.lru_cache(maxsize=4)
def _reference_resnet_summary(input_shape: tuple, classes: int) -> _ResNetSummary:
    return _summarise_resnet(reference_resnet50(input_shape, classes))


def resnet50(fn: Callable[..., Any], input_shape: tuple[int, int, int] = (64, 64, 3),
             classes: int = 6) -> None:
    """Check ``resnet50(input_shape, classes)`` from notebook 3.

    Builds the learner's model (no training) and compares it with the reference
    built here: parameter count (23,600,006 for 64x64x3 and 6 classes), the
    number of layers of each type, the first stage, the head, and the output
    shape of every residual block. Example: ``resnet50(resnet50)``.
    """
    def body() -> None:
        model = _call("your resnet50", fn, input_shape=input_shape, classes=classes)
        if not isinstance(model, keras.Model):
            raise CheckFailed(f"resnet50 returned {type(model).__name__}, expected a "
                              "keras.Model. Hint: return keras.Model(inputs, outputs).")
        got = _summarise_resnet(model)
        want = _reference_resnet_summary(tuple(input_shape), classes)
        if got.output_shape != want.output_shape:
            raise CheckFailed(f"output shape {got.output_shape}, expected "
                              f"{want.output_shape}. Hint: end with Dense(classes).")
        _compare("stage 1", list(want.stem), list(got.stem),
                 lambda w, e, g: _common_hint(e, g) or
                 "stage 1 is ZeroPadding2D(3), Conv2D(64, 7x7, stride 2), batch "
                 "norm, ReLU, MaxPooling2D(3x3, stride 2).")
        if len(got.block_shapes) != len(want.block_shapes):
            raise CheckFailed(
                f"the model has {len(got.block_shapes)} residual blocks, expected "
                f"{len(want.block_shapes)}. Hint: stages 2-5 have 1 convolutional "
                "block plus 2, 3, 5 and 2 identity blocks.")
        for i, (g, w) in enumerate(zip(got.block_shapes, want.block_shapes), start=1):
            if g != w:
                raise CheckFailed(
                    f"residual block {i} outputs {g}, expected {w}. Hint: check that "
                    "stage's filters and the stride of its convolutional block "
                    "(1 in stage 2, 2 in stages 3-5).")
        _compare("head", list(want.head), list(got.head),
                 lambda w, e, g: _common_hint(e, g) or
                 "the head is AveragePooling2D(2x2), Flatten, Dense(classes, softmax).")
        if got.kinds != want.kinds:
            diff = {k: (dict(got.kinds).get(k, 0), n) for k, n in want.kinds
                    if dict(got.kinds).get(k, 0) != n}
            diff.update({k: (n, 0) for k, n in got.kinds if k not in dict(want.kinds)})
            text = ", ".join(f"{k}: {g} instead of {w}" for k, (g, w) in diff.items())
            raise CheckFailed(f"layer counts differ: {text}.")
        if got.params != want.params:
            raise CheckFailed(f"{got.params:,} parameters, expected {want.params:,}.")
        last = [f"stage{n + 2}{'bcdef'[k - 1]}_out"
                for n, (_, _, k) in enumerate(RESNET_STAGES)]
        _require_names(model, ["stage1_pool", *last, "avg_pool", "flatten",
                               "probabilities"],
                       "stage1_pool, stage2a_out ... stage5c_out, avg_pool, flatten, "
                       "probabilities")

    _run("resnet50", body)


# ---------------------------------------------------------------------------
# notebooks 1 and 2: a Sequential and a Functional model


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


def _check_plain_model(exercise: str, model: Any, reference: keras.Model,
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
    ops, merge = _chain_back(model.outputs[0])
    if merge is not None:
        raise CheckFailed(f"the model contains a {type(merge[0]).__name__} layer; "
                          "this model is one straight chain of layers.")
    want, _ = _chain_back(reference.outputs[0])
    _compare("your model", _steps(want), _steps(ops),
             lambda w, e, g: _common_hint(e, g)
             or "compare your layers, in order, with the table above the exercise.")
    if _count_params(model) != _count_params(reference):
        raise CheckFailed(f"{_count_params(model):,} parameters, expected "
                          f"{_count_params(reference):,}.")
    if tuple(model.output_shape) != tuple(reference.output_shape):
        raise CheckFailed(f"output shape {model.output_shape}, expected "
                          f"{reference.output_shape}.")
    _randomize(model, seed=0)
    _copy_weights([(a, b) for (a, _), (b, _) in zip(ops, want)])
    x = _fixed_input((2, *input_shape), scale=0.5) + 0.5
    _compare_numbers(model(x, training=False), reference(x, training=False),
                     _tolerance(model))


def sequential_model(fn_or_model: Callable[..., Any] | keras.Model) -> None:
    """Check notebook 1's Sequential model (``smile_model``, or the built model).

    Example: ``sequential_model(smile_model)`` prints
    ``sequential_model: all checks passed`` for the course's model.
    """
    def body() -> None:
        model = fn_or_model
        if not isinstance(model, keras.Model):
            model = _call("your smile_model", fn_or_model)
        if not isinstance(model, keras.Sequential):
            raise CheckFailed(f"expected a keras.Sequential model, got "
                              f"{type(model).__name__}. Hint: this exercise uses "
                              "keras.Sequential([...]).")
        _check_plain_model("sequential_model", model, reference_smile_model(),
                           (64, 64, 3))
        _require_names(model, ["conv", "relu", "max_pool"],
                       'name="conv", name="relu", name="max_pool"')

    _run("sequential_model", body)


def functional_model(fn_or_model: Callable[..., Any] | keras.Model,
                     classes: int = 6) -> None:
    """Check notebook 2's Functional model (``build_course_model``, or the model).

    Example: ``functional_model(build_course_model)``.
    """
    def body() -> None:
        model = fn_or_model
        if not isinstance(model, keras.Model):
            model = _call("your build_course_model", fn_or_model)
        if isinstance(model, keras.Sequential):
            raise CheckFailed("this is a keras.Sequential model. Hint: use the "
                              "Functional API: keras.Input, call each layer on the "
                              "previous tensor, then keras.Model(inputs, outputs).")
        _check_plain_model("functional_model", model,
                           reference_signs_model((64, 64, 3), classes), (64, 64, 3))

    _run("functional_model", body)


def one_hot(labels: Any, onehot: Any, num_classes: int) -> None:
    """Check one-hot labels (notebook 2) against ``np.eye(num_classes)[labels]``.

    Example: ``one_hot(y_train, y_train_onehot, 6)``.
    """
    def body() -> None:
        if onehot is None:
            raise _NotImplemented
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

    _run("one_hot", body)


# ---------------------------------------------------------------------------
# notebook 4: augmentation, frozen base with a new head, fine-tuning


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
            raise _NotImplemented
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

        _compare("augmentation", [describe(op) for op in reference_augmentation().layers],
                 [describe(op) for op in model.layers], hint)
        x = np.random.default_rng(2).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
        out = _call("your augmentation model", model, x, training=False)
        if tuple(out.shape) != x.shape or not np.allclose(out, x, atol=1e-3):
            raise CheckFailed("at inference time (training=False) the model should "
                              "return the images unchanged. Hint: only random "
                              "augmentation layers belong here.")

    _run("augmentation", body)


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
    for node in base._inbound_nodes:
        producers = [t._keras_history[0] for t in node.arguments.keras_tensors]
        if producers and all(id(p) in ops for p in producers):
            values.append(node.arguments.kwargs.get("training"))
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
            raise _NotImplemented
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
        ops, merge = _chain_back(model.outputs[0])
        want, _ = _chain_back(reference.outputs[0])

        def hint(where: str, e: Step | None, g: Step | None) -> str:
            if e and g and e.kind == g.kind == "Dense" and g.settings[1] == "sigmoid":
                return ("the loss used here is BinaryCrossentropy(from_logits=True), "
                        "which applies the sigmoid itself: output a plain logit, "
                        "Dense(1) without activation.")
            return _common_hint(e, g) or (
                "the order is augment, mobilenet_v2.preprocess_input, base, "
                "GlobalAveragePooling2D, Dropout(0.2), Dense(1).")

        _compare("model", _steps(want), _steps(ops), hint)
        from_logits = _loss_from_logits(model)
        if from_logits is False:
            raise CheckFailed("the model outputs a logit but its loss expects "
                              "probabilities. Hint: "
                              "keras.losses.BinaryCrossentropy(from_logits=True).")
        if _count_trainable(model) != _count_trainable(reference):
            raise CheckFailed(f"{_count_trainable(model):,} trainable parameters, "
                              f"expected {_count_trainable(reference):,} (the head "
                              "only).")
        if _count_params(model) != _count_params(reference):
            raise CheckFailed(f"{_count_params(model):,} parameters, expected "
                              f"{_count_params(reference):,}.")
        _copy_weights([(ops[-1][0], want[-1][0])])
        x = np.random.default_rng(3).uniform(
            0, 255, (2, *base.input_shape[1:])).astype("float32")
        _compare_numbers(model(x, training=False), reference(x, training=False),
                         _tolerance(model))

    _run("frozen_base_model", body)


def fine_tune_freeze(model: Any, base: Any, fine_tune_at: int) -> None:
    """Check notebook 4's fine-tuning setup: base layers before ``fine_tune_at`` frozen.

    Example: ``fine_tune_freeze(model, base, FINE_TUNE_AT)``.
    """
    def body() -> None:
        if base is None or model is None:
            raise _NotImplemented
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
        if _count_trainable(base) != expected:
            raise CheckFailed(f"the base has {_count_trainable(base):,} trainable "
                              f"parameters, expected {expected:,}.")
        head = [layer for layer in model.layers if layer is not base]
        if not any(layer.trainable_weights for layer in head):
            raise CheckFailed("the head has no trainable weights left. Hint: freeze "
                              "layers of the base only.")
        if _base_call_training(model, base) != [False]:
            raise CheckFailed("the base must still be called with training=False.")

    _run("fine_tune_freeze", body)
