"""utils.checks.alpaca: notebook 4's checks pass on the solution code and name each mistake.

MobileNetV2 is built without its ImageNet weights at 96x96 pixels. The logit check needs no
MobileNetV2: it compiles a probe model of its own with the learner's ``compile_model``.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers
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
from utils.checks import alpaca
from utils.exercises import clear_solutions, solution_region

FROZEN = solution_region(solution_cell(NB4, "base.trainable = False\n"))
DECISION = solution_cell(NB4, "def predict_class(")
FINE_TUNE = solution_region(solution_cell(NB4, "FINE_TUNE_AT = 120"))
SEED_STUDY = Path(__file__).resolve().parent.parent / "results" / "seed_study"


def augment_model():
    """Notebook 4's augmentation model (plain notebook code, no exercise)."""
    return keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.2)],
                            name="augment")


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


# ----------------------------------------------------------------- frozen base, new head

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
     ["model, layer 2", "expected MobileNetV2's scaling", "preprocess_input(x)"]),
    ([("x = mobilenet_v2.preprocess_input(x)", "x = layers.Rescaling(1 / 255)(x)")],
     ["model, layer 2", "got Rescaling", "[-1, 1]"]),
    ([("layers.Dropout(0.2)", "layers.Dropout(0.5)")], ["Dropout(0.2)"]),
    ([("x = layers.GlobalAveragePooling2D()(x)", "x = layers.Flatten()(x)")],
     ["expected GlobalAveragePooling2D", "got Flatten"]),
], ids=["base-trainable", "training-true", "no-training-argument", "sigmoid-output",
        "no-preprocessing", "rescale-0-1", "dropout-rate", "flatten"])
def test_frozen_base_model_mistakes(capsys, base, changes, phrases):
    ns = frozen(base, *changes)
    assert_fails(verdict(capsys, checks.frozen_base_model, ns["model"], base,
                         ns["augment"]), "frozen_base_model: check failed", *phrases)


@pytest.mark.parametrize("changes", [
    [("x = mobilenet_v2.preprocess_input(x)",
      "x = layers.Rescaling(1 / 127.5, offset=-1)(x)")],
    [("x = mobilenet_v2.preprocess_input(x)", "x = x / 127.5 - 1")],
    [(', name="alpaca_classifier"', "")],
], ids=["rescaling-layer", "written-out", "any-model-name"])
def test_frozen_base_model_variants(capsys, base, changes):
    ns = frozen(base, *changes)
    assert verdict(capsys, checks.frozen_base_model, ns["model"], base, ns["augment"]) \
        == "frozen_base_model: all checks passed"


def test_frozen_base_model_loss_without_logits(capsys, base):
    ns = frozen(base)
    ns["model"].compile(loss="binary_crossentropy")
    assert_fails(verdict(capsys, checks.frozen_base_model, ns["model"], base,
                         ns["augment"]), "from_logits=True")


def test_frozen_base_model_blank(capsys, base):
    assert verdict(capsys, checks.frozen_base_model, None, base, None) == \
        f"frozen_base_model: {checks.NOT_IMPLEMENTED}"
    with pytest.raises(NotImplementedError):
        run_code(blank_region(FROZEN), base=base)


# ----------------------------------------------------------------- loss on logits, decision at 0

def probe_model():
    """What the solution cell compiles at its end (the notebook's model is not needed)."""
    return keras.Sequential([keras.Input((4,)), layers.Dense(1)])


def decision(*changes):
    """Notebook 4's compile_model and predict_class with ``changes`` applied."""
    ns = run_code(edit(DECISION, *changes), model=probe_model(), tf=tf)
    return ns["compile_model"], ns["predict_class"]


def check_decision(capsys, *changes) -> str:
    return verdict(capsys, checks.logit_decision, *decision(*changes))


def test_logit_decision_passes_on_solution(capsys):
    assert check_decision(capsys) == "logit_decision: all checks passed"


LOSS = "loss=keras.losses.BinaryCrossentropy(from_logits=True)"
METRIC = 'keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)'
CLASSES = "return (np.asarray(logits) > 0).astype(int)"


@pytest.mark.parametrize("changes, phrases", [
    ([(LOSS, "loss=keras.losses.BinaryCrossentropy()")],
     ["the loss is", "expected", "from_logits=True"]),
    ([(LOSS, 'loss="binary_crossentropy"')], ["the loss is", "from_logits=True"]),
    ([(f"metrics=[{METRIC}]", 'metrics=["accuracy"]')],
     ["accuracy is 0.500, expected 0.750", "threshold of 0.5 on the logits", "threshold=0.0"]),
    ([(METRIC, 'keras.metrics.BinaryAccuracy(name="accuracy")')],
     ["threshold of 0.5 on the logits"]),
    ([(METRIC, "keras.metrics.BinaryAccuracy(threshold=0.0)")],
     ["no metric named 'accuracy'", "'binary_accuracy'", 'name="accuracy"']),
    ([("keras.optimizers.Adam(learning_rate)", "keras.optimizers.Adam(1e-3)")],
     ["learning rate 0.001", "pass the `learning_rate` argument"]),
    ([("keras.optimizers.Adam(learning_rate)", '"adam"')], ["learning rate 0.001"]),
    ([("keras.optimizers.Adam(learning_rate)", "keras.optimizers.SGD(learning_rate)")],
     ["the optimizer is SGD, expected Adam"]),
    ([("    model.compile(", "    model = keras.models.clone_model(model)\n    model.compile(")],
     ["did not compile the model it was given"]),
    ([(CLASSES, "return (np.asarray(logits) > 0.5).astype(int)")],
     ["class 0 for the logit 0.1, expected 1", "threshold of 0.5 on the logit"]),
    ([(CLASSES, "return np.asarray(logits) >= 0.5")], ["threshold of 0.5 on the logit"]),
    ([(CLASSES, "return (tf.sigmoid(tf.sigmoid(logits)) > 0.5).numpy()")],
     ["class 1 for the logit -6", "sigmoid applied twice"]),
    ([(CLASSES, "return tf.sigmoid(logits) > 0")], ["every logit gave class 1"]),
    ([(CLASSES, "return 1 / (1 + np.exp(-np.asarray(logits)))")],
     ["expected classes 0 and 1", "not probabilities"]),
    ([(CLASSES, "return (np.asarray(logits) < 0).astype(int)")], ["classes are swapped"]),
    ([(CLASSES, "return np.argmax(logits, axis=-1)")], ["one class per logit"]),
    ([(CLASSES, "return logits.argmax()")], ["one class per logit"]),
    ([(CLASSES, "return logits.round()")], ["expected classes 0 and 1"]),
    ([(CLASSES, "return missing_name > 0")],
     ["predict_class(logits) raised NameError"]),
], ids=["loss-default", "loss-string", "accuracy-string", "threshold-default",
        "metric-unnamed", "fixed-learning-rate", "optimizer-string", "sgd", "not-compiled",
        "classes-above-half", "classes-at-half", "sigmoid-twice", "probability-above-0",
        "probabilities", "swapped", "argmax", "argmax-flat", "rounded", "raises"])
def test_logit_decision_mistakes(capsys, changes, phrases):
    assert_fails(check_decision(capsys, *changes), "logit_decision: check failed", *phrases)


@pytest.mark.parametrize("changes", [
    [(CLASSES, "return (np.asarray(logits) >= 0).astype(int)")],  # the tie at 0 either way
    [(CLASSES, "return tf.sigmoid(logits) > 0.5")],
    [(CLASSES, "return logits > 0")],
    [(CLASSES, "return tf.cast(logits > 0, tf.int32)")],
    [(CLASSES, "return np.where(logits > 0, 1, 0)[:, None]")],
    [(LOSS, "loss=lambda y, z: keras.losses.binary_crossentropy(y, z, from_logits=True)")],
    [(METRIC, 'keras.metrics.BinaryAccuracy(threshold=0, name="accuracy")')],
    [("keras.optimizers.Adam(learning_rate)",
      "keras.optimizers.Adam(learning_rate=learning_rate)")],
], ids=["at-least-0", "sigmoid-above-half", "booleans", "tensor", "column", "loss-function",
        "int-threshold", "keyword"])
def test_logit_decision_variants(capsys, changes):
    assert check_decision(capsys, *changes) == "logit_decision: all checks passed"


def test_logit_decision_blank(capsys):
    assert verdict(capsys, checks.logit_decision, None, None) == \
        f"logit_decision: {checks.NOT_IMPLEMENTED}"
    namespace = {"keras": keras, "layers": layers, "np": np, "model": probe_model()}
    with pytest.raises(NotImplementedError):  # the cell's last line calls compile_model
        exec(compile(clear_solutions(DECISION), "<exercise>", "exec"), namespace)
    assert verdict(capsys, checks.logit_decision, namespace["compile_model"],
                   namespace["predict_class"]) == f"logit_decision: {checks.NOT_IMPLEMENTED}"
    compile_model, _ = decision()  # half done: predict_class still the placeholder
    assert verdict(capsys, checks.logit_decision, compile_model,
                   namespace["predict_class"]) == f"logit_decision: {checks.NOT_IMPLEMENTED}"


# ----------------------------------------------------------------- fine-tuning freeze

def fine_tuned(base, *changes):
    ns = frozen(base)
    run_code(edit(FINE_TUNE, *changes), base=base, FINE_TUNE_AT=120)
    return ns["model"]


def test_fine_tune_freeze_passes_on_solution(capsys, base):
    model = fine_tuned(base)
    assert verdict(capsys, checks.fine_tune_freeze, model, base, 120) == \
        "fine_tune_freeze: all checks passed"


def test_fine_tune_freeze_variant_all_batch_norm_frozen(capsys, base):
    model = fine_tuned(base, ("for layer in base.layers[FINE_TUNE_AT:]:",
                              "for layer in base.layers:"))
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


# ----------------------------------------------------------------- tasks and causes

def test_tasks_say_what_the_checks_enforce():
    tasks = {task.check.split("(")[0].split(".")[-1]: task.task for task in alpaca.TASKS}
    assert "BatchNormalization" in tasks["fine_tune_freeze"]  # the check requires it
    for phrase in ("training=False", "1,281", "2,259,265", "Dense(1)", "Dropout(0.2)"):
        assert phrase in tasks["frozen_base_model"], phrase
    for phrase in ("Adam(learning_rate)", '`"accuracy"`', "logit of 0", "tie"):
        assert phrase in tasks["logit_decision"], phrase


def test_causes_name_the_seed_study_metrics():
    study = json.loads((SEED_STUDY / "seed_study-avx2.json").read_text())
    recorded = set(study["notebooks"]["04_alpaca_transfer_learning"]["metrics"][0])
    assert {"val_accuracy_frozen", "val_accuracy_fine_tuned"} <= set(alpaca.CAUSES)
    assert set(alpaca.CAUSES) <= recorded
