"""The notebooks' house style, checked without executing anything (runs first, in seconds).

The first half applies every rule of ``tests/notebook_rules.py`` to the
committed notebooks in ``notebooks/``; a failure names the notebook and the
cell. The second half builds a small notebook for each rule, breaks it the
way the rule guards against, and shows that the rule catches it while the
well-formed notebook passes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests import notebook_rules as rules

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))
RESULTS = REPO / "results"


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 4, "notebooks/ should hold the four course notebooks"


@pytest.mark.parametrize("rule", sorted(rules.RULES))
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_committed_notebook_follows_rule(path, rule):
    problems = rules.RULES[rule](rules.read_notebook(path), path.stem)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_committed_results_match_the_notebook(path):
    problems = rules.check_results(rules.read_notebook(path), path.stem, RESULTS)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_committed_notebook_within_size_budget(path):
    problems = rules.check_file_size(path)
    assert not problems, "\n".join(problems)
    assert path.stem in rules.SIZE_BUDGET, f"give {path.stem} its own budget in SIZE_BUDGET"


def test_long_cell_allow_list_is_current():
    notebooks = {p.stem: rules.read_notebook(p) for p in NOTEBOOKS}
    stale = rules.stale_allowances(notebooks)
    assert not stale, "\n".join(stale)
    assert all(len(why) > 20 for why in rules.LONG_CELL_ALLOWED.values()), \
        "every allow-list entry says why"


# ------------------------------------------------ each rule on a small notebook

NAME = "07_tiny"
TESTED = ("*Tested with Python 3.11.7, TensorFlow 2.21.0, Keras 3.15.1 on CPU: Test (2 cores), "
          "precision float32, 1 min 05 s (last run by `python -m utils.course`).*")
HEADER = f"""# Notebook 7 · A tiny notebook

{TESTED}

Why this notebook exists.

**What you will learn**

- one thing;
- another thing;
- a third thing.

**Data.** Twelve numbers, made up."""


def md(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def code(source: str, count: int, *texts: str, tags: list[str] | None = None) -> dict:
    outputs = [{"output_type": "stream", "name": "stdout", "text": t} for t in texts]
    return {"cell_type": "code", "metadata": {"tags": tags} if tags else {},
            "execution_count": count, "outputs": outputs, "source": source}


def good_notebook() -> dict:
    """A notebook that follows every rule."""
    cells = [
        md(HEADER),
        md("## Setup\n\nOne cell sets everything up."),
        code("import utils\nenv = utils.setup(seed=0)", 1,
             "python 3.11.7 | tensorflow 2.21.0 | keras 3.15.1 | device CPU: Test (2 cores) | "
             "precision float32 | seed 0\n"),
        md("## 1 · Data\n\n### Load it\n\nShapes are checked."),
        code("# NBVAL_CHECK_OUTPUT\nprint((12, 3))", 2, "(12, 3)\n"),
        md("## 2 · Model\n\nTrain and time it."),
        code("print(f'accuracy {0.91234:.3f}, {1310:,} parameters in 3.2 s')", 3,
             "accuracy 0.912, 1,310 parameters in 3.2 s\n"),
        md("## Summary\n\n- it worked."),
        md("## Try it yourself\n\n1. change this;\n2. change that;\n3. and that."),
    ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def good_results() -> dict:
    return {"notebook": NAME,
            "metrics": {"accuracy": {"value": 0.9123, "threshold": 0.9, "passed": True},
                        "parameters": {"value": 1310, "threshold": None, "passed": None}},
            "seconds": {"notebook": 65.0},
            "environment": {"python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1",
                            "numpy": "2.4.6", "device": "CPU: Test (2 cores)",
                            "precision": "float32", "cpu_flags": "avx2"}}


def all_problems(nb: dict, tmp_path: Path, results: dict | None = None) -> list[str]:
    """Run every rule, the results check and the size check on ``nb`` saved in tmp_path."""
    path = tmp_path / f"{NAME}.ipynb"
    path.write_text(json.dumps(nb))
    (tmp_path / f"{NAME}.json").write_text(json.dumps(results or good_results()))
    problems = [p for rule in rules.RULES.values() for p in rule(nb, NAME)]
    return problems + rules.check_results(nb, NAME, tmp_path) + rules.check_file_size(path)


def test_the_good_notebook_passes_every_rule(tmp_path):
    assert all_problems(good_notebook(), tmp_path) == []


def broken(change) -> dict:
    nb = copy.deepcopy(good_notebook())
    change(nb["cells"])
    return nb


def set_source(index: int, source: str):
    def change(cells):
        cells[index]["source"] = source
    return change


CASES = {
    "execution counts out of order": (
        lambda c: c[4].update(execution_count=3) or c[6].update(execution_count=2),
        "07_tiny cell 5 (code cell 2): execution count 3, expected 2"),
    "an unexecuted cell": (
        lambda c: c[6].update(execution_count=None),
        "cell 7 (code cell 3): execution count None, expected 3"),
    "an error output": (
        lambda c: c[6]["outputs"].append({"output_type": "error", "ename": "ValueError",
                                          "evalue": "boom", "traceback": []}),
        "cell 7 (code cell 3): error output ValueError: boom"),
    "a machine path in an output": (
        lambda c: c[6]["outputs"][0].update(text="saved /home/ana/course/model.keras\n"),
        "cell 7 (code cell 3): output shows a machine path"),
    "a Windows path in an output": (
        lambda c: c[6]["outputs"][0].update(text="saved C:\\Users\\ana\\model.keras\n"),
        "output shows a machine path"),
    "a title in another format": (
        set_source(0, HEADER.replace("# Notebook 7 · ", "# 7 - ")),
        "07_tiny cell 1: first line must be '# Notebook N · Title'"),
    "a tested-with line typed by hand": (
        set_source(0, HEADER.replace(TESTED, "Tested on my laptop.")),
        "second line must be the generated '*Tested with ...*' line"),
    "no What you will learn": (
        set_source(0, HEADER.replace("**What you will learn**", "**Goals**")),
        "no '**What you will learn**' line"),
    "the dataset sentence before What you will learn": (
        set_source(0, HEADER.replace("Why this notebook exists.", "**Data.** Numbers.")),
        "'**Data.**' must come after '**What you will learn**'"),
    "a section numbered the other way": (
        set_source(5, "## 2. Model\n\nTrain it."),
        "07_tiny cell 6: numbering style '## 2. Model'; use '## N · Name'"),
    "a skipped section number": (
        set_source(5, "## 3 · Model\n\nTrain it."),
        "section 3 where 2 was expected"),
    "a numbered subsection": (
        set_source(3, "## 1 · Data\n\n### 1.1 Load it"),
        "numbered subsection '### 1.1 Load it'"),
    "no Summary": (
        set_source(7, "## Conclusion\n\n- it worked."),
        "no '## Summary' section"),
    "Try it yourself before Summary": (
        lambda c: c.__setitem__(slice(7, 9), [c[8], c[7]]),
        "'Try it yourself' must follow 'Summary'"),
    "code after the Summary": (
        lambda c: c.insert(8, code("print('late')", 4, "late\n")),
        "cell 9 (code cell 4): code after '## Summary'"),
    "a code cell with no markdown before it": (
        lambda c: c.insert(7, code("print('more')", 4, "more\n")),
        "cell 8 (code cell 4): no markdown cell before this code cell"),
    "a code cell over 15 lines": (
        set_source(6, "\n".join(f"x{i} = {i}" for i in range(16))),
        "cell 7 (code cell 3): 16 lines (at most 15)"),
    "a marker not on the first line": (
        set_source(4, "print((12, 3))\n# NBVAL_CHECK_OUTPUT"),
        "marker '# NBVAL_CHECK_OUTPUT' on line 2; put it on the first line"),
    "a misspelt marker": (
        set_source(4, "# NBVAL_CHECK_OUTPUTS\nprint((12, 3))"),
        "malformed nbval marker '# NBVAL_CHECK_OUTPUTS'"),
    "a marker without its space": (
        set_source(4, "#NBVAL-SKIP\nprint((12, 3))"),
        "malformed nbval marker '#NBVAL-SKIP'"),
    "an unknown nbval tag": (
        lambda c: c[4]["metadata"].update(tags=["nbval-check"]),
        "unknown nbval tag 'nbval-check'"),
    "a checked cell printing a timing": (
        lambda c: c[4]["outputs"][0].update(text="(12, 3) in 41ms/step\n"),
        "checked output shows a timing ('41ms/step')"),
    "a checked cell printing an address": (
        lambda c: c[4]["outputs"][0].update(text="<Model at 0x7f3a2c1b9e50>\n"),
        "checked output shows a memory address"),
    "a checked cell reading the clock": (
        set_source(4, "# NBVAL_CHECK_OUTPUT\nimport time\nprint(time.perf_counter())"),
        "checked cell calls time.perf_counter(...)"),
    "a cell checked by tag printing a timing": (
        lambda c: (c[6].update(source="print('done')"), c[6]["metadata"].update(
            tags=["nbval-check-output"]), c[6]["outputs"][0].update(text="done in 3 s\n")),
        "cell 7 (code cell 3): checked output shows a timing"),
    "a markdown cell over 200 words": (
        set_source(3, "## 1 · Data\n\n" + "word " * 199),
        "cell 4: 203 words (at most 200); split or cut it"),
    "over 4,000 markdown words": (
        lambda c: c.extend(md(f"More.\n\n{'word ' * 190}") for _ in range(22)),
        "07_tiny: 4,300 markdown words (at most 4,000)"),
    "over 80 cells": (
        lambda c: c.extend(md("More.") for _ in range(72)),
        "07_tiny: 81 cells (at most 80)"),
    "escaped braces in math": (
        set_source(3, "## 1 · Data\n\nLabels $y \\in \\{0, 1\\}$."),
        "cell 4: math '\\{' in 'y \\in \\{0, 1\\}'"),
    "a thin space in display math": (
        set_source(3, "## 1 · Data\n\n$$L = -\\big[\\,y \\log p\\big]$$"),
        "math '\\,'"),
    "an underscore after a brace in math": (
        set_source(3, "## 1 · Data\n\n$\\text{recall}_c$ and $x_i$"),
        "math '}_'"),
}


def test_math_rule_ignores_code_and_safe_tex():
    nb = {"cells": [md("Use `\\{x\\}` in code, and $\\lbrace 0, 1 \\rbrace$, $x_i + y_j$, "
                       "$\\hat y_i$ and\n```\n$\\{$\n```")]}
    assert rules.check_github_math(nb, NAME) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule_catches(case, tmp_path):
    change, expected = CASES[case]
    problems = all_problems(broken(change), tmp_path)
    assert any(expected in p for p in problems), f"{case}: {problems}"


def test_checks_catch_results_that_disagree(tmp_path):
    wrong = good_results()
    wrong["metrics"]["accuracy"]["value"] = 0.8765
    problems = all_problems(good_notebook(), tmp_path, wrong)
    assert problems == ["07_tiny: results/07_tiny.json says accuracy = 0.8765, but no output "
                        "of the notebook shows that value"]


def test_integer_metrics_must_match_exactly(tmp_path):
    wrong = good_results()
    wrong["metrics"]["parameters"]["value"] = 1311
    assert any("parameters = 1311" in p for p in all_problems(good_notebook(), tmp_path, wrong))


def test_checks_catch_an_environment_from_another_run(tmp_path):
    other = good_results()
    other["environment"]["tensorflow"] = "2.20.0"
    problems = all_problems(good_notebook(), tmp_path, other)
    assert any("setup output does not show tensorflow '2.20.0'" in p for p in problems)
    assert any("tested-with line says tensorflow '2.21.0'" in p for p in problems)


def test_missing_results_file(tmp_path):
    problems = rules.check_results(good_notebook(), NAME, tmp_path / "nowhere")
    assert problems == ["07_tiny: no committed results/07_tiny.json; run the notebook "
                        "with the runner"]


@pytest.mark.parametrize("shown, value, ok", [
    ("0.912", 0.9119, True), ("91.2%", 0.9119, True), ("0.913", 0.9119, False),
    ("0.9", 0.9119, False), ("1", 1.0, False), ("1.000", 1.0, True),
    ("53 images/s", 53.4842, True), ("23,600,006", 23600006, True),
    ("23,600,007", 23600006, False), ("0.50", 0.5, True)])
def test_a_metric_counts_as_shown_only_at_its_printed_precision(shown, value, ok):
    nb = {"cells": [code(f"print({shown!r})", 1, shown + "\n")]}
    assert rules.is_shown(value, rules.shown_numbers(nb)) is ok


def test_size_budget(tmp_path):
    path = tmp_path / f"{NAME}.ipynb"
    path.write_bytes(b" " * 2_000)
    assert rules.check_file_size(path, {NAME: 2_000}) == []
    assert rules.check_file_size(path, {NAME: 1_999}) == [
        "07_tiny.ipynb: 2,000 bytes, over its budget of 1,999 (see SIZE_BUDGET in "
        "tests/notebook_rules.py); shrink the figures"]


def test_allow_list_lets_a_long_cell_through_and_goes_stale(tmp_path):
    nb = broken(set_source(6, "# a long but necessary table\n" + "\n".join(
        f"x{i} = {i}" for i in range(15))))
    allowed = {(NAME, "# a long but necessary table"): "a table that reads best whole"}
    assert rules.check_cell_length(nb, NAME, allowed) == []
    assert rules.stale_allowances({NAME: nb}, allowed) == []
    assert rules.stale_allowances({NAME: good_notebook()}, allowed) == [
        "allow-list entry ('07_tiny', '# a long but necessary table') matches no code cell "
        "over 15 lines; remove it"]
