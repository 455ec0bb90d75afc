"""Known-answer saved models and picture files for the tests of models, predictions and plots.

The models are tiny and have fixed weights, so every prediction can be worked
out by hand from the picture's colours:

- ``colours`` (softmax, 3 classes): probabilities ``softmax(4 * mean of R, G, B)``;
- ``top_bright`` (one logit, RGB): ``logit = 10 * (mean brightness of the top half - 0.5)``;
- ``grey_bright`` (sigmoid, greyscale, the model rescales itself):
  ``sigmoid(10 * (mean grey level - 0.5))``.

The picture files (every kind a person may have) are written by :func:`write_pictures`.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import utils


def softmax4(means) -> np.ndarray:
    scores = np.exp(4 * np.asarray(means, dtype=np.float64))
    return scores / scores.sum()


def logistic(z: float) -> float:
    return float(1 / (1 + np.exp(-z)))


def _colours_model():
    inputs = keras.Input((8, 8, 3))
    dense = keras.layers.Dense(3, activation="softmax")
    model = keras.Model(inputs, dense(keras.layers.GlobalAveragePooling2D()(inputs)))
    dense.set_weights([4 * np.eye(3, dtype="float32"), np.zeros(3, "float32")])
    return model


def _brightness_model(top_half: bool, rescale: bool, activation: str | None):
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs) if rescale else inputs
    if top_half:
        x = keras.layers.Cropping2D(((0, 4), (0, 0)))(x)
    dense = keras.layers.Dense(1, activation=activation)
    model = keras.Model(inputs, dense(keras.layers.GlobalAveragePooling2D()(x)))
    dense.set_weights([np.full((3, 1), 10 / 3, "float32"), np.array([-5.0], "float32")])
    return model


def save_models(root: Path) -> Path:
    """Save the three known-answer models (and colours again as resnet50_signs) in ``root``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_MODELS_DIR", str(root))
        colours = _colours_model()
        common = dict(notebook="tests", metrics={"test_accuracy": 1.0})
        utils.save_model(colours, "colours", class_names=["red", "green", "blue"],
                         colour_mode="rgb", preprocessing="divide_by_255", output="softmax",
                         **common)
        utils.save_model(colours, "resnet50_signs", class_names=["red", "green", "blue"],
                         colour_mode="rgb", preprocessing="divide_by_255", output="softmax",
                         notebook="03_resnet50_signs")
        utils.save_model(_brightness_model(True, False, None), "top_bright",
                         class_names=["dark top", "bright top"], colour_mode="rgb",
                         preprocessing="divide_by_255", output="logit", **common)
        utils.save_model(_brightness_model(False, True, "sigmoid"), "grey_bright",
                         class_names=["dark", "bright"], colour_mode="grey",
                         preprocessing="none", output="sigmoid", **common)
    return root


def png16(array: np.ndarray) -> bytes:
    """A 16-bit PNG (Pillow cannot write 16-bit colour): grey, grey+alpha, RGB or RGBA."""
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = array.reshape(height, width * channels).astype(">u2")
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def half_and_half(left, right, dtype=np.uint8) -> np.ndarray:
    """A 10x10 image whose left half is one colour and right half another."""
    array = np.empty((10, 10, len(left)), dtype)
    array[:, :5], array[:, 5:] = left, right
    return array


def phone_photo(path: Path, tag: bool) -> None:
    """A photo stored on its side (40x20, left half white) that EXIF tag 6 turns upright (20x40,
    top half white)."""
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = 255
    image = Image.fromarray(stored)
    exif = image.getexif()
    if tag:
        exif[0x0112] = 6
    image.save(path, exif=exif, quality=95)


def write_pictures(root: Path) -> dict[str, Path]:
    """Write every kind of picture file a person may have into ``root``; return them by name."""
    p = {name: root / name for name in (
        "red.png", "cmyk.jpg", "green16.png", "red_alpha.png", "blue_alpha16.png", "blue.gif",
        "grey.png", "grey.jpg", "grey16.png", "one.png", "huge.jpg", "upright.png", "phone.jpg",
        "no_tag.jpg", "missing.png", "empty.jpg", "truncated.jpg", "notes.jpg", "a_folder",
        "photo.heic")}
    Image.new("RGB", (30, 20), (255, 0, 0)).save(p["red.png"])
    Image.new("CMYK", (30, 20), (0, 255, 255, 0)).save(p["cmyk.jpg"])  # red, in CMYK
    p["green16.png"].write_bytes(png16(np.full((20, 30, 3), (0, 65535, 0), np.uint16)))
    # transparent black left, opaque colour right: over white the means are
    # (1, .5, .5) / (.5, .5, 1)
    Image.fromarray(half_and_half((0, 0, 0, 0), (255, 0, 0, 255)), "RGBA").save(p["red_alpha.png"])
    p["blue_alpha16.png"].write_bytes(
        png16(half_and_half((0, 0, 0, 0), (0, 0, 65535, 65535), np.uint16)))
    gif = Image.fromarray(half_and_half((0,), (1,))[..., 0], "P")  # index 0 transparent yellow
    gif.putpalette([255, 255, 0, 0, 0, 255] + [0] * 762)
    gif.save(p["blue.gif"], transparency=0)
    Image.new("L", (30, 20), 204).save(p["grey.png"])  # 204 / 255 = 0.8
    Image.new("L", (30, 20), 204).save(p["grey.jpg"], quality=95)
    p["grey16.png"].write_bytes(png16(np.full((20, 30), 13107, np.uint16)))  # 13107 / 65535 = 0.2
    Image.new("RGB", (1, 1), (0, 0, 255)).save(p["one.png"])
    Image.new("RGB", (6000, 4000), (200, 100, 50)).save(p["huge.jpg"])
    upright = np.zeros((40, 20, 3), np.uint8)
    upright[:20] = 255
    Image.fromarray(upright).save(p["upright.png"])
    phone_photo(p["phone.jpg"], tag=True)
    phone_photo(p["no_tag.jpg"], tag=False)
    p["empty.jpg"].write_bytes(b"")
    good = (np.random.default_rng(0).integers(0, 255, (200, 200, 3))).astype(np.uint8)
    Image.fromarray(good).save(root / "whole.jpg")
    p["truncated.jpg"].write_bytes((root / "whole.jpg").read_bytes()[:3000])
    p["notes.jpg"].write_text("shopping list: bread, milk\n")
    p["a_folder"].mkdir()
    p["photo.heic"].write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(40))
    return p


def copy_model(models: Path, tmp_path: Path, name: str = "colours") -> Path:
    """Copy a saved model and its sidecar from ``models`` to ``tmp_path``; return the copy."""
    for suffix in (".keras", ".json"):
        (tmp_path / f"{name}{suffix}").write_bytes((models / f"{name}{suffix}").read_bytes())
    return tmp_path / f"{name}.keras"


def edit_sidecar(path: Path, **changes) -> None:
    """Change fields of the sidecar beside the model file ``path``."""
    sidecar = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps(sidecar | changes))


def broken(kind: str, models: Path, tmp_path: Path) -> tuple[str | Path, list[str]]:
    """Make a broken model of one kind; return what to load and words the message must hold."""
    if kind == "no such name":
        return "smiles", ["No saved model 'smiles'", "01_smiles_sequential",
                          "colours (from tests)", "resnet50_signs (from 03_resnet50_signs)"]
    if kind == "no such file":
        return tmp_path / "nowhere.keras", ["nowhere.keras does not exist", "colours (from tests)"]
    if kind == "a folder":
        (tmp_path / "dir.keras").mkdir()
        return tmp_path / "dir.keras", ["is a folder"]
    path = copy_model(models, tmp_path)
    if kind == "empty":
        path.write_bytes(b"")
        return path, ["empty (0 bytes)"]
    if kind == "text":
        path.write_text("this is not a model\n")
        return path, ["not a Keras model file"]
    if kind == "cut short":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        return path, ["not a Keras model file", "cut short"]
    if kind == "zip without config":
        path.unlink()
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
        return path, ["no config.json"]
    if kind == "not loadable":
        with zipfile.ZipFile(models / "colours.keras") as original, \
                zipfile.ZipFile(path, "w") as archive:
            for item in original.namelist():
                content = original.read(item)
                if item == "config.json":
                    content = content.replace(b'"Dense"', b'"NoSuchLayer"')
                archive.writestr(item, content)
        return path, ["could not load", "NoSuchLayer", "another Keras version"]
    if kind == "lambda layer":  # Python code inside: Keras refuses it unless told otherwise
        inputs = keras.Input((8, 8, 3))
        doubled = keras.layers.Lambda(lambda t: 2 * t)(inputs)
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(
            keras.layers.GlobalAveragePooling2D()(doubled)))
        model.save(path)
        return path, ["holds a Lambda layer", "safe_mode=False"]
    if kind == "no sidecar":
        path.with_suffix(".json").unlink()
        return path, ["has no sidecar colours.json"]
    if kind == "old sidecar":
        edit_sidecar(path, format=0)
        return path, ["format 0", "older (or newer) run", "notebooks/tests.ipynb"]
    if kind == "sidecar not json":
        path.with_suffix(".json").write_text("{ half")
        return path, ["colours.json cannot be read"]
    if kind == "odd colour mode":
        edit_sidecar(path, colour_mode="sepia")
        return path, ["colour_mode='sepia'", "'rgb' or 'grey'"]
    if kind == "sidecar of another model":
        edit_sidecar(path, class_names=["cat", "dog"])
        return path, ["returns 3 value(s)", "2 classes", "do not belong together"]
    raise AssertionError(kind)


BROKEN = ["no such name", "no such file", "a folder", "empty", "text", "cut short",
          "zip without config", "not loadable", "lambda layer", "no sidecar", "old sidecar",
          "sidecar not json", "odd colour mode", "sidecar of another model"]


RED, GREEN, BLUE = softmax4([1, 0, 0])[0], softmax4([0, 1, 0])[1], softmax4([0, 0, 1])[2]
HALF_BLUE = softmax4([0.5, 0.5, 1])[2]  # half white, half blue


# Fixtures shared by tests/test_models.py, test_predict.py and test_main.py, which
# import them: the models saved once per test module, and the picture files.
@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return save_models(tmp_path_factory.mktemp("models"))


@pytest.fixture
def models(folder, monkeypatch) -> Path:
    monkeypatch.setenv("COURSE_MODELS_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> dict[str, Path]:
    return write_pictures(tmp_path_factory.mktemp("pictures"))
