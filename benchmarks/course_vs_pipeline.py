"""Benchmark: the course recipe as published vs this repository's pipeline.

For each of the course's four models, train twice on the same machine:

(a) the course recipe as published: float32, whole NumPy arrays passed to
    ``fit`` (the alpaca folder through ``image_dataset_from_directory`` with
    prefetch, as the course does), course epochs and batch sizes, no caching;
(b) this repository's pipeline as the notebooks run it: ``tf.data`` with
    caching and prefetching, and the precision policy ``utils.fast_precision``
    picks (bfloat16 where the hardware has it) for the models that use it.

Reports wall seconds of training, training images/s (median over epochs after
the first, which pays for tracing), final test/validation accuracy and the
ratio (a)/(b); for ResNet50 also the achieved training FLOP/s against the
CPU's peak. Every pair runs ``--repeats`` times (alternating a, b, a, b, ...)
and the table quotes medians. Run it alone on an otherwise idle machine::

    python benchmarks/course_vs_pipeline.py --repeats 1 --tasks signs   # a quick look
    python benchmarks/course_vs_pipeline.py --write   # all four, 3 repeats, results.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import utils  # first: quiet TensorFlow start-up, Keras cache in the project
import keras
import numpy as np
import tensorflow as tf
from keras import layers

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------- models (course recipe)

def smiles_model():
    return keras.Sequential([
        keras.Input((64, 64, 3)),
        layers.ZeroPadding2D(3),
        layers.Conv2D(32, 7),
        layers.BatchNormalization(axis=3),
        layers.ReLU(),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(1, activation="sigmoid", dtype="float32"),
    ])


def signs_model():
    inputs = keras.Input((64, 64, 3))
    x = layers.Conv2D(8, 4, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(8, strides=8, padding="same")(x)
    x = layers.Conv2D(16, 2, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(4, strides=4, padding="same")(x)
    outputs = layers.Dense(6, activation="softmax", dtype="float32")(layers.Flatten()(x))
    return keras.Model(inputs, outputs)


def _bottleneck(x, filters, stride=1, project=False):
    f1, f2, f3 = filters
    shortcut = x
    y = layers.Conv2D(f1, 1, strides=stride)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.Conv2D(f2, 3, padding="same")(y)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(f3, 1)(y))
    if project:
        shortcut = layers.BatchNormalization()(layers.Conv2D(f3, 1, strides=stride)(x))
    return layers.ReLU()(layers.Add()([y, shortcut]))


def resnet50_model():
    inputs = keras.Input((64, 64, 3))
    x = layers.ZeroPadding2D(3)(inputs)
    x = layers.Conv2D(64, 7, strides=2)(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.MaxPooling2D(3, strides=2)(x)
    for filters, stride, blocks in (((64, 64, 256), 1, 3), ((128, 128, 512), 2, 4),
                                    ((256, 256, 1024), 2, 6), ((512, 512, 2048), 2, 3)):
        x = _bottleneck(x, filters, stride, project=True)
        for _ in range(blocks - 1):
            x = _bottleneck(x, filters)
    x = layers.Flatten()(layers.AveragePooling2D(2)(x))
    outputs = layers.Dense(6, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs)


def alpaca_model(size):
    # Keras' weights for this size, or (offline at 160 px) the 224-px file loaded at 160 px
    base = keras.applications.MobileNetV2((*size, 3), include_top=False,
                                          weights=utils.mobilenet_v2_weights(size[0]))
    base.trainable = False
    inputs = keras.Input((*size, 3))
    x = layers.RandomFlip("horizontal")(inputs)
    x = layers.RandomRotation(0.2)(x)
    x = keras.applications.mobilenet_v2.preprocess_input(x)
    x = base(x, training=False)
    x = layers.Dropout(0.2)(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, layers.Dense(1, dtype="float32")(x)), base


# ---------------------------------------------------------------- measuring

class EpochTimer(keras.callbacks.Callback):
    """Wall time of every epoch."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def images_per_second(epoch_seconds: list[float], n_images: int) -> float:
    """Images per second of the median epoch (pass the epochs after the first)."""
    return n_images / statistics.median(epoch_seconds)


def pipeline(x, y, batch, shuffle=True, seed=0):
    data = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch).prefetch(tf.data.AUTOTUNE)


def run_arrays_task(name, build, loss, data, epochs, batch, variant, precision,
                    arrays=False, learning_rate=1e-3, after_fit=None):
    """Train on NumPy arrays (``arrays`` or the course variant) or a cached tf.data pipeline.

    ``after_fit(model)``, if given, runs inside the timed span (part of the recipe)."""
    x_train, y_train, x_test, y_test = data
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(0)
    model = build()
    model.compile(keras.optimizers.Adam(learning_rate), loss, metrics=["accuracy"])
    timer = EpochTimer()
    start = time.perf_counter()
    if variant == "course" or arrays:
        model.fit(x_train, y_train, epochs=epochs, batch_size=batch, verbose=0, callbacks=[timer])
    else:
        model.fit(pipeline(x_train, y_train, batch), epochs=epochs, shuffle=False, verbose=0,
                  callbacks=[timer])
    if after_fit is not None:
        after_fit(model)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    keras.mixed_precision.set_global_policy("float32")
    return {"task": name, "variant": variant, "precision": precision, "epochs": epochs,
            "batch": batch, "seconds": seconds,
            "images_per_s": images_per_second(timer.times[1:] or timer.times, len(x_train)),
            "accuracy": accuracy, "epoch_seconds": timer.times}


def smiles_task(variant):
    x_train, y_train, x_test, y_test, _ = utils.load_smiles()
    x_train, x_test = x_train / 255.0, x_test / 255.0
    y_train, y_test = y_train.reshape(-1, 1), y_test.reshape(-1, 1)
    if variant == "course":
        return run_arrays_task("smiles (Sequential)", smiles_model, "binary_crossentropy",
                               (x_train, y_train, x_test, y_test), 10, 16, variant, "float32")
    # Notebook 1: 90% of the training split, 5 epochs, cosine-decayed rate, arrays.
    n_fit = len(x_train) - len(x_train) // 10
    decay = keras.optimizers.schedules.CosineDecay(1e-3, 5 * int(np.ceil(n_fit / 16)))
    return run_arrays_task("smiles (Sequential)", smiles_model, "binary_crossentropy",
                           (x_train[:n_fit], y_train[:n_fit], x_test, y_test), 5, 16, variant,
                           NOTEBOOK_PRECISION["smiles"](), arrays=True, learning_rate=decay)


def signs_task(variant):
    x_train, y_train, x_test, y_test, _ = utils.load_signs()
    data = (x_train / 255.0, np.eye(6)[y_train], x_test / 255.0, np.eye(6)[y_test])
    precision = "float32" if variant == "course" else NOTEBOOK_PRECISION["signs"]()
    return run_arrays_task("signs (Functional)", signs_model, "categorical_crossentropy",
                           data, 100, 64, variant, precision)


def reestimate_batchnorm(model, images, batch_size=120):
    """Notebook 3's fix: recompute every BatchNormalization layer's moving statistics
    as a plain mean over one pass of the training images in training mode."""
    norms = [l for l in model.layers if isinstance(l, layers.BatchNormalization)]
    saved = [bn.momentum for bn in norms]
    order = np.random.default_rng(0).permutation(len(images))
    for n, start in enumerate(range(0, len(images), batch_size), start=1):
        for bn in norms:
            bn.momentum = (n - 1) / n
        model(images[order[start:start + batch_size]], training=True)
    for bn, momentum in zip(norms, saved):
        bn.momentum = momentum


def resnet50_task(variant):
    x_train, y_train, x_test, y_test, _ = utils.load_signs()
    data = (x_train / 255.0, np.eye(6)[y_train], x_test / 255.0, np.eye(6)[y_test])
    precision = "float32" if variant == "course" else NOTEBOOK_PRECISION["resnet50"]()
    # (b) ends as notebook 3 does: batch-norm statistics re-estimated, time included.
    after = None if variant == "course" else (lambda m: reestimate_batchnorm(m, data[0]))
    result = run_arrays_task("ResNet50 (SIGNS)", resnet50_model, "categorical_crossentropy",
                             data, 10, 32, variant, precision, after_fit=after)
    flops = training_flops_per_image(resnet50_model())
    result["train_gflop_per_image"] = flops / 1e9
    result["achieved_gflops"] = flops * result["images_per_s"] / 1e9
    return result


def alpaca_task(variant):
    utils.install_keras_weights()
    folder = utils.data.ensure_dataset("alpaca", progress=False) / "alpaca"
    precision = "float32" if variant == "course" else NOTEBOOK_PRECISION["alpaca"]()
    size = (160, 160) if variant == "course" else (224, 224)  # notebook 4 uses 224 px
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(0)
    if variant == "course":
        common = dict(shuffle=True, batch_size=32, image_size=size,
                      validation_split=0.2, seed=42, verbose=False)
        train = keras.utils.image_dataset_from_directory(folder, subset="training", **common)
        val = keras.utils.image_dataset_from_directory(folder, subset="validation", **common)
        train, val = train.prefetch(tf.data.AUTOTUNE), val.prefetch(tf.data.AUTOTUNE)
    else:
        train, val, _ = utils.image_folder_datasets(folder, size, 32, 0.2, 42)
    model, base = alpaca_model(size)
    loss = keras.losses.BinaryCrossentropy(from_logits=True)
    accuracy = keras.metrics.BinaryAccuracy(threshold=0.0)
    timer_b, timer_c = EpochTimer(), EpochTimer()
    start = time.perf_counter()
    model.compile(keras.optimizers.Adam(1e-3), loss, metrics=[accuracy])
    model.fit(train, validation_data=val, epochs=5, shuffle=False, verbose=0,
              callbacks=[timer_b])
    base.trainable = True
    for layer in base.layers[:120]:
        layer.trainable = False
    model.compile(keras.optimizers.Adam(1e-4), loss, metrics=[accuracy])
    model.fit(train, validation_data=val, epochs=10, initial_epoch=5, shuffle=False, verbose=0,
              callbacks=[timer_c])
    seconds = time.perf_counter() - start
    val_accuracy = model.evaluate(val, verbose=0)[1]
    keras.mixed_precision.set_global_policy("float32")
    n_train = sum(int(labels.shape[0]) for _, labels in train)
    # Median over the epochs after the first of each stage (both stages trace anew).
    steady = timer_b.times[1:] + timer_c.times[1:]
    return {"task": "MobileNetV2 (alpaca)", "variant": variant,
            "precision": f"{precision}, {size[0]} px", "epochs": 10, "batch": 32,
            "seconds": seconds, "images_per_s": images_per_second(steady, n_train),
            "accuracy": val_accuracy, "epoch_seconds": timer_b.times + timer_c.times}


# The precision each notebook uses (kept in step with the notebooks' setup cells).
NOTEBOOK_PRECISION = {
    "smiles": utils.fast_precision,
    "signs": utils.fast_precision,
    "resnet50": utils.fast_precision,
    "alpaca": lambda: "float32",
}
TASKS = {"smiles": smiles_task, "signs": signs_task, "resnet50": resnet50_task,
         "alpaca": alpaca_task}


# ---------------------------------------------------------------- FLOPs and peak

def training_flops_per_image(model) -> float:
    """Multiply-adds of the conv and dense layers x 2 (FLOPs) x 3 (forward + backward)."""
    forward = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            forward += 2 * h * w * kh * kw * layer.input.shape[-1] * c_out
        elif isinstance(layer, layers.Dense):
            forward += 2 * layer.input.shape[-1] * layer.units
    return 3.0 * forward


def machine() -> dict:
    info = {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "cores": os.cpu_count()}
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name":
            info["cpu"] = value.strip()
        elif key == "cpu MHz":
            info["mhz"] = float(value)
        elif key == "cpu family":
            info["family"] = int(value)
        elif key == "model":
            info["model"] = int(value)
        elif key == "vendor_id":
            info["vendor"] = value.strip()
    flags = utils.repro.cpu_flags()
    info["avx512f"] = "avx512f" in flags
    info["avx512_bf16"] = "avx512_bf16" in flags
    info["fp32_flops_per_cycle"] = fp32_flops_per_cycle(info.get("vendor", ""), flags)
    info["peak_fp32_gflops"] = (info["cores"] * info["fp32_flops_per_cycle"]
                                * info.get("mhz", 0) / 1000)
    if info["avx512_bf16"]:
        # VDPBF16PS does two bfloat16 multiply-adds per 32-bit lane: twice FP32.
        info["bf16_flops_per_cycle"] = 2 * info["fp32_flops_per_cycle"]
        info["peak_bf16_gflops"] = 2 * info["peak_fp32_gflops"]
    return info


def fp32_flops_per_cycle(vendor: str, flags: set[str]) -> int:
    """FP32 FLOPs per cycle per core = FMA pipes x lanes x 2 (an FMA is two FLOPs).

    AMD Zen 4 runs AVX-512 on two 256-bit FMA pipes (2 x 8 x 2 = 32), as does any
    AVX2 core with two FMA units. Intel server cores with AVX-512 are counted with
    two 512-bit FMA units (2 x 16 x 2 = 64), the upper bound; without FMA, 2 x 4 x 2.
    """
    if "avx512f" in flags and vendor == "GenuineIntel":
        return 64
    if "fma" in flags:
        return 32
    return 16


# ---------------------------------------------------------------- report

def medians(rows) -> dict:
    """Group repeated runs by (task, variant): medians and the range of seconds."""
    groups = {}
    for row in rows:
        groups.setdefault((row["task"], row["variant"]), []).append(row)
    summary = {}
    for key, runs in groups.items():
        seconds = [r["seconds"] for r in runs]
        summary[key] = dict(runs[0], runs=len(runs), seconds=statistics.median(seconds),
                            seconds_min=min(seconds), seconds_max=max(seconds),
                            images_per_s=statistics.median(r["images_per_s"] for r in runs),
                            accuracy=statistics.median(r["accuracy"] for r in runs),
                            accuracies=[r["accuracy"] for r in runs])
        if "achieved_gflops" in runs[0]:
            summary[key]["achieved_gflops"] = statistics.median(
                r["achieved_gflops"] for r in runs)
    return summary


def table(rows, info) -> str:
    summary = medians(rows)
    lines = ["| model | variant | precision | epochs x batch | runs | seconds, median (range) "
             "| train images/s | accuracy | (a)/(b) seconds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for task in dict.fromkeys(task for task, _ in summary):
        for variant in ("course", "pipeline"):
            r = summary.get((task, variant))
            if r is None:
                continue
            course = summary.get((task, "course"))
            ratio = (f"{course['seconds'] / r['seconds']:.2f}"
                     if variant == "pipeline" and course else "")
            label = "(a) course recipe" if variant == "course" else "(b) this repo"
            accuracy = f"{r['accuracy']:.3f}"
            if max(r["accuracies"]) - min(r["accuracies"]) > 5e-4:
                accuracy += f" ({min(r['accuracies']):.3f}-{max(r['accuracies']):.3f})"
            lines.append(f"| {task} | {label} | {r['precision']} | {r['epochs']} x {r['batch']} "
                         f"| {r['runs']} | {r['seconds']:.1f} ({r['seconds_min']:.1f}-"
                         f"{r['seconds_max']:.1f}) | {r['images_per_s']:.0f} | {accuracy} "
                         f"| {ratio} |")
    for (task, variant), r in summary.items():
        if "achieved_gflops" not in r:
            continue
        bf16 = "bfloat16" in r["precision"] and "peak_bf16_gflops" in info
        peak = info["peak_bf16_gflops"] if bf16 else info["peak_fp32_gflops"]
        lines.append("")
        lines.append(f"{task} {variant} ({r['precision']}): "
                     f"{r['train_gflop_per_image']:.2f} GFLOP per training image x "
                     f"{r['images_per_s']:.0f} images/s = {r['achieved_gflops']:.0f} GFLOP/s "
                     f"= {100 * r['achieved_gflops'] / peak:.0f}% of the "
                     f"{'BF16' if bf16 else 'FP32'} peak ({peak:.0f} GFLOP/s)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="*", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--variants", nargs="*", default=["course", "pipeline"],
                        choices=["course", "pipeline"])
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of every (task, variant); the table quotes medians")
    parser.add_argument("--write", action="store_true",
                        help="save benchmarks/results.json (RESULTS.md quotes it)")
    args = parser.parse_args()
    tf.config.experimental.enable_op_determinism()
    info = machine()
    print(json.dumps(info), flush=True)
    rows = []
    start = time.perf_counter()
    for task in args.tasks:
        for repeat in range(1, args.repeats + 1):
            for variant in args.variants:
                row = TASKS[task](variant)
                row["repeat"] = repeat
                rows.append(row)
                keras.backend.clear_session()
                print(f"[{time.perf_counter() - start:6.0f} s] {row['task']:22s} "
                      f"{variant:9s} run {repeat}: {row['precision']:22s} "
                      f"{row['seconds']:7.1f} s {row['images_per_s']:6.0f} img/s "
                      f"acc {row['accuracy']:.3f}", flush=True)
                if args.write:  # keep what is done if a later task fails
                    (HERE / "results.json").write_text(
                        json.dumps({"machine": info, "rows": rows}, indent=1))
    print()
    print(table(rows, info))


if __name__ == "__main__":
    main()
