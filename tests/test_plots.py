"""Every plotting helper draws what it promises: titles, labels, panels, counts."""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import pytest

from utils import plots

matplotlib.use("Agg")
NAMES = ["not smiling", "smiling"]


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 255, (12, 32, 32, 3), dtype=np.uint8)


@pytest.fixture
def tiny_model():
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(4, 3, name="conv"),
        keras.layers.ReLU(name="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(3, activation="softmax"),
    ])


def titles(fig):
    return [ax.get_title() for ax in fig.axes]


def test_show_examples_one_per_class(images):
    labels = np.array([0, 1] * 6)
    fig = plots.show_examples(images, labels, NAMES, per_class=2, title="Faces")
    assert len(fig.axes) == 4 and titles(fig).count("smiling") == 2
    assert fig._suptitle.get_text() == "Faces"


def test_show_grid_and_greyscale(images):
    grey = images[..., :1]
    fig = plots.show_grid(grey[:5], [str(i) for i in range(5)], columns=3)
    assert titles(fig)[:5] == ["0", "1", "2", "3", "4"]
    assert not fig.axes[5].axison, "unused cells are hidden"


def test_plot_history_joins_two_phases_with_a_marker():
    first = {"accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5], "loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}
    second = {"accuracy": [0.7, 0.8, 0.9], "val_accuracy": [0.6, 0.7, 0.8],
              "loss": [0.6, 0.5, 0.4], "val_loss": [0.7, 0.6, 0.5]}
    fig = plots.plot_history(first, second)
    accuracy_ax, loss_ax = fig.axes
    assert accuracy_ax.get_ylabel() == "accuracy" and loss_ax.get_ylabel() == "loss"
    assert loss_ax.get_xlabel() == "epoch"
    train_line = accuracy_ax.get_lines()[0]
    assert list(train_line.get_ydata()) == [0.5, 0.6, 0.7, 0.8, 0.9]
    markers = [line for line in accuracy_ax.get_lines() if line.get_linestyle() == "--"]
    assert len(markers) == 1 and markers[0].get_xdata()[0] == 2.5


def test_plot_history_accepts_a_keras_history():
    history = keras.callbacks.History()
    history.history = {"accuracy": [0.1, 0.2], "loss": [2.0, 1.0]}
    fig = plots.plot_history(history)
    assert [len(ax.get_lines()) for ax in fig.axes] == [1, 1]


def test_confusion_matrix_counts():
    fig = plots.plot_confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], NAMES)
    cells = [t.get_text() for t in fig.axes[0].texts]
    assert cells == ["1", "1", "1", "2"]
    assert fig.axes[0].get_xlabel() == "predicted class"


def test_confusion_matrix_agrees_with_a_count_by_hand():
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    y_pred = y_pred % 3  # class 3 is never predicted: its column is all zeros
    fig = plots.plot_confusion_matrix(y_true.reshape(-1, 1), y_pred, list("abcd"))
    shown = np.array([int(t.get_text()) for t in fig.axes[0].texts]).reshape(4, 4)
    by_hand = np.array([[np.sum((y_true == i) & (y_pred == j)) for j in range(4)]
                        for i in range(4)])
    np.testing.assert_array_equal(shown, by_hand)
    assert shown[:, 3].sum() == 0 and shown.sum() == 200


def test_show_mistakes(images):
    fig = plots.show_mistakes(images[:4], [0, 1, 0, 1], [0, 0, 1, 1], NAMES)
    assert titles(fig)[:2] == ["true smiling\npred not smiling", "true not smiling\npred smiling"]
    none = plots.show_mistakes(images[:2], [0, 1], [0, 1], NAMES)
    assert "none" in none.axes[0].get_title()


def test_show_feature_maps(tiny_model, images):
    fig = plots.show_feature_maps(tiny_model, ["conv", "relu"], images[0] / 255.0, max_maps=4)
    assert len(fig.axes) == 2 * 5 + 2  # 2 rows of input + 4 maps, one colour bar per row
    assert fig.axes[0].get_ylabel().startswith("conv\n30x30")
    for row in range(2):  # all maps of a row share one colour scale
        limits = {fig.axes[row * 5 + k].images[0].get_clim() for k in range(1, 5)}
        assert len(limits) == 1


def test_show_mistakes_worst_first(images):
    y_true = np.array([0, 1, 2, 0])
    probs = np.array([[0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.05, 0.05, 0.9]])
    fig = plots.show_mistakes(images[:4], y_true, probs.argmax(1), ["a", "b", "c"],
                              probabilities=probs)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert [t.splitlines()[0] for t in titles] == ["true a", "true c", "true a"]
    assert titles[0].endswith("p(true) 0.05")  # index 3: highest loss first


def test_plot_history_labels_each_phase():
    h = {"accuracy": [0.5], "val_accuracy": [0.5], "loss": [1.0], "val_loss": [1.0]}
    fig = plots.plot_history(h, h, h, phase_labels=["re-estimated", "longer run"])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][-2:] == \
        ["re-estimated", "longer run"]
    with pytest.raises(ValueError, match="phase labels"):
        plots.plot_history(h, h, phase_labels=["a", "b"])


def test_show_augmentations(images):
    flip = keras.Sequential([keras.layers.RandomFlip("horizontal", seed=1)])
    fig = plots.show_augmentations(flip, images[0], n=4)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 4


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_show_prediction_any_image_file(tiny_model, tmp_path, mode):
    from tests.conftest import jpeg_bytes

    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg_bytes(5, size=(90, 70), mode=mode))
    name, probs = plots.show_prediction(tiny_model, path, ["a", "b", "c"])
    assert name in ("a", "b", "c") and probs.shape == (3,)
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)


def test_show_prediction_binary_logit(tmp_path):
    from tests.conftest import jpeg_bytes

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(1, kernel_initializer="zeros",
                                                 bias_initializer=keras.initializers.Constant(2.0))])
    path = tmp_path / "x.jpg"
    path.write_bytes(jpeg_bytes(1))
    name, probs = plots.show_prediction(model, path, ["alpaca", "not alpaca"], output="logit")
    assert name == "not alpaca"
    assert probs[1] == pytest.approx(1 / (1 + np.exp(-2.0)))
    # the same conversion as utils.predict_files: raw scores called "softmax" are refused
    from utils.models import ModelError

    with pytest.raises(ModelError, match="not probabilities"):
        plots.show_prediction(keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                                                keras.layers.Dense(2, bias_initializer="ones")]),
                              path, ["alpaca", "not alpaca"], output="softmax")


def two_half_model(head: str):
    """Feature map 0 = pixel brightness, map 1 = darkness; class 0 = bright, class 1 = dark."""
    import keras
    from keras import layers

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
        heat, explained = plots.grad_cam(model, image, class_index=class_index)
        assert explained == class_index and heat.shape == (16, 16)
        assert heat[:, strong].min() > 0.99 and heat[:, weak].max() == 0.0, (head, class_index)
    assert plots.grad_cam(model, image, layer_name="maps")[0].max() == 1.0


def test_grad_cam_looks_inside_a_nested_base():
    """A pretrained base nested as one layer: its own .output belongs to its inner graph."""
    import keras
    from keras import layers

    flat = two_half_model("logit")
    inner = keras.Model(flat.inputs, flat.get_layer("maps").output, name="base")
    inputs = keras.Input((16, 16, 1))
    x = layers.GlobalAveragePooling2D()(inner(inputs))
    nested = keras.Model(inputs, flat.get_layer("out")(x))
    image = np.zeros((16, 16, 1), "float32")
    image[:, :8] = 1.0
    for class_index in (0, 1):
        expected, _ = plots.grad_cam(flat, image, class_index=class_index)
        heat, explained = plots.grad_cam(nested, image, class_index=class_index)
        assert explained == class_index and np.array_equal(heat, expected)
    assert np.array_equal(plots.grad_cam(nested, image, 1, layer_name="base")[0], heat)


def test_grad_cam_skips_a_final_1x1_pooling():
    import keras
    from keras import layers

    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", name="last_conv")(inputs)
    x = layers.AveragePooling2D(8, name="pool")(x)  # (1, 1, 4): no "where" left
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(layers.Flatten()(x)))
    heat, _ = plots.grad_cam(model, np.ones((8, 8, 3), "float32"))
    assert heat.shape == (8, 8), "the default layer is the last map larger than 1x1"


def test_show_grad_cam_draws_image_and_overlay():
    heat = np.zeros((4, 4))
    heat[:2, :2] = 1.0
    fig = plots.show_grad_cam(np.zeros((32, 32, 3), np.uint8), heat, title="demo")
    assert len(fig.axes) == 3 and fig.axes[1].images[-1].get_array().shape == (32, 32)
    matplotlib.pyplot.close(fig)
    small = plots.show_grad_cam(np.zeros((32, 48, 3), np.uint8), heat, figsize=(4, 2))
    assert tuple(small.get_size_inches()) == (4, 2)
    assert small.axes[1].images[-1].get_array().shape == (32, 48)
    matplotlib.pyplot.close(small)
