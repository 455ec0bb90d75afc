"""Grad-CAM finds the half of an image that holds each class, also inside a nested base."""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import pytest
from keras import layers

from utils import gradcam

matplotlib.use("Agg")


def two_half_model(head: str):
    """Feature map 0 = pixel brightness, map 1 = darkness; class 0 = bright, class 1 = dark."""
    inputs = keras.Input((16, 16, 1))
    maps = layers.Conv2D(2, 1, activation="relu", name="maps")(inputs)
    pooled = layers.GlobalAveragePooling2D()(maps)
    if head == "softmax":
        outputs = layers.Dense(2, activation="softmax", name="out")(pooled)
    else:
        outputs = layers.Dense(1, name="out")(pooled)  # logit > 0 means class 1 (dark)
    model = keras.Model(inputs, outputs)
    model.get_layer("maps").set_weights([np.array([1.0, -1.0]).reshape(1, 1, 1, 2),
                                         np.array([0.0, 1.0])])
    weights = np.eye(2) if head == "softmax" else np.array([[-1.0], [1.0]])
    model.get_layer("out").set_weights([weights, np.zeros(weights.shape[1])])
    return model


@pytest.mark.parametrize("head", ["softmax", "logit"])
def test_grad_cam_finds_the_half_that_holds_each_class(head):
    image = np.zeros((16, 16, 1), "float32")
    image[:, :8] = 1.0  # left half bright: evidence for class 0; right half dark: class 1
    model = two_half_model(head)
    for class_index, (strong, weak) in {0: (slice(0, 8), slice(8, 16)),
                                        1: (slice(8, 16), slice(0, 8))}.items():
        heat, explained = gradcam.grad_cam(model, image, class_index=class_index)
        assert explained == class_index and heat.shape == (16, 16)
        assert heat[:, strong].min() > 0.99 and heat[:, weak].max() == 0.0, (head, class_index)
    assert gradcam.grad_cam(model, image, layer_name="maps")[0].max() == 1.0


def test_grad_cam_looks_inside_a_nested_base():
    """A pretrained base nested as one layer: its own .output belongs to its inner graph."""
    flat = two_half_model("logit")
    inner = keras.Model(flat.inputs, flat.get_layer("maps").output, name="base")
    inputs = keras.Input((16, 16, 1))
    x = layers.GlobalAveragePooling2D()(inner(inputs))
    nested = keras.Model(inputs, flat.get_layer("out")(x))
    image = np.zeros((16, 16, 1), "float32")
    image[:, :8] = 1.0
    for class_index in (0, 1):
        expected, _ = gradcam.grad_cam(flat, image, class_index=class_index)
        heat, explained = gradcam.grad_cam(nested, image, class_index=class_index)
        assert explained == class_index and np.array_equal(heat, expected)
    assert np.array_equal(gradcam.grad_cam(nested, image, 1, layer_name="base")[0], heat)


def test_grad_cam_skips_a_final_1x1_pooling():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", name="last_conv")(inputs)
    x = layers.AveragePooling2D(8, name="pool")(x)  # (1, 1, 4): no "where" left
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(layers.Flatten()(x)))
    heat, _ = gradcam.grad_cam(model, np.ones((8, 8, 3), "float32"))
    assert heat.shape == (8, 8), "the default layer is the last map larger than 1x1"


def test_show_grad_cam_draws_image_and_overlay():
    heat = np.zeros((4, 4))
    heat[:2, :2] = 1.0
    fig = gradcam.show_grad_cam(np.zeros((32, 32, 3), np.uint8), heat, title="demo")
    assert len(fig.axes) == 3 and fig.axes[1].images[-1].get_array().shape == (32, 32)
    matplotlib.pyplot.close(fig)
    small = gradcam.show_grad_cam(np.zeros((32, 48, 3), np.uint8), heat, figsize=(4, 2))
    assert tuple(small.get_size_inches()) == (4, 2)
    assert small.axes[1].images[-1].get_array().shape == (32, 48)
    matplotlib.pyplot.close(small)
