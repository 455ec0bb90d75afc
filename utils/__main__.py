"""The command line ``python -m utils fetch|predict|doctor``: fetch and verify the data, classify
image files with a saved model, check this machine; ``python -m utils COMMAND -h`` says more."""

from __future__ import annotations

import argparse
import json
import sys
import time

from utils.fetch import DataError, ensure_dataset, load_manifest
from utils.weights import install_keras_weights, keras_home

COURSE_DATASETS = ("smiles", "signs", "alpaca", "mobilenet_v2", "happy_house")
# Datasets the notebooks use only part of, and that part: notebook 1 tests on the Happy House test
# photos; the training file is not in every mirror (name the dataset to fetch it all).
COURSE_PARTS = {"happy_house": ("happy_house/test_happy.h5",)}


def fetch(names: list[str], repair: bool = False) -> int:
    """Fetch and verify ``names`` (default: what the notebooks use); 0 on success, 1 on failure."""
    parts = {} if names else COURSE_PARTS
    names = names or list(COURSE_DATASETS)
    try:
        for name in names:
            start = time.perf_counter()
            root = ensure_dataset(name, only=parts.get(name), repair=repair)
            count = (len(parts[name]) if name in parts
                     else load_manifest()["datasets"][name]["count"])
            print(f"{name}: {count} file{'s' * (count != 1)} verified in {root} "
                  f"({time.perf_counter() - start:.1f} s)")
        if "mobilenet_v2" in names:
            placed = install_keras_weights()
            print(f"Keras cache {keras_home() / 'models'}: {len(placed)} file(s) placed")
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def predict(model: str, images: list[str], top_k: int = 3, as_json: bool = False) -> int:
    """Classify ``images`` with ``model`` and print the results; returns the exit status."""
    from utils.models import ModelError, load_model, resolve_model
    from utils.predict import predict_files

    try:
        net, sidecar = load_model(model)
        results = predict_files((net, sidecar), images, top_k=top_k)
    except ModelError as err:
        print(f"error: {err}", file=sys.stderr)
        if as_json:
            print(json.dumps({"model": model, "error": str(err), "predictions": []}, indent=2))
        return 2
    failed = sum(not r["ok"] for r in results)
    for result in results:
        if not result["ok"]:
            print(f"error: {result['error']}", file=sys.stderr)
        elif not as_json:  # the best K too for a model with more than two classes
            best = ", ".join(f"{t['class']} {t['probability']:.3f}" for t in result["top_k"])
            top = f"   top {len(result['top_k'])}: {best}" * (sidecar["output"] == "softmax")
            print(f"{result['file']}: {result['class']} ({result['probability']:.3f}){top}")
    if as_json:
        print(json.dumps(dict(model=model, model_file=str(resolve_model(model)),
                              notebook=sidecar.get("notebook"), class_names=sidecar["class_names"],
                              predictions=results, failed=failed), indent=2))
    return 1 if failed else 0


def _positive(text: str) -> int:
    if (value := int(text)) < 1:
        raise argparse.ArgumentTypeError(f"{text} is not 1 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="{fetch,predict,doctor}")
    sub = commands.add_parser("fetch", help="fetch and verify the datasets", description="Fetch "
                              "and verify the datasets, place the MobileNetV2 weights in the Keras "
                              "cache; one line per dataset; exit status 1 if one cannot be had.")
    sub.add_argument("datasets", nargs="*", help=f"default: {' '.join(COURSE_DATASETS)} (of "
                     "happy_house, its test file only)")
    sub.add_argument("--repair", action="store_true", help="rename each file that fails "
                     "verification <name>.corrupt-<time> (kept for you to look at or delete) and "
                     "fetch a good copy, one line per file")
    sub = commands.add_parser("predict", help="classify image files with a saved model",
                              description="One line per image: class, probability and, for "
                              "more than two classes, the best K. Exit status 0: all classified, "
                              "1: some could not be read (one line each on stderr), 2: no model "
                              "or a wrong command line. Example: predict signs hand.jpg --top-k 2")
    sub.add_argument("model", metavar="MODEL", help="smiles, signs, resnet50_signs (resnet50), "
                     "alpaca (in models/), or a .keras file saved by utils.save_model")
    sub.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    sub.add_argument("--top-k", type=_positive, default=3, metavar="K",
                     help="how many of the best classes to list (default 3)")
    sub.add_argument("--json", action="store_true", help="one JSON document (errors included)")
    sub = commands.add_parser("doctor", help="check this machine for the course", description=(
        "One line per check (OK, WARN or FAIL and what to do): Python, versions, GPU, CPU, disk, "
        "memory, data, models, each notebook's time here (a speed probe of at most 15 s against "
        "results/course_run.json). Exit status 1 if any check FAILs."))
    sub.add_argument("--full", action="store_true", help="checksum every data file, not a sample")
    sub.add_argument("--json", action="store_true", help="one JSON document, for a bug report")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from utils.doctor import doctor

        return doctor(full=args.full, as_json=args.json)
    if args.command == "fetch":
        return fetch(args.datasets, repair=args.repair)
    return predict(args.model, args.images, top_k=args.top_k, as_json=args.json)


if __name__ == "__main__":
    raise SystemExit(main())
