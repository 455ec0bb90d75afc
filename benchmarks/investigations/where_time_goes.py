"""Benchmark: where the training time goes on this CPU, against its own ceiling.

One run measures, each probe in a fresh Python process (TensorFlow reads
``TF_ENABLE_ONEDNN_OPTS`` once, when it is imported):

- the machine's **ceiling**: a 4096x4096 float32 matrix product in NumPy and
  in TensorFlow, a large 3x3 convolution in TensorFlow (forward), and a
  bfloat16 matrix product in TensorFlow (native only on CPUs with AVX-512
  BF16 or AMX; elsewhere emulated, reported for completeness);
- **ResNet50** (notebook 3's network, 64x64x3, batch 32, Adam) with oneDNN
  off and on: the first epoch (tracing and graph optimisation included), the
  steady-state training speed in images/s and GFLOP/s, its share of the
  ceiling, and how one step splits into forward, backward and optimizer;
- **notebook 2's 1,310-weight network** (batch 64) and **notebook 1's smile
  network** (batch 16): milliseconds per training step with oneDNN off and
  on, with one step and with 16 steps per call into TensorFlow
  (``steps_per_execution``), the per-step overhead that dominates small
  networks.

Run it alone on an otherwise idle machine (about 12 minutes on the 2-core Zen 3)::

    python benchmarks/investigations/where_time_goes.py          # print the tables
    python benchmarks/investigations/where_time_goes.py --write  # also save its results file

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

MATMUL_N = 4096
CONV_SHAPE = (32, 16, 16, 256)  # batch, height, width, channels in = out


def timed(fn, repeats: int = 5) -> float:
    """Median seconds of ``fn()`` over ``repeats`` calls, after two warm-up calls."""
    fn()
    fn()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


# ---------------------------------------------------------------- probes (child processes)

def probe_ceiling() -> dict:
    """GFLOP/s of large float32 / bfloat16 matrix products and a 3x3 convolution."""
    import numpy as np
    import tensorflow as tf

    flops = 2 * MATMUL_N ** 3
    a = np.random.default_rng(0).random((MATMUL_N, MATMUL_N), dtype=np.float32)
    out = {"numpy_matmul_fp32": flops / timed(lambda: a @ a) / 1e9}
    for name, dtype in (("tf_matmul_fp32", tf.float32), ("tf_matmul_bf16", tf.bfloat16)):
        t = tf.cast(tf.constant(a), dtype)
        step = tf.function(lambda x: tf.matmul(x, x))
        out[name] = flops / timed(lambda: step(t).numpy()[0, 0]) / 1e9
    n, h, w, c = CONV_SHAPE
    x = tf.constant(np.random.default_rng(1).random(CONV_SHAPE, dtype=np.float32))
    k = tf.constant(np.random.default_rng(2).random((3, 3, c, c), dtype=np.float32))
    conv = tf.function(lambda x: tf.nn.conv2d(x, k, 1, "SAME"))
    seconds = timed(lambda: conv(x).numpy()[0, 0, 0, 0])
    out["tf_conv3x3_fp32"] = 2 * n * h * w * 9 * c * c / seconds / 1e9
    return {k: round(v, 1) for k, v in out.items()}


def probe_resnet50(precision: str, steps: int = 8) -> dict:
    """ResNet50 training: first epoch, steady images/s, and a step's split."""
    import keras
    import numpy as np
    import tensorflow as tf

    import utils

    keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    keras.mixed_precision.set_global_policy(precision)
    model = common.resnet50_model()
    model.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    n = 32 * steps
    x = rng.random((n, 64, 64, 3), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 6, n), 6)
    # autotuner off, as in the notebooks: its stalls at epoch ends would land
    # in these short epochs' times (epoch_boundaries.py)
    data = utils.no_autotune(tf.data.Dataset.from_tensor_slices((x, y)).batch(32).prefetch(2))
    start = time.perf_counter()
    model.fit(data, epochs=1, verbose=0)
    first = time.perf_counter() - start
    epoch_seconds = timed(lambda: model.fit(data, epochs=1, verbose=0), repeats=3)
    ips = n / epoch_seconds

    images, labels = tf.constant(x[:32]), tf.constant(y[:32])
    loss_fn, optimizer = keras.losses.CategoricalCrossentropy(), model.optimizer
    forward = tf.function(lambda: model(images, training=True))

    @tf.function
    def gradients():
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        return tape.gradient(loss, model.trainable_variables)

    grads = gradients()
    apply = tf.function(lambda: optimizer.apply(grads, model.trainable_variables))
    split = {"forward_ms": timed(lambda: forward().numpy()),
             "forward_backward_ms": timed(lambda: [g.numpy() for g in gradients()[:1]]),
             "optimizer_ms": timed(lambda: apply())}
    split = {k: round(v * 1000, 1) for k, v in split.items()}
    split["backward_ms"] = round(split["forward_backward_ms"] - split["forward_ms"], 1)
    flops = common.training_flops_per_image(model)
    return {"precision": precision, "first_epoch_s": round(first, 1),
            "steady_epoch_s": round(epoch_seconds, 2),
            "images_per_second": round(ips, 1), "gflop_per_image": round(flops / 1e9, 3),
            "gflops": round(ips * flops / 1e9, 1),
            "step_ms": round(32 / ips * 1000, 1), **split}


def probe_small(task: str, steps_per_execution: int, determinism: int = 1) -> dict:
    """Milliseconds per training step of notebook 1's or notebook 2's network."""
    import keras
    import numpy as np
    import tensorflow as tf

    import utils

    keras.utils.set_random_seed(0)
    if determinism:
        tf.config.experimental.enable_op_determinism()
    build, batch, classes = {"signs": (common.signs_model, 64, 6),
                             "smiles": (common.smiles_model, 16, 1)}[task]
    model = build()
    loss = "categorical_crossentropy" if classes > 1 else "binary_crossentropy"
    model.compile(keras.optimizers.Adam(1e-3), loss, metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)
    rng = np.random.default_rng(0)
    n = batch * 64
    x = rng.random((n, 64, 64, 3), dtype=np.float32)
    y = (keras.utils.to_categorical(rng.integers(0, 6, n), 6) if classes > 1
         else rng.integers(0, 2, (n, 1)).astype("float32"))
    data = utils.no_autotune(tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)
                             .prefetch(2))
    model.fit(data, epochs=1, verbose=0)
    seconds = timed(lambda: model.fit(data, epochs=1, verbose=0), repeats=3)
    return {"task": task, "batch": batch, "steps_per_execution": steps_per_execution,
            "determinism": bool(determinism), "ms_per_step": round(seconds / 64 * 1000, 2)}


PROBES = {"ceiling": probe_ceiling, "resnet50": probe_resnet50, "small": probe_small}


# ---------------------------------------------------------------- parent

def run_probe(name: str, onednn: str, *args: str) -> dict:
    """Run one probe in a fresh interpreter with ``TF_ENABLE_ONEDNN_OPTS=onednn``."""
    lines = common.run_child(__file__, name, *args, TF_ENABLE_ONEDNN_OPTS=onednn)
    result = json.loads(lines[-1])
    print(f"  {name} {' '.join(args)} onednn={onednn}: {result}", flush=True)
    return {"onednn": onednn, **result}


def report(results: dict) -> str:
    """Markdown tables of one run."""
    c = results["ceiling"]
    ceiling = max(c["numpy_matmul_fp32"], c["tf_matmul_fp32"], c["tf_conv3x3_fp32"])
    lines = [f"Machine: {results['machine']['cpu']} ("
             f"kind {results['machine']['cpu_kind']}, flags "
             f"{' '.join(results['machine']['cpu_flags'])}), {results['machine']['date']}.", "",
             "| ceiling probe | GFLOP/s |", "|---|---|"]
    lines += [f"| {k} | {v:.0f} |" for k, v in c.items() if k != "onednn"]
    lines += ["", f"float32 ceiling = the best of the float32 probes: {ceiling:.0f} GFLOP/s.", "",
              "| ResNet50 training | oneDNN | first epoch s | images/s | GFLOP/s | share of "
              "ceiling | step ms | forward ms | backward ms | optimizer ms |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["resnet50"]:
        peak = ceiling if r["precision"] == "float32" else c["tf_matmul_bf16"]
        lines.append(f"| {r['precision']} | {r['onednn']} | {r['first_epoch_s']:.0f} | "
                     f"{r['images_per_second']:.1f} | {r['gflops']:.0f} | "
                     f"{r['gflops'] / peak:.0%} | {r['step_ms']:.0f} | {r['forward_ms']:.0f} | "
                     f"{r['backward_ms']:.0f} | {r['optimizer_ms']:.0f} |")
    lines += ["", "| small network | oneDNN | steps per execution | op determinism | ms per step |",
              "|---|---|---|---|---|"]
    lines += [f"| {r['task']} (batch {r['batch']}) | {r['onednn']} | {r['steps_per_execution']} "
              f"| {'on' if r['determinism'] else 'off'} | {r['ms_per_step']:.1f} |"
              for r in results["small"]]
    return "\n".join(lines)


def main() -> None:
    parser = common.parser(__doc__, "where_time_goes", probe_choices=list(PROBES))
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:  # child process: one probe, one JSON line
        values = [int(a) if a.isdigit() else a for a in args.args]
        print(json.dumps(PROBES[args.probe](*values)))
        return

    import utils  # quiet TensorFlow start-up

    results = {"machine": common.machine(), "ceiling": run_probe("ceiling", "1"), "resnet50": [],
               "small": []}
    bf16 = utils.fast_precision() != "float32"
    precisions = ["float32"] + (["mixed_bfloat16"] if bf16 else [])
    for onednn in ("0", "1"):
        for precision in precisions:
            results["resnet50"].append(run_probe("resnet50", onednn, precision))
        for task in ("signs", "smiles"):
            for steps in ("1", "16"):
                results["small"].append(run_probe("small", onednn, task, steps))
    # Does op determinism cost anything? (the notebooks keep it on)
    for task in ("signs", "smiles"):
        results["small"].append(run_probe("small", "1", task, "16", "0"))
    text = report(results)
    print("\n" + text)
    if args.write:
        common.write_results("where_time_goes", {**results, "report": text}, HERE)


if __name__ == "__main__":
    main()
