"""Seeding, determinism, precision choice, and the results files."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from utils import repro, results


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


def test_fast_precision_follows_the_cpu_flags(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(repro, "cpu_flags", lambda: {"avx2", "avx512f"})
    assert repro.fast_precision() == "float32"
    monkeypatch.setattr(repro, "cpu_flags", lambda: {"avx2", "avx512_bf16"})
    assert repro.fast_precision() == "mixed_bfloat16"


@pytest.mark.parametrize("cap, expected", [
    ("AVX2", "float32"),                  # numbers of an AVX2-only CPU, on this one
    ("avx512_core", "float32"),           # AVX-512 without bfloat16
    ("AVX512_CORE_BF16", "mixed_bfloat16"),
    ("ALL", "mixed_bfloat16"),            # oneDNN's own word for no cap
    ("", "mixed_bfloat16"),
])
def test_fast_precision_respects_a_onednn_cap(monkeypatch, cap, expected):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(repro, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert repro.fast_precision() == expected
    capped = cap.upper() not in ("", "ALL")
    assert repro.onednn_isa_cap() == (cap.upper() if capped else None)
    assert repro.environment()["onednn_max_cpu_isa"] == (cap.upper() if capped else "unset")
    assert repro.results_kind() == ("avx512-bf16-capped-" + cap.lower() if capped
                                    else "avx512-bf16")
    assert repro.device_name().endswith(f"oneDNN capped at {cap.upper()})" if capped
                                        else "avx512-bf16)")


def fake_devices(monkeypatch, gpu_capability=None, flags=("avx2", "fma")):
    """Make TensorFlow report a GPU of ``gpu_capability`` (or none) and these CPU flags."""
    cpu = tf.config.PhysicalDevice(name="/physical_device:CPU:0", device_type="CPU")
    gpu = tf.config.PhysicalDevice(name="/physical_device:GPU:0", device_type="GPU")
    gpus = [] if gpu_capability is None else [gpu]
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: gpus if kind == "GPU" else [cpu] + gpus)
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda device: {"device_name": "Fake GPU",
                                        "compute_capability": gpu_capability})
    monkeypatch.setattr(repro, "cpu_flags", lambda: set(flags))
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)  # the flags alone decide


@pytest.mark.parametrize("gpu, flags, mixed, expected", [
    (None, ("avx2", "fma"), False, "float32"),                 # a laptop
    (None, ("avx2", "fma"), True, "float32"),                  # no native bf16: stay fp32
    (None, ("avx512f", "avx512_bf16"), False, "float32"),      # notebooks 1, 2, 4
    (None, ("avx512f", "avx512_bf16"), True, "mixed_bfloat16"),  # notebook 3
    ((9, 0), ("avx2",), False, "float32"),                     # H100: only where asked
    ((9, 0), ("avx2",), True, "mixed_bfloat16"),
    ((7, 5), ("avx2",), True, "float32"),                      # T4: no bf16 tensor cores
])
def test_device_settings_per_device(monkeypatch, gpu, flags, mixed, expected):
    fake_devices(monkeypatch, gpu, flags)
    settings = repro.device_settings(mixed_precision=mixed)
    assert settings["precision"] == expected
    assert settings["device"] == ("cpu" if gpu is None else "gpu")
    assert settings["steps_per_execution"] == repro.STEPS_PER_EXECUTION[settings["device"]]


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


def test_environment_records_the_cpu(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.setattr(repro, "cpu_flags", lambda: {"avx2", "fma", "sse4_2"})
    env = repro.environment()
    assert env["cpu_kind"] == "avx2" and env["cpu_flags"] == ["avx2", "fma"]
    assert env["cpu"].endswith("cores)") and env["onednn"] in ("0", "1", "unset")
    assert env["device"].startswith("CPU: ") and env["device"].endswith("cores, avx2)")
    monkeypatch.setattr(repro, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert repro.cpu_kind() == "avx512-bf16"


def test_save_and_load_results(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    path = results.save_results("99_demo", {"test_accuracy": 0.91234, "recall": 0.5,
                                            "parameters": np.int64(1310)},
                                {"test_accuracy": 0.9, "recall": 0.8}, {"training": 12.345},
                                extra={"epochs": 10})
    assert path == tmp_path / "99_demo.json"
    record = json.loads(path.read_text())
    assert record["metrics"]["test_accuracy"] == {"value": 0.9123, "threshold": 0.9, "passed": True}
    assert record["metrics"]["recall"]["passed"] is False
    assert record["metrics"]["parameters"]["value"] == 1310
    assert isinstance(record["metrics"]["parameters"]["value"], int), "counts stay integers"
    assert record["seconds"] == {"training": 12.3} and record["extra"] == {"epochs": 10}
    assert record["environment"]["tensorflow"] == tf.__version__
    assert results.load_results("99_demo") == record


def test_save_results_rejects_thresholds_for_unknown_metrics(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="unknown metrics"):
        results.save_results("99_demo", {"a": 1.0}, {"b": 0.5})


def test_load_results_for_a_notebook_never_run(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="run notebooks/00_never.ipynb first"):
        results.load_results("00_never")
