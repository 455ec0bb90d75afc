"""Notebook 3's checks: the identity block, the convolutional block and ResNet50.

The two blocks are run on a tiny input and compared with reference blocks
built here: main path, shortcut and what follows the merge, layer by layer,
then the numbers with the learner's weights copied into the reference.
ResNet50 is built (never trained) and compared by summary: parameter count,
layer counts, first stage, head and every residual block's output shape. The
batch-norm re-estimation runs on a small network with stale statistics and
compares every layer's moving statistics with those of the data.

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
import numpy as np
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
        "Write the identity block drawn above. Main path: three `Conv2D` layers with "
        "kernels 1x1, `f`x`f` (`padding=\"same\"`) and 1x1 and the filters `F1, F2, F3`, "
        "each followed by `BatchNormalization` over the channel axis, with a ReLU after the "
        "first two batch norms only; then add the unchanged input (`layers.Add`) and apply "
        "a ReLU. Keep the default biases and batch-norm settings. Name the last layer "
        "`{name}_out` (later cells find the blocks by it); other names are up to you. The "
        "check runs it on an input of shape (4, 4, 6) with `f=3`, `filters=(2, 4, 6)`: "
        "output shape (None, 4, 4, 6), 168 parameters, the layers in the order above, and "
        "the same numbers as a reference block holding your weights.",
        "utils.checks.identity_block(identity_block)"),
    Exercise(
        "def convolutional_block",
        "Write the convolutional block: the identity block's main path with stride `s` on "
        "its first 1x1 convolution, and a shortcut of a 1x1 `Conv2D` with `F3` filters and "
        "stride `s` followed by `BatchNormalization`; add the two paths and apply a ReLU. "
        "Keep the default biases and batch-norm settings; name the last layer `{name}_out`. "
        "The check runs it on an input of shape (4, 4, 6) "
        "with `f=3`, `filters=(2, 4, 8)`, `s=2`: output shape (None, 2, 2, 8), 274 "
        "parameters, both paths layer by layer, and the numbers of a reference block "
        "holding your weights.",
        "utils.checks.convolutional_block(convolutional_block)"),
    Exercise(
        "def resnet50",
        "Build the network of the table above from your two blocks: the input of shape "
        "`input_shape`, stage 1, then for each row of `STAGES` one convolutional block "
        "followed by its identity blocks (all middle kernels 3x3), then the head with "
        "`classes` softmax outputs. Later cells look up the max pooling of stage 1 as "
        "`stage1_pool` and the blocks by the names you give them: `stage2a`, `stage2b`, "
        "... (so their outputs are `stage2a_out`, ...). The check builds it for 64x64x3 "
        "photos and 6 classes (no training) and compares: output shape (None, 6), "
        "23,600,006 parameters, stage 1 and the head layer by layer, the output shape "
        "of each of the 16 blocks (the table's shapes) and the number of layers of "
        "each type.",
        "utils.checks.resnet50(resnet50)"),
    Exercise(
        "def reestimate_batchnorm",
        "Write `reestimate_batchnorm(model, images, batch_size)`. Afterwards every "
        "`BatchNormalization` layer's `moving_mean` and `moving_variance` must be the "
        "mean and variance of what reaches that layer when the network runs on `images` "
        "in training mode: exactly with one batch; with several batches, the average "
        "over batches cut from a shuffled order (`images` may be sorted by class). No "
        "weight may change (neither the convolutions' nor the layers' `gamma` and "
        "`beta`), and each layer's `momentum` must be back to its old value at the end. "
        "The check runs it on a small network whose statistics are stale, once with a "
        "single batch (statistics within 0.1 %) and once with three batches of images "
        "sorted into three groups.",
        "utils.checks.batchnorm_reestimation(reestimate_batchnorm)"),
]

# Typical mistakes each check names, and the variants it accepts (each tested in
# tests/test_checks_resnet.py):
# identity_block: ReLU after the Add forgotten; Concatenate instead of Add; batch norm
#   over the wrong axis; a ReLU before the Add; the Add before the last batch norm;
#   the main path added to itself; no padding="same" on the fxf convolution; a crash;
#   the last layer not named {name}_out. Variants: ReLU() or Activation("relu"),
#   layers.add / Add([shortcut, y]), any other layer names.
# convolutional_block: stride on the fxf convolution; shortcut without stride; shortcut
#   without batch norm; Concatenate; ReLU after the Add forgotten; shortcut batch norm
#   over the wrong axis; a different epsilon (only the numbers differ). Variants:
#   padding="same" on the 1x1 convolutions (shortcut included), ReLU() instead of
#   Activation("relu"), other names for the inner layers.
# resnet50: stride 1 in stage 3; an identity block missing; stride 1 in the stem;
#   blocks not named stage<n><letter>; the max pooling not named stage1_pool.
#   Variants: other names for stem and head layers, ReLU() instead of Activation.
# batchnorm_reestimation: fit instead of calls in training mode (weights change); calls
#   in inference mode (statistics unchanged); momentum left at 0.99 (statistics barely
#   move); momentum not restored; gamma and beta reset; momentum 0 for every batch (only
#   the last batch counts); batches cut from sorted images (variances too small).
#   Variants: the statistics computed directly and assigned, layer by layer; a tf.data
#   loop with its own shuffle; momentum set by hand with try/finally.

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
    # Later cells find each block by its last layer; the other names are the learner's.
    require_names(model, [f"check_{exercise}_out"], 'the last layer: name=f"{name}_out"')


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
        blocks = [f"stage{n + 2}{letter}_out" for n, (_, _, k) in enumerate(RESNET_STAGES)
                  for letter in "abcdef"[:k + 1]]
        require_names(model, ["stage1_pool", *blocks],
                      "stage1_pool for the max pooling; blocks named stage2a, stage2b, ... "
                      "stage5c, so that their last layers are stage2a_out, ...")

    run_check("resnet50", body)


# ---------------------------------------------------------------------------
# Re-estimating the batch-norm statistics (notebook 3)

# "Is my result normal?" (utils.checks.result_is_normal): the likely causes of a low value.
CAUSES = {
    "val_accuracy": "batch-norm statistics not re-estimated after training, or re-estimated "
                    "wrongly (run the reestimate_batchnorm check again), or a changed recipe "
                    "(epochs, learning rate, batch size)",
    "longer_val_accuracy": "statistics not re-estimated after the longer run, a changed "
                           "learning-rate schedule or augmentation, or a weak model from "
                           "section 8 to start from",
}

BN_SHAPE = (6, 6, 3)
BN_GROUPS, BN_GROUP_SIZE = 3, 32


def _bn_model() -> keras.Model:
    """A small network whose batch-norm statistics are stale (seeded random values)."""
    inputs = keras.Input(shape=BN_SHAPE)
    x = layers.Conv2D(4, 3, name="conv1")(inputs)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.ReLU(name="relu1")(x)
    x = layers.Conv2D(6, 3, name="conv2")(x)
    x = layers.BatchNormalization(momentum=0.9, name="bn2")(x)  # not every momentum is 0.99
    x = layers.ReLU(name="relu2")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    model = keras.Model(inputs, layers.Dense(3, name="dense")(x), name="bn_check")
    randomize(model, seed=0)
    return model


def _bn_images() -> np.ndarray:
    """Images sorted into groups of different brightness, as a data set sorted by class."""
    shift = np.repeat(np.arange(BN_GROUPS) * 2.0, BN_GROUP_SIZE)[:, None, None, None]
    return fixed_input((BN_GROUPS * BN_GROUP_SIZE, *BN_SHAPE), seed=2) + shift.astype("float32")


def _norms(model: keras.Model) -> list:
    return [op for op in model.layers if isinstance(op, layers.BatchNormalization)]


def _statistics(model: keras.Model) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(bn.moving_mean.numpy().astype("float64"),
             bn.moving_variance.numpy().astype("float64")) for bn in _norms(model)]


def _learned(model: keras.Model) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Every layer's learned weights (not the moving statistics), by layer name."""
    return {op.name: [(v.name, v.numpy().copy()) for v in op.weights
                      if not v.name.startswith("moving_")] for op in model.layers}


def _data_statistics(model: keras.Model, images: np.ndarray) -> list:
    """The statistics every batch-norm layer sees with ``images`` as one batch (a twin's)."""
    twin = keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    for bn in _norms(twin):
        bn.momentum = 0.0  # the one batch replaces the old values
    twin(images, training=True)
    return _statistics(twin)


def _check_untouched(model: keras.Model, learned: dict, momenta: list[float]) -> None:
    after = _learned(model)
    changed = [name for name, weights in learned.items()
               if any(not np.array_equal(w, a) for (_, w), (_, a) in zip(weights, after[name]))]
    norms = {bn.name for bn in _norms(model)}
    if [name for name in changed if name not in norms]:
        raise CheckFailed(
            f"the weights of layer '{[n for n in changed if n not in norms][0]}' changed: "
            "re-estimating the statistics must not train the network. Hint: do not call "
            "fit; call the model on the images with training=True, which updates the "
            "moving statistics and no weight.")
    if changed:
        raise CheckFailed(
            f"gamma or beta of '{changed[0]}' changed: they are learned weights. Hint: "
            "change only moving_mean and moving_variance; do not reset or rebuild the "
            "batch-norm layers.")
    for bn, momentum in zip(_norms(model), momenta):
        if bn.momentum != momentum:
            raise CheckFailed(
                f"'{bn.name}' has momentum {bn.momentum:g} after your function, {momentum:g} "
                "before. Hint: put back each layer's own momentum at the end, even when a "
                "call fails (a try/finally block).")


def _share_moved(old: list, got: list, want: list) -> float:
    """How far the statistics went from the old values towards the data's (1 = all the way)."""
    moved = needed = 0.0
    for (om, ov), (gm, gv), (wm, wv) in zip(old, got, want):
        for o, g, w, scale in ((om, gm, wm, np.sqrt(wv)), (ov, gv, wv, wv)):
            moved += float(np.sum((g - o) * (w - o) / scale ** 2))
            needed += float(np.sum(((w - o) / scale) ** 2))
    return moved / needed


def _compare_statistics(model: keras.Model, old: list, want: list, batches: int) -> None:
    got = _statistics(model)
    if all(np.array_equal(g, o) for pair_g, pair_o in zip(got, old)
           for g, o in zip(pair_g, pair_o)):
        raise CheckFailed(
            "the moving statistics did not change. Hint: a BatchNormalization layer updates "
            "them only when the model is called with training=True; predict() and "
            "training=False use them without changing them.")
    share = _share_moved(old, got, want)
    if share < 0.5:
        raise CheckFailed(
            f"the moving statistics went only {share:.0%} of the way from their old values "
            "to those of the images. Hint: with momentum 0.99 a batch changes them by 1 %; "
            "set each layer's momentum so that they become the mean over the batches "
            "(0 before the first batch, (n-1)/n before batch n).")
    errors = [(float(np.max(np.abs(gm - wm) / np.sqrt(wv))), float(np.min(gv / wv)),
               float(np.max(gv / wv))) for (gm, gv), (wm, wv) in zip(got, want)]
    names = [bn.name for bn in _norms(model)]
    where = f"with {batches} batch{'es' if batches > 1 else ''}"
    if batches > 1 and errors[0][0] > 1e-3:  # the first layer's mean: exact for equal batches
        raise CheckFailed(
            f"{where}, the moving mean of '{names[0]}' is off by {errors[0][0]:.2f} standard "
            "deviations of the data's. Hint: every batch must count; momentum 0 at every "
            "batch keeps only the last one: use (n-1)/n before batch n.")
    if batches > 1 and min(e[1] for e in errors) < 0.8:
        k = int(np.argmin([e[1] for e in errors]))
        raise CheckFailed(
            f"{where}, the moving variance of '{names[k]}' is only {errors[k][1]:.2f} times "
            "the data's: batches cut in order from sorted images each hold one group, and "
            "their variances miss the differences between groups. Hint: cut the batches "
            "from a shuffled order, e.g. np.random.default_rng(SEED).permutation(len(images)).")
    mean_tolerance, variance_tolerance = (1e-3, 1e-3) if batches == 1 else (0.25, 0.25)
    for name, (mean_error, low, high) in zip(names, errors):
        if (mean_error > mean_tolerance or low < 1 - variance_tolerance
                or high > 1 + variance_tolerance):
            raise CheckFailed(
                f"{where}, the statistics of '{name}' differ from the images': mean off by "
                f"{mean_error:.3g} standard deviations, variance {low:.3g} to {high:.3g} "
                "times the data's. Hint: run every batch through the whole model in "
                "training mode, with each layer's momentum making the result the mean over "
                "the batches.")


def _check_reestimation(fn: Callable[..., Any], batches: int) -> None:
    model, images = _bn_model(), _bn_images()
    old, learned = _statistics(model), _learned(model)
    momenta = [bn.momentum for bn in _norms(model)]
    want = _data_statistics(model, images)
    call_learner("your reestimate_batchnorm", fn, model, images,
                 batch_size=len(images) // batches)
    _check_untouched(model, learned, momenta)
    _compare_statistics(model, old, want, batches)


def batchnorm_reestimation(fn: Callable[..., Any]) -> None:
    """Check ``reestimate_batchnorm(model, images, batch_size)`` from notebook 3.

    Runs it on a small network (two convolutions, each with batch norm) whose moving
    statistics are stale, with 96 images sorted into three groups: once as one batch
    (statistics within 0.1 % of the data's), once as three batches (within sampling error;
    the first layer's mean exact). No learned weight may change and each momentum must be
    restored. Example: ``batchnorm_reestimation(reestimate_batchnorm)``.
    """
    def body() -> None:
        _check_reestimation(fn, batches=1)
        _check_reestimation(fn, batches=BN_GROUPS)

    run_check("batchnorm_reestimation", body)
