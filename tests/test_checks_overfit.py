"""utils.checks.overfitting_model: notebook 4's small CNN for the over-fitting experiment.

The solution is read from the notebook's marked ``def small_cnn(`` cell. Each mistake
below is written as a learner would write it and must fail with its hint; each variant
computes the same thing and must pass (the lists are in utils/checks/alpaca.py too).
"""

from __future__ import annotations

import pytest
from keras import layers

from tests.checks_support import NB4, assert_fails, edit, run_code, solution_cell, verdict
from utils import checks
from utils.exercises import clear_solutions

SMALL_CNN = solution_cell(NB4, "def small_cnn(")
SMALL = (64, 64)
AUGMENT_LINE = "x = augmentation(inputs) if augmentation is not None else inputs\n"
DROPOUT_LINES = "    if dropout > 0:\n        x = layers.Dropout(dropout)(x)\n"
OUTPUT_LINE = "outputs = layers.Dense(1)(x)"
PASS = "overfitting_model: all checks passed"


def small_cnn(*changes, **names):
    """The notebook's ``small_cnn`` with ``changes`` applied."""
    return run_code(edit(SMALL_CNN, *changes), SMALL=SMALL, **names)["small_cnn"]


def check(capsys, fn) -> str:
    return verdict(capsys, checks.overfitting_model, fn, SMALL)


def test_solution_passes(capsys):
    assert check(capsys, small_cnn()) == PASS


def test_reference_has_the_parameters_the_task_states():
    assert checks.reference_small_cnn(SMALL).count_params() == 8_081


def test_placeholder_is_not_implemented(capsys):
    blank = run_code(clear_solutions(SMALL_CNN), SMALL=SMALL)["small_cnn"]
    assert check(capsys, blank) == f"overfitting_model: {checks.NOT_IMPLEMENTED}"
    assert check(capsys, None) == f"overfitting_model: {checks.NOT_IMPLEMENTED}"


SEQUENTIAL = '''
def small_cnn(augmentation=None, dropout=0.0):
    stack = [keras.Input(shape=SMALL + (3,))]
    if augmentation is not None:
        stack.append(augmentation)
    stack.append(layers.Rescaling(1.0 / 255))
    for filters in (8, 16, 32):
        stack += [layers.Conv2D(filters, (3, 3), padding="same"), layers.ReLU(),
                  layers.MaxPooling2D(pool_size=(2, 2))]
    stack.append(layers.Flatten())
    if dropout:
        stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(1, name="logit"))
    return keras.Sequential(stack, name="my_cnn")
'''

VARIANTS = {
    "activation-layer": [('padding="same", activation="relu")(x)',
                          'padding="same")(x)\n        x = layers.Activation("relu")(x)')],
    "relu-layer": [('padding="same", activation="relu")(x)',
                    'padding="same", name=f"conv{filters}")(x)\n'
                    '        x = layers.ReLU()(x)')],
    "dropout-before-flatten": [(DROPOUT_LINES, ""),
                               ("x = layers.Flatten()(x)\n",
                                "x = layers.Dropout(dropout)(x) if dropout else x\n"
                                "    x = layers.Flatten()(x)\n")],
    "dropout-always": [(DROPOUT_LINES, "    x = layers.Dropout(dropout)(x)\n")],
    "augment-after-rescaling": [(AUGMENT_LINE, "x = inputs\n"),
                                ("x = layers.Rescaling(1 / 255)(x)\n",
                                 "x = layers.Rescaling(1 / 255)(x)\n"
                                 "    if augmentation is not None:\n"
                                 "        x = augmentation(x)\n")],
    "augment-layer-by-layer": [(AUGMENT_LINE,
                                "x = inputs\n    for layer in getattr(augmentation, "
                                "'layers', []):\n        x = layer(x)\n")],
    "augment-training-true": [("augmentation(inputs)", "augmentation(inputs, training=True)")],
    "divide-by-255": [("x = layers.Rescaling(1 / 255)(x)", "x = x / 255.0")],
}


@pytest.mark.parametrize("changes", VARIANTS.values(), ids=VARIANTS.keys())
def test_variants_pass(capsys, changes):
    assert check(capsys, small_cnn(*changes)) == PASS


def test_sequential_variant_passes(capsys):
    fn = run_code(SEQUENTIAL, SMALL=SMALL)["small_cnn"]
    assert check(capsys, fn) == PASS


MISTAKES = {
    "no-dropout": ([(DROPOUT_LINES, "")],
                   ["small_cnn(None, 0.3) has no Dropout layer", "Dropout(dropout)"]),
    "fixed-rate": ([("layers.Dropout(dropout)", "layers.Dropout(0.5)")],
                   ["holds Dropout(0.5)", "use the `dropout` argument"]),
    "dropout-when-zero": ([(DROPOUT_LINES, "    x = layers.Dropout(0.5)(x)\n")],
                          ["small_cnn(None, 0.0) holds a Dropout layer",
                           "only when dropout > 0"]),
    "dropout-every-block": ([(DROPOUT_LINES, ""),
                             ("x = layers.MaxPooling2D()(x)\n",
                              "x = layers.MaxPooling2D()(x)\n"
                              "        if dropout > 0:\n"
                              "            x = layers.Dropout(dropout)(x)\n")],
                            ["has 3 Dropout layers", "right before the output layer"]),
    "dropout-on-logit": ([(DROPOUT_LINES, ""),
                          (OUTPUT_LINE, OUTPUT_LINE + "\n    if dropout > 0:\n"
                           "        outputs = layers.Dropout(dropout)(outputs)")],
                         ["after the output layer, on the logit itself",
                          "flattened features"]),
    "dropout-training-true": ([("layers.Dropout(dropout)(x)",
                                "layers.Dropout(dropout)(x, training=True)")],
                              ["calls Dropout with training=True",
                               "whenever the model is called without a training argument"]),
    "no-augmentation": ([(AUGMENT_LINE, "x = inputs\n")],
                        ["does not use `augmentation`", "x = augmentation(inputs)"]),
    "global-augment": ([(AUGMENT_LINE,
                         "x = augment(inputs) if augmentation is not None else inputs\n")],
                       ["does not use `augmentation`, its argument"]),
    "augment-after-convolutions": ([(AUGMENT_LINE, "x = inputs\n"),
                                    ("x = layers.Flatten()(x)\n",
                                     "if augmentation is not None:\n"
                                     "        x = augmentation(x)\n"
                                     "    x = layers.Flatten()(x)\n")],
                                   ["applies the augmentation after MaxPooling2D",
                                    "distorts feature maps", "before any other layer"]),
    "augment-in-lambda": ([(AUGMENT_LINE,
                            "x = inputs if augmentation is None else layers.Lambda(\n"
                            "        lambda t: augmentation(t, training=True))(inputs)\n")],
                          ["with training=False", "acts at prediction time too",
                           "x = augmentation(inputs)"]),
    "sigmoid-output": ([(OUTPUT_LINE, 'outputs = layers.Dense(1, activation="sigmoid")(x)')],
                       ["Dense(1 unit, sigmoid)", "from_logits=True"]),
    "two-units": ([(OUTPUT_LINE, "outputs = layers.Dense(2)(x)")],
                  ["Dense(2 units, linear)", "one output: Dense(1)"]),
    "global-pooling": ([("x = layers.Flatten()(x)", "x = layers.GlobalAveragePooling2D()(x)")],
                       ["got GlobalAveragePooling2D", "Flatten()"]),
    "no-rescaling": ([("    x = layers.Rescaling(1 / 255)(x)\n", "")],
                     ["expected Rescaling(1 / 255)", "got Conv2D"]),
    "minus-one-to-one": ([("layers.Rescaling(1 / 255)", "layers.Rescaling(1 / 127.5, offset=-1)")],
                         ["logits differ", "Rescaling(1 / 255)"]),
}


@pytest.mark.parametrize("changes, phrases", MISTAKES.values(), ids=MISTAKES.keys())
def test_mistakes_fail_with_their_hint(capsys, changes, phrases):
    fn = small_cnn(*changes, augment=layers.RandomFlip("horizontal"))
    assert_fails(check(capsys, fn), "overfitting_model: check failed", *phrases)


def test_learner_errors_are_one_line(capsys):
    fn = small_cnn(("layers.MaxPooling2D()(x)", "layers.MaxPooling2D(pool_size=64)(x)"))
    assert_fails(check(capsys, fn), "overfitting_model: check failed", "raised")
