"""Benchmark: the course recipe as published against this repository's notebooks as they are now.

For each of the course's four models, two sides train on the same machine, one
after the other in one process, on the same data: the notebook's own split
into a fit part, a validation part and a test set. (The course has no
validation part for notebooks 1 to 3; holding the notebook's out on both sides
is what lets them be compared on it, and it is why the course side trains on
fewer images than the course does.)

- **course**: the recipe of ``/work/shared/spec/COURSE.md``, in float32, as the
  course's code feeds the data: NumPy arrays to ``fit`` (notebooks 1 and 3),
  ``tf.data`` batches of 64 in a fixed order (notebook 2), and for the alpacas
  160-px photos decoded anew every epoch, shuffled and prefetched, as
  ``image_dataset_from_directory`` does. No ``steps_per_execution``,
  default tf.data autotuning.
- **ours**: the training cells of each notebook today.

  ========  ==============================================  ==================================
  model     course                                          ours
  ========  ==============================================  ==================================
  smiles    10 epochs x batch 16, Adam 1e-3, arrays         5 epochs, cosine decay from 1e-3,
                                                            arrays, float32
  signs     100 epochs x 64, Adam 1e-3, not shuffled        100 epochs, warm-up to 1e-2 and
                                                            cosine decay (the recipe notebook 2
                                                            chose), shuffled, float32
  resnet50  10 epochs x 32, Adam 1e-3, arrays               5 epochs, batch-norm statistics
                                                            re-estimated, 4 augmented epochs
                                                            with cosine decay from 3e-4,
                                                            re-estimated; ``fast_precision()``
  alpaca    160 px, 5 epochs frozen + 5 fine-tuned from     224 px decoded once and cached,
            layer 120 (Adam 1e-3, then 1e-4)                batch norm frozen while fine-tuning
  ========  ==============================================  ==================================

  Notebooks 2-4 also use ``utils.no_autotune`` on their tf.data pipelines and
  notebooks 1 and 2 ``steps_per_execution`` from ``utils.setup``.

Validation accuracy is measured after every epoch on both sides (Keras'
validation pass, in inference mode; for the alpacas with a 0-logit threshold
on both sides) and, on our ResNet50 side, also right after each batch-norm
re-estimation, as notebook 3 does. Reported per model and side: **training
seconds** (from ``compile`` to the last epoch, validation passes and untimed
measurements left out, so both sides count the same work), the final
validation and test accuracy, the ratio of training seconds course / ours, and
**time to accuracy**: the training seconds each side needed until its
validation accuracy first reached the course side's final one ("not reached"
if it never did).

Run it alone on an otherwise idle machine; anything else on the cores shows
in the timings. Each CPU kind has its own results file::

    python benchmarks/course_vs_pipeline.py --quick --models smiles signs  # smoke run, ~1 min
    python benchmarks/course_vs_pipeline.py --models signs       # one model, both sides
    python benchmarks/course_vs_pipeline.py --write              # course_vs_pipeline-<kind>.json

``--quick`` trains 1 epoch per stage (3 for signs) on at most 256 images: it
checks that every path runs, and its figures mean nothing. ResNet50 and the
alpacas still build their training steps, a few minutes each on 2 cores. All
four models take about 45 minutes on 2 cores. Never compare timings taken on
different machines.
"""

from __future__ import annotations

import statistics
import time

import common

MODELS = ("smiles", "signs", "resnet50", "alpaca")
SIDES = ("course", "ours")
QUICK_IMAGES = {"fit": 256, "validation": 64, "test": 64}


# ---------------------------------------------------------------- the notebooks' data

def smiles_data() -> dict:
    """Notebook 1's faces: contradictory copies dropped, test 20 %, validation 10 % of the rest."""
    import numpy as np

    import utils

    images, labels, files, _ = utils.load_smiles_all()
    groups = [g for g in utils.duplicate_groups(images) if len(g) > 1]
    mixed = [g for g in groups if len(set(labels[g])) > 1]
    names = np.array([f.split("/")[-1] for f in files])
    in_both = np.intersect1d(names[labels == 0], names[labels == 1])
    pairs = [(np.flatnonzero((names == n) & (labels == 0))[0],
              np.flatnonzero((names == n) & (labels == 1))[0]) for n in in_both]
    dropped = {int(i) for g in mixed for i in g} | {int(i) for p in pairs for i in p}
    keep = np.setdiff1d(np.arange(len(labels)), sorted(dropped))
    images, labels = images[keep], labels[keep]
    train_idx, test_idx = utils.train_val_split(images, labels, val_fraction=0.2, seed=0)
    x_train, y_train = images[train_idx], labels[train_idx]
    fit_idx, val_idx = utils.train_val_split(x_train, y_train, val_fraction=0.1, seed=0)

    def part(x, y):
        return x.astype("float32") / 255.0, y.reshape(-1, 1).astype("float32")

    return {"fit": part(x_train[fit_idx], y_train[fit_idx]),
            "validation": part(x_train[val_idx], y_train[val_idx]),
            "test": part(images[test_idx], labels[test_idx])}


def signs_data(seed: int) -> dict:
    """SIGNS scaled to [0, 1] with one-hot labels; 15 % of the training photos validate."""
    import keras

    import utils

    x_train, y_train, x_test, y_test, _ = utils.load_signs()
    fit_idx, val_idx = utils.train_val_split(x_train, y_train, 0.15, seed=seed)

    def part(x, y):
        return x.astype("float32") / 255.0, keras.utils.to_categorical(y, 6).astype("float32")

    return {"fit": part(x_train[fit_idx], y_train[fit_idx]),
            "validation": part(x_train[val_idx], y_train[val_idx]),
            "test": part(x_test, y_test)}


def alpaca_data() -> dict:
    """Notebook 4's split of the photo files: copies and near copies on one side, 15 % test."""
    import hashlib
    from pathlib import Path

    import numpy as np
    import tensorflow as tf

    import utils

    folder = utils.ensure_dataset("alpaca", progress=False) / "alpaca"
    class_names = utils.check_image_folder(folder)
    files = [(str(path), label) for label, name in enumerate(class_names)
             for path in sorted((folder / name).glob("*.jpg"))]
    paths = np.array([path for path, _ in files])
    labels = np.array([label for _, label in files])
    digests = [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths]
    photos = tf.data.Dataset.from_tensor_slices((paths, labels)).map(
        decode_and_resize((224, 224)), num_parallel_calls=tf.data.AUTOTUNE).batch(64)
    thumbs = np.concatenate([tf.image.resize(x, (16, 16), antialias=True).numpy()
                             for x, _ in photos]).reshape(len(paths), -1).astype("float64")
    squares = (thumbs ** 2).sum(axis=1)
    distance = np.sqrt(np.maximum(squares[:, None] + squares[None] - 2 * thumbs @ thumbs.T, 0)
                       / thumbs.shape[1])
    np.fill_diagonal(distance, np.inf)
    group = np.unique(digests, return_inverse=True)[1]
    for i, j in zip(*np.nonzero(np.triu(distance < 10.0))):
        group[group == group[j]] = group[i]  # a near copy joins its partner's group
    dev_idx, test_idx = utils.train_val_split(group, labels, val_fraction=0.15, seed=0)
    fit, val = utils.train_val_split(group[dev_idx], labels[dev_idx], val_fraction=0.2, seed=0)
    return {"fit": (paths[dev_idx[fit]], labels[dev_idx[fit]]),
            "validation": (paths[dev_idx[val]], labels[dev_idx[val]]),
            "test": (paths[test_idx], labels[test_idx])}


def decode_and_resize(size: tuple[int, int]):
    """The map function of notebook 4 (and of ``image_dataset_from_directory``): file to pixels."""
    import tensorflow as tf

    def load(path, label):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        return tf.image.resize(image, size), label  # float32, values 0-255

    return load


def shrink(data: dict) -> dict:
    """The first few hundred items of each part, for ``--quick``."""
    return {part: tuple(a[:QUICK_IMAGES[part]] for a in arrays) for part, arrays in data.items()}


# ---------------------------------------------------------------- timing one side

def epochs_text(n: int) -> str:
    """``"1 epoch"``, ``"5 epochs"``."""
    return f"{n} epoch{'' if n == 1 else 's'}"


class Recipe:
    """One side's training clock and its validation checkpoints.

    ``seconds`` counts training only: :meth:`timed` spans and ``fit`` calls
    minus their validation passes. Each epoch, and each :meth:`checkpoint`,
    records the training seconds so far with a validation accuracy.
    """

    def __init__(self):
        self.seconds = 0.0
        self.validation_seconds = 0.0
        self.epoch_train_seconds: list[float] = []
        self.checkpoints: list[dict] = []

    def timed(self, step):
        """Run ``step()`` on the clock; return its result."""
        start = time.perf_counter()
        result = step()
        self.seconds += time.perf_counter() - start
        return result

    def fit(self, model, data, **kwargs):
        """``model.fit(data, ...)`` on the clock, validation passes off it; return the history."""
        timer = common.epoch_timer()
        kwargs["callbacks"] = [timer, *kwargs.get("callbacks", [])]
        start = time.perf_counter()
        history = model.fit(data, verbose=0, **kwargs)
        end = time.perf_counter()
        first = kwargs.get("initial_epoch", 0) + 1
        validated = 0.0
        for n, accuracy in enumerate(history.history["val_accuracy"]):
            self.checkpoint(f"epoch {first + n}", float(accuracy),
                            self.seconds + timer.trained[n] - start - validated)
            validated += timer.ends[n] - timer.trained[n]
        self.seconds += end - start - validated
        self.validation_seconds += validated
        self.epoch_train_seconds += [round(s, 2) for s in timer.train_seconds]
        return history

    def checkpoint(self, label: str, val_accuracy: float, seconds: float | None = None) -> None:
        """Record a validation accuracy at ``seconds`` of training (by default: now)."""
        self.checkpoints.append({"after": label, "val_accuracy": round(val_accuracy, 4),
                                 "seconds": round(self.seconds if seconds is None else seconds,
                                                  2)})


def result(recipe: Recipe, model_name: str, side: str, description: str, test_accuracy: float,
           wall: float) -> dict:
    """One side's row for the results file."""
    import keras

    return {"model": model_name, "side": side, "recipe": description,
            "precision": keras.mixed_precision.global_policy().name,
            "train_seconds": round(recipe.seconds, 2),
            "validation_seconds": round(recipe.validation_seconds, 2),
            "wall_seconds": round(wall, 2),
            "epoch_train_seconds": recipe.epoch_train_seconds,
            "val_accuracy": recipe.checkpoints[-1]["val_accuracy"],
            "test_accuracy": round(float(test_accuracy), 4),
            "checkpoints": recipe.checkpoints}


# ---------------------------------------------------------------- the four models, both sides

def train_smiles(side: str, data: dict, quick: bool) -> dict:
    """Notebook 1: the course's 10 epochs on arrays, or the notebook's 5 with cosine decay."""
    import keras
    import numpy as np

    import utils

    start = time.perf_counter()
    (x_fit, y_fit), val, test = data["fit"], data["validation"], data["test"]
    recipe = Recipe()
    if side == "course":
        utils.setup(seed=0, precision="float32", verbose=False)
        model = common.smiles_model()
        recipe.timed(lambda: model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy",
                                           metrics=["accuracy"]))
        epochs = 1 if quick else 10
        recipe.fit(model, x_fit, y=y_fit, batch_size=16, epochs=epochs, validation_data=val)
        description = f"{epochs_text(epochs)} x 16, Adam 1e-3, arrays"
    else:
        env = utils.setup(seed=0, verbose=False)
        model = common.smiles_model()
        epochs = 1 if quick else 5
        rate = keras.optimizers.schedules.CosineDecay(
            0.001, decay_steps=epochs * int(np.ceil(len(x_fit) / 16)))

        def build():
            model.compile(keras.optimizers.Adam(rate), "binary_crossentropy",
                          metrics=["accuracy"], steps_per_execution=env["steps_per_execution"])

        recipe.timed(build)
        recipe.fit(model, x_fit, y=y_fit, batch_size=16, epochs=epochs, validation_data=val,
                   shuffle=True)
        description = f"{epochs_text(epochs)} x 16, cosine decay, arrays"
    test_accuracy = model.evaluate(*test, verbose=0)[1]
    return result(recipe, "smiles", side, description, test_accuracy,
                  time.perf_counter() - start)


def train_signs(side: str, data: dict, quick: bool) -> dict:
    """Notebook 2: the course's 100 epochs at 1e-3, or the notebook's warm-up + cosine decay."""
    import keras
    import tensorflow as tf

    import utils

    start = time.perf_counter()
    epochs = 3 if quick else 100
    recipe = Recipe()
    if side == "course":
        utils.setup(seed=0, precision="float32", verbose=False)
        train_ds = tf.data.Dataset.from_tensor_slices(data["fit"]).batch(64)
        val_ds = tf.data.Dataset.from_tensor_slices(data["validation"]).batch(64)
        model = common.signs_model()
        recipe.timed(lambda: model.compile(keras.optimizers.Adam(1e-3),
                                           "categorical_crossentropy", metrics=["accuracy"]))
        description = f"{epochs_text(epochs)} x 64, Adam 1e-3, tf.data in a fixed order"
    else:
        env = utils.setup(seed=0, verbose=False)
        train_ds = utils.no_autotune(
            tf.data.Dataset.from_tensor_slices(data["fit"])
            .shuffle(len(data["fit"][0]), seed=0, reshuffle_each_iteration=True)
            .batch(64).prefetch(2))
        val_ds = utils.no_autotune(tf.data.Dataset.from_tensor_slices(data["validation"])
                                   .batch(64))
        model = common.signs_model()
        steps, warmup = int(train_ds.cardinality()), 1 if quick else 5
        rate = keras.optimizers.schedules.CosineDecay(
            0.001, warmup_target=0.01, warmup_steps=warmup * steps,
            decay_steps=(epochs - warmup) * steps, alpha=0.0)

        def build():
            model.compile(keras.optimizers.Adam(rate), "categorical_crossentropy",
                          metrics=["accuracy"], steps_per_execution=env["steps_per_execution"])

        recipe.timed(build)
        description = f"{epochs_text(epochs)} x 64, warm-up to 1e-2 + cosine decay, shuffled"
    recipe.fit(model, train_ds, epochs=epochs, validation_data=val_ds, shuffle=False)
    test_accuracy = model.evaluate(*data["test"], verbose=0)[1]
    return result(recipe, "signs", side, description, test_accuracy,
                  time.perf_counter() - start)


def reestimate_batchnorm(model, images, seed: int, batch_size: int = 120) -> None:
    """Notebook 3's fix: every batch-norm layer's statistics as the mean over the training images.

    One pass in training mode over shuffled batches, with each layer's momentum
    set so that its moving averages become plain running means.
    """
    import keras
    import numpy as np

    norms = [layer for layer in model.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [bn.momentum for bn in norms]
    order = np.random.default_rng(seed).permutation(len(images))
    try:
        for n, start in enumerate(range(0, len(images), batch_size), start=1):
            for bn in norms:
                bn.momentum = (n - 1) / n
            model(images[order[start:start + batch_size]], training=True)
    finally:
        for bn, momentum in zip(norms, saved):
            bn.momentum = momentum


def train_resnet50(side: str, data: dict, quick: bool) -> dict:
    """Notebook 3: the course's 10 epochs on arrays, or the notebook's 5 + re-estimate + 4."""
    import keras
    import numpy as np
    import tensorflow as tf
    from keras import layers

    import utils

    seed, start = 42, time.perf_counter()
    (x_fit, y_fit), (x_val, y_val), test = data["fit"], data["validation"], data["test"]
    recipe = Recipe()
    if side == "course":
        utils.setup(seed=seed, precision="float32", verbose=False)
        model = common.resnet50_model()
        recipe.timed(lambda: model.compile(keras.optimizers.Adam(1e-3),
                                           "categorical_crossentropy", metrics=["accuracy"]))
        epochs = 1 if quick else 10
        recipe.fit(model, x_fit, y=y_fit, batch_size=32, epochs=epochs,
                   validation_data=(x_val, y_val))
        description = f"{epochs_text(epochs)} x 32, Adam 1e-3, arrays"
    else:
        utils.setup(seed=seed, mixed_precision=True, verbose=False)
        epochs, more = (1, 1) if quick else (5, 4)

        def make_dataset(augment=None):
            ds = tf.data.Dataset.from_tensor_slices((x_fit, y_fit))
            ds = ds.shuffle(len(x_fit), seed=seed).batch(32)
            if augment is not None:
                ds = ds.map(lambda images, labels: (augment(images, training=True), labels))
            return utils.no_autotune(ds.prefetch(2))

        scratch_ds = make_dataset()
        val_ds = utils.no_autotune(tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(32))
        keras.utils.set_random_seed(seed)
        model = common.resnet50_model()

        def build():
            model.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy",
                          metrics=["accuracy"])

        recipe.timed(build)
        recipe.fit(model, scratch_ds, epochs=epochs, validation_data=val_ds, shuffle=False)
        recipe.timed(lambda: reestimate_batchnorm(model, x_fit, seed))
        recipe.checkpoint(f"epoch {epochs}, statistics re-estimated",
                          model.evaluate(x_val, y_val, verbose=0)[1])
        augment = keras.Sequential([layers.RandomRotation(0.05, dtype="float32"),
                                    layers.RandomTranslation(0.1, 0.1, dtype="float32"),
                                    layers.RandomZoom(0.1, dtype="float32")], name="augment")
        train_ds = make_dataset(augment)

        def cosine_rate(epoch):
            return 0.5 * 3e-4 * (1 + np.cos(np.pi * (epoch - epochs) / more))

        recipe.fit(model, train_ds, epochs=epochs + more, initial_epoch=epochs,
                   validation_data=val_ds, shuffle=False,
                   callbacks=[keras.callbacks.LearningRateScheduler(cosine_rate)])
        recipe.timed(lambda: reestimate_batchnorm(model, x_fit, seed))
        recipe.checkpoint(f"epoch {epochs + more}, statistics re-estimated",
                          model.evaluate(x_val, y_val, verbose=0)[1])
        description = (f"{epochs_text(epochs)} x 32, re-estimate, {more} augmented with "
                       "cosine decay from 3e-4, re-estimate")
    test_accuracy = model.evaluate(*test, verbose=0)[1]
    return result(recipe, "resnet50", side, description, test_accuracy,
                  time.perf_counter() - start)


def train_alpaca(side: str, data: dict, quick: bool) -> dict:
    """Notebook 4: the course's recipe at 160 px, or the notebook's at 224 px, cached."""
    import keras
    import tensorflow as tf

    import utils

    seed, start = 42, time.perf_counter()
    utils.setup(seed=seed, precision="float32", verbose=False)
    size = (160, 160) if side == "course" else (224, 224)

    def make_dataset(part, training=False):
        paths, labels = data[part]
        ds = tf.data.Dataset.from_tensor_slices((paths, labels))
        if side == "course":  # as image_dataset_from_directory: shuffle files, decode every epoch
            if training:
                ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
            ds = ds.map(decode_and_resize(size), num_parallel_calls=tf.data.AUTOTUNE)
            return ds.batch(32).prefetch(tf.data.AUTOTUNE)
        ds = ds.map(decode_and_resize(size), num_parallel_calls=tf.data.AUTOTUNE).cache()
        if training:
            ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
        return utils.no_autotune(ds.batch(32).prefetch(2))

    train_ds, val_ds = make_dataset("fit", training=True), make_dataset("validation")
    model, base = common.alpaca_model(size)
    recipe = Recipe()

    def compile_model(rate):
        model.compile(keras.optimizers.Adam(rate),
                      keras.losses.BinaryCrossentropy(from_logits=True),
                      metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)])

    frozen, tuned = (1, 1) if quick else (5, 5)
    recipe.timed(lambda: compile_model(1e-3))
    recipe.fit(model, train_ds, epochs=frozen, validation_data=val_ds, shuffle=False)

    def unfreeze():
        base.trainable = True
        for layer in base.layers[:120]:
            layer.trainable = False
        if side == "ours":
            for layer in base.layers[120:]:
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.trainable = False
        compile_model(1e-4)

    recipe.timed(unfreeze)
    recipe.fit(model, train_ds, epochs=frozen + tuned, initial_epoch=frozen,
               validation_data=val_ds, shuffle=False)
    test_accuracy = model.evaluate(make_dataset("test"), verbose=0)[1]
    description = (f"{size[0]} px, {epochs_text(frozen)} frozen + {tuned} fine-tuned x 32"
                   + (", decoded every epoch" if side == "course"
                      else ", cached, batch norm frozen"))
    return result(recipe, "alpaca", side, description, test_accuracy,
                  time.perf_counter() - start)


TRAIN = {"smiles": train_smiles, "signs": train_signs, "resnet50": train_resnet50,
         "alpaca": train_alpaca}


def load_data(model_name: str) -> dict:
    """The notebook's fit part, validation part and test set for ``model_name``."""
    if model_name == "smiles":
        return smiles_data()
    if model_name == "signs":
        return signs_data(seed=0)  # notebook 2's SEED
    if model_name == "resnet50":
        return signs_data(seed=42)  # notebook 3's SEED
    return alpaca_data()


# ---------------------------------------------------------------- report

def reached(row: dict, target: float) -> float | None:
    """Training seconds at the first checkpoint whose validation accuracy is at least ``target``."""
    for point in row["checkpoints"]:
        if point["val_accuracy"] >= target - 1e-6:
            return point["seconds"]
    return None


def summarise(rows: list[dict]) -> dict:
    """Per model and side: medians over the repeats, and the time to the course's accuracy."""
    summary = {}
    for model_name in dict.fromkeys(r["model"] for r in rows):
        runs = {side: [r for r in rows if r["model"] == model_name and r["side"] == side]
                for side in SIDES}
        target = runs["course"][0]["val_accuracy"] if runs["course"] else None
        for side, mine in runs.items():
            if not mine:
                continue
            times = [reached(r, target) for r in mine] if target is not None else [None]
            summary[f"{model_name} {side}"] = {
                "model": model_name, "side": side, "recipe": mine[0]["recipe"],
                "precision": mine[0]["precision"], "runs": len(mine),
                "train_seconds": statistics.median(r["train_seconds"] for r in mine),
                "train_seconds_all": [r["train_seconds"] for r in mine],
                "val_accuracy": mine[0]["val_accuracy"],
                "test_accuracy": mine[0]["test_accuracy"],
                "accuracies_vary": len({(r["val_accuracy"], r["test_accuracy"])
                                        for r in mine}) > 1,
                "target_val_accuracy": target,
                "seconds_to_target": (None if None in times else statistics.median(times))}
        if runs["course"] and runs["ours"]:
            course, ours = summary[f"{model_name} course"], summary[f"{model_name} ours"]
            ours["course_over_ours"] = round(course["train_seconds"] / ours["train_seconds"], 2)
    return summary


def table(summary: dict) -> str:
    """The summary as a Markdown table."""
    lines = ["| model | side | recipe | precision | runs | training s | final val. acc. "
             "| test acc. | course / ours | s to the course's final val. acc. |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in summary.values():
        seconds = f"{row['train_seconds']:.1f}"
        if row["runs"] > 1:
            seconds += f" ({min(row['train_seconds_all']):.1f}-{max(row['train_seconds_all']):.1f})"
        to_target = ("not reached" if row["seconds_to_target"] is None
                     else f"{row['seconds_to_target']:.1f}")
        if row["target_val_accuracy"] is not None:
            to_target += f" (to {row['target_val_accuracy']:.3f})"
        varies = " (varies)" if row["accuracies_vary"] else ""
        lines.append(f"| {row['model']} | {row['side']} | {row['recipe']} | {row['precision']} "
                     f"| {row['runs']} | {seconds} | {row['val_accuracy']:.3f}{varies} "
                     f"| {row['test_accuracy']:.3f} | {row.get('course_over_ours', '')} "
                     f"| {to_target} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    command_line = common.parser(__doc__, "course_vs_pipeline")
    command_line.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    command_line.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    command_line.add_argument("--repeats", type=int, default=1,
                              help="runs of each side (course, ours, course, ...); the table "
                                   "quotes median seconds")
    command_line.add_argument("--quick", action="store_true",
                              help="1 epoch per stage on a few hundred images: a smoke run")
    args = command_line.parse_args(argv)
    if args.quick and args.write:
        command_line.error("--quick figures mean nothing: it does not --write")
    import utils  # noqa: F401  (before TensorFlow: oneDNN on, quiet start-up)

    import keras

    info = common.machine()
    print(info, flush=True)
    rows, start = [], time.perf_counter()
    for model_name in args.models:
        data = load_data(model_name)
        if args.quick:
            data = shrink(data)
        print(f"{model_name}: " + ", ".join(f"{part} {len(arrays[0])}"
                                             for part, arrays in data.items()), flush=True)
        for repeat in range(1, args.repeats + 1):
            for side in args.sides:
                row = TRAIN[model_name](side, data, args.quick)
                row["repeat"] = repeat
                rows.append(row)
                keras.backend.clear_session()
                print(f"[{time.perf_counter() - start:6.0f} s] {model_name:8s} {side:6s} "
                      f"run {repeat}: {row['precision']:14s} training {row['train_seconds']:7.1f}"
                      f" s, validation {row['val_accuracy']:.3f}, test {row['test_accuracy']:.3f}",
                      flush=True)
                if args.write:  # after every run: what is done survives a later failure
                    common.write_results("course_vs_pipeline", {
                        "machine": info, "started": info["date"], "rows": rows,
                        "summary": summarise(rows), "report": table(summarise(rows))})
    print()
    print(table(summarise(rows)))


if __name__ == "__main__":
    main()
