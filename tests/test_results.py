"""The results files: save_results and load_results."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from utils import results


def test_save_and_load_results(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    path = results.save_results("99_demo", {"test_accuracy": 0.91234, "recall": 0.5,
                                            "parameters": np.int64(1310)},
                                {"test_accuracy": 0.9, "recall": 0.8}, {"training": 12.345},
                                extra={"epochs": 10})
    assert path == tmp_path / "99_demo.json"
    record = json.loads(path.read_text())
    assert record["metrics"]["test_accuracy"] == {"value": 0.9123, "threshold": 0.9, "passed": True}
    assert record["metrics"]["recall"]["passed"] is False
    assert record["metrics"]["parameters"]["value"] == 1310
    assert isinstance(record["metrics"]["parameters"]["value"], int), "counts stay integers"
    assert record["seconds"] == {"training": 12.3} and record["extra"] == {"epochs": 10}
    assert record["environment"]["tensorflow"] == tf.__version__
    assert results.load_results("99_demo") == record


def test_save_results_rejects_thresholds_for_unknown_metrics(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="unknown metrics"):
        results.save_results("99_demo", {"a": 1.0}, {"b": 0.5})


def test_load_results_for_a_notebook_never_run(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="run notebooks/00_never.ipynb first"):
        results.load_results("00_never")
