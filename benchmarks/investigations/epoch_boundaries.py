"""Benchmark: what an epoch boundary costs, and where a ResNet50 step's time goes.

Two findings of issue 10's profiling, measured so anyone can check them:

1. **The tf.data autotuner stalls the end of an epoch.** Keras makes a new
   iterator over the dataset for every epoch (and for every `evaluate`,
   `predict` and validation pass) and deletes the old one. With tf.data's
   autotuner on (the default, also for the datasets Keras builds from NumPy
   arrays), deleting an iterator that fed ResNet50's training steps sometimes
   blocks for seconds while the process uses no CPU at all: the autotuner's
   background thread is asleep and the deletion waits for it. This probe runs
   8 training steps from a fresh iterator, deletes it, and times the deletion
   (wall and CPU), alternating autotune on and off.
2. **What that costs in training.** The same network trained 4 epochs on 918
   random images with 162 validation images (notebook 3's split sizes), with
   the datasets' autotune on and off, in the same process; each epoch's time.
3. **The steady speed against the ceiling, in one run.** Three more epochs of
   8 steps with the autotuner off give images/s and GFLOP/s, next to the
   ceiling probes of `where_time_goes.py` (large float32 matrix products and
   a 3x3 convolution) timed in the same process.
4. **Where a step's operations spend their time.** One epoch of 8 steps under
   TensorFlow's profiler; the operations' times are summed by kind (forward
   convolution, the two backward convolutions, everything else) and turned
   into GFLOP/s with the layer shapes.

Run it alone on an otherwise idle machine (about 11 minutes on 2 cores)::

    python benchmarks/investigations/epoch_boundaries.py          # print the findings
    python benchmarks/investigations/epoch_boundaries.py --write  # also save its results file

The results file records the CPU model and flags. Never compare figures taken
on different machines.
"""

from __future__ import annotations

import collections
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/, for common
import common  # noqa: E402  (puts the repository on sys.path too)

STEPS, BATCH = 8, 32


def compiled_resnet50():
    """Notebook 3's network, seeded and compiled as the notebook does."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    model = common.resnet50_model()
    model.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy", metrics=["accuracy"])
    return model


def random_signs(n: int, classes: int = 6):
    """``n`` random 64x64 RGB images with labels: one-hot of ``classes``, or 0/1 if 1.

    With ``classes=1`` the labels are a float32 column of 0s and 1s, as
    notebook 1's sigmoid output is trained on.
    """
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((n, 64, 64, 3), dtype=np.float32)
    if classes == 1:
        return x, rng.integers(0, 2, (n, 1)).astype("float32")
    return x, keras.utils.to_categorical(rng.integers(0, classes, n), classes)


def as_in_notebooks(task: str) -> dict:
    """Set up this process for ``task``'s network as the notebooks train it.

    ``task`` is "resnet50" (notebook 3: mixed bfloat16 where the CPU computes
    it natively, batch 32, one step per call) or "smiles" (notebook 1:
    float32, batch 16, the steps per call ``utils`` picks for the device).
    Seeds everything (``utils.setup``) and returns the network's builder,
    batch size, classes, loss and ``steps_per_execution``.
    """
    import utils

    mixed = task == "resnet50"
    env = utils.setup(seed=0, mixed_precision=mixed, verbose=False)
    build, batch, classes = {"resnet50": (common.resnet50_model, 32, 6),
                             "smiles": (common.smiles_model, 16, 1)}[task]
    return {"build": build, "batch": batch, "classes": classes,
            "loss": "categorical_crossentropy" if classes > 1 else "binary_crossentropy",
            "steps_per_execution": 1 if mixed else env["steps_per_execution"]}


def pipeline(data, autotune: bool):
    """``data`` as TensorFlow builds it (autotuner on) or as the notebooks do."""
    import utils

    return data if autotune else utils.no_autotune(data)


def probe_deletion(model, data, repeats: int) -> dict:
    """Seconds to delete a used iterator, autotune on vs off, alternating."""
    model.make_train_function()
    step = model.train_function
    step(iter(data))  # build the graph once, outside the timings
    runs = {"autotune_on": [], "autotune_off": []}
    for _ in range(repeats):
        for name, enabled in (("autotune_on", True), ("autotune_off", False)):
            iterator = iter(pipeline(data, enabled))
            for _ in range(STEPS):
                step(iterator)
            wall, cpu = time.perf_counter(), time.process_time()
            del iterator
            runs[name].append({"wall_s": round(time.perf_counter() - wall, 3),
                               "cpu_s": round(time.process_time() - cpu, 3)})
    return runs


def probe_fit(epochs: int = 4) -> dict:
    """Epoch times of a notebook-3-sized fit with validation, autotune on vs off."""
    import keras
    import tensorflow as tf

    x, y = random_signs(1080)
    times = {}
    for name, enabled in (("autotune_on", True), ("autotune_off", False)):
        model = compiled_resnet50()
        train = tf.data.Dataset.from_tensor_slices((x[:918], y[:918]))
        train = pipeline(train.shuffle(918, seed=0).batch(BATCH).prefetch(1), enabled)
        val = pipeline(tf.data.Dataset.from_tensor_slices((x[918:], y[918:])).batch(BATCH), enabled)
        seconds = []
        timer = keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda *_: seconds.append(time.perf_counter()),
            on_epoch_end=lambda *_: seconds.append(time.perf_counter() - seconds.pop()))
        model.fit(train, validation_data=val, epochs=epochs, verbose=0, callbacks=[timer])
        times[name] = [round(s, 1) for s in seconds]
        print(f"fit, {name}: epoch seconds {times[name]}", flush=True)
    return times


def probe_steady(model, data, repeats: int = 3) -> dict:
    """Steady training speed (autotuner off) and its share of the float32 ceiling."""
    from where_time_goes import probe_ceiling

    ceiling = probe_ceiling()
    data = pipeline(data, autotune=False)
    model.fit(data, epochs=1, verbose=0)
    epochs = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(data, epochs=1, verbose=0)
        epochs.append(round(time.perf_counter() - start, 2))
    images_per_second = STEPS * BATCH / statistics.median(epochs)
    gflops = images_per_second * common.training_flops_per_image(model) / 1e9
    best = max(v for k, v in ceiling.items() if k.endswith("fp32"))
    return {"ceiling": ceiling, "float32_ceiling_gflops": best, "epoch_seconds": epochs,
            "images_per_second": round(images_per_second, 1), "gflops": round(gflops, 1),
            "share_of_ceiling": round(gflops / best, 3)}


def conv_flops(model) -> dict:
    """Forward FLOPs per image of each Conv2D layer, by the name TensorFlow's ops carry."""
    import keras

    flops = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, _ = layer.kernel.shape
            flops[layer.name] = 2 * h * w * kh * kw * c_in * c_out
    return flops


def op_times(run, key=lambda name, op_type: op_type) -> tuple[float, collections.Counter]:
    """Wall seconds of ``run()`` under TensorFlow's profiler, and seconds per operation type.

    Operation times are summed over TensorFlow's worker threads; the executor's
    own bookkeeping is left out. ``key(name, op_type)`` says what to sum by
    (by default the operation's type, such as ``Conv2D`` or ``Mul``).
    """
    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        run()
        wall = time.perf_counter() - start
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        space.ParseFromString(next(Path(logdir).rglob("*.xplane.pb")).read_bytes())
    plane = next(p for p in space.planes if p.name == "/host:CPU")
    names = {k: v.name for k, v in plane.event_metadata.items()}
    seconds: collections.Counter = collections.Counter()
    for line in plane.lines:
        if not line.name.startswith("tf_Compute"):
            continue
        for event in line.events:
            name = names[event.metadata_id]
            if ":" not in name or name.startswith("ExecutorState"):
                continue  # executor bookkeeping, not an operation
            op_name, op_type = name.rsplit(":", 1)
            seconds[key(op_name, op_type)] += event.duration_ps / 1e12
    return wall, seconds


def probe_profile(model, data) -> dict:
    """Operation time by kind over one profiled epoch of STEPS steps."""
    data = pipeline(data, autotune=False)
    model.fit(data, epochs=1, verbose=0)
    wall, by_type = op_times(lambda: model.fit(data, epochs=1, verbose=0))
    kinds: dict[str, float] = collections.Counter()
    for op, op_seconds in by_type.items():
        kind = ("backward, weights" if "BackpropFilter" in op else
                "backward, inputs" if "BackpropInput" in op else
                "forward convolution" if "Conv2D" in op else "everything else")
        kinds[kind] += op_seconds
    forward = sum(conv_flops(model).values()) * BATCH * STEPS
    seconds = {k: round(v, 2) for k, v in kinds.items()}
    gflops = {k: round(forward / v / 1e9, 1) for k, v in kinds.items() if k != "everything else"}
    return {"epoch_wall_s": round(wall, 2), "op_seconds_summed_over_threads": seconds,
            "gflops_by_kind": gflops,
            "forward_conv_gflop_per_step": round(forward / STEPS / 1e9, 1)}


def main() -> None:
    parser = common.parser(__doc__, "epoch_boundaries")
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()
    import utils  # noqa: F401  (oneDNN on, quiet start-up; as the notebooks run)

    import tensorflow as tf

    model = compiled_resnet50()
    data = tf.data.Dataset.from_tensor_slices(random_signs(STEPS * BATCH)).batch(BATCH)
    deletion = probe_deletion(model, data, args.repeats)
    for name, runs in deletion.items():
        walls = [r["wall_s"] for r in runs]
        print(f"delete a used iterator, {name}: wall s {walls} (median "
              f"{statistics.median(walls):.2f}), CPU s {[r['cpu_s'] for r in runs]}", flush=True)
    steady = probe_steady(model, data)
    print(json.dumps(steady), flush=True)
    profile = probe_profile(model, data)
    fit = probe_fit()
    print(json.dumps(profile, indent=1))
    results = {"machine": common.machine(), "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
               "steps_per_iterator": STEPS, "batch": BATCH, "deletion": deletion,
               "steady": steady, "fit_epoch_seconds": fit,
               "profile": profile}
    if args.write:
        common.write_results("epoch_boundaries", results, HERE)


if __name__ == "__main__":
    main()
