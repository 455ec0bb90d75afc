"""Command line: ``python -m utils fetch`` and ``python -m utils predict``.

python -m utils fetch [DATASET ...]
    Fetches and verifies the datasets (by default the files the four notebooks
    use, which for Happy House is its test file alone) and places the
    MobileNetV2 weights in the Keras cache. Prints one line per dataset;
    exits 1 with a clear message when something cannot be had.

python -m utils predict MODEL IMAGE [IMAGE ...] [--top-k K] [--json]
    Classifies image files with a model a notebook saved. MODEL is a short
    name looked up in models/ (smiles, signs, resnet50_signs or resnet50,
    alpaca) or the path of a .keras file saved by utils.save_model; its
    sidecar (the .json beside it) says how to prepare the images. Prints one
    line per image: the file, the predicted class and its probability, and
    for a model with more than two classes the best K classes (default 3).
    A file that cannot be read gets one line on stderr and the others are
    still classified. --json prints one JSON document instead (errors
    included). Exit status: 0 when every image was classified, 1 when any
    could not be read, 2 when the model could not be loaded or the command
    line is wrong.
    Example: python -m utils predict signs my_hand.jpg other_hand.png --top-k 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from utils.data import (
    DataError,
    ensure_dataset,
    install_keras_weights,
    keras_home,
    load_manifest,
)

COURSE_DATASETS = ("smiles", "signs", "alpaca", "mobilenet_v2", "happy_house")
# Datasets the notebooks use only part of, and that part. Notebook 1 tests its
# model on the Happy House test photos; the training file is not in every
# mirror, so the default fetch leaves it out (name the dataset to fetch it all).
COURSE_PARTS = {"happy_house": ("happy_house/test_happy.h5",)}


def fetch(names: list[str]) -> int:
    """Fetch and verify ``names`` (default: what the notebooks use); 0 on success, 1 on failure."""
    parts = {} if names else COURSE_PARTS
    names = names or list(COURSE_DATASETS)
    try:
        for name in names:
            start = time.perf_counter()
            root = ensure_dataset(name, only=parts.get(name))
            count = len(parts[name]) if name in parts else load_manifest()["datasets"][name]["count"]
            print(f"{name}: {count} file{'s' * (count != 1)} verified in {root} "
                  f"({time.perf_counter() - start:.1f} s)")
        if "mobilenet_v2" in names:
            placed = install_keras_weights()
            print(f"Keras cache {keras_home() / 'models'}: {len(placed)} file(s) placed")
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _line(result: dict, binary: bool) -> str:
    """One human-readable line for one image's prediction."""
    line = f"{result['file']}: {result['class']} ({result['probability']:.3f})"
    if not binary:
        best = ", ".join(f"{t['class']} {t['probability']:.3f}" for t in result["top_k"])
        line += f"   top {len(result['top_k'])}: {best}"
    return line


def predict(model: str, images: list[str], top_k: int = 3, as_json: bool = False) -> int:
    """Classify ``images`` with ``model`` and print the results; returns the exit status."""
    from utils.models import ModelError, load_model, predict_files, resolve_model

    try:
        net, sidecar = load_model(model)
        results = predict_files((net, sidecar), images, top_k=top_k)
    except ModelError as err:
        print(f"error: {err}", file=sys.stderr)
        if as_json:
            print(json.dumps({"model": model, "error": str(err), "predictions": []}, indent=2))
        return 2
    for result in results:
        if not result["ok"]:
            print(f"error: {result['error']}", file=sys.stderr)
    if as_json:
        print(json.dumps({
            "model": model,
            "model_file": str(resolve_model(model)),
            "notebook": sidecar.get("notebook"),
            "class_names": sidecar["class_names"],
            "predictions": results,
            "failed": sum(not r["ok"] for r in results),
        }, indent=2))
    else:
        binary = sidecar["output"] != "softmax"
        for result in results:
            if result["ok"]:
                print(_line(result, binary))
    return 1 if any(not r["ok"] for r in results) else 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not 1 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{fetch,predict}")
    fetch_parser = commands.add_parser("fetch", help="fetch and verify the datasets")
    fetch_parser.add_argument("datasets", nargs="*", help=f"default: {' '.join(COURSE_DATASETS)} "
                                   "(of happy_house, its test file only)")
    predict_parser = commands.add_parser("predict", help="classify image files with a saved model")
    predict_parser.add_argument("model", metavar="MODEL",
                                help="smiles, signs, resnet50_signs (resnet50), alpaca, "
                                     "or the path of a .keras file")
    predict_parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    predict_parser.add_argument("--top-k", type=_positive, default=3, metavar="K",
                                help="how many of the best classes to list (default 3)")
    predict_parser.add_argument("--json", action="store_true",
                                help="print one JSON document instead of lines")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        return fetch(args.datasets)
    return predict(args.model, args.images, top_k=args.top_k, as_json=args.json)


if __name__ == "__main__":
    raise SystemExit(main())
