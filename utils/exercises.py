"""Make the exercise notebooks from the solution notebooks: ``python -m utils.exercises``.

In a solution notebook (the one source) the lines a learner writes sit between nbgrader's
markers ``### BEGIN SOLUTION`` and ``### END SOLUTION``. Its exercise version replaces each
marked region with ``# YOUR CODE HERE`` and ``raise NotImplementedError()``, as nbgrader's
``ClearSolutions(enforce_metadata=False)`` does, with a "Your turn" cell (the task) above each
gap and a :mod:`utils.checks` cell after it, opens with how to check your work and has no
outputs. Each notebook's tasks sit beside their checks, in ``utils.checks.<module>.TASKS``.
``--check`` writes nothing and exits with 1 when a file is out of date. The output is
byte-identical run to run.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

from utils.checks import alpaca, resnet, signs, smiles
from utils.checks.core import Exercise
from utils.paths import REPO_ROOT

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
GAP = ("# YOUR CODE HERE", "raise NotImplementedError()")
NOTEBOOKS = REPO_ROOT / "notebooks"
TASKS: dict[str, list[Exercise]] = {
    "01_smiles_sequential.ipynb": smiles.TASKS, "02_signs_functional.ipynb": signs.TASKS,
    "03_resnet50_signs.ipynb": resnet.TASKS, "04_alpaca_transfer_learning.ipynb": alpaca.TASKS}


def clear_solutions(source: str, where: str = "cell") -> str:
    """Replace each marked region of ``source`` with the :data:`GAP` lines, at its indentation.

    ``where`` names the cell in errors. Example: ``clear_solutions("    ### BEGIN SOLUTION\\n"
    "    return 1\\n    ### END SOLUTION")`` -> ``"    # YOUR CODE HERE\\n    raise ..."``.
    """
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.split("\n"), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"{where}, line {number}: {BEGIN} inside a region")
            inside = True
            out.extend(line[: len(line) - len(line.lstrip())] + text for text in GAP)
        elif marker == END:
            if not inside:
                raise ValueError(f"{where}, line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} without {END}")
    return "\n".join(out)


def solution_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Return the code cells of a solution notebook that hold a marked region."""
    return [cell for cell in notebook.cells if cell.cell_type == "code" and BEGIN in cell.source]


def solution_region(source: str) -> str:
    """Return the lines between the markers of one cell, dedented (for the tests)."""
    lines = source.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == BEGIN)
    end = next(i for i, line in enumerate(lines) if line.strip() == END)
    indent = len(lines[start]) - len(lines[start].lstrip())
    return "\n".join(line[indent:] for line in lines[start + 1:end])


def make_exercise(solution: Path) -> nbformat.NotebookNode:
    """Build the exercise version of one solution notebook."""
    notebook = nbformat.read(solution, as_version=4)
    tasks = TASKS.get(solution.name, [])
    if len(solution_cells(notebook)) != len(tasks):
        raise ValueError(f"{solution}: {len(solution_cells(notebook))} cells with {BEGIN}, but "
                         f"{len(tasks)} exercises are listed in its utils.checks module's TASKS")
    exercise = copy.deepcopy(notebook)
    cells = [nbformat.v4.new_markdown_cell(
        "> **Exercise version.** Cells marked `# YOUR CODE HERE` are yours to write: replace "
        "`raise NotImplementedError()` with your code, run the cell, then run the check cell "
        "right below it. It prints `all checks passed` or tells you what is wrong and where. "
        "Run the notebook from the top, in order; the cells after a gap need your code. Stuck? "
        f"The finished notebook is [`notebooks/{solution.name}`](../{solution.name}).\n>\n"
        "> This file is generated from the solution notebook with `python -m utils.exercises`; "
        "edit the solution, not this file.", id="exercise-intro")]
    number = 0
    for index, cell in enumerate(exercise.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if cell.cell_type == "markdown":  # one folder deeper: ../images -> ../../images
            cell.source = re.sub(r"\]\(\.\./", "](../../", cell.source)
        if cell.cell_type != "code" or BEGIN not in cell.source:
            cells.append(cell)
            continue
        task, number = tasks[number], number + 1
        if task.anchor not in cell.source:
            raise ValueError(f"{solution}, cell {index}: expected exercise {number} "
                             f"to contain {task.anchor!r}")
        cell.source = clear_solutions(cell.source, f"{solution}, cell {index}")
        cells += [nbformat.v4.new_markdown_cell(f"**Your turn ({number}).** {task.task}",
                                                id=f"exercise-{number}-task"), cell,
                  nbformat.v4.new_code_cell(f"import utils.checks\n\n{task.check}",
                                            id=f"exercise-{number}-check")]
    exercise.cells = cells
    return exercise


def render(solution: Path) -> str:
    """Return the exact text of the exercise notebook for ``solution``."""
    return nbformat.writes(make_exercise(solution)) + "\n"


def write_exercises(notebooks: Path = NOTEBOOKS, check: bool = False) -> list[Path]:
    """Write the exercise version of every numbered notebook in ``notebooks`` that is out of date.

    Returns the paths written, or with ``check=True`` writes nothing and returns those out of
    date. Example: ``write_exercises(check=True) == []`` when everything is current.
    """
    changed = []
    for solution in sorted(notebooks.glob("[0-9]*.ipynb")):  # not hidden scratch copies
        target, text = notebooks / "exercises" / solution.name, render(solution)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        changed.append(target)
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Write (or, with ``--check``, compare) every exercise notebook."""
    parser = argparse.ArgumentParser(prog="python -m utils.exercises",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files; write nothing")
    args = parser.parse_args(argv)
    shown = [str(p.relative_to(NOTEBOOKS.parent)) for p in write_exercises(check=args.check)]
    if args.check:
        if shown:
            print(f"out of date: {', '.join(shown)}. Run: python -m utils.exercises",
                  file=sys.stderr)
        return 1 if shown else 0
    for name in shown:
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
