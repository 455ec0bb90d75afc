"""utils.checks.alpaca: notebook 4's checks pass on the solution code and name each mistake.

MobileNetV2 is built without its ImageNet weights at 96x96 pixels.
"""

from __future__ import annotations

import keras
import pytest
from keras.applications import mobilenet_v2

from tests.checks_support import (
    NB4,
    assert_fails,
    blank_region,
    edit,
    run_code,
    solution_cell,
    verdict,
)
from utils import checks
from utils.exercises import clear_solutions, solution_region


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
