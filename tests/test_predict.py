"""Using a saved model: load_model, predict_files, show_predictions and `python -m utils predict`.

The models are tiny and have fixed weights, so every prediction can be worked
out by hand from the picture's colours:

- ``colours`` (softmax, 3 classes): probabilities ``softmax(4 * mean of R, G, B)``;
- ``top_bright`` (one logit, RGB): ``logit = 10 * (mean brightness of the top half - 0.5)``;
- ``grey_bright`` (sigmoid, greyscale, the model rescales itself):
  ``sigmoid(10 * (mean grey level - 0.5))``.

The picture files (every kind a person may have) are written by the tests.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import warnings
import zipfile
import zlib
from pathlib import Path

import keras
import matplotlib
import numpy as np
import pytest
from PIL import Image

import utils
from utils import data
from utils.__main__ import main
from utils.models import ModelError, load_model, predict_files, resolve_model

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parent.parent


def softmax4(means) -> np.ndarray:
    scores = np.exp(4 * np.asarray(means, dtype=np.float64))
    return scores / scores.sum()


def logistic(z: float) -> float:
    return float(1 / (1 + np.exp(-z)))


# ---------------------------------------------------------------- models


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


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A models folder with the three known-answer models (and colours again as resnet50_signs)."""
    root = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_MODELS_DIR", str(root))
        colours = _colours_model()
        common = dict(notebook="tests", metrics={"test_accuracy": 1.0})
        utils.save_model(colours, "colours", class_names=["red", "green", "blue"], colour_mode="rgb",
                         preprocessing="divide_by_255", output="softmax", **common)
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


@pytest.fixture
def models(folder, monkeypatch) -> Path:
    monkeypatch.setenv("COURSE_MODELS_DIR", str(folder))
    return folder


# ---------------------------------------------------------------- pictures


def png16(array: np.ndarray) -> bytes:
    """A 16-bit PNG (Pillow cannot write 16-bit colour): grey, grey+alpha, RGB or RGBA."""
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = array.reshape(height, width * channels).astype(">u2")
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

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


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pictures")
    p = {name: root / name for name in (
        "red.png", "cmyk.jpg", "green16.png", "red_alpha.png", "blue_alpha16.png", "blue.gif",
        "grey.png", "grey.jpg", "grey16.png", "one.png", "huge.jpg", "upright.png", "phone.jpg",
        "no_tag.jpg", "missing.png", "empty.jpg", "truncated.jpg", "notes.jpg", "a_folder",
        "photo.heic")}
    Image.new("RGB", (30, 20), (255, 0, 0)).save(p["red.png"])
    Image.new("CMYK", (30, 20), (0, 255, 255, 0)).save(p["cmyk.jpg"])  # red, in CMYK
    p["green16.png"].write_bytes(png16(np.full((20, 30, 3), (0, 65535, 0), np.uint16)))
    # transparent black left, opaque colour right: over white the means are (1, .5, .5) / (.5, .5, 1)
    Image.fromarray(half_and_half((0, 0, 0, 0), (255, 0, 0, 255)), "RGBA").save(p["red_alpha.png"])
    p["blue_alpha16.png"].write_bytes(png16(half_and_half((0, 0, 0, 0), (0, 0, 65535, 65535), np.uint16)))
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


# ---------------------------------------------------------------- load_model


def test_load_model_by_name_alias_and_path(models):
    model, sidecar = load_model("colours")
    assert isinstance(model, keras.Model) and sidecar["class_names"] == ["red", "green", "blue"]
    assert sidecar["input_size"] == [8, 8] and sidecar["output"] == "softmax"
    assert load_model(models / "top_bright.keras")[1]["output"] == "logit"
    assert load_model(str(models / "grey_bright.keras"))[1]["colour_mode"] == "grey"
    assert resolve_model("resnet50") == models / "resnet50_signs.keras"
    assert load_model("resnet50")[1]["notebook"] == "03_resnet50_signs"


def _copy_model(models: Path, tmp_path: Path, name: str = "colours") -> Path:
    for suffix in (".keras", ".json"):
        (tmp_path / f"{name}{suffix}").write_bytes((models / f"{name}{suffix}").read_bytes())
    return tmp_path / f"{name}.keras"


def _edit_sidecar(path: Path, **changes) -> None:
    sidecar = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps(sidecar | changes))


def _broken(kind: str, models: Path, tmp_path: Path) -> tuple[str | Path, list[str]]:
    """Make a broken model of one kind; return what to load and words the message must hold."""
    if kind == "no such name":
        return "smiles", ["No saved model 'smiles'", "01_smiles_sequential",
                          "colours (from tests)", "resnet50_signs (from 03_resnet50_signs)"]
    if kind == "no such file":
        return tmp_path / "nowhere.keras", ["nowhere.keras does not exist", "colours (from tests)"]
    if kind == "a folder":
        (tmp_path / "dir.keras").mkdir()
        return tmp_path / "dir.keras", ["is a folder"]
    path = _copy_model(models, tmp_path)
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
        _edit_sidecar(path, format=0)
        return path, ["format 0", "older (or newer) run", "notebooks/tests.ipynb"]
    if kind == "sidecar not json":
        path.with_suffix(".json").write_text("{ half")
        return path, ["colours.json cannot be read"]
    if kind == "odd colour mode":
        _edit_sidecar(path, colour_mode="sepia")
        return path, ["colour_mode='sepia'", "'rgb' or 'grey'"]
    if kind == "sidecar of another model":
        _edit_sidecar(path, class_names=["cat", "dog"])
        return path, ["returns 3 value(s)", "2 classes", "do not belong together"]
    raise AssertionError(kind)


BROKEN = ["no such name", "no such file", "a folder", "empty", "text", "cut short",
          "zip without config", "not loadable", "lambda layer", "no sidecar", "old sidecar",
          "sidecar not json", "odd colour mode", "sidecar of another model"]


@pytest.mark.parametrize("kind", BROKEN)
def test_every_broken_model_gives_one_clear_line(models, tmp_path, kind):
    target, words = _broken(kind, models, tmp_path)
    with pytest.raises(ModelError) as err:
        load_model(target)
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"
    if kind not in ("no such name", "no such file"):
        assert str(Path(target).with_suffix("")) in message, "the message names the file"


def test_no_models_yet_says_which_notebook_makes_each(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelError) as err:
        load_model("my_own")
    message = str(err.value)
    assert "No model is saved" in message and "make course" in message
    assert "notebooks/04_alpaca_transfer_learning.ipynb saves alpaca" in message


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


# ---------------------------------------------------------------- known answers


RED, GREEN, BLUE = softmax4([1, 0, 0])[0], softmax4([0, 1, 0])[1], softmax4([0, 0, 1])[2]
HALF_BLUE = softmax4([0.5, 0.5, 1])[2]  # half white, half blue


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
    seen = data.read_image(pictures["phone.jpg"], size=(8, 8), fast=True)
    assert seen[:3].min() > 200 and seen[5:].max() < 60, "white on top, black below"


def test_large_jpeg_is_decoded_at_a_reduced_scale(models, pictures, monkeypatch):
    from PIL import JpegImagePlugin

    decoded = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        answer = original(self, mode, size)
        decoded.append(self.size)
        return answer

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    [result] = predict_files("colours", [pictures["huge.jpg"]])
    assert result["ok"] and decoded == [(750, 500)], "6000x4000 decoded at 1/8 scale"
    full = data.read_image(pictures["huge.jpg"], size=(8, 8))  # fast=False: the full decode
    assert decoded == [(750, 500)], "read_image decodes in full unless asked to be fast"
    fast = data.read_image(pictures["huge.jpg"], size=(8, 8), fast=True)
    assert np.abs(full.astype(int) - fast.astype(int)).max() <= 2


def test_pillow_size_limit_warning_silenced_refusal_reported(tmp_path, monkeypatch):
    from PIL import Image as PILImage

    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 100)  # warn above 100, refuse above 200
    medium, large = tmp_path / "medium.png", tmp_path / "large.png"
    Image.new("RGB", (12, 12)).save(medium)  # 144 pixels: Pillow would warn
    Image.new("RGB", (20, 20)).save(large)  # 400 pixels: Pillow refuses
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert data.read_image(medium).shape == (12, 12, 3)
    with pytest.raises(data.DataError, match="too large to open safely.*Shrink it"):
        data.read_image(large)


@pytest.mark.parametrize("mode,key,kept", [("L", 0, 100), ("RGB", (0, 0, 0), (100, 100, 100))])
def test_colour_key_transparency_becomes_white(tmp_path, mode, key, kept):
    path = tmp_path / "keyed.png"
    image = Image.new(mode, (4, 4), key)
    image.paste(kept, (2, 0, 4, 4))
    image.save(path, transparency=key)  # pixels of the key colour are transparent
    pixels = data.read_image(path, channels=1)[..., 0]
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


# ---------------------------------------------------------------- show_predictions


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


# ---------------------------------------------------------------- command line


def test_command_line_in_process_json_with_a_failure(models, pictures, capsys):
    code = main(["predict", "grey_bright", str(pictures["grey.png"]), str(pictures["empty.jpg"]),
                 "--json"])
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert code == 1 and document["failed"] == 1 and document["class_names"] == ["dark", "bright"]
    assert [p["ok"] for p in document["predictions"]] == [True, False]
    assert err.count("\n") == 1 and "empty (0 bytes)" in err
    code = main(["predict", "smiles", str(pictures["red.png"]), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and "No saved model" in json.loads(out)["error"] and err.startswith("error: ")


def errors(stderr: str) -> list[str]:
    """The error lines of a run's stderr (a machine may add its own log lines); no traceback."""
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


@pytest.fixture(scope="module")
def cli(folder, pictures):
    """Run `python -m utils predict` three ways, all at once (each start imports TensorFlow,
    which takes seconds); the other model problems take the same path, tested in process."""
    env = {**os.environ, "COURSE_MODELS_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    p = {k: str(v) for k, v in pictures.items()}
    runs = {
        "human": ["colours", p["red.png"], p["notes.jpg"], p["one.png"], "--top-k", "2"],
        "json": ["resnet50", p["red.png"], p["green16.png"], "--json"],
        "not found": ["smiles", p["red.png"]],
    }
    started = {name: subprocess.Popen([sys.executable, "-m", "utils", "predict", *args], cwd=ROOT,
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
               for name, args in runs.items()}
    done = {}
    for name, process in started.items():
        out, err = process.communicate(timeout=300)
        done[name] = (process.returncode, out, err)
    return done


def test_command_line_prints_one_line_per_image_and_fails_for_a_bad_one(cli, pictures):
    code, out, err = cli["human"]
    assert code == 1, err
    assert out.splitlines() == [
        f"{pictures['red.png']}: red ({RED:.3f})   top 2: red {RED:.3f}, "
        f"green {softmax4([1, 0, 0])[1]:.3f}",
        f"{pictures['one.png']}: blue ({BLUE:.3f})   top 2: blue {BLUE:.3f}, "
        f"red {softmax4([0, 0, 1])[0]:.3f}",
    ]
    assert errors(err) == [f"error: {pictures['notes.jpg']} is not an image file Pillow can "
                           "read. Delete or replace it."]


def test_command_line_json_is_one_document(cli, pictures):
    code, out, err = cli["json"]
    assert code == 0 and errors(err) == []
    document = json.loads(out)
    assert document["model"] == "resnet50" and document["failed"] == 0
    assert document["model_file"].endswith("resnet50_signs.keras")
    red, green = document["predictions"]
    assert red["file"] == str(pictures["red.png"]) and red["class"] == "red"
    assert red["probability"] == pytest.approx(RED, abs=1e-5) and len(red["top_k"]) == 3
    assert green["class"] == "green" and green["class_index"] == 1


def test_command_line_model_not_found_exits_2_with_one_line(cli):
    code, out, err = cli["not found"]
    assert code == 2 and out == ""
    [line] = errors(err)
    for words in ("No saved model 'smiles'", "01_smiles_sequential.ipynb", "colours (from tests)"):
        assert words in line


@pytest.mark.parametrize("kind,words", [
    ("text", ["colours.keras is not a Keras model file"]),
    ("old sidecar", ["colours.json has format 0", "older (or newer) run"]),
])
def test_command_line_model_problems_exit_2_with_one_line(models, tmp_path, pictures, capsys,
                                                         kind, words):
    target, _ = _broken(kind, models, tmp_path)
    assert main(["predict", str(target), str(pictures["red.png"])]) == 2
    out, err = capsys.readouterr()
    [line] = errors(err)
    assert out == "" and err == line + "\n"
    for word in words:
        assert word in line
