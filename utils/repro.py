"""Reproducibility: seeds, op determinism, versions, device and precision.

Call :func:`setup` once at the top of a notebook. It seeds Python, NumPy and
TensorFlow, turns on TensorFlow's op determinism (so a rerun on the same
machine gives the same numbers), sets the Keras precision policy and prints
what the run uses. :func:`build_for_training` prepares a compiled model for
``fit`` without changing any number it computes.
"""

from __future__ import annotations

import os
import platform
import random
from pathlib import Path

import numpy as np

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
# Values of oneDNN's ONEDNN_MAX_CPU_ISA that still allow its bfloat16 kernels.
# Any lower cap (e.g. AVX2) makes oneDNN run the kernels of a CPU without them.
ONEDNN_ISAS_WITH_BF16 = ("ALL", "AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX",
                         "AVX512_CORE_AMX_FP16", "AVX10_1_512", "AVX10_1_512_AMX",
                         "AVX10_1_512_AMX_FP16", "AVX10_2_512", "AVX10_2_512_AMX_2")
# Flags recorded with every result: they decide which kernels a CPU runs.
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")
# Training steps per call into TensorFlow (see device_settings).
STEPS_PER_EXECUTION = {"cpu": 16, "gpu": 16}


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


def onednn_isa_cap() -> str | None:
    """Return the instruction-set cap set by ``ONEDNN_MAX_CPU_ISA``, or ``None``.

    oneDNN, which runs TensorFlow's convolutions and matrix products on x86
    CPUs, then uses no instructions beyond the cap. ``ONEDNN_MAX_CPU_ISA=AVX2``
    on an AVX-512 CPU gives the float32 numbers of an AVX2-only CPU
    (``benchmarks/RESULTS.md``), though not its speed.
    Example: ``onednn_isa_cap()`` -> ``'AVX2'``.
    """
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    return cap if cap and cap != "ALL" else None


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively, within any oneDNN cap.

    True with AVX-512 BF16 or AMX, unless ``ONEDNN_MAX_CPU_ISA`` caps oneDNN
    below them. Under such a cap oneDNN computes bfloat16 without those
    instructions, or, below AVX-512, refuses TensorFlow's bfloat16
    convolutions. Example: ``native_bfloat16()``.
    """
    cap = onednn_isa_cap()
    has_bf16 = bool(cpu_flags() & set(BF16_CPU_FLAGS))
    return has_bf16 and (cap is None or cap in ONEDNN_ISAS_WITH_BF16)


def fast_precision() -> str:
    """Return the fastest Keras precision policy that keeps accuracy here.

    ``"mixed_bfloat16"`` on a GPU of compute capability 8.0 or newer, or on
    a CPU with native bfloat16 instructions (AVX-512 BF16 or AMX, see
    :func:`native_bfloat16`); otherwise ``"float32"``, because emulated
    bfloat16 is slower than float32.
    Example: ``setup(precision=fast_precision())``.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        major = (details.get("compute_capability") or (0, 0))[0]
        return "mixed_bfloat16" if major >= 8 else "float32"
    return "mixed_bfloat16" if native_bfloat16() else "float32"


def device_name() -> str:
    """Describe the device TensorFlow computes on.

    E.g. ``'GPU: NVIDIA H100'`` or ``'CPU: AMD EPYC (2 cores, avx2)'``.

    Example: ``print(device_name())``.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    # The kind tells two CPUs apart that report the same model name.
    cap = onednn_isa_cap()
    capped = f", oneDNN capped at {cap}" if cap else ""
    return f"CPU: {cpu_model()} ({os.cpu_count()} cores, {cpu_kind()}{capped})"


def cpu_model() -> str:
    """Return the CPU's model name from ``/proc/cpuinfo`` (else what Python knows).

    Example: ``cpu_model()`` -> ``'AMD EPYC 7B13'``.
    """
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_kind() -> str:
    """Name the vector instructions that set this CPU's speed for the course.

    ``"avx512-bf16"`` (native bfloat16), ``"avx512"``, ``"avx2"`` or
    ``"other"`` (e.g. Arm, or flags unknown). Example: ``cpu_kind()``.
    """
    flags = cpu_flags()
    if flags & set(BF16_CPU_FLAGS):
        return "avx512-bf16"
    if "avx512f" in flags:
        return "avx512"
    return "avx2" if "avx2" in flags else "other"


def results_kind() -> str:
    """Name the kind of CPU numbers for results files: :func:`cpu_kind`, plus any oneDNN cap.

    E.g. ``"avx2"``, or ``"avx512-bf16-capped-avx2"`` on an AVX-512 BF16 CPU
    run with ``ONEDNN_MAX_CPU_ISA=AVX2``, so capped runs never land in the
    uncapped kind's file. Example: ``f"seed_study-{results_kind()}.json"``.
    """
    cap = onednn_isa_cap()
    return f"{cpu_kind()}-capped-{cap.lower()}" if cap else cpu_kind()


def environment() -> dict:
    """Return library versions, device, CPU and precision policy as a dict.

    ``cpu`` and ``cpu_kind`` say which CPU ran the numbers (timings and the
    last digits of results differ between CPU kinds); ``onednn`` is the value
    of ``TF_ENABLE_ONEDNN_OPTS`` the run used and ``onednn_max_cpu_isa`` its
    instruction-set cap (:func:`onednn_isa_cap`). Example: ``environment()["tensorflow"]``.
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
        "cpu": f"{cpu_model()} ({os.cpu_count()} cores)",
        "cpu_kind": cpu_kind(),
        "cpu_flags": sorted(cpu_flags() & set(SPEED_FLAGS)),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"),
        "onednn_max_cpu_isa": onednn_isa_cap() or "unset",
    }


def device_settings(mixed_precision: bool = False) -> dict:
    """The course's per-device choices, made here and nowhere else.

    - ``precision``: ``"float32"``, unless ``mixed_precision`` is asked for
      (notebook 3 only, where the heavy convolutions make it pay); then
      :func:`fast_precision`, which picks bfloat16 only where the hardware
      computes it natively.
    - ``steps_per_execution`` for ``model.compile``: how many training steps
      Keras runs per call into TensorFlow. It changes no number of the
      training (same batches, same order, same updates); it only removes
      Python overhead between small steps, which dominates on a CPU for the
      small networks of notebooks 1 and 2. Batch sizes stay the course's
      own on every device, so results do not depend on the device's memory.

    Example: ``settings = device_settings()`` then
    ``model.compile(..., steps_per_execution=settings["steps_per_execution"])``.
    """
    import tensorflow as tf

    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    return {
        "device": "gpu" if on_gpu else "cpu",
        "precision": fast_precision() if mixed_precision else "float32",
        "steps_per_execution": STEPS_PER_EXECUTION["gpu" if on_gpu else "cpu"],
    }


def setup(seed: int = 42, mixed_precision: bool = False, precision: str | None = None,
          verbose: bool = True) -> dict:
    """Seed everything, enable op determinism, set the precision; print the setup.

    The precision comes from :func:`device_settings` (float32 unless
    ``mixed_precision=True``); ``precision`` overrides it with a Keras policy
    name (``"float32"``, ``"mixed_bfloat16"``, or ``"auto"`` for
    :func:`fast_precision`). Returns :func:`environment` plus the
    ``steps_per_execution`` of :func:`device_settings`.
    Example: ``env = setup(seed=0)``.
    """
    import keras
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # seeds Python, NumPy and TensorFlow
    tf.config.experimental.enable_op_determinism()
    settings = device_settings(mixed_precision)
    if precision == "auto":
        precision = fast_precision()
    keras.mixed_precision.set_global_policy(precision or settings["precision"])
    env = environment()
    if verbose:
        shown = ("python", "tensorflow", "keras", "numpy", "device", "precision")
        print(" | ".join(f"{k} {env[k]}" for k in shown) + f" | seed {seed}")
    return {**env, "steps_per_execution": settings["steps_per_execution"]}


def build_for_training(model, data) -> None:
    """Create a compiled model's optimizer and metric variables now, before ``fit``.

    With TensorFlow, Keras creates these variables the first time ``fit`` runs
    its training step, while TensorFlow traces that step into a graph. A
    traced function that creates variables is traced a second time, so the
    slowest part of the first epoch is paid twice (about 9 s of ResNet50's
    first epoch on a 2-core Zen 4, ``benchmarks/RESULTS.md``). This creates
    them from the shapes in ``data`` alone, as Keras does by itself on its
    other backends: no batch is read, no random number is drawn, and every
    number ``fit`` computes stays the same (``tests/test_pipeline.py``).
    ``data`` is what ``fit`` will get: a ``tf.data.Dataset`` of ``(x, y)``
    batches or a pair of arrays ``(x, y)``. Call it after every ``compile``.
    It relies on ``Model._symbolic_build``, which is not a public API: should
    a Keras release drop it, this warns and builds only the optimizer.
    Example: ``model.compile(...); build_for_training(model, train_ds); model.fit(train_ds)``.
    """
    import warnings

    import tensorflow as tf

    if getattr(model, "optimizer", None) is None:
        raise ValueError("build_for_training needs a compiled model: call model.compile first")
    if isinstance(data, tf.data.Dataset):
        batch = data.element_spec  # shapes and dtypes only: nothing is read
    else:
        x, y = data
        batch = (x[:1], y[:1])
    build = getattr(model, "_symbolic_build", None)
    if build is None:
        warnings.warn("this Keras has no Model._symbolic_build: utils.build_for_training built "
                      "the optimizer only, so fit may still trace its step twice", stacklevel=2)
        model.optimizer.build(model.trainable_variables)
        return
    build(data_batch=batch)
