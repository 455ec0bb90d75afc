"""utils.checks.smiles: notebook 1's checks pass on the solution code and name each mistake.

The mistakes and variants are those listed in the docstring of :mod:`utils.checks.smiles`,
written as a learner would write them.
"""

from __future__ import annotations

import pytest

from tests.checks_support import (
    NB1,
    SIGNS,
    SMILE,
    assert_fails,
    edit,
    run_code,
    smile_fn,
    solution_cell,
    verdict,
)
from utils import checks
from utils.checks import smiles
from utils.exercises import clear_solutions

PASSED_MODEL = "sequential_model: all checks passed"
PASSED_BA = "balanced_accuracy: all checks passed"

# ---------------------------------------------------------------- smile_model

CONV = 'keras.layers.Conv2D(32, kernel_size=7, strides=1, name="conv"),'
BN = 'keras.layers.BatchNormalization(axis=3, name="batch_norm"),'
RELU = 'keras.layers.ReLU(name="relu"),'
PAD = 'keras.layers.ZeroPadding2D(padding=3, name="zero_pad"),'
POOL = 'keras.layers.MaxPooling2D(pool_size=2, name="max_pool"),'
DENSE = 'keras.layers.Dense(1, activation="sigmoid", name="output"),'


def test_sequential_model_passes_on_solution_function_and_model(capsys):
    assert verdict(capsys, checks.sequential_model, smile_fn()) == PASSED_MODEL
    assert verdict(capsys, checks.sequential_model, smile_fn()()) == PASSED_MODEL


@pytest.mark.parametrize("changes, phrases", [
    ([("axis=3", "axis=1")], ["layer 3", "axis=3"]),
    ([('activation="sigmoid", ', "")], ["Dense(1 unit, sigmoid)", "sigmoid"]),
    ([(PAD, "")], ["layer 1: expected ZeroPadding2D(3)", "3-pixel border"]),
    ([("kernel_size=7", "kernel_size=3")], ["layer 2", "7x7"]),
    ([("Conv2D(32,", "Conv2D(16,")], ["layer 2", "32 filters"]),
    ([("strides=1", "strides=2")], ["layer 2", "stride 1"]),
    ([('strides=1, name="conv"', 'strides=1, activation="relu", name="conv"'), (RELU, "")],
     ["layer 2", "without activation"]),
    ([(BN, "@"), (RELU, BN), ("@", RELU)], ["layer 3", "batch normalisation comes right after"]),
    ([(POOL, "")], ["layer 5", "max pooling"]),
    ([('Dense(1, activation="sigmoid"', 'Dense(2, activation="softmax"')],
     ["Dense(1 unit, sigmoid)", "activation='sigmoid'"]),
    ([("keras.Input(shape=input_shape),", "")], ["no input shape", "keras.Input"]),
    ([("keras.Input(shape=input_shape)", "keras.Input(shape=(64, 64, 3))")],
     ["input_shape=(32, 32, 1)", "use the argument input_shape"]),
], ids=["bn-axis", "no-sigmoid", "no-padding", "kernel-3", "16-filters", "stride-2",
        "relu-in-conv", "relu-before-bn", "no-pooling", "softmax-2", "no-input",
        "input-shape-ignored"])
def test_sequential_model_mistakes(capsys, changes, phrases):
    assert_fails(verdict(capsys, checks.sequential_model, smile_fn(*changes)),
                 "sequential_model: check failed", *phrases)


@pytest.mark.parametrize("changes", [
    [(PAD, "keras.layers.ZeroPadding2D(3),"), (CONV, "keras.layers.Conv2D(32, 7),"),
     (BN, "keras.layers.BatchNormalization(axis=3),"), (RELU, "keras.layers.ReLU(),"),
     (POOL, "keras.layers.MaxPooling2D(2),"), ('keras.layers.Flatten(name="flatten")',
                                              "keras.layers.Flatten()"),
     (DENSE, 'keras.layers.Dense(1, activation="sigmoid"),'), (', name="smile_model"', "")],
    [(RELU, 'keras.layers.Activation("relu"),')],
    [(PAD, "keras.layers.ZeroPadding2D(((3, 3), (3, 3))),")],
    [(PAD, "keras.layers.ZeroPadding2D((3, 3)),")],
    [(PAD, ""), ("strides=1, name=", 'strides=1, padding="same", name=')],
    [(CONV, "keras.layers.Conv2D(32, (7, 7), strides=(1, 1)),")],
    [(BN, "keras.layers.BatchNormalization(),")],
    [(POOL, "keras.layers.MaxPool2D(),")],
    [(DENSE, 'keras.layers.Dense(1),\n        keras.layers.Activation("sigmoid"),')],
], ids=["no-names", "activation-relu", "padding-pairs", "padding-pair", "padding-same",
        "tuple-kernel", "bn-default-axis", "maxpool-default", "dense-then-sigmoid"])
def test_sequential_model_variants(capsys, changes):
    assert verdict(capsys, checks.sequential_model, smile_fn(*changes)) == PASSED_MODEL


def test_sequential_model_built_with_add(capsys):
    source = """
def smile_model(input_shape=(64, 64, 3)):
    model = keras.Sequential()
    model.add(keras.Input(shape=input_shape))
    model.add(keras.layers.ZeroPadding2D(3))
    model.add(keras.layers.Conv2D(32, 7))
    model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.Activation("relu"))
    model.add(keras.layers.MaxPooling2D())
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    return model
"""
    assert verdict(capsys, checks.sequential_model, run_code(source)["smile_model"]) == \
        PASSED_MODEL


def test_sequential_model_blank_and_functional(capsys):
    blank = run_code(clear_solutions(SMILE))["smile_model"]
    assert verdict(capsys, checks.sequential_model, blank) == \
        f"sequential_model: {checks.NOT_IMPLEMENTED}"
    functional = run_code(SIGNS, num_classes=6)["build_course_model"]
    assert_fails(verdict(capsys, checks.sequential_model, functional),
                 "expected a keras.Sequential model")


# ---------------------------------------------------------------- balanced_accuracy

BALANCED = solution_cell(NB1, "def balanced_accuracy")
HEAD = "def balanced_accuracy(y_true, y_pred):\n"
FLAT = "    y_true, y_pred = np.ravel(y_true), np.ravel(y_pred)\n"


def learner(body: str):
    """A learner's ``balanced_accuracy`` with ``body`` (indented lines)."""
    return run_code(HEAD + body)["balanced_accuracy"]


def test_balanced_accuracy_passes_on_solution(capsys):
    assert verdict(capsys, checks.balanced_accuracy,
                   run_code(BALANCED)["balanced_accuracy"]) == PASSED_BA


def test_balanced_accuracy_placeholder(capsys):
    blank = run_code(clear_solutions(BALANCED))["balanced_accuracy"]
    assert verdict(capsys, checks.balanced_accuracy, blank) == \
        f"balanced_accuracy: {checks.NOT_IMPLEMENTED}"
    assert verdict(capsys, checks.balanced_accuracy, None) == \
        f"balanced_accuracy: {checks.NOT_IMPLEMENTED}"


def test_reference_and_cases_are_what_the_hints_assume():
    assert smiles.reference_balanced_accuracy([0, 0, 0, 1], [0, 0, 0, 0]) == 0.5
    cases = smiles._cases()
    _, y_true, y_pred = cases[0]
    assert smiles.reference_balanced_accuracy(y_true, y_pred) == 0.625  # accuracy is 0.7
    wrong = [value for value, _ in smiles._wrong_answers(y_true, y_pred)]
    assert len({round(v, 6) for v in wrong[:3]} | {0.625}) == 4  # each mistake tells apart


MISTAKES = {
    "plain-accuracy": (FLAT + "    return float(np.mean(y_true == y_pred))\n",
                       ["got 0.7, expected 0.625", "plain accuracy"]),
    "mean-over-samples": (
        FLAT + "    recall = {c: np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)}\n"
        "    return float(np.mean([recall[c] for c in y_true]))\n",
        ["plain accuracy"]),
    "precision": (
        FLAT + "    return float(np.mean([np.mean(y_true[y_pred == c] == c)\n"
        "                          for c in np.unique(y_true)]))\n",
        ["precision"]),
    "swapped-arguments": (
        "    y_true, y_pred = np.ravel(y_pred), np.ravel(y_true)\n"
        "    return float(np.mean([np.mean(y_pred[y_true == c] == c)\n"
        "                          for c in np.unique(y_true)]))\n",
        ["precision", "swapped"]),
    "integer-division": (
        FLAT + "    recalls = [np.sum((y_true == c) & (y_pred == c)) // np.sum(y_true == c)\n"
        "               for c in np.unique(y_true)]\n"
        "    return float(np.mean(recalls))\n",
        ["got 0, expected 0.625", "integer division"]),
    "classes-0-and-1": (
        FLAT + "    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in (0, 1)]))\n",
        ["three classes", "np.unique(y_true)"]),
    "column-not-flattened": (
        "    recalls = [np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]\n"
        "    return float(np.mean(recalls))\n",
        ["float column (n, 1)", "raised IndexError", "np.ravel"]),
    "column-broadcast": (
        "    recalls = [np.sum((y_true == c) & (y_pred == c)) / np.sum(y_true == c)\n"
        "               for c in np.unique(y_true)]\n"
        "    return float(np.mean(recalls))\n",
        ["float column (n, 1)", "broadcasts", "np.ravel"]),
    "returns-the-recalls": (
        FLAT + "    return [np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]\n",
        ["not one number"]),
    "no-return": (
        FLAT + "    balanced = np.mean([np.mean(y_pred[y_true == c] == c) for c in (0, 1)])\n",
        ["returned None"]),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_balanced_accuracy_mistakes(capsys, name):
    body, phrases = MISTAKES[name]
    assert_fails(verdict(capsys, checks.balanced_accuracy, learner(body)),
                 "balanced_accuracy: check failed", *phrases)


VARIANTS = {
    "counting-loop": (
        FLAT + "    recalls = []\n"
        "    for c in np.unique(y_true):\n"
        "        of_class = y_true == c\n"
        "        recalls.append(np.sum(y_pred[of_class] == c) / np.sum(of_class))\n"
        "    return sum(recalls) / len(recalls)\n"),
    "confusion-matrix": (
        FLAT + "    classes, t = np.unique(y_true, return_inverse=True)\n"
        "    hits = np.array([np.sum((t == k) & (y_pred == c)) for k, c in enumerate(classes)])\n"
        "    return float(np.mean(hits / np.bincount(t)))\n"),
    "set-of-classes-float32": (
        "    y_true = np.asarray(y_true).reshape(-1)\n"
        "    y_pred = np.asarray(y_pred).reshape(-1)\n"
        "    recalls = [np.mean(y_pred[y_true == c] == c) for c in set(y_true.tolist())]\n"
        "    return np.float32(np.mean(recalls))\n"),
    "squeeze-and-edit": None,  # the solution, with np.squeeze for np.ravel
}


@pytest.mark.parametrize("name", VARIANTS)
def test_balanced_accuracy_variants(capsys, name):
    fn = (run_code(edit(BALANCED, ("np.ravel(y_true), np.ravel(y_pred)",
                                   "np.squeeze(y_true), np.squeeze(y_pred)")))
          if VARIANTS[name] is None else {"balanced_accuracy": learner(VARIANTS[name])})
    assert verdict(capsys, checks.balanced_accuracy, fn["balanced_accuracy"]) == PASSED_BA


def test_balanced_accuracy_never_lets_a_traceback_through(capsys):
    out = verdict(capsys, checks.balanced_accuracy, learner("    return 1 / 0\n"))
    assert_fails(out, "raised ZeroDivisionError")


def test_causes_name_the_seed_study_metrics():
    assert set(smiles.CAUSES) == {"test_accuracy", "balanced_accuracy"}
    assert all(isinstance(v, str) and v and not v.endswith(".") for v in smiles.CAUSES.values())
