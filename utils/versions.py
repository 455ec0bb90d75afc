"""The Pythons, machines and libraries the course works with, checked before TensorFlow loads.

``import utils`` calls :func:`require_versions` first: any Python 3 on another interpreter or
machine, or with an old TensorFlow or Keras 2, gets one sentence saying what to do. The constants
before the first function, the one place the supported matrix is written, are read from this
text by ``scripts/check_python.py`` (``make`` runs it before the virtual environment exists).
"""

from __future__ import annotations

import contextlib
import platform
import sys

# Python versions (major.minor) and, per platform.system(), platform.machine() values.
PYTHONS = ("3.11", "3.12", "3.13")
PLATFORMS = {"Linux": ("x86_64", "aarch64"), "Darwin": ("arm64",), "Windows": ("AMD64",)}
SYSTEM_NAMES = {"Darwin": "macOS"}
# The one-line message on another interpreter or machine; {fix} is one of the two after it.
MESSAGE = "This course needs 64-bit CPython {pythons} on {platforms}; this is {found}. {fix}"
GET_PYTHON = ("Install Python {newest} (https://www.python.org/downloads/ or `pyenv install "
              "{newest}`) and make the course's environment with it: `make PYTHON=python{newest} "
              "setup` or `python{newest} -m venv .venv` (README.md, Supported machines).")
GET_MACHINE = ("TensorFlow publishes no wheels for this machine: use one of those, for example "
               "through a Linux container or a cloud notebook; on a Mac with Apple silicon, use "
               "an arm64 Python, not an x86_64 one under Rosetta (README.md, Supported machines).")
# Oldest releases with all the notebooks call: TensorFlow 2.16 (Keras 3), Keras 3.8 (RandomShear)
MINIMUM = {"python": PYTHONS[0], "tensorflow": "2.16", "keras": "3.8"}
INSTALL_HINT = "pip install -r requirements.txt (from the repository root)"


def version_tuple(version: str) -> tuple[int, ...]:
    """Return the release numbers, ``()`` if invalid: ``version_tuple("2.21rc1") == (2, 21)``."""
    from packaging.version import InvalidVersion, Version  # here: a bare Python lacks packaging

    with contextlib.suppress(InvalidVersion):
        return Version(version).release
    return ()


def installed_versions() -> dict[str, str | None]:
    """Return the installed Python, TensorFlow and Keras versions, None for a missing one."""
    from importlib import metadata  # here: Python 3.7 has none, yet gets interpreter_problem's line

    found = {"python": ".".join(map(str, sys.version_info[:3]))}
    for package in ("tensorflow", "keras"):
        found[package] = None
        for name in (package, f"{package}-cpu", f"{package}-macos"):  # other platforms' names
            with contextlib.suppress(metadata.PackageNotFoundError):
                found[package] = found[package] or metadata.version(name)
    return found


def version_problems(installed: dict[str, str | None] | None = None,
                     minimum: dict[str, str] = MINIMUM) -> list[str]:
    """List what is missing or too old, e.g. ``['Keras 2.15.0 (needs 3.8 or newer)']``."""
    installed = installed_versions() if installed is None else installed
    names, problems = {"python": "Python", "tensorflow": "TensorFlow", "keras": "Keras"}, []
    for package, oldest in minimum.items():
        have, name = installed.get(package), names.get(package, package)
        if have is None:
            problems.append(f"{name} is not installed")
        elif version_tuple(have) < version_tuple(oldest):
            problems.append(f"{name} {have} (needs {oldest} or newer)")
    return problems


def interpreter() -> dict[str, str]:
    """Describe this interpreter and machine: ``interpreter()["machine"]`` -> ``'x86_64'``."""
    return {"implementation": platform.python_implementation(),
            "python": ".".join(map(str, sys.version_info[:3])),
            "bits": "64" if sys.maxsize > 2**32 else "32",
            "system": platform.system(), "machine": platform.machine()}


def spoken_list(items: list[str] | tuple[str, ...]) -> str:
    """Join items as a sentence lists them: ``spoken_list(["3.11", "3.12"]) == "3.11 or 3.12"``."""
    return " or ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


def interpreter_problem(found: dict[str, str] | None = None) -> str | None:
    """Return one line naming the supported Pythons and machines and how to get one, or None.

    ``found``: an :func:`interpreter` dict (default: this one). Example: ``interpreter_problem()``.
    """
    found = interpreter() if found is None else found
    machine_ok = found["machine"].lower() in [m.lower() for m in PLATFORMS.get(found["system"], ())]
    if machine_ok and (found["implementation"], found["bits"]) == ("CPython", "64") \
            and ".".join(found["python"].split(".")[:2]) in PYTHONS:
        return None
    platforms = spoken_list([f"{SYSTEM_NAMES.get(system, system)} ({spoken_list(cpus)})"
                             for system, cpus in PLATFORMS.items()])
    return MESSAGE.format(
        pythons=spoken_list(PYTHONS), platforms=platforms,
        found=(f"{found['implementation']} {found['python']} ({found['bits']}-bit) on "
               f"{SYSTEM_NAMES.get(found['system'], found['system'])} {found['machine']}"),
        fix=(GET_PYTHON if machine_ok else GET_MACHINE).format(newest=PYTHONS[-1]))


def require_versions(installed: dict[str, str | None] | None = None) -> None:
    """Raise one ``ImportError`` saying what to do on another interpreter, machine or libraries."""
    problem = interpreter_problem()
    if problem:
        raise ImportError(problem)
    problems = version_problems(installed)
    if problems:
        raise ImportError(f"This course needs newer libraries: {'; '.join(problems)}. "
                          f"Install the tested versions with: {INSTALL_HINT}")
