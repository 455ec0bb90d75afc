"""utils.checks: every check passes on the solution code and names each typical mistake.

The solution code is read from the solution notebooks' marked cells, so the
tests follow the notebooks. A mistake is made by editing that code (each edit
must apply, so a changed notebook fails loudly here instead of testing nothing).
Everything runs on tiny inputs; MobileNetV2 is built without its ImageNet
weights at 96x96 pixels.
"""

from __future__ import annotations

from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest
from keras import layers
from keras.applications import mobilenet_v2

from utils import checks, repro
from utils.exercises import BEGIN, END, clear_solutions, solution_region

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NB1, NB2 = "01_smiles_sequential.ipynb", "02_signs_functional.ipynb"
NB3, NB4 = "03_resnet50_signs.ipynb", "04_alpaca_transfer_learning.ipynb"


def solution_cell(notebook: str, anchor: str) -> str:
    """The source of the marked code cell of ``notebook`` that contains ``anchor``."""
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    found = [c.source for c in nb.cells
             if c.cell_type == "code" and BEGIN in c.source and anchor in c.source]
    assert len(found) == 1, f"{notebook}: {len(found)} marked cells with {anchor!r}"
    return found[0]


def edit(source: str, *changes: tuple[str, str]) -> str:
    """Apply text replacements that must each match exactly once."""
    for old, new in changes:
        assert source.count(old) == 1, f"edit does not apply: {old!r}"
        source = source.replace(old, new)
    return source


def blank_region(region: str) -> str:
    """A marked region as the exercise notebook shows it."""
    return clear_solutions(f"{BEGIN}\n{region}\n{END}")


def run_code(source: str, **names) -> dict:
    namespace = {"keras": keras, "layers": layers, "np": np,
                 "mobilenet_v2": mobilenet_v2, **names}
    exec(compile(source, "<solution>", "exec"), namespace)
    return namespace


def verdict(capsys, check, *args) -> str:
    check(*args)
    out = capsys.readouterr().out.strip()
    assert "\n" not in out, f"a check prints one line, got: {out}"
    assert "Traceback" not in out
    return out


def assert_fails(out: str, *phrases: str) -> None:
    assert checks.PASSED not in out, out
    for phrase in phrases:
        assert phrase in out, f"{phrase!r} missing from: {out}"


# --- notebook 3: identity block --------------------------------------------

IDENTITY = solution_cell(NB3, "def identity_block")
CONV = solution_cell(NB3, "def convolutional_block")
RESNET = solution_cell(NB3, "def resnet50")
ID_OUT = 'return layers.Activation("relu", name=f"{name}_out")(y)'
ID_ADD = 'y = layers.Add(name=f"{name}_add")([y, shortcut])'


def identity_fn(*changes):
    return run_code(edit(IDENTITY, *changes))["identity_block"]


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


# --- notebook 1: Sequential model -------------------------------------------

SMILE = solution_cell(NB1, "def smile_model")


def smile_fn(*changes):
    return run_code(edit(SMILE, *changes))["smile_model"]


def test_sequential_model_passes_on_solution_function_and_model(capsys):
    assert verdict(capsys, checks.sequential_model, smile_fn()) == \
        "sequential_model: all checks passed"
    assert verdict(capsys, checks.sequential_model, smile_fn()()) == \
        "sequential_model: all checks passed"


@pytest.mark.parametrize("changes, phrases", [
    ([("axis=3", "axis=1")], ["layer 3", "axis=3"]),
    ([('activation="sigmoid", ', "")], ["Dense(1 unit, sigmoid)", "sigmoid"]),
    ([('keras.layers.ZeroPadding2D(padding=3, name="zero_pad"),', "")],
     ["layer 1: expected ZeroPadding2D(3)"]),
    ([("kernel_size=7", "kernel_size=3")], ["layer 2", "7x7"]),
], ids=["bn-axis", "no-sigmoid", "no-padding", "kernel-size"])
def test_sequential_model_mistakes(capsys, changes, phrases):
    assert_fails(verdict(capsys, checks.sequential_model, smile_fn(*changes)),
                 "sequential_model: check failed", *phrases)


def test_sequential_model_blank_and_functional(capsys):
    blank = run_code(clear_solutions(SMILE))["smile_model"]
    assert verdict(capsys, checks.sequential_model, blank) == \
        f"sequential_model: {checks.NOT_IMPLEMENTED}"
    functional = run_code(solution_cell(NB2, "def build_course_model"),
                          num_classes=6)["build_course_model"]
    assert_fails(verdict(capsys, checks.sequential_model, functional),
                 "expected a keras.Sequential model")


# --- notebook 2: Functional model and one-hot labels -----------------------

SIGNS = solution_cell(NB2, "def build_course_model")


def signs_fn(*changes):
    return run_code(edit(SIGNS, *changes), num_classes=6)["build_course_model"]


def test_functional_model_passes_on_solution(capsys):
    assert verdict(capsys, checks.functional_model, signs_fn()) == \
        "functional_model: all checks passed"


@pytest.mark.parametrize("changes, phrases", [
    ([('activation="softmax"', 'activation="sigmoid"')],
     ["layer 8", "activation='softmax'"]),
    ([("pool_size=8, strides=8", "pool_size=8, strides=4")],
     ["layer 3", "MaxPooling2D(8x8, stride 8"]),
    ([('    x = layers.ReLU(name="relu2")(x)\n', "")], ["layer 5", "ReLU"]),
], ids=["sigmoid-for-six-classes", "pool-stride", "missing-relu"])
def test_functional_model_mistakes(capsys, changes, phrases):
    assert_fails(verdict(capsys, checks.functional_model, signs_fn(*changes)),
                 "functional_model: check failed", *phrases)


def test_functional_model_blank_and_sequential(capsys):
    blank = run_code(clear_solutions(SIGNS), num_classes=6)["build_course_model"]
    assert verdict(capsys, checks.functional_model, blank) == \
        f"functional_model: {checks.NOT_IMPLEMENTED}"
    assert_fails(verdict(capsys, checks.functional_model, smile_fn()),
                 "keras.Sequential model", "Functional API")


ONE_HOT = solution_region(solution_cell(NB2, "y_train_onehot = "))
LABELS = np.array([0, 3, 5, 1, 2, 4, 0, 5])


def test_one_hot_passes_on_solution(capsys):
    ns = run_code(ONE_HOT, y_train=LABELS, y_test=LABELS[:3], num_classes=6)
    assert verdict(capsys, checks.one_hot, LABELS, ns["y_train_onehot"], 6) == \
        "one_hot: all checks passed"
    assert verdict(capsys, checks.one_hot, LABELS[:3], ns["y_test_onehot"], 6) == \
        "one_hot: all checks passed"


@pytest.mark.parametrize("onehot, phrases", [
    (LABELS, ["still integer labels"]),
    (np.eye(6, dtype="float32")[LABELS].T, ["swapped"]),
    (np.eye(7, dtype="float32")[LABELS], ["shape (8, 7), expected (8, 6)"]),
    (np.eye(6, dtype="float32")[(LABELS + 1) % 6], ["8 rows differ", "row 0 (label 0)"]),
    (np.eye(6, dtype="int64")[LABELS], ["dtype int64"]),
], ids=["integers", "transposed", "seven-classes", "shifted", "integer-dtype"])
def test_one_hot_mistakes(capsys, onehot, phrases):
    assert_fails(verdict(capsys, checks.one_hot, LABELS, onehot, 6),
                 "one_hot: check failed", *phrases)


def test_one_hot_blank(capsys):
    assert verdict(capsys, checks.one_hot, LABELS, None, 6) == \
        f"one_hot: {checks.NOT_IMPLEMENTED}"
    with pytest.raises(NotImplementedError):
        run_code(blank_region(ONE_HOT))


# --- notebook 4: augmentation, frozen base, fine-tuning --------------------

AUGMENT = solution_region(solution_cell(NB4, "augment = keras.Sequential("))
FROZEN = solution_cell(NB4, "base.trainable = False\n")
FINE_TUNE = solution_region(solution_cell(NB4, "FINE_TUNE_AT = 120"))


def augment_model(*changes):
    return run_code(edit(AUGMENT, *changes))["augment"]


def test_augmentation_passes_on_solution(capsys):
    assert verdict(capsys, checks.augmentation, augment_model()) == \
        "augmentation: all checks passed"


@pytest.mark.parametrize("changes, phrases", [
    ([('RandomFlip("horizontal")', 'RandomFlip("vertical")')], ['"horizontal"']),
    ([("RandomRotation(0.2)", "RandomRotation(0.5)")],
     ["expected RandomRotation(0.2)", "fraction of a full turn"]),
    ([("layers.RandomRotation(0.2)]", "layers.RandomRotation(0.2), "
       "layers.Rescaling(1 / 255)]")], ["layer 3", "got Rescaling"]),
], ids=["vertical-flip", "rotation-factor", "extra-layer"])
def test_augmentation_mistakes(capsys, changes, phrases):
    assert_fails(verdict(capsys, checks.augmentation, augment_model(*changes)),
                 "augmentation: check failed", *phrases)


def test_augmentation_blank(capsys):
    assert verdict(capsys, checks.augmentation, None) == \
        f"augmentation: {checks.NOT_IMPLEMENTED}"


@pytest.fixture(scope="module")
def small_base():
    return mobilenet_v2.MobileNetV2(input_shape=(96, 96, 3), include_top=False,
                                    weights=None)


@pytest.fixture
def base(small_base):
    small_base.trainable = True  # each test starts from an unfrozen base
    for layer in small_base.layers:
        layer.trainable = True
    return small_base


def frozen(base, *changes) -> dict:
    return run_code(edit(FROZEN, *changes), base=base, augment=augment_model(),
                    IMAGE_SIZE=(96, 96))


def test_frozen_base_model_passes_on_solution(capsys, base):
    ns = frozen(base)
    assert verdict(capsys, checks.frozen_base_model, ns["model"], base, ns["augment"]) \
        == "frozen_base_model: all checks passed"
    ns["model"].compile(loss=keras.losses.BinaryCrossentropy(from_logits=True))
    assert verdict(capsys, checks.frozen_base_model, ns["model"], base, ns["augment"]) \
        == "frozen_base_model: all checks passed"


@pytest.mark.parametrize("changes, phrases", [
    ([("base.trainable = False\n", "")], ["base is still trainable"]),
    ([("base(x, training=False)", "base(x, training=True)")],
     ["called with training=True", "Hint: call base(x, training=False)"]),
    ([("base(x, training=False)", "base(x)")], ["no training argument"]),
    ([("layers.Dense(1)", 'layers.Dense(1, activation="sigmoid")')],
     ["Dense(1 unit, sigmoid)", "from_logits=True", "applies the sigmoid itself"]),
    ([("x = mobilenet_v2.preprocess_input(x)", "pass")],
     ["model, layer 2", "expected a division (the first step of preprocess_input)"]),
    ([("layers.Dropout(0.2)", "layers.Dropout(0.5)")], ["Dropout(0.2)"]),
], ids=["base-trainable", "training-true", "no-training-argument", "sigmoid-output",
        "wrong-preprocessing", "dropout-rate"])
def test_frozen_base_model_mistakes(capsys, base, changes, phrases):
    ns = frozen(base, *changes)
    assert_fails(verdict(capsys, checks.frozen_base_model, ns["model"], base,
                         ns["augment"]), "frozen_base_model: check failed", *phrases)


def test_frozen_base_model_loss_without_logits(capsys, base):
    ns = frozen(base)
    ns["model"].compile(loss="binary_crossentropy")
    assert_fails(verdict(capsys, checks.frozen_base_model, ns["model"], base,
                         ns["augment"]), "from_logits=True")


def test_frozen_base_model_blank(capsys, base):
    assert verdict(capsys, checks.frozen_base_model, None, base, None) == \
        f"frozen_base_model: {checks.NOT_IMPLEMENTED}"
    with pytest.raises(NotImplementedError):
        run_code(clear_solutions(FROZEN), base=base)


def fine_tuned(base, *changes):
    ns = frozen(base)
    run_code(edit(FINE_TUNE, *changes), base=base, FINE_TUNE_AT=120)
    return ns["model"]


def test_fine_tune_freeze_passes_on_solution(capsys, base):
    model = fine_tuned(base)
    assert verdict(capsys, checks.fine_tune_freeze, model, base, 120) == \
        "fine_tune_freeze: all checks passed"


@pytest.mark.parametrize("changes, phrases", [
    ([("base.trainable = True\n", "")], ["base.trainable is still False"]),
    ([("base.layers[:FINE_TUNE_AT]", "base.layers[:0]")],
     ["layers of the base are trainable"]),
    ([("base.layers[:FINE_TUNE_AT]", "base.layers[FINE_TUNE_AT:]")],
     ["early layers of the base are trainable", "base.layers[:120]"]),
    ([("base.layers[:FINE_TUNE_AT]", "base.layers[:FINE_TUNE_AT + 1]")],
     ["base layer 120", "is frozen"]),
    ([("if isinstance(layer, layers.BatchNormalization):", "if False:")],
     ["BatchNormalization layer left trainable", "ImageNet's statistics"]),
], ids=["base-left-frozen", "nothing-refrozen", "top-frozen", "off-by-one",
        "batchnorm-trainable"])
def test_fine_tune_freeze_mistakes(capsys, base, changes, phrases):
    assert_fails(verdict(capsys, checks.fine_tune_freeze, fine_tuned(base, *changes),
                         base, 120), "fine_tune_freeze: check failed", *phrases)


def test_fine_tune_freeze_blank(capsys, base):
    assert verdict(capsys, checks.fine_tune_freeze, None, base, 120) == \
        f"fine_tune_freeze: {checks.NOT_IMPLEMENTED}"
    with pytest.raises(NotImplementedError):
        run_code(blank_region(FINE_TUNE), base=base)


# --- the notebooks may compute in mixed_bfloat16 ----------------------------

@pytest.fixture
def bfloat16_policy():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


# A oneDNN cap below AVX-512 (ONEDNN_MAX_CPU_ISA=AVX2 on an AVX-512 BF16 CPU, the
# check of the AVX2 kind's numbers) leaves TensorFlow calling oneDNN's bfloat16
# convolution, which the cap forbids: it aborts. With AVX512_CORE it still runs.
@pytest.mark.skipif(not (repro.onednn_isa_cap() or "AVX512").startswith(("AVX512", "AVX10")),
                    reason="ONEDNN_MAX_CPU_ISA below AVX-512: oneDNN has no bfloat16 "
                           "convolution under that cap")
def test_checks_pass_under_the_notebooks_mixed_precision(capsys, bfloat16_policy):
    built_in_notebook = smile_fn()()  # built under mixed_bfloat16, like notebook 1
    assert built_in_notebook.layers[1].compute_dtype == "bfloat16"
    for check, arg in [(checks.identity_block, identity_fn()),
                       (checks.sequential_model, smile_fn()),
                       (checks.sequential_model, built_in_notebook),
                       (checks.functional_model, signs_fn())]:
        assert verdict(capsys, check, arg).endswith(checks.PASSED)
    assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
