"""``python -m utils doctor``: each failing condition, faked, gives its line and exit status.

Every check but the ones under test is stubbed as OK (the ``run`` fixture), so no test
loads or trains anything it does not check, and the speed probe is faked throughout.
"""

from __future__ import annotations

import json
import os
import shutil
from types import SimpleNamespace

import pytest
import tensorflow as tf

from tests.conftest import write_tree
from utils import course, doctor, machine, versions
from utils.__main__ import main

REAL = {name: getattr(doctor, name) for name in dir(doctor) if name.startswith("check_")}
REAL_MEMORY = REAL["check_memory"]


@pytest.fixture(autouse=True)
def no_probe(monkeypatch):
    """The real probe takes seconds: a test that needs a figure fakes one."""
    def probe():
        raise AssertionError("the speed probe ran")
    monkeypatch.setattr(machine, "speed_probe", probe)


@pytest.fixture
def run(monkeypatch, capsys):
    """Run ``doctor`` with the named checks real and the others stubbed as OK."""
    def run_doctor(*real: str, full: bool = False, as_json: bool = False) -> tuple[int, str]:
        for name, check in REAL.items():
            def stub(*args, _name=name.removeprefix("check_")):  # e.g. "data signs"
                return "OK", " ".join([_name, *map(str, args[:1])]), "stub"
            monkeypatch.setattr(doctor, name, check if name in real else stub)
        code = doctor.doctor(full=full, as_json=as_json)
        return code, capsys.readouterr().out
    return run_doctor


def line(out: str, name: str) -> tuple[str, str]:
    """The status and message that the printed report gives check ``name``."""
    found = [text for text in out.splitlines() if text[6:].split("  ")[0] == name]
    assert len(found) == 1, out
    return found[0][:4].strip(), found[0][6 + max(20, len(name)) + 2:]


def test_all_ok_exits_0_with_one_line_per_check(run):
    code, out = run()
    assert code == 0
    assert line(out, "model resnet50_signs") == ("OK", "stub")
    assert out.splitlines()[-1].startswith("0 FAIL, 0 WARN of 17 checks in ")


@pytest.mark.parametrize("found, expected", [
    ({"python": "3.10.4"}, "Install Python 3.13"),
    ({"machine": "riscv64"}, "TensorFlow publishes no wheels for this machine"),
])
def test_unsupported_python_or_platform(run, monkeypatch, found, expected):
    fake = versions.interpreter() | {"system": "Linux"} | found
    monkeypatch.setattr(versions, "interpreter", lambda: fake)
    monkeypatch.setattr(doctor, "interpreter", lambda: fake)
    code, out = run("check_python")
    status, message = line(out, "python")
    assert code == 1 and status == "FAIL"
    assert f"this is CPython {fake['python']} (64-bit) on Linux {fake['machine']}" in message
    assert expected in message


def test_supported_python(run):
    code, out = run("check_python")
    assert code == 0 and line(out, "python")[0] == "OK"


def test_version_mismatch_says_which_numbers_may_differ(run, monkeypatch):
    have = versions.installed_versions()
    monkeypatch.setattr(doctor, "installed_versions", lambda: have | {"tensorflow": "2.20.0"})
    code, out = run("check_versions")
    assert code == 0, "a mismatch warns, it does not fail"
    assert line(out, "versions") == ("WARN", "tensorflow 2.20.0 (pinned 2.21.0): printed "
                                     "metrics and checked outputs may not match the committed "
                                     "notebooks; `pip install -r requirements.txt` installs "
                                     "the pins")
    monkeypatch.setattr(doctor, "installed_versions", lambda: have | {"tqdm": "4.0.0"})
    status, message = line(run("check_versions")[1], "versions")
    assert status == "WARN"
    assert message.startswith("tqdm 4.0.0 (pinned 4.70.1): no number of the course changes")
    monkeypatch.setattr(doctor, "installed_versions", lambda: have)
    assert line(run("check_versions")[1], "versions") == ("OK", "all 14 as pinned")


def test_no_gpu_then_a_faked_gpu(run, monkeypatch):
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    code, out = run("check_tensorflow")
    status, message = line(out, "tensorflow")
    assert code == 0 and status == "OK"
    assert message.startswith(f"TensorFlow {tf.__version__}, Keras ")
    assert "no GPU" in message and message.endswith(": the course runs on the CPU")
    gpu = tf.config.PhysicalDevice(name="/physical_device:GPU:0", device_type="GPU")
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [gpu])
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda device: {"device_name": "NVIDIA H100", "compute_capability": (9, 0)})
    code, out = run("check_tensorflow", "check_cpu")
    assert line(out, "tensorflow")[1].endswith("; GPU NVIDIA H100 (compute capability 9.0)")
    assert "; precision mixed_bfloat16 in notebook 3, float32 in the others" in line(out, "cpu")[1]


def test_tensorflow_that_does_not_import_fails(run, monkeypatch):
    def check_tensorflow():
        raise ImportError("libcudart.so.12: cannot open shared object file")
    monkeypatch.setitem(REAL, "check_tensorflow", check_tensorflow)
    code, out = run("check_tensorflow")
    assert code == 1
    assert line(out, "tensorflow") == ("FAIL", "ImportError: libcudart.so.12: cannot open "
                                               "shared object file")


def test_onednn_off_warns(run, monkeypatch):
    monkeypatch.setattr(doctor.platform, "machine", lambda: "x86_64")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    assert line(run("check_cpu")[1], "cpu")[0] == "OK"
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    code, out = run("check_cpu")
    status, message = line(out, "cpu")
    assert code == 0 and status == "WARN"
    assert "TF_ENABLE_ONEDNN_OPTS=0;" in message and message.endswith(": unset it")


@pytest.fixture
def data(tiny, monkeypatch):
    """The ``tiny`` fixture's manifest as the course's datasets."""
    monkeypatch.setattr(doctor, "COURSE_DATASETS", ("pets", "blob"))
    return tiny


def test_missing_data(run, data):
    code, out = run("check_data")
    assert code == 1
    assert line(out, "data pets") == ("FAIL", "12 of 12 files missing (e.g. pets/cat/0.jpg): "
                                              "run `python -m utils fetch`")


def test_corrupt_files_quick_and_full(run, data):
    shutil.copytree(data["mirror"], data["data"], dirs_exist_ok=True)
    code, out = run("check_data")
    assert code == 0
    assert line(out, "data pets") == ("OK", "12 file(s), right sizes; SHA-256 right: 6 (a "
                                            "sample; --full: all)")
    assert line(run("check_data", full=True)[1], "data blob") == (
        "OK", "1 file(s), right sizes; SHA-256 right: all")
    # Other bytes of the same size in a file the quick sample (files 0, 2, 4, ...) leaves out:
    # only --full reads it.
    unsampled = data["data"] / "pets/cat/1.jpg"
    unsampled.write_bytes(bytes(b ^ 0xFF for b in unsampled.read_bytes()))
    assert run("check_data")[0] == 0
    code, out = run("check_data", full=True)
    status, message = line(out, "data pets")
    assert code == 1 and status == "FAIL"
    assert message.startswith(f"{data['data']}/pets/cat/1.jpg has the wrong sha256 checksum")
    # A sampled file with other bytes, and a cut file anywhere, fail the quick check too.
    sampled = data["data"] / "pets/cat/0.jpg"
    sampled.write_bytes(bytes(b ^ 0xFF for b in sampled.read_bytes()))
    code, out = run("check_data")
    assert code == 1 and "pets/cat/0.jpg has the wrong sha256" in line(out, "data pets")[1]
    sampled.write_bytes(data["files"]["pets/cat/0.jpg"])
    unsampled.write_bytes(data["files"]["pets/cat/1.jpg"])
    (data["data"] / "pets/dog/3.jpg").write_bytes(data["files"]["pets/dog/3.jpg"][:100])
    code, out = run("check_data")
    assert code == 1 and "pets/dog/3.jpg has 100 bytes" in line(out, "data pets")[1]


def test_no_disk(run, data, monkeypatch):
    missing = sum(len(content) for content in data["files"].values()) / 1e9
    monkeypatch.setattr(shutil, "disk_usage", lambda path: SimpleNamespace(free=10**8))
    code, out = run("check_disk")
    assert code == 1
    assert line(out, "disk") == ("FAIL", f"0.1 GB free in {data['data']}; needs 0.42 GB (data "
                                         f"still missing {missing:.2f}, models 0.32, a course "
                                         "run 0.1): free space")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: SimpleNamespace(free=10**12))
    assert run("check_disk")[0] == 0


def test_memory_low_unknown_and_enough(run, tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    monkeypatch.setitem(REAL, "check_memory", lambda: REAL_MEMORY(meminfo))
    meminfo.write_text("MemTotal: 8000000 kB\nMemAvailable: 3000000 kB\n")
    code, out = run("check_memory")
    assert code == 1
    assert line(out, "memory") == ("FAIL", "3.1 GB available; the course needs 5.5 GB: close "
                                           "other programs")
    meminfo.write_text("MemAvailable: 5000000 kB\n")
    code, out = run("check_memory")
    assert code == 0 and line(out, "memory")[0] == "WARN"
    meminfo.write_text("MemAvailable: 9000000 kB\n")
    assert line(run("check_memory")[1], "memory") == ("OK", "9.2 GB available; the course "
                                                            "needs 5.5 GB")
    meminfo.unlink()

    def no_sysconf(name):
        raise ValueError(name)
    monkeypatch.setattr(os, "sysconf", no_sysconf)
    code, out = run("check_memory")
    assert code == 0, "unknown memory warns, it does not fail"
    assert line(out, "memory") == ("WARN", "unknown here; the course needs 5.5 GB")


def test_data_source(run, monkeypatch, tmp_path):
    urls = "the public URLs of datasets/manifest.json"
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    assert line(run("check_source")[1], "data source") == ("OK", urls)
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(tmp_path))
    assert line(run("check_source")[1], "data source") == (
        "OK", f"COURSE_DATA_MIRROR={tmp_path}, then {urls}")
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(tmp_path / "nowhere"))
    code, out = run("check_source")
    assert code == 0 and line(out, "data source")[0] == "WARN"


def test_missing_model_names_its_notebook(run, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path))
    code, out = run("check_model")
    assert code == 0, "a missing model warns: its notebook makes it"
    assert line(out, "model signs") == ("WARN", "not saved yet: run "
                                                "notebooks/02_signs_functional.ipynb")


def test_model_that_fails_to_load(run, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path))
    write_tree(tmp_path, {"alpaca.keras": b"not a zip archive"})
    code, out = run("check_model")
    status, message = line(out, "model alpaca")
    assert code == 1 and status == "FAIL"
    assert message.startswith(f"{tmp_path}/alpaca.keras is not a Keras model file")
    assert message.endswith("run notebooks/04_alpaca_transfer_learning.ipynb again (or "
                            "`make course`) to save it anew.")
    assert line(out, "model smiles")[0] == "WARN", "the other models are still checked"


def test_missing_reference_does_not_guess(run, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    code, out = run("check_estimate")  # no_probe: the probe does not run
    assert code == 0
    assert line(out, "estimate") == ("WARN", "no recorded reference: run `python -m "
                                             "utils.course` once")


def test_estimate_arithmetic():
    assert doctor.estimate(100, [40, 60], [80, 120]) == pytest.approx([100 / 3, 50, 75])
    assert doctor.estimate(60, [50, 50], [50, 50]) == [60, 60, 60], "same speed, same time"
    assert doctor.estimate(60, [50, 50], [100, 100]) == [30, 30, 30], "twice as fast"


def test_estimate_from_the_course_runs_record(run, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    course.write_course_run(tmp_path, (90.0, 110.0), {"01_a": 120.0, "02_b": 60.0})
    monkeypatch.setattr(machine, "speed_probe", lambda: (180.0, 220.0))
    code, out = run("check_estimate")
    status, message = line(out, "estimate")
    assert code == 0 and status == "OK"
    assert message.startswith("01 1.0 min (0.8-1.2); 02 0.5 min (0.4-0.6); all 1.5 min "
                              "(1.2-1.8): probe 180-220 images/s here, 90-110 in the "
                              f"reference run on {machine.device_name()}")


def test_a_check_that_raises_is_a_fail_naming_the_error(run, monkeypatch):
    def check_data(name, full=False):
        raise KeyError("datasets")
    monkeypatch.setitem(REAL, "check_data", check_data)
    code, out = run("check_data")
    assert code == 1 and line(out, "data smiles") == ("FAIL", "KeyError: 'datasets'")


def test_json_for_a_bug_report(run, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path))
    write_tree(tmp_path, {"smiles.keras": b""})
    code, out = run("check_model", as_json=True)
    report = json.loads(out)
    assert code == 1
    by_name = {check["name"]: check for check in report["checks"]}
    assert len(by_name) == 17 and by_name["model smiles"]["status"] == "FAIL"
    assert "is empty (0 bytes)" in by_name["model smiles"]["message"]
    assert by_name["model signs"] == {"status": "WARN", "name": "model signs", "message":
                                      "not saved yet: run notebooks/02_signs_functional.ipynb"}
    assert report["interpreter"]["python"] == versions.interpreter()["python"]


def test_command_line(run, monkeypatch, capsys):
    run()  # stubs every check
    assert main(["doctor", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["checks"]) == 17
    monkeypatch.setattr(doctor, "check_disk", lambda: ("FAIL", "disk", "0.0 GB free"))
    assert main(["doctor", "--full"]) == 1
    assert line(capsys.readouterr().out, "disk") == ("FAIL", "0.0 GB free")
