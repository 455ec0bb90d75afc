"""Find, fetch, verify and load the course datasets.

Every file the course uses is listed in ``datasets/manifest.json`` and the file
lists beside it (``datasets/manifest/<name>.tsv``, one line per file: path,
byte count, sha256, source). ``scripts/make_manifest.py`` writes them.

Where data lives:

- ``COURSE_DATA_DIR`` (default: the repository's ``datasets/`` folder) holds
  the files, laid out as the manifest says (``smiles/positives/100.jpg``, ...).
- When a file is missing it is fetched, first from ``COURSE_DATA_MIRROR`` if
  set (a folder, or a ``file://``, ``http://`` or ``https://`` base laid out
  the same way), then from the file's public URL.
- Every file is checked against its sha256. Downloads go to a temporary name
  and are renamed only once the bytes are right, so a failed download never
  leaves a half file behind, and a good file is never overwritten.

Anything wrong with the data raises :class:`DataError`, whose message names
the file and says what to do.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = REPO_ROOT / "datasets" / "manifest.json"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
_CHUNK = 1 << 16


class DataError(RuntimeError):
    """A dataset file is missing, damaged or malformed.

    The message names the file, says what is wrong and what to do about it.
    """


@dataclass(frozen=True)
class FileEntry:
    """One file of a dataset, as the manifest lists it.

    ``path`` is relative to the data directory; ``source`` is a URL, or
    ``None`` when the file is only available from a mirror.
    """

    path: str
    size: int
    sha256: str
    source: str | None


# ---------------------------------------------------------------- locations


def data_dir() -> Path:
    """Return the folder that holds the data (``COURSE_DATA_DIR`` or ``datasets/``).

    Example: ``data_dir() / "signs" / "train"``.
    """
    return Path(os.environ.get("COURSE_DATA_DIR") or REPO_ROOT / "datasets")


def mirror() -> str | None:
    """Return ``COURSE_DATA_MIRROR`` (a folder or a URL base), or ``None``.

    Example: ``COURSE_DATA_MIRROR=../shared/datasets make test``.
    """
    return os.environ.get("COURSE_DATA_MIRROR") or None


def safe_join(root: Path, relative: str, resolve: bool = True) -> Path:
    """Join ``relative`` to ``root``, refusing paths that escape ``root``.

    With ``resolve`` symbolic links are followed too, so a link that points
    outside ``root`` is refused as well.
    Example: ``safe_join(Path("datasets"), "signs/test/0/a.jpg")``; a path like
    ``"../../etc/passwd"`` or ``"/etc/passwd"`` raises :class:`DataError`.
    """
    rel = Path(relative)
    if not relative or rel.is_absolute() or relative.startswith(("/", "\\")) or ".." in rel.parts:
        raise DataError(
            f"Refusing the path {relative!r}: it would land outside the data "
            f"directory {root}. The manifest or archive entry is malformed; "
            "restore datasets/manifest.json and its file lists from git."
        )
    if resolve:
        root_resolved = root.resolve()
        joined = (root / rel).resolve()
        if joined != root_resolved and root_resolved not in joined.parents:
            raise DataError(
                f"Refusing the path {relative!r}: it resolves to {joined}, outside "
                f"the data directory {root}. Remove the link that points outside."
            )
    return root / rel


# ---------------------------------------------------------------- manifest


def load_manifest(path: Path | None = None) -> dict:
    """Read ``manifest.json``: one entry per dataset, with its file list name.

    Example: ``load_manifest()["datasets"]["signs"]["count"]`` is 1200.
    """
    path = Path(path or MANIFEST_PATH)
    try:
        manifest = json.loads(Path(path).read_text())
        manifest["datasets"]
    except FileNotFoundError:
        raise DataError(
            f"The dataset manifest {path} is missing. Restore it from git "
            "(`git checkout -- datasets/manifest.json`)."
        ) from None
    except (ValueError, KeyError, TypeError):
        raise DataError(
            f"The dataset manifest {path} is not valid. Restore it from git or "
            "rebuild it with `python scripts/make_manifest.py`."
        ) from None
    return manifest


def fingerprint(entries: Iterable[FileEntry]) -> str:
    """Return one sha256 that changes if any file's path, size or content changes.

    Example: ``fingerprint(dataset_files("alpaca"))`` equals the value stored
    in ``manifest.json``.
    """
    lines = sorted(f"{e.sha256}  {e.size}  {e.path}\n" for e in entries)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def dataset_files(name: str, manifest_path: Path | None = None) -> list[FileEntry]:
    """Return the manifest's file entries for the dataset ``name``.

    The list is checked against the fingerprint stored in ``manifest.json``.
    Example: ``len(dataset_files("alpaca"))`` is 327.
    """
    manifest_path = Path(manifest_path or MANIFEST_PATH)
    manifest = load_manifest(manifest_path)
    info = manifest["datasets"].get(name)
    if info is None:
        known = ", ".join(sorted(manifest["datasets"]))
        raise DataError(f"Unknown dataset {name!r}. Known datasets: {known}.")
    list_path = Path(manifest_path).parent / info["file_list"]
    base = info.get("url_base") or ""
    entries = []
    try:
        for line in list_path.read_text().splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            path, size, sha, source = line.split("\t")
            if source == "-":
                url = None
            elif "://" in source:
                url = source
            else:
                url = base + urllib.parse.quote(source)
            entries.append(FileEntry(path, int(size), sha, url))
    except FileNotFoundError:
        raise DataError(
            f"The file list {list_path} is missing. Restore it from git."
        ) from None
    except ValueError:
        raise DataError(
            f"The file list {list_path} has a malformed line. Restore it from "
            "git or rebuild it with `python scripts/make_manifest.py`."
        ) from None
    if fingerprint(entries) != info["fingerprint"]:
        raise DataError(
            f"The file list {list_path} does not match the fingerprint in "
            f"{manifest_path}. Restore both from git."
        )
    return entries


# ---------------------------------------------------------------- checking


def sha256_of(path: Path) -> str:
    """Return the sha256 hex digest of a file.

    Example: ``sha256_of(Path("datasets/signs/test_signs.h5"))``.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, entry: FileEntry) -> None:
    """Check that ``path`` exists with the size and sha256 the manifest gives.

    Raises :class:`DataError` naming the file otherwise.
    Example: ``verify_file(data_dir() / e.path, e)``.
    """
    if not path.is_file():
        raise DataError(f"{path} is missing. Run `make data` to fetch it.")
    size = path.stat().st_size
    if size != entry.size:
        raise DataError(
            f"{path} has {size:,} bytes but should have {entry.size:,} "
            "(truncated or replaced). Delete it and run `make data` again "
            "to fetch a good copy."
        )
    if sha256_of(path) != entry.sha256:
        raise DataError(
            f"{path} has the wrong sha256 checksum (the file is damaged or "
            "is a different version). Delete it and run `make data` again to "
            "fetch a good copy."
        )


# ---------------------------------------------------------------- fetching


def _sources(entry: FileEntry, mirror_base: str | None) -> list[str]:
    """Where to look for a file: the mirror first, then its public URL."""
    found = []
    if mirror_base:
        if "://" in mirror_base:
            found.append(mirror_base.rstrip("/") + "/" + urllib.parse.quote(entry.path))
        else:
            found.append(str(Path(mirror_base) / entry.path))
    if entry.source:
        found.append(entry.source)
    return found


def _open_source(source: str):
    """Open a folder path or a URL as a binary stream."""
    if "://" not in source:
        return open(source, "rb")
    request = urllib.request.Request(source, headers={"User-Agent": "course-data/1"})
    return urllib.request.urlopen(request, timeout=60)


def _download(source: str, dest: Path, entry: FileEntry, progress: Callable[[int], None]) -> None:
    """Copy ``source`` to ``dest`` through a temporary file, checking the bytes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    received = 0
    try:
        with _open_source(source) as stream, open(tmp, "wb") as out:
            while chunk := stream.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                progress(len(chunk))
        if received != entry.size or digest.hexdigest() != entry.sha256:
            raise DataError(
                f"got {received:,} bytes with the wrong checksum "
                f"(expected {entry.size:,} bytes)"
            )
        try:
            os.link(tmp, dest)  # fails if dest exists: never overwrite a file
        except FileExistsError:
            verify_file(dest, entry)  # someone else finished first
        except OSError:
            if dest.exists():
                verify_file(dest, entry)
            else:
                os.replace(tmp, dest)
    except (OSError, http.client.HTTPException, urllib.error.URLError) as err:
        raise DataError(f"{type(err).__name__}: {err}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _fetch_one(entry: FileEntry, root: Path, mirror_base: str | None,
               progress: Callable[[int], None]) -> Path:
    dest = safe_join(root, entry.path)
    if dest.exists():
        verify_file(dest, entry)
        return dest
    problems = []
    for source in _sources(entry, mirror_base):
        try:
            _download(source, dest, entry, progress)
            return dest
        except DataError as err:
            problems.append(f"  - {source}: {err}")
    tried = "\n".join(problems) or "  - no mirror is set and it has no public URL"
    raise DataError(
        f"Could not get {dest}.\nTried:\n{tried}\nWhat to do: connect to the "
        "internet, or set COURSE_DATA_MIRROR to a folder or URL that holds "
        f"{entry.path}, or copy the file there yourself."
    )


def ensure_dataset(name: str, *, root: Path | None = None, mirror_base: str | None = None,
                   workers: int = 8, progress: bool = True,
                   only: Iterable[str] | None = None) -> Path:
    """Make sure every file of dataset ``name`` is present and verified.

    Missing files are fetched (in parallel, with a progress bar); files that
    are present are checked against their sha256. Returns the data directory.
    ``only`` restricts the work to the listed relative paths.

    Example: ``ensure_dataset("signs") / "signs" / "train"``.
    """
    root = Path(root) if root is not None else data_dir()
    mirror_base = mirror_base if mirror_base is not None else mirror()
    entries = dataset_files(name)
    if only is not None:
        wanted = set(only)
        entries = [e for e in entries if e.path in wanted]
    missing = []
    for entry in entries:
        path = safe_join(root, entry.path, resolve=False)
        if path.exists():
            verify_file(path, entry)
        else:
            missing.append(entry)
    if not missing:
        return root

    bar = None
    if progress:
        from tqdm import tqdm

        import sys

        bar = tqdm(total=sum(e.size for e in missing), unit="B", unit_scale=True,
                   desc=f"fetching {name}", file=sys.stderr,
                   mininterval=0.5 if sys.stderr.isatty() else 10.0)
    lock = threading.Lock()

    def advance(n: int) -> None:
        if bar is not None:
            with lock:
                bar.update(n)

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(missing)))) as pool:
            futures = [pool.submit(_fetch_one, e, root, mirror_base, advance) for e in missing]
            errors = []
            for future in futures:
                try:
                    future.result()
                except DataError as err:
                    errors.append(str(err))
    finally:
        if bar is not None:
            bar.close()
    if errors:
        more = f"\n(and {len(errors) - 1} more files failed)" if len(errors) > 1 else ""
        raise DataError(errors[0] + more)
    return root


# ---------------------------------------------------------------- images


HEIF_SUFFIXES = (".heic", ".heif")  # read only with pillow-heif installed


def _orientation(img) -> int:
    """The EXIF orientation tag (1 = upright), or 1 when the EXIF data cannot be read."""
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # damaged EXIF must not stop a picture whose pixels are fine
        return 1


def _plain_pixels(img):
    """Upright, 8-bit, opaque pixels from any image Pillow opens.

    Phone photos store "rotated" as an EXIF tag: turn them upright. 16-bit
    greyscale (PNG ``I;16``) is scaled to 0-255 instead of being clipped
    (Pillow already reduces 16-bit colour PNGs to 8 bits). Transparent pixels
    (RGBA, LA, a palette or a colour key with transparency) are laid over
    white rather than left at whatever colour they happen to hold.
    """
    from PIL import Image, ImageOps

    if _orientation(img) != 1:
        img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16L", "I;16B", "I"):
        values = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(np.round(values / 257.0), 0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode in ("P", "L", "RGB") and "transparency" in img.info):
        img = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img)
    return img


def _register_heif() -> bool:
    """Let Pillow open HEIC/HEIF photos (the iPhone default) if pillow-heif is installed."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


# Pillow refuses images over 2 x Image.MAX_IMAGE_PIXELS (about 179 megapixels)
# as possible decompression bombs, and only warns between 1x and 2x (89-179
# megapixels). We keep its refusal (a crafted file could otherwise need gigabytes
# of memory) and silence the warning: 108-megapixel phone photos are real and
# decode fine. Files over the limit get a DataError saying to shrink them.
def _decode_image(path: str | Path, mode: str = "RGB", size: tuple[int, int] | None = None,
                  draft: bool = False, fast: bool = False):
    """Open and decode an image with Pillow, turning every failure into a DataError.

    ``draft``: only check that the file decodes (JPEGs at 1/8 scale), return
    None. ``fast``: with ``size``, let a JPEG decode at 1/2, 1/4 or 1/8 scale
    when that still leaves at least ``size`` pixels (Pillow's ``draft``).
    """
    import warnings

    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not an image file. Give the image files "
                        f"inside it instead (for example {path / '*.jpg'}).")
    if not path.exists():
        raise DataError(f"{path} does not exist. Check the path and try again.")
    if not path.is_file():
        raise DataError(f"{path} is not a regular file. Give an image file instead.")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes). Delete it or replace it with a real image.")
    heif = path.suffix.lower() in HEIF_SUFFIXES and _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # see above
            with Image.open(path) as img:
                if draft:  # JPEG: decode at 1/8 scale, enough to find damaged data
                    img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
                    img.load()
                    return None
                if fast and size is not None and img.format == "JPEG":
                    height, width = size
                    if _orientation(img) in (5, 6, 7, 8):  # stored turned by 90 degrees
                        height, width = width, height
                    img.draft(None, (width, height))
                img = _plain_pixels(img).convert(mode)
                if size is not None:
                    img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                return np.asarray(img, dtype=np.uint8)
    except UnidentifiedImageError:
        hint = ""
        if path.suffix.lower() in HEIF_SUFFIXES and not heif:
            hint = (" HEIC/HEIF photos (the iPhone default) need `pip install pillow-heif`, "
                    "or export the photo as JPEG.")
        raise DataError(f"{path} is not an image file Pillow can read. Delete or replace it.{hint}") from None
    except Image.DecompressionBombError as err:
        raise DataError(
            f"{path} is too large to open safely ({err}). Shrink it (for example to "
            "4000 pixels wide) and try again."
        ) from None
    except PermissionError:
        raise DataError(f"{path} cannot be read: permission denied. Check its permissions.") from None
    except MemoryError:
        raise DataError(f"{path} is too large to decode in the memory available. Shrink it "
                        "and try again.") from None
    except Exception as err:  # Pillow's decoders raise many kinds (OSError, SyntaxError, ...)
        detail = " ".join(str(err).split()) or type(err).__name__
        raise DataError(
            f"{path} is damaged and cannot be decoded ({detail}). It is probably "
            "truncated: delete it and fetch or copy it again."
        ) from None


def read_image(path: str | Path, size: tuple[int, int] | None = None,
               channels: int = 3, fast: bool = False) -> np.ndarray:
    """Decode an image file to a ``uint8`` array of shape ``(h, w, channels)``.

    Any size, greyscale or colour: JPEG (CMYK too), 8- and 16-bit PNG,
    GIF, BMP, WebP, ...; phone photos are turned upright (EXIF orientation)
    and transparent pixels become white. ``size=(height, width)`` resizes it
    (bilinear). ``fast=True`` lets a large JPEG decode at a reduced scale that
    still leaves at least ``size`` pixels (a 6000x4000 photo read at 64x64 is
    decoded at 750x500; the pixels differ slightly from a full decode). Bad files
    (missing, empty, truncated, not an image, a folder) raise
    :class:`DataError` naming the file.
    Example: ``read_image("my_hand.jpg", size=(64, 64)).shape == (64, 64, 3)``.
    """
    array = _decode_image(path, "L" if channels == 1 else "RGB", size, fast=fast)
    return array[..., None] if channels == 1 else array


def check_image_file(path: str | Path) -> None:
    """Raise :class:`DataError` if ``path`` is empty, truncated or not an image.

    Decodes a reduced-size draft of JPEGs, so large photos are checked fast.
    Example: ``check_image_file("datasets/alpaca/alpaca/01ad3ff1d94eb557.jpg")``.
    """
    _decode_image(path, draft=True)


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def check_image_folder(directory: str | Path, check_files: bool = True) -> list[str]:
    """Check a folder of class sub-folders and return the class names, sorted.

    It needs at least two class folders, each with at least one image; with
    ``check_files`` every image is decoded once. Problems raise
    :class:`DataError`. Example: ``check_image_folder("datasets/alpaca")``
    returns ``['alpaca', 'not alpaca']``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory} is not a folder. Point to a folder with one sub-folder per class.")
    classes = sorted(p.name for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DataError(
            f"{directory} has {len(classes)} class folder(s) ({', '.join(classes) or 'none'}); "
            "a classifier needs at least two. Put each class's images in its own sub-folder."
        )
    for name in classes:
        files = _image_files(directory / name)
        if not files:
            raise DataError(
                f"The class folder {directory / name} holds no images. Add images "
                "to it or remove the folder."
            )
        if check_files:
            for file in files:
                check_image_file(file)
    return classes


def image_folder_datasets(directory: str | Path, image_size: tuple[int, int] = (160, 160),
                          batch_size: int = 32, validation_split: float = 0.2,
                          seed: int = 42, cache: bool = True, check_files: bool = True):
    """Build ``tf.data`` train and validation pipelines from class folders.

    Images are resized to ``image_size``, batched, shuffled (train only, with
    ``seed``), cached after decoding and prefetched. Returns
    ``(train_ds, val_ds, class_names)``; pixel values stay in [0, 255].
    Example: ``train, val, names = image_folder_datasets(root / "alpaca")``.
    """
    import tensorflow as tf

    class_names = check_image_folder(directory, check_files=check_files)
    # batch_size=None gives single images; the seeded shuffle of the file list
    # decides the split, so the same seed always gives the same 80/20 split.
    common = dict(labels="inferred", label_mode="int", class_names=class_names,
                  image_size=image_size, batch_size=None, color_mode="rgb",
                  validation_split=validation_split, seed=seed, shuffle=True)
    train = tf.keras.utils.image_dataset_from_directory(
        str(directory), subset="training", **common)
    val = tf.keras.utils.image_dataset_from_directory(
        str(directory), subset="validation", verbose=False, **common)
    if cache:
        # Decode and resize once, keep the result in memory for later epochs.
        train, val = train.cache(), val.cache()
    n_train = int(train.cardinality())
    train = train.shuffle(n_train, seed=seed, reshuffle_each_iteration=True)
    train = train.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    val = val.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return train, val, class_names


def no_autotune(dataset):
    """Return ``dataset`` with tf.data's autotuner turned off.

    Keras makes a new iterator over a dataset for every epoch, validation pass
    and ``evaluate``/``predict`` call, and deletes the old one. With the
    autotuner on (TensorFlow's default), deleting an iterator that fed long
    training steps (ResNet50 on a CPU) sometimes blocks for seconds with the
    CPU idle, waiting for the autotuner's sleeping thread
    (``benchmarks/epoch_boundaries.py``). Pipelines over arrays already in
    memory have nothing to tune, so the course turns it off there.
    Example: ``train_ds = no_autotune(ds.batch(32).prefetch(2))``.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def array_dataset(x, y=None, batch_size: int = 32, shuffle: bool = False):
    """The ``tf.data`` pipeline ``fit(x, y, batch_size=..., shuffle=...)`` builds, autotuner off.

    Given NumPy arrays, Keras turns them into a ``tf.data`` pipeline itself,
    with the autotuner on, and a learner cannot reach its options. This
    function asks Keras' own array adapter for that very pipeline (the same
    batches, and with ``shuffle=True`` the same order each epoch, drawn from
    TensorFlow's global seed as ``fit`` would draw it) and passes it through
    :func:`no_autotune`, so training on it gives exactly the numbers training
    on the arrays gives (``tests/test_pipeline.py`` checks this), without the
    autotuner's stalls at every epoch's end (``benchmarks/array_epochs.py``).
    Pass ``shuffle=False`` to ``fit`` with it: the dataset shuffles itself.
    The adapter lives in ``keras.src``, not a public API: should a Keras
    release move it, this warns and falls back to a plain ``tf.data`` pipeline
    over the arrays (the same data, but not ``fit``'s shuffled order).
    Example: ``model.fit(array_dataset(x, y, 16, shuffle=True), shuffle=False)``.
    """
    import tensorflow as tf

    try:
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    except ImportError:
        warnings.warn("this Keras has no ArrayDataAdapter where utils.array_dataset looks for "
                      "it: shuffling in another order than fit(x, y) would", stacklevel=2)
        data = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
        if shuffle:
            data = data.shuffle(len(x), reshuffle_each_iteration=True)
        return no_autotune(data.batch(batch_size))
    adapter = ArrayDataAdapter(x, y, batch_size=batch_size, shuffle=shuffle)
    # Keras' pipeline hides its length; state it, as fit does for arrays, so
    # Keras knows where an epoch ends instead of running out of data.
    batches = tf.data.experimental.assert_cardinality(adapter.num_batches)
    return no_autotune(adapter.get_tf_dataset().apply(batches))


def split_class_folders(source: str | Path, target: str | Path,
                        validation_fraction: float = 0.2, seed: int = 42) -> dict:
    """Copy class folders into ``target/train/<class>`` and ``target/validation/<class>``.

    Empty, truncated or non-image files are skipped and reported. Existing
    files in ``target`` are never overwritten. Returns a report:
    ``{"train": {class: n}, "validation": {class: n}, "skipped": [paths]}``.
    Example: ``split_class_folders("datasets/alpaca", "build/alpaca_split")``.
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError("validation_fraction must be between 0 and 1")
    source, target = Path(source), Path(target)
    classes = check_image_folder(source, check_files=False)
    report: dict = {"train": {}, "validation": {}, "skipped": []}
    rng = random.Random(seed)
    for name in classes:
        good = []
        for file in sorted(p for p in (source / name).iterdir() if p.is_file()):
            try:
                check_image_file(file)
                good.append(file)
            except DataError:
                report["skipped"].append(str(file))
        rng.shuffle(good)
        n_val = int(round(len(good) * validation_fraction))
        for subset, files in (("validation", good[:n_val]), ("train", good[n_val:])):
            folder = target / subset / name
            folder.mkdir(parents=True, exist_ok=True)
            for file in files:
                dest = folder / file.name
                if not dest.exists():
                    shutil.copy2(file, dest)
            report[subset][name] = len(files)
    return report


# ---------------------------------------------------------------- loaders


def check_arrays(images: np.ndarray, labels: np.ndarray, n_classes: int, source: str | Path,
                 shape: tuple[int, int, int] = (64, 64, 3)) -> None:
    """Check what a loader returns; raise one :class:`DataError` naming ``source``.

    Images must be ``uint8`` pixels (0-255) of shape ``(n, *shape)``; labels a
    1-D integer array of the same length, every value in ``0 .. n_classes - 1``.
    Example: ``check_arrays(x, y, 6, "signs/train")``.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    problem = None
    if images.dtype != np.uint8:
        problem = f"its images are {images.dtype}, not uint8 pixels from 0 to 255"
    elif images.ndim != 4 or images.shape[1:] != tuple(shape):
        problem = (f"its images have shape {images.shape}; the course expects "
                   f"(n, {', '.join(map(str, shape))})")
    elif labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        problem = f"its labels are {labels.dtype} of shape {labels.shape}, not integers (n,)"
    elif len(labels) != len(images):
        problem = f"it has {len(images)} images but {len(labels)} labels"
    elif len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        bad = sorted(set(labels[(labels < 0) | (labels >= n_classes)].tolist()))[:5]
        problem = f"its labels include {bad}, outside the {n_classes} classes 0-{n_classes - 1}"
    if problem:
        raise DataError(f"{source}: {problem}. Delete it and fetch it again.")


def duplicate_groups(images: np.ndarray) -> list[np.ndarray]:
    """Group the indexes of byte-identical images; every image is in exactly one group.

    Groups come in order of their first member; most hold one index.
    Example: ``[g for g in duplicate_groups(x_train) if len(g) > 1]`` lists the copies.
    """
    first: dict[bytes, int] = {}
    members: list[list[int]] = []
    for i, image in enumerate(np.asarray(images)):
        key = hashlib.sha256(np.ascontiguousarray(image).tobytes()).digest()
        if key not in first:
            first[key] = len(members)
            members.append([])
        members[first[key]].append(i)
    return [np.array(m) for m in members]


def train_val_split(images: np.ndarray, labels: np.ndarray, val_fraction: float = 0.15,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split indexes into training and validation, stratified by class, copies kept together.

    Byte-identical images form one group (see :func:`duplicate_groups`) and a
    group goes wholly to one side, so no validation image has a twin in the
    training part. Each class gives about ``val_fraction`` of its images.
    Returns ``(train_idx, val_idx)``, both shuffled with ``seed``.
    Example: ``fit_idx, val_idx = train_val_split(x_train, y_train, 0.15, seed=0)``.
    """
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    rng = np.random.default_rng(seed)
    groups = duplicate_groups(images)
    val: list[int] = []
    for label in np.unique(labels):
        own = [g for g in groups if labels[g[0]] == label]
        wanted = int(round(val_fraction * sum(len(g) for g in own)))
        taken = 0
        for k in rng.permutation(len(own)):
            if taken >= wanted:
                break
            val.extend(own[k].tolist())
            taken += len(own[k])
    is_val = np.zeros(len(labels), bool)
    is_val[val] = True
    return rng.permutation(np.flatnonzero(~is_val)), rng.permutation(np.flatnonzero(is_val))


def _read_folder(folder: Path, channels: int, size: tuple[int, int] = (64, 64)) -> np.ndarray:
    files = _image_files(folder)
    if not files:
        raise DataError(f"The class folder {folder} holds no images. Run `make data` to fetch them.")
    images = []
    for file in files:
        image = read_image(file, channels=channels)
        if image.shape[:2] != size:
            raise DataError(f"{file} is {image.shape[1]}x{image.shape[0]} pixels; every image "
                            f"of this dataset is {size[1]}x{size[0]}. Delete it and fetch it again.")
        images.append(image)
    return np.stack(images)


SMILES_CLASSES = ("negatives", "positives")  # folder of label 0 (not smiling), label 1 (smiling)


def load_smiles_all(channels: int = 3):
    """Load every SMILEsmileD face, unsplit, with the file each came from.

    Returns ``(images, labels, files, class_names)``: all 13,165 images as
    ``uint8`` ``(n, 64, 64, channels)``, labels 0 (not smiling) or 1
    (smiling), ``files`` the matching relative names such as
    ``"negatives/29.jpg"`` (numpy strings), in sorted order, negatives first.
    Nothing is removed: the dataset files a few photos under both classes,
    which a caller checks with :func:`duplicate_groups` before it splits
    (notebook 1 does, then splits with :func:`train_val_split`).
    Example: ``images, labels, files, names = load_smiles_all()``.
    """
    root = ensure_dataset("smiles", progress=False) / "smiles"
    images, labels, files = [], [], []
    for label, folder in enumerate(SMILES_CLASSES):
        images.append(_read_folder(root / folder, 1))
        labels.append(np.full(len(images[-1]), label, np.int64))
        files += [f"{folder}/{p.name}" for p in _image_files(root / folder)]
    images, labels = np.concatenate(images), np.concatenate(labels)
    if channels == 3:
        images = np.repeat(images, 3, axis=-1)
    check_arrays(images, labels, 2, root, shape=(64, 64, channels))
    return images, labels, np.array(files), ["not smiling", "smiling"]


def load_smiles(test_fraction: float = 0.2, seed: int = 0, channels: int = 3):
    """Load SMILEsmileD faces as numpy arrays with a stratified, seeded split.

    Returns ``(x_train, y_train, x_test, y_test, class_names)``: images are
    ``uint8`` of shape ``(n, 64, 64, channels)``; labels are 0 (not smiling)
    or 1 (smiling). The greyscale faces are repeated to 3 channels by default
    so the course's RGB model takes them unchanged. The split is by image and
    keeps the dataset as it is, including the few faces filed under both
    classes; for a split that drops those and keeps copies together, start
    from :func:`load_smiles_all` and :func:`train_val_split`, as notebook 1 does.
    Example: ``x_train, y_train, x_test, y_test, names = load_smiles()``.
    """
    images, labels, _, class_names = load_smiles_all(channels)
    rng = np.random.default_rng(seed)
    test_idx = []
    for label in (0, 1):  # the same share of each class goes to the test split
        idx = np.flatnonzero(labels == label)
        test_idx.append(rng.choice(idx, size=int(round(len(idx) * test_fraction)), replace=False))
    is_test = np.zeros(len(labels), bool)
    is_test[np.concatenate(test_idx)] = True
    train_order = rng.permutation(np.flatnonzero(~is_test))
    test_order = np.flatnonzero(is_test)
    return (images[train_order], labels[train_order], images[test_order],
            labels[test_order], class_names)


def load_signs():
    """Load the SIGNS hand-digit photos (64x64 RGB JPEGs) as numpy arrays.

    Returns ``(x_train, y_train, x_test, y_test, class_names)``: 1,080 train
    and 120 test images, ``uint8`` ``(n, 64, 64, 3)``; labels 0-5 are the
    number of raised fingers; ``class_names`` is ``['0', ..., '5']``.
    Files are read in sorted order, so every run gets the same arrays.
    Example: ``x_train, y_train, x_test, y_test, names = load_signs()``.
    """
    root = ensure_dataset("signs", progress=False) / "signs"
    class_names = [str(d) for d in range(6)]
    parts = []
    for split in ("train", "test"):
        xs, ys = [], []
        for label, name in enumerate(class_names):
            images = _read_folder(root / split / name, 3)
            xs.append(images)
            ys.append(np.full(len(images), label, np.int64))
        parts += [np.concatenate(xs), np.concatenate(ys)]
        check_arrays(parts[-2], parts[-1], len(class_names), root / split)
    return (*parts, class_names)


H5_LAYOUT = {
    "happy_house": ("happy_house/train_happy.h5", "happy_house/test_happy.h5"),
    "signs_h5": ("signs/train_signs.h5", "signs/test_signs.h5"),
}


def read_h5_split(path: Path, prefix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read ``<prefix>_set_x``, ``<prefix>_set_y`` and ``list_classes`` from a course h5 file.

    Checks the keys, the class list and, with :func:`check_arrays`, the
    images ``(n, 64, 64, 3)`` uint8 and ``n`` integer labels.
    Example: ``x, y, classes = read_h5_split(path, "test")``.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} is missing. Run `make data` to fetch it.")
    if not h5py.is_hdf5(path):
        raise DataError(
            f"{path} is not an HDF5 file (perhaps an HTML error page or a Git "
            "LFS pointer saved under a .h5 name). Delete it and fetch it again."
        )
    keys = (f"{prefix}_set_x", f"{prefix}_set_y", "list_classes")
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in keys if k not in f]
            if missing:
                raise DataError(
                    f"{path} lacks the key(s) {', '.join(missing)} (it has: "
                    f"{', '.join(sorted(f.keys())) or 'nothing'}). It is not the "
                    "course file; delete it and fetch it again."
                )
            x, y, classes = (np.asarray(f[k][()]) for k in keys)
    except DataError:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"{path} could not be read ({err}). Delete it and fetch it again.") from None
    y, classes = y.reshape(-1), classes.reshape(-1)
    if not np.issubdtype(classes.dtype, np.integer) or \
            classes.tolist() != list(range(len(classes))):
        raise DataError(f"{path}: its list_classes is {classes.tolist()}, not 0, 1, 2, ... "
                        "Delete it and fetch the course file again.")
    check_arrays(x, y, len(classes), path)
    return x, y, classes


def load_course_h5(name: str = "happy_house", split: str | None = None):
    """Load the course's original ``.h5`` files: ``happy_house`` or ``signs_h5``.

    With ``split=None`` returns ``(x_train, y_train, x_test, y_test, classes)``
    and needs both files. With ``split="test"`` (or ``"train"``) returns
    ``(x, y, classes)`` of that file alone and fetches only it: the test files
    are in the course mirror, the training files are not in every mirror
    (they are downloaded from their public URL when a connection is
    available). Images are ``uint8`` ``(n, 64, 64, 3)``, labels ``(n,)``.
    Example: ``x_test, y_test, classes = load_course_h5("happy_house", split="test")``.
    """
    if name not in H5_LAYOUT:
        raise DataError(f"Unknown course h5 dataset {name!r}; use one of {sorted(H5_LAYOUT)}.")
    if split not in (None, "train", "test"):
        raise ValueError(f"split={split!r}; use 'train', 'test' or None (both)")
    files = dict(zip(("train", "test"), H5_LAYOUT[name]))
    wanted = ("train", "test") if split is None else (split,)
    root = ensure_dataset(name, progress=False, only=[files[s] for s in wanted])
    parts = {s: read_h5_split(root / files[s], s) for s in wanted}
    if split is not None:
        return parts[split]
    (x_train, y_train, classes), (x_test, y_test, _) = parts["train"], parts["test"]
    return x_train, y_train, x_test, y_test, classes


# ---------------------------------------------------------------- Keras weights

_MOBILENET = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}{top}.h5"
_COURSE_WEIGHTS = "weights/mobilenet_v2/derived_keras_h5/"
# The course's files and the one name each is placed under in the Keras cache.
# The mirror holds MobileNetV2 weights trained at 224 px only, so they go under
# Keras' 224-px names and nowhere else: a file named ..._160... would claim to
# be Keras' separate 160-px weights (see mobilenet_v2_weights for other sizes).
KERAS_WEIGHT_NAMES = {
    _COURSE_WEIGHTS + _MOBILENET.format(size=224, top="_no_top"):
        _MOBILENET.format(size=224, top="_no_top"),
    _COURSE_WEIGHTS + _MOBILENET.format(size=224, top=""): _MOBILENET.format(size=224, top=""),
    "weights/imagenet_class_index.json": "imagenet_class_index.json",
}
# Sizes Keras publishes MobileNetV2 (alpha 1.0) ImageNet weights for, each
# trained at that size; and where it downloads them from.
KERAS_MOBILENET_SIZES = (96, 128, 160, 192, 224)
KERAS_MOBILENET_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"


def keras_home() -> Path:
    """Return the folder Keras caches downloads in (``KERAS_HOME``, else ``~/.keras``).

    Example: ``keras_home() / "models"``.
    """
    import sys

    if "keras" in sys.modules:  # Keras fixed its home when it was imported
        try:
            from keras.src.backend.config import keras_home as _home

            return Path(_home())
        except ImportError:
            pass
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def _course_weight_file(include_top: bool) -> str:
    """The manifest path of the course's 224-px MobileNetV2 file, with or without top."""
    return _COURSE_WEIGHTS + _MOBILENET.format(size=224, top="" if include_top else "_no_top")


def _is_course_copy(path: Path) -> bool:
    """Whether ``path`` holds exactly the bytes of one of the course's 224-px weight files."""
    entries = [e for e in dataset_files("mobilenet_v2") if e.path.startswith(_COURSE_WEIGHTS)]
    size = path.stat().st_size
    return any(e.size == size for e in entries) and \
        sha256_of(path) in {e.sha256 for e in entries if e.size == size}


def install_keras_weights() -> list[Path]:
    """Place the MobileNetV2 224-px weights and ImageNet class index in the Keras cache.

    Afterwards ``MobileNetV2(weights="imagenet")`` at 224 px (with or without
    its top) and ``decode_predictions`` work offline. The course's weights were
    trained at 224 px, so they go only under Keras' 224-px names; for other
    sizes use :func:`mobilenet_v2_weights`. Copies that earlier versions of
    this function placed under Keras' 160-px names (byte for byte the 224-px
    files) are removed. Files already in the cache, such as official ones
    Keras downloaded, are left alone. When the course's weight files cannot be
    obtained (no mirror), nothing is placed and Keras downloads the official
    files itself. Returns the paths placed.
    Example: ``install_keras_weights()`` then ``keras.applications.MobileNetV2(weights="imagenet")``.
    """
    target = keras_home() / "models"
    for top in ("", "_no_top"):  # mislabelled copies from before: not Keras' 160-px weights
        old = target / _MOBILENET.format(size=160, top=top)
        if old.is_file() and _is_course_copy(old):
            old.unlink()
    todo = {src: target / name for src, name in KERAS_WEIGHT_NAMES.items()
            if not (target / name).exists()}
    if not todo:
        return []
    try:
        root = ensure_dataset("mobilenet_v2", progress=False, only=list(KERAS_WEIGHT_NAMES))
    except DataError:
        if any(e.source is None for e in dataset_files("mobilenet_v2")) and not mirror():
            return []  # online without a mirror: Keras fetches the official files
        raise
    target.mkdir(parents=True, exist_ok=True)
    for src, dest in todo.items():
        tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.part"
        shutil.copyfile(root / src, tmp)
        os.replace(tmp, dest)
    return list(todo.values())


def _download_keras_file(name: str, timeout: float = 20.0) -> bool:
    """Try to download Keras' file ``name`` into the Keras cache; ``True`` if it is there now."""
    import contextlib
    import io
    import socket

    import keras

    saved = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # a blocked network fails in seconds, not minutes
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # no "Downloading ..." line when offline
            keras.utils.get_file(name, KERAS_MOBILENET_URL + name, cache_subdir="models")
    except Exception:  # offline, blocked or a server error: Keras raises several kinds
        return False
    finally:
        socket.setdefaulttimeout(saved)
    return (keras_home() / "models" / name).is_file()


def mobilenet_v2_weights(size: int = 224, include_top: bool = False,
                         download: bool = True) -> str:
    """The ``weights=`` argument for MobileNetV2 (alpha 1.0) at ``size`` x ``size`` px.

    Keras publishes ImageNet weights trained at 96, 128, 160, 192 and 224 px;
    the course's mirror has only weights trained at 224 px. Returns
    ``"imagenet"`` when Keras' own file for ``size`` is in the Keras cache or,
    with ``download``, can be downloaded now: Keras then loads weights trained
    at ``size``. Otherwise returns the path (a string) of a 224-px file, Keras'
    one from the cache if there, else the course's: weights trained at 224 px,
    which load at any input size but were trained on larger-looking objects.
    So ``"imagenet"`` means "trained at this size", a path means "trained at
    224 px". A cache file that is byte for byte the course's 224-px file under
    another size's name (placed by an older course version) does not count.
    Example: ``MobileNetV2(input_shape=(160, 160, 3), include_top=False,
    weights=mobilenet_v2_weights(160))``.
    """
    top = "" if include_top else "_no_top"
    cache = keras_home() / "models"
    if size in KERAS_MOBILENET_SIZES:
        name = _MOBILENET.format(size=size, top=top)
        own = cache / name
        if own.is_file() and (size == 224 or not _is_course_copy(own)):
            return "imagenet"
        if download and _download_keras_file(name):
            return "imagenet"
    at_224 = cache / _MOBILENET.format(size=224, top=top)
    if at_224.is_file():
        return str(at_224)
    src = _course_weight_file(include_top)
    return str(ensure_dataset("mobilenet_v2", progress=False, only=[src]) / src)
