"""predict_files: predictions worked out by hand, for every kind of picture file.

The known-answer models and pictures are in ``tests/saved_models.py``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import utils
from tests.saved_models import (BLUE, GREEN, HALF_BLUE, RED, folder, logistic,  # noqa: F401
                                models, pictures, softmax4)
from utils.fetch import DataError
from utils.images import read_image
from utils.models import ModelError, load_model
from utils.predict import predict_files


def test_a_softmax_sidecar_on_a_logit_model_is_caught(tmp_path, monkeypatch, pictures):
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path))
    inputs = keras.Input((8, 8, 3))
    dense = keras.layers.Dense(3)  # no softmax: scores, not probabilities
    model = keras.Model(inputs, dense(keras.layers.GlobalAveragePooling2D()(inputs)))
    dense.set_weights([4 * np.eye(3, dtype="float32"), np.zeros(3, "float32")])
    utils.save_model(model, "wrong", class_names=["r", "g", "b"], colour_mode="rgb",
                     preprocessing="divide_by_255", output="softmax", notebook="tests")
    with pytest.raises(ModelError, match="not probabilities"):
        predict_files("wrong", [pictures["red.png"]])


@pytest.mark.parametrize("model,picture,label,probability,tolerance", [
    ("colours", "red.png", "red", RED, 1e-5),
    ("colours", "cmyk.jpg", "red", RED, 0.01),
    ("colours", "green16.png", "green", GREEN, 1e-5),
    ("colours", "red_alpha.png", "red", softmax4([1, 0.5, 0.5])[0], 0.01),
    ("colours", "blue_alpha16.png", "blue", HALF_BLUE, 0.01),
    ("colours", "blue.gif", "blue", HALF_BLUE, 0.01),
    ("colours", "one.png", "blue", BLUE, 1e-5),
    ("colours", "huge.jpg", "red", softmax4(np.array([200, 100, 50]) / 255)[0], 0.01),
    ("colours", "grey.png", "red", 1 / 3, 1e-5),  # all three equal: the first class, 1/3
    ("grey_bright", "grey.png", "bright", logistic(10 * (204 / 255 - 0.5)), 1e-4),
    ("grey_bright", "grey.jpg", "bright", logistic(10 * (204 / 255 - 0.5)), 0.01),
    ("grey_bright", "grey16.png", "dark", 1 - logistic(10 * (51 / 255 - 0.5)), 1e-4),
    # greyscale red is 76 (0.299 * 255); read as RGB its mean would be 85 (0.159, not 0.117)
    ("grey_bright", "red.png", "dark", 1 - logistic(10 * (76 / 255 - 0.5)), 1e-4),
    ("top_bright", "red.png", "dark top", 1 - logistic(10 * (1 / 3 - 0.5)), 1e-4),
])
def test_predictions_are_the_values_worked_out_by_hand(models, pictures, model, picture, label,
                                                       probability, tolerance):
    [result] = predict_files(model, [pictures[picture]])
    assert result["ok"] and result["file"] == str(pictures[picture])
    assert result["class"] == label
    assert result["probability"] == pytest.approx(probability, abs=tolerance)
    assert result["top_k"][0] == {"class": label, "probability": result["probability"]}


def test_top_k_for_multi_class_and_both_classes_for_binary(models, pictures):
    loaded = load_model("colours")
    [one] = predict_files(loaded, pictures["red.png"], top_k=1)  # a single path is fine too
    assert [t["class"] for t in one["top_k"]] == ["red"]
    [many] = predict_files(loaded, [pictures["red.png"]], top_k=10)
    assert [t["class"] for t in many["top_k"]][0] == "red" and len(many["top_k"]) == 3
    assert sum(t["probability"] for t in many["top_k"]) == pytest.approx(1, abs=1e-5)
    [binary] = predict_files("grey_bright", [pictures["grey.png"]], top_k=1)
    assert [t["class"] for t in binary["top_k"]] == ["bright", "dark"]
    assert binary["top_k"][1]["probability"] == pytest.approx(1 - binary["probability"], abs=1e-6)
    with pytest.raises(ValueError, match="top_k"):
        predict_files(loaded, [pictures["red.png"]], top_k=0)


def test_phone_photo_is_turned_upright_before_resizing(models, pictures):
    upright, phone, no_tag = predict_files(
        "top_bright", [pictures["upright.png"], pictures["phone.jpg"], pictures["no_tag.jpg"]])
    assert upright["class"] == "bright top" and upright["probability"] > 0.98
    assert phone["class"] == "bright top"
    assert phone["probability"] == pytest.approx(upright["probability"], abs=0.01)
    # the same pixels without the tag are on their side: half the top is white
    assert no_tag["top_k"][1]["probability"] == pytest.approx(0.5, abs=0.02)
    seen = read_image(pictures["phone.jpg"], size=(8, 8))
    assert seen[:3].min() > 200 and seen[5:].max() < 60, "white on top, black below"


def test_large_jpeg_is_decoded_in_full_as_in_training(models, pictures, monkeypatch):
    """No reduced-scale JPEG draft: its pixels would differ from the notebooks' (train/serve skew)."""
    from PIL import JpegImagePlugin

    from utils.images import prepare_image
    from utils.predict import model_input
    from utils.models import load_model

    drafts = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        drafts.append(self.size)
        return original(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    [result] = predict_files("colours", [pictures["huge.jpg"]])
    assert result["ok"] and drafts == [], "the 6000x4000 photo is decoded in full"
    sidecar = load_model("colours")[1]
    assert np.array_equal(model_input(pictures["huge.jpg"], sidecar),
                          prepare_image(pictures["huge.jpg"], tuple(sidecar["input_size"])))


def test_pillow_size_limit_warning_silenced_refusal_reported(tmp_path, monkeypatch):
    from PIL import Image as PILImage

    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 100)  # warn above 100, refuse above 200
    medium, large = tmp_path / "medium.png", tmp_path / "large.png"
    Image.new("RGB", (12, 12)).save(medium)  # 144 pixels: Pillow would warn
    Image.new("RGB", (20, 20)).save(large)  # 400 pixels: Pillow refuses
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_image(medium).shape == (12, 12, 3)
    with pytest.raises(DataError, match="too large to open safely.*Shrink it"):
        read_image(large)


@pytest.mark.parametrize("mode,key,kept", [("L", 0, 100), ("RGB", (0, 0, 0), (100, 100, 100))])
def test_colour_key_transparency_becomes_white(tmp_path, mode, key, kept):
    path = tmp_path / "keyed.png"
    image = Image.new(mode, (4, 4), key)
    image.paste(kept, (2, 0, 4, 4))
    image.save(path, transparency=key)  # pixels of the key colour are transparent
    pixels = read_image(path, channels=1)[..., 0]
    assert (pixels[:, :2] == 255).all() and (pixels[:, 2:] == 100).all()


BAD = {"missing.png": "does not exist", "empty.jpg": "empty (0 bytes)",
       "truncated.jpg": "damaged", "notes.jpg": "not an image file",
       "a_folder": "is a folder", "photo.heic": "pillow-heif"}


def test_bad_files_get_one_line_each_and_never_stop_the_others(models, pictures):
    names = ["red.png", *BAD, "one.png"]
    results = predict_files("colours", [pictures[n] for n in names])
    assert [r["ok"] for r in results] == [True] + [False] * len(BAD) + [True]
    assert results[0]["class"] == "red" and results[-1]["class"] == "blue"
    for result, (name, words) in zip(results[1:-1], BAD.items()):
        assert result["file"] == str(pictures[name]) and set(result) == {"file", "ok", "error"}
        assert str(pictures[name]) in result["error"] and words in result["error"]
        assert "\n" not in result["error"]


def test_predictions_resize_as_the_sidecar_says(models, pictures, tmp_path):
    """A model saved with antialias=False gets its files resized without antialiasing."""
    from tests.saved_models import copy_model, edit_sidecar
    from utils.images import preparation, prepare_image
    from utils.models import load_model
    from utils.predict import model_input

    plain = copy_model(models, tmp_path)
    edit_sidecar(plain, preparation=preparation(antialias=False))
    sidecar = load_model(plain)[1]
    photo, size = pictures["huge.jpg"], tuple(sidecar["input_size"])
    assert np.array_equal(model_input(photo, sidecar), prepare_image(photo, size, antialias=False))
    assert not np.array_equal(model_input(photo, sidecar), prepare_image(photo, size))
