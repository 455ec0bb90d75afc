"""Fetching: from a mirror folder, over HTTP on 127.0.0.1, and what happens when it goes wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import utils.data as data
from tests.conftest import write_manifest
from utils.data import DataError, ensure_dataset


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
    manifest = write_manifest(tmp_path / "meta", {"one": {"one/remote.bin": (content, "files/remote.bin")}},
                              url_base=base + "/")
    monkeypatch.setattr(data, "MANIFEST_PATH", manifest)
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
    assert str(target) in str(err.value) and "Delete it" in str(err.value)
    assert target.read_bytes() == damaged


@pytest.mark.parametrize("bad", ["../outside.bin", "/etc/passwd", "a/../../outside.bin"])
def test_manifest_path_escaping_the_data_dir_is_refused(tmp_path, monkeypatch, bad):
    manifest = write_manifest(tmp_path / "meta", {"evil": {bad: (b"x", None)}})
    monkeypatch.setattr(data, "MANIFEST_PATH", manifest)
    with pytest.raises(DataError, match="outside the data"):
        ensure_dataset("evil", root=tmp_path / "data", mirror_base=str(tmp_path), progress=False)
    assert not (tmp_path / "outside.bin").exists()


def test_symlink_escaping_the_data_dir_is_refused(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(DataError, match="outside the data"):
        data.safe_join(root, "link/file.bin")


def test_tampered_file_list_is_detected(tiny):
    listing = tiny["manifest"].parent / "manifest/blob.tsv"
    listing.write_text(listing.read_text().replace("\t10240\t", "\t10241\t"))
    with pytest.raises(DataError, match="fingerprint"):
        data.dataset_files("blob")


def test_missing_or_broken_manifest(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MANIFEST_PATH", tmp_path / "manifest.json")
    with pytest.raises(DataError, match="missing"):
        data.load_manifest()
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid"):
        data.load_manifest()


def test_unknown_dataset_lists_the_known_ones(tiny):
    with pytest.raises(DataError, match="Known datasets: blob, pets"):
        data.dataset_files("nope")


def test_project_manifest_matches_the_real_files():
    """Every file the course uses is listed with a sha256; the fingerprints hold."""
    manifest = data.load_manifest()
    assert set(manifest["datasets"]) >= {"smiles", "signs", "alpaca", "mobilenet_v2",
                                         "happy_house", "signs_h5"}
    counts = {name: len(data.dataset_files(name)) for name in manifest["datasets"]}
    assert counts["smiles"] == 13165 and counts["signs"] == 1200 and counts["alpaca"] == 327
    train_happy = [e for e in data.dataset_files("happy_house") if e.path.endswith("train_happy.h5")]
    assert train_happy[0].sha256.startswith("65cbc8a1") and train_happy[0].source.startswith("https://")


def test_command_line_fetch(tiny):
    env = {"COURSE_DATA_DIR": str(tiny["data"]), "PATH": "/usr/bin:/bin",
           "COURSE_DATA_MIRROR": str(tiny["mirror"])}
    script = ("import sys, utils.data as d, utils.__main__ as m; "
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
                        lambda name, only=None: calls.append((name, only)) or Path("data"))
    monkeypatch.setattr(cli, "install_keras_weights", lambda: [])
    assert cli.fetch([]) == 0
    assert calls == [("smiles", None), ("signs", None), ("alpaca", None),
                     ("mobilenet_v2", None), ("happy_house", ("happy_house/test_happy.h5",))]
    assert "happy_house: 1 file verified" in capsys.readouterr().out
    calls.clear()
    assert cli.fetch(["happy_house"]) == 0  # named: all of it, training file included
    assert calls == [("happy_house", None)]
