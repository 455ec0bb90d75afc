"""Reading files: course .h5 files, images, class folders, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

import utils.data as data
from tests.conftest import jpeg_bytes, write_manifest, write_tree
from utils.data import DataError


def make_h5(path, prefix="train", n=5, shape=(64, 64, 3), keys=None):
    with h5py.File(path, "w") as f:
        rng = np.random.default_rng(0)
        for key in keys or (f"{prefix}_set_x", f"{prefix}_set_y", "list_classes"):
            if key.endswith("_x"):
                f[key] = rng.integers(0, 255, (n, *shape), dtype=np.uint8)
            elif key.endswith("_y"):
                f[key] = rng.integers(0, 2, n)
            else:
                f[key] = np.array([0, 1])
    return path


# ---------------------------------------------------------------- h5 files

def test_read_good_h5(tmp_path):
    x, y, classes = data.read_h5_split(make_h5(tmp_path / "ok.h5"), "train")
    assert x.shape == (5, 64, 64, 3) and x.dtype == np.uint8
    assert y.shape == (5,) and list(classes) == [0, 1]


def test_h5_missing_file(tmp_path):
    with pytest.raises(DataError, match="missing.*make data"):
        data.read_h5_split(tmp_path / "absent.h5", "train")


@pytest.mark.parametrize("content", [b"", b"<html>404 Not Found</html>",
                                     b"version https://git-lfs.github.com/spec/v1\n"])
def test_h5_that_is_not_hdf5(tmp_path, content):
    path = tmp_path / "fake.h5"
    path.write_bytes(content)
    with pytest.raises(DataError, match="not an HDF5 file") as err:
        data.read_h5_split(path, "train")
    assert str(path) in str(err.value)


def test_h5_truncated(tmp_path):
    path = make_h5(tmp_path / "cut.h5", n=50)
    path.write_bytes(path.read_bytes()[:4000])
    with pytest.raises(DataError) as err:
        data.read_h5_split(path, "train")
    assert str(path) in str(err.value)


def test_h5_missing_keys(tmp_path):
    path = make_h5(tmp_path / "keys.h5", keys=["train_set_x", "list_classes"])
    with pytest.raises(DataError, match="lacks the key.*train_set_y"):
        data.read_h5_split(path, "train")


@pytest.mark.parametrize("shape", [(32, 32, 3), (64, 64)])
def test_h5_wrong_shapes(tmp_path, shape):
    path = make_h5(tmp_path / "shape.h5", shape=shape)
    with pytest.raises(DataError, match=r"expects \(n, 64, 64, 3\)"):
        data.read_h5_split(path, "train")


def test_load_course_h5_reads_train_and_test(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "happy_house").mkdir(parents=True)
    train = make_h5(mirror / "happy_house/train_happy.h5", "train", n=6)
    test = make_h5(mirror / "happy_house/test_happy.h5", "test", n=3)
    manifest = write_manifest(tmp_path / "meta", {"happy_house": {
        "happy_house/train_happy.h5": (train.read_bytes(), None),
        "happy_house/test_happy.h5": (test.read_bytes(), None)}})
    monkeypatch.setattr(data, "MANIFEST_PATH", manifest)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    x_train, y_train, x_test, y_test, classes = data.load_course_h5("happy_house")
    assert x_train.shape == (6, 64, 64, 3) and x_test.shape == (3, 64, 64, 3)
    assert y_train.shape == (6,) and y_test.shape == (3,)


def test_load_course_h5_without_the_train_file_says_what_to_do(tmp_path, monkeypatch):
    """The real manifest knows train_happy.h5; with no copy and no network, one clear error."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(tmp_path / "empty"))
    monkeypatch.setattr(data, "_open_source", lambda source: open(tmp_path / "no-network", "rb"))
    with pytest.raises(DataError) as err:
        data.load_course_h5("happy_house")
    assert "train_happy.h5" in str(err.value) and "What to do" in str(err.value)


def test_load_course_h5_test_file_alone(tmp_path, monkeypatch):
    """Only the test file in the mirror (as in the course's): split="test" loads it and
    fetches nothing else; both files, or the training file alone, fail with a clear error."""
    mirror = tmp_path / "mirror"
    (mirror / "happy_house").mkdir(parents=True)
    test = make_h5(mirror / "happy_house/test_happy.h5", "test", n=3)
    manifest = write_manifest(tmp_path / "meta", {"happy_house": {
        "happy_house/train_happy.h5": (b"a training file this mirror lacks", None),
        "happy_house/test_happy.h5": (test.read_bytes(), None)}})
    monkeypatch.setattr(data, "MANIFEST_PATH", manifest)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    x_test, y_test, classes = data.load_course_h5("happy_house", split="test")
    assert x_test.shape == (3, 64, 64, 3) and y_test.shape == (3,) and list(classes) == [0, 1]
    assert sorted(p.name for p in (tmp_path / "data/happy_house").iterdir()) == ["test_happy.h5"]
    for split in (None, "train"):
        with pytest.raises(DataError, match="train_happy.h5"):
            data.load_course_h5("happy_house", split=split)
    with pytest.raises(ValueError, match="split='validation'"):
        data.load_course_h5("happy_house", split="validation")


def test_unknown_course_h5():
    with pytest.raises(DataError, match="Unknown course h5"):
        data.load_course_h5("mnist")


# ---------------------------------------------------------------- images

@pytest.mark.parametrize("mode,channels,expect", [("RGB", 3, 3), ("L", 3, 3), ("RGB", 1, 1)])
def test_read_image_any_mode_and_size(tmp_path, mode, channels, expect):
    path = tmp_path / "img.jpg"
    path.write_bytes(jpeg_bytes(1, size=(50, 30), mode=mode))
    assert data.read_image(path, channels=channels).shape == (30, 50, expect)
    resized = data.read_image(path, size=(64, 64), channels=channels)
    assert resized.shape == (64, 64, expect) and resized.dtype == np.uint8


@pytest.mark.parametrize("kind", ["empty", "truncated", "text"])
def test_bad_image_files(tmp_path, kind):
    path = tmp_path / f"{kind}.jpg"
    good = jpeg_bytes(2, size=(200, 200))
    path.write_bytes({"empty": b"", "truncated": good[: len(good) // 2],
                      "text": b"this is not a picture"}[kind])
    for check in (data.read_image, data.check_image_file):
        with pytest.raises(DataError) as err:
            check(path)
        assert str(path) in str(err.value)
        assert "Delete" in str(err.value) or "delete" in str(err.value)


def test_read_image_missing(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        data.read_image(tmp_path / "nope.jpg")


# ---------------------------------------------------------------- class folders

def make_folder(root, classes=("cat", "dog"), per_class=5):
    write_tree(root, {f"{c}/{i}.jpg": jpeg_bytes(10 * k + i, size=(40, 30))
                      for k, c in enumerate(classes) for i in range(per_class)})
    return root


def test_check_image_folder_returns_sorted_classes(tmp_path):
    assert data.check_image_folder(make_folder(tmp_path / "f", ("dog", "cat"))) == ["cat", "dog"]


def test_folder_with_fewer_than_two_classes(tmp_path):
    with pytest.raises(DataError, match="at least two"):
        data.check_image_folder(make_folder(tmp_path / "f", ("cat",)))


def test_folder_with_an_empty_class(tmp_path):
    root = make_folder(tmp_path / "f")
    (root / "bird").mkdir()
    with pytest.raises(DataError, match="bird holds no images"):
        data.check_image_folder(root)


def test_folder_with_a_corrupt_image(tmp_path):
    root = make_folder(tmp_path / "f")
    (root / "dog/broken.jpg").write_bytes(b"")
    with pytest.raises(DataError, match="broken.jpg is empty"):
        data.check_image_folder(root)


def test_not_a_folder(tmp_path):
    with pytest.raises(DataError, match="is not a folder"):
        data.check_image_folder(tmp_path / "absent")


def test_image_folder_datasets(tmp_path):
    root = make_folder(tmp_path / "f", per_class=10)
    train, val, names = data.image_folder_datasets(root, image_size=(16, 16), batch_size=4,
                                                   validation_split=0.2, seed=1)
    assert names == ["cat", "dog"]
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in train])
    assert sum(len(y) for y in ys) == 16 and xs[0].shape[1:] == (16, 16, 3)
    assert sum(int(y.shape[0]) for _, y in val) == 4
    again = data.image_folder_datasets(root, image_size=(16, 16), batch_size=4,
                                       validation_split=0.2, seed=1)[1]
    first = np.concatenate([x.numpy() for x, _ in val])
    assert np.array_equal(first, np.concatenate([x.numpy() for x, _ in again])), "seeded split"


def test_split_class_folders_skips_bad_files(tmp_path):
    root = make_folder(tmp_path / "src", per_class=10)
    (root / "cat/empty.jpg").write_bytes(b"")
    (root / "dog/notes.jpg").write_bytes(b"not an image")
    report = data.split_class_folders(root, tmp_path / "out", validation_fraction=0.2, seed=0)
    assert report["train"] == {"cat": 8, "dog": 8}
    assert report["validation"] == {"cat": 2, "dog": 2}
    assert sorted(p.split("/")[-1] for p in report["skipped"]) == ["empty.jpg", "notes.jpg"]
    copied = sorted(p.name for p in (tmp_path / "out").rglob("*.jpg"))
    assert len(copied) == 20 and "empty.jpg" not in copied
    again = data.split_class_folders(root, tmp_path / "out", validation_fraction=0.2, seed=0)
    assert again == report, "a second run with the same seed makes the same split"


def test_split_class_folders_rejects_bad_fraction(tmp_path):
    with pytest.raises(ValueError):
        data.split_class_folders(make_folder(tmp_path / "f"), tmp_path / "o", 1.5)


# ---------------------------------------------------------------- the real datasets

def test_load_signs():
    x_train, y_train, x_test, y_test, names = data.load_signs()
    assert x_train.shape == (1080, 64, 64, 3) and x_test.shape == (120, 64, 64, 3)
    assert np.bincount(y_train).tolist() == [180] * 6 and np.bincount(y_test).tolist() == [20] * 6
    assert names == ["0", "1", "2", "3", "4", "5"]


def test_load_smiles_is_stratified_and_deterministic():
    x_train, y_train, x_test, y_test, names = data.load_smiles(seed=3)
    assert x_train.shape[1:] == (64, 64, 3) and len(x_train) + len(x_test) == 13165
    assert abs(y_train.mean() - y_test.mean()) < 0.005, "both splits keep the 28% smiling share"
    assert names == ["not smiling", "smiling"]
    assert np.array_equal(x_train[:, :, :, 0], x_train[:, :, :, 2]), "grey repeated to RGB"
    again = data.load_smiles(seed=3)
    assert np.array_equal(again[1], y_train) and np.array_equal(again[2], x_test)
    grey = data.load_smiles(seed=3, channels=1)[0]
    assert grey.shape[1:] == (64, 64, 1)


def test_load_smiles_all_keeps_every_face_with_its_file():
    images, labels, files, names = data.load_smiles_all()
    assert images.shape == (13165, 64, 64, 3) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [9475, 3690] and names == ["not smiling", "smiling"]
    assert np.array_equal(labels, np.char.startswith(files, "positives/").astype(int))
    # The dataset files a few photos under both classes: same file name, same pixels.
    mixed = [g for g in data.duplicate_groups(images) if len(set(labels[g])) > 1]
    assert mixed, "the cross-class copies the notebook audits are gone: update notebook 1"
    for group in mixed:
        assert len({f.split("/")[1] for f in files[group]}) == 1, files[group]


def test_load_course_h5_happy_house_test_file():
    x_test, y_test, classes = data.load_course_h5("happy_house", split="test")
    assert x_test.shape == (150, 64, 64, 3) and np.bincount(y_test).tolist() == [66, 84]
    assert list(classes) == [0, 1]


NAME_160 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160{}.h5"
NAME_224 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224{}.h5"


def test_install_keras_weights_places_files_once(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "keras_home", lambda: tmp_path / "keras")
    placed = data.install_keras_weights()
    names = sorted(p.name for p in placed)
    assert names == sorted([NAME_224.format(""), NAME_224.format("_no_top"),
                            "imagenet_class_index.json"]), "224-px weights under 224 names only"
    official = tmp_path / "keras/models" / NAME_224.format("")
    official.write_bytes(b"pretend this is the official download")
    (tmp_path / "keras/models/imagenet_class_index.json").unlink()
    assert [p.name for p in data.install_keras_weights()] == ["imagenet_class_index.json"]
    assert official.read_bytes() == b"pretend this is the official download"


def test_install_keras_weights_removes_old_copies_under_160_names(tmp_path, monkeypatch):
    models = tmp_path / "keras" / "models"
    monkeypatch.setattr(data, "keras_home", lambda: tmp_path / "keras")
    data.install_keras_weights()
    stale = models / NAME_160.format("_no_top")  # what older course versions placed
    stale.write_bytes((models / NAME_224.format("_no_top")).read_bytes())
    official = models / NAME_160.format("")
    official.write_bytes(b"pretend this is Keras' own 160-px file")
    data.install_keras_weights()
    assert not stale.exists(), "a 224-px file under a 160-px name is removed"
    assert official.read_bytes() == b"pretend this is Keras' own 160-px file"


def fake_download(monkeypatch, models, works):
    """Replace the network: a download either writes the file or fails."""
    def download(name, timeout=20.0):
        if works:
            models.mkdir(parents=True, exist_ok=True)
            (models / name).write_bytes(b"downloaded")
        return works
    monkeypatch.setattr(data, "_download_keras_file", download)


@pytest.mark.parametrize("include_top", [False, True])
def test_mobilenet_v2_weights_at_160(tmp_path, monkeypatch, include_top):
    top = "" if include_top else "_no_top"
    models = tmp_path / "keras" / "models"
    monkeypatch.setattr(data, "keras_home", lambda: tmp_path / "keras")
    data.install_keras_weights()
    fake_download(monkeypatch, models, works=False)
    # offline, only the course's 224-px files: the path of the 224-px file, never "imagenet"
    path = data.mobilenet_v2_weights(160, include_top=include_top)
    assert path == str(models / NAME_224.format(top))
    assert data.mobilenet_v2_weights(224, include_top=include_top) == "imagenet"
    # a 224-px file under the 160-px name (an older course version) is no 160-px file
    (models / NAME_160.format(top)).write_bytes((models / NAME_224.format(top)).read_bytes())
    assert data.mobilenet_v2_weights(160, include_top=include_top) == path
    # Keras' own 160-px file in the cache, or one downloaded now: "imagenet"
    (models / NAME_160.format(top)).write_bytes(b"Keras' own 160-px file")
    assert data.mobilenet_v2_weights(160, include_top=include_top) == "imagenet"
    (models / NAME_160.format(top)).unlink()
    fake_download(monkeypatch, models, works=True)
    assert data.mobilenet_v2_weights(160, include_top=include_top) == "imagenet"
    assert (models / NAME_160.format(top)).read_bytes() == b"downloaded"


def test_mobilenet_v2_weights_without_a_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "keras_home", lambda: tmp_path / "empty")
    fake_download(monkeypatch, tmp_path / "empty" / "models", works=False)
    path = Path(data.mobilenet_v2_weights(160))  # falls back to the course's own file
    assert path.name == NAME_224.format("_no_top") and path.is_file()
    assert Path(data.mobilenet_v2_weights(200)).name == NAME_224.format("_no_top"), \
        "Keras has no 200-px weights: the 224-px ones"


def test_mobilenet_loads_imagenet_weights_offline():
    import keras

    data.install_keras_weights()
    base = keras.applications.MobileNetV2(input_shape=(224, 224, 3), include_top=False,
                                          weights="imagenet")
    assert base.count_params() == 2_257_984
    at_160 = keras.applications.MobileNetV2(input_shape=(160, 160, 3), include_top=False,
                                            weights=data.mobilenet_v2_weights(160))
    assert at_160.count_params() == 2_257_984


# ---------------------------------------------------------------- loaders check what they return

def write_h5(path, x, y, classes=(0, 1), prefix="train"):
    with h5py.File(path, "w") as f:
        f[f"{prefix}_set_x"], f[f"{prefix}_set_y"] = x, y
        f["list_classes"] = np.array(classes)
    return path


GOOD_X = np.zeros((4, 64, 64, 3), np.uint8)


@pytest.mark.parametrize("x, y, classes, message", [
    (GOOD_X.astype("float64") / 255, np.array([0, 1, 0, 1]), (0, 1), "float64, not uint8"),
    (GOOD_X, np.array([0.0, 1.0, 0.0, 1.0]), (0, 1), "not integers"),
    (GOOD_X, np.array([0, 1, 7, 1]), (0, 1), r"include \[7\], outside the 2 classes"),
    (GOOD_X, np.array([0, 1, 0, 1]), (1, 2), "list_classes is"),
], ids=["float-pixels", "float-labels", "label-outside-classes", "odd-class-list"])
def test_h5_loader_checks_what_it_returns(tmp_path, x, y, classes, message):
    path = write_h5(tmp_path / "bad.h5", x, y, classes)
    with pytest.raises(DataError, match=message) as err:
        data.read_h5_split(path, "train")
    assert str(path) in str(err.value), "the error names the file"


def test_class_folder_with_an_image_of_the_wrong_size(tmp_path):
    folder = tmp_path / "signs" / "train" / "3"
    write_tree(folder, {"good.jpg": jpeg_bytes(1, (64, 64)), "small.jpg": jpeg_bytes(2, (32, 24))})
    with pytest.raises(DataError, match=r"small\.jpg is 32x24 pixels; every image .* 64x64"):
        data._read_folder(folder, 3)


@pytest.mark.parametrize("images, labels, message", [
    (GOOD_X, np.array([0, 1, 0]), "4 images but 3 labels"),
    (GOOD_X, np.array([0, -1, 0, 1]), r"include \[-1\]"),
    (GOOD_X[..., :1], np.array([0, 1, 0, 1]), r"shape \(4, 64, 64, 1\); the course expects \(n, 64, 64, 3\)"),
    (GOOD_X, np.array([[0, 1, 0, 1]]), "not integers"),
], ids=["length-mismatch", "negative-label", "channels", "labels-not-1d"])
def test_check_arrays_names_what_is_wrong(images, labels, message):
    with pytest.raises(DataError, match=message):
        data.check_arrays(images, labels, 2, "some/source")
    data.check_arrays(GOOD_X, np.array([0, 1, 0, 1]), 2, "some/source")  # a good set passes


# ---------------------------------------------------------------- any picture a person has

def test_read_image_turns_phone_photos_upright(tmp_path):
    """EXIF orientation 6 means 'rotate 90 degrees clockwise to view'."""
    from PIL import Image

    stored = np.zeros((20, 40, 3), np.uint8)  # landscape as stored: 40 wide, 20 high
    stored[:, :20] = 255  # left half white
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    image.save(path, exif=exif, quality=95)
    upright = data.read_image(path)
    assert upright.shape == (40, 20, 3), "portrait after turning upright"
    assert upright[:15].mean() > 200 and upright[-15:].mean() < 50, "the white half is on top"


def test_read_image_16_bit_greyscale_png_is_scaled_not_clipped(tmp_path):
    from PIL import Image

    ramp = np.linspace(0, 65535, 64 * 8).reshape(8, 64).astype(np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(ramp).save(path)
    with Image.open(path) as saved:
        assert saved.mode.startswith("I")
    pixels = data.read_image(path, channels=1)[..., 0]
    assert pixels.min() == 0 and pixels.max() == 255
    assert 120 <= pixels[:, 32].mean() <= 135, "mid-grey stays mid-grey"


@pytest.mark.parametrize("kind", ["rgba-png", "palette-gif"])
def test_read_image_lays_transparency_over_white(tmp_path, kind):
    from PIL import Image

    if kind == "palette-gif":  # index 0: yellow, marked transparent; index 1: red
        indices = np.zeros((10, 10), np.uint8)
        indices[:, 5:] = 1
        image = Image.fromarray(indices, "P")
        image.putpalette([255, 255, 0, 255, 0, 0] + [0] * 762)
        path = tmp_path / "img.gif"
        image.save(path, transparency=0)
    else:
        rgba = np.zeros((10, 10, 4), np.uint8)  # fully transparent black ...
        rgba[:, 5:] = (255, 0, 0, 255)          # ... beside opaque red
        path = tmp_path / "img.png"
        Image.fromarray(rgba, "RGBA").save(path)
    pixels = data.read_image(path)
    assert pixels[:, :5].min() == 255, "transparent pixels become white"
    assert tuple(pixels[5, 8]) == (255, 0, 0)


def test_read_image_cmyk_jpeg_and_extreme_sizes(tmp_path):
    from PIL import Image

    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (30, 20), (0, 255, 255, 0)).save(path)  # red in CMYK
    red = data.read_image(path)
    assert red.shape == (20, 30, 3) and red[..., 0].mean() > 200 and red[..., 1].mean() < 60
    tiny, huge = tmp_path / "tiny.png", tmp_path / "huge.jpg"
    Image.new("RGB", (1, 1), (10, 20, 30)).save(tiny)
    Image.new("RGB", (6000, 4000), (200, 100, 50)).save(huge)
    assert data.read_image(tiny, size=(64, 64)).shape == (64, 64, 3)
    assert data.read_image(huge, size=(64, 64)).shape == (64, 64, 3)
