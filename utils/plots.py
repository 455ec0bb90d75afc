"""The figures the notebooks draw: each function draws one idea and returns its ``Figure``."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from utils.images import prepare_image
from utils.models import load_model
from utils.predict import predict_batches, probabilities


def draw_image(ax, image, title: str | None = None) -> None:
    """Draw a uint8 or float image ([0, 1] or [0, 255]) with no ticks: ``draw_image(ax, x)``."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(array.astype("float32"), 0, 255)
        array = array / 255.0 if array.max() > 1.0 else array
    array = array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array
    ax.imshow(array, cmap="gray" if array.ndim == 2 else None)
    ax.set(xticks=[], yticks=[])
    ax.set_title(title or "", fontsize=9)


def _grid(cells: list, rows: int, columns: int, w: float, h: float, title: str) -> plt.Figure:
    """Draw ``(image, title)`` cells row by row (``None``: a blank) in ``w`` x ``h``-inch panels."""
    fig, axes = plt.subplots(rows, columns, figsize=(w * columns, h * rows), squeeze=False,
                             layout="constrained")  # room for every title, unlike tight_layout
    for ax, cell in zip(axes.flat, cells + [None] * (rows * columns - len(cells))):
        draw_image(ax, *cell) if cell else ax.axis("off")
    fig.suptitle(title)
    return fig


def show_examples(images, labels, class_names: Sequence[str], per_class: int = 1,
                  title: str = "Examples") -> plt.Figure:
    """Show ``per_class`` images of each class, a row per repeat: ``show_examples(x, y, names)``."""
    labels = np.asarray(labels).reshape(-1)
    picks = [np.flatnonzero(labels == c)[:per_class] for c in range(len(class_names))]
    cells = [(images[idx[r]], f"{name}") if r < len(idx) else None
             for r in range(per_class) for name, idx in zip(class_names, picks)]
    return _grid(cells, per_class, len(class_names), 1.9, 2.1, title)


def show_grid(images, titles: Sequence[str], columns: int = 8,
              title: str = "Images") -> plt.Figure:
    """Show any list of images in a grid, each with its title: ``show_grid(x[:16], names)``."""
    cells = [(images[i], titles[i]) for i in range(len(images))]
    return _grid(cells, max(1, int(np.ceil(len(images) / columns))), columns, 1.7, 1.9, title)


def plot_history(*histories, metric: str = "accuracy", title: str = "Learning curves",
                 phase_labels: Sequence[str] | str = "fine-tuning starts") -> plt.Figure:
    """Plot ``metric`` and loss per epoch of Keras ``History`` objects (or their dicts).

    Phases are joined, a dashed line labelled ``phase_labels`` (one per boundary, or one for
    all) where each later one begins. Example: ``plot_history(frozen, tuned)``.
    """
    joined, starts = {}, []
    for history in histories:
        starts.append(len(next(iter(joined.values()), [])))
        for key, values in dict(getattr(history, "history", history)).items():
            joined.setdefault(key, []).extend(float(v) for v in values)
    labels = [phase_labels] * len(starts[1:]) if isinstance(phase_labels, str) else [*phase_labels]
    if len(labels) != len(starts[1:]):
        raise ValueError(f"{len(starts) - 1} phase boundaries but {len(labels)} phase labels")
    fig, axes = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for ax, name in zip(axes, (metric, "loss")):
        for key, label in ((name, "training"), (f"val_{name}", "validation")):
            if key in joined:
                ax.plot(np.arange(1, len(joined[key]) + 1), joined[key], "o-", ms=3, label=label)
        for k, (start, label) in enumerate(zip(starts[1:], labels)):
            ax.axvline(start + 0.5, color=f"C{k + 2}", linestyle="--", label=label)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[1].set_xlabel("epoch")
    axes[1].xaxis.set_major_locator(plt.MaxNLocator(integer=True))  # no epoch 1.5
    axes[0].set_title(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(y_true, y_pred, class_names: Sequence[str],
                          title: str = "Confusion matrix") -> plt.Figure:
    """Draw the confusion matrix: ``[i, j]`` counts class ``i`` predicted as ``j``, all classes.

    Example: ``plot_confusion_matrix(y_test, model.predict(x).argmax(1), names)``.
    """
    n = len(class_names)
    labels = [np.asarray(y).reshape(-1).astype("int64") for y in (y_true, y_pred)]
    matrix = tf.math.confusion_matrix(*labels, num_classes=n).numpy()
    fig, ax = plt.subplots(figsize=(max(3.6, 1.0 + 0.7 * n), max(3.0, 0.8 + 0.7 * n)))  # names fit
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black")
    ax.set_xticks(range(n), class_names, rotation=45 if n > 2 else 0)
    ax.set_yticks(range(n), class_names)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    fig.tight_layout()
    return fig


def _probability(p: float) -> str:
    """Three significant digits, so that small probabilities keep their order: ``0.000491``."""
    return f"{p:.3g}"


def show_mistakes(images, y_true, y_pred, class_names: Sequence[str], max_images: int = 8,
                  title: str = "Misclassified images", probabilities=None) -> plt.Figure:
    """Show up to ``max_images`` wrongly classified images, true vs predicted.

    With ``probabilities`` (rows, or a binary model's p(class 1)) the highest losses come first,
    titled with p(true) to three significant digits, so that the order stays visible.
    Example: ``show_mistakes(x, y, p.argmax(1), names, probabilities=p)``.
    """
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    wrong = np.flatnonzero(y_true != y_pred)
    p_true = None
    if probabilities is not None:
        probs = np.asarray(probabilities, dtype="float64")
        if probs.ndim == 1 or probs.shape[-1] == 1:  # binary: probability of class 1
            probs = np.stack([1 - probs.reshape(-1), probs.reshape(-1)], axis=1)
        if len(probs) != len(y_true):
            raise ValueError(f"{len(probs)} probability rows for {len(y_true)} labels")
        p_true = probs[np.arange(len(y_true)), y_true]
        wrong = wrong[np.argsort(p_true[wrong], kind="stable")]  # lowest p(true) = highest loss
    wrong = wrong[:max_images]
    titles = [f"true {class_names[y_true[i]]}\npred {class_names[y_pred[i]]}"
              + ("" if p_true is None else f"\np(true) {_probability(p_true[i])}")
              for i in wrong]
    if len(wrong) == 0:
        fig, ax = plt.subplots(figsize=(4, 1), subplot_kw={"title": f"{title}: none"})
        ax.axis("off")
        return fig
    return show_grid([images[i] for i in wrong], titles,
                     columns=min(len(wrong), 8), title=f"{title} ({len(wrong)} shown)")


def show_feature_maps(model, layer_names: Sequence[str], image,
                      max_maps: int = 8, title: str = "Feature maps") -> plt.Figure:
    """Show the first ``max_maps`` channels of each named layer, one row (one colour scale) each.

    ``image``: one model input without batch axis. Example: ``show_feature_maps(m, ["conv"], x)``.
    """
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [model.get_layer(n).output for n in layer_names])
    outputs = probe(np.asarray(image)[None], training=False)
    outputs = [outputs] if len(layer_names) == 1 else outputs
    fig, axes = plt.subplots(len(layer_names), max_maps + 1, squeeze=False, layout="constrained",
                             figsize=(1.45 * (max_maps + 1), 1.5 * len(layer_names)))
    for row, (name, out) in enumerate(zip(layer_names, outputs)):
        maps = np.asarray(out, dtype="float32")[0]
        draw_image(axes[row, 0], image, "input" if row == 0 else None)
        axes[row, 0].set_ylabel(f"{name}\n{maps.shape[0]}x{maps.shape[1]}", fontsize=8)
        low, high = float(maps[..., :max_maps].min()), float(maps[..., :max_maps].max())
        for k, ax in enumerate(axes[row, 1:]):
            picture = ax.imshow(maps[..., k], cmap="viridis", vmin=low, vmax=high)
            ax.set(xticks=[], yticks=[])
            ax.set_title(f"channel {k}" if row == 0 else "", fontsize=8)
        fig.colorbar(picture, ax=list(axes[row, 1:]), fraction=0.02, pad=0.01)
    fig.suptitle(title)
    return fig


def show_augmentations(augment, image, n: int = 9, title: str = "Augmented variants") -> plt.Figure:
    """Show ``n`` outputs of an augmentation layer for one image: ``show_augmentations(aug, x)``."""
    columns, batch = int(np.ceil(np.sqrt(n))), np.asarray(image, dtype="float32")[None]
    outs = [np.asarray(augment(batch, training=True))[0] for _ in range(n)]
    cells = [(np.clip(o, 0, 255).astype("uint8") if o.max() > 1.0 else o,) for o in outs]
    return _grid(cells, int(np.ceil(n / columns)), columns, 2.2, 2.2, title)


def show_prediction(model, path: str | Path, class_names: Sequence[str],
                    image_size: tuple[int, int] | None = None, rescale: float = 1 / 255,
                    output: str = "softmax", antialias: bool = True) -> tuple[str, np.ndarray]:
    """Show any image file, prepared as the model's input, and its probabilities; return both.

    ``output``: the model's ``"softmax"``, or ``"sigmoid"``/``"logit"`` for class 1; ``antialias``
    as in training (:func:`utils.prepare_image`). Example: ``show_prediction(model, path, names)``.
    """
    size = image_size or tuple(model.inputs[0].shape[1:3])
    image = prepare_image(path, size, antialias=antialias)
    raw = np.asarray(model(image[None] * rescale, training=False), dtype="float64")
    probs = probabilities(raw.reshape(1, -1), {"output": output})[0]  # as predict_files does
    best = int(np.argmax(probs))
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2), width_ratios=[1, 1.6])
    draw_image(left, image, f"{Path(path).name}")
    right.bar(range(len(class_names)), probs, color="tab:blue")[best].set_color("tab:orange")
    right.set(xticks=range(len(class_names)), xticklabels=class_names, ylim=(0, 1), xlabel="class",
              ylabel="probability", title=f"prediction: {class_names[best]} ({probs[best]:.2f})")
    fig.tight_layout()
    plt.show()
    return class_names[best], probs


def show_predictions(model, paths, top_k: int = 3, columns: int = 4) -> plt.Figure:
    """Show image files as a saved model (as for :func:`utils.predict_files`) sees them.

    Each is titled with its prediction and, over two classes, the runners-up (``top_k`` in
    all); an unreadable file with the reason. Example: ``show_predictions("signs", paths)``.
    """
    net, sidecar = model if isinstance(model, tuple) else load_model(model)
    results, views = predict_batches(net, sidecar, paths, top_k)
    if not results:
        raise ValueError("no image files given")
    columns = max(1, min(columns, len(results)))
    rows = -(-len(results) // columns)
    below = min(top_k, len(sidecar["class_names"])) - 1 if sidecar["output"] == "softmax" else 0
    aspect = sidecar["input_size"][0] / sidecar["input_size"][1]  # height / width of each panel
    fig, axes = plt.subplots(rows, columns, squeeze=False, layout="constrained", figsize=(
        max(2.5 * columns, 5.0), (2.5 * aspect + 0.6 + 0.2 * below) * rows))
    for ax, result, view in zip(axes.flat, results, views):
        name = Path(result["file"]).name
        if not result["ok"]:
            ax.set(xticks=[], yticks=[], box_aspect=aspect)
            ax.set_title(f"{name}\ncould not be read", fontsize=9, color="tab:red")
            reason = textwrap.wrap(result["error"].replace(result["file"], name), 30)[:6]
            ax.text(0.5, 0.5, "\n".join(reason), ha="center", va="center", fontsize=7,
                    transform=ax.transAxes)
            continue
        draw_image(ax, view, f"{name}\n{result['class']} ({result['probability']:.2f})")
        if below:
            ax.set_xlabel("\n".join(f"{t['class']}: {t['probability']:.2f}"
                                     for t in result["top_k"][1:]), fontsize=8)
    for ax in list(axes.flat)[len(results):]:
        ax.axis("off")
    source = f" (saved by {sidecar['notebook']})" if sidecar.get("notebook") else ""
    fig.suptitle(f"Predictions of the {sidecar.get('name', 'saved')} model{source}")
    return fig
