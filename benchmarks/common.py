"""What the benchmark scripts share: the command line, child processes, results files, the models.

Every script in ``benchmarks/`` and ``benchmarks/investigations/`` imports this
module before ``utils``. Importing it is cheap (no TensorFlow) and puts the
repository root on ``sys.path``, so ``import utils`` works however the script
was started. A script in ``investigations/`` first puts ``benchmarks/`` on the
path to find this module::

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/
    import common

What is here:

- :func:`parser`: the command line every script has (its docstring as help,
  ``--write``, and the hidden ``--probe`` of scripts that measure in fresh
  processes); :func:`run_child` starts such a process;
- :func:`machine`: what a run computed on, from ``utils.environment()``, with
  its kind (:func:`results_kind`), and :func:`write_results`, which saves a run
  as ``<name>-<kind>.json`` so that each CPU kind keeps its own file;
- the networks of the four notebooks as the notebooks build them today
  (:func:`smiles_model`, :func:`signs_model`, :func:`resnet50_model`,
  :func:`alpaca_model`) and :func:`training_flops_per_image`;
- :func:`epoch_timer`, a Keras callback that times every epoch and its
  training part without the validation pass.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
# The repository root, found from this file: utils cannot be imported to ask before this.
ROOT = BENCHMARKS.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------- command line and processes

def parser(doc: str, name: str, probe_choices: list[str] | None = None,
           probe: bool = False) -> argparse.ArgumentParser:
    """The command line the benchmark scripts share: ``doc`` as help and ``--write``.

    ``--write`` saves ``<name>-<kind>.json`` (:func:`write_results`). Scripts
    that measure in fresh processes (:func:`run_child`) pass ``probe=True`` or
    ``probe_choices`` and get the hidden ``--probe`` those processes start with.
    Example: ``args = parser(__doc__, "where_time_goes", probe=True).parse_args()``.
    """
    command_line = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if probe or probe_choices:
        command_line.add_argument("--probe", choices=probe_choices, help=argparse.SUPPRESS)
    command_line.add_argument("--write", action="store_true",
                              help=f"save {name}-<kind>.json next to the script")
    return command_line


def run_child(script: str | Path, *args: str, **env: str) -> list[str]:
    """Run ``python script --probe args`` in a fresh interpreter; return its stdout lines.

    ``env`` adds environment variables (TensorFlow reads some only when it is
    imported, such as ``TF_ENABLE_ONEDNN_OPTS``); TensorFlow's C++ logs are
    off. Raises with the end of stderr if the child fails. By convention the
    child prints its result as one JSON line, the last.
    Example: ``json.loads(run_child(__file__, "ceiling", TF_ENABLE_ONEDNN_OPTS="1")[-1])``.
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    done = subprocess.run([sys.executable, str(script), "--probe", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"probe {Path(script).name} {args} failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()


# ---------------------------------------------------------------- what ran, and where it goes

def machine() -> dict:
    """What a run computed on: ``utils.environment()``, its kind and the date.

    The precision policy is left out (each measurement records its own).
    ``kind`` names the results file: the CPU kind (``avx2``, ``avx512-bf16``,
    ...) with any ``ONEDNN_MAX_CPU_ISA`` cap added (``avx512-bf16-capped-avx2``),
    so that a capped run never replaces the uncapped kind's figures, or ``gpu``.
    Example: ``machine()["kind"]`` -> ``'avx2'``.
    """
    import utils

    record = utils.environment()
    record.pop("precision", None)
    kind = "gpu" if record["device"].startswith("GPU") else results_kind()
    return {**record, "kind": kind, "date": time.strftime("%Y-%m-%d %H:%M")}


def results_kind() -> str:
    """Name this CPU's kind of numbers for results files: its kind plus any oneDNN cap.

    E.g. ``"avx512-bf16-capped-avx2"``, so capped runs never land in the uncapped kind's file.
    """
    from utils import machine

    cap = machine.onednn_isa_cap()
    return f"{machine.cpu_kind()}-capped-{cap.lower()}" if cap else machine.cpu_kind()


def write_results(name: str, results: dict, folder: str | Path = BENCHMARKS) -> Path:
    """Save ``results`` as ``folder/<name>-<kind>.json`` and say so.

    The kind comes from ``results["machine"]`` when the run recorded one
    (:func:`machine`), else from this machine.
    Example: ``write_results("first_epoch", {"machine": machine(), ...}, HERE)``.
    """
    kind = results.get("machine", {}).get("kind") or machine()["kind"]
    path = Path(folder) / f"{name}-{kind}.json"
    path.write_text(json.dumps(results, indent=1) + "\n")
    shown = path.resolve()
    print(f"wrote {shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown}")
    return path


# ---------------------------------------------------------------- the notebooks' networks

def smiles_model():
    """Notebook 1's network (``smile_model``): one convolution block, one sigmoid unit.

    37,633 parameters. Example: ``smiles_model().count_params()``.
    """
    import keras

    return keras.Sequential([
        keras.Input(shape=(64, 64, 3)),
        keras.layers.ZeroPadding2D(padding=3, name="zero_pad"),
        keras.layers.Conv2D(32, kernel_size=7, strides=1, name="conv"),
        keras.layers.BatchNormalization(axis=3, name="batch_norm"),
        keras.layers.ReLU(name="relu"),
        keras.layers.MaxPooling2D(pool_size=2, name="max_pool"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="output"),
    ], name="smile_model")


def signs_model(classes: int = 6):
    """Notebook 2's Functional network (``build_course_model``): 1,310 parameters.

    Example: ``signs_model().count_params()``.
    """
    from keras import Input, Model, layers

    inputs = Input(shape=(64, 64, 3), name="image")
    x = layers.Conv2D(8, kernel_size=4, padding="same", name="conv1")(inputs)
    x = layers.ReLU(name="relu1")(x)
    x = layers.MaxPool2D(pool_size=8, strides=8, padding="same", name="pool1")(x)
    x = layers.Conv2D(16, kernel_size=2, padding="same", name="conv2")(x)
    x = layers.ReLU(name="relu2")(x)
    x = layers.MaxPool2D(pool_size=4, strides=4, padding="same", name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32",
                           name="probabilities")(x)
    return Model(inputs, outputs, name="signs_cnn")


def resnet_block(x, f: int, filters: tuple[int, int, int], name: str, stride: int | None = None):
    """Notebook 3's identity block, or with ``stride`` its convolutional block.

    Main path: 1x1 convolution, batch norm, ReLU, ``f`` x ``f`` convolution,
    batch norm, ReLU, 1x1 convolution, batch norm; the shortcut is ``x`` itself,
    or (convolutional block) a strided 1x1 convolution and batch norm.
    Example: ``resnet_block(x, 3, (64, 64, 256), "stage2a", stride=1)``.
    """
    from keras import layers

    f1, f2, f3 = filters
    y = layers.Conv2D(f1, 1, strides=stride or 1, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(axis=3, name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    y = layers.Conv2D(f2, f, padding="same", name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(axis=3, name=f"{name}_bn2")(y)
    y = layers.Activation("relu", name=f"{name}_relu2")(y)
    y = layers.Conv2D(f3, 1, name=f"{name}_conv3")(y)
    y = layers.BatchNormalization(axis=3, name=f"{name}_bn3")(y)
    shortcut = x
    if stride is not None:
        shortcut = layers.Conv2D(f3, 1, strides=stride, name=f"{name}_short_conv")(x)
        shortcut = layers.BatchNormalization(axis=3, name=f"{name}_short_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{name}_out")(y)


RESNET50_STAGES = [  # (stage, filters, stride of the convolutional block, identity blocks)
    (2, (64, 64, 256), 1, 2),
    (3, (128, 128, 512), 2, 3),
    (4, (256, 256, 1024), 2, 5),
    (5, (512, 512, 2048), 2, 2),
]


def resnet50_model(input_shape: tuple[int, int, int] = (64, 64, 3), classes: int = 6):
    """Notebook 3's ResNet50: 23,600,006 parameters at 64x64x3, softmax in float32.

    Example: ``resnet50_model().count_params()``.
    """
    from keras import Input, Model, layers

    inputs = Input(shape=input_shape, name="image")
    x = layers.ZeroPadding2D(3, name="stage1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, name="stage1_conv")(x)
    x = layers.BatchNormalization(axis=3, name="stage1_bn")(x)
    x = layers.Activation("relu", name="stage1_relu")(x)
    x = layers.MaxPooling2D(3, strides=2, name="stage1_pool")(x)
    for stage, filters, stride, n_identity in RESNET50_STAGES:
        x = resnet_block(x, 3, filters, f"stage{stage}a", stride=stride)
        for letter in "bcdef"[:n_identity]:
            x = resnet_block(x, 3, filters, f"stage{stage}{letter}")
    x = layers.AveragePooling2D(2, name="avg_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32",
                           name="probabilities")(x)
    return Model(inputs, outputs, name="resnet50")


def alpaca_model(image_size: tuple[int, int] = (224, 224)):
    """Notebook 4's classifier: augmentation, MobileNetV2 frozen, pooling, dropout, one logit.

    Returns ``(model, base)``; ``base`` is the frozen MobileNetV2 (without its
    top), so a caller can unfreeze part of it for fine-tuning. The ImageNet
    weights come from ``utils.mobilenet_v2_weights`` (Keras' own file for the
    size, or offline the 224-px file at other sizes). 2,259,265 parameters,
    1,281 trainable. Example: ``model, base = alpaca_model((160, 160))``.
    """
    import keras
    from keras import layers
    from keras.applications import mobilenet_v2

    import utils

    utils.install_keras_weights()
    base = keras.applications.MobileNetV2(input_shape=(*image_size, 3), include_top=False,
                                          weights=utils.mobilenet_v2_weights(image_size[0]))
    base.trainable = False
    augment = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.2)],
                               name="augment")
    inputs = keras.Input(shape=(*image_size, 3))
    x = augment(inputs)
    x = mobilenet_v2.preprocess_input(x)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(1)(x)
    return keras.Model(inputs, outputs, name="alpaca_classifier"), base


def training_flops_per_image(model) -> float:
    """FLOPs of one training image: the Conv2D and Dense layers' multiply-adds x 2 x 3.

    A multiply-add is two FLOPs; training costs about three forward passes
    (forward, gradient of the inputs, gradient of the weights). Batch norm,
    activations, pooling and the optimizer are left out. Notebook 3's ResNet50:
    1.85 GFLOP. Example: ``training_flops_per_image(resnet50_model()) / 1e9``.
    """
    import keras

    forward = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            forward += 2 * h * w * kh * kw * layer.input.shape[-1] * c_out
        elif isinstance(layer, keras.layers.Dense):
            forward += 2 * layer.input.shape[-1] * layer.units
    return 3.0 * forward


# ---------------------------------------------------------------- timing

def epoch_timer():
    """A Keras callback that times every epoch of ``fit``, and its training part alone.

    Pass it to one or several ``fit`` calls; it keeps, per epoch, the
    ``time.perf_counter()`` readings ``begins`` (epoch start), ``trained``
    (training done, before the validation pass) and ``ends`` (epoch end), and
    gives ``seconds`` (whole epochs) and ``train_seconds`` (without the
    validation pass). Example: ``timer = epoch_timer(); model.fit(...,
    callbacks=[timer]); timer.train_seconds``.
    """
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.begins, self.trained, self.ends = [], [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.begins.append(time.perf_counter())

        def on_test_begin(self, logs=None):  # fit's validation pass starts
            if len(self.trained) < len(self.begins):
                self.trained.append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            self.ends.append(time.perf_counter())
            if len(self.trained) < len(self.ends):  # no validation pass
                self.trained.append(self.ends[-1])

        @property
        def seconds(self) -> list[float]:
            return [end - begin for begin, end in zip(self.begins, self.ends)]

        @property
        def train_seconds(self) -> list[float]:
            return [done - begin for begin, done in zip(self.begins, self.trained)]

    return EpochTimer()
