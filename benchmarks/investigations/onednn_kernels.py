"""Benchmark: which oneDNN kernels a ResNet50 training step runs, and how fast each is.

`where_time_goes.py` and `epoch_boundaries.py` show that notebook 3's training
step stays far below the machine's ceiling and that the backward convolutions
are the slowest part. This script looks one level lower, at the kernels
oneDNN (the library TensorFlow hands its convolutions to on x86 CPUs) picks
on this CPU. It trains notebook 3's network (64x64x3, batch 32, Adam) on
random images with ``ONEDNN_VERBOSE=1``, which makes oneDNN print one line
per kernel call: the operation, the implementation it chose, the shapes and
the milliseconds. After 3 warm-up steps it reads the lines of 4 steps and
sums them

- by operation, direction and implementation (for example "convolution,
  backward_weights, jit_1x1:avx512_core"), with the convolutions' GFLOP/s
  computed from their shapes;
- by direction and shape of convolution (layers of the same shape
  together), to name the slowest ones.

Each precision (float32, and mixed bfloat16 where the CPU has native
bfloat16 instructions) runs three times, each time in a fresh Python process:

1. with the kernel log on and one inter-op thread, so that TensorFlow runs
   one operation at a time and each kernel's milliseconds are its own (with
   two inter-op threads, as in the notebooks, two kernels share the cores
   and each one's time would count the other's);
2. as the notebooks run, with the log off, to time the step undisturbed;
3. with one inter-op thread under TensorFlow's profiler, for the time of
   each type of TensorFlow operation: the convolutions as TensorFlow sees
   them (oneDNN's kernels plus the reorders and bookkeeping around them) and
   the many small operations of batch normalisation and Adam.
 The ceiling is timed in the same
run (`where_time_goes.py`'s probe), so the convolutions' own speed can be
set against it: their GFLOP per step over their summed milliseconds is what
the step could reach if everything else (reorders, batch normalisation,
ReLU, additions, Adam) took no time at all.

Run it alone on an otherwise idle machine (about 3 minutes on the 2-core Zen 4)::

    python benchmarks/investigations/onednn_kernels.py          # print the tables
    python benchmarks/investigations/onednn_kernels.py --write  # also save its results file

The results file records the CPU model and flags. Never compare figures taken
on different machines.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/, for common
import common  # noqa: E402  (puts the repository on sys.path too)

WARMUP, STEPS, BATCH = 3, 4, 32
START, END = "=== measured steps start ===", "=== measured steps end ==="
SHAPE = re.compile(r"(?:g(\d+))?mb(\d+)_ic(\d+)oc(\d+)_ih\d+oh(\d+)kh(\d+)\S*?_iw\d+ow(\d+)kw(\d+)")


# ---------------------------------------------------------------- child process

def probe(precision: str, serial: bool, profile: bool) -> None:
    """Train WARMUP + STEPS steps; print markers around the measured ones and their times.

    With ``profile``, print instead the milliseconds per step of each operation type.
    """
    import keras
    import tensorflow as tf

    if serial:  # one operation at a time (set before anything starts TensorFlow's runtime)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    import utils
    from epoch_boundaries import compiled_resnet50, op_times, random_signs

    keras.mixed_precision.set_global_policy(precision)
    model = compiled_resnet50()
    data = utils.no_autotune(tf.data.Dataset.from_tensor_slices(
        random_signs((WARMUP + STEPS) * BATCH)).batch(BATCH))
    model.make_train_function()
    batches = iter(data)
    for _ in range(WARMUP):
        model.train_function(batches)
    if profile:
        wall, by_type = op_times(lambda: [model.train_function(batches) for _ in range(STEPS)])
        print(json.dumps({"step_seconds": [round(wall / STEPS, 4)],
                          "op_ms": {k: round(v * 1e3 / STEPS, 2) for k, v in by_type.items()}}))
        return
    seconds = []
    print(START, flush=True)
    for _ in range(STEPS):
        start = time.perf_counter()
        model.train_function(batches)
        seconds.append(time.perf_counter() - start)
    print(END, flush=True)
    print(json.dumps({"step_seconds": [round(s, 4) for s in seconds]}), flush=True)


# ---------------------------------------------------------------- parent

def conv_gflop(problem: str) -> float:
    """GFLOP of one convolution call from oneDNN's problem text (the same for all directions)."""
    match = SHAPE.search(problem)
    if not match:
        return 0.0
    groups, mb, ic, oc, oh, kh, ow, kw = (int(v) if v else 1 for v in match.groups())
    return 2 * mb * (ic // groups) * oc * oh * ow * kh * kw / 1e9


def parse(lines: list[str]) -> dict:
    """Sum oneDNN's ``primitive,exec`` lines of the measured steps, per step."""
    groups = collections.defaultdict(lambda: [0.0, 0, 0.0])  # ms, calls, GFLOP
    convs = collections.defaultdict(lambda: [0.0, 0, 0.0])
    for line in lines:
        fields = line.split(",")
        if len(fields) < 10 or fields[2:4] != ["primitive", "exec"]:
            continue
        kind, impl, direction = fields[5], fields[6], fields[7]
        ms, problem = float(fields[-1]), fields[-2]
        gflop = conv_gflop(problem) if kind == "convolution" else 0.0
        for table, key in ((groups, f"{kind}, {direction}, {impl}"),
                           (convs, f"{direction} {problem}" if kind == "convolution" else None)):
            if key:
                table[key][0] += ms / STEPS
                table[key][1] += 1
                table[key][2] += gflop / STEPS

    def rows(table: dict) -> list[dict]:
        out = [{"what": key, "ms_per_step": round(ms, 2), "calls_per_step": n // STEPS,
                "gflop_per_step": round(gflop, 3),
                "gflops": round(gflop / ms * 1e3, 1) if gflop else None}
               for key, (ms, n, gflop) in table.items()]
        return sorted(out, key=lambda r: -r["ms_per_step"])

    return {"by_kernel": rows(groups), "slowest_convolutions": rows(convs)[:10]}


def run_child(precision: str, *flags: str, verbose: bool = False) -> tuple[list[str], dict]:
    """One fresh process: the verbose lines between the markers, and its JSON result."""
    out = common.run_child(__file__, precision, *flags, TF_ENABLE_ONEDNN_OPTS="1",
                           ONEDNN_VERBOSE="1" if verbose else "0")
    measured = out[out.index(START) + 1:out.index(END)] if START in out else []
    return measured, json.loads(out[-1])


def measure(precision: str) -> dict:
    """Kernel sums (log on, serial), the step time (as the notebooks run), op types (serial)."""
    lines, logged = run_child(precision, "--serial", verbose=True)
    _, plain = run_child(precision)
    _, profiled = run_child(precision, "--serial", "--profile")
    logged_steps, steps = logged["step_seconds"], plain["step_seconds"]
    kernels = parse(lines)
    kernel_ms = sum(r["ms_per_step"] for r in kernels["by_kernel"])
    step_ms = 1e3 * sorted(steps)[len(steps) // 2]
    logged_ms = 1e3 * sorted(logged_steps)[len(logged_steps) // 2]
    print(f"  {precision}: step {step_ms:.0f} ms (log off); with the log on and one inter-op "
          f"thread {logged_ms:.0f} ms, of which oneDNN kernels {kernel_ms:.0f} ms", flush=True)
    return {"precision": precision, "step_ms_log_off": round(step_ms, 1),
            "step_seconds_log_off": steps, "step_ms_log_on_serial": round(logged_ms, 1),
            "step_seconds_log_on_serial": logged_steps,
            "step_ms_profiled_serial": round(1e3 * profiled["step_seconds"][0], 1),
            "op_ms_per_step_serial": dict(sorted(profiled["op_ms"].items(), key=lambda kv: -kv[1])),
            "onednn_ms_per_step": round(kernel_ms, 1), **kernels}


def summary(kernels: list[dict]) -> dict:
    """Milliseconds per step by direction (forward, two backward, reorders, the rest)."""
    totals = collections.Counter()
    for row in kernels:
        kind, direction, _ = row["what"].split(", ", 2)
        label = {"forward_training": "convolution forward",
                 "backward_data": "convolution backward (inputs)",
                 "backward_weights": "convolution backward (weights)"}.get(direction, kind)
        totals[label if kind in ("convolution", "reorder") else "other oneDNN kernels"] += \
            row["ms_per_step"]
    return {k: round(v, 1) for k, v in totals.most_common()}


def shares(run: dict, ceiling: dict) -> dict:
    """The step's and the convolutions' GFLOP/s, and their shares of the ceiling."""
    convs = [r for r in run["by_kernel"] if r["what"].startswith("convolution")]
    gflop = sum(r["gflop_per_step"] for r in convs)
    conv_ms = sum(r["ms_per_step"] for r in convs)
    peak = (ceiling["tf_matmul_bf16"] if run["precision"] == "mixed_bfloat16" else
            max(ceiling["numpy_matmul_fp32"], ceiling["tf_matmul_fp32"],
                ceiling["tf_conv3x3_fp32"]))
    step = gflop / run["step_ms_log_off"] * 1e3
    alone = gflop / conv_ms * 1e3
    return {"conv_gflop_per_step": round(gflop, 1), "conv_ms_per_step": round(conv_ms, 1),
            "ceiling_gflops": round(peak, 1), "step_gflops": round(step, 1),
            "step_share": round(step / peak, 3), "convolutions_alone_gflops": round(alone, 1),
            "convolutions_alone_share": round(alone / peak, 3)}


def report(results: dict) -> str:
    """Markdown tables of one run."""
    m, c = results["machine"], results["ceiling"]
    lines = [f"Machine: {m['cpu']} ({m['cores']} cores, kind {m['cpu_kind']}, flags "
             f"{' '.join(m['cpu_flags'])}), {m['date']}; {STEPS} measured steps, batch {BATCH}.",
             "", "Ceiling, same run (GFLOP/s): " + ", ".join(
                 f"{k} {v:.0f}" for k, v in c.items() if k != "onednn") + "."]
    for r in results["runs"]:
        s = r["shares"]
        lines += ["", f"**{r['precision']}**: step {r['step_ms_log_off']:.0f} ms (log off), "
                  f"{s['step_gflops']:.0f} GFLOP/s, {s['step_share']:.0%} of the ceiling "
                  f"({s['ceiling_gflops']:.0f}). The convolutions alone: {s['conv_gflop_per_step']}"
                  f" GFLOP in {s['conv_ms_per_step']:.0f} ms of kernels, "
                  f"{s['convolutions_alone_gflops']:.0f} GFLOP/s, "
                  f"{s['convolutions_alone_share']:.0%} of the ceiling. With the log on and one "
                  f"inter-op thread a step took {r['step_ms_log_on_serial']:.0f} ms, of which "
                  f"oneDNN's kernels {r['onednn_ms_per_step']:.0f} ms.", "",
                  "| oneDNN kernel (operation, direction, implementation) | ms per step | calls "
                  "| GFLOP/s |", "|---|---|---|---|"]
        lines += [f"| {k['what']} | {k['ms_per_step']:.1f} | {k['calls_per_step']} | "
                  f"{k['gflops'] or ''} |" for k in r["by_kernel"] if k["ms_per_step"] >= 0.5]
        ops = r["op_ms_per_step_serial"]
        conv_ops = sum(v for k, v in ops.items() if "Conv2D" in k)
        lines += ["", f"TensorFlow's operations, one at a time, under its profiler (a step "
                  f"{r['step_ms_profiled_serial']:.0f} ms): convolutions {conv_ops:.0f} ms, "
                  f"everything else {sum(ops.values()) - conv_ops:.0f} ms.", "",
                  "| operation type | ms per step |", "|---|---|"]
        lines += [f"| {k} | {v:.1f} |" for k, v in list(ops.items())[:12]]
        lines += ["", "| slowest convolutions (direction, shape) | ms per step | GFLOP/s |",
                  "|---|---|---|"]
        lines += [f"| {k['what']} | {k['ms_per_step']:.1f} | {k['gflops']} |"
                  for k in r["slowest_convolutions"][:6]]
    return "\n".join(lines)


def main() -> None:
    parser = common.parser(__doc__, "onednn_kernels", probe=True)
    parser.add_argument("--serial", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.probe, args.serial, args.profile)
        return
    import utils  # quiet TensorFlow start-up
    from where_time_goes import run_probe

    bf16 = utils.fast_precision() != "float32"
    precisions = ["float32"] + (["mixed_bfloat16"] if bf16 else [])
    results = {"machine": common.machine(), "ceiling": run_probe("ceiling", "1"),
               "runs": [measure(p) for p in precisions]}
    for run in results["runs"]:
        run["summary_ms_per_step"] = summary(run["by_kernel"])
        run["shares"] = shares(run, results["ceiling"])
    text = report(results)
    print("\n" + text)
    if args.write:
        common.write_results("onednn_kernels", {**results, "report": text}, HERE)


if __name__ == "__main__":
    main()
