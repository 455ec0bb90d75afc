"""Test-session settings shared by the unit tests and the nbval notebook runs.

- Figures are drawn off-screen (``MPLBACKEND=Agg``) for the unit tests.
- The static notebook test (``tests/test_notebooks_static.py``) runs before
  everything else, so a style problem shows in seconds, before nbval spends
  minutes re-executing the notebooks.
- Notebooks re-executed by nbval write their ``results/*.json`` to
  ``build/test-results`` instead of the committed ``results/`` folder, so
  running the tests never changes tracked files. Set ``COURSE_RESULTS_DIR``
  yourself to choose another folder.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("COURSE_RESULTS_DIR", str(ROOT / "build" / "test-results"))
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(session, config, items) -> None:
    """Run the static notebook test first; keep the order of everything else."""
    items.sort(key=lambda item: item.nodeid.split("::")[0] != "tests/test_notebooks_static.py")
