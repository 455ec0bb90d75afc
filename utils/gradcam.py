"""Grad-CAM: where in an image a convolutional network finds the evidence for a class."""

from __future__ import annotations

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from utils.keras_graph import output_in
from utils.plots import draw_image


def grad_cam(model, image, class_index: int | None = None,
             layer_name: str | None = None) -> tuple[np.ndarray, int]:
    """Return Grad-CAM's heatmap (where in ``image`` the evidence for a class lies) and the class.

    ``ReLU(sum_k a_k A^k)`` scaled to [0, 1]: ``A^k`` are the maps of ``layer_name`` (default: the
    last one larger than 1x1; a nested base model is one layer), ``a_k`` the mean gradient on them
    of the class probability (one logit: the logit, negated for class 0). ``class_index=None``
    explains the predicted class.
    Example: ``heat, c = grad_cam(resnet, x_test[0])``.
    """
    if layer_name is None:
        maps = [layer for layer in model.layers if len(layer.output.shape) == 4
                and layer.output.shape[1] * layer.output.shape[2] > 1]  # not a 1x1 pool
        if not maps:
            raise ValueError(f"{model.name} has no layer with feature maps larger than 1x1")
        layer_name = maps[-1].name
    probe = keras.Model(model.inputs, [output_in(model, model.get_layer(layer_name)),
                                       model.outputs[0]])
    batch = tf.convert_to_tensor(np.asarray(image, "float32")[None])  # a tensor: no warning
    with tf.GradientTape() as tape:
        features, scores = probe(batch, training=False)
        scores = tf.cast(scores, "float32")[0]
        if scores.shape[-1] == 1:  # one logit: positive means class 1
            class_index = int(scores[0] > 0) if class_index is None else class_index
            score = scores[0] if class_index == 1 else -scores[0]
        else:
            class_index = int(tf.argmax(scores)) if class_index is None else class_index
            score = scores[class_index]
    weights = tf.reduce_mean(tf.cast(tape.gradient(score, features), "float32")[0], axis=(0, 1))
    heat = tf.nn.relu(tf.reduce_sum(weights * tf.cast(features[0], "float32"), axis=-1)).numpy()
    return (heat / heat.max() if heat.max() > 0 else heat), class_index


def show_grad_cam(image, heatmap: np.ndarray, title: str = "Grad-CAM",
                  alpha: float = 0.45, figsize: tuple[float, float] = (6, 3.2)) -> plt.Figure:
    """Show an image beside itself under the heatmap (red: strong): ``show_grad_cam(x, heat)``."""
    height, width = np.shape(image)[:2]
    big = tf.image.resize(np.asarray(heatmap, "float32")[..., None], (height, width)).numpy()
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize)
    draw_image(left, image, "image")
    draw_image(right, image, "evidence (red = strong)")
    shown = right.imshow(big[..., 0], cmap="jet", alpha=alpha, vmin=0, vmax=1)
    fig.colorbar(shown, ax=right, fraction=0.046, pad=0.04)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
