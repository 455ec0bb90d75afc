"""utils.weights: the Keras cache folder, placing the course's MobileNetV2 weights there,
and the weights= argument for any input size."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

import utils.weights as weights


def test_keras_home_follows_the_documented_rule(tmp_path, monkeypatch):
    """``$KERAS_HOME`` if set, else ``~/.keras`` (as ``keras.utils.get_file`` documents)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "cache"))
    assert weights.keras_home() == tmp_path / "cache"
    monkeypatch.setenv("KERAS_HOME", "~/elsewhere")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert weights.keras_home() == tmp_path / "home" / "elsewhere"
    monkeypatch.delenv("KERAS_HOME")
    assert weights.keras_home() == tmp_path / "home" / ".keras"


def test_keras_home_is_where_keras_caches_downloads(tmp_path):
    """``import utils`` set KERAS_HOME before Keras read it: get_file lands in keras_home()."""
    import keras

    source = tmp_path / "note.txt"
    source.write_text("cached")
    subdir = f"course-test-{uuid.uuid4().hex}"
    try:
        path = keras.utils.get_file("note.txt", source.as_uri(), cache_subdir=subdir)
        assert Path(path) == weights.keras_home() / subdir / "note.txt"
        assert Path(path).read_text() == "cached"
    finally:
        shutil.rmtree(weights.keras_home() / subdir, ignore_errors=True)


NAME_160 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160{}.h5"
NAME_224 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224{}.h5"


def test_install_keras_weights_places_files_once(tmp_path, monkeypatch):
    monkeypatch.setattr(weights, "keras_home", lambda: tmp_path / "keras")
    placed = weights.install_keras_weights()
    names = sorted(p.name for p in placed)
    assert names == sorted([NAME_224.format(""), NAME_224.format("_no_top"),
                            "imagenet_class_index.json"]), "224-px weights under 224 names only"
    official = tmp_path / "keras/models" / NAME_224.format("")
    official.write_bytes(b"pretend this is the official download")
    (tmp_path / "keras/models/imagenet_class_index.json").unlink()
    assert [p.name for p in weights.install_keras_weights()] == ["imagenet_class_index.json"]
    assert official.read_bytes() == b"pretend this is the official download"


def test_install_keras_weights_removes_old_copies_under_160_names(tmp_path, monkeypatch):
    models = tmp_path / "keras" / "models"
    monkeypatch.setattr(weights, "keras_home", lambda: tmp_path / "keras")
    weights.install_keras_weights()
    stale = models / NAME_160.format("_no_top")  # what older course versions placed
    stale.write_bytes((models / NAME_224.format("_no_top")).read_bytes())
    official = models / NAME_160.format("")
    official.write_bytes(b"pretend this is Keras' own 160-px file")
    weights.install_keras_weights()
    assert not stale.exists(), "a 224-px file under a 160-px name is removed"
    assert official.read_bytes() == b"pretend this is Keras' own 160-px file"


def fake_download(monkeypatch, models, works):
    """Replace the network: a download either writes the file or fails."""
    def download(name, timeout=20.0):
        if works:
            models.mkdir(parents=True, exist_ok=True)
            (models / name).write_bytes(b"downloaded")
        return works
    monkeypatch.setattr(weights, "_download_keras_file", download)


@pytest.mark.parametrize("include_top", [False, True])
def test_mobilenet_v2_weights_at_160(tmp_path, monkeypatch, include_top):
    top = "" if include_top else "_no_top"
    models = tmp_path / "keras" / "models"
    monkeypatch.setattr(weights, "keras_home", lambda: tmp_path / "keras")
    weights.install_keras_weights()
    fake_download(monkeypatch, models, works=False)
    # offline, only the course's 224-px files: the path of the 224-px file, never "imagenet"
    path = weights.mobilenet_v2_weights(160, include_top=include_top)
    assert path == str(models / NAME_224.format(top))
    assert weights.mobilenet_v2_weights(224, include_top=include_top) == "imagenet"
    # a 224-px file under the 160-px name (an older course version) is no 160-px file
    (models / NAME_160.format(top)).write_bytes((models / NAME_224.format(top)).read_bytes())
    assert weights.mobilenet_v2_weights(160, include_top=include_top) == path
    # Keras' own 160-px file in the cache, or one downloaded now: "imagenet"
    (models / NAME_160.format(top)).write_bytes(b"Keras' own 160-px file")
    assert weights.mobilenet_v2_weights(160, include_top=include_top) == "imagenet"
    (models / NAME_160.format(top)).unlink()
    fake_download(monkeypatch, models, works=True)
    assert weights.mobilenet_v2_weights(160, include_top=include_top) == "imagenet"
    assert (models / NAME_160.format(top)).read_bytes() == b"downloaded"


def test_mobilenet_v2_weights_without_a_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(weights, "keras_home", lambda: tmp_path / "empty")
    fake_download(monkeypatch, tmp_path / "empty" / "models", works=False)
    path = Path(weights.mobilenet_v2_weights(160))  # falls back to the course's own file
    assert path.name == NAME_224.format("_no_top") and path.is_file()
    assert Path(weights.mobilenet_v2_weights(200)).name == NAME_224.format("_no_top"), \
        "Keras has no 200-px weights: the 224-px ones"


def test_mobilenet_loads_imagenet_weights_offline():
    import keras

    weights.install_keras_weights()
    base = keras.applications.MobileNetV2(input_shape=(224, 224, 3), include_top=False,
                                          weights="imagenet")
    assert base.count_params() == 2_257_984
    at_160 = keras.applications.MobileNetV2(input_shape=(160, 160, 3), include_top=False,
                                            weights=weights.mobilenet_v2_weights(160))
    assert at_160.count_params() == 2_257_984
