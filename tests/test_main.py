"""The command line ``python -m utils predict``: output, JSON and exit status.

The known-answer models and pictures are in ``tests/saved_models.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.saved_models import (BLUE, RED, broken, folder, models, pictures,  # noqa: F401
                                softmax4)
from utils.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


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
    target, _ = broken(kind, models, tmp_path)
    assert main(["predict", str(target), str(pictures["red.png"])]) == 2
    out, err = capsys.readouterr()
    [line] = errors(err)
    assert out == "" and err == line + "\n"
    for word in words:
        assert word in line
