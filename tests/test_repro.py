"""Seeding, op determinism and the precision policy that setup() sets."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tests.test_machine import fake_devices
from utils import repro


def test_setup_makes_runs_repeat(capsys):
    env = repro.setup(seed=7)
    first = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    repro.setup(seed=7, verbose=False)
    second = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    printed = capsys.readouterr().out
    assert "tensorflow 2." in printed and "seed 7" in printed and "precision float32" in printed
    assert set(env) >= {"tensorflow", "keras", "numpy", "device", "precision"}


def test_setup_sets_the_precision_policy():
    try:
        env = repro.setup(seed=0, precision="mixed_bfloat16", verbose=False)
        assert env["precision"] == "mixed_bfloat16"
        assert keras.mixed_precision.global_policy().compute_dtype == "bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_setup_on_a_faked_gpu_keeps_the_course_float32(monkeypatch, capsys):
    fake_devices(monkeypatch, (9, 0))
    try:
        env = repro.setup(seed=1)
        assert env["precision"] == "float32" and env["device"] == "GPU: Fake GPU"
        env = repro.setup(seed=1, mixed_precision=True, verbose=False)
        assert env["precision"] == "mixed_bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert "device GPU: Fake GPU | precision float32" in capsys.readouterr().out
