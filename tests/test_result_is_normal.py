"""utils.checks.result_is_normal: within, below, above the seed study's spread, or no study."""

from __future__ import annotations

import json

import pytest

from utils.checks import normal, result_is_normal
from utils.checks.normal import judge, study_values

NB = "01_smiles_sequential"


def write_study(folder, kind: str, values: list[float], notebook: str = NB,
                metric: str = "test_accuracy") -> None:
    runs = {"seeds": list(range(1, len(values) + 1)), "precision": "float32",
            "metrics": [{metric: v, "other": 0.5} for v in values]}
    study = {"environment": {"device": f"CPU ({kind})"}, "notebooks": {notebook: runs}}
    (folder / f"seed_study-{kind}.json").write_text(json.dumps(study))


@pytest.fixture
def studies(tmp_path):
    write_study(tmp_path, "avx2", [0.90, 0.91, 0.92])
    write_study(tmp_path, "avx512-bf16", [0.80, 0.81, 0.82])
    write_study(tmp_path, "avx512-bf16-capped-avx2", [0.10, 0.11, 0.12])  # never read
    return tmp_path


def said(capsys, value: float, kind: str, folder, metric: str = "test_accuracy") -> str:
    assert result_is_normal(NB, metric, value, kind=kind, studies=folder) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "one line"
    return out


def test_within_the_range_of_this_kind(capsys, studies):
    out = said(capsys, 0.915, "avx2", studies)
    assert "yes, within" in out and "3 seeded runs on this machine's kind, avx2" in out
    assert "0.900 to 0.920" in out


def test_a_value_just_outside_the_seeds_but_inside_the_allowance_is_within(capsys, studies):
    # three seeds cannot show the whole spread: 0.02 either side is still normal
    assert "yes, within" in said(capsys, 0.885, "avx2", studies)


def test_below_names_the_likely_causes_from_the_notebooks_checks(capsys, studies, monkeypatch):
    from utils.checks import smiles
    monkeypatch.setattr(smiles, "CAUSES", {"test_accuracy": "labels shuffled apart from images"},
                        raising=False)
    out = said(capsys, 0.75, "avx2", studies)
    assert "below what the seed study saw" in out
    assert "Likely causes: labels shuffled apart from images." in out


def test_below_without_listed_causes_still_says_something(capsys, studies, monkeypatch):
    from utils.checks import smiles
    monkeypatch.setattr(smiles, "CAUSES", {}, raising=False)
    assert "Likely causes: a change to the recipe or to the data" in said(
        capsys, 0.5, "avx2", studies)


def test_above(capsys, studies):
    out = said(capsys, 0.99, "avx2", studies)
    assert "above what the seed study saw" in out and "no test photo reached training" in out


def test_each_kind_is_judged_by_its_own_study(capsys, studies):
    # 0.81 is normal on the AVX-512 kind and far below on the AVX2 kind
    assert "yes, within" in said(capsys, 0.81, "avx512-bf16", studies)
    assert "below" in said(capsys, 0.81, "avx2", studies)


def test_a_kind_without_a_study_is_compared_across_kinds_and_says_so(capsys, studies):
    out = said(capsys, 0.85, "gpu", studies)
    assert "6 seeded runs on all machine kinds: none on gpu" in out
    assert "0.800 to 0.920" in out  # the capped file is not among them


def test_missing_study(capsys, tmp_path):
    out = said(capsys, 0.9, "avx2", tmp_path)
    assert "no seed study records it yet" in out
    assert "python scripts/seed_study.py --notebooks 01_smiles_sequential" in out


def test_missing_metric_in_an_existing_study(capsys, studies):
    assert "no seed study records it yet" in said(capsys, 0.9, "avx2", studies, metric="nothing")


def test_judge_widens_the_range_by_twice_the_spread_when_it_is_larger():
    verdict, low, high, allowance = judge(0.70, [0.70, 0.80, 0.90])
    assert (verdict, low, high) == ("within", 0.70, 0.90)
    assert allowance == pytest.approx(0.2)
    assert judge(0.49, [0.70, 0.80, 0.90])[0] == "below"
    assert judge(1.11, [0.70, 0.80, 0.90])[0] == "above"


def test_the_committed_studies_cover_every_notebook_on_this_kind_or_across_kinds():
    # the real files: each notebook's headline metric has values to compare with
    metrics = {"01_smiles_sequential": "test_accuracy", "02_signs_functional":
               "course_val_accuracy", "03_resnet50_signs": "val_accuracy",
               "04_alpaca_transfer_learning": "val_accuracy_fine_tuned"}
    for notebook, metric in metrics.items():
        values, where = study_values(notebook, metric, normal.machine_kind())
        assert len(values) >= 3 and where, notebook
