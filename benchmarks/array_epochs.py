"""Benchmark: do notebook 1's uneven epochs come from the datasets Keras builds from arrays?

Notebook 1 passes NumPy arrays to ``fit`` (training and validation), so Keras
builds the tf.data pipelines itself, with tf.data's autotuner on. In the course
runs on the AVX-512 BF16 machine its five epochs of identical work took
between 12 and 23 s. ``epoch_boundaries.py`` showed that deleting an autotuned
iterator can block for seconds after long steps; this probe asks whether the
same happens to notebook 1's short steps.

It trains notebook 1's network (37,633 weights, batch 16, 16 steps per call,
float32, op determinism on, as the notebook runs it) on random faces of the
notebook's sizes, four epochs with a validation pass each, in two ways that
differ only in how the data are fed:

- ``arrays``: ``fit(x, y, validation_data=(x_val, y_val))``, as notebook 1 does;
- ``no_autotune``: the same arrays through ``tf.data`` pipelines built by hand
  and passed through ``utils.no_autotune``, as notebooks 3 and 4 do.

The two alternate (arrays, no_autotune, arrays, no_autotune, ...), each with a
fresh model from the same seed, and every epoch's wall time is recorded.

Run it alone on an otherwise idle machine (about 5 minutes on 2 cores)::

    python benchmarks/array_epochs.py             # print the epoch times
    python benchmarks/array_epochs.py --write     # also save array_epochs-<cpu kind>.json

The results file records the CPU model and flags. Never compare figures taken
on different machines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

FIT, VAL, BATCH, STEPS_PER_CALL = 9_472, 1_053, 16, 16


def random_faces(n: int, seed: int):
    """``n`` random 64x64 grey faces (three equal channels) in [0, 1] and 0/1 labels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    grey = rng.random((n, 64, 64, 1), dtype=np.float32)
    return np.repeat(grey, 3, axis=-1), rng.integers(0, 2, n).astype("float32")


def compiled_model():
    """Notebook 1's network, seeded and compiled as the notebook compiles it."""
    import keras

    from course_vs_pipeline import smiles_model

    keras.utils.set_random_seed(0)
    model = smiles_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"], steps_per_execution=STEPS_PER_CALL)
    return model


def epoch_seconds(how: str, train, val, epochs: int) -> list[float]:
    """Each epoch's wall time (training and its validation pass) of one fresh fit."""
    import keras
    import tensorflow as tf

    import utils

    model = compiled_model()
    seconds: list[float] = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda *_: seconds.append(time.perf_counter()),
        on_epoch_end=lambda *_: seconds.append(time.perf_counter() - seconds.pop()))
    if how == "arrays":
        model.fit(*train, batch_size=BATCH, validation_data=val, epochs=epochs,
                  verbose=0, callbacks=[timer])
    else:
        fit_ds = tf.data.Dataset.from_tensor_slices(train).shuffle(FIT, seed=0)
        fit_ds = utils.no_autotune(fit_ds.batch(BATCH).prefetch(2))
        val_ds = utils.no_autotune(tf.data.Dataset.from_tensor_slices(val).batch(BATCH))
        model.fit(fit_ds, validation_data=val_ds, epochs=epochs, verbose=0, callbacks=[timer],
                  shuffle=False)  # the dataset shuffles; says so to Keras
    return [round(s, 2) for s in seconds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="fits of each kind")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--write", action="store_true", help="save array_epochs-<kind>.json")
    args = parser.parse_args()
    import utils  # noqa: F401  (oneDNN on, quiet start-up; as the notebooks run)
    from where_time_goes import machine

    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    train, val = random_faces(FIT, 1), random_faces(VAL, 2)
    runs: dict[str, list[list[float]]] = {"arrays": [], "no_autotune": []}
    for repeat in range(args.repeats):
        for how in runs:
            runs[how].append(epoch_seconds(how, train, val, args.epochs))
            print(f"{how:12s} fit {repeat + 1}: epoch seconds {runs[how][-1]}", flush=True)
    summary = {}
    for how, fits in runs.items():
        later = [s for fit in fits for s in fit[1:]]  # the first epoch builds the graph
        summary[how] = {"median_epoch_s_after_first": round(statistics.median(later), 2),
                        "min_s": min(later), "max_s": max(later)}
        print(f"{how:12s} epochs 2-{args.epochs}: median {summary[how]['median_epoch_s_after_first']}"
              f" s, range {min(later)} to {max(later)} s", flush=True)
    results = {"machine": machine(), "fit_images": FIT, "val_images": VAL, "batch": BATCH,
               "steps_per_execution": STEPS_PER_CALL, "epochs": args.epochs,
               "epoch_seconds": runs, "summary": summary}
    if args.write:
        path = HERE / f"array_epochs-{results['machine']['cpu_kind']}.json"
        path.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
