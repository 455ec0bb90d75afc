"""Notebook 3's checks: the identity block, the convolutional block and ResNet50.

The two blocks are run on a tiny input and compared with reference blocks
built here: main path, shortcut and what follows the merge, layer by layer,
then the numbers with the learner's weights copied into the reference.
ResNet50 is built (never trained) and compared by summary: parameter count,
layer counts, first stage, head and every residual block's output shape.

Example, in notebook 3 right after the identity block::

    import utils.checks
    utils.checks.identity_block(identity_block)
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
from keras import layers

from utils import keras_graph
from utils.checks.core import (
    CheckFailed,
    Exercise,
    Step,
    call_learner,
    chain_back,
    common_hint,
    compare_numbers,
    compare_steps,
    copy_weights,
    count_params,
    describe,
    fixed_input,
    randomize,
    require_names,
    run_check,
    steps_of,
)

# Notebook 3's exercises in order (utils.exercises puts each task above its gap, its check
# below).
TASKS = [
    Exercise(
        "def identity_block",
        "Write the main path: three times `Conv2D` then `BatchNormalization(axis=3)`"
        ", with kernels 1x1, `f`x`f` (`padding=\"same\"`) and 1x1 and the filters "
        "`F1, F2, F3`; a ReLU after the first two batch norms only. Then add the "
        "unchanged input with `layers.Add()` and apply a last ReLU. Name the "
        "layers `{name}_conv1`, `{name}_bn1`, `{name}_relu1`, ..., `{name}_bn3`, "
        "`{name}_add`, `{name}_out`: later cells look them up.",
        "utils.checks.identity_block(identity_block)"),
    Exercise(
        "def convolutional_block",
        "The same main path as the identity block, with stride `s` on the first "
        "1x1 convolution only. The shortcut is a 1x1 `Conv2D` with `F3` filters "
        "and stride `s` (`{name}_short_conv`) followed by "
        "`BatchNormalization(axis=3)` (`{name}_short_bn`). Add the two paths "
        "(`{name}_add`) and apply a ReLU (`{name}_out`).",
        "utils.checks.convolutional_block(convolutional_block)"),
    Exercise(
        "def resnet50",
        "Assemble the network of the table above: the input (`image`), stage 1 "
        "(`stage1_pad`, `stage1_conv`, `stage1_bn`, `stage1_relu`, "
        "`stage1_pool`), then for each row of `STAGES` one convolutional block "
        "named `stage<n>a` and identity blocks `stage<n>b`, `stage<n>c`, ...; "
        "finally `AveragePooling2D(2)` (`avg_pool`), `Flatten` (`flatten`) and "
        "`Dense(classes, activation=\"softmax\")` (`probabilities`).",
        "utils.checks.resnet50(resnet50)"),
]


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
    tail, merge = chain_back(output)
    if merge is None:
        raise CheckFailed(
            "the block never joins two paths: no Add layer found between the "
            "input and the output. Hint: add the shortcut to the main path with "
            "layers.Add()([main_path, shortcut]).")
    op, index = merge
    branches = []
    for tensor in keras_graph.call_inputs(op, index):
        ops, inner = chain_back(tensor)
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


def _block_hint(where: str, e: Step | None, g: Step | None) -> str:
    common = common_hint(e, g)
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
    out = call_learner(f"your {exercise}", fn, learner_in, **args,
                       name=f"check_{exercise}", shape_hint=SHAPE_HINTS[exercise])
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
    compare_steps("main path", steps_of(want.main), steps_of(got.main), _block_hint)
    compare_steps("shortcut", steps_of(want.shortcut), steps_of(got.shortcut), _block_hint)
    compare_steps("after the merge", steps_of(want.tail), steps_of(got.tail), _block_hint)
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
    if count_params(model) != count_params(ref_model):
        raise CheckFailed(f"the block has {count_params(model):,} parameters, "
                          f"expected {count_params(ref_model):,}. Hint: keep the "
                          "default use_bias and BatchNormalization settings.")
    randomize(model, seed=0)
    pairs = [(a, b) for part in ("main", "shortcut", "tail")
             for (a, _), (b, _) in zip(getattr(got, part), getattr(want, part))]
    copy_weights(pairs)
    x = fixed_input((2, *input_shape))
    compare_numbers(model(x, training=False), ref_model(x, training=False))
    prefix = f"check_{exercise}"
    suffixes = ["conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3",
                "add", "out"]
    if want.shortcut:
        suffixes += ["short_conv", "short_bn"]
    require_names(model, [f"{prefix}_{s}" for s in suffixes],
                  'name=f"{name}_conv1", ..., f"{name}_add", f"{name}_out"')


def identity_block(fn: Callable[..., Any]) -> None:
    """Check ``identity_block(x, f, filters, name)`` from notebook 3.

    Runs it on an input of shape (4, 4, 6) with f=3 and filters (2, 4, 6).
    Example: ``identity_block(identity_block)`` prints
    ``identity_block: all checks passed`` for a correct block.
    """
    run_check("identity_block", lambda: _check_block(
        "identity_block", fn, reference_identity_block,
        {"f": 3, "filters": (2, 4, 6)}, (4, 4, 6)))


def convolutional_block(fn: Callable[..., Any]) -> None:
    """Check ``convolutional_block(x, f, filters, s, name)`` from notebook 3.

    Runs it on an input of shape (4, 4, 6) with f=3, filters (2, 4, 8), s=2.
    Example: ``convolutional_block(convolutional_block)``.
    """
    run_check("convolutional_block", lambda: _check_block(
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
    head, _ = chain_back(model.outputs[0])
    return _ResNetSummary(
        params=count_params(model),
        kinds=tuple(sorted(Counter(s.kind for s in steps).items())),
        stem=tuple(steps[:5]),
        head=tuple(s for s in steps_of(head) if s.kind != "ReLU"),
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
        model = call_learner("your resnet50", fn, input_shape=input_shape, classes=classes)
        if not isinstance(model, keras.Model):
            raise CheckFailed(f"resnet50 returned {type(model).__name__}, expected a "
                              "keras.Model. Hint: return keras.Model(inputs, outputs).")
        got = _summarise_resnet(model)
        want = _reference_resnet_summary(tuple(input_shape), classes)
        if got.output_shape != want.output_shape:
            raise CheckFailed(f"output shape {got.output_shape}, expected "
                              f"{want.output_shape}. Hint: end with Dense(classes).")
        compare_steps("stage 1", list(want.stem), list(got.stem),
                      lambda w, e, g: common_hint(e, g) or
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
        compare_steps("head", list(want.head), list(got.head),
                      lambda w, e, g: common_hint(e, g) or
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
        require_names(model, ["stage1_pool", *last, "avg_pool", "flatten",
                              "probabilities"],
                      "stage1_pool, stage2a_out ... stage5c_out, avg_pool, flatten, "
                      "probabilities")

    run_check("resnet50", body)
