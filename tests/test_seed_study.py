"""The seed-study summary a notebook prints: mean, spread and range per metric."""

from __future__ import annotations

import json

from utils.results import seed_study


def test_summary_of_three_seeds(tmp_path):
    path = tmp_path / "seed_study.json"
    path.write_text(json.dumps({
        "environment": {"device": "CPU: Test (2 cores, avx2)"},
        "notebooks": {"02_x": {"seeds": [1, 2, 3], "precision": "float32",
                               "metrics": [{"a": 0.8}, {"a": 0.9}, {"a": 1.0}]}}}))
    text = seed_study("02_x", ["a"], path=path)
    assert "3 seeds (1, 2, 3) on CPU: Test (2 cores, avx2), float32" in text
    assert "a: 0.900 ± 0.100 (min 0.800, max 1.000)" in text


def test_missing_study_says_so(tmp_path):
    text = seed_study("02_x", ["a"], path=tmp_path / "none.json")
    assert text.startswith("No seed study recorded for 02_x")
