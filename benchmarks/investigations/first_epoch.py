"""Benchmark: the first epoch with and without ``utils.build_for_training``.

With TensorFlow, Keras creates the optimizer's variables (Adam's two running
averages per weight tensor) and the metrics' counters inside ``fit``'s first
training step, while TensorFlow traces that step into a graph. A traced
function that creates variables is traced again, so the first epoch builds
the training graph twice. ``utils.build_for_training`` creates those
variables before ``fit``, from the batches' shapes. This probe times, each in
a fresh Python process, ``compile``, the optional build and a first ``fit``
of one epoch (8 training steps, 2 validation steps, autotuner off), then a
second epoch, which has nothing left to build (the steady speed, which the
build must not change), for

- notebook 3's ResNet50 (64x64x3, batch 32, the precision notebook 3 uses
  on this CPU: mixed bfloat16 where the CPU computes it natively);
- notebook 1's smile network (batch 16, float32, 16 steps per call).

The two variants alternate, ``--repeats`` times each. Every run also prints
the epoch's training and validation loss: they must be the same with and
without the build (the build reads no data and draws no random number).

Run it alone on an otherwise idle machine (about 5 minutes on the 2-core Zen 4)::

    python benchmarks/investigations/first_epoch.py          # print the times
    python benchmarks/investigations/first_epoch.py --write  # also save its results file

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
sys.path.insert(0, str(HERE.parent))  # benchmarks/, for common
import common  # noqa: E402  (puts the repository on sys.path too)

STEPS, VALIDATION_STEPS = 8, 2


# Removed from utils in issue 30 (notebooks train with plain Keras now); kept here, private
# Keras and all, so that this probe can still be re-run as it was.
def build_for_training(model, data) -> None:
    """The former ``utils.build_for_training``: optimizer and metric variables before fit."""
    import tensorflow as tf
    batch = data.element_spec if isinstance(data, tf.data.Dataset) else (data[0][:1], data[1][:1])
    model._symbolic_build(data_batch=batch)

def probe(task: str, build: bool) -> dict:
    """One first epoch in this process: seconds of the build and of ``fit``, and the losses."""
    import keras
    import tensorflow as tf

    import utils
    from epoch_boundaries import as_in_notebooks, random_signs

    settings = as_in_notebooks(task)
    batch = settings["batch"]
    model = settings["build"]()
    model.compile(keras.optimizers.Adam(1e-3), settings["loss"], metrics=["accuracy"],
                  steps_per_execution=settings["steps_per_execution"])
    x, y = random_signs(batch * (STEPS + VALIDATION_STEPS), settings["classes"])
    split = batch * STEPS
    train = utils.no_autotune(tf.data.Dataset.from_tensor_slices((x[:split], y[:split]))
                              .shuffle(split, seed=1).batch(batch))
    val = utils.no_autotune(tf.data.Dataset.from_tensor_slices((x[split:], y[split:])).batch(batch))
    start = time.perf_counter()
    if build:
        build_for_training(model, train)
    built = time.perf_counter()
    history = model.fit(train, validation_data=val, epochs=1, shuffle=False, verbose=0)
    done = time.perf_counter()
    model.fit(train, validation_data=val, epochs=1, shuffle=False, verbose=0)
    second = time.perf_counter() - done  # nothing left to build: the steady speed
    return {"task": task, "build": build, "precision": keras.mixed_precision.global_policy().name,
            "build_s": round(built - start, 2), "fit_s": round(done - built, 2),
            "total_s": round(done - start, 2), "second_epoch_s": round(second, 2),
            "loss": history.history["loss"][0], "val_loss": history.history["val_loss"][0]}


def run_probe(task: str, build: bool) -> dict:
    """``probe`` in a fresh interpreter (TensorFlow traces from scratch)."""
    result = json.loads(common.run_child(__file__, task, *(["--build"] if build else []))[-1])
    print(f"  {task} build={build}: {result}", flush=True)
    return result


def main() -> None:
    parser = common.parser(__doc__, "first_epoch", probe=True)
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe, args.build)))
        return
    import utils  # noqa: F401  (quiet TensorFlow start-up)

    runs = [run_probe(task, build) for task in ("resnet50", "smiles")
            for _ in range(args.repeats) for build in (False, True)]
    summary = {}
    for task in ("resnet50", "smiles"):
        for build in (False, True):
            mine = [r for r in runs if r["task"] == task and r["build"] == build]
            summary[f"{task}, {'with' if build else 'without'} build_for_training"] = {
                "median_total_s": statistics.median(r["total_s"] for r in mine),
                "total_s": [r["total_s"] for r in mine],
                "median_second_epoch_s": statistics.median(r["second_epoch_s"] for r in mine),
                "same_losses": len({(r["loss"], r["val_loss"]) for r in mine}) == 1}
        same = len({(r["loss"], r["val_loss"]) for r in runs if r["task"] == task}) == 1
        summary[f"{task}: same losses with and without"] = same
    print(json.dumps(summary, indent=1))
    if args.write:
        results = {"machine": common.machine(), "steps": STEPS,
                   "validation_steps": VALIDATION_STEPS, "runs": runs, "summary": summary}
        common.write_results("first_epoch", results, HERE)


if __name__ == "__main__":
    main()
