"""Ask pip's resolver on which Pythons and machines the pinned dependencies install.

Usage (needs the network; CI never runs it)::

    .venv/bin/python scripts/check_platforms.py > scripts/check_platforms.md

Run it whenever a pin in ``pyproject.toml`` changes. For every Python version
in :data:`PYTHONS` and every platform in :data:`PLATFORMS` it runs::

    pip install --dry-run --ignore-installed --only-binary=:all: \\
        --implementation cp --python-version 3.12 --platform win_amd64 ... PINS

with ``PINS`` the ``dependencies`` of ``pyproject.toml`` (``-e .`` itself is
left out: its ``requires-python`` would stop pip before the pins are looked
at). Where the resolver fails it asks again for each pin alone (``--no-deps``)
to name every pin that has no wheel there, not only the first. It prints a
Markdown table, then compares the "yes" cells with the supported matrix of
``utils/versions.py`` (:data:`utils.versions.PYTHONS` and
:data:`utils.versions.PLATFORMS`, read by ``scripts/check_python.py``) and
exits 1 if they differ: then update those constants, ``requires-python`` in
``pyproject.toml`` and the README's "Supported machines" table together
(``tests/test_versions.py`` checks that they agree with each other and with the
committed ``scripts/check_platforms.md``).

Linux stands for a glibc of version ``--glibc`` (default 2.35: Ubuntu 22.04)
and macOS for version ``--macos`` (default 14.0); wheels for older ones count.
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from check_python import read_constants  # scripts/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
# Column title -> (platform.system(), platform.machine()) as in utils.versions.PLATFORMS,
# and the pip platform tag with {glibc} / {macos} to fill in.
PLATFORMS = {
    "Linux x86-64": (("Linux", "x86_64"), "manylinux_{glibc}_x86_64"),
    "Linux aarch64": (("Linux", "aarch64"), "manylinux_{glibc}_aarch64"),
    "Windows x86-64": (("Windows", "AMD64"), "win_amd64"),
    "macOS arm64": (("Darwin", "arm64"), "macosx_{macos}_arm64"),
    "macOS x86-64": (("Darwin", "x86_64"), "macosx_{macos}_x86_64"),
}


def pins(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The ``dependencies`` of ``pyproject.toml``, e.g. ``['tensorflow==2.21.0', ...]``."""
    return tomllib.loads(pyproject.read_text())["project"]["dependencies"]


def platform_options(tag: str, glibc: str, macos: str) -> list[str]:
    """pip's ``--platform`` options for one tag; a manylinux tag stands for every older glibc.

    Example: ``platform_options("manylinux_{glibc}_x86_64", "2.18", "14.0")`` ->
    ``['--platform', 'manylinux_2_17_x86_64', '--platform', 'manylinux_2_18_x86_64',
    '--platform', 'manylinux2014_x86_64']`` (pip adds the older manylinux2010 and
    manylinux1 to the last one, and every older version to a macOS tag itself).
    """
    if "{glibc}" not in tag:
        return ["--platform", tag.format(macos=macos.replace(".", "_"))]
    major, minor = (int(part) for part in glibc.split("."))
    tags = [tag.format(glibc=f"{major}_{old}") for old in range(17, minor + 1)]
    tags.append("manylinux2014_" + tag.split("{glibc}_")[1])
    return [option for one in tags for option in ("--platform", one)]


def resolve(requirements: list[str], python: str, platform: list[str],
            no_deps: bool = False) -> tuple[bool, str]:
    """Whether pip's resolver finds wheels for ``requirements``, and its last error line."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(requirements) + "\n")
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet",
               "--ignore-installed", "--only-binary=:all:", "--implementation", "cp",
               "--python-version", python, *platform, "-r", listing.name]
    if no_deps:
        command.append("--no-deps")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    Path(listing.name).unlink()
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    return done.returncode == 0, (errors[-1] if errors else done.stderr.strip()[-200:])


def check(python: str, platform: list[str], requirements: list[str]) -> str:
    """One table cell: ``yes``, or ``no:`` and the pins without a wheel there."""
    ok, error = resolve(requirements, python, platform)
    if ok:
        return "yes"
    missing = [pin for pin in requirements if not resolve([pin], python, platform, True)[0]]
    if missing:
        return "no: " + ", ".join(missing)
    return "no: " + re.sub(r"\s+", " ", error.removeprefix("ERROR: "))  # a dependency's


def supported_cells(constants: dict) -> set[tuple[str, str]]:
    """The (Python, column) cells that ``utils/versions.py`` says are supported."""
    return {(python, column) for python in constants["PYTHONS"]
            for column, (machine, _) in PLATFORMS.items()
            if machine[1] in constants["PLATFORMS"].get(machine[0], ())}


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit 1 if it disagrees with ``utils/versions.py``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glibc", default="2.35", help="newest glibc of a Linux machine")
    parser.add_argument("--macos", default="14.0", help="macOS version of a Mac")
    parser.add_argument("--jobs", type=int, default=4, help="pip runs at a time")
    args = parser.parse_args(argv)
    requirements = pins()
    cells = [(python, column) for python in PYTHONS for column in PLATFORMS]
    with ThreadPoolExecutor(args.jobs) as pool:
        found = dict(zip(cells, pool.map(
            lambda cell: check(cell[0], platform_options(PLATFORMS[cell[1]][1], args.glibc,
                                                         args.macos), requirements), cells)))
    pip_version = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True,
                                 text=True).stdout.split()[1]
    print(f"# Where the pinned dependencies install\n\n"
          f"Written by `scripts/check_platforms.py` on {datetime.date.today()} with pip "
          f"{pip_version} (`--dry-run --only-binary=:all:`; Linux: glibc {args.glibc}, "
          f"macOS {args.macos}).\nPins: {', '.join(requirements)}.\n")
    print("| Python | " + " | ".join(PLATFORMS) + " |")
    print("|---" * (len(PLATFORMS) + 1) + "|")
    for python in PYTHONS:
        print(f"| {python} | " + " | ".join(found[python, column] for column in PLATFORMS) + " |")
    works = {cell for cell, text in found.items() if text == "yes"}
    claimed = supported_cells(read_constants())
    if works == claimed:
        print("\n`utils/versions.py` (PYTHONS, PLATFORMS) supports exactly the \"yes\" cells.")
        return 0
    print("\n`utils/versions.py` disagrees: "
          + "; ".join(f"Python {python} on {column} "
                      + ("works but is not supported" if (python, column) in works
                         else "is supported but does not install")
                      for python, column in sorted(works ^ claimed)) + ".")
    return 1


if __name__ == "__main__":
    sys.exit(main())
