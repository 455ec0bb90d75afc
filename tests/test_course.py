"""The course runner: success, a failing cell, a missed threshold, missing results."""

from __future__ import annotations

import json

import nbformat
import pytest

from utils import course, machine


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
    monkeypatch.setattr(machine, "speed_probe", lambda: (101.0, 123.0))  # the real one: seconds
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
    header = refreshed.cells[0].source.split("\n")
    assert header[0] == "# 01_only" and header[1] == ""
    assert header[2].startswith("*Tested with Python ") and "precision float32, " in header[2]
    assert header[2].endswith(" s (last run by `python -m utils.course`).*"), header[2]


RECORD = {"environment": {"python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1",
                          "numpy": "2.4.6", "device": "CPU: AMD EPYC (2 cores)",
                          "precision": "float32", "cpu_model": "AMD EPYC 9R14",
                          "cpu_flags": ["avx2", "avx512_bf16"]},
          "seconds": {"training": 80.0, "notebook": 125.2}}
LINE = ("*Tested with Python 3.11.7, TensorFlow 2.21.0, Keras 3.15.1 on CPU: AMD EPYC (2 cores), "
        "precision float32, 2 min 05 s (last run by `python -m utils.course`).*")


def test_tested_with_line_reads_only_the_keys_it_needs():
    assert course.tested_with_line(RECORD) == LINE, "extra environment keys are ignored"
    assert course.tested_with_line(RECORD, seconds=48.4).endswith(", 48 s (last run by "
                                                                  "`python -m utils.course`).*")
    assert ", 1 min 00 s (" in course.tested_with_line(RECORD, seconds=59.6)
    no_time = {"environment": RECORD["environment"], "seconds": {"training": 3.0}}
    assert course.tested_with_line(no_time).endswith("precision float32 (last run by "
                                                     "`python -m utils.course`).*")


def test_stamp_inserts_under_the_title_then_replaces(tmp_path):
    path = write_notebook(tmp_path, "01_x", "print(1)")
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = "# Notebook 1 · X\n\nIntro."
    nb.cells[1].execution_count, nb.cells[1].outputs = 1, [
        nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nbformat.write(nb, path)
    assert course.stamp_tested_with(path, LINE) is True
    assert nbformat.read(path, as_version=4).cells[0].source == (
        f"# Notebook 1 · X\n\n{LINE}\n\nIntro.")
    assert course.stamp_tested_with(path, LINE) is False, "same line: file untouched"
    newer = LINE.replace("2.21.0", "2.22.0")
    assert course.stamp_tested_with(path, newer) is True
    stamped = nbformat.read(path, as_version=4)
    assert stamped.cells[0].source == f"# Notebook 1 · X\n\n{newer}\n\nIntro."
    assert stamped.cells[1].execution_count == 1 and stamped.cells[1].outputs[0].text == "1\n"


def test_stamp_only_runs_nothing_and_writes_the_line(course_dir, capsys):
    nbs = course_dir / "nbs"
    path = write_notebook(nbs, "01_done", "raise RuntimeError('must not run')")
    write_notebook(nbs, "02_never_run", "print(2)")
    (course_dir / "results").mkdir()
    (course_dir / "results/01_done.json").write_text(json.dumps(RECORD))
    assert course.main(["--notebooks", str(nbs), "--stamp-only"]) == 0
    out = capsys.readouterr().out
    assert "01_done.ipynb: stamped" in out and "02_never_run.ipynb: no results file" in out
    stamped = nbformat.read(path, as_version=4)
    assert stamped.cells[0].source.split("\n")[2] == LINE
    assert stamped.cells[1].outputs == [], "nothing was executed"
    assert "Tested with" not in (nbs / "02_never_run.ipynb").read_text()


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


def test_in_place_run_regenerates_the_exercise_notebooks(course_dir):
    """After ``make course`` the exercises carry the new tested-with line, so ``make test`` passes."""
    from utils.exercises import write_exercises

    nbs = course_dir / "nbs"
    write_notebook(nbs, "01_only", "print(6 * 7)", saving("01_only", 1, 0.5))
    (nbs / "exercises").mkdir()
    assert course.main(["--notebooks", str(nbs)]) == 0
    exercise = nbformat.read(nbs / "exercises/01_only.ipynb", as_version=4)
    solution = nbformat.read(nbs / "01_only.ipynb", as_version=4)
    stamp = solution.cells[0].source.split("\n")[2]
    assert stamp.startswith("*Tested with Python ")
    assert stamp in exercise.cells[1].source, "the exercise copies the solution's header"
    assert exercise.cells[2].outputs == [], "exercise notebooks carry no outputs"
    assert write_exercises(nbs, check=True) == []


def test_runs_elsewhere_leave_the_exercises_alone(course_dir):
    nbs = course_dir / "nbs"
    write_notebook(nbs, "01_only", "print(6 * 7)", saving("01_only", 1, 0.5))
    (nbs / "exercises").mkdir()
    assert course.main(["--notebooks", str(nbs), "--output-dir", str(course_dir / "out")]) == 0
    assert list((nbs / "exercises").iterdir()) == []


def test_a_full_in_place_run_records_the_probe_for_the_doctor(course_dir, capsys, monkeypatch):
    nbs = course_dir / "nbs"
    write_notebook(nbs, "01_first", saving("01_first", 0.95, 0.9))
    write_notebook(nbs, "02_second", saving("02_second", 0.80, 0.7))
    assert course.main(["--notebooks", str(nbs)]) == 0
    out = capsys.readouterr().out
    assert out.index("speed probe: 101-123 images/s") < out.index("[1/2] 01_first.ipynb")
    run = json.loads((course_dir / "results" / course.COURSE_RUN).read_text())
    assert run["probe"] == [101.0, 123.0]
    assert list(run["seconds"]) == ["01_first", "02_second"]
    assert all(0 < s < 600 for s in run["seconds"].values())
    assert run["environment"]["python"] and run["environment"]["cpu_kind"]
    (course_dir / "results" / course.COURSE_RUN).unlink()

    def no_probe():
        raise AssertionError("the probe runs only for a reference run")
    monkeypatch.setattr(machine, "speed_probe", no_probe)
    assert course.main(["--notebooks", str(nbs), "--only", "01"]) == 0
    assert course.main(["--notebooks", str(nbs), "--output-dir", str(course_dir / "out")]) == 0
    assert not (course_dir / "results" / course.COURSE_RUN).exists(), "in-place runs of all only"
