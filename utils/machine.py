"""The machine a run computes on: CPU flags, oneDNN cap, device, precision policy and speed."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
# The ONEDNN_MAX_CPU_ISA caps that leave oneDNN its bfloat16 kernels (lower ones, e.g. AVX2, do not)
ONEDNN_ISAS_WITH_BF16 = ("ALL", "AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX",
                         "AVX512_CORE_AMX_FP16", "AVX10_1_512", "AVX10_1_512_AMX",
                         "AVX10_1_512_AMX_FP16", "AVX10_2_512", "AVX10_2_512_AMX_2")
# Flags recorded with every result: they decide which kernels a CPU runs.
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")
# Training steps per call into TensorFlow (see device_settings).
STEPS_PER_EXECUTION = {"cpu": 16, "gpu": 16}


def cpuinfo_field(name: str) -> str | None:
    """Return the first ``name`` field of ``/proc/cpuinfo`` or None: ``cpuinfo_field("flags")``."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(name)), None)


def cpu_flags() -> set[str]:
    """Return the CPU feature flags Linux reports (empty elsewhere): ``"avx2" in cpu_flags()``."""
    return set((cpuinfo_field("flags") or "").split())


def onednn_isa_cap() -> str | None:
    """Return the ``ONEDNN_MAX_CPU_ISA`` cap on oneDNN's instructions (e.g. ``'AVX2'``), or None.

    ``AVX2`` on an AVX-512 CPU gives an AVX2-only CPU's float32 numbers, though not its speed.
    """
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    return cap if cap and cap != "ALL" else None


def _gpu_details() -> dict | None:
    """TensorFlow's details of the first GPU, with at least its ``device_name``; None if none."""
    gpus = tf.config.list_physical_devices("GPU")
    return {"device_name": gpus[0].name,
            **tf.config.experimental.get_device_details(gpus[0])} if gpus else None


def fast_precision() -> str:
    """Return ``"mixed_bfloat16"`` where bfloat16 is native and fast, else ``"float32"``.

    Native: a GPU of compute capability 8.0 or newer, or AVX-512 BF16 or AMX within any oneDNN
    cap (emulated bfloat16 is slower). Example: ``setup(precision=fast_precision())``.
    """
    gpu, cap = _gpu_details(), onednn_isa_cap()
    if gpu is not None:
        fast = (gpu.get("compute_capability") or (0, 0))[0] >= 8
    else:
        fast = bool(cpu_flags() & set(BF16_CPU_FLAGS)) and cap in (None, *ONEDNN_ISAS_WITH_BF16)
    return "mixed_bfloat16" if fast else "float32"


def device_name() -> str:
    """Describe the device TensorFlow computes on, e.g. ``'CPU: AMD EPYC 7B13 (2 cores, avx2)'``."""
    gpu, cap = _gpu_details(), onednn_isa_cap()
    if gpu is not None:
        return f"GPU: {gpu['device_name']}"
    capped = f", oneDNN capped at {cap}" if cap else ""  # with the kind: tells CPUs apart
    return f"CPU: {cpu_model()} ({os.cpu_count()} cores, {cpu_kind()}{capped})"


def cpu_model() -> str:
    """Return the CPU's model name, e.g. ``'AMD EPYC 7B13'`` (else what Python knows)."""
    return cpuinfo_field("model name") or platform.processor() or platform.machine()


def cpu_kind() -> str:
    """Name the CPU's vector instructions: ``avx512-bf16``, ``avx512``, ``avx2`` or ``other``."""
    flags = cpu_flags()
    return ("avx512-bf16" if flags & set(BF16_CPU_FLAGS) else "avx512" if "avx512f" in flags
            else "avx2" if "avx2" in flags else "other")


def environment() -> dict:
    """Return versions, device, CPU, precision and oneDNN settings: ``environment()["keras"]``."""
    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__, "device": device_name(),
            "precision": keras.mixed_precision.global_policy().name,
            "cpu": f"{cpu_model()} ({os.cpu_count()} cores)", "cpu_kind": cpu_kind(),
            "cpu_flags": sorted(cpu_flags() & set(SPEED_FLAGS)),
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"),
            "onednn_max_cpu_isa": onednn_isa_cap() or "unset"}


def device_settings(mixed_precision: bool = False) -> dict:
    """Return the course's per-device choices, made here and nowhere else.

    ``precision``: float32, or :func:`fast_precision` if ``mixed_precision`` (notebook 3);
    ``steps_per_execution`` cuts Python overhead, no number. Example: ``device_settings()``.
    """
    device = "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    return {"device": device, "precision": fast_precision() if mixed_precision else "float32",
            "steps_per_execution": STEPS_PER_EXECUTION[device]}


def speed_probe(repeats: int = 3, steps: int = 24, batch_size: int = 32) -> tuple[float, float]:
    """Train a small fixed conv net: the slowest and fastest of ``repeats`` epochs, in images/s.

    An untimed epoch builds the graph first. Example: ``slowest, fastest = speed_probe()``.
    """
    layers = keras.layers
    images = np.random.default_rng(0).random((steps * batch_size, 64, 64, 3), dtype=np.float32)
    labels = np.arange(len(images)) % 6
    model = keras.Sequential([keras.Input((64, 64, 3)), layers.Conv2D(16, 3, activation="relu"),
                              layers.MaxPooling2D(), layers.Conv2D(32, 3, activation="relu"),
                              layers.GlobalAveragePooling2D(), layers.Dense(6)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rates = []
    for _ in range(repeats + 1):  # the first builds the graph: not counted
        start = time.perf_counter()
        model.fit(images, labels, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        rates.append(len(images) / (time.perf_counter() - start))
    return min(rates[1:]), max(rates[1:])
