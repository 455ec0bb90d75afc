"""The house style of the course notebooks, checked on the JSON alone.

Nothing here executes a notebook or imports TensorFlow: every rule reads the
``.ipynb`` file as a dict (``json.load``) and returns a list of problems, each
naming the notebook and the cell, so the static test can run first and in
seconds. ``tests/test_notebooks_static.py`` applies the rules to
``notebooks/`` and proves each rule on a small notebook it builds.

Cells are named as ``01_x.ipynb cell 14 (code cell 7)``: the position among
all cells, as Jupyter shows them top to bottom, both counted from 1.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

MAX_CODE_LINES = 15

# Cells allowed to be longer than MAX_CODE_LINES: (notebook stem, a string only
# that cell contains) -> why it stays in one piece. An entry that no longer
# matches a long cell fails the test, so the list cannot silently grow stale.
LONG_CELL_ALLOWED: dict[tuple[str, str], str] = {}  # issue 30: none; every cell fits

# Size budget per notebook file, in bytes. Nearly all of a notebook's size is
# its inline PNG figures (about 30-150 kB each); the text is under 100 kB. The
# budgets are the sizes of the full run of November 2026 plus about 20 % for
# a re-run drawing slightly different pictures, rounded up. Beyond them GitHub
# renders the notebook slowly (it gives up on very large ones), every re-run
# adds that much to the clone, and usually a figure was added that should
# have been smaller (lower dpi, fewer panels) or a plot loop drew too many.
SIZE_BUDGET = {
    "01_smiles_sequential": 1_500_000,
    "02_signs_functional": 1_500_000,
    "03_resnet50_signs": 1_500_000,
    "04_alpaca_transfer_learning": 1_500_000,
}
DEFAULT_SIZE_BUDGET = 1_500_000  # GitHub has failed to render notebooks of 2.6 MB

# How much a learner reads (issue 30): markdown words per notebook and per cell, and cells.
MAX_MARKDOWN_WORDS = 4_000
MAX_CELL_WORDS = 200
MAX_CELLS = 80

# Math GitHub's Markdown mangles before MathJax sees it: CommonMark drops the backslash of an
# escaped ASCII punctuation mark (``\{`` -> ``{``, ``\,`` -> ``,``), and an underscore right after
# a closing bracket can open emphasis that a later underscore closes (``\hat{y}_i ... x_j``).
MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.DOTALL)
ESCAPED_PUNCTUATION = re.compile(r"\\[!-/:-@\[-`{-~]")
BRACKET_UNDERSCORE = re.compile(r"[)\]}]_")

NBVAL_MARKERS = {"NBVAL_CHECK_OUTPUT", "NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP",
                 "NBVAL_RAISES_EXCEPTION"}
NBVAL_TAGS = {"nbval-check-output", "nbval-ignore-output", "nbval-skip",
              "nbval-raises-exception", "raises-exception"}

MACHINE_PATH = re.compile(
    r"(?<![\w.~])(/work|/home|/root|/tmp|/Users|/private/var|/var/folders|/mnt)/"
    r"|\b[A-Za-z]:\\{1,2}Users\\", re.IGNORECASE)
# What differs from one run to the next and must stay out of checked outputs.
RUN_VARYING = {
    "a timing": re.compile(r"\b\d+(\.\d+)?\s?(ms|us|µs|s|sec|seconds|min|minutes)"
                           r"(/step|/epoch)?\b"),
    "a memory address": re.compile(r"\b0x[0-9a-fA-F]{6,}\b"),
    "a date or clock time": re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}:\d{2}\b"),
}
RUN_VARYING_CALLS = ("time.time(", "time.perf_counter(", "datetime.now(", "id(")

TITLE = re.compile(r"# Notebook (\d+) · \S.*")
TESTED_WITH = re.compile(
    r"\*Tested with Python (?P<python>\S+), TensorFlow (?P<tensorflow>\S+), "
    r"Keras (?P<keras>\S+) on (?P<device>.+), precision (?P<precision>\w+)"
    r"(, (?P<time>(\d+ min )?\d+ s))? \(last run by `python -m utils\.course`\)\.\*")
LEARN = "**What you will learn**"
DATA = "**Data.**"
UNNUMBERED = ("Setup", "Summary", "Try it yourself")
SECTION = re.compile(r"## (\d+) · \S")
OTHER_NUMBERING = re.compile(r"#+\s+(\d+[.)]|\d+\.\d+|[IVX]+\.|Part \d|Step \d|Section \d)")


def read_notebook(path: Path) -> dict:
    """Read a notebook file as plain JSON (no nbformat, no validation).

    Example: ``read_notebook(Path("notebooks/01_smiles_sequential.ipynb"))["cells"]``.
    """
    return json.loads(Path(path).read_text(encoding="utf-8"))


def text(value) -> str:
    """Join a notebook string field, stored as a string or a list of lines."""
    return "".join(value) if isinstance(value, list) else (value or "")


def cell_name(nb: dict, index: int, name: str) -> str:
    """``'01_x.ipynb cell 14 (code cell 7)'`` for the cell at ``index`` (0-based)."""
    cell = nb["cells"][index]
    where = f"{name} cell {index + 1}"
    if cell["cell_type"] == "code":
        number = sum(c["cell_type"] == "code" for c in nb["cells"][: index + 1])
        where += f" (code cell {number})"
    return where


def code_cells(nb: dict) -> list[tuple[int, dict]]:
    """The code cells with their positions."""
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def output_text(output: dict) -> str:
    """The readable text of one output: a stream, a result's text, an error."""
    if output.get("output_type") == "stream":
        return text(output.get("text"))
    if output.get("output_type") == "error":
        return "\n".join([output.get("ename", ""), output.get("evalue", "")]
                         + list(output.get("traceback", [])))
    data = output.get("data", {})
    return "\n".join(text(data[kind]) for kind in ("text/plain", "text/markdown", "text/html")
                     if kind in data)


def strip_fences(markdown: str) -> str:
    """Markdown without fenced code blocks (their ``#`` lines are no headings)."""
    return re.sub(r"^```.*?^```[^\n]*$", "", markdown, flags=re.S | re.M)


def headings(nb: dict) -> list[tuple[int, str]]:
    """Every markdown heading line as (cell index, line)."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            found += [(i, line.rstrip()) for line in strip_fences(text(cell["source"])).splitlines()
                      if re.match(r"#{1,6} ", line)]
    return found


# ---------------------------------------------------------------- the rules

def check_execution_counts(nb: dict, name: str) -> list[str]:
    """Code cells carry execution counts 1..N in order: one fresh top-to-bottom run."""
    problems, wrong = [], []
    for expected, (i, cell) in enumerate(code_cells(nb), 1):
        count = cell.get("execution_count")
        if not text(cell["source"]).strip():
            problems.append(f"{cell_name(nb, i, name)}: empty code cell; delete it")
        elif count != expected:
            wrong.append(f"{cell_name(nb, i, name)}: execution count {count}, expected "
                         f"{expected}")
    if wrong:  # one line per cell up to 5, then how many more
        more = f" (and {len(wrong) - 5} more cells)" if len(wrong) > 5 else ""
        problems += wrong[:5]
        problems.append(f"{name}: {len(wrong)} code cell(s) out of sequence{more}; re-run it "
                        f"top to bottom with `python -m utils.course --only {name[:2]}`")
    return problems


def check_error_outputs(nb: dict, name: str) -> list[str]:
    """No output is an error or shows a traceback."""
    problems = []
    for i, cell in code_cells(nb):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"{cell_name(nb, i, name)}: error output "
                                f"{output.get('ename')}: {output.get('evalue')}")
            elif "Traceback (most recent call last)" in output_text(output):
                problems.append(f"{cell_name(nb, i, name)}: an output shows a traceback")
    return problems


def check_machine_paths(nb: dict, name: str) -> list[str]:
    """No output shows an absolute path of the machine that ran it."""
    problems = []
    for i, cell in code_cells(nb):
        for output in cell.get("outputs", []):
            match = MACHINE_PATH.search(output_text(output))
            if match:
                line = next(l for l in output_text(output).splitlines() if match.group(0) in l)
                problems.append(f"{cell_name(nb, i, name)}: output shows a machine path: "
                                f"{line.strip()[:100]!r}; print paths relative to the repository")
    return problems


def check_header(nb: dict, name: str) -> list[str]:
    """The first cell opens with title, tested-with line, What you will learn, Data."""
    where = f"{name} cell 1"
    cells = nb["cells"]
    if not cells or cells[0]["cell_type"] != "markdown":
        return [f"{where}: the notebook must open with a markdown header cell"]
    lines = [l.rstrip() for l in text(cells[0]["source"]).splitlines()]
    filled = [l for l in lines if l.strip()]
    problems = []
    title = TITLE.fullmatch(filled[0]) if filled else None
    if not title:
        problems.append(f"{where}: first line must be '# Notebook N · Title', "
                        f"found {filled[0] if filled else ''!r}")
    elif name[:2].isdigit() and int(title.group(1)) != int(name[:2]):
        problems.append(f"{where}: title says notebook {title.group(1)}, file is {name[:2]}")
    if len(filled) < 2 or not TESTED_WITH.fullmatch(filled[1]):
        problems.append(f"{where}: second line must be the generated '*Tested with ...*' line "
                        "(`python -m utils.course --stamp-only` writes it from results/)")
    if LEARN not in lines:
        problems.append(f"{where}: no '{LEARN}' line")
    else:
        start = lines.index(LEARN)
        after = lines[start + 1:]
        bullets = [l for l in after[: next((k for k, l in enumerate(after)
                                            if l.startswith("**")), len(after))]
                   if l.startswith("- ")]
        if not 3 <= len(bullets) <= 6:
            problems.append(f"{where}: '{LEARN}' needs 3 to 6 bullets, found {len(bullets)}")
        data = [k for k, l in enumerate(lines) if l.startswith(DATA)]
        if not data:
            problems.append(f"{where}: no dataset sentence starting with '{DATA}'")
        elif data[0] < start:
            problems.append(f"{where}: '{DATA}' must come after '{LEARN}'")
    return problems


def check_numbering(nb: dict, name: str) -> list[str]:
    """One title; '## N · Name' sections numbered 1, 2, ...; no other numbering style."""
    problems, expected = [], 1
    for i, line in headings(nb):
        where = f"{name} cell {i + 1}"
        level = len(line) - len(line.lstrip("#"))
        if level == 1 and i != 0:
            problems.append(f"{where}: a second '# ' title {line!r}; use '## N · Name'")
        elif level == 2:
            number = SECTION.match(line)
            if number:
                if int(number.group(1)) != expected:
                    problems.append(f"{where}: section {number.group(1)} where {expected} "
                                    f"was expected: {line!r}")
                expected = int(number.group(1)) + 1
            elif OTHER_NUMBERING.match(line):
                problems.append(f"{where}: numbering style {line!r}; use '## N · Name'")
            elif line[3:].strip() not in UNNUMBERED:
                problems.append(f"{where}: section {line!r} is not '## N · Name' "
                                f"(only {', '.join(UNNUMBERED)} go unnumbered)")
        elif level >= 3 and re.match(r"#+ \d", line):
            problems.append(f"{where}: numbered subsection {line!r}; only '##' sections "
                            "carry numbers")
    return problems


def check_closing_sections(nb: dict, name: str) -> list[str]:
    """'## Summary' then '## Try it yourself' close the notebook, with no code after them."""
    found = {line[3:].strip(): i for i, line in headings(nb) if line.startswith("## ")}
    problems = []
    for section in ("Summary", "Try it yourself"):
        if section not in found:
            problems.append(f"{name}: no '## {section}' section")
    if problems:
        return problems
    summary, exercises = found["Summary"], found["Try it yourself"]
    if exercises < summary:
        problems.append(f"{name} cell {exercises + 1}: 'Try it yourself' must follow "
                        f"'Summary' (cell {summary + 1})")
    last_section = max(i for i, line in headings(nb) if line.startswith("## "))
    if last_section != exercises:
        problems.append(f"{name} cell {last_section + 1}: a section after 'Try it yourself'")
    after = [i for i, _ in code_cells(nb) if i > summary]
    if after:
        problems.append(f"{cell_name(nb, after[0], name)}: code after '## Summary'; "
                        "Summary and Try it yourself close the notebook")
    return problems


def check_markdown_before_code(nb: dict, name: str) -> list[str]:
    """Every code cell follows a markdown cell that says what it does."""
    return [f"{cell_name(nb, i, name)}: no markdown cell before this code cell"
            for i, _ in code_cells(nb)
            if i == 0 or nb["cells"][i - 1]["cell_type"] != "markdown"]


# nbgrader's solution markers (see utils/exercises.py) are not code the reader
# reads: the exercise notebooks replace them, so they do not count as lines.
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def long_cells(nb: dict) -> list[tuple[int, int]]:
    """(index, line count) of every code cell over MAX_CODE_LINES lines.

    Lines holding only an nbgrader solution marker are not counted.
    """
    found = []
    for i, cell in code_cells(nb):
        lines = text(cell["source"]).rstrip("\n").splitlines()
        count = sum(line.strip() not in SOLUTION_MARKERS for line in lines)
        if count > MAX_CODE_LINES:
            found.append((i, count))
    return found


def allowed_reason(nb: dict, name: str, index: int,
                   allowed: dict[tuple[str, str], str]) -> str | None:
    """The allow-list reason for a long cell, or None."""
    source = text(nb["cells"][index]["source"])
    return next((why for (stem, key), why in allowed.items()
                 if stem == name and key in source), None)


def check_cell_length(nb: dict, name: str,
                      allowed: dict[tuple[str, str], str] = LONG_CELL_ALLOWED) -> list[str]:
    """Code cells are at most MAX_CODE_LINES lines unless allow-listed with a reason."""
    return [f"{cell_name(nb, i, name)}: {count} lines (at most {MAX_CODE_LINES}); split it "
            "at a natural point with a sentence before the second part"
            for i, count in long_cells(nb) if allowed_reason(nb, name, i, allowed) is None]


def stale_allowances(notebooks: dict[str, dict],
                     allowed: dict[tuple[str, str], str] = LONG_CELL_ALLOWED) -> list[str]:
    """Allow-list entries that match no long cell any more (remove them)."""
    stale = []
    for (stem, key), why in allowed.items():
        nb = notebooks.get(stem)
        if nb is None or not any(key in text(nb["cells"][i]["source"]) for i, _ in long_cells(nb)):
            stale.append(f"allow-list entry ({stem!r}, {key!r}) matches no code cell over "
                         f"{MAX_CODE_LINES} lines; remove it")
    return stale


def nbval_options(cell: dict) -> set[str]:
    """The nbval markers (first line) and tags of a code cell, upper-case marker names."""
    found = {t.upper().replace("-", "_") for t in cell.get("metadata", {}).get("tags", [])
             if t in NBVAL_TAGS}
    first = text(cell["source"]).split("\n", 1)[0].strip()
    if first.lstrip("#").strip() in NBVAL_MARKERS:
        found.add(first.lstrip("#").strip())
    return found


def check_nbval_markers(nb: dict, name: str) -> list[str]:
    """nbval markers are exactly '# NBVAL_...' on a code cell's first line; tags are known."""
    problems = []
    for i, cell in enumerate(nb["cells"]):
        where = cell_name(nb, i, name)
        lines = text(cell["source"]).splitlines()
        for number, line in enumerate(lines, 1):
            if "nbval" not in line.lower() or cell["cell_type"] != "code":
                continue
            comment = line.strip()
            if comment.lstrip("#").strip() not in NBVAL_MARKERS or not comment.startswith("# "):
                if re.search(r"#\s*nbval", comment, re.IGNORECASE):
                    problems.append(f"{where}: malformed nbval marker {comment!r} (nbval "
                                    f"ignores it); write one of {sorted(NBVAL_MARKERS)}")
            elif number != 1:
                problems.append(f"{where}: marker {comment!r} on line {number}; "
                                "put it on the first line")
        for tag in cell.get("metadata", {}).get("tags", []):
            if "nbval" in tag.lower() and tag not in NBVAL_TAGS:
                problems.append(f"{where}: unknown nbval tag {tag!r}")
        if cell["cell_type"] == "code":
            options = nbval_options(cell)
            if {"NBVAL_CHECK_OUTPUT", "NBVAL_IGNORE_OUTPUT"} <= options or (
                    "NBVAL_SKIP" in options and len(options) > 1):
                problems.append(f"{where}: conflicting nbval options {sorted(options)}")
    return problems


def check_checked_outputs(nb: dict, name: str) -> list[str]:
    """Cells whose output nbval compares print nothing that varies between runs."""
    problems = []
    for i, cell in code_cells(nb):
        if "NBVAL_CHECK_OUTPUT" not in nbval_options(cell):
            continue
        where = cell_name(nb, i, name)
        for output in cell.get("outputs", []):
            shown = output_text(output)
            for what, pattern in RUN_VARYING.items():
                match = pattern.search(shown)
                if match:
                    problems.append(f"{where}: checked output shows {what} "
                                    f"({match.group(0)!r}); print it in an unchecked cell")
            if MACHINE_PATH.search(shown):
                problems.append(f"{where}: checked output shows a machine path")
        source = text(cell["source"])
        for call in RUN_VARYING_CALLS:
            if re.search(r"(?<![\w.])" + re.escape(call), source):
                problems.append(f"{where}: checked cell calls {call}...) whose value "
                                "changes every run")
    return problems


NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?%?")


def shown_numbers(nb: dict) -> list[tuple[float, int, bool]]:
    """Every number printed in the notebook's text outputs as (value, decimals, integer)."""
    found = []
    for _, cell in code_cells(nb):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                continue
            for token in NUMBER.findall(output_text(output)):
                percent = token.endswith("%")
                digits = token.rstrip("%").replace(",", "")
                try:
                    value = float(digits)
                except ValueError:
                    continue
                decimals = len(digits.split(".")[1]) if "." in digits else 0
                if percent:
                    value, decimals = value / 100, decimals + 2
                found.append((value, decimals, "." not in digits and not percent))
    return found


def is_shown(value: float, numbers: list[tuple[float, int, bool]]) -> bool:
    """Whether ``value`` is printed somewhere, read at the precision it was printed with.

    Integers must appear exactly. A fraction counts when a printed number with at
    least two significant digits rounds to it (``0.912`` shows 0.9119; ``0.9``
    and ``1`` are too coarse to vouch for anything).
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return any(integer and shown == value for shown, _, integer in numbers)
    for shown, decimals, _ in numbers:
        significant = len(re.sub(r"^0\.?0*", "", f"{abs(shown):.{decimals}f}").replace(".", ""))
        if significant >= 2 and abs(shown - value) <= 0.5 * 10 ** -decimals + 5e-5:
            return True
    return False


def setup_output(nb: dict) -> str:
    """The text the first code cell printed (``utils.setup`` prints the environment)."""
    cells = code_cells(nb)
    return "\n".join(output_text(o) for o in cells[0][1].get("outputs", [])) if cells else ""


def check_results(nb: dict, name: str, results: Path) -> list[str]:
    """results/<name>.json exists and agrees with what the notebook printed.

    Every metric value must be printed by the notebook; the environment it
    records (Python, TensorFlow, Keras, device, precision) must be the one the
    setup cell printed and the one the tested-with line names: all three come
    from the same run, so a mismatch means one of them was committed stale.
    """
    path = Path(results) / f"{name}.json"
    if not path.is_file():
        return [f"{name}: no committed results/{name}.json; run the notebook with the runner"]
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        metrics = {k: v["value"] for k, v in record["metrics"].items()}
    except (ValueError, KeyError, TypeError) as err:
        return [f"results/{name}.json: unreadable ({err!r})"]
    problems = []
    numbers = shown_numbers(nb)
    for metric, value in metrics.items():
        if not is_shown(value, numbers):
            problems.append(f"{name}: results/{name}.json says {metric} = {value}, "
                            "but no output of the notebook shows that value")
    env = record.get("environment", {})
    printed = setup_output(nb)
    for key in ("python", "tensorflow", "keras", "device", "precision"):
        if key in env and str(env[key]) not in printed:
            problems.append(f"{name} cell 2: the setup output does not show {key} "
                            f"{env[key]!r} recorded in results/{name}.json")
    header = text(nb["cells"][0]["source"]) if nb["cells"] else ""
    line = next((TESTED_WITH.fullmatch(l.strip()) for l in header.splitlines()
                 if TESTED_WITH.fullmatch(l.strip())), None)
    if line:
        for key in ("python", "tensorflow", "keras", "device", "precision"):
            if key in env and line.group(key) != str(env[key]):
                problems.append(f"{name} cell 1: the tested-with line says {key} "
                                f"{line.group(key)!r}, results/{name}.json {env[key]!r}")
    return problems


def check_file_size(path: Path, budget: dict[str, int] = SIZE_BUDGET) -> list[str]:
    """The notebook file stays within its size budget."""
    limit = budget.get(Path(path).stem, DEFAULT_SIZE_BUDGET)
    size = Path(path).stat().st_size
    if size > limit:
        return [f"{Path(path).name}: {size:,} bytes, over its budget of {limit:,} "
                "(see SIZE_BUDGET in tests/notebook_rules.py); shrink the figures"]
    return []


def check_reading_length(nb: dict, name: str) -> list[str]:
    """At most MAX_CELLS cells, MAX_MARKDOWN_WORDS markdown words, MAX_CELL_WORDS per cell."""
    problems = []
    if len(nb["cells"]) > MAX_CELLS:
        problems.append(f"{name}: {len(nb['cells'])} cells (at most {MAX_CELLS})")
    words = [(i, len(text(c["source"]).split())) for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "markdown"]
    total = sum(n for _, n in words)
    if total > MAX_MARKDOWN_WORDS:
        problems.append(f"{name}: {total:,} markdown words (at most {MAX_MARKDOWN_WORDS:,})")
    problems += [f"{cell_name(nb, i, name)}: {n} words (at most {MAX_CELL_WORDS}); split or cut it"
                 for i, n in words if n > MAX_CELL_WORDS]
    return problems


def math_spans(markdown: str) -> list[str]:
    """The TeX of every ``$...$`` and ``$$...$$`` span outside code."""
    prose = re.sub(r"`[^`\n]*`", "", strip_fences(markdown))  # inline code is no math
    return [m.group(1) or m.group(2) for m in MATH.finditer(prose)]


def check_github_math(nb: dict, name: str) -> list[str]:
    """No math that GitHub's renderer mangles: escaped punctuation, ``}_`` / ``)_`` / ``]_``."""
    problems = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        for tex in math_spans(text(cell["source"])):
            for pattern, fix in ((ESCAPED_PUNCTUATION, "write \\lbrace, \\rbrace, \\thinspace, "
                                  "\\quad or ~ instead"),
                                 (BRACKET_UNDERSCORE, "GitHub may read it as italics; write "
                                  "\\hat y_i or add a space before _")):
                if found := pattern.search(tex):
                    problems.append(f"{cell_name(nb, i, name)}: math '{found.group()}' in "
                                    f"'{tex.strip()[:40]}': {fix}")
    return problems


RULES = {
    "execution_counts": check_execution_counts,
    "error_outputs": check_error_outputs,
    "machine_paths": check_machine_paths,
    "header": check_header,
    "numbering": check_numbering,
    "closing_sections": check_closing_sections,
    "markdown_before_code": check_markdown_before_code,
    "cell_length": check_cell_length,
    "nbval_markers": check_nbval_markers,
    "checked_outputs": check_checked_outputs,
    "reading_length": check_reading_length,
    "github_math": check_github_math,
}
