"""The course runner: success, a failing cell, a missed threshold, missing results."""

from __future__ import annotations

import json

import nbformat
import pytest

from utils import course


def write_notebook(folder, name, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}")]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in sources]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def saving(name, value, threshold):
    return (f"import utils\nutils.save_results({name!r}, {{'accuracy': {value}}}, "
            f"{{'accuracy': {threshold}}}, {{'training': 1.0}})")


@pytest.fixture
def course_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path / "results"))
    (tmp_path / "nbs").mkdir()
    return tmp_path


def test_runs_in_order_and_writes_the_table(course_dir, capfd):
    nbs = course_dir / "nbs"
    write_notebook(nbs, "01_first", "x = 1\nprint(x)", saving("01_first", 0.95, 0.9))
    write_notebook(nbs, "02_second", saving("02_second", 0.80, 0.7))
    original = (nbs / "01_first.ipynb").read_text()
    code = course.main(["--notebooks", str(nbs), "--output-dir", str(course_dir / "out")])
    out, err = capfd.readouterr()  # file-descriptor level: the kernels' output too
    assert code == 0, out
    assert out.index("[1/2] 01_first.ipynb") < out.index("[2/2] 02_second.ipynb")
    assert "| 01_first | accuracy | 0.9500 | 0.9 | pass |" in out
    assert "WARNING" not in err, "kernel start-up notices stay out of the progress lines"
    assert (nbs / "01_first.ipynb").read_text() == original, "--output-dir leaves sources alone"
    executed = nbformat.read(course_dir / "out/01_first.ipynb", as_version=4)
    assert executed.cells[1].execution_count == 1
    assert executed.cells[1].outputs[0]["text"] == "1\n"
    assert "execution" not in executed.cells[1].metadata, "no timestamps: clean diffs"
    report = (course_dir / "results/README.md").read_text()
    assert "| 02_second | accuracy | 0.8000 | 0.7 | pass |" in report
    assert "- 01_first: 0:" in report and "- whole run: 0:" in report


@pytest.mark.parametrize("value, shown", [(23600006, "23,600,006"), (1310, "1,310"),
                                          (0.91187, "0.9119"), (1.0, "1.0000"),
                                          (50.5435, "50.5"), ("n/a", "n/a")])
def test_table_values_are_readable(value, shown):
    assert course.format_value(value) == shown


def test_in_place_refresh_updates_the_notebook(course_dir):
    path = write_notebook(course_dir / "nbs", "01_only", "print(6 * 7)", saving("01_only", 1, 0.5))
    assert course.main(["--notebooks", str(course_dir / "nbs")]) == 0
    refreshed = nbformat.read(path, as_version=4)
    assert refreshed.cells[1].outputs[0]["text"] == "42\n"


def test_failing_cell_is_named_and_fails_the_run(course_dir, capsys):
    nbs = course_dir / "nbs"
    path = write_notebook(nbs, "01_broken", "a = 1", "raise ValueError('boom')")
    before = path.read_text()
    write_notebook(nbs, "02_fine", saving("02_fine", 0.9, 0.5))
    assert course.main(["--notebooks", str(nbs)]) == 1
    err = capsys.readouterr().err
    assert "01_broken.ipynb failed in code cell 2" in err and "ValueError: boom" in err
    assert "01_broken: wrote no results" in err
    assert path.read_text() == before, "a failed run does not overwrite the notebook"
    record = json.loads((course_dir / "results/02_fine.json").read_text())
    assert record["metrics"]["accuracy"]["passed"] is True, "later notebooks still run"


def test_missed_threshold_fails_the_run(course_dir, capsys):
    write_notebook(course_dir / "nbs", "01_weak", saving("01_weak", 0.5, 0.9))
    assert course.main(["--notebooks", str(course_dir / "nbs")]) == 1
    captured = capsys.readouterr()
    assert "| 01_weak | accuracy | 0.5000 | 0.9 | FAIL |" in captured.out
    assert "01_weak: accuracy = 0.5 is below 0.9" in captured.err


def test_stale_results_are_not_trusted(course_dir, capsys):
    nbs = course_dir / "nbs"
    write_notebook(nbs, "01_old", "print('forgot to save')")
    (course_dir / "results").mkdir()
    (course_dir / "results/01_old.json").write_text(json.dumps(
        {"metrics": {"accuracy": {"value": 1.0, "threshold": 0.5, "passed": True}}}))
    import os
    os.utime(course_dir / "results/01_old.json", (0, 0))
    assert course.main(["--notebooks", str(nbs)]) == 1
    assert "not written by this run" in capsys.readouterr().err


def test_no_notebooks(tmp_path, capsys):
    assert course.main(["--notebooks", str(tmp_path)]) == 1
    assert "no notebooks" in capsys.readouterr().err
