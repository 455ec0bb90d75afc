"""Each notebook's headline metrics, written to ``results/<notebook>.json``.

A notebook ends with one :func:`save_results` call. The course runner reads
these files to print its results table, and later notebooks read earlier
ones (notebook 3 compares itself with notebook 2) with :func:`load_results`.

``COURSE_RESULTS_DIR`` redirects the files (the test suite uses it, so that
running the tests does not touch the committed results).
"""

from __future__ import annotations

import json
import numbers
import os
import statistics
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def results_dir() -> Path:
    """Return the folder results go to (``COURSE_RESULTS_DIR`` or ``results/``).

    Example: ``results_dir() / "02_signs_functional.json"``.
    """
    return Path(os.environ.get("COURSE_RESULTS_DIR") or REPO_ROOT / "results")


def save_results(notebook: str, metrics: dict[str, float],
                 thresholds: dict[str, float] | None = None,
                 seconds: dict[str, float] | None = None,
                 extra: dict | None = None) -> Path:
    """Write a notebook's metrics, thresholds and timings to ``results/<notebook>.json``.

    A metric passes when its value is at least its threshold. Integer metrics
    (counts, parameters) stay integers; other values are rounded to 4 decimals.
    The library versions, device and precision are recorded too.
    Example: ``save_results("01_smiles_sequential", {"test_accuracy": 0.93},
    {"test_accuracy": 0.90}, {"training": 41.2})``.
    """
    from utils.repro import environment

    thresholds = thresholds or {}
    unknown = set(thresholds) - set(metrics)
    if unknown:
        raise ValueError(f"thresholds for unknown metrics: {sorted(unknown)}")
    record = {
        "notebook": notebook,
        "metrics": {
            name: {
                "value": (int(value) if isinstance(value, numbers.Integral)
                          else round(float(value), 4)),
                "threshold": thresholds.get(name),
                "passed": None if name not in thresholds else bool(value >= thresholds[name]),
            }
            for name, value in metrics.items()
        },
        "seconds": {k: round(float(v), 1) for k, v in (seconds or {}).items()},
        "environment": environment(),
        "written": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if extra:
        record["extra"] = extra
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def load_results(notebook: str) -> dict:
    """Read ``results/<notebook>.json``, falling back to the committed copy.

    Example: ``load_results("02_signs_functional")["metrics"]["test_accuracy"]["value"]``.
    """
    for folder in (results_dir(), REPO_ROOT / "results"):
        path = folder / f"{notebook}.json"
        if path.is_file():
            return json.loads(path.read_text())
    raise FileNotFoundError(
        f"No results for {notebook}: run notebooks/{notebook}.ipynb first."
    )


SEED_STUDIES = REPO_ROOT / "benchmarks"
"""Where ``benchmarks/seed_study.py`` writes ``seed_study-<cpu kind>.json``, one file per machine kind."""


def seed_study(notebook: str, metrics: list[str], path: Path | None = None) -> str:
    """Summarise a notebook's metrics over the seeds of ``benchmarks/seed_study.py``.

    Reads ``path`` if given, else every ``benchmarks/seed_study-*.json`` (one
    per CPU kind or device the study ran on), except the ``-capped-`` ones: a
    run with ``ONEDNN_MAX_CPU_ISA`` set checks another kind's numbers and is
    not a kind of its own (``benchmarks/RESULTS.md``). For each study that
    covers the notebook it returns a header naming the device and precision,
    then one line per metric, ``name: mean ± standard deviation (min, max)``;
    or one line saying that no study has been recorded for this notebook.
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
            mean = statistics.mean(values)
            std = statistics.stdev(values) if len(values) > 1 else 0.0
            lines.append(f"  {name}: {mean:.3f} ± {std:.3f} (min {min(values):.3f}, "
                         f"max {max(values):.3f})")
        blocks.append("\n".join(lines))
    if not blocks:
        return f"No seed study recorded for {notebook} yet: run `python benchmarks/seed_study.py`."
    return "\n".join(blocks)
