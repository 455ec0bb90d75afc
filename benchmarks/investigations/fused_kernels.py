"""Benchmark: Keras 3's composed batch normalisation and Adam against TensorFlow's fused kernels.

On the TensorFlow backend, Keras 3 builds two parts of every training step
from many small TensorFlow operations, each of which reads and writes a whole
tensor:

- ``BatchNormalization``: ``moments`` (a mean, a squared difference, another
  mean), then subtract, multiply, add; its gradient adds as many again
  (``Mul``, ``Sum``, ``BroadcastTo``, ``RealDiv`` ...). TensorFlow has one
  fused kernel for it, ``FusedBatchNormV3`` (oneDNN's batch normalisation
  on x86 CPUs), which tf.keras used and Keras 3 does not (Keras' issue
  "BatchNorm is slow", keras-team/keras-core#225).
- ``Adam``: about ten operations per weight tensor and step (two running
  averages, a square root, a division, three assignments). TensorFlow has
  one kernel for the whole update, ``ResourceApplyAdam``, with the same
  formula.

This probe asks two questions, each in fresh Python processes:

1. **Where does a training step's time go?** One profiled epoch under
   TensorFlow's profiler, every operation's time summed into convolutions,
   batch normalisation (forward and gradient), the optimizer and everything
   else.
2. **What would the fused kernels save?** The same training, timed, in
   three variants: as Keras builds it; with every ``BatchNormalization``
   layer replaced by a probe layer that calls ``FusedBatchNormV3`` (same
   axis, epsilon and momentum); and with that layer and an ``Adam`` whose
   update calls ``ResourceApplyAdam``. Each run checks, in float32, that
   the network computes the same outputs with either batch-norm layer, and
   that three updates with either optimizer, from the same weights with the
   same gradients, give the same weights, to float rounding, and records
   the largest differences.
   The probe layer and optimizer exist only here: the notebooks use Keras'
   own, because that is what learners study, and swapping them would change
   every number of the seed studies.

for notebook 1's network (float32, batch 16, the steps per call the notebooks
use on this device) and notebook 3's ResNet50 (batch 32, the precision
notebook 3 uses on this CPU: mixed bfloat16 where it is native). The
variants alternate, ``--repeats`` times each; each timing process trains one
warm-up epoch, then times 3 epochs (64 steps for notebook 1's network, 8 for
ResNet50) on random images with the autotuner off, and reports the median.

Run it alone on an otherwise idle machine (about 12 minutes on the 2-core Zen 4)::

    python benchmarks/investigations/fused_kernels.py          # print the figures
    python benchmarks/investigations/fused_kernels.py --write  # also save its results file

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

STEPS = {"smiles": 64, "resnet50": 8}  # steps per timed epoch
VARIANTS = ("keras", "fused_batchnorm", "fused_batchnorm_adam")


def fused_batchnorm_layer(config: dict):
    """A probe layer computing ``BatchNormalization`` with TensorFlow's fused kernel."""
    import keras
    import tensorflow as tf

    class FusedBatchNormalization(keras.layers.Layer):
        def __init__(self, axis, momentum, epsilon, **kwargs):
            super().__init__(**kwargs)
            self.axis, self.momentum, self.epsilon = axis, momentum, epsilon

        def build(self, input_shape):
            assert self.axis in (-1, 3, [3], [-1]), "the probe handles channels-last only"
            shape = (input_shape[-1],)
            # autocast=False: the kernel wants float32 statistics whatever the input's type
            self.gamma = self.add_weight(shape=shape, initializer="ones", autocast=False)
            self.beta = self.add_weight(shape=shape, initializer="zeros", autocast=False)
            self.moving_mean = self.add_weight(shape=shape, initializer="zeros",
                                               trainable=False, autocast=False)
            self.moving_variance = self.add_weight(shape=shape, initializer="ones",
                                                   trainable=False, autocast=False)

        def call(self, x, training=False, mask=None):  # Keras passes a mask along
            if not training:
                y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                    x, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                    epsilon=self.epsilon, is_training=False)
                return y
            y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                x, self.gamma, self.beta, epsilon=self.epsilon, is_training=True)
            count = tf.cast(tf.size(x) // tf.shape(x)[-1], tf.float32)
            variance = variance * (count - 1) / count  # the kernel returns the unbiased one
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum
                                        + variance * (1 - self.momentum))
            return y

    return FusedBatchNormalization(config["axis"], config["momentum"], config["epsilon"],
                                   name=f"fused_{config['name']}")


def with_fused_batchnorm(model):
    """A copy of ``model`` (fresh weights) whose BatchNormalization layers use the fused kernel."""
    import keras

    def clone(layer):
        if isinstance(layer, keras.layers.BatchNormalization):
            return fused_batchnorm_layer(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(model, clone_function=clone)


def fused_adam(learning_rate: float):
    """A probe ``Adam`` whose update is TensorFlow's one ``ResourceApplyAdam`` kernel."""
    import keras
    import tensorflow as tf

    class FusedAdam(keras.optimizers.Adam):
        def update_step(self, gradient, variable, learning_rate):
            dtype = variable.dtype
            step = tf.cast(self.iterations + 1, dtype)
            beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
            index = self._get_variable_index(variable)
            tf.raw_ops.ResourceApplyAdam(
                var=variable.handle, m=self._momentums[index].handle,
                v=self._velocities[index].handle,
                beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
                lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
                epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype))

    return FusedAdam(learning_rate)


def same_update(steps: int = 3) -> float:
    """Largest difference between Keras' Adam and the probe's, same gradients, ``steps`` updates.

    Both update the same float32 starting weights with the same random
    gradients (magnitudes from 1e-6 to 10), so any difference is the
    kernels' own rounding. (Comparing two trained networks instead would
    mostly compare rounding noise: the bias of a convolution followed by
    batch normalisation has a true gradient of zero, and Adam turns the
    noise left in its place into steps of nearly the full learning rate.)
    """
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    start = rng.normal(size=(4, 1000)).astype("float32")
    gradients = [(rng.normal(size=start.shape) * 10.0 ** rng.uniform(-6, 1, start.shape))
                 .astype("float32") for _ in range(steps)]
    weights = []
    for optimizer in (keras.optimizers.Adam(1e-3), fused_adam(1e-3)):
        variable = keras.Variable(start, dtype="float32")
        for gradient in gradients:
            optimizer.apply_gradients([(gradient, variable)])
        weights.append(variable.numpy())
    return float(np.max(np.abs(weights[0] - weights[1])))


def same_outputs(build, x) -> float:
    """Largest difference between ``build()`` and its fused copy, same weights, float32.

    Both run in training mode on ``x``. The check runs in float32: in mixed
    bfloat16 the two layers round their outputs differently, and a deep
    network's output at its random start amplifies that.
    """
    import keras
    import numpy as np

    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        keras_bn_model = build()
        fused_model = with_fused_batchnorm(keras_bn_model)
    finally:
        keras.mixed_precision.set_global_policy(policy)
    for mine, theirs in zip(keras_bn_model.layers, fused_model.layers):
        values = [w.numpy() for w in mine.weights]
        for variable, value in zip(theirs.weights, values):
            variable.assign(value)  # same order: gamma, beta, moving mean, moving variance
    a = np.asarray(keras_bn_model(x, training=True), dtype="float32")
    b = np.asarray(fused_model(x, training=True), dtype="float32")
    return float(np.max(np.abs(a - b)))


def category(name: str, op_type: str) -> str:
    """Which part of the step a profiled operation belongs to, from its name and type."""
    if "Conv2D" in op_type:
        return "convolutions"
    if "batch_normalization" in name:
        return "batch normalisation"
    if "/adam/" in name or op_type == "ResourceApplyAdam":
        return "optimizer"
    return "everything else"


def probe(task: str, variant: str, profile: bool) -> dict:
    """Train ``task``'s network in ``variant``; ms per step, or the step's profile."""
    import keras
    import tensorflow as tf

    import utils
    from epoch_boundaries import as_in_notebooks, op_times, random_signs

    settings = as_in_notebooks(task)
    steps, batch, build = STEPS[task], settings["batch"], settings["build"]
    x, y = random_signs(steps * batch, settings["classes"])
    model, checks = build(), {}
    if variant != "keras":
        checks["largest_output_difference"] = same_outputs(build, x[:batch])
        model = with_fused_batchnorm(model)
    optimizer = keras.optimizers.Adam(1e-3)
    if variant == "fused_batchnorm_adam":
        checks["largest_weight_difference_after_3_updates"] = same_update()
        optimizer = fused_adam(1e-3)
    model.compile(optimizer, settings["loss"], steps_per_execution=settings["steps_per_execution"])
    data = utils.no_autotune(tf.data.Dataset.from_tensor_slices((x, y)).batch(batch))
    model.fit(data, epochs=1, shuffle=False, verbose=0)  # builds and traces the training step
    result = {"task": task, "variant": variant, "profile": profile,
              "precision": keras.mixed_precision.global_policy().name, **checks}
    if profile:
        wall, seconds = op_times(lambda: model.fit(data, epochs=1, shuffle=False, verbose=0),
                                 key=category)
        result["ms_per_step_by_part"] = {k: round(v / steps * 1000, 2) for k, v in seconds.items()}
        result["profiled_ms_per_step"] = round(wall / steps * 1000, 2)
        return result
    times = []
    for _ in range(3):
        start = time.perf_counter()
        model.fit(data, epochs=1, shuffle=False, verbose=0)
        times.append((time.perf_counter() - start) / steps * 1000)
    result["ms_per_step"] = round(statistics.median(times), 2)
    return result


def run_probe(task: str, variant: str, profile: bool = False) -> dict:
    """``probe`` in a fresh interpreter."""
    result = json.loads(common.run_child(__file__, task, variant,
                                         *(["--profile"] if profile else []))[-1])
    print(f"  {result}", flush=True)
    return result


def summarise(runs: list[dict]) -> dict:
    """Median ms per step of each task and variant, the saving, and each profile's shares."""
    summary = {}
    for task in STEPS:
        timed = {v: [r["ms_per_step"] for r in runs
                     if r["task"] == task and r["variant"] == v and not r["profile"]]
                 for v in VARIANTS}
        medians = {v: statistics.median(t) for v, t in timed.items()}
        entry = {f"{v}_ms_per_step": timed[v] for v in VARIANTS}
        entry.update({f"{v}_median_ms_per_step": medians[v] for v in VARIANTS})
        for v in VARIANTS[1:]:
            entry[f"{v}_saves"] = f"{1 - medians[v] / medians['keras']:.0%}"
        for r in runs:
            if r["task"] == task and r["profile"]:
                parts = r["ms_per_step_by_part"]
                total = sum(parts.values())
                entry[f"{r['variant']}_profile_share"] = {
                    k: f"{v / total:.0%}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])}
        summary[task] = entry
    return summary


def main() -> None:
    parser = common.parser(__doc__, "fused_kernels", probe=True)
    parser.add_argument("variant", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe, args.variant, args.profile)))
        return
    import utils  # noqa: F401  (quiet TensorFlow start-up)

    runs = [run_probe(task, variant, profile=True) for task in STEPS for variant in VARIANTS]
    runs += [run_probe(task, variant) for task in STEPS
             for _ in range(args.repeats) for variant in VARIANTS]
    summary = summarise(runs)
    print(json.dumps(summary, indent=1))
    if args.write:
        common.write_results("fused_kernels", {"machine": common.machine(), "steps": STEPS,
                                                "runs": runs, "summary": summary}, HERE)


if __name__ == "__main__":
    main()
