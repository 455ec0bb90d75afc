"""Train/serve skew: a saved model predicts on a file what its notebook computed.

For every alpaca photo (all 327, so notebook 4's held-out test split among
them) and a sample of the SIGNS and SMILEsmileD photos, ``utils.predict_files``
on the file must give the same class, and a probability within 1e-4, as the
notebook's own evaluation path: its loader or ``utils.prepare_image``, batches
of 32, ``model(x, training=False)``. Small models with fixed random weights
stand in for the trained ones, so no course run is needed. The alpaca test
also shows that it would catch a skew: the other resize (antialiased, where
notebook 4 resizes without) moves the same model's probabilities by far more
than 1e-4.
"""

from pathlib import Path

import numpy as np
import pytest

import utils  # first: quiets TensorFlow
import keras
import tensorflow as tf
from keras import layers

from utils.images import prepare_image
from utils.predict import predict_files


def fixed_model(size: int, units: int, activation: str | None, scale: float) -> keras.Model:
    """A small convolutional net with seeded random weights (no training)."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input((size, size, 3))
    x = layers.Rescaling(scale)(inputs)
    x = layers.Conv2D(8, 5, strides=2, activation="relu")(x)
    x = layers.Conv2D(8, 3, strides=2, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(units, activation=activation)(x))


def evaluate(model: keras.Model, images: np.ndarray, rescale: float = 1.0) -> np.ndarray:
    """The notebooks' evaluation path: batches of 32 through ``model(x, training=False)``."""
    batches = tf.data.Dataset.from_tensor_slices(images.astype("float32") * rescale).batch(32)
    return np.concatenate([model(x, training=False).numpy() for x in batches])


def split_classes(model: keras.Model, images: np.ndarray, rescale: float = 1.0) -> None:
    """Shift the last layer's biases so that ``images`` spread over the classes."""
    dense = model.layers[-1]
    weights, bias = dense.get_weights()
    pre = evaluate(keras.Model(model.inputs, model.layers[-2].output), images, rescale) @ weights
    centre = np.median(pre) if len(bias) == 1 else pre.mean(axis=0)
    dense.set_weights([weights, np.zeros_like(bias) - centre])


def served(model: keras.Model, name: str, files: list[Path], tmp_path, monkeypatch,
           **sidecar) -> list[dict]:
    """Save ``model`` with a sidecar and classify ``files`` as ``python -m utils predict`` does."""
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path))
    utils.save_model(model, name, notebook="test", **sidecar)
    results = predict_files(name, files)
    assert all(r["ok"] for r in results)
    return results


def second_class_probability(results: list[dict]) -> np.ndarray:
    return np.array([r["probability"] if r["class_index"] == 1 else 1 - r["probability"]
                     for r in results])


def test_alpaca_file_predictions_match_the_notebooks_evaluation(tmp_path, monkeypatch):
    root = utils.ensure_dataset("alpaca", progress=False) / "alpaca"
    files = sorted(root.glob("*/*.jpg"))
    assert len(files) == 327
    model = fixed_model(224, 1, None, 1 / 127.5)
    images = np.stack([prepare_image(f, (224, 224), antialias=False) for f in files])  # nb 4
    split_classes(model, images)
    notebook = 1 / (1 + np.exp(-evaluate(model, images).ravel()))
    results = served(model, "alpaca", files, tmp_path, monkeypatch,
                     class_names=["alpaca", "not alpaca"], colour_mode="rgb",
                     preprocessing="none", output="logit", antialias=False)
    assert np.abs(second_class_probability(results) - notebook).max() < 1e-4
    assert [r["class_index"] for r in results] == (notebook > 0.5).astype(int).tolist()
    assert 0.05 < (notebook > 0.5).mean() < 0.95, "the fixed model should not answer one class"
    other = np.stack([prepare_image(f, (224, 224), antialias=True) for f in files[::8]])
    moved = np.abs(1 / (1 + np.exp(-evaluate(model, other).ravel())) - notebook[::8])
    assert moved.max() > 1e-3, "the other resize must move predictions, or this test is blind"


@pytest.mark.parametrize("dataset", ["signs", "smiles"])
def test_small_photo_predictions_match_the_notebooks_loader(dataset, tmp_path, monkeypatch):
    if dataset == "signs":  # notebooks 2 and 3: load_signs, pixels / 255, softmax
        *_, images, _, names = utils.load_signs()
        files = sorted((utils.ensure_dataset("signs", progress=False) / "signs" / "test")
                       .glob("*/*.jpg"))
        picks, units, output, colour = list(range(0, len(files), 4)), 6, "softmax", "rgb"
    else:  # notebook 1: load_smiles_all, pixels / 255, sigmoid, saved as "grey"
        images, _, files, names = utils.load_smiles_all()
        root = utils.ensure_dataset("smiles", progress=False) / "smiles"
        files = [root / f for f in files]
        picks, units, output, colour = list(range(0, len(files), 200)), 1, "sigmoid", "grey"
    files = [Path(files[i]) for i in picks]
    for i, f in zip(picks[:5], files):  # the loader's order matches the files
        assert np.array_equal(images[i], utils.read_image(f))
    model = fixed_model(64, units, "softmax" if units > 1 else "sigmoid", 1.0)
    split_classes(model, images[picks], rescale=1 / 255)
    notebook = evaluate(model, images[picks], rescale=1 / 255)
    if units == 1:
        notebook = np.concatenate([1 - notebook, notebook], axis=1)
    results = served(model, dataset, files, tmp_path, monkeypatch, class_names=list(names),
                     colour_mode=colour, preprocessing="divide_by_255", output=output)
    assert [r["class_index"] for r in results] == notebook.argmax(axis=1).tolist()
    assert len(set(r["class_index"] for r in results)) > 1, "the fixed model answers one class"
    for row, result in zip(notebook, results):
        for entry in result["top_k"]:
            assert abs(entry["probability"] - row[list(names).index(entry["class"])]) < 1e-4
