"""The version check that ``import utils`` runs before TensorFlow loads."""

from __future__ import annotations

import pytest

from utils import versions

CURRENT = {"python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1"}


@pytest.mark.parametrize("text, parts", [("2.21.0", (2, 21, 0)), ("3.8", (3, 8)),
                                         ("2.16.0rc1", (2, 16, 0)), ("3.10.dev0", (3, 10))])
def test_version_tuple(text, parts):
    assert versions.version_tuple(text) == parts


def test_a_current_environment_has_no_problems():
    assert versions.version_problems(CURRENT) == []
    assert versions.require_versions(CURRENT) is None


def test_this_environment_passes():
    assert versions.version_problems() == [], "the pinned requirements meet the minimums"


def test_keras_2_and_missing_tensorflow_are_named():
    old = CURRENT | {"keras": "2.15.0", "tensorflow": None}
    assert versions.version_problems(old) == ["TensorFlow is not installed",
                                              "Keras 2.15.0 (needs 3.8 or newer)"]


def test_one_readable_message_says_what_to_install():
    with pytest.raises(ImportError) as err:
        versions.require_versions(CURRENT | {"tensorflow": "2.15.1"})
    message = str(err.value)
    assert "TensorFlow 2.15.1 (needs 2.16 or newer)" in message
    assert "pip install -r requirements.txt" in message
    assert "\n" not in message, "one sentence, no traceback-like dump"


def test_version_numbers_compare_as_numbers_not_text():
    assert versions.version_problems(CURRENT | {"keras": "3.10.0"}) == []
    assert versions.version_problems(CURRENT | {"python": "3.9.18"}) == [
        "Python 3.9.18 (needs 3.10 or newer)"]
