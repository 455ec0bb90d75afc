"""The seed-study summary a notebook prints: mean, spread and range per metric."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_one_block_per_machine_kind(tmp_path, monkeypatch):
    """Each seed_study-<kind>.json gets its own block.

    Files without the notebook are skipped, and so are capped runs (checks of another kind).
    """
    import utils.results

    for kind, device, values in (("avx2", "CPU: A (2 cores, avx2)", [0.7, 0.8]),
                                 ("avx512-bf16", "CPU: B (2 cores, avx512-bf16)", [0.9, 0.9]),
                                 ("avx512-bf16-capped-avx2",  # a check of the avx2 numbers
                                  "CPU: B (2 cores, avx512-bf16, oneDNN capped at AVX2)",
                                  [0.7, 0.8])):
        (tmp_path / f"seed_study-{kind}.json").write_text(json.dumps({
            "environment": {"device": device},
            "notebooks": {"02_x": {"seeds": [1, 2], "precision": "float32",
                                   "metrics": [{"a": v} for v in values]}}}))
    (tmp_path / "seed_study-gpu.json").write_text(json.dumps({
        "environment": {"device": "GPU: C"}, "notebooks": {"03_y": {}}}))
    monkeypatch.setattr(utils.results, "SEED_STUDIES", tmp_path)
    text = seed_study("02_x", ["a"])
    assert text.count("Seed study, 2 seeds") == 2
    assert "on CPU: A (2 cores, avx2), float32:\n  a: 0.750 ± 0.071 (min 0.700, max 0.800)" in text
    assert "on CPU: B (2 cores, avx512-bf16), float32:\n  a: 0.900 ± 0.000" in text
    assert "GPU: C" not in text and "capped" not in text
    monkeypatch.setattr(utils.results, "SEED_STUDIES", tmp_path / "empty")
    assert seed_study("02_x", ["a"]).startswith("No seed study recorded for 02_x")


def test_compare_two_studies(tmp_path, capsys):
    """scripts/seed_study.py --compare: per notebook and shared seed, which metrics differ."""
    import importlib.util

    script = Path(__file__).resolve().parent.parent / "scripts" / "seed_study.py"
    spec = importlib.util.spec_from_file_location("seed_study_script", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def study(name, seeds, accuracies):  # speeds always differ and are not compared
        path = tmp_path / f"{name}.json"
        metrics = [{"acc": acc, "images_per_second": 10.0 * seed}
                   for seed, acc in zip(seeds, accuracies)]
        path.write_text(json.dumps({"notebooks": {"02_x": {"seeds": seeds, "metrics": metrics}}}))
        return str(path)

    zen3 = study("zen3", [1, 2], [0.7, 0.8])
    assert module.main(["--compare", zen3, study("other", [2, 3], [0.75, 0.9])]) == 1
    expected = "02_x, seed 2: 0 of 1 metrics equal; differ: acc 0.8 vs 0.75\n"
    assert capsys.readouterr().out == expected
    assert module.main(["--compare", zen3, study("same", [2, 3], [0.8, 0.9])]) == 0
    assert capsys.readouterr().out == "02_x, seed 2: 1 of 1 metrics equal\n"


def test_committed_studies_are_where_the_notebooks_look():
    """results/seed_study/ holds one study per CPU kind; utils.seed_study finds both."""
    import utils.results

    folder = utils.results.SEED_STUDIES
    assert folder == Path(__file__).resolve().parent.parent / "results" / "seed_study"
    kinds = {p.name for p in folder.glob("seed_study-*.json")}
    assert {"seed_study-avx2.json", "seed_study-avx512-bf16.json"} <= kinds
    text = seed_study("03_resnet50_signs", ["longer_val_accuracy"])
    assert text.count("Seed study, 3 seeds (1, 2, 3)") == 2
    assert "avx2), float32:" in text and "avx512-bf16), mixed_bfloat16:" in text
