"""Reproducibility: seeds, op determinism, versions, device and precision.

Call :func:`setup` once at the top of a notebook. It seeds Python, NumPy and
TensorFlow, turns on TensorFlow's op determinism (so a rerun on the same
machine gives the same numbers), sets the Keras precision policy and prints
what the run uses.
"""

from __future__ import annotations

import platform
import random
from pathlib import Path

import numpy as np

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags() -> set[str]:
    """Return the CPU feature flags Linux reports (empty elsewhere).

    Example: ``"avx512_bf16" in cpu_flags()``.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def fast_precision() -> str:
    """Return the fastest Keras precision policy that keeps accuracy here.

    ``"mixed_bfloat16"`` on a GPU of compute capability 8.0 or newer, or on
    a CPU with native bfloat16 instructions (AVX-512 BF16 or AMX); otherwise
    ``"float32"``, because emulated bfloat16 is slower than float32.
    Example: ``setup(precision=fast_precision())``.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        major = (details.get("compute_capability") or (0, 0))[0]
        return "mixed_bfloat16" if major >= 8 else "float32"
    return "mixed_bfloat16" if cpu_flags() & set(BF16_CPU_FLAGS) else "float32"


def device_name() -> str:
    """Describe the device TensorFlow computes on, e.g. ``'GPU: NVIDIA H100'``.

    Example: ``print(device_name())``.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    import os

    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU: {name} ({os.cpu_count()} cores)"


def environment() -> dict:
    """Return library versions, device and precision policy as a dict.

    Example: ``environment()["tensorflow"]``.
    """
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "device": device_name(),
        "precision": keras.mixed_precision.global_policy().name,
    }


def setup(seed: int = 42, precision: str = "float32", verbose: bool = True) -> dict:
    """Seed everything, enable op determinism, set the precision; print the setup.

    ``precision`` is a Keras policy name (``"float32"``, ``"mixed_bfloat16"``)
    or ``"auto"`` for :func:`fast_precision`. Returns :func:`environment`.
    Example: ``env = setup(seed=0)``.
    """
    import keras
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # seeds Python, NumPy and TensorFlow
    tf.config.experimental.enable_op_determinism()
    if precision == "auto":
        precision = fast_precision()
    keras.mixed_precision.set_global_policy(precision)
    env = environment()
    if verbose:
        print(" | ".join(f"{k} {v}" for k, v in env.items()) + f" | seed {seed}")
    return env
