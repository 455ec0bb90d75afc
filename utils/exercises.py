"""Make the exercise notebooks from the solution notebooks.

Run ``python -m utils.exercises`` to (re)write ``notebooks/exercises/*.ipynb``;
``python -m utils.exercises --check`` only compares and exits with status 1 when a
committed exercise notebook is out of date.

The solution notebooks are the one source. Inside their code cells, the lines
a learner should write sit between ``### BEGIN SOLUTION`` and
``### END SOLUTION``, the markers nbgrader uses. For each notebook this module:

- replaces every marked region with ``# YOUR CODE HERE`` and
  ``raise NotImplementedError()`` at the region's indentation, as nbgrader's
  ``ClearSolutions`` preprocessor does;
- puts a short "Your turn" cell with the task above each gap and a check cell
  calling :mod:`utils.checks` right after it (the checks are inserted here, not
  kept in the solution notebooks, so the solutions stay exactly what a full run
  executes);
- opens the notebook with how to check your work and where the solution is;
- removes all outputs and execution counts, so the files stay small.

Why a small generator of our own and not nbgrader's ``ClearSolutions``:
nbgrader 0.9.6 does resolve beside the pinned stack (checked in a throwaway
virtual environment on 2026-11-23), but it would add nine packages to every
learner's install (among them SQLAlchemy, alembic and the classic notebook
server) for a step of about twenty lines, and its ``ClearSolutions`` refuses
cells without nbgrader's cell metadata unless ``enforce_metadata=False``; our
notebooks carry only the comment markers. On the four course notebooks
:func:`clear_solutions` gives exactly the cell sources that
``ClearSolutions(enforce_metadata=False)`` gives, so an instructor who uses
nbgrader gets the same gaps from the same solution notebooks. The output is
deterministic: the same solution notebooks give byte-identical exercise
notebooks.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
GAP = ("# YOUR CODE HERE", "raise NotImplementedError()")
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@dataclass(frozen=True)
class Exercise:
    """One gap: the text of its cell (``anchor``), the task and the check call."""

    anchor: str
    task: str
    check: str


TASKS: dict[str, list[Exercise]] = {
    "01_smiles_sequential.ipynb": [
        Exercise(
            "def smile_model",
            "Return a `keras.Sequential` model with these layers, in this order and "
            "with these names: `keras.Input(shape=input_shape)`; `ZeroPadding2D` of 3 "
            "(`zero_pad`); `Conv2D` with 32 filters of 7x7, stride 1 (`conv`); "
            "`BatchNormalization` over the channel axis 3 (`batch_norm`); `ReLU` "
            "(`relu`); `MaxPooling2D` of 2 (`max_pool`); `Flatten` (`flatten`); "
            "`Dense(1, activation=\"sigmoid\")` (`output`). Name the model "
            "`smile_model`.",
            "utils.checks.sequential_model(smile_model)"),
    ],
    "02_signs_functional.ipynb": [
        Exercise(
            "y_train_onehot = ",
            "Turn the integer labels `y_train` and `y_test` into one-hot rows with "
            "`keras.utils.to_categorical(labels, num_classes)`: name them "
            "`y_train_onehot` and `y_test_onehot`.",
            "utils.checks.one_hot(y_train, y_train_onehot, num_classes)\n"
            "utils.checks.one_hot(y_test, y_test_onehot, num_classes)"),
        Exercise(
            "def build_course_model",
            "Build the model with the Functional API: `keras.Input(shape=(64, 64, "
            "3))`, then call each layer on the previous tensor: `Conv2D(8, 4, "
            "padding=\"same\")`, `ReLU`, `MaxPool2D(8, strides=8, padding=\"same\")`, "
            "`Conv2D(16, 2, padding=\"same\")`, `ReLU`, `MaxPool2D(4, strides=4, "
            "padding=\"same\")`, `Flatten`, `Dense(num_classes, "
            "activation=\"softmax\")`. Return `keras.Model(inputs, outputs)`.",
            "utils.checks.functional_model(build_course_model)"),
    ],
    "03_resnet50_signs.ipynb": [
        Exercise(
            "def identity_block",
            "Write the main path: three times `Conv2D` then `BatchNormalization(axis=3)`"
            ", with kernels 1x1, `f`x`f` (`padding=\"same\"`) and 1x1 and the filters "
            "`F1, F2, F3`; a ReLU after the first two batch norms only. Then add the "
            "unchanged input with `layers.Add()` and apply a last ReLU. Name the "
            "layers `{name}_conv1`, `{name}_bn1`, `{name}_relu1`, ..., `{name}_bn3`, "
            "`{name}_add`, `{name}_out`: later cells look them up.",
            "utils.checks.identity_block(identity_block)"),
        Exercise(
            "def convolutional_block",
            "The same main path as the identity block, with stride `s` on the first "
            "1x1 convolution only. The shortcut is a 1x1 `Conv2D` with `F3` filters "
            "and stride `s` (`{name}_short_conv`) followed by "
            "`BatchNormalization(axis=3)` (`{name}_short_bn`). Add the two paths "
            "(`{name}_add`) and apply a ReLU (`{name}_out`).",
            "utils.checks.convolutional_block(convolutional_block)"),
        Exercise(
            "def resnet50",
            "Assemble the network of the table above: the input (`image`), stage 1 "
            "(`stage1_pad`, `stage1_conv`, `stage1_bn`, `stage1_relu`, "
            "`stage1_pool`), then for each row of `STAGES` one convolutional block "
            "named `stage<n>a` and identity blocks `stage<n>b`, `stage<n>c`, ...; "
            "finally `AveragePooling2D(2)` (`avg_pool`), `Flatten` (`flatten`) and "
            "`Dense(classes, activation=\"softmax\")` (`probabilities`).",
            "utils.checks.resnet50(resnet50)"),
    ],
    "04_alpaca_transfer_learning.ipynb": [
        Exercise(
            "augment = keras.Sequential(",
            "Make `augment`, a `keras.Sequential` model named `augment` holding "
            "`layers.RandomFlip(\"horizontal\")` and then `layers.RandomRotation(0.2)`.",
            "utils.checks.augmentation(augment)"),
        Exercise(
            "base.trainable = False\n",
            "Freeze `base`, then build `model`: an input of shape `IMAGE_SIZE + (3,)`, "
            "`augment`, `mobilenet_v2.preprocess_input`, `base(x, training=False)`, "
            "`GlobalAveragePooling2D`, `Dropout(0.2)` and `Dense(1)` with no "
            "activation (it outputs a logit). Name the model `alpaca_classifier`.",
            "utils.checks.frozen_base_model(model, base, augment)"),
        Exercise(
            "FINE_TUNE_AT = 120",
            "Make the base trainable again, then freeze its first `FINE_TUNE_AT` "
            "layers (`base.layers[:FINE_TUNE_AT]`).",
            "utils.checks.fine_tune_freeze(model, base, FINE_TUNE_AT)"),
    ],
}


def clear_solutions(source: str, where: str = "cell") -> str:
    """Replace each marked region of ``source`` with the placeholder lines.

    Example: ``clear_solutions("def f():\\n    ### BEGIN SOLUTION\\n    return 1\\n"
    "    ### END SOLUTION")`` gives ``"def f():\\n    # YOUR CODE HERE\\n"
    "    raise NotImplementedError()"``.
    """
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.split("\n"), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"{where}, line {number}: {BEGIN} inside a region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + text for text in GAP)
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
    """The code cells of a solution notebook that hold a marked region."""
    return [cell for cell in notebook.cells
            if cell.cell_type == "code" and BEGIN in cell.source]


def solution_region(source: str) -> str:
    """The lines between the markers of one cell, dedented (for the tests)."""
    lines = source.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == BEGIN)
    end = next(i for i, line in enumerate(lines) if line.strip() == END)
    indent = len(lines[start]) - len(lines[start].lstrip())
    return "\n".join(line[indent:] for line in lines[start + 1:end])


def _intro(name: str) -> str:
    return (
        "> **Exercise version.** Cells marked `# YOUR CODE HERE` are yours to "
        "write: replace `raise NotImplementedError()` with your code, run the cell, "
        "then run the check cell right below it. It prints `all checks passed` or "
        "tells you what is wrong and where. Run the notebook from the top, in "
        "order; the cells after a gap need your code. Stuck? The finished "
        f"notebook is [`notebooks/{name}`](../{name}).\n"
        ">\n"
        "> This file is generated from the solution notebook with "
        "`python -m utils.exercises`; edit the solution, not this file.")


def make_exercise(solution: Path) -> nbformat.NotebookNode:
    """Build the exercise version of one solution notebook."""
    notebook = nbformat.read(solution, as_version=4)
    tasks = TASKS.get(solution.name, [])
    marked = solution_cells(notebook)
    if len(marked) != len(tasks):
        raise ValueError(f"{solution}: {len(marked)} cells with {BEGIN}, but "
                         f"{len(tasks)} exercises are listed in utils/exercises.py")
    exercise = copy.deepcopy(notebook)
    cells = [nbformat.v4.new_markdown_cell(_intro(solution.name), id="exercise-intro")]
    number = 0
    for index, cell in enumerate(exercise.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if cell.cell_type == "markdown":  # one folder deeper: ../images -> ../../images
            cell.source = re.sub(r"\]\(\.\./", "](../../", cell.source)
        if cell.cell_type != "code" or BEGIN not in cell.source:
            cells.append(cell)
            continue
        task = tasks[number]
        number += 1
        if task.anchor not in cell.source:
            raise ValueError(f"{solution}, cell {index}: expected exercise {number} "
                             f"to contain {task.anchor!r}")
        cells.append(nbformat.v4.new_markdown_cell(
            f"**Your turn ({number}).** {task.task}", id=f"exercise-{number}-task"))
        cell.source = clear_solutions(cell.source, f"{solution}, cell {index}")
        cells.append(cell)
        cells.append(nbformat.v4.new_code_cell(
            f"import utils.checks\n\n{task.check}", id=f"exercise-{number}-check"))
    exercise.cells = cells
    return exercise


def render(solution: Path) -> str:
    """The exact text of the exercise notebook for ``solution``."""
    return nbformat.writes(make_exercise(solution)) + "\n"


def write_exercises(notebooks: Path = NOTEBOOKS, check: bool = False) -> list[Path]:
    """Bring ``notebooks/exercises/`` up to date with the solution notebooks in ``notebooks``.

    Writes the exercise version of every numbered solution notebook whose file
    is missing or differs, and returns the paths written; with ``check=True``
    writes nothing and returns the paths that are out of date. The course
    runner calls it after refreshing the solutions in place, since each
    exercise copies its solution's tested-with line.
    Example: ``write_exercises(check=True) == []`` when everything is current.
    """
    changed = []
    for solution in sorted(notebooks.glob("[0-9]*.ipynb")):  # not hidden scratch copies
        target = notebooks / "exercises" / solution.name
        text = render(solution)
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
