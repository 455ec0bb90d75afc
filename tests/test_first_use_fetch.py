"""Each notebook fetches the data it uses: a learner can open any of them first.

For every notebook, the code cells from the top down to the first cell that
loads data, plus any later cell that loads more data (``LATER_LOADS``), are
executed in a fresh kernel whose data directory and Keras cache are empty
folders, with ``COURSE_DATA_MIRROR`` standing in for the internet. The cells
must run without error and leave the notebook's dataset files, verified, in
the empty folder. Without a mirror (a user online with no copy of the data)
the test is skipped: it would download 150 MB.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from utils import data

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
LOADS_DATA = ("utils.load_", "utils.ensure_dataset(")
# The data each notebook needs: a dataset name (all its files) or one file's path.
NEEDS = {
    "01_smiles_sequential": ["smiles", "happy_house/test_happy.h5"],
    "02_signs_functional": ["signs"],
    "03_resnet50_signs": ["signs"],
    "04_alpaca_transfer_learning": ["alpaca", "mobilenet_v2"],
}

# A later cell that loads more data, found by a string only it contains. It runs
# straight after the first loading cell, so it may use only what setup defines.
LATER_LOADS = {
    "01_smiles_sequential": 'utils.load_course_h5("happy_house", split="test")',
}


def course_mirror() -> str | None:
    """The mirror CI uses: ``COURSE_DATA_MIRROR``, else ``../shared/datasets``."""
    if os.environ.get("COURSE_DATA_MIRROR"):
        return os.environ["COURSE_DATA_MIRROR"]
    shared = ROOT.parent / "shared" / "datasets"
    return str(shared) if shared.is_dir() else None


def cells_until_first_load(path: Path) -> nbformat.NotebookNode:
    """The notebook cut after its first code cell that loads data, plus its later load."""
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and any(key in cell.source for key in LOADS_DATA):
            key = LATER_LOADS.get(path.stem)
            later = [c for c in notebook.cells[index + 1:]
                     if key and c.cell_type == "code" and key in c.source]
            assert len(later) == (1 if key else 0), f"{path.name}: not one cell with {key}"
            notebook.cells = notebook.cells[:index + 1] + later
            return notebook
    raise AssertionError(f"{path.name} has no cell that loads data ({LOADS_DATA})")


def test_every_notebook_is_covered():
    assert sorted(NEEDS) == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_notebook_fetches_its_data_on_first_use(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    mirror = course_mirror()
    if mirror is None:
        pytest.skip("no data mirror (COURSE_DATA_MIRROR or ../shared/datasets)")
    empty = tmp_path / "data"
    empty.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(empty))
    monkeypatch.setenv("KERAS_HOME", str(empty / "keras"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", mirror)
    notebook = cells_until_first_load(path)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()

    for name in NEEDS[path.stem]:
        if "/" in name:  # one file of a dataset
            dataset = name.split("/")[0]
            entry = next(e for e in data.dataset_files(dataset) if e.path == name)
            assert (empty / name).is_file(), f"{path.name}: {name} not fetched"
            data.verify_file(empty / name, entry)
            continue
        entries = data.dataset_files(name)
        present = [e for e in entries if (empty / e.path).is_file()]
        if name == "mobilenet_v2":  # only the Keras weight files are placed
            assert list((empty / "keras" / "models").glob("mobilenet_v2_*.h5")), \
                f"{path.name}: no MobileNetV2 weights in the empty Keras cache"
            continue
        assert len(present) == len(entries), \
            f"{path.name}: {len(present)} of {len(entries)} {name} files fetched"
