"""Saving and loading a model with its sidecar: every broken model gives one clear line.

The known-answer models are in ``tests/saved_models.py``.
"""

from __future__ import annotations

from pathlib import Path

import keras
import pytest

from tests.saved_models import BROKEN, broken, folder, models  # noqa: F401
from utils.models import ModelError, load_model, resolve_model


def test_load_model_by_name_alias_and_path(models):
    model, sidecar = load_model("colours")
    assert isinstance(model, keras.Model) and sidecar["class_names"] == ["red", "green", "blue"]
    assert sidecar["input_size"] == [8, 8] and sidecar["output"] == "softmax"
    assert load_model(models / "top_bright.keras")[1]["output"] == "logit"
    assert load_model(str(models / "grey_bright.keras"))[1]["colour_mode"] == "grey"
    assert resolve_model("resnet50") == models / "resnet50_signs.keras"
    assert load_model("resnet50")[1]["notebook"] == "03_resnet50_signs"


@pytest.mark.parametrize("kind", BROKEN)
def test_every_broken_model_gives_one_clear_line(models, tmp_path, kind):
    target, words = broken(kind, models, tmp_path)
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


def test_sidecar_records_the_image_preparation_and_refuses_another(models, tmp_path):
    from tests.saved_models import copy_model, edit_sidecar
    from utils.images import preparation

    assert load_model("colours")[1]["preparation"] == preparation(antialias=True)
    plain = copy_model(models, tmp_path)
    edit_sidecar(plain, preparation=preparation(antialias=False))
    assert load_model(plain)[1]["preparation"]["antialias"] is False  # a choice it can repeat
    for other in (preparation() | {"resize": "nearest"}, preparation() | {"antialias": "yes"},
                  None):
        edit_sidecar(plain, preparation=other)
        with pytest.raises(ModelError, match="cannot repeat.*would not match its notebook's"):
            load_model(plain)
