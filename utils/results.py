"""Each notebook's headline metrics in ``results/<notebook>.json``, and the seed-study summary.

A notebook ends with :func:`save_results`; the course runner prints a table of these files and
later notebooks read them with :func:`load_results`. ``COURSE_RESULTS_DIR`` redirects them.
"""

from __future__ import annotations

import json
import numbers
import statistics
import time
from pathlib import Path

from utils import machine
from utils.paths import REPO_ROOT, results_dir

SEED_STUDIES = REPO_ROOT / "results" / "seed_study"
"""Where ``scripts/seed_study.py`` writes ``seed_study-<cpu kind>.json``, one per machine kind."""


def save_results(notebook: str, metrics: dict[str, float],
                 thresholds: dict[str, float] | None = None,
                 seconds: dict[str, float] | None = None,
                 extra: dict | None = None) -> Path:
    """Write a notebook's metrics, thresholds, timings and environment to ``results/``.

    A metric passes when it is at least its threshold. Integers stay integers; other values
    are rounded to 4 decimals. Example: ``save_results("01_smiles_sequential",
    {"test_accuracy": 0.93}, {"test_accuracy": 0.90}, {"training": 41.2})``.
    """
    thresholds = thresholds or {}
    if unknown := set(thresholds) - set(metrics):
        raise ValueError(f"thresholds for unknown metrics: {sorted(unknown)}")
    rows = {name: {"value": int(v) if isinstance(v, numbers.Integral) else round(float(v), 4),
                   "threshold": thresholds.get(name),
                   "passed": None if name not in thresholds else bool(v >= thresholds[name])}
            for name, v in metrics.items()}
    record = {"notebook": notebook, "metrics": rows,
              "seconds": {k: round(float(v), 1) for k, v in (seconds or {}).items()},
              "environment": machine.environment(), "written": time.strftime("%Y-%m-%d %H:%M:%S")}
    if extra:
        record["extra"] = extra
    path = results_dir() / f"{notebook}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def load_results(notebook: str) -> dict:
    """Read ``results/<notebook>.json``, else the committed copy: ``load_results("01_smiles")``."""
    for folder in (results_dir(), REPO_ROOT / "results"):
        if (folder / f"{notebook}.json").is_file():
            return json.loads((folder / f"{notebook}.json").read_text())
    raise FileNotFoundError(f"No results for {notebook}: run notebooks/{notebook}.ipynb first.")


def seed_study(notebook: str, metrics: list[str], path: Path | None = None) -> str:
    """Summarise a notebook's metrics over the seeds of ``scripts/seed_study.py``.

    Reads ``path``, else every ``results/seed_study/seed_study-*.json`` but the ``-capped-`` ones
    (checks of another kind's numbers). Per study: a header naming device and precision, then
    ``name: mean ± standard deviation (min, max)`` per metric; or a line saying there is none.
    Example: ``print(seed_study("02_signs_functional", ["course_test_accuracy"]))``.
    """
    paths = [path] if path else sorted(p for p in SEED_STUDIES.glob("seed_study-*.json")
                                       if "-capped-" not in p.name)
    blocks = []
    for study_path in paths:
        study = json.loads(study_path.read_text()) if study_path.is_file() else {}
        runs = study.get("notebooks", {}).get(notebook)
        if not runs:
            continue
        lines = [f"Seed study, {len(runs['seeds'])} seeds ({', '.join(map(str, runs['seeds']))}) "
                 f"on {study['environment']['device']}, {runs['precision']}:"]
        for name in metrics:
            values = [run[name] for run in runs["metrics"]]
            std = statistics.stdev(values) if len(values) > 1 else 0.0
            lines.append(f"  {name}: {statistics.mean(values):.3f} ± {std:.3f} "
                         f"(min {min(values):.3f}, max {max(values):.3f})")
        blocks.append("\n".join(lines))
    if not blocks:
        return f"No seed study recorded for {notebook} yet: run `python scripts/seed_study.py`."
    return "\n".join(blocks)
