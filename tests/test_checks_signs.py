"""utils.checks.signs: notebook 2's checks pass on the solution code and name each mistake."""

from __future__ import annotations

import numpy as np
import pytest

from tests.checks_support import (
    NB2,
    SIGNS,
    assert_fails,
    blank_region,
    run_code,
    signs_fn,
    smile_fn,
    solution_cell,
    verdict,
)
from utils import checks
from utils.exercises import clear_solutions, solution_region


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

