"""Write the course's dataset manifest from a verified data mirror.

Usage::

    python scripts/make_manifest.py ../shared/datasets

Reads the mirror's ``MANIFEST.json`` (path, size, sha256 and provenance of
every file), keeps the files the course uses, and writes

- ``datasets/manifest.json``: one entry per dataset (description, counts,
  total bytes, URL base, licence note, and a fingerprint over its file list);
- ``datasets/manifest/<dataset>.tsv``: one line per file:
  ``path<TAB>bytes<TAB>sha256<TAB>source``, where ``source`` is relative to
  the dataset's URL base, a full URL, or ``-`` (mirror only).

Every listed file that is in the mirror is hashed again, so the manifest
never vouches for a file it has not checked.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils.fetch import FileEntry, fingerprint  # noqa: E402

RAW = "https://raw.githubusercontent.com/{repo}/{commit}/"
KERAS_CLASS_INDEX = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
WEIGHTS = "weights/mobilenet_v2/derived_keras_h5/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224"

DATASETS = {
    "smiles": {
        "description": "SMILEsmileD face crops, 64x64 greyscale JPEG: positives (smiling) and negatives",
        "prefixes": ["smiles/"],
        "licence": "No licence stated by the source; cite 'SMILEsmileD, D. Hromada'; teaching and research use.",
    },
    "signs": {
        "description": "SIGNS hand digits 0-5, 64x64 RGB JPEG: train/<digit> (1080) and test/<digit> (120)",
        "prefixes": ["signs/train/", "signs/test/"],
        "licence": "Course data of the Deep Learning Specialization (CS230 copy); teaching use.",
    },
    "signs_h5": {
        "description": "SIGNS in the course's original HDF5 files (train file not in every mirror)",
        "paths": ["signs/train_signs.h5", "signs/test_signs.h5"],
        "licence": "Course data of the Deep Learning Specialization; teaching use.",
    },
    "happy_house": {
        "description": "Happy House faces in the course's original HDF5 files (train file not in every mirror)",
        "paths": ["happy_house/train_happy.h5", "happy_house/test_happy.h5"],
        "licence": "Course data of the Deep Learning Specialization; teaching use.",
    },
    "alpaca": {
        "description": "Alpaca / not alpaca photos, JPEG of mixed sizes up to 1024 px",
        "prefixes": ["alpaca/"],
        "licence": "Course data of the Deep Learning Specialization (C4W2A2); teaching use.",
    },
    "mobilenet_v2": {
        "description": "MobileNetV2 1.0 ImageNet weights for Keras (derived no-top file and an "
                       "APPROXIMATE with-top file for demonstrations only) and the ImageNet class index",
        "paths": [WEIGHTS + "_no_top.h5", WEIGHTS + ".h5", "weights/imagenet_class_index.json"],
        "licence": "Derived from TF-slim MobileNetV2 checkpoint values (Apache-2.0) and public "
                   "conversions of the Keras model; see datasets/README.md.",
    },
}


def missing_files(manifest: dict) -> dict[str, dict]:
    """Files the mirror lacks but the course knows by size and sha256."""
    found = {}
    for item in manifest.get("not_included", []):
        text = item["item"]
        match = re.match(r"(\S+\.h5) \(.*?([\d,]+) bytes, sha256 ([0-9a-f]{64})\)", text)
        if match:
            name, size, sha = match.groups()
            found[Path(name).name] = {"bytes": int(size.replace(",", "")), "sha256": sha}
    return found


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(mirror: Path) -> None:
    manifest = json.loads((mirror / "MANIFEST.json").read_text())
    by_path = {f["path"]: f for f in manifest["files"]}
    absent = missing_files(manifest)
    out_dir = ROOT / "datasets" / "manifest"
    out_dir.mkdir(parents=True, exist_ok=True)
    index = {
        "format": 1,
        "generated_by": "scripts/make_manifest.py",
        "columns": ["path", "bytes", "sha256", "source"],
        "datasets": {},
    }
    for name, spec in DATASETS.items():
        if "prefixes" in spec:
            paths = sorted(p for p in by_path if p.startswith(tuple(spec["prefixes"])))
        else:
            paths = spec["paths"]
        base, lines, entries = None, [], []
        for path in paths:
            if path in by_path:
                record = by_path[path]
                if sha256_of(mirror / path) != record["sha256"]:
                    raise SystemExit(f"{mirror / path} does not match MANIFEST.json")
                size, sha, prov = record["bytes"], record["sha256"], record.get("provenance", {})
            else:
                known = absent[Path(path).name]
                size, sha = known["bytes"], known["sha256"]
                # Same repository and commit as its test twin, which is in the mirror.
                twin = by_path[path.replace("train_", "test_")]["provenance"]
                prov = dict(twin, path_in_repo=twin["path_in_repo"].replace("test_", "train_"))
            if path.endswith("imagenet_class_index.json"):
                source = KERAS_CLASS_INDEX
            elif "derived_keras_h5" in path:
                source = "-"  # built for this course; only a mirror has it
            else:
                here = RAW.format(repo=prov["repo"], commit=prov["commit"])
                base = base or here
                source = prov["path_in_repo"] if here == base else here + prov["path_in_repo"]
            lines.append(f"{path}\t{size}\t{sha}\t{source}")
            entries.append(FileEntry(path, size, sha, None))
        (out_dir / f"{name}.tsv").write_text("\n".join(lines) + "\n")
        index["datasets"][name] = {
            "description": spec["description"],
            "file_list": f"manifest/{name}.tsv",
            "count": len(entries),
            "bytes": sum(e.size for e in entries),
            "url_base": base,
            "fingerprint": fingerprint(entries),
            "licence": spec["licence"],
        }
    (ROOT / "datasets" / "manifest.json").write_text(json.dumps(index, indent=1) + "\n")
    for name, info in index["datasets"].items():
        print(f"{name:13s} {info['count']:6d} files {info['bytes'] / 1e6:8.1f} MB")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
