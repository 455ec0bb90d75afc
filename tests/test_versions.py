"""The version checks that ``import utils`` and ``make`` run before TensorFlow loads.

Also checks that the supported matrix is written once: ``utils.versions``
(PYTHONS, PLATFORMS) agrees with ``requires-python`` in ``pyproject.toml``,
the README's "Supported machines" table, ``scripts/check_python.py`` (what
``make`` runs under any Python) and the resolver's last answer,
``scripts/check_platforms.md``.
"""

from __future__ import annotations

import importlib
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import tomllib

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from utils import versions
from utils.paths import REPO_ROOT

CURRENT = {"python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1"}
SUPPORTED = {"implementation": "CPython", "python": "3.12.4", "bits": "64",
             "system": "Linux", "machine": "x86_64"}
UNSUPPORTED = [SUPPORTED | {"python": "3.14.0"}, SUPPORTED | {"python": "3.10.13"},
               SUPPORTED | {"python": "3.8.18"}, SUPPORTED | {"bits": "32"},
               SUPPORTED | {"implementation": "PyPy"},
               SUPPORTED | {"system": "Darwin", "machine": "x86_64"},
               SUPPORTED | {"system": "Windows", "machine": "ARM64"},
               SUPPORTED | {"system": "FreeBSD", "machine": "amd64"}]


@pytest.fixture
def scripts(monkeypatch):
    """The scripts/ folder on sys.path, as when a script there runs."""
    monkeypatch.syspath_prepend(str(REPO_ROOT / "scripts"))
    return REPO_ROOT / "scripts"


@pytest.mark.parametrize("text, parts", [("2.21.0", (2, 21, 0)), ("3.8", (3, 8)),
                                         ("2.16.0rc1", (2, 16, 0)), ("3.10.dev0", (3, 10))])
def test_version_tuple(text, parts):
    assert versions.version_tuple(text) == parts


def test_a_string_that_is_no_version_has_no_numbers():
    assert versions.version_tuple("not a version") == ()


def test_a_current_environment_has_no_problems():
    assert versions.version_problems(CURRENT) == []
    assert versions.require_versions(CURRENT) is None


def test_this_environment_passes():
    assert versions.version_problems() == [], "the pinned requirements meet the minimums"
    assert versions.interpreter_problem() is None, "this machine is a supported one"


def test_keras_2_and_missing_tensorflow_are_named():
    old = CURRENT | {"keras": "2.15.0", "tensorflow": None}
    assert versions.version_problems(old) == ["TensorFlow is not installed",
                                              "Keras 2.15.0 (needs 3.8 or newer)"]


def test_one_readable_message_says_what_to_install():
    with pytest.raises(ImportError) as err:
        versions.require_versions(CURRENT | {"tensorflow": "2.15.1"})
    message = str(err.value)
    assert "TensorFlow 2.15.1 (needs 2.16 or newer)" in message
    assert "pip install -r requirements.txt" in message
    assert "\n" not in message, "one sentence, no traceback-like dump"


def test_version_numbers_compare_as_numbers_not_text():
    assert versions.MINIMUM["python"] == versions.PYTHONS[0] == "3.11"
    assert versions.version_problems(CURRENT | {"keras": "3.10.0"}) == []
    assert versions.version_problems(CURRENT | {"python": "3.9.18"}) == [
        "Python 3.9.18 (needs 3.11 or newer)"]


def test_a_release_candidate_of_the_minimum_is_accepted():
    assert versions.version_problems(CURRENT | {"tensorflow": "2.16.0rc1"}) == []


def test_spoken_list():
    assert versions.spoken_list(("3.11", "3.12", "3.13")) == "3.11, 3.12 or 3.13"
    assert versions.spoken_list(["arm64"]) == "arm64"


@pytest.mark.parametrize("python", [(3, 14, 0, "final", 0), (3, 10, 13, "final", 0)])
def test_import_utils_on_another_python_raises_one_actionable_line(monkeypatch, python):
    monkeypatch.setattr(sys, "version_info", python)
    with pytest.raises(ImportError) as err:
        versions.require_versions(CURRENT)
    message = str(err.value)
    assert "\n" not in message
    assert f"this is CPython {python[0]}.{python[1]}.{python[2]} (64-bit)" in message
    assert "needs 64-bit CPython 3.11, 3.12 or 3.13 on Linux (x86_64 or aarch64)" in message
    assert "pyenv install 3.13" in message and "make PYTHON=python3.13 setup" in message


def test_import_utils_on_an_unsupported_machine_says_a_python_will_not_help(monkeypatch):
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    with pytest.raises(ImportError) as err:
        versions.require_versions(CURRENT)
    message = str(err.value)
    assert "this is CPython" in message and "on macOS x86_64." in message
    assert "macOS (arm64)" in message
    assert "no wheels for this machine" in message and "pyenv" not in message
    assert "an arm64 Python, not an x86_64 one under Rosetta" in message


@pytest.mark.parametrize("found", UNSUPPORTED)
def test_unsupported_interpreters_and_machines(found):
    message = versions.interpreter_problem(found)
    assert message and "\n" not in message
    machine = f"{versions.SYSTEM_NAMES.get(found['system'], found['system'])} {found['machine']}"
    assert f"this is {found['implementation']} {found['python']} ({found['bits']}-bit) " \
           f"on {machine}." in message


@pytest.mark.parametrize("found", [SUPPORTED, SUPPORTED | {"python": "3.11.0"},
                                   SUPPORTED | {"python": "3.13.9"},
                                   SUPPORTED | {"machine": "aarch64"},
                                   SUPPORTED | {"system": "Darwin", "machine": "arm64"},
                                   SUPPORTED | {"system": "Windows", "machine": "AMD64"}])
def test_supported_interpreters_and_machines(found):
    assert versions.interpreter_problem(found) is None


def test_the_make_check_reads_the_same_matrix_and_says_the_same_line(scripts):
    check_python = importlib.import_module("check_python")
    constants = check_python.read_constants()
    assert constants == {name: getattr(versions, name) for name in check_python.NAMES}
    assert check_python.interpreter() == versions.interpreter()
    for found in [SUPPORTED, *UNSUPPORTED]:
        assert check_python.problem(found) == versions.interpreter_problem(found)


def test_the_make_check_passes_quietly_here(scripts):
    done = subprocess.run([sys.executable, str(scripts / "check_python.py")],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.skipif(shutil.which("make") is None or os.name != "posix",
                    reason="needs make and a POSIX shell")
def test_make_course_on_another_python_stops_within_seconds(tmp_path):
    # A stand-in for Python 3.14: this interpreter, telling the scripts it runs that it is 3.14.
    fake = tmp_path / "python3.14"
    fake.write_text(f"#!/bin/sh\nexec '{sys.executable}' -c 'import runpy, sys; "
                    "sys.version_info = (3, 14, 0, \"final\", 0); sys.argv = sys.argv[1:]; "
                    "runpy.run_path(sys.argv[0], run_name=\"__main__\")' \"$@\"\n")
    fake.chmod(0o755)
    venv = tmp_path / "venv"
    start = time.perf_counter()
    done = subprocess.run(["make", "--no-print-directory", f"PYTHON={fake}", f"VENV={venv}",
                           "course"], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120)
    seconds = time.perf_counter() - start
    assert done.returncode != 0
    assert seconds < 10, f"make took {seconds:.1f} s to refuse Python 3.14"
    assert not venv.exists(), "stopped before the virtual environment was made"
    ours = [line for line in done.stderr.splitlines() if not line.startswith("make")]
    assert len(ours) == 1 and ours[0].startswith("error: This course needs"), done.stderr
    assert "this is CPython 3.14.0" in ours[0] and "pyenv install 3.13" in ours[0]
    assert done.stdout == "", "nothing ran before the check"


def test_requires_python_is_the_supported_pythons():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    allowed = SpecifierSet(project["requires-python"])
    for minor in range(0, 30):
        supported = f"3.{minor}" in versions.PYTHONS
        assert (Version(f"3.{minor}.0") in allowed) == supported, f"Python 3.{minor}"
        assert (Version(f"3.{minor}.99") in allowed) == supported, f"Python 3.{minor}.99"


def test_pip_reads_requires_python_before_any_pin():
    # The pins are the project's dependencies, so pip checks requires-python first
    # (a pin as a line of requirements.txt would be looked up before it).
    lines = [line.strip() for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()]
    assert [line for line in lines if line and not line.startswith("#")] == ["-e ."]
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert "tensorflow==2.21.0" in project["dependencies"]


def readme_rows() -> list[list[str]]:
    """The rows of the README's "Supported machines" table, as lists of cells."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("### Supported machines", 1)[1].split("\n#", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines()
            if line.startswith("|") and not line.startswith("|---")]
    return [[cell.strip() for cell in row] for row in rows[1:]]


def test_the_readme_table_is_the_supported_matrix():
    rows = readme_rows()
    pairs = set()
    for row in rows:
        system, cpu, python = row[:3]
        assert python == ", ".join(versions.PYTHONS), row
        pairs.add((system.split()[0], re.search(r"`(\w+)`", cpu).group(1)))
    assert pairs == {(versions.SYSTEM_NAMES.get(system, system), machine)
                     for system, machines in versions.PLATFORMS.items() for machine in machines}


def test_the_committed_resolver_check_agrees(scripts):
    check_platforms = importlib.import_module("check_platforms")
    table = (scripts / "check_platforms.md").read_text()
    lines = [line.strip("|").split("|") for line in table.splitlines() if line.startswith("| ")]
    header, rows = [cell.strip() for cell in lines[0]], lines[1:]
    assert header[1:] == list(check_platforms.PLATFORMS)
    works = {(row[0].strip(), column) for row in rows
             for column, cell in zip(header[1:], row[1:]) if cell.strip() == "yes"}
    check_python = importlib.import_module("check_python")
    assert works == check_platforms.supported_cells(check_python.read_constants())


def test_pip_platform_options_cover_every_older_glibc(scripts):
    check_platforms = importlib.import_module("check_platforms")
    assert check_platforms.platform_options("manylinux_{glibc}_x86_64", "2.18", "14.0") == [
        "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux_2_18_x86_64",
        "--platform", "manylinux2014_x86_64"]
    assert check_platforms.platform_options("macosx_{macos}_arm64", "2.35", "14.0") == [
        "--platform", "macosx_14_0_arm64"]
