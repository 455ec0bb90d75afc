"""utils.fetch: the manifest; fetching from a mirror folder and over HTTP on 127.0.0.1,
what happens when it goes wrong (a killed fetch, a damaged file and --repair); and each
notebook fetching its data on first use."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

import utils.fetch as fetch
from tests.conftest import write_manifest
from utils.fetch import DataError, ensure_dataset


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".part")]


def test_fetch_from_mirror_folder(tiny):
    root = ensure_dataset("pets", mirror_base=str(tiny["mirror"]), progress=False)
    assert root == tiny["data"]
    for rel, content in tiny["files"].items():
        if rel.startswith("pets/"):
            assert (root / rel).read_bytes() == content
    assert not (root / "blob").exists(), "only the asked-for dataset is fetched"


def test_fetch_uses_environment_mirror_and_shows_progress(tiny, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(tiny["mirror"]))
    ensure_dataset("blob", progress=True)
    assert (tiny["data"] / "blob/data.bin").read_bytes() == tiny["files"]["blob/data.bin"]
    assert "fetching blob" in capsys.readouterr().err


def test_fetch_over_http_in_parallel(tiny, http_server):
    base = http_server(tiny["mirror"])
    ensure_dataset("pets", mirror_base=base, workers=4, progress=False)
    fetched = sorted(p.relative_to(tiny["data"]).as_posix()
                     for p in (tiny["data"] / "pets").rglob("*.jpg"))
    assert fetched == sorted(p for p in tiny["files"] if p.startswith("pets/"))
    assert leftovers(tiny["data"]) == []


def test_second_call_verifies_without_fetching(tiny):
    ensure_dataset("blob", mirror_base=str(tiny["mirror"]), progress=False)
    (tiny["mirror"] / "blob/data.bin").unlink()  # the mirror is no longer needed
    ensure_dataset("blob", mirror_base=str(tiny["mirror"]), progress=False)


@pytest.mark.parametrize("mode", ["cut", "wrong"])
def test_bad_download_leaves_no_file(tiny, http_server, mode):
    base = http_server(tiny["mirror"]) + f"/{mode}"
    with pytest.raises(DataError) as err:
        ensure_dataset("blob", mirror_base=base, progress=False)
    message = str(err.value)
    assert "blob/data.bin" in message and "What to do" in message
    assert not (tiny["data"] / "blob/data.bin").exists()
    assert leftovers(tiny["data"]) == []


def test_falls_back_from_mirror_to_public_url(tmp_path, monkeypatch, http_server):
    content = b"course data" * 100
    public = tmp_path / "public"
    (public / "files").mkdir(parents=True)
    (public / "files/remote.bin").write_bytes(content)
    base = http_server(public)
    manifest = write_manifest(tmp_path / "meta",
                              {"one": {"one/remote.bin": (content, "files/remote.bin")}},
                              url_base=base + "/")
    monkeypatch.setattr(fetch, "MANIFEST_PATH", manifest)
    empty_mirror = tmp_path / "empty-mirror"
    empty_mirror.mkdir()
    ensure_dataset("one", root=tmp_path / "data", mirror_base=str(empty_mirror), progress=False)
    assert (tmp_path / "data/one/remote.bin").read_bytes() == content


def test_unreachable_sources_give_one_clear_error(tiny):
    with pytest.raises(DataError) as err:
        ensure_dataset("blob", mirror_base="http://127.0.0.1:9/", progress=False)
    assert "Could not get" in str(err.value) and "COURSE_DATA_MIRROR" in str(err.value)


def test_good_file_is_never_overwritten(tiny, http_server):
    ensure_dataset("blob", mirror_base=str(tiny["mirror"]), progress=False)
    target = tiny["data"] / "blob/data.bin"
    before = target.stat().st_mtime_ns
    ensure_dataset("blob", mirror_base=http_server(tiny["mirror"]) + "/wrong", progress=False)
    assert target.stat().st_mtime_ns == before
    assert target.read_bytes() == tiny["files"]["blob/data.bin"]


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_local_file_is_reported_not_replaced(tiny, damage):
    ensure_dataset("blob", mirror_base=str(tiny["mirror"]), progress=False)
    target = tiny["data"] / "blob/data.bin"
    content = target.read_bytes()
    target.write_bytes(content[:100] if damage == "truncate" else content[::-1])
    damaged = target.read_bytes()
    with pytest.raises(DataError) as err:
        ensure_dataset("blob", mirror_base=str(tiny["mirror"]), progress=False)
    assert str(target) in str(err.value)
    assert "Run `python -m utils fetch --repair blob`" in str(err.value)
    assert target.read_bytes() == damaged


@pytest.mark.parametrize("bad", ["../outside.bin", "/etc/passwd", "a/../../outside.bin"])
def test_manifest_path_escaping_the_data_dir_is_refused(tmp_path, monkeypatch, bad):
    manifest = write_manifest(tmp_path / "meta", {"evil": {bad: (b"x", None)}})
    monkeypatch.setattr(fetch, "MANIFEST_PATH", manifest)
    with pytest.raises(DataError, match="outside the data"):
        ensure_dataset("evil", root=tmp_path / "data", mirror_base=str(tmp_path), progress=False)
    assert not (tmp_path / "outside.bin").exists()


def test_symlink_escaping_the_data_dir_is_refused(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(DataError, match="outside the data"):
        fetch.safe_join(root, "link/file.bin")


def test_tampered_file_list_is_detected(tiny):
    listing = tiny["manifest"].parent / "manifest/blob.tsv"
    listing.write_text(listing.read_text().replace("\t10240\t", "\t10241\t"))
    with pytest.raises(DataError, match="fingerprint"):
        fetch.dataset_files("blob")


def test_missing_or_broken_manifest(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, "MANIFEST_PATH", tmp_path / "manifest.json")
    with pytest.raises(DataError, match="missing"):
        fetch.load_manifest()
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid"):
        fetch.load_manifest()


def test_unknown_dataset_lists_the_known_ones(tiny):
    with pytest.raises(DataError, match="Known datasets: blob, pets"):
        fetch.dataset_files("nope")


def test_project_manifest_matches_the_real_files():
    """Every file the course uses is listed with a sha256; the fingerprints hold."""
    manifest = fetch.load_manifest()
    assert set(manifest["datasets"]) >= {"smiles", "signs", "alpaca", "mobilenet_v2",
                                         "happy_house", "signs_h5"}
    counts = {name: len(fetch.dataset_files(name)) for name in manifest["datasets"]}
    assert counts["smiles"] == 13165 and counts["signs"] == 1200 and counts["alpaca"] == 327
    train_happy = [e for e in fetch.dataset_files("happy_house")
                   if e.path.endswith("train_happy.h5")]
    assert train_happy[0].sha256.startswith("65cbc8a1")
    assert train_happy[0].source.startswith("https://")


def test_command_line_fetch(tiny):
    env = {"COURSE_DATA_DIR": str(tiny["data"]), "PATH": "/usr/bin:/bin",
           "COURSE_DATA_MIRROR": str(tiny["mirror"])}
    script = ("import sys, utils.fetch as d, utils.__main__ as m; "
              f"d.MANIFEST_PATH = __import__('pathlib').Path({str(tiny['manifest'])!r}); "
              "sys.exit(m.main(['fetch', 'pets']))")
    ok = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "pets: 12 files verified" in ok.stdout
    env["COURSE_DATA_MIRROR"] = str(tiny["mirror"] / "nowhere")
    failed = subprocess.run([sys.executable, "-c", script.replace("'pets'", "'blob'")],
                            env=env, capture_output=True, text=True)
    assert failed.returncode == 1 and "error: Could not get" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_default_fetch_covers_every_file_the_notebooks_read(monkeypatch, capsys):
    """`python -m utils fetch` with no names: whole datasets, and Happy House's test file."""
    import utils.__main__ as cli

    calls = []
    monkeypatch.setattr(cli, "ensure_dataset",
                        lambda name, only=None, repair=False: calls.append((name, only))
                        or Path("data"))
    monkeypatch.setattr(cli, "install_keras_weights", lambda: [])
    assert cli.fetch([]) == 0
    assert calls == [("smiles", None), ("signs", None), ("alpaca", None),
                     ("mobilenet_v2", None), ("happy_house", ("happy_house/test_happy.h5",))]
    assert "happy_house: 1 file verified" in capsys.readouterr().out
    calls.clear()
    assert cli.fetch(["happy_house"]) == 0  # named: all of it, training file included
    assert calls == [("happy_house", None)]


# ---------------------------------------------------------------- a killed fetch; --repair
# The killed fetch runs in a subprocess that imports utils.fetch without
# utils/__init__.py (which imports TensorFlow: 10 s and more), so it reaches the
# local server in about a second; the server stalls each file half way.
KILLABLE_FETCH = """
import sys, types
from pathlib import Path
package = types.ModuleType("utils")
package.__path__ = [{utils!r}]
sys.modules["utils"] = package
import utils.fetch as fetch
fetch.MANIFEST_PATH = Path({manifest!r})
fetch.ensure_dataset("pets", mirror_base={base!r}, progress=False)
"""
# Windows has no SIGKILL, and there an open part file is what keeps it from deletion.
posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX signals and process ids")


@posix_only
def test_killed_fetch_leaves_no_half_file_and_the_next_run_removes_its_parts(tiny, http_server):
    script = KILLABLE_FETCH.format(utils=str(Path(fetch.__file__).parent),
                                   manifest=str(tiny["manifest"]),
                                   base=http_server(tiny["mirror"]) + "/slow")
    fetcher = subprocess.Popen([sys.executable, "-c", script])  # COURSE_DATA_DIR: tiny's
    deadline = time.monotonic() + 60
    while not leftovers(tiny["data"]) and fetcher.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    fetcher.kill()  # SIGKILL: no `finally` runs, the parts stay
    fetcher.wait()
    assert fetcher.returncode == -signal.SIGKILL
    parts = leftovers(tiny["data"])
    assert parts and all(f".{fetcher.pid}-" in p.name for p in parts)
    finished = list((tiny["data"] / "pets").rglob("*.jpg"))
    assert len(finished) < 12, "the fetch was over before it was killed"
    for path in finished:  # a file under its final name is always whole
        assert path.read_bytes() == tiny["files"][path.relative_to(tiny["data"]).as_posix()]

    ensure_dataset("pets", mirror_base=str(tiny["mirror"]), progress=False)
    assert leftovers(tiny["data"]) == []
    for rel, content in tiny["files"].items():
        if rel.startswith("pets/"):
            assert (tiny["data"] / rel).read_bytes() == content


@posix_only
def test_only_the_parts_of_ended_fetches_are_removed(tiny):
    ensure_dataset("pets", mirror_base=str(tiny["mirror"]), progress=False)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    cat, other = tiny["data"] / "pets/cat", tiny["data"] / "other"

    def part(folder: Path, name: str, pid: int) -> Path:
        return folder / f".{name}.{pid}-{uuid.uuid4().hex}.part"

    stale = [part(cat, "0.jpg", ended.pid), part(cat, "1.jpg", os.getpid())]
    kept = [cat / "notes.part", cat / "photo.jpg.part", cat / ".0.jpg.part",
            cat / f".0.jpg.{ended.pid}.part",
            part(cat, "mine.jpg", ended.pid),  # not a file of the dataset
            part(other, "0.jpg", ended.pid),  # not a folder of the dataset
            part(cat, "2.jpg", os.getppid()),  # a running process's: a fetch in progress
            part(cat, "3.jpg", os.getpid())]  # this process's, written now
    other.mkdir()
    for path in stale + kept:
        path.write_bytes(b"learner's")
    # The same process id as an earlier run (a restarted container): older than this process.
    os.utime(stale[1], (fetch._STARTED - 60, fetch._STARTED - 60))
    ensure_dataset("pets", mirror_base=str(tiny["mirror"]), progress=False)
    assert [p for p in stale if p.exists()] == []
    assert [p for p in kept if not p.is_file() or p.read_bytes() != b"learner's"] == []


def test_repair_moves_a_damaged_file_aside_and_fetches_a_good_copy(tiny, monkeypatch, capsys):
    import utils.__main__ as cli

    monkeypatch.setenv("COURSE_DATA_MIRROR", str(tiny["mirror"]))
    assert cli.main(["fetch", "blob"]) == 0
    target = tiny["data"] / "blob/data.bin"
    target.write_bytes(b"damaged")
    assert cli.main(["fetch", "blob"]) == 1
    assert "Run `python -m utils fetch --repair blob`" in capsys.readouterr().err
    assert target.read_bytes() == b"damaged", "without --repair nothing is moved"

    assert cli.main(["fetch", "--repair", "blob"]) == 0
    out = capsys.readouterr().out
    [aside] = target.parent.glob("data.bin.corrupt-*")
    assert re.fullmatch(r"data\.bin\.corrupt-\d{8}-\d{6}", aside.name)
    assert aside.read_bytes() == b"damaged"
    assert target.read_bytes() == tiny["files"]["blob/data.bin"]
    assert f"{target}: damaged, moved aside as {aside.name}; fetching a good copy" in out
    assert "blob: 1 file verified" in out

    assert cli.main(["fetch", "--repair", "blob"]) == 0  # nothing left to repair
    assert "moved aside" not in capsys.readouterr().out
    assert sorted(target.parent.iterdir()) == sorted([target, aside])


def test_repair_without_a_source_keeps_the_damaged_file_aside(tiny, monkeypatch, capsys):
    import utils.__main__ as cli

    monkeypatch.setenv("COURSE_DATA_MIRROR", str(tiny["mirror"]))
    assert cli.main(["fetch", "blob"]) == 0
    (tiny["mirror"] / "blob/data.bin").unlink()  # no good copy anywhere now
    target = tiny["data"] / "blob/data.bin"
    target.write_bytes(b"damaged")
    assert cli.main(["fetch", "--repair", "blob"]) == 1
    captured = capsys.readouterr()
    [aside] = target.parent.glob("data.bin.corrupt-*")
    assert aside.read_bytes() == b"damaged" and not target.exists()
    assert f"moved aside as {aside.name}" in captured.out
    assert "error: Could not get" in captured.err and "COURSE_DATA_MIRROR" in captured.err
    assert "Traceback" not in captured.err


# ---------------------------------------------------------------- notebooks fetch on first use
# For every notebook, the code cells from the top down to the first cell that
# loads data, plus any later cell that loads more data (LATER_LOADS), run in a
# fresh kernel whose data directory and Keras cache are empty folders, with
# COURSE_DATA_MIRROR standing in for the internet. The cells must run without
# error and leave the notebook's dataset files, verified, in the empty folder.
# Without a mirror (online, no copy of the data) the test is skipped: it would
# download 150 MB.

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
LOADS_DATA = ("utils.load_", "utils.ensure_dataset(")
# The data each notebook needs: a dataset name (all its files) or one file's path.
NEEDS = {
    "01_smiles_sequential": ["smiles", "happy_house/test_happy.h5"],
    "02_signs_functional": ["signs"],
    "03_resnet50_signs": ["signs"],
    "04_alpaca_transfer_learning": ["alpaca", "mobilenet_v2"],
}

# A later cell that loads more data, found by a string only it contains. Its line with that
# string runs alone, straight after the first loading cell (the rest of the cell may need
# what the cells between define).
LATER_LOADS = {
    "01_smiles_sequential": 'utils.load_course_h5("happy_house", split="test")',
    "04_alpaca_transfer_learning": "utils.install_keras_weights()",
}


def course_mirror() -> str | None:
    """The mirror CI uses: ``COURSE_DATA_MIRROR``, else ``../shared/datasets``."""
    if os.environ.get("COURSE_DATA_MIRROR"):
        return os.environ["COURSE_DATA_MIRROR"]
    shared = ROOT.parent / "shared" / "datasets"
    return str(shared) if shared.is_dir() else None


def cells_until_first_load(path: Path) -> nbformat.NotebookNode:
    """The notebook cut after its first code cell that loads data, plus its later load."""
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and any(key in cell.source for key in LOADS_DATA):
            key = LATER_LOADS.get(path.stem)
            later = [c for c in notebook.cells[index + 1:]
                     if key and c.cell_type == "code" and key in c.source]
            assert len(later) == (1 if key else 0), f"{path.name}: not one cell with {key}"
            for cell in later:
                cell.source = "\n".join(line for line in cell.source.splitlines() if key in line)
            notebook.cells = notebook.cells[:index + 1] + later
            return notebook
    raise AssertionError(f"{path.name} has no cell that loads data ({LOADS_DATA})")


def test_every_notebook_is_covered():
    assert sorted(NEEDS) == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_notebook_fetches_its_data_on_first_use(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    mirror = course_mirror()
    if mirror is None:
        pytest.skip("no data mirror (COURSE_DATA_MIRROR or ../shared/datasets)")
    empty = tmp_path / "data"
    empty.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(empty))
    monkeypatch.setenv("KERAS_HOME", str(empty / "keras"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", mirror)
    notebook = cells_until_first_load(path)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()

    for name in NEEDS[path.stem]:
        if "/" in name:  # one file of a dataset
            dataset = name.split("/")[0]
            entry = next(e for e in fetch.dataset_files(dataset) if e.path == name)
            assert (empty / name).is_file(), f"{path.name}: {name} not fetched"
            fetch.verify_file(empty / name, entry)
            continue
        entries = fetch.dataset_files(name)
        present = [e for e in entries if (empty / e.path).is_file()]
        if name == "mobilenet_v2":  # only the Keras weight files are placed
            assert list((empty / "keras" / "models").glob("mobilenet_v2_*.h5")), \
                f"{path.name}: no MobileNetV2 weights in the empty Keras cache"
            continue
        assert len(present) == len(entries), \
            f"{path.name}: {len(present)} of {len(entries)} {name} files fetched"
