"""The diagrams in images/ are what images/draw_diagrams.py draws, and the notebooks find them."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def test_committed_diagrams_are_what_the_script_draws(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("draw_diagrams", ROOT / "images" / "draw_diagrams.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path / "images")
    (tmp_path / "images").mkdir()
    module.main()
    drawn = sorted(p.name for p in (tmp_path / "images").glob("*.png"))
    committed = sorted(p.name for p in (ROOT / "images").glob("*.png"))
    assert drawn == committed, "run `python images/draw_diagrams.py` and commit images/"
    for name in drawn:
        assert (tmp_path / "images" / name).read_bytes() == (ROOT / "images" / name).read_bytes(), \
            f"images/{name} is stale: run `python images/draw_diagrams.py`"


def test_image_links_in_the_notebooks_resolve_and_every_diagram_is_shown():
    shown = set()
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", cell.source):
                    assert (path.parent / target).resolve().is_file(), f"{path.name}: {target}"
                    shown.add(Path(target).name)
    unused = {p.name for p in (ROOT / "images").glob("*.png")} - shown
    assert not unused, f"diagrams no notebook shows: {sorted(unused)}"
