"""utils.checks.smiles: notebook 1's check passes on the solution code and names each mistake."""

from __future__ import annotations

import pytest

from tests.checks_support import SIGNS, SMILE, assert_fails, run_code, smile_fn, verdict
from utils import checks
from utils.exercises import clear_solutions


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
    functional = run_code(SIGNS, num_classes=6)["build_course_model"]
    assert_fails(verdict(capsys, checks.sequential_model, functional),
                 "expected a keras.Sequential model")

