"""Command line: ``python -m utils fetch [DATASET ...]``.

Fetches and verifies the datasets (by default the ones the four notebooks
use) and places the MobileNetV2 weights in the Keras cache. Prints one line
per dataset; exits 1 with a clear message when something cannot be had.
"""

from __future__ import annotations

import argparse
import sys
import time

from utils.data import (
    DataError,
    ensure_dataset,
    install_keras_weights,
    keras_home,
    load_manifest,
)

COURSE_DATASETS = ("smiles", "signs", "alpaca", "mobilenet_v2")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["fetch"])
    parser.add_argument("datasets", nargs="*", help=f"default: {' '.join(COURSE_DATASETS)}")
    args = parser.parse_args(argv)
    names = args.datasets or list(COURSE_DATASETS)
    try:
        for name in names:
            start = time.perf_counter()
            root = ensure_dataset(name)
            count = load_manifest()["datasets"][name]["count"]
            print(f"{name}: {count} files verified in {root} ({time.perf_counter() - start:.1f} s)")
        if "mobilenet_v2" in names:
            placed = install_keras_weights()
            print(f"Keras cache {keras_home() / 'models'}: {len(placed)} file(s) placed")
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
