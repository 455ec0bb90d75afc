"""Every plotting helper draws what it promises: titles, labels, panels, counts."""

from __future__ import annotations

from pathlib import Path

import keras
import matplotlib
import numpy as np
import pytest

import utils
from tests.saved_models import BLUE, RED, save_models, softmax4, write_pictures
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


def test_show_mistakes_small_probabilities_keep_their_order(images):
    p_smiling = np.array([0.99997, 0.9996, 0.4, 0.8])  # p(true) 3e-05, 4e-04, 0.4; 4th right
    fig = plots.show_mistakes(images[:4], [0, 0, 1, 1], [1, 1, 0, 1], NAMES,
                              probabilities=p_smiling)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert [t.splitlines()[-1] for t in titles] == ["p(true) 3e-05", "p(true) 0.0004",
                                                   "p(true) 0.4"]
    p_smiling = np.array([0.99892, 0.99885, 0.2, 0.8])  # 0.00108 and 0.00115: order visible
    fig = plots.show_mistakes(images[:4], [0, 0, 1, 1], [1, 1, 0, 1], NAMES,
                              probabilities=p_smiling)
    assert [ax.get_title().splitlines()[-1] for ax in fig.axes if ax.images][:2] == \
        ["p(true) 0.00108", "p(true) 0.00115"]


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


@pytest.fixture
def models(tmp_path_factory, monkeypatch) -> Path:
    folder = save_models(tmp_path_factory.mktemp("models"))
    monkeypatch.setenv("COURSE_MODELS_DIR", str(folder))
    return folder


@pytest.fixture
def pictures(tmp_path_factory) -> dict[str, Path]:
    return write_pictures(tmp_path_factory.mktemp("pictures"))


def test_show_predictions_titles_each_panel(models, pictures):
    fig = utils.show_predictions("colours", [pictures["red.png"], pictures["notes.jpg"],
                                             pictures["one.png"]], top_k=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [f"red.png\nred ({RED:.2f})", "notes.jpg\ncould not be read",
                      f"one.png\nblue ({BLUE:.2f})"]
    assert fig.axes[0].get_xlabel() == f"green: {softmax4([1, 0, 0])[1]:.2f}", "the runner-up"
    assert fig.axes[0].get_images()[0].get_array().shape == (8, 8, 3), "what the model sees"
    assert not fig.axes[1].get_images() and "not an image file" in fig.axes[1].texts[0].get_text()
    assert "colours" in fig._suptitle.get_text()
    matplotlib.pyplot.close(fig)
