"""The dataset manifest, and fetching (mirror first, in threads) and verifying its files.

Our own fetcher rather than pooch: pooch has no local-folder mirror (HTTP, FTP,
SFTP only) and fetches one file at a time, and SIGNS alone is 1,200 files.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from utils.paths import REPO_ROOT, data_dir

MANIFEST_PATH = REPO_ROOT / "datasets" / "manifest.json"
_PART = re.compile(r"\.(.+)\.([0-9]+)-[0-9a-f]{32}\.part")  # the names part_path makes
_STARTED = time.time()
_PROGRESS = threading.Lock()  # the fetching threads' progress bar updates


class DataError(RuntimeError):
    """A data or image file is missing, damaged or malformed; the message says what to do."""


@dataclass(frozen=True)
class FileEntry:
    """A manifest line; ``source`` is a URL, or ``None`` when only a mirror has the file."""

    path: str
    size: int
    sha256: str
    source: str | None


def mirror() -> str | None:
    """Return ``COURSE_DATA_MIRROR`` (a folder or a URL base), or ``None``."""
    return os.environ.get("COURSE_DATA_MIRROR") or None


def safe_join(root: Path, relative: str, resolve: bool = True) -> Path:
    """``root / relative``, or a DataError if it escapes ``root`` (``..``, absolute, a link)."""
    rel = Path(relative)
    if not relative or rel.is_absolute() or relative.startswith(("/", "\\")) or ".." in rel.parts:
        raise DataError(f"Refusing the path {relative!r}: it would land outside the data directory "
                        f"{root}. Restore datasets/manifest.json and its file lists from git.")
    if resolve and not (joined := (root / rel).resolve()).is_relative_to(root.resolve()):
        raise DataError(f"Refusing the path {relative!r}: it resolves to {joined}, outside "
                        f"the data directory {root}. Remove the link that points outside.")
    return root / rel


def part_path(dest: Path) -> Path:
    """A unique temporary name beside ``dest``, to rename to it: ``.<name>.<pid>-<hex>.part``."""
    return dest.parent / f".{dest.name}.{os.getpid()}-{uuid.uuid4().hex}.part"


def _writer_gone(pid: int, mtime: float) -> bool:
    """Whether the process ``pid`` that last wrote a part file at ``mtime`` has ended."""
    if pid == os.getpid():  # this process, or an earlier one with its id (restarted container)
        return mtime < _STARTED
    if os.name == "nt" or time.time() - mtime > 3600:  # Windows refuses to delete an open
        return True  # file; a live download writes at least once a minute (60 s timeout)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
        return False
    return True


def remove_stale_parts(paths: Iterable[Path]) -> None:
    """Delete the :func:`part_path` files of ``paths`` whose writer has ended, and no others."""
    wanted = {(path.parent, path.name) for path in paths}
    for part in (p for folder in {parent for parent, _ in wanted} for p in folder.glob(".*.part")):
        if (match := _PART.fullmatch(part.name)) and (part.parent, match[1]) in wanted:
            with contextlib.suppress(OSError):  # gone already, or in use
                if _writer_gone(int(match[2]), part.stat().st_mtime):
                    part.unlink()


def load_manifest(path: Path | None = None) -> dict:
    """Read ``manifest.json``: ``load_manifest()["datasets"]["signs"]["count"]`` is 1200."""
    path = Path(path or MANIFEST_PATH)
    try:
        manifest = json.loads(path.read_text())
        manifest["datasets"]
    except (FileNotFoundError, ValueError, KeyError, TypeError) as err:
        problem = "missing" if isinstance(err, FileNotFoundError) else "not valid"
        raise DataError(f"The dataset manifest {path} is {problem}. Restore it from git (`git "
                        "checkout -- datasets/manifest.json`) or rebuild it with "
                        "`python scripts/make_manifest.py`.") from None
    return manifest


def fingerprint(entries: Iterable[FileEntry]) -> str:
    """One sha256 over every file's path, size and sha256, as ``manifest.json`` stores it."""
    lines = sorted(f"{e.sha256}  {e.size}  {e.path}\n" for e in entries)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def dataset_files(name: str, manifest_path: Path | None = None) -> list[FileEntry]:
    """The manifest's entries for dataset ``name``, checked against its fingerprint."""
    datasets = load_manifest(manifest_path := Path(manifest_path or MANIFEST_PATH))["datasets"]
    if (info := datasets.get(name)) is None:
        raise DataError(f"Unknown dataset {name!r}. Known datasets: {', '.join(sorted(datasets))}.")
    list_path, base = manifest_path.parent / info["file_list"], info.get("url_base") or ""
    try:
        rows = [line.split("\t") for line in list_path.read_text().splitlines()
                if line.strip() and not line.startswith("#")]
        entries = [FileEntry(path, int(size), sha, None if source == "-" else source
                             if "://" in source else base + urllib.parse.quote(source))
                   for path, size, sha, source in rows]
    except (FileNotFoundError, ValueError) as err:
        problem = "is missing" if isinstance(err, FileNotFoundError) else "has a malformed line"
        raise DataError(f"The file list {list_path} {problem}. Restore it from git or rebuild "
                        "it with `python scripts/make_manifest.py`.") from None
    if fingerprint(entries) != info["fingerprint"]:
        raise DataError(f"The file list {list_path} does not match the fingerprint in "
                        f"{manifest_path}. Restore both from git.")
    return entries


def sha256_of(path: Path) -> str:
    """Return the sha256 hex digest of a file, e.g. ``sha256_of(Path("a.h5"))``."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def verify_file(path: Path, entry: FileEntry, dataset: str = "") -> None:
    """Raise a DataError saying how to fix it unless ``path`` has ``entry``'s size and sha256."""
    command = f"python -m utils fetch {dataset}".strip()
    repair = f"python -m utils fetch --repair {dataset}".strip()
    if not path.is_file():
        raise DataError(f"{path} is missing. Run `{command}` (or `make data`) to fetch it.")
    fix = f"Run `{repair}` to move it aside and fetch a good copy."
    if (size := path.stat().st_size) != entry.size:
        raise DataError(f"{path} has {size:,} bytes but should have {entry.size:,} (truncated "
                        f"or replaced). {fix}")
    if sha256_of(path) != entry.sha256:
        raise DataError(f"{path} has the wrong sha256 checksum (the file is damaged or is a "
                        f"different version). {fix}")


def _open_source(source: str):
    """Open a folder path or a URL as a binary stream."""
    if "://" not in source:
        return open(source, "rb")
    request = urllib.request.Request(source, headers={"User-Agent": "course-data/1"})
    return urllib.request.urlopen(request, timeout=60)


def _fetch_one(entry: FileEntry, root: Path, mirror_base: str | None, progress: tqdm) -> None:
    """Fetch one file into ``root`` (the mirror first) through a temporary file, checked."""
    if (dest := safe_join(root, entry.path)).exists():
        return verify_file(dest, entry)
    sources = [entry.source] if entry.source else []
    if mirror_base:
        sources.insert(0, mirror_base.rstrip("/") + "/" + urllib.parse.quote(entry.path)
                       if "://" in mirror_base else str(Path(mirror_base) / entry.path))
    dest.parent.mkdir(parents=True, exist_ok=True)
    problems = []
    for source in sources:
        tmp = part_path(dest)
        try:
            with _open_source(source) as stream, open(tmp, "wb") as out:
                while chunk := stream.read(1 << 16):
                    out.write(chunk)
                    with _PROGRESS:
                        progress.update(len(chunk))
            if (received := tmp.stat().st_size) != entry.size or sha256_of(tmp) != entry.sha256:
                raise DataError(f"got {received:,} bytes with the wrong checksum "
                                f"(expected {entry.size:,} bytes)")
            try:
                os.link(tmp, dest)  # fails if dest exists: never overwrite a file
            except OSError:  # dest exists (someone else finished first) or no hard links here
                if dest.exists():
                    verify_file(dest, entry)
                else:
                    os.replace(tmp, dest)
            return
        except (DataError, OSError, http.client.HTTPException) as err:  # OSError: URLError too
            problems.append(f"  - {source}: " + (str(err) if isinstance(err, DataError)
                                                 else f"{type(err).__name__}: {err}"))
        finally:
            tmp.unlink(missing_ok=True)
    tried = "\n".join(problems) or "  - no mirror is set and it has no public URL"
    raise DataError(f"Could not get {dest}.\nTried:\n{tried}\nWhat to do: connect to the "
                    "internet, or set COURSE_DATA_MIRROR to a folder or URL that holds "
                    f"{entry.path}, or copy the file there yourself.")


def ensure_dataset(name: str, *, root: Path | None = None, mirror_base: str | None = None,
                   workers: int = 8, progress: bool = True,
                   only: Iterable[str] | None = None, repair: bool = False) -> Path:
    """Fetch and verify dataset ``name`` (``only``: these paths; ``repair``: damaged ones aside)."""
    root = Path(root) if root is not None else data_dir()
    mirror_base = mirror_base if mirror_base is not None else mirror()
    entries = dataset_files(name)
    remove_stale_parts(safe_join(root, e.path, resolve=False) for e in entries)
    missing, stamp, wanted = [], time.strftime("%Y%m%d-%H%M%S"), None if only is None else set(only)
    for entry in (e for e in entries if wanted is None or e.path in wanted):
        if (path := safe_join(root, entry.path, resolve=False)).exists():
            try:
                verify_file(path, entry, name)
                continue
            except DataError:
                if not repair:
                    raise
                aside = path.rename(path.with_name(f"{path.name}.corrupt-{stamp}"))
                print(f"{path}: damaged, moved aside as {aside.name}; fetching a good copy")
        missing.append(entry)
    if not missing:
        return root
    errors = []
    with tqdm(total=sum(e.size for e in missing), unit="B", unit_scale=True, file=sys.stderr,
              desc=f"fetching {name}", disable=not progress, mininterval=0.5 if sys.stderr.isatty()
              else 10.0) as bar, ThreadPoolExecutor(max(1, min(workers, len(missing)))) as pool:
        for future in [pool.submit(_fetch_one, e, root, mirror_base, bar) for e in missing]:
            try:
                future.result()
            except DataError as err:
                errors.append(str(err))
    if errors:
        more = f"\n(and {len(errors) - 1} more files failed)" if len(errors) > 1 else ""
        raise DataError(errors[0] + more)
    return root
