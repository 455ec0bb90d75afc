"""The machine facts: CPU flags, oneDNN cap, precision choice, device settings, environment."""

from __future__ import annotations

import pytest
import tensorflow as tf

from utils import machine


def test_fast_precision_follows_the_cpu_flags(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(machine, "cpu_flags", lambda: {"avx2", "avx512f"})
    assert machine.fast_precision() == "float32"
    monkeypatch.setattr(machine, "cpu_flags", lambda: {"avx2", "avx512_bf16"})
    assert machine.fast_precision() == "mixed_bfloat16"


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
    monkeypatch.setattr(machine, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert machine.fast_precision() == expected
    capped = cap.upper() not in ("", "ALL")
    assert machine.onednn_isa_cap() == (cap.upper() if capped else None)
    assert machine.environment()["onednn_max_cpu_isa"] == (cap.upper() if capped else "unset")
    assert machine.device_name().endswith(f"oneDNN capped at {cap.upper()})" if capped
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
    monkeypatch.setattr(machine, "cpu_flags", lambda: set(flags))
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
    settings = machine.device_settings(mixed_precision=mixed)
    assert settings["precision"] == expected
    assert settings["device"] == ("cpu" if gpu is None else "gpu")
    assert settings["steps_per_execution"] == machine.STEPS_PER_EXECUTION[settings["device"]]


def test_environment_records_the_cpu(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.setattr(machine, "cpu_flags", lambda: {"avx2", "fma", "sse4_2"})
    env = machine.environment()
    assert env["cpu_kind"] == "avx2" and env["cpu_flags"] == ["avx2", "fma"]
    assert env["cpu"].endswith("cores)") and env["onednn"] in ("0", "1", "unset")
    assert env["device"].startswith("CPU: ") and env["device"].endswith("cores, avx2)")
    monkeypatch.setattr(machine, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert machine.cpu_kind() == "avx512-bf16"


def test_speed_probe_gives_slowest_and_fastest_images_per_second():
    slowest, fastest = machine.speed_probe(repeats=2, steps=2, batch_size=4)
    assert 0 < slowest <= fastest
