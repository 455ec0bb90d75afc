"""utils.datasets: course .h5 files, class-folder pipelines and splits, the loaders and the
checks on what they return, train/validation splits that keep copies together, and
no_autotune (same elements, autotuner off)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import tensorflow as tf

import utils.datasets as datasets
import utils.fetch as fetch
from tests.conftest import jpeg_bytes, make_folder, write_manifest, write_tree
from utils.fetch import DataError


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
    x, y, classes = datasets.read_h5_split(make_h5(tmp_path / "ok.h5"), "train")
    assert x.shape == (5, 64, 64, 3) and x.dtype == np.uint8
    assert y.shape == (5,) and list(classes) == [0, 1]


def test_h5_missing_file(tmp_path):
    with pytest.raises(DataError, match="missing.*make data"):
        datasets.read_h5_split(tmp_path / "absent.h5", "train")


@pytest.mark.parametrize("content", [b"", b"<html>404 Not Found</html>",
                                     b"version https://git-lfs.github.com/spec/v1\n"])
def test_h5_that_is_not_hdf5(tmp_path, content):
    path = tmp_path / "fake.h5"
    path.write_bytes(content)
    with pytest.raises(DataError, match="not an HDF5 file") as err:
        datasets.read_h5_split(path, "train")
    assert str(path) in str(err.value)


def test_h5_truncated(tmp_path):
    path = make_h5(tmp_path / "cut.h5", n=50)
    path.write_bytes(path.read_bytes()[:4000])
    with pytest.raises(DataError) as err:
        datasets.read_h5_split(path, "train")
    assert str(path) in str(err.value)


def test_h5_missing_keys(tmp_path):
    path = make_h5(tmp_path / "keys.h5", keys=["train_set_x", "list_classes"])
    with pytest.raises(DataError, match="lacks the key.*train_set_y"):
        datasets.read_h5_split(path, "train")


@pytest.mark.parametrize("shape", [(32, 32, 3), (64, 64)])
def test_h5_wrong_shapes(tmp_path, shape):
    path = make_h5(tmp_path / "shape.h5", shape=shape)
    with pytest.raises(DataError, match=r"expects \(n, 64, 64, 3\)"):
        datasets.read_h5_split(path, "train")


def test_load_course_h5_reads_train_and_test(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "happy_house").mkdir(parents=True)
    train = make_h5(mirror / "happy_house/train_happy.h5", "train", n=6)
    test = make_h5(mirror / "happy_house/test_happy.h5", "test", n=3)
    manifest = write_manifest(tmp_path / "meta", {"happy_house": {
        "happy_house/train_happy.h5": (train.read_bytes(), None),
        "happy_house/test_happy.h5": (test.read_bytes(), None)}})
    monkeypatch.setattr(fetch, "MANIFEST_PATH", manifest)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    x_train, y_train, x_test, y_test, classes = datasets.load_course_h5("happy_house")
    assert x_train.shape == (6, 64, 64, 3) and x_test.shape == (3, 64, 64, 3)
    assert y_train.shape == (6,) and y_test.shape == (3,)


def test_load_course_h5_without_the_train_file_says_what_to_do(tmp_path, monkeypatch):
    """The real manifest knows train_happy.h5; with no copy and no network, one clear error."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(tmp_path / "empty"))
    monkeypatch.setattr(fetch, "_open_source", lambda source: open(tmp_path / "no-network", "rb"))
    with pytest.raises(DataError) as err:
        datasets.load_course_h5("happy_house")
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
    monkeypatch.setattr(fetch, "MANIFEST_PATH", manifest)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(mirror))
    x_test, y_test, classes = datasets.load_course_h5("happy_house", split="test")
    assert x_test.shape == (3, 64, 64, 3) and y_test.shape == (3,) and list(classes) == [0, 1]
    assert sorted(p.name for p in (tmp_path / "data/happy_house").iterdir()) == ["test_happy.h5"]
    for split in (None, "train"):
        with pytest.raises(DataError, match="train_happy.h5"):
            datasets.load_course_h5("happy_house", split=split)
    with pytest.raises(ValueError, match="split='validation'"):
        datasets.load_course_h5("happy_house", split="validation")


def test_unknown_course_h5():
    with pytest.raises(DataError, match="Unknown course h5"):
        datasets.load_course_h5("mnist")


# ---------------------------------------------------------------- class folders

def test_image_folder_datasets(tmp_path):
    root = make_folder(tmp_path / "f", per_class=10)
    train, val, names = datasets.image_folder_datasets(root, image_size=(16, 16), batch_size=4,
                                                   validation_split=0.2, seed=1)
    assert names == ["cat", "dog"]
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in train])
    assert sum(len(y) for y in ys) == 16 and xs[0].shape[1:] == (16, 16, 3)
    assert sum(int(y.shape[0]) for _, y in val) == 4
    again = datasets.image_folder_datasets(root, image_size=(16, 16), batch_size=4,
                                       validation_split=0.2, seed=1)[1]
    first = np.concatenate([x.numpy() for x, _ in val])
    assert np.array_equal(first, np.concatenate([x.numpy() for x, _ in again])), "seeded split"


def test_split_class_folders_skips_bad_files(tmp_path):
    root = make_folder(tmp_path / "src", per_class=10)
    (root / "cat/empty.jpg").write_bytes(b"")
    (root / "dog/notes.jpg").write_bytes(b"not an image")
    report = datasets.split_class_folders(root, tmp_path / "out", validation_fraction=0.2, seed=0)
    assert report["train"] == {"cat": 8, "dog": 8}
    assert report["validation"] == {"cat": 2, "dog": 2}
    assert sorted(p.split("/")[-1] for p in report["skipped"]) == ["empty.jpg", "notes.jpg"]
    copied = sorted(p.name for p in (tmp_path / "out").rglob("*.jpg"))
    assert len(copied) == 20 and "empty.jpg" not in copied
    again = datasets.split_class_folders(root, tmp_path / "out", validation_fraction=0.2, seed=0)
    assert again == report, "a second run with the same seed makes the same split"


def test_split_class_folders_rejects_bad_fraction(tmp_path):
    with pytest.raises(ValueError):
        datasets.split_class_folders(make_folder(tmp_path / "f"), tmp_path / "o", 1.5)


# ---------------------------------------------------------------- the real datasets

def test_load_signs():
    x_train, y_train, x_test, y_test, names = datasets.load_signs()
    assert x_train.shape == (1080, 64, 64, 3) and x_test.shape == (120, 64, 64, 3)
    assert np.bincount(y_train).tolist() == [180] * 6 and np.bincount(y_test).tolist() == [20] * 6
    assert names == ["0", "1", "2", "3", "4", "5"]


def test_load_smiles_is_stratified_and_deterministic():
    x_train, y_train, x_test, y_test, names = datasets.load_smiles(seed=3)
    assert x_train.shape[1:] == (64, 64, 3) and len(x_train) + len(x_test) == 13165
    assert abs(y_train.mean() - y_test.mean()) < 0.005, "both splits keep the 28% smiling share"
    assert names == ["not smiling", "smiling"]
    assert np.array_equal(x_train[:, :, :, 0], x_train[:, :, :, 2]), "grey repeated to RGB"
    again = datasets.load_smiles(seed=3)
    assert np.array_equal(again[1], y_train) and np.array_equal(again[2], x_test)
    grey = datasets.load_smiles(seed=3, channels=1)[0]
    assert grey.shape[1:] == (64, 64, 1)


def test_load_smiles_all_keeps_every_face_with_its_file():
    images, labels, files, names = datasets.load_smiles_all()
    assert images.shape == (13165, 64, 64, 3) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [9475, 3690] and names == ["not smiling", "smiling"]
    assert np.array_equal(labels, np.char.startswith(files, "positives/").astype(int))
    # The dataset files a few photos under both classes: same file name, same pixels.
    mixed = [g for g in datasets.duplicate_groups(images) if len(set(labels[g])) > 1]
    assert mixed, "the cross-class copies the notebook audits are gone: update notebook 1"
    for group in mixed:
        assert len({f.split("/")[1] for f in files[group]}) == 1, files[group]


def test_load_course_h5_happy_house_test_file():
    x_test, y_test, classes = datasets.load_course_h5("happy_house", split="test")
    assert x_test.shape == (150, 64, 64, 3) and np.bincount(y_test).tolist() == [66, 84]
    assert list(classes) == [0, 1]


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
        datasets.read_h5_split(path, "train")
    assert str(path) in str(err.value), "the error names the file"


def test_class_folder_with_an_image_of_the_wrong_size(tmp_path):
    folder = tmp_path / "signs" / "train" / "3"
    write_tree(folder, {"good.jpg": jpeg_bytes(1, (64, 64)), "small.jpg": jpeg_bytes(2, (32, 24))})
    with pytest.raises(DataError, match=r"small\.jpg is 32x24 pixels; every image .* 64x64"):
        datasets._read_classes(folder.parent, [folder.name], 3)


@pytest.mark.parametrize("images, labels, message", [
    (GOOD_X, np.array([0, 1, 0]), "4 images but 3 labels"),
    (GOOD_X, np.array([0, -1, 0, 1]), r"include \[-1\]"),
    (GOOD_X[..., :1], np.array([0, 1, 0, 1]),
     r"shape \(4, 64, 64, 1\); the course expects \(n, 64, 64, 3\)"),
    (GOOD_X, np.array([[0, 1, 0, 1]]), "not integers"),
], ids=["length-mismatch", "negative-label", "channels", "labels-not-1d"])
def test_check_arrays_names_what_is_wrong(images, labels, message):
    with pytest.raises(DataError, match=message):
        datasets.check_arrays(images, labels, 2, "some/source")
    datasets.check_arrays(GOOD_X, np.array([0, 1, 0, 1]), 2, "some/source")  # a good set passes


# ---------------------------------------------------------------- splits that keep copies together

def _images_with_copies(n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    labels = np.repeat(np.arange(3), n // 3)
    for a, b in ((0, 1), (5, 30), (41, 42), (80, 119)):  # copies within a class
        images[b] = images[a]
    return images, labels


def test_duplicate_groups_find_every_copy():
    images, _ = _images_with_copies()
    groups = [g.tolist() for g in datasets.duplicate_groups(images) if len(g) > 1]
    assert groups == [[0, 1], [5, 30], [41, 42], [80, 119]]
    assert sum(len(g) for g in datasets.duplicate_groups(images)) == len(images)


def test_copies_stay_on_one_side_for_every_seed():
    images, labels = _images_with_copies()
    for seed in range(20):
        fit, val = datasets.train_val_split(images, labels, 0.25, seed=seed)
        assert sorted(np.concatenate([fit, val]).tolist()) == list(range(len(images)))
        fit_set = set(fit.tolist())
        for a, b in ((0, 1), (5, 30), (41, 42), (80, 119)):
            assert (a in fit_set) == (b in fit_set), (seed, a, b)
        counts = np.bincount(labels[val], minlength=3)
        assert all(10 <= c <= 11 for c in counts), counts  # 25 % of 40 per class, +1 for a pair


def test_split_depends_on_seed_only():
    images, labels = _images_with_copies()
    a = datasets.train_val_split(images, labels, 0.2, seed=3)
    b = datasets.train_val_split(images, labels, 0.2, seed=3)
    c = datasets.train_val_split(images, labels, 0.2, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(np.sort(a[1]), np.sort(c[1]))


# ---------------------------------------------------------------- no_autotune

def test_no_autotune_keeps_the_elements_and_turns_the_autotuner_off():
    x = np.arange(40, dtype="float32").reshape(20, 2)
    ds = tf.data.Dataset.from_tensor_slices(x).shuffle(20, seed=3, reshuffle_each_iteration=False)
    ds = ds.batch(6).prefetch(2)
    tuned_off = datasets.no_autotune(ds)
    assert ds.options().autotune.enabled is not False  # the original is left as it was
    assert tuned_off.options().autotune.enabled is False
    before = [b.numpy() for b in ds]
    after = [b.numpy() for b in tuned_off]
    assert [len(b) for b in after] == [6, 6, 6, 2]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.sort(np.concatenate(after), axis=0), x)

