"""Seed study: do the notebooks' comparisons hold when only the random seed changes?

Notebooks 1, 2 and 4 compare things (Happy House photos as they are vs made
grey vs cropped; course recipe vs learning-rate schedule; frozen head vs
fine-tuning). One run can favour either side by luck, so this
script re-executes each notebook top to bottom in a fresh kernel with the
``SEED = <n>`` line of its setup cell replaced, collects the metrics the
notebook saves with ``utils.save_results``, and writes them, with the CPU
model and flags, to ``results/seed_study/seed_study-<cpu kind>.json`` (``avx2``,
``avx512-bf16``, or ``gpu``: one file per kind of machine, so that a run on one kind
never replaces another's; with ``ONEDNN_MAX_CPU_ISA`` set, the kind says so, e.g.
``avx512-bf16-capped-avx2``). The notebooks print the summary of every file next
to their claims with ``utils.seed_study(...)``.

Runs write their results and models to a scratch folder, never to
``results/`` or ``models/``. About 20 minutes on a 2-core AVX2 CPU for the
default 3 seeds of notebooks 1, 2 and 4::

    python scripts/seed_study.py                      # seeds 1 2 3, notebooks 1, 2 and 4
    python scripts/seed_study.py --seeds 1 2 3 4 5 --notebooks 02_signs_functional
    ONEDNN_MAX_CPU_ISA=AVX2 python scripts/seed_study.py    # an AVX2 CPU's numbers, here
    python scripts/seed_study.py --compare results/seed_study/seed_study-avx2.json \
        results/seed_study/seed_study-avx512-bf16-capped-avx2.json   # which metrics differ

The seeds differ from the committed runs' seeds on purpose: the committed
outputs are one more, independent run. Never compare figures taken on
different machines: the file says which machine it was.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository: found before utils can say
sys.path.insert(0, str(ROOT))

DEFAULT_NOTEBOOKS = ["01_smiles_sequential", "02_signs_functional", "04_alpaca_transfer_learning"]
SEED_LINE = re.compile(r"^SEED = \d+$", re.MULTILINE)


def with_seed(notebook_path: Path, seed: int, target: Path) -> Path:
    """Write a copy of the notebook whose setup cell says ``SEED = seed``."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    cells = [c for c in notebook.cells if c.cell_type == "code" and SEED_LINE.search(c.source)]
    if len(cells) != 1:
        raise SystemExit(f"{notebook_path.name}: expected one 'SEED = <n>' line, "
                         f"found {len(cells)}")
    cells[0].source = SEED_LINE.sub(f"SEED = {seed}", cells[0].source)
    nbformat.write(notebook, target)
    return target


def run_one(name: str, seed: int, scratch: Path) -> dict:
    """Execute one notebook with one seed; return its saved metrics and precision."""
    from utils.course import execute_notebook

    source = ROOT / "notebooks" / f"{name}.ipynb"
    copy = with_seed(source, seed, source.parent / f".seed_study_{name}_{seed}.ipynb")
    out_dir = scratch / f"{name}-{seed}"
    os.environ["COURSE_RESULTS_DIR"] = str(out_dir / "results")
    os.environ["COURSE_MODELS_DIR"] = str(out_dir / "models")
    try:
        seconds = execute_notebook(copy, out_dir / copy.name, timeout=2400)
    finally:
        copy.unlink(missing_ok=True)  # the copy sits beside the original so relative paths work
    record = json.loads((out_dir / "results" / f"{name}.json").read_text())
    metrics = {k: v["value"] for k, v in record["metrics"].items()}
    return {"seed": seed, "seconds": round(seconds, 1), "metrics": metrics,
            "precision": record["environment"]["precision"]}


def compare(path_a: Path, path_b: Path, skip: tuple[str, ...] = ("images_per_second",)) -> int:
    """Print, per notebook and seed in both studies, which metrics differ; return how many.

    Timing metrics (``skip``) are left out: they differ between any two runs.
    """
    a, b = (json.loads(Path(p).read_text())["notebooks"] for p in (path_a, path_b))
    differ = 0
    for name in sorted(a.keys() & b.keys()):
        runs_b = dict(zip(b[name]["seeds"], b[name]["metrics"]))
        for seed, metrics in zip(a[name]["seeds"], a[name]["metrics"]):
            if seed not in runs_b:
                continue
            keys = sorted((metrics.keys() & runs_b[seed].keys()) - set(skip))
            diff = [f"{k} {metrics[k]} vs {runs_b[seed][k]}" for k in keys
                    if metrics[k] != runs_b[seed][k]]
            differ += len(diff)
            print(f"{name}, seed {seed}: {len(keys) - len(diff)} of {len(keys)} metrics equal"
                  + (f"; differ: {', '.join(diff)}" if diff else ""))
    return differ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--notebooks", nargs="+", default=DEFAULT_NOTEBOOKS)
    parser.add_argument("--output", type=Path, default=None,
                        help="results file (default: results/seed_study/seed_study-<kind>.json)")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("STUDY", "OTHER"),
                        help="run nothing: say which metrics of two study files differ")
    args = parser.parse_args(argv)
    if args.compare:
        return 1 if compare(*args.compare) else 0
    import utils
    from utils.results import SEED_STUDIES

    here = utils.environment()
    isa = here["onednn_max_cpu_isa"]
    kind = ("gpu" if here["device"].startswith("GPU") else here["cpu_kind"]
            + ("" if isa == "unset" else f"-capped-{isa.lower()}"))
    args.output = args.output or SEED_STUDIES / f"seed_study-{kind}.json"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    cap = "" if isa == "unset" else f"ONEDNN_MAX_CPU_ISA={isa} "  # for the "how" lines

    study = json.loads(args.output.read_text()) if args.output.is_file() else {}
    if study.get("environment", {}).get("cpu") != here["cpu"] or \
            study["environment"].get("cpu_flags") != here["cpu_flags"] or \
            study["environment"].get("onednn_max_cpu_isa", "unset") != isa:
        study = {}  # never mix runs from different machines in one file
    study.update({"environment": here, "written": time.strftime("%Y-%m-%d %H:%M:%S")})
    study.setdefault("notebooks", {})
    with tempfile.TemporaryDirectory(prefix="seed_study_") as scratch:
        for name in args.notebooks:
            runs = []
            for seed in args.seeds:
                print(f"{name}, seed {seed} ...", flush=True)
                runs.append(run_one(name, seed, Path(scratch)))
                print(f"  {runs[-1]['seconds']:.0f} s: {runs[-1]['metrics']}", flush=True)
            study["notebooks"][name] = {
                "seeds": args.seeds, "precision": runs[0]["precision"],
                "how": f"{cap}python scripts/seed_study.py --seeds "
                       f"{' '.join(map(str, args.seeds))} --notebooks {name}",
                "seconds": [r["seconds"] for r in runs],
                "metrics": [r["metrics"] for r in runs]}
            args.output.write_text(json.dumps(study, indent=2) + "\n")  # after each notebook
            shown = args.output.resolve()
            print(f"wrote {shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown}",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
