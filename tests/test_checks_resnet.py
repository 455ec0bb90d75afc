"""utils.checks.resnet: notebook 3's checks pass on the solution code and name each mistake.

Everything runs on tiny inputs; ResNet50 is built, never trained. Each gap's typical
mistakes and accepted variants are listed in utils/checks/resnet.py, beside ``TASKS``.
"""

from __future__ import annotations

import nbformat
import pytest

from tests.checks_support import (
    IDENTITY,
    NB3,
    NOTEBOOKS,
    assert_fails,
    edit,
    identity_fn,
    run_code,
    solution_cell,
    verdict,
)
from utils import checks
from utils.exercises import clear_solutions

# --- notebook 3: identity block --------------------------------------------

CONV = solution_cell(NB3, "def convolutional_block")
RESNET = solution_cell(NB3, "def resnet50")
REESTIMATE = solution_cell(NB3, "def reestimate_batchnorm")
STAGES = next(c.source for c in nbformat.read(NOTEBOOKS / NB3, as_version=4).cells
              if c.cell_type == "code" and c.source.startswith("STAGES = ["))
ID_OUT = 'return layers.Activation("relu", name=f"{name}_out")(y)'
ID_ADD = 'y = layers.Add(name=f"{name}_add")([y, shortcut])'


def test_identity_block_passes_on_solution(capsys):
    assert verdict(capsys, checks.identity_block, identity_fn()) == \
        "identity_block: all checks passed"


@pytest.mark.parametrize("changes, phrases", [
    ([(ID_OUT, "return y")], ["after the merge", "apply a ReLU after the Add"]),
    ([(ID_ADD, 'y = layers.Concatenate(name=f"{name}_add")([y, shortcut])')],
     ["joined with Concatenate", "layers.Add()"]),
    ([("axis=3, name=f\"{name}_bn2\"", "axis=1, name=f\"{name}_bn2\"")],
     ["main path, layer 5", "BatchNormalization(axis 1)", "axis=3"]),
    ([(ID_ADD, "y = layers.ReLU()(y)\n    " + ID_ADD)],
     ["main path, layer 9", "the ReLU comes after the Add"]),
    ([('    y = layers.BatchNormalization(axis=3, name=f"{name}_bn3")(y)\n', ""),
      (ID_ADD, ID_ADD + '\n    y = layers.BatchNormalization(axis=3, name="bn")(y)')],
     ["main path, layer 8", "expected BatchNormalization(axis 3), got nothing"]),
    ([(ID_ADD, 'y = layers.Add(name=f"{name}_add")([y, y])')],
     ["shortcut, layer 1", "the input x itself"]),
    ([('padding="same", name=f"{name}_conv2"', 'name=f"{name}_conv2"')],
     ["raised ValueError", "incompatible shapes", "padding='same' on the fxf"]),
    ([("f1, f2, f3 = filters", "f1, f2 = filters")],
     ["your identity_block raised ValueError"]),
    ([('name=f"{name}_out"', 'name=f"{name}_relu3"')],
     ["look layers up by name", "no layer is named 'check_identity_block_out'"]),
], ids=["relu-after-add-forgotten", "concatenate", "bn-axis", "relu-before-add",
        "add-before-last-bn", "add-wrong-tensor", "no-same-padding", "crash",
        "last-layer-name"])
def test_identity_block_mistakes(capsys, changes, phrases):
    assert_fails(verdict(capsys, checks.identity_block, identity_fn(*changes)),
                 "identity_block: check failed", *phrases)


@pytest.mark.parametrize("changes", [
    [('layers.Activation("relu", name=f"{name}_relu1")', "layers.ReLU()"),
     ('layers.Activation("relu", name=f"{name}_out")', 'layers.ReLU(name=f"{name}_out")')],
    [('name=f"{name}_conv1"', 'name=f"{name}_reduce"'), ('name=f"{name}_bn2"', ""),
     ('name=f"{name}_add"', "")],
    [(ID_ADD, "y = layers.add([shortcut, y])")],
], ids=["relu-layer", "other-inner-names", "add-function-swapped"])
def test_identity_block_variants(capsys, changes):
    assert verdict(capsys, checks.identity_block, identity_fn(*changes)) == \
        "identity_block: all checks passed"


def test_identity_block_blank(capsys):
    blank = run_code(clear_solutions(IDENTITY))["identity_block"]
    assert verdict(capsys, checks.identity_block, blank) == \
        f"identity_block: {checks.NOT_IMPLEMENTED}"


# --- notebook 3: convolutional block ---------------------------------------

FIRST_CONV = 'layers.Conv2D(f1, 1, strides=s, name=f"{name}_conv1")'
MIDDLE_CONV = 'layers.Conv2D(f2, f, padding="same", name=f"{name}_conv2")'
SHORT_CONV = 'layers.Conv2D(f3, 1, strides=s, name=f"{name}_short_conv")'
SHORT_BN = ('    shortcut = layers.BatchNormalization(axis=3, '
            'name=f"{name}_short_bn")(shortcut)\n')


def conv_fn(*changes):
    return run_code(edit(CONV, *changes))["convolutional_block"]


def test_convolutional_block_passes_on_solution(capsys):
    assert verdict(capsys, checks.convolutional_block, conv_fn()) == \
        "convolutional_block: all checks passed"


@pytest.mark.parametrize("changes, phrases", [
    ([(FIRST_CONV, 'layers.Conv2D(f1, 1, name=f"{name}_conv1")'),
      (MIDDLE_CONV, 'layers.Conv2D(f2, f, strides=s, padding="same", '
                    'name=f"{name}_conv2")')],
     ["main path, layer 1", "stride 2", "FIRST 1x1 convolution"]),
    ([(SHORT_CONV, 'layers.Conv2D(f3, 1, name=f"{name}_short_conv")')],
     ["raised ValueError", "incompatible shapes", "the same stride s"]),
    ([(SHORT_BN, "")],
     ["shortcut, layer 2", "needs its own BatchNormalization"]),
    ([(ID_ADD, 'y = layers.Concatenate(name=f"{name}_add")([y, shortcut])')],
     ["joined with Concatenate"]),
    ([(ID_OUT, "return y")], ["apply a ReLU after the Add"]),
    ([("name=f\"{name}_short_bn\"", "axis=1, name=f\"{name}_short_bn\""),
      ("BatchNormalization(axis=3, axis=1", "BatchNormalization(axis=1")],
     ["shortcut, layer 2", "axis=3"]),
], ids=["stride-on-3x3", "shortcut-without-stride", "shortcut-without-bn",
        "concatenate", "relu-after-add-forgotten", "shortcut-bn-axis"])
def test_convolutional_block_mistakes(capsys, changes, phrases):
    assert_fails(verdict(capsys, checks.convolutional_block, conv_fn(*changes)),
                 "convolutional_block: check failed", *phrases)


@pytest.mark.parametrize("changes", [
    # a 1x1 kernel needs no padding: "same" computes exactly what "valid" does (issue 31)
    [(SHORT_CONV, 'layers.Conv2D(f3, 1, strides=s, padding="same", name="shortcut")')],
    [(FIRST_CONV, 'layers.Conv2D(f1, 1, strides=s, padding="same")'),
     ('layers.Conv2D(f3, 1, name=f"{name}_conv3")', 'layers.Conv2D(f3, 1, padding="same")')],
    [('layers.Activation("relu", name=f"{name}_relu2")', "layers.ReLU()"),
     ('layers.Activation("relu", name=f"{name}_out")', 'layers.ReLU(name=f"{name}_out")')],
    [('name=f"{name}_short_bn"', 'name="projection_bn"'), ('name=f"{name}_add"', "")],
], ids=["shortcut-padding-same", "main-path-1x1-padding-same", "relu-layer",
        "other-inner-names"])
def test_convolutional_block_variants(capsys, changes):
    assert verdict(capsys, checks.convolutional_block, conv_fn(*changes)) == \
        "convolutional_block: all checks passed"


def test_convolutional_block_blank(capsys):
    blank = run_code(clear_solutions(CONV))["convolutional_block"]
    assert verdict(capsys, checks.convolutional_block, blank) == \
        f"convolutional_block: {checks.NOT_IMPLEMENTED}"


def test_numeric_check_catches_what_the_layer_list_cannot(capsys, monkeypatch):
    # Same layers, same wiring, but a different epsilon: only the numbers differ.
    changed = conv_fn(('name=f"{name}_bn2"', 'epsilon=0.5, name=f"{name}_bn2"'))
    assert_fails(verdict(capsys, checks.convolutional_block, changed),
                 "output differs from the reference")


# --- notebook 3: ResNet50 (built, never trained) ----------------------------

def resnet_fn(*changes, stages=()):
    blocks = run_code(IDENTITY + "\n" + CONV + "\n" + edit(STAGES, *stages))
    return run_code(edit(RESNET, *changes), **blocks)["resnet50"]


def test_resnet50_passes_on_solution(capsys):
    assert verdict(capsys, checks.resnet50, resnet_fn()) == "resnet50: all checks passed"


@pytest.mark.parametrize("changes, stages, phrases", [
    ([], [("(3, (128, 128, 512), 2, 3)", "(3, (128, 128, 512), 1, 3)")],
     ["residual block 4 outputs", "stride of its convolutional block"]),
    ([], [("(4, (256, 256, 1024), 2, 5)", "(4, (256, 256, 1024), 2, 4)")],
     ["15 residual blocks, expected 16"]),
    ([('layers.Conv2D(64, 7, strides=2, name="stage1_conv")',
       'layers.Conv2D(64, 7, name="stage1_conv")')], [],
     ["stage 1, layer 2", "stride 1"]),
    ([('name=f"stage{stage}{letter}"', 'name=f"block{stage}{letter}"')], [],
     ["look layers up by name", "'stage2b_out'"]),
    ([('name="stage1_pool"', 'name="pool"')], [], ["look layers up by name", "'stage1_pool'"]),
], ids=["stage3-stride", "missing-identity-block", "stem-stride", "block-names",
        "pool-name"])
def test_resnet50_mistakes(capsys, changes, stages, phrases):
    assert_fails(verdict(capsys, checks.resnet50, resnet_fn(*changes, stages=stages)),
                 "resnet50: check failed", *phrases)


def test_resnet50_accepts_other_names_for_stem_and_head(capsys):
    model = resnet_fn(('name="avg_pool"', 'name="pooling"'), ('name="flatten"', ""),
                      ('name="probabilities"', 'name="softmax"'),
                      ('layers.Activation("relu", name="stage1_relu")', "layers.ReLU()"))
    assert verdict(capsys, checks.resnet50, model) == "resnet50: all checks passed"


def test_resnet50_blank(capsys):
    blocks = run_code(IDENTITY + "\n" + CONV + "\n" + STAGES)
    blank = run_code(clear_solutions(RESNET), **blocks)["resnet50"]
    assert verdict(capsys, checks.resnet50, blank) == f"resnet50: {checks.NOT_IMPLEMENTED}"


# --- notebook 3: re-estimating the batch-norm statistics --------------------

SEEDED = {"SEED": 42}
SOLUTION_BODY = REESTIMATE.split("### BEGIN SOLUTION\n", 1)[1].split("    ### END SOLUTION")[0]
HEADER = REESTIMATE.split("    ### BEGIN SOLUTION", 1)[0]
CALL = "model(images[order[start:start + batch_size]], training=True)"
MOMENTUM = "bn.momentum = (n - 1) / n  # running mean over the batches"


def reestimate_fn(*changes, body=None):
    source = edit(REESTIMATE, *changes) if body is None else HEADER + body
    return run_code(source, **SEEDED)["reestimate_batchnorm"]


def test_reestimation_passes_on_solution(capsys):
    assert verdict(capsys, checks.batchnorm_reestimation, reestimate_fn()) == \
        "batchnorm_reestimation: all checks passed"


def test_reestimation_blank(capsys):
    blank = run_code(clear_solutions(REESTIMATE), **SEEDED)["reestimate_batchnorm"]
    assert verdict(capsys, checks.batchnorm_reestimation, blank) == \
        f"batchnorm_reestimation: {checks.NOT_IMPLEMENTED}"


FIT = """    model.compile(optimizer="adam", loss="mse")
    model.fit(images, model.predict(images, verbose=0), batch_size=batch_size, epochs=1,
              verbose=0)
"""
RESET = """    for bn in [l for l in model.layers if isinstance(l, layers.BatchNormalization)]:
        c = bn.moving_mean.shape[0]  # start the averages afresh
        bn.set_weights([np.ones(c), np.zeros(c), np.zeros(c), np.ones(c)])
""" + SOLUTION_BODY


@pytest.mark.parametrize("changes, body, phrases", [
    ([], FIT, ["weights of layer", "changed", "do not call fit"]),
    ([(CALL, CALL.replace("training=True", "training=False"))], None,
     ["did not change", "training=True"]),
    ([(MOMENTUM, "pass  # keep the layers' own momentum")], None,
     ["only", "of the way", "momentum 0.99", "(n-1)/n"]),
    ([("        for bn, momentum in zip(norms, saved):\n            bn.momentum = momentum\n",
       "        pass\n")], None,
     ["momentum 0 after your function, 0.99 before", "put back"]),
    ([], RESET, ["gamma or beta", "do not reset"]),
    ([(MOMENTUM, "bn.momentum = 0.0  # the batch replaces the average")], None,
     ["with 3 batches", "moving mean of 'bn1' is off", "only the last"]),
    ([("np.random.default_rng(SEED).permutation(len(images))", "np.arange(len(images))")],
     None, ["with 3 batches", "moving variance", "sorted images", "shuffled order"]),
], ids=["fit", "inference-mode", "momentum-left-at-0.99", "momentum-not-restored",
        "gamma-beta-reset", "only-last-batch", "sorted-batches"])
def test_reestimation_mistakes(capsys, changes, body, phrases):
    out = verdict(capsys, checks.batchnorm_reestimation, reestimate_fn(*changes, body=body))
    assert_fails(out, "batchnorm_reestimation: check failed", *phrases)


DIRECT = """    # each layer's input, with the layers before it already re-estimated
    for bn in [l for l in model.layers if isinstance(l, layers.BatchNormalization)]:
        probe = keras.Model(model.inputs, bn.input)
        z = np.concatenate([probe.predict(images[i:i + batch_size], verbose=0)
                            for i in range(0, len(images), batch_size)])
        bn.moving_mean.assign(z.mean(axis=(0, 1, 2)))
        bn.moving_variance.assign(z.var(axis=(0, 1, 2)))
"""
TF_DATA = """    import contextlib
    norms = [l for l in model.layers if isinstance(l, layers.BatchNormalization)]
    old = [bn.momentum for bn in norms]
    batches = tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=1)
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: [setattr(bn, "momentum", m) for bn, m in zip(norms, old)])
        for n, batch in enumerate(batches.batch(batch_size), start=1):
            for bn in norms:
                bn.momentum = 1 - 1 / n
            model(batch, training=True)
"""


@pytest.mark.parametrize("body", [DIRECT, TF_DATA], ids=["direct-statistics", "tf-data-loop"])
def test_reestimation_variants(capsys, body):
    import tensorflow as tf
    source = HEADER + body
    fn = run_code(source, tf=tf, **SEEDED)["reestimate_batchnorm"]
    assert verdict(capsys, checks.batchnorm_reestimation, fn) == \
        "batchnorm_reestimation: all checks passed"
