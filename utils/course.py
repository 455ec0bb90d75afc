"""The course runner (``make course``): each notebook in order in a fresh kernel, its tested-with
line stamped, the exercises regenerated, a results table (``results/README.md``); exit 1 if a
notebook or metric failed. A full in-place run writes ``results/course_run.json`` for the doctor."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from utils.paths import REPO_ROOT, results_dir

TESTED_WITH_PREFIX = "*Tested with "
COURSE_RUN = "course_run.json"  # the reference run (see the module docstring)


def _clock(seconds: float, words: bool = False) -> str:
    """``'2:05.0'``; with ``words`` ``'2 min 05 s'``, or ``'48 s'`` under a minute."""
    if not words:
        return f"{int(seconds // 60)}:{seconds % 60:04.1f}"
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60:02d} s" if whole >= 60 else f"{whole} s"


def execute_notebook(path: Path, output: Path, timeout: int = 1800) -> float:
    """Run a notebook in a fresh kernel in its folder, save it to ``output``; the wall time in s.
    Raises ``RuntimeError`` naming the notebook and the failing cell."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    notebook = nbformat.read(path, as_version=4)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    start = time.perf_counter()
    last = [start]

    def on_cell(cell, cell_index, execute_reply, **_):
        now = time.perf_counter()
        if now - last[0] > 20:  # say something for long cells only
            n = code_cells.index(cell) + 1 if cell in code_cells else cell_index
            print(f"    cell {n}/{len(code_cells)} done, elapsed {_clock(now - start)}", flush=True)
        last[0] = now

    try:  # --log-level=ERROR: no kernel start-up notices among the progress lines
        NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(path.parent)}},
                       extra_arguments=["--log-level=ERROR"], on_cell_executed=on_cell).execute()
    except (CellExecutionError, CellTimeoutError) as err:
        failed = next((f"code cell {i}" for i, c in enumerate(code_cells, 1) if any(
            o.get("output_type") == "error" for o in c.get("outputs", []))), "a cell")
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()  # drop terminal colours
        summary = text.splitlines()[-1] if text else type(err).__name__
        raise RuntimeError(f"{path.name} failed in {failed}: {summary}") from None
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, output)
    return time.perf_counter() - start


def tested_with_line(record: dict, seconds: float | None = None) -> str:
    """The tested-with line from a results record (time: ``seconds``, else the record's own, else
    none). Example: ``tested_with_line(record, 125)`` -> ``'*Tested with Python 3.11.7, ...'``."""
    env = record.get("environment", {})
    seconds = record.get("seconds", {}).get("notebook") if seconds is None else seconds
    python, tensorflow, keras, device, precision = (env.get(key, "unknown") for key in (
        "python", "tensorflow", "keras", "device", "precision"))
    took = "" if seconds is None else f", {_clock(float(seconds), words=True)}"
    return (f"{TESTED_WITH_PREFIX}Python {python}, TensorFlow {tensorflow}, Keras {keras} on "
            f"{device}, precision {precision}{took} (last run by `python -m utils.course`).*")


def stamp_tested_with(path: Path, line: str) -> bool:
    """Put ``line`` in the notebook's first markdown cell (in place of the old one, else under the
    title; outputs untouched); True if it changed. Example: ``stamp_tested_with(path, line)``."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    cell = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
    if cell is None:
        raise ValueError(f"{path}: no markdown cell to hold the tested-with line")
    lines = cell.source.split("\n")
    i = next((i for i, text in enumerate(lines) if text.startswith(TESTED_WITH_PREFIX)), None)
    new = [lines[0], "", line, *lines[1:]] if i is None else [*lines[:i], line, *lines[i + 1:]]
    if changed := new != lines:
        cell.source = "\n".join(new)
        nbformat.write(notebook, path)
    return changed


def format_value(value) -> str:
    """Show integers with thousands separators, fractions with 4 decimals."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else (
        f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}")


def fresh_record(path: Path, since: float) -> dict | None:
    """The results record at ``path`` if it was written at or after ``since`` (this run)."""
    fresh = path.is_file() and path.stat().st_mtime >= since
    return json.loads(path.read_text()) if fresh else None


def results_table(names: list[str], folder: Path, since: float | None = None,
                  wall: dict[str, float] | None = None) -> tuple[str, list[str]]:
    """The markdown results table for ``names`` and its problems: a missing results file, one
    older than ``since``, a metric below its threshold. ``wall``: seconds per notebook."""
    rows = ["| notebook | metric | value | threshold | pass | seconds |", "|---" * 6 + "|"]
    problems = []
    for name in names:
        path = folder / f"{name}.json"
        if not path.is_file():
            problems.append(f"{name}: wrote no results/{name}.json")
            rows.append(f"| {name} | (no results) | | | FAIL | |")
            continue
        if since is not None and fresh_record(path, since) is None:
            problems.append(f"{name}: results/{name}.json was not written by this run")
        record = json.loads(path.read_text())
        total = (wall or {}).get(name, sum(record.get("seconds", {}).values()))
        for metric, info in record["metrics"].items():
            threshold, passed = info.get("threshold"), info.get("passed")
            if passed is False:
                problems.append(f"{name}: {metric} = {info['value']} is below {threshold}")
            mark = "" if passed is None else ("pass" if passed else "FAIL")
            rows.append(f"| {name} | {metric} | {format_value(info['value'])} | "
                        f"{'' if threshold is None else threshold} | {mark} | {total:.0f} |")
    return "\n".join(rows), problems


def write_course_run(folder: Path, probe: tuple[float, float], seconds: dict[str, float]) -> Path:
    """Write ``course_run.json``: the probe's [slowest, fastest] images/s, each notebook's wall
    time and the environment. Example: ``write_course_run(results_dir(), (310.0, 330.0), {})``."""
    from utils.machine import environment

    record = {"probe": [round(v, 1) for v in probe],
              "seconds": {name: round(s, 1) for name, s in seconds.items()},
              "environment": environment(), "written": time.strftime("%Y-%m-%d %H:%M")}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / COURSE_RUN).write_text(json.dumps(record, indent=2) + "\n")
    return folder / COURSE_RUN


def refresh_exercises(notebooks: Path, output_dir: Path | None) -> list[Path]:
    """Regenerate ``notebooks/exercises/`` after an in-place run (no ``output_dir``), if any."""
    if output_dir is not None or not (notebooks / "exercises").is_dir():
        return []
    from utils.exercises import write_exercises

    for path in (written := write_exercises(notebooks)):
        print(f"exercise notebook regenerated: {path.parent.name}/{path.name}", flush=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.course", description=__doc__)
    add = parser.add_argument
    add("--notebooks", type=Path, default=REPO_ROOT / "notebooks", help="default: notebooks/")
    add("--output-dir", type=Path, help="write executed notebooks here, not in place")
    add("--only", nargs="*", help="name prefixes to run, e.g. 02 03")
    add("--timeout", type=int, default=1800, help="seconds per cell")
    add("--stamp-only", action="store_true", help="run nothing; stamp from results/*.json")
    args = parser.parse_args(argv)
    from utils.machine import device_name, fast_precision, speed_probe

    paths = [p for p in sorted(args.notebooks.glob("[0-9]*.ipynb"))
             if p.name.startswith(tuple(args.only or [""]))]
    outputs = {p: args.output_dir / p.name if args.output_dir else p for p in paths}
    if not paths:
        print(f"error: no notebooks to run in {args.notebooks}", file=sys.stderr)
        return 1
    if args.stamp_only:
        for target in outputs.values():
            record = fresh_record(results_dir() / f"{target.stem}.json", since=0)
            if stamped := target.is_file() and record is not None:
                stamp_tested_with(target, tested_with_line(record))
            print(f"{target.name}: {'stamped' if stamped else 'no results file, left alone'}")
        refresh_exercises(args.notebooks, args.output_dir)
        return 0
    print(f"Running {len(paths)} notebook(s) on {device_name()}; fastest precision policy here: "
          f"{fast_precision()} (each notebook reports the one it used)", flush=True)
    probe = speed_probe() if not args.only and args.output_dir is None else None  # all, in place
    if probe:
        print(f"speed probe: {probe[0]:.0f}-{probe[1]:.0f} images/s", flush=True)
    run_start, failures, timings = time.time(), [], {}
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {path.name} ...", flush=True)
        try:
            timings[path.stem] = execute_notebook(path, outputs[path], args.timeout)
            record = fresh_record(results_dir() / f"{path.stem}.json", run_start)
            if record is not None:  # never stamp from an old run's file
                stamp_tested_with(outputs[path], tested_with_line(record, timings[path.stem]))
            precision = (record or {}).get("environment", {}).get("precision")
            print(f"[{i}/{len(paths)}] {path.name} finished in {_clock(timings[path.stem])}"
                  f"{f', precision {precision}' if precision else ''} "
                  f"(course elapsed {_clock(time.time() - run_start)})", flush=True)
        except RuntimeError as err:
            failures.append(str(err))
            print(f"[{i}/{len(paths)}] FAILED: {err}", flush=True)

    table, problems = results_table([p.stem for p in paths], results_dir(), run_start, timings)
    records = [fresh_record(results_dir() / f"{p.stem}.json", run_start) or {} for p in paths]
    policies = {r.get("environment", {}).get("precision") for r in records} - {None}
    total = time.time() - run_start
    wall = "\n".join(f"- {name}: {_clock(s)}" for name, s in timings.items())
    print("\n" + table + "\n")
    if not args.only:
        results_dir().mkdir(parents=True, exist_ok=True)
        (results_dir() / "README.md").write_text(
            f"# Results of the last course run\n\nDevice: {device_name()}; precision policies "
            f"used: {', '.join(sorted(policies)) or 'n/a'}.\nWritten by `python -m utils.course` "
            f"on {time.strftime('%Y-%m-%d %H:%M')}.\n\n{table}\n\nWall time of each notebook "
            f"(fresh kernel, top to bottom), min:s:\n\n{wall}\n- whole run: {_clock(total)}\n")
    if probe:
        write_course_run(results_dir(), probe, timings)
    refresh_exercises(args.notebooks, args.output_dir)
    bad = failures + problems
    sys.stderr.write("".join(f"error: {p}\n" for p in bad))
    print(f"{'FAILED' if bad else 'OK'}: {len(paths)} notebook(s) in {_clock(total)}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
