"""Benchmark: do notebook 1's uneven epochs come from the datasets Keras builds from arrays?

Notebook 1 passes NumPy arrays to ``fit`` (training and validation), so Keras
builds the tf.data pipelines itself, with tf.data's autotuner on. In the course
runs on the AVX-512 BF16 machine its five epochs of identical work took
between 12 and 23 s. ``epoch_boundaries.py`` showed that deleting an autotuned
iterator can block for seconds after long steps; this probe asks whether the
same happens to notebook 1's short steps.

It trains notebook 1's network (37,633 weights, batch 16, 16 steps per call,
float32, op determinism on, as the notebook runs it) on random faces of the
notebook's sizes, four epochs with a validation pass each, in three ways that
differ only in how the data are fed:

- ``arrays``: ``fit(x, y, validation_data=(x_val, y_val))``, as notebook 1 did
  until 2026-12-04;
- ``no_autotune``: the same arrays through ``tf.data`` pipelines built by hand
  and passed through ``utils.no_autotune``, as notebooks 3 and 4 do (their
  shuffle draws another order than ``fit``'s);
- ``array_dataset``: ``utils.array_dataset``, the pipeline Keras builds from
  the arrays (same batches, same order, same numbers as ``arrays``) with the
  autotuner off, as notebook 1 does now.

The three alternate (arrays, no_autotune, array_dataset, arrays, ...), each
with a fresh model from the same seed, and every epoch's wall time is recorded.

A second probe does the same for notebook 2, whose fits are many short epochs
(its 1,310-weight network, 917 random photos to fit and 163 to validate, batch
64, 100 epochs per fit, as the notebook trains): its hand-built pipelines with
the autotuner on (``prefetch(AUTOTUNE)``, as the notebook had it until
2026-12-04) and off (``utils.no_autotune``), alternating, timing each whole
fit and recording its last validation loss (the same whatever the setting).

Run it alone on an otherwise idle machine (about 13 minutes on 2 cores for the
default 4 repeats; the machine's speed drifts, so fewer tell little)::

    python benchmarks/investigations/array_epochs.py          # print the epoch times
    python benchmarks/investigations/array_epochs.py --write  # also save its results file

The results file records the CPU model and flags. Never compare figures taken
on different machines.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/, for common
import common  # noqa: E402  (puts the repository on sys.path too)

FIT, VAL, BATCH, STEPS_PER_CALL = 9_472, 1_053, 16, 16


# Removed from utils in issue 30 (notebooks train with plain Keras now); kept here, private
# Keras and all, so that this probe can still be re-run as it was.
def array_dataset(x, y, batch_size: int, shuffle: bool = False):
    """The former ``utils.array_dataset``: Keras' own array pipeline, autotuner off."""
    import tensorflow as tf
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    adapter = ArrayDataAdapter(x, y, batch_size=batch_size, shuffle=shuffle)
    batches = tf.data.experimental.assert_cardinality(adapter.num_batches)
    options = tf.data.Options()
    options.autotune.enabled = False
    return adapter.get_tf_dataset().apply(batches).with_options(options)

def random_faces(n: int, seed: int):
    """``n`` random 64x64 grey faces (three equal channels) in [0, 1] and 0/1 labels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    grey = rng.random((n, 64, 64, 1), dtype=np.float32)
    return np.repeat(grey, 3, axis=-1), rng.integers(0, 2, n).astype("float32")


def compiled_model():
    """Notebook 1's network, seeded and compiled as the notebook compiles it."""
    import keras

    keras.utils.set_random_seed(0)
    model = common.smiles_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"], steps_per_execution=STEPS_PER_CALL)
    return model


def epoch_seconds(how: str, train, val, epochs: int) -> list[float]:
    """Each epoch's wall time (training and its validation pass) of one fresh fit."""
    import keras
    import tensorflow as tf

    import utils

    model = compiled_model()
    timer = common.epoch_timer()
    if how == "arrays":
        model.fit(*train, batch_size=BATCH, validation_data=val, epochs=epochs,
                  verbose=0, callbacks=[timer])
    elif how == "array_dataset":
        model.fit(array_dataset(*train, BATCH, shuffle=True), shuffle=False,
                  validation_data=array_dataset(*val, BATCH), epochs=epochs,
                  verbose=0, callbacks=[timer])
    else:
        fit_ds = tf.data.Dataset.from_tensor_slices(train).shuffle(FIT, seed=0)
        fit_ds = utils.no_autotune(fit_ds.batch(BATCH).prefetch(2))
        val_ds = utils.no_autotune(tf.data.Dataset.from_tensor_slices(val).batch(BATCH))
        model.fit(fit_ds, validation_data=val_ds, epochs=epochs, verbose=0, callbacks=[timer],
                  shuffle=False)  # the dataset shuffles; says so to Keras
    return [round(s, 2) for s in timer.seconds]


def signs_fit(autotune: bool, train, val, epochs: int) -> tuple[float, float]:
    """Wall seconds and last validation loss of one notebook-2-sized fit."""
    import keras
    import tensorflow as tf

    from epoch_boundaries import pipeline

    keras.utils.set_random_seed(0)
    fit_ds = tf.data.Dataset.from_tensor_slices(train).shuffle(len(train[0]), seed=0)
    fit_ds = pipeline(fit_ds.batch(64).prefetch(tf.data.AUTOTUNE), autotune)
    val_ds = pipeline(tf.data.Dataset.from_tensor_slices(val).batch(64), autotune)
    model = common.signs_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=STEPS_PER_CALL)
    start = time.perf_counter()
    history = model.fit(fit_ds, validation_data=val_ds, epochs=epochs, verbose=0, shuffle=False)
    return round(time.perf_counter() - start, 2), float(history.history["val_loss"][-1])


def main() -> None:
    parser = common.parser(__doc__, "array_epochs")
    parser.add_argument("--repeats", type=int, default=4, help="fits of each kind")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--signs-epochs", type=int, default=100)
    args = parser.parse_args()
    import utils  # noqa: F401  (oneDNN on, quiet start-up; as the notebooks run)
    from epoch_boundaries import random_signs

    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    train, val = random_faces(FIT, 1), random_faces(VAL, 2)
    runs: dict[str, list[list[float]]] = {"arrays": [], "no_autotune": [], "array_dataset": []}
    for repeat in range(args.repeats):
        for how in runs:
            runs[how].append(epoch_seconds(how, train, val, args.epochs))
            print(f"{how:13s} fit {repeat + 1}: epoch seconds {runs[how][-1]}", flush=True)
    summary = {}
    for how, fits in runs.items():
        later = [s for fit in fits for s in fit[1:]]  # the first epoch builds the graph
        summary[how] = {"median_epoch_s_after_first": round(statistics.median(later), 2),
                        "min_s": min(later), "max_s": max(later)}
        median = summary[how]["median_epoch_s_after_first"]
        print(f"{how:13s} epochs 2-{args.epochs}: median {median} s, range {min(later)} to "
              f"{max(later)} s", flush=True)
    signs = {"autotune_on": [], "autotune_off": []}
    images, labels = random_signs(917 + 163)
    signs_train, signs_val = (images[:917], labels[:917]), (images[917:], labels[917:])
    for repeat in range(args.repeats):
        for key in signs:
            seconds, val_loss = signs_fit(key == "autotune_on", signs_train, signs_val,
                                          args.signs_epochs)
            signs[key].append({"fit_s": seconds, "last_val_loss": val_loss})
            print(f"notebook 2, {key:12s} fit {repeat + 1}: {seconds} s, "
                  f"last val_loss {val_loss:.6f}", flush=True)
    for key in ("autotune_on", "autotune_off"):
        times = [fit["fit_s"] for fit in signs[key]]
        print(f"notebook 2, {key:12s} {args.signs_epochs} epochs: median "
              f"{round(statistics.median(times), 2)} s, range {min(times)} to {max(times)} s",
              flush=True)
    results = {"machine": common.machine(), "fit_images": FIT, "val_images": VAL, "batch": BATCH,
               "steps_per_execution": STEPS_PER_CALL, "epochs": args.epochs,
               "epoch_seconds": runs, "summary": summary,
               "signs": {"fit_images": 917, "val_images": 163, "batch": 64,
                         "epochs": args.signs_epochs, "fits": signs}}
    if args.write:
        common.write_results("array_epochs", results, HERE)


if __name__ == "__main__":
    main()
