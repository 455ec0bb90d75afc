"""Stop at once, in one line, when this Python or machine cannot run the course.

Usage (``make`` runs it under ``$(PYTHON)`` before it creates the virtual
environment, so before pip downloads anything)::

    python3 scripts/check_python.py

Prints nothing and exits 0 on a supported interpreter and machine; otherwise
prints one line on stderr naming the Pythons and machines that work and how to
get one, and exits 1.

It must run under the very interpreters it turns away, so it uses the
standard library only and syntax that any Python 3 (and 2.7) reads. The
supported versions and the message are not written here: they are read from
the text of ``utils/versions.py`` (the part before its first function), whose
``interpreter_problem`` gives the same line; ``tests/test_versions.py`` checks
that both agree.
"""

from __future__ import print_function

import ast
import io
import os
import platform
import sys

VERSIONS_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "utils", "versions.py")
NAMES = ("PYTHONS", "PLATFORMS", "SYSTEM_NAMES", "MESSAGE", "GET_PYTHON", "GET_MACHINE")


def read_constants(path=VERSIONS_PY):
    """The constants in NAMES, as values, from the source of ``utils/versions.py``.

    Example: ``read_constants()["PYTHONS"]`` -> ``('3.11', '3.12', '3.13')``.
    """
    with io.open(path, encoding="utf-8") as source:
        text = source.read()
    head = text.split("\ndef ", 1)[0]  # plain assignments: readable by any Python 3
    found = {}
    for node in ast.parse(head).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name in NAMES:
                found[name] = ast.literal_eval(node.value)
    return found


def interpreter():
    """This interpreter and machine, as ``utils.versions.interpreter`` describes them."""
    return {"implementation": platform.python_implementation(),
            "python": ".".join(str(part) for part in sys.version_info[:3]),
            "bits": "64" if sys.maxsize > 2 ** 32 else "32",
            "system": platform.system(), "machine": platform.machine()}


def spoken_list(items):
    """Items joined the way a sentence lists them: ``3.11, 3.12 or 3.13``."""
    items = list(items)
    return " or ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


def problem(found=None, constants=None):
    """The one-line message for ``found`` (default: this interpreter), or None if supported."""
    found = interpreter() if found is None else found
    c = read_constants() if constants is None else constants
    machines = [machine.lower() for machine in c["PLATFORMS"].get(found["system"], ())]
    machine_ok = found["machine"].lower() in machines
    minor = ".".join(found["python"].split(".")[:2])
    if (machine_ok and found["implementation"] == "CPython" and found["bits"] == "64"
            and minor in c["PYTHONS"]):
        return None
    names = c["SYSTEM_NAMES"]
    platforms = spoken_list(["{0} ({1})".format(names.get(system, system), spoken_list(cpus))
                             for system, cpus in c["PLATFORMS"].items()])
    found_text = "{0} {1} ({2}-bit) on {3} {4}".format(
        found["implementation"], found["python"], found["bits"],
        names.get(found["system"], found["system"]), found["machine"])
    fix = c["GET_PYTHON"] if machine_ok else c["GET_MACHINE"]
    return c["MESSAGE"].format(pythons=spoken_list(c["PYTHONS"]), platforms=platforms,
                               found=found_text, fix=fix.format(newest=c["PYTHONS"][-1]))


def main():
    """Exit 0 quietly on a supported interpreter, else print the message and exit 1."""
    message = problem()
    if message:
        print("error: " + message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
