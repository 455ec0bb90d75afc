"""Is my result normal? A trained metric against the spread the seed study measured.

``scripts/seed_study.py`` re-runs each notebook with other seeds and writes
``results/seed_study/seed_study-<kind>.json``, one file per kind of machine. After
a training run a notebook calls :func:`result_is_normal`, which prints one line:
the value is within what those runs saw, below it (with the likely causes the
notebook's checks module lists in its ``CAUSES``), above it, or there is no study
to compare with yet.

Example, in notebook 1 after the test evaluation::

    utils.checks.result_is_normal("01_smiles_sequential", "test_accuracy", test_acc)
"""

from __future__ import annotations

import importlib
import json
import statistics
from pathlib import Path

from utils import machine
from utils.results import SEED_STUDIES

MODULES = {"01_smiles_sequential": "smiles", "02_signs_functional": "signs",
           "03_resnet50_signs": "resnet", "04_alpaca_transfer_learning": "alpaca"}
"""Each notebook's checks module, whose ``CAUSES`` name the likely causes of a low metric."""

MIN_ALLOWANCE = 0.02
"""Never judge closer than this: three seeds cannot show the whole spread."""


def machine_kind() -> str:
    """This machine's kind as the seed study names its files: ``gpu``, ``avx512-bf16``, ``avx2``."""
    return "gpu" if machine.device_name().startswith("GPU") else machine.cpu_kind()


def study_values(notebook: str, metric: str, kind: str,
                 studies: Path = SEED_STUDIES) -> tuple[list[float], str]:
    """The metric's values over the seeds, and where from: this kind's study, else all kinds'.

    Capped studies (``-capped-``: another kind's numbers imitated) are left out. Returns
    ``([], "")`` when no study records the metric. Example:
    ``study_values("02_signs_functional", "course_val_accuracy", "avx2")``.
    """
    found: dict[str, list[float]] = {}
    for path in sorted(Path(studies).glob("seed_study-*.json")):
        if "-capped-" in path.name:
            continue
        runs = json.loads(path.read_text()).get("notebooks", {}).get(notebook, {})
        values = [run[metric] for run in runs.get("metrics", []) if metric in run]
        if values:
            found[path.stem.removeprefix("seed_study-")] = values
    if kind in found:
        return found[kind], f"this machine's kind, {kind}"
    everything = [v for values in found.values() for v in values]
    return everything, ("all machine kinds: none on " + kind) if everything else ""


def judge(value: float, values: list[float]) -> tuple[str, float, float, float]:
    """``("within"|"below"|"above", low, high, allowance)`` of ``value`` against ``values``.

    The range is the study's lowest to highest value, widened on each side by twice the
    standard deviation or :data:`MIN_ALLOWANCE`, whichever is larger.
    """
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    allowance = max(2 * spread, MIN_ALLOWANCE)
    low, high = min(values), max(values)
    verdict = ("below" if value < low - allowance else "above" if value > high + allowance
               else "within")
    return verdict, low, high, allowance


def result_is_normal(notebook: str, metric: str, value: float, kind: str | None = None,
                     studies: Path = SEED_STUDIES) -> None:
    """Print one line: is ``value`` of ``metric`` what the seed study saw?

    ``kind`` defaults to this machine's (:func:`machine_kind`). Example:
    ``result_is_normal("04_alpaca_transfer_learning", "val_accuracy_fine_tuned", 0.95)``.
    """
    kind = kind or machine_kind()
    values, where = study_values(notebook, metric, kind, studies)
    head = f"Is this result normal? {metric} = {float(value):.3f}"
    if not values:
        line = (f"{head}: no seed study records it yet, so there is nothing to compare with "
                f"(python scripts/seed_study.py --notebooks {notebook} makes one).")
    else:
        verdict, low, high, allowance = judge(float(value), values)
        seen = (f"{len(values)} seeded runs on {where}: {low:.3f} to {high:.3f}, "
                f"give or take {allowance:.3f}")
        if verdict == "within":
            line = f"{head}: yes, within what the seed study saw ({seen})."
        elif verdict == "below":
            name = MODULES.get(notebook)
            known = getattr(importlib.import_module(f"utils.checks.{name}"), "CAUSES", {}) \
                if name else {}
            causes = known.get(metric, "a change to the recipe or to the data")
            line = f"{head}: below what the seed study saw ({seen}). Likely causes: {causes}."
        else:
            line = (f"{head}: above what the seed study saw ({seen}): a lucky run, or a changed "
                    f"recipe; if you changed nothing, check that no test photo reached training.")
    print(line)
