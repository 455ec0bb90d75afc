"""The oldest library versions the course works with, checked before TensorFlow loads.

``import utils`` calls :func:`require_versions` first, so a learner with an
old TensorFlow or Keras 2 sees one sentence saying what to install instead of
a traceback from deep inside Keras. The check reads installed package
metadata only (nothing is imported), so it costs milliseconds.

The course is tested with the versions pinned in ``requirements.txt``; the
minimums below are the oldest releases that have everything the notebooks
call:

- TensorFlow 2.16: the first release whose ``tf.keras`` is Keras 3;
- Keras 3.8: the first with ``keras.layers.RandomShear`` (notebook 4);
- Python 3.10: the oldest Python TensorFlow 2.16 supports.
"""

from __future__ import annotations

import sys
from importlib import metadata

MINIMUM = {"python": "3.10", "tensorflow": "2.16", "keras": "3.8"}
INSTALL_HINT = "pip install -r requirements.txt (from the repository root)"


def version_tuple(version: str) -> tuple[int, ...]:
    """The leading numeric parts of a version string.

    Example: ``version_tuple("2.21.0rc1") == (2, 21, 0)``.
    """
    parts = []
    for piece in version.split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) < len(piece):
            break
    return tuple(parts)


def installed_versions() -> dict[str, str | None]:
    """The installed Python, TensorFlow and Keras versions (None if not installed).

    Example: ``installed_versions()["keras"]`` -> ``'3.15.1'``.
    """
    found: dict[str, str | None] = {"python": ".".join(map(str, sys.version_info[:3]))}
    for package in ("tensorflow", "keras"):
        found[package] = None
        # Some platforms publish TensorFlow under another distribution name.
        for name in (package, f"{package}-cpu", f"{package}-macos"):
            try:
                found[package] = metadata.version(name)
                break
            except metadata.PackageNotFoundError:
                continue
    return found


def version_problems(installed: dict[str, str | None] | None = None,
                     minimum: dict[str, str] = MINIMUM) -> list[str]:
    """List what is missing or older than the course needs (empty when all is fine).

    Example: ``version_problems({"python": "3.11.7", "tensorflow": "2.21.0",
    "keras": "2.15.0"})`` -> ``['Keras 2.15.0 (needs 3.8 or newer)']``.
    """
    installed = installed_versions() if installed is None else installed
    names = {"python": "Python", "tensorflow": "TensorFlow", "keras": "Keras"}
    problems = []
    for package, oldest in minimum.items():
        have = installed.get(package)
        if have is None:
            problems.append(f"{names.get(package, package)} is not installed")
        elif version_tuple(have) < version_tuple(oldest):
            problems.append(f"{names.get(package, package)} {have} "
                            f"(needs {oldest} or newer)")
    return problems


def require_versions(installed: dict[str, str | None] | None = None) -> None:
    """Raise one ``ImportError`` saying what to install if the environment is too old.

    Example: ``require_versions()`` returns None on a complete installation.
    """
    problems = version_problems(installed)
    if problems:
        raise ImportError(f"This course needs newer libraries: {'; '.join(problems)}. "
                          f"Install the tested versions with: {INSTALL_HINT}")
