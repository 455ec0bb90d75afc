"""utils.checks.resnet: notebook 3's checks pass on the solution code and name each mistake.

Everything runs on tiny inputs; ResNet50 is built, never trained.
"""

from __future__ import annotations

import pytest

from tests.checks_support import (
    IDENTITY,
    NB3,
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
    ([('name=f"{name}_bn3"', 'name="bn_three"')],
     ["look layers up by name", "no layer is named 'check_identity_block_bn3'"]),
], ids=["relu-after-add-forgotten", "concatenate", "bn-axis", "relu-before-add",
        "add-before-last-bn", "add-wrong-tensor", "no-same-padding", "crash",
        "layer-name"])
def test_identity_block_mistakes(capsys, changes, phrases):
    assert_fails(verdict(capsys, checks.identity_block, identity_fn(*changes)),
                 "identity_block: check failed", *phrases)


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

def resnet_fn(*changes):
    blocks = run_code(IDENTITY + "\n" + CONV)
    return run_code(edit(RESNET, *changes), **blocks)["resnet50"]


def test_resnet50_passes_on_solution(capsys):
    assert verdict(capsys, checks.resnet50, resnet_fn()) == "resnet50: all checks passed"


@pytest.mark.parametrize("changes, phrases", [
    ([("(3, (128, 128, 512), 2, 3)", "(3, (128, 128, 512), 1, 3)")],
     ["residual block 4 outputs", "stride of its convolutional block"]),
    ([("(4, (256, 256, 1024), 2, 5)", "(4, (256, 256, 1024), 2, 4)")],
     ["15 residual blocks, expected 16"]),
    ([('layers.Conv2D(64, 7, strides=2, name="stage1_conv")',
       'layers.Conv2D(64, 7, name="stage1_conv")')],
     ["stage 1, layer 2", "stride 1"]),
    ([('name="avg_pool"', 'name="pool"')], ["look layers up by name", "'avg_pool'"]),
], ids=["stage3-stride", "missing-identity-block", "stem-stride", "layer-name"])
def test_resnet50_mistakes(capsys, changes, phrases):
    assert_fails(verdict(capsys, checks.resnet50, resnet_fn(*changes)),
                 "resnet50: check failed", *phrases)


def test_resnet50_blank(capsys):
    blocks = run_code(IDENTITY + "\n" + CONV)
    blank = run_code(clear_solutions(RESNET), **blocks)["resnet50"]
    assert verdict(capsys, checks.resnet50, blank) == f"resnet50: {checks.NOT_IMPLEMENTED}"

