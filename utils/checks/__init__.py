"""Checks for the exercise notebooks: run the learner's code, explain what is wrong.

Each public function checks one exercise. It runs the learner's code on small
fixed inputs and compares the result with a reference built here, at check
time, from the same description the notebook gives: output shape, parameter
count, layer types and settings in order, how the layers are wired, trainable
flags, and (where the model is small) the numbers it computes, with the
learner's weights copied into the reference. It prints one line: either
``"<exercise>: all checks passed"`` or what is wrong, where, and a hint. It
never lets a traceback through: errors raised by the learner's code are
reported in one line. Every check returns ``None``.

One module per notebook, on top of the shared machinery:

- :mod:`utils.checks.core`    running a check, describing and comparing layers,
                              weights and numbers (shared by all four);
- :mod:`utils.checks.smiles`  notebook 1: ``sequential_model``,
                              ``balanced_accuracy``;
- :mod:`utils.checks.signs`   notebook 2: ``find_leaks``, ``functional_model``,
                              ``receptive_fields``;
- :mod:`utils.checks.resnet`  notebook 3: ``identity_block``,
                              ``convolutional_block``, ``resnet50``,
                              ``batchnorm_reestimation``;
- :mod:`utils.checks.normal`  ``result_is_normal``: a trained metric against the
                              seed study's spread ("is my result normal?");
- :mod:`utils.checks.alpaca`  notebook 4: ``overfitting_model``, ``frozen_base_model``,
                              ``logit_decision``, ``fine_tune_freeze``.

Each notebook's module also lists its exercises, task and check call, as ``TASKS``
(:class:`utils.checks.core.Exercise`), from which :mod:`utils.exercises` makes the exercise
notebook.

Every check is available here as ``utils.checks.<name>``. Example, in
notebook 3 right after the identity block::

    import utils.checks
    utils.checks.identity_block(identity_block)
"""

from __future__ import annotations

from utils.checks.alpaca import (
    fine_tune_freeze,
    frozen_base_model,
    logit_decision,
    overfitting_model,
    reference_frozen_model,
    reference_small_cnn,
)
from utils.checks.core import NOT_IMPLEMENTED, PASSED, CheckFailed, Step, describe
from utils.checks.normal import result_is_normal
from utils.checks.resnet import (
    RESNET_STAGES,
    batchnorm_reestimation,
    SHAPE_HINTS,
    convolutional_block,
    identity_block,
    reference_convolutional_block,
    reference_identity_block,
    reference_resnet50,
    resnet50,
)
from utils.checks.signs import (
    find_leaks,
    functional_model,
    receptive_fields,
    reference_signs_model,
)
from utils.checks.smiles import (
    balanced_accuracy,
    reference_balanced_accuracy,
    reference_smile_model,
    sequential_model,
)

__all__ = [
    "NOT_IMPLEMENTED",
    "PASSED",
    "RESNET_STAGES",
    "SHAPE_HINTS",
    "CheckFailed",
    "Step",
    "balanced_accuracy",
    "batchnorm_reestimation",
    "convolutional_block",
    "describe",
    "find_leaks",
    "fine_tune_freeze",
    "frozen_base_model",
    "functional_model",
    "identity_block",
    "logit_decision",
    "overfitting_model",
    "receptive_fields",
    "reference_balanced_accuracy",
    "reference_convolutional_block",
    "reference_frozen_model",
    "reference_identity_block",
    "reference_resnet50",
    "reference_signs_model",
    "reference_small_cnn",
    "reference_smile_model",
    "resnet50",
    "result_is_normal",
    "sequential_model",
]
