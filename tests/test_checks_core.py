"""utils.checks.core: one line per verdict, the notebooks' precision policy restored.

The checks of every notebook go through the same runner; here it is tested
directly and under the notebooks' mixed_bfloat16 policy.
"""

from __future__ import annotations

import keras
import pytest
from keras import layers

from tests.checks_support import identity_fn, signs_fn, smile_fn, verdict
from utils import checks, machine
from utils.checks import core


def test_run_check_prints_one_line_for_each_outcome(capsys):
    def fails():
        raise core.CheckFailed("layer 2 is wrong. Hint: look again.")

    def crashes():
        raise ValueError("boom\nsecond line")

    def unfinished():
        raise core.NotImplementedYet

    assert verdict(capsys, core.run_check, "ex", lambda: None) == "ex: all checks passed"
    assert verdict(capsys, core.run_check, "ex", fails) == \
        "ex: check failed: layer 2 is wrong. Hint: look again."
    assert verdict(capsys, core.run_check, "ex", crashes) == \
        "ex: check failed: the check itself could not run (ValueError: boom)"
    assert verdict(capsys, core.run_check, "ex", unfinished) == f"ex: {checks.NOT_IMPLEMENTED}"


def test_run_check_builds_in_float32_and_restores_the_policy(capsys):
    seen = []
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        core.run_check("ex", lambda: seen.append(keras.mixed_precision.global_policy().name))
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert seen == ["float32"]
    assert capsys.readouterr().out == "ex: all checks passed\n"


def test_call_learner_turns_exceptions_into_failures():
    def placeholder():
        raise NotImplementedError()

    def mismatch():
        raise ValueError("Inputs have incompatible shapes (4,) and (2,)\ndetails")

    with pytest.raises(core.NotImplementedYet):
        core.call_learner("your block", None)
    with pytest.raises(core.NotImplementedYet):
        core.call_learner("your block", placeholder)
    with pytest.raises(core.CheckFailed) as failure:
        core.call_learner("your block", mismatch, shape_hint="keep the shape.")
    assert str(failure.value) == ("your block raised ValueError: Inputs have incompatible "
                                  "shapes (4,) and (2,). Hint: keep the shape.")
    assert core.call_learner("your block", lambda x, y=0: x + y, 1, y=2) == 3


def test_describe_and_compare_steps_name_the_first_difference():
    conv = core.describe(layers.Conv2D(8, 4, padding="same"))
    assert str(conv) == "Conv2D(8 filters, 4x4, stride 1, padding same)"
    assert core.describe(layers.BatchNormalization()) == \
        core.describe(layers.BatchNormalization(axis=3))
    assert core.describe(layers.Activation("relu")) == core.describe(layers.ReLU())
    expected = [conv, core.describe(layers.ReLU())]
    core.compare_steps("main path", expected, list(expected), lambda w, e, g: "")
    with pytest.raises(core.CheckFailed) as failure:
        core.compare_steps("main path", expected, [conv], lambda w, e, g: f"{w} hint.")
    assert str(failure.value) == ("main path, layer 2: expected ReLU, got nothing. "
                                  "Hint: main path hint.")


def test_chain_back_stops_at_the_merge():
    inputs = keras.Input((4, 4, 2))
    a = layers.Conv2D(2, 1, name="conv")(inputs)
    merged = layers.Add(name="add")([a, inputs])
    out = layers.Flatten(name="flat")(layers.ReLU(name="relu")(merged))
    ops, merge = core.chain_back(out)
    assert [op.name for op, _ in ops] == ["relu", "flat"]
    assert merge[0].name == "add"
    ops, merge = core.chain_back(a)
    assert [op.name for op, _ in ops] == ["conv"] and merge is None


def test_compare_numbers_scales_the_tolerance_with_the_output():
    core.compare_numbers([100.0, 0.0], [100.005, 0.0], tolerance=1e-4)
    with pytest.raises(core.CheckFailed, match="differs from the reference by up to 0.02"):
        core.compare_numbers([100.0, 0.0], [100.02, 0.0], tolerance=1e-4)
    with pytest.raises(core.CheckFailed):
        core.compare_numbers([0.0, 0.001], [0.0, 0.0], tolerance=1e-4)


# --- the notebooks may compute in mixed_bfloat16 ----------------------------

@pytest.fixture
def bfloat16_policy():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


# A oneDNN cap below AVX-512 (ONEDNN_MAX_CPU_ISA=AVX2 on an AVX-512 BF16 CPU, the
# check of the AVX2 kind's numbers) leaves TensorFlow calling oneDNN's bfloat16
# convolution, which the cap forbids: it aborts. With AVX512_CORE it still runs.
@pytest.mark.skipif(not (machine.onednn_isa_cap() or "AVX512").startswith(("AVX512", "AVX10")),
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
