"""Benchmark: what resetting the seeds between two ``fit`` calls costs.

Notebook 3 trains its ResNet50 in two phases with one compiled model, so the
training step is traced into a graph once. Its first epoch of the second
phase was about 17 s slower than the others while it called
``keras.utils.set_random_seed`` just before. This probe trains notebook 3's
network one epoch of 8 steps at a time (same model, same dataset, autotuner
off) and, before each epoch, does one of:

- nothing;
- ``random.seed`` and ``np.random.seed`` (Python's and NumPy's seeds only);
- ``tf.random.set_seed`` (TensorFlow's global seed only);
- ``keras.utils.set_random_seed`` (all of them, as the notebook did).

The variants alternate, ``--repeats`` times each; the epoch times say which
reset makes TensorFlow trace the training step again. Run it alone on an
otherwise idle machine (about 3 minutes on 2 cores)::

    python benchmarks/investigations/reseed_retrace.py          # print the epoch times
    python benchmarks/investigations/reseed_retrace.py --write  # also save its results file

The results file records the CPU model and flags. Never compare figures taken
on different machines.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/, for common
import common  # noqa: E402  (puts the repository on sys.path too)
from epoch_boundaries import BATCH, STEPS, compiled_resnet50, pipeline, random_signs  # noqa: E402


def resets() -> dict:
    """The seed resets to compare, by name."""
    import keras
    import numpy as np
    import tensorflow as tf

    def python_and_numpy():
        random.seed(0)
        np.random.seed(0)

    return {"nothing": lambda: None, "python_and_numpy": python_and_numpy,
            "tf_random_set_seed": lambda: tf.random.set_seed(0),
            "keras_set_random_seed": lambda: keras.utils.set_random_seed(0)}


def main() -> None:
    parser = common.parser(__doc__, "reseed_retrace")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    import utils  # noqa: F401  (oneDNN on, quiet start-up; as the notebooks run)

    import tensorflow as tf

    model = compiled_resnet50()
    data = pipeline(tf.data.Dataset.from_tensor_slices(random_signs(STEPS * BATCH)).batch(BATCH),
                    autotune=False)
    start = time.perf_counter()
    model.fit(data, epochs=1, shuffle=False, verbose=0)
    first = round(time.perf_counter() - start, 1)
    print(f"first epoch (builds the training step): {first} s", flush=True)
    seconds = {name: [] for name in resets()}
    for _ in range(args.repeats):
        for name, reset in resets().items():
            reset()
            start = time.perf_counter()
            model.fit(data, epochs=1, shuffle=False, verbose=0)
            seconds[name].append(round(time.perf_counter() - start, 1))
            print(f"epoch after resetting {name}: {seconds[name][-1]} s", flush=True)
    medians = {name: statistics.median(s) for name, s in seconds.items()}
    print("median epoch seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in medians.items()))
    if args.write:
        results = {"machine": common.machine(), "steps_per_epoch": STEPS, "batch": BATCH,
                   "first_epoch_s": first, "epoch_seconds_after_reset": seconds,
                   "median_epoch_s": medians}
        common.write_results("reseed_retrace", results, HERE)


if __name__ == "__main__":
    main()
