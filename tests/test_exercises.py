"""The exercise notebooks: generated from the solutions, up to date, never run by nbval."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from utils import exercises
from utils.exercises import BEGIN, END, GAP, clear_solutions

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_committed_exercise_notebook_is_what_the_generator_makes(solution):
    target = ROOT / "notebooks" / "exercises" / solution.name
    assert target.exists(), f"{target} is missing: run python -m utils.exercises"
    assert target.read_text(encoding="utf-8") == exercises.render(solution), (
        f"{target.relative_to(ROOT)} is out of date: run python -m utils.exercises "
        "and commit the result")


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_exercise_notebook_shape(solution):
    exercise = nbformat.read(ROOT / "notebooks" / "exercises" / solution.name,
                             as_version=4)
    tasks = exercises.TASKS[solution.name]
    assert exercise.cells[0].cell_type == "markdown"
    assert "all checks passed" in exercise.cells[0].source
    assert f"](../{solution.name})" in exercise.cells[0].source
    code = [c for c in exercise.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert not any(BEGIN in c.source or END in c.source for c in exercise.cells)
    gaps = [i for i, c in enumerate(exercise.cells)
            if c.cell_type == "code" and GAP[1] in c.source]
    assert len(gaps) == len(tasks)
    for i, task in zip(gaps, tasks):
        assert exercise.cells[i - 1].source.startswith("**Your turn")
        assert exercise.cells[i + 1].source.endswith(task.check)
        assert "utils.checks." in exercise.cells[i + 1].source


def test_generator_is_deterministic(tmp_path):
    solution = SOLUTIONS[2]
    assert exercises.render(solution) == exercises.render(solution)


def test_clear_solutions_keeps_indentation_and_the_rest():
    source = ("def f(x):\n    # keep me\n    ### BEGIN SOLUTION\n    y = x + 1\n"
              "    return y\n    ### END SOLUTION\nprint(f)")
    assert clear_solutions(source) == (
        "def f(x):\n    # keep me\n    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\nprint(f)")


@pytest.mark.parametrize("source, message", [
    (f"{BEGIN}\nx = 1", "without ### END"),
    (f"x = 1\n{END}", "without ### BEGIN"),
    (f"{BEGIN}\n{BEGIN}\n{END}", "inside a region"),
])
def test_clear_solutions_rejects_broken_markers(source, message):
    with pytest.raises(ValueError, match=message):
        clear_solutions(source, "nb.ipynb, cell 3")


def test_generator_rejects_a_notebook_whose_markers_do_not_match_the_tasks(tmp_path):
    nb = nbformat.read(SOLUTIONS[0], as_version=4)
    for cell in exercises.solution_cells(nb):
        cell.source = cell.source.replace(BEGIN, "# begin").replace(END, "# end")
    path = tmp_path / SOLUTIONS[0].name
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="0 cells with ### BEGIN SOLUTION"):
        exercises.make_exercise(path)


def test_nbval_does_not_collect_the_exercise_notebooks():
    # Collection only: nothing is executed.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "notebooks"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "01_smiles_sequential.ipynb" in result.stdout
    assert "exercises" not in result.stdout


def test_solution_marker_lines_do_not_count_towards_the_cell_length_rule():
    from tests import notebook_rules as rules

    body = [f"x{i} = {i}" for i in range(rules.MAX_CODE_LINES)]
    marked = [BEGIN, *body, END]
    cell = {"cell_type": "code", "source": "\n".join(marked), "metadata": {},
            "outputs": [], "execution_count": 1}
    assert rules.long_cells({"cells": [cell]}) == []
    cell["source"] = "\n".join([*marked, "one_more = 1"])
    assert rules.long_cells({"cells": [cell]}) == [(0, rules.MAX_CODE_LINES + 1)]


def test_relative_links_in_the_exercise_notebooks_resolve():
    """Exercise notebooks sit one folder deeper: their links to images/ must still work."""
    import re

    folder = ROOT / "notebooks" / "exercises"
    for path in sorted(folder.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "markdown":
                continue
            for target in re.findall(r"\]\((\.\.?/[^)\s]+)\)", cell.source):
                file = target.split("#", 1)[0]  # a link may point into a page
                assert (folder / file).resolve().is_file(), f"{path.name}: {target} not found"
