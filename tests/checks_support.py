"""Shared by the ``tests/test_checks_*.py`` files: solution code and verdicts.

The solution code is read from the solution notebooks' marked cells, so the
tests follow the notebooks. A mistake is made by editing that code (each edit
must apply, so a changed notebook fails loudly here instead of testing nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import nbformat
import numpy as np
from keras import layers
from keras.applications import mobilenet_v2

from utils import checks
from utils.exercises import BEGIN, END, clear_solutions

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NB1, NB2 = "01_smiles_sequential.ipynb", "02_signs_functional.ipynb"
NB3, NB4 = "03_resnet50_signs.ipynb", "04_alpaca_transfer_learning.ipynb"


def solution_cell(notebook: str, anchor: str) -> str:
    """The source of the marked code cell of ``notebook`` that contains ``anchor``."""
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    found = [c.source for c in nb.cells
             if c.cell_type == "code" and BEGIN in c.source and anchor in c.source]
    assert len(found) == 1, f"{notebook}: {len(found)} marked cells with {anchor!r}"
    return found[0]


def edit(source: str, *changes: tuple[str, str]) -> str:
    """Apply text replacements that must each match exactly once."""
    for old, new in changes:
        assert source.count(old) == 1, f"edit does not apply: {old!r}"
        source = source.replace(old, new)
    return source


def blank_region(region: str) -> str:
    """A marked region as the exercise notebook shows it."""
    return clear_solutions(f"{BEGIN}\n{region}\n{END}")


def run_code(source: str, **names) -> dict:
    """Execute ``source`` with the notebooks' imports and ``names``; return its namespace."""
    namespace = {"keras": keras, "layers": layers, "np": np,
                 "mobilenet_v2": mobilenet_v2, **names}
    exec(compile(source, "<solution>", "exec"), namespace)
    return namespace


def verdict(capsys, check: Callable[..., None], *args) -> str:
    """Run ``check`` and return the one line it printed (no traceback)."""
    check(*args)
    out = capsys.readouterr().out.strip()
    assert "\n" not in out, f"a check prints one line, got: {out}"
    assert "Traceback" not in out
    return out


def assert_fails(out: str, *phrases: str) -> None:
    """Assert that a verdict is a failure that names every one of ``phrases``."""
    assert checks.PASSED not in out, out
    for phrase in phrases:
        assert phrase in out, f"{phrase!r} missing from: {out}"


# The solutions that tests of more than one module build on.

IDENTITY = solution_cell(NB3, "def identity_block")
SMILE = solution_cell(NB1, "def smile_model")
SIGNS = solution_cell(NB2, "def build_course_model")


def identity_fn(*changes: tuple[str, str]):
    """Notebook 3's ``identity_block`` with ``changes`` applied."""
    return run_code(edit(IDENTITY, *changes))["identity_block"]


def smile_fn(*changes: tuple[str, str]):
    """Notebook 1's ``smile_model`` with ``changes`` applied."""
    return run_code(edit(SMILE, *changes))["smile_model"]


def signs_fn(*changes: tuple[str, str]):
    """Notebook 2's ``build_course_model`` (6 classes) with ``changes`` applied."""
    return run_code(edit(SIGNS, *changes), num_classes=6)["build_course_model"]
