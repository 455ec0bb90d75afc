"""Run the whole course: every notebook in order, each in a fresh kernel.

Usage (``make course`` runs the first line after setting up)::

    python -m utils.course                      # refresh notebooks/ in place
    python -m utils.course --output-dir build/executed   # leave notebooks/ alone
    python -m utils.course --only 02 03         # a subset, by name prefix
    python -m utils.course --stamp-only         # only rewrite the tested-with lines

After a notebook ran, the runner writes its "tested with" line (second line
of the first markdown cell) from the ``results/<notebook>.json`` the run
wrote: Python, TensorFlow, Keras, device, precision and the wall time. When it
refreshes notebooks in place and they have an ``exercises/`` folder, it then
regenerates the exercise notebooks (``utils.exercises``), which copy that line,
so that ``make course`` followed by ``make test`` passes.

Prints the device, one line per finished notebook and, at the end, a results
table built from ``results/*.json`` that is also written to
``results/README.md``. Exits with 1 if a notebook fails (naming the notebook
and cell) or a metric misses its threshold.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def execute_notebook(path: Path, output: Path, timeout: int = 1800) -> float:
    """Execute one notebook top to bottom in a fresh kernel and save it to ``output``.

    The kernel starts in the notebook's folder. Raises ``RuntimeError`` naming
    the notebook and the failing cell. Returns the wall time in seconds.
    Example: ``execute_notebook(Path("notebooks/01_x.ipynb"), Path("notebooks/01_x.ipynb"))``.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    notebook = nbformat.read(path, as_version=4)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    start = time.perf_counter()
    last = {"time": start}

    def on_cell_executed(cell, cell_index, execute_reply, **_):
        now = time.perf_counter()
        if now - last["time"] > 20:  # say something for long cells only
            number = code_cells.index(cell) + 1 if cell in code_cells else cell_index
            print(f"    cell {number}/{len(code_cells)} done, "
                  f"elapsed {_clock(now - start)}", flush=True)
        last["time"] = now

    # --log-level=ERROR: keep the kernel's start-up notices (e.g. about its local
    # TCP sockets) out of the progress lines; errors still show.
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--log-level=ERROR"], record_timing=False,
                            on_cell_executed=on_cell_executed)
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as err:
        failed = next((i + 1 for i, c in enumerate(code_cells)
                       if any(o.get("output_type") == "error" for o in c.get("outputs", []))),
                      None)
        where = f"code cell {failed}" if failed else "a cell"
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()  # drop terminal colours
        summary = text.splitlines()[-1] if text else type(err).__name__
        raise RuntimeError(f"{path.name} failed in {where}: {summary}") from None
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, output)
    return time.perf_counter() - start


TESTED_WITH_PREFIX = "*Tested with "


def _duration(seconds: float) -> str:
    """``'2 min 05 s'`` or ``'48 s'``."""
    whole = int(round(seconds))
    return f"{whole // 60} min {whole % 60:02d} s" if whole >= 60 else f"{whole} s"


def tested_with_line(record: dict, seconds: float | None = None) -> str:
    """The notebook's "tested with" line, built from its results record.

    Reads only ``environment`` (python, tensorflow, keras, device, precision;
    other keys are ignored) and, when ``seconds`` is not given, the
    notebook's own ``seconds["notebook"]``; the time is left out if neither
    is known. Example: ``tested_with_line(json.loads(Path("results/01_x.json")
    .read_text()), 125)`` -> ``'*Tested with Python 3.11.7, ... 2 min 05 s (last
    run by `python -m utils.course`).*'``.
    """
    env = record.get("environment", {})
    if seconds is None:
        seconds = record.get("seconds", {}).get("notebook")
    shown = {key: env.get(key, "unknown") for key in
             ("python", "tensorflow", "keras", "device", "precision")}
    took = "" if seconds is None else f", {_duration(float(seconds))}"
    return (f"{TESTED_WITH_PREFIX}Python {shown['python']}, TensorFlow {shown['tensorflow']}, "
            f"Keras {shown['keras']} on {shown['device']}, precision {shown['precision']}"
            f"{took} (last run by `python -m utils.course`).*")


def stamp_tested_with(path: Path, line: str) -> bool:
    """Write ``line`` into the notebook's first markdown cell; True if it changed.

    An existing tested-with line is replaced; otherwise the line goes right
    under the title (the cell's first line). Outputs and execution counts
    are left alone. Example: ``stamp_tested_with(Path("notebooks/01_x.ipynb"), line)``.
    """
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    cell = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
    if cell is None:
        raise ValueError(f"{path}: no markdown cell to hold the tested-with line")
    lines = cell.source.split("\n")
    old = [i for i, text in enumerate(lines) if text.startswith(TESTED_WITH_PREFIX)]
    if old:
        new = lines[:old[0]] + [line] + lines[old[0] + 1:]
    else:
        new = lines[:1] + ["", line] + lines[1:]
    if new == lines:
        return False
    cell.source = "\n".join(new)
    nbformat.write(notebook, path)
    return True


def stamp_from_results(path: Path, results: Path, seconds: float | None = None) -> bool:
    """Stamp ``path`` from ``results/<its stem>.json``; False if there is no results file.

    Example: ``stamp_from_results(Path("notebooks/01_x.ipynb"), Path("results"))``.
    """
    record_path = results / f"{path.stem}.json"
    if not record_path.is_file():
        return False
    line = tested_with_line(json.loads(record_path.read_text()), seconds)
    stamp_tested_with(path, line)
    return True


def format_value(value) -> str:
    """Show integers with thousands separators, fractions with 4 decimals."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"


def results_table(names: list[str], results_dir: Path, since: float | None = None,
                  wall: dict[str, float] | None = None) -> tuple[str, list[str]]:
    """Build the markdown results table for ``names``; return it and the problems found.

    A problem is a missing results file, one older than ``since`` (not written
    by this run), or a metric below its threshold. ``seconds`` is the
    notebook's wall time from ``wall`` if given, else the timings it recorded.
    Example: ``table, problems = results_table(["01_smiles_sequential"], Path("results"))``.
    """
    rows = ["| notebook | metric | value | threshold | pass | seconds |",
            "|---|---|---|---|---|---|"]
    problems = []
    for name in names:
        path = results_dir / f"{name}.json"
        if not path.is_file():
            problems.append(f"{name}: wrote no results/{name}.json")
            rows.append(f"| {name} | (no results) | | | FAIL | |")
            continue
        if since is not None and not written_since(path, since):
            problems.append(f"{name}: results/{name}.json was not written by this run")
        record = json.loads(path.read_text())
        total = (wall or {}).get(name, sum(record.get("seconds", {}).values()))
        for metric, info in record["metrics"].items():
            threshold = info.get("threshold")
            passed = info.get("passed")
            mark = "" if passed is None else ("pass" if passed else "FAIL")
            if passed is False:
                problems.append(f"{name}: {metric} = {info['value']} is below {threshold}")
            rows.append(f"| {name} | {metric} | {format_value(info['value'])} | "
                        f"{'' if threshold is None else threshold} | {mark} | {total:.0f} |")
    return "\n".join(rows), problems


def written_since(record_path: Path, since: float) -> bool:
    """True if the results file exists and was written at or after ``since`` (this run)."""
    return record_path.is_file() and record_path.stat().st_mtime >= since


def recorded_precision(record_path: Path, since: float) -> str | None:
    """The precision policy a results file written since ``since`` records, else None."""
    if not written_since(record_path, since):
        return None
    return json.loads(record_path.read_text()).get("environment", {}).get("precision")


def refresh_exercises(notebooks: Path, output_dir: Path | None) -> list[Path]:
    """Regenerate ``notebooks/exercises/`` after an in-place run; return the files written.

    Does nothing when the run wrote elsewhere (``output_dir``) or the folder has
    no ``exercises/`` subfolder.
    """
    if output_dir is not None or not (notebooks / "exercises").is_dir():
        return []
    from utils.exercises import write_exercises

    written = write_exercises(notebooks)
    for path in written:
        print(f"exercise notebook regenerated: {path.parent.name}/{path.name}", flush=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", type=Path, default=REPO_ROOT / "notebooks",
                        help="folder of numbered notebooks (default: notebooks/)")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="write executed notebooks here instead of refreshing them in place")
    parser.add_argument("--only", nargs="*", default=None, help="name prefixes to run, e.g. 01 03")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--stamp-only", action="store_true",
                        help="run nothing: rewrite each notebook's tested-with line from "
                             "its results/*.json")
    args = parser.parse_args(argv)

    from utils.repro import device_name, fast_precision
    from utils.results import results_dir

    paths = sorted(args.notebooks.glob("[0-9]*.ipynb"))
    if args.only:
        paths = [p for p in paths if p.name.startswith(tuple(args.only))]
    if not paths:
        print(f"error: no notebooks to run in {args.notebooks}", file=sys.stderr)
        return 1
    if args.stamp_only:
        for path in paths:
            target = (args.output_dir / path.name) if args.output_dir else path
            stamped = target.is_file() and stamp_from_results(target, results_dir())
            print(f"{target.name}: {'stamped' if stamped else 'no results file, left alone'}")
        refresh_exercises(args.notebooks, args.output_dir)
        return 0
    print(f"Running {len(paths)} notebook(s) on {device_name()}; fastest precision "
          f"policy here: {fast_precision()} (each notebook reports the one it used)",
          flush=True)
    run_start = time.time()
    failures, timings = [], {}
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {path.name} ...", flush=True)
        output = (args.output_dir / path.name) if args.output_dir else path
        try:
            timings[path.stem] = execute_notebook(path, output, args.timeout)
            record = results_dir() / f"{path.stem}.json"
            precision = recorded_precision(record, run_start)
            if written_since(record, run_start):  # never stamp from an old run's file
                stamp_from_results(output, results_dir(), timings[path.stem])
            print(f"[{i}/{len(paths)}] {path.name} finished in {_clock(timings[path.stem])}"
                  f"{f', precision {precision}' if precision else ''} "
                  f"(course elapsed {_clock(time.time() - run_start)})", flush=True)
        except RuntimeError as err:
            failures.append(str(err))
            print(f"[{i}/{len(paths)}] FAILED: {err}", flush=True)

    names = [p.stem for p in paths]
    table, problems = results_table(names, results_dir(), since=run_start, wall=timings)
    policies = {recorded_precision(results_dir() / f"{name}.json", run_start) for name in names}
    policies.discard(None)
    total = time.time() - run_start
    wall = "\n".join(f"- {name}: {_clock(s)}" for name, s in timings.items())
    report = (f"# Results of the last course run\n\nDevice: {device_name()}; precision "
              f"policies used: {', '.join(sorted(policies)) or 'n/a'}.\n"
              f"Written by `python -m utils.course` on {time.strftime('%Y-%m-%d %H:%M')}.\n\n"
              f"{table}\n\nWall time of each notebook (fresh kernel, top to bottom), "
              f"min:s:\n\n{wall}\n- whole run: {_clock(total)}\n")
    print("\n" + table + "\n")
    if not args.only:
        results_dir().mkdir(parents=True, exist_ok=True)
        (results_dir() / "README.md").write_text(report)
    refresh_exercises(args.notebooks, args.output_dir)
    for problem in failures + problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"{'FAILED' if failures or problems else 'OK'}: {len(paths)} notebook(s) "
          f"in {_clock(total)}", flush=True)
    return 1 if failures or problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
