"""The figures the notebooks draw.

Each function draws one idea, titles it, labels its axes and returns the
matplotlib ``Figure`` (notebooks display it; tests inspect it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np


def _as_image(image) -> np.ndarray:
    """Turn a uint8 or [0, 1] float image, possibly (h, w, 1), into something imshow draws."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(array.astype("float32"), 0, 255)
        array = array / 255.0 if array.max() > 1.0 else array
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    return array


def _show(ax, image, title: str | None = None) -> None:
    array = _as_image(image)
    ax.imshow(array, cmap="gray" if array.ndim == 2 else None)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def show_examples(images, labels, class_names: Sequence[str], per_class: int = 1,
                  title: str = "Examples") -> plt.Figure:
    """Show ``per_class`` images of every class, one row per repeat, labelled.

    Example: ``show_examples(x_train, y_train, ["not smiling", "smiling"])``.
    """
    labels = np.asarray(labels).reshape(-1)
    n = len(class_names)
    fig, axes = plt.subplots(per_class, n, figsize=(1.9 * n, 2.1 * per_class), squeeze=False)
    for c in range(n):
        idx = np.flatnonzero(labels == c)[:per_class]
        for r in range(per_class):
            ax = axes[r, c]
            if r < len(idx):
                _show(ax, images[idx[r]], f"{class_names[c]}")
            else:
                ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_grid(images, titles: Sequence[str], columns: int = 8,
              title: str = "Images") -> plt.Figure:
    """Show any list of images in a grid, each with its title.

    Example: ``show_grid(batch[:16], [names[i] for i in labels[:16]])``.
    """
    rows = max(1, int(np.ceil(len(images) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(1.7 * columns, 1.9 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < len(images):
            _show(ax, images[i], titles[i])
        else:
            ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _history_dict(history) -> dict[str, list[float]]:
    return dict(getattr(history, "history", history))


def plot_history(*histories, metric: str = "accuracy", title: str = "Learning curves",
                 phase_labels: Sequence[str] | str = "fine-tuning starts") -> plt.Figure:
    """Plot accuracy and loss per epoch, training vs validation, in two panels.

    Pass one history, or several phases (e.g. frozen training then
    fine-tuning): they are joined and a dashed line marks where each later
    phase begins, labelled by ``phase_labels`` (one string per boundary, or
    one string for all). Accepts Keras ``History`` objects or their
    ``.history`` dicts.
    Example: ``plot_history(history)`` or ``plot_history(frozen, tuned,
    phase_labels="fine-tuning starts")``.
    """
    joined: dict[str, list[float]] = {}
    starts = []
    for h in histories:
        d = _history_dict(h)
        starts.append(len(next(iter(joined.values()), [])))
        for key, values in d.items():
            joined.setdefault(key, []).extend(float(v) for v in values)
    labels = [phase_labels] * len(starts[1:]) if isinstance(phase_labels, str) else list(phase_labels)
    if len(labels) != len(starts[1:]):
        raise ValueError(f"{len(starts) - 1} phase boundaries but {len(labels)} phase labels")
    fig, axes = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for ax, name in zip(axes, (metric, "loss")):
        for key, label in ((name, "training"), (f"val_{name}", "validation")):
            if key in joined:
                epochs = np.arange(1, len(joined[key]) + 1)
                ax.plot(epochs, joined[key], marker="o", markersize=3, label=label)
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
    """Draw the confusion matrix: rows are true classes, columns predictions.

    The counts come from ``tf.math.confusion_matrix`` (entry ``[i, j]`` is how
    many images of class ``i`` were predicted as class ``j``), sized by
    ``class_names`` so a class that never occurs still gets its row and column.
    Example: ``plot_confusion_matrix(y_test, model.predict(x).argmax(1), names)``.
    """
    import tensorflow as tf

    n = len(class_names)
    matrix = tf.math.confusion_matrix(np.asarray(y_true).reshape(-1).astype("int64"),
                                      np.asarray(y_pred).reshape(-1).astype("int64"),
                                      num_classes=n).numpy()
    # at least 3.6 x 3 inches, so that two long class names do not collide
    fig, ax = plt.subplots(figsize=(max(3.6, 1.0 + 0.7 * n), max(3.0, 0.8 + 0.7 * n)))
    ax.imshow(matrix, cmap="Blues")
    for i in range(n):
        for j in range(n):
            color = "white" if matrix[i, j] > matrix.max() / 2 else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=color)
    ax.set_xticks(range(n), class_names, rotation=45 if n > 2 else 0)
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def show_mistakes(images, y_true, y_pred, class_names: Sequence[str],
                  max_images: int = 8, title: str = "Misclassified images",
                  probabilities=None) -> plt.Figure:
    """Show up to ``max_images`` wrongly classified images, true vs predicted.

    With ``probabilities`` (one row of class probabilities per image, or one
    probability of the second class for a binary model) the worst mistakes
    come first: those with the highest loss, ``-log p(true class)``, whatever
    their class; each title then shows the probability given to the true
    class. Without it, the first mistakes in data order are shown.
    Example: ``show_mistakes(x_test, y_test, probs.argmax(1), names, probabilities=probs)``.
    """
    y_true = np.asarray(y_true).reshape(-1)
    y_pred = np.asarray(y_pred).reshape(-1)
    wrong = np.flatnonzero(y_true != y_pred)
    p_true = None
    if probabilities is not None:
        probs = np.asarray(probabilities, dtype="float64")
        if probs.ndim == 1 or probs.shape[-1] == 1:  # binary: probability of class 1
            probs = probs.reshape(-1)
            probs = np.stack([1 - probs, probs], axis=1)
        if len(probs) != len(y_true):
            raise ValueError(f"{len(probs)} probability rows for {len(y_true)} labels")
        p_true = probs[np.arange(len(y_true)), y_true]
        wrong = wrong[np.argsort(p_true[wrong], kind="stable")]  # lowest p(true) = highest loss
    wrong = wrong[:max_images]
    titles = [f"true {class_names[y_true[i]]}\npred {class_names[y_pred[i]]}"
              + ("" if p_true is None else f"\np(true) {p_true[i]:.2f}") for i in wrong]
    if len(wrong) == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.set_title(f"{title}: none")
        return fig
    return show_grid([images[i] for i in wrong], titles,
                     columns=min(len(wrong), 8), title=f"{title} ({len(wrong)} shown)")


def show_feature_maps(model, layer_names: Sequence[str], image,
                      max_maps: int = 8, title: str = "Feature maps") -> plt.Figure:
    """Show the first ``max_maps`` channels each named layer computes for one image.

    One row per layer; the input image comes first. All channels of a row
    share one colour scale, shown by the row's colour bar, so a bright map
    really is a stronger response than a dark one in the same row. ``image`` must already be
    prepared as the model expects (e.g. scaled to [0, 1]), without a batch axis.
    Example: ``show_feature_maps(model, ["conv", "relu", "pool"], x_test[0])``.
    """
    import keras

    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [model.get_layer(n).output for n in layer_names])
    outputs = probe(np.asarray(image)[None], training=False)
    if len(layer_names) == 1:
        outputs = [outputs]
    fig, axes = plt.subplots(len(layer_names), max_maps + 1,
                             figsize=(1.45 * (max_maps + 1), 1.5 * len(layer_names)), squeeze=False,
                             layout="constrained")  # leaves room for the colour bars
    for row, (name, out) in enumerate(zip(layer_names, outputs)):
        maps = np.asarray(out, dtype="float32")[0]
        _show(axes[row, 0], image, "input" if row == 0 else None)
        axes[row, 0].set_ylabel(f"{name}\n{maps.shape[0]}x{maps.shape[1]}", fontsize=8)
        shown = maps[..., :max_maps]
        low, high = float(shown.min()), float(shown.max())  # one colour scale per row
        for k in range(max_maps):
            ax = axes[row, k + 1]
            picture = ax.imshow(maps[..., k], cmap="viridis", vmin=low, vmax=high)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"channel {k}", fontsize=8)
        fig.colorbar(picture, ax=list(axes[row, 1:]), fraction=0.02, pad=0.01)
    fig.suptitle(title)
    return fig


def show_augmentations(augment, image, n: int = 9, title: str = "Augmented variants") -> plt.Figure:
    """Apply a Keras augmentation layer (or model) ``n`` times to one image.

    Example: ``show_augmentations(keras.Sequential([RandomFlip("horizontal")]), img)``.
    """
    columns = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.2 * rows), squeeze=False)
    batch = np.asarray(image, dtype="float32")[None]
    for i, ax in enumerate(axes.flat):
        if i < n:
            out = np.asarray(augment(batch, training=True))[0]
            _show(ax, np.clip(out, 0, 255).astype("uint8") if out.max() > 1.0 else out)
        else:
            ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_prediction(model, path: str | Path, class_names: Sequence[str],
                    image_size: tuple[int, int] | None = None, rescale: float = 1 / 255,
                    output: str = "softmax") -> tuple[str, np.ndarray]:
    """Predict the class of any image file and show it with a probability bar chart.

    The file may be any size, RGB or greyscale: it is resized to the model's
    input (or ``image_size``) and multiplied by ``rescale``, as the training
    data was. ``output`` says what the model returns: ``"softmax"``
    probabilities, or one ``"sigmoid"`` probability or ``"logit"`` for the
    second class. Returns ``(predicted class name, probabilities)``.
    Example: ``show_prediction(model, "my_hand.jpg", ["0", "1", "2", "3", "4", "5"])``.
    """
    from utils.data import read_image
    from utils.models import _probabilities

    if image_size is None:
        image_size = tuple(model.inputs[0].shape[1:3])
    image = read_image(path, size=image_size)
    raw = np.asarray(model(image[None].astype("float32") * rescale, training=False),
                     dtype="float64")
    probs = _probabilities(raw.reshape(1, -1), {"output": output})[0]  # as predict_files does
    best = int(np.argmax(probs))
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2), gridspec_kw={"width_ratios": [1, 1.6]})
    _show(left, image, f"{Path(path).name}")
    bars = right.bar(range(len(class_names)), probs, color="tab:blue")
    bars[best].set_color("tab:orange")
    right.set_xticks(range(len(class_names)), class_names)
    right.set_ylim(0, 1)
    right.set_xlabel("class")
    right.set_ylabel("probability")
    right.set_title(f"prediction: {class_names[best]} ({probs[best]:.2f})")
    fig.tight_layout()
    plt.show()
    return class_names[best], probs


def show_predictions(model, paths, top_k: int = 3, columns: int = 4) -> plt.Figure:
    """Show image files as a saved model sees them, each titled with its prediction.

    ``model`` is a saved model's name (``"signs"``), a ``.keras`` path, or the
    ``(model, sidecar)`` pair :func:`utils.load_model` returns. Each panel
    shows the image after the sidecar's resizing and colour mode, titled with
    the file name, the predicted class and its probability; for a model with
    more than two classes the runners-up (up to ``top_k`` classes in all) are
    listed under it. A file that cannot be read gets an empty panel titled
    with its name and the reason. The numbers are those of
    :func:`utils.predict_files`.
    Example: ``fig = show_predictions("signs", ["my_hand.jpg", "two_fingers.png"])``.
    """
    import textwrap

    from utils.models import _predict, load_model

    net, sidecar = model if isinstance(model, tuple) else load_model(model)
    results, views = _predict(net, sidecar, paths, top_k)
    if not results:
        raise ValueError("no image files given")
    columns = max(1, min(columns, len(results)))
    rows = -(-len(results) // columns)
    below = min(top_k, len(sidecar["class_names"])) - 1 if sidecar["output"] == "softmax" else 0
    aspect = sidecar["input_size"][0] / sidecar["input_size"][1]  # height / width of each panel
    fig, axes = plt.subplots(rows, columns, squeeze=False, layout="constrained",
                             figsize=(max(2.5 * columns, 5.0), (2.5 * aspect + 0.6 + 0.2 * below) * rows))
    for ax, result, view in zip(axes.flat, results, views):
        name = Path(result["file"]).name
        if not result["ok"]:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_box_aspect(aspect)
            ax.set_title(f"{name}\ncould not be read", fontsize=9, color="tab:red")
            reason = result["error"].replace(result["file"], name)
            ax.text(0.5, 0.5, "\n".join(textwrap.wrap(reason, 30)[:6]), ha="center",
                    va="center", fontsize=7, transform=ax.transAxes)
            continue
        _show(ax, view, f"{name}\n{result['class']} ({result['probability']:.2f})")
        if below:
            ax.set_xlabel("\n".join(f"{t['class']}: {t['probability']:.2f}"
                                     for t in result["top_k"][1:]), fontsize=8)
    for ax in list(axes.flat)[len(results):]:
        ax.axis("off")
    source = f" (saved by {sidecar['notebook']})" if sidecar.get("notebook") else ""
    fig.suptitle(f"Predictions of the {sidecar.get('name', 'saved')} model{source}")
    return fig


def _output_in(model, layer):
    """The tensor ``layer`` computes inside ``model``'s graph.

    For most layers that is ``layer.output``; a model nested as a layer (such
    as a pretrained base) answers ``.output`` with its own inner graph's
    tensor, so the walk goes back from ``model``'s outputs to find the call.
    """
    todo, seen = list(model.outputs), set()
    while todo:
        tensor = todo.pop()
        op, node_index, _ = tensor._keras_history
        if op is layer:
            return tensor
        if id(tensor) not in seen:
            seen.add(id(tensor))
            todo.extend(op._inbound_nodes[node_index].input_tensors)
    raise ValueError(f"layer {layer.name} is not on the path to {model.name}'s output")


def grad_cam(model, image, class_index: int | None = None,
             layer_name: str | None = None) -> tuple[np.ndarray, int]:
    """Grad-CAM: where in ``image`` the evidence for one class lies.

    Takes the feature maps ``A^k`` of a convolutional layer (by default the
    last layer whose output is a 4-D feature map) and the score ``y^c`` of
    class ``c`` (the softmax probability, or for a single-logit binary model
    the logit for class 1 and minus the logit for class 0); a 1x1 pooled map
    is never chosen by default, since it has no "where"; a model nested as
    one layer (a pretrained base) counts as a layer with its output maps.
    Each map gets the weight ``a_k = mean over positions of dy^c/dA^k``; the
    heatmap is ``ReLU(sum_k a_k A^k)``, scaled to [0, 1] (all zeros if nothing
    is positive). ``image`` is one input exactly as the model takes it (already
    scaled). ``class_index=None`` explains the predicted class. Returns the
    heatmap at the layer's resolution and the class it explains.
    Example: ``heat, c = grad_cam(resnet, x_test[0])``.
    """
    import keras
    import tensorflow as tf

    if layer_name is None:
        maps = [layer for layer in model.layers if len(layer.output.shape) == 4
                and layer.output.shape[1] * layer.output.shape[2] > 1]  # not a 1x1 pool
        if not maps:
            raise ValueError(f"{model.name} has no layer with feature maps larger than 1x1")
        layer_name = maps[-1].name
    probe = keras.Model(model.inputs, [_output_in(model, model.get_layer(layer_name)),
                                       model.outputs[0]])
    batch = tf.convert_to_tensor(np.asarray(image, dtype="float32")[None])
    with tf.GradientTape() as tape:
        features, scores = probe(batch, training=False)
        scores = tf.cast(scores, "float32")[0]
        if scores.shape[-1] == 1:  # one logit: positive means class 1
            class_index = int(scores[0] > 0) if class_index is None else class_index
            score = scores[0] if class_index == 1 else -scores[0]
        else:
            class_index = int(tf.argmax(scores)) if class_index is None else class_index
            score = scores[class_index]
    grads = tf.cast(tape.gradient(score, features), "float32")[0]
    weights = tf.reduce_mean(grads, axis=(0, 1))
    heat = tf.nn.relu(tf.reduce_sum(weights * tf.cast(features[0], "float32"), axis=-1)).numpy()
    return (heat / heat.max() if heat.max() > 0 else heat), class_index


def show_grad_cam(image, heatmap: np.ndarray, title: str = "Grad-CAM",
                  alpha: float = 0.45, figsize: tuple[float, float] = (6, 3.2)) -> plt.Figure:
    """Show an image beside the same image with a Grad-CAM heatmap laid over it.

    The heatmap is stretched to the image's size (bilinear); red means strong
    evidence for the class. ``figsize`` is the whole figure's (width, height)
    in inches. Example: ``show_grad_cam(x_test_orig[0], heat)``.
    """
    import tensorflow as tf

    array = _as_image(image)
    height, width = array.shape[:2]
    big = tf.image.resize(np.asarray(heatmap, "float32")[..., None], (height, width)).numpy()[..., 0]
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize)
    _show(left, image, "image")
    _show(right, image, "evidence (red = strong)")
    shown = right.imshow(big, cmap="jet", alpha=alpha, vmin=0, vmax=1)
    fig.colorbar(shown, ax=right, fraction=0.046, pad=0.04)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
