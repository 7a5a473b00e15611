"""The self-check page's Python side and ``derive check``: error carried forward, judged against
independent float oracles (the float64 engine, and the example's network written out by hand)."""

from __future__ import annotations

import csv
import io
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import derive
from derive.maths.steps import Solution
from derive.pipeline import load_spec
from derive.render.answers import answers
from derive.render.carried import CARRIED, MISSING, RIGHT, WRONG, Program, javascript, parse_number, read_entered
from derive.render.checkpage import check_page
from derive.tex.style import Style
from derive.verify.twins import expected
from tests.sheets import single

EXAMPLES = single(sorted((Path(__file__).parent.parent / "examples").glob("*.toml")))


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def shown_values(document: dict[str, Any]) -> dict[str, str]:
    """Each asked value as the solution sheet shows it (the answers' decimal, 10^k written as e)."""
    return {
        row["name"]: re.sub(r" \\cdot 10\^\{(-?\d+)\}", r"e\1", row["decimal"])
        for row in document["quantities"]
        if row["asked"]
    }


@pytest.fixture(scope="module")
def program(example: Solution, example_answers: dict[str, Any]) -> Program:
    return Program.of(example, 4, example_answers)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_value_of_every_example_is_its_formula_over_the_values_before_it(path: Path) -> None:
    """With nothing entered, the evaluator gives every value the float64 engine gives."""
    solution = derive.solve(load_spec(path))
    program = Program.of(solution, Style.of(solution.spec.sheet).places)
    _, values = program.run({})
    reference = expected(solution.spec).values
    for cell, value in zip(program.cells, values, strict=True):
        twin = reference[cell.key]
        if math.isinf(twin):
            assert value == twin, cell.key
        else:
            assert value == pytest.approx(twin, rel=1e-9, abs=1e-12), cell.key
    formulas, _ = javascript(program)  # every formula prints to JavaScript
    assert sum(f is not None for f in formulas) == sum(c.formula is not None for c in program.cells)


def test_the_sheets_decimals_are_all_right(program: Program, example_answers: dict[str, Any]) -> None:
    entered = {key: parse_number(text, ".") for key, text in shown_values(example_answers).items()}
    marks = program.mark({k: v for k, v in entered.items() if v is not None})
    assert len(marks) == len(program.asked) == 244
    assert {m.status for m in marks} == {RIGHT}


def test_one_early_slip_makes_the_values_that_follow_from_it_carried(program: Program) -> None:
    # Part 1 by hand: W1 = [[1, -1], [2, 1]], b1 = 0, W2 = [1, -1], b2 = 1/2, x = (1, 1), y = 1;
    # the student writes z1_1 = 0.5 instead of 0 and goes on correctly from there.
    z1 = [0.5, 3.0]
    a1 = [sigmoid(z) for z in z1]
    z2 = a1[0] - a1[1] + 0.5
    loss = (z2 - 1) ** 2
    values = [z1[0], z1[1], a1[0], a1[1], z2, z2, loss]
    keys = ["p1.z1[1]", "p1.z1[2]", "p1.a1[1]", "p1.a1[2]", "p1.z2[1]", "p1.yhat[1]", "p1.L"]
    entered = {k: round(v, 4) for k, v in zip(keys, values, strict=True)}
    marks = {m.key: m.status for m in program.mark(entered)}
    assert [marks[k] for k in keys] == [WRONG, RIGHT, CARRIED, RIGHT, CARRIED, CARRIED, CARRIED]
    assert marks["p2.z1[1]"] == MISSING
    # A value that follows neither from the solution nor from the student's values is wrong.
    marks = {m.key: m.status for m in program.mark({**entered, "p1.L": round(loss + 0.01, 4)})}
    assert marks["p1.L"] == WRONG


def test_a_student_rounding_differently_from_the_sheet_is_still_carried(program: Program) -> None:
    # a1_1 from the unrounded z (0.5 typed as 0.50004): the student's own rounding moves what follows.
    z = 0.50004
    marks = {m.key: m.status for m in program.mark({"p1.z1[1]": z, "p1.a1[1]": round(sigmoid(0.5), 4)})}
    assert marks["p1.a1[1]"] == CARRIED


@pytest.mark.parametrize(
    ("text", "mark", "number"),
    [
        ("0.25", ".", 0.25),
        ("3/4", ".", 0.75),
        ("-1/8", ".", -0.125),
        ("\u22120.5", ".", -0.5),
        ("1.5e-3", ".", 0.0015),
        ("0,25", ",", 0.25),
        ("1,5/3", ",", 0.5),
        ("0,25", ".", None),  # the English sheet writes a point
        ("0.25", ",", None),  # the German one a comma
        ("abc", ".", None),
        ("1/0", ".", None),
        ("1/2/3", ".", None),
        ("", ".", None),
        ("nan", ".", None),
        ("1_000", ".", None),
    ],
)
def test_numbers_a_student_may_type(text: str, mark: str, number: float | None) -> None:
    assert parse_number(text, mark) == number


def test_values_file_is_read_with_one_line_errors(program: Program) -> None:
    assert read_entered("key,value\np1.L,0.9074\np1.z1[1],\n", program) == {"p1.L": 0.9074}
    for text, message in [
        ("p1.nope,1\n", "row 1: 'p1.nope' is no answer key of this sheet"),
        ("key,value\np1.L,zero\n", "row 2: p1.L: 'zero' is not a number"),
        ('"w1[1,1]",1\n', "row 1: w1[1,1] is not asked for on this sheet"),
        ("p1.L,1\np1.L,1\n", "row 2: p1.L is given twice"),
        (
            "key,value\np4.dL/dw2[1,1],1\n",
            "row 2: 'p4.dL/dw2[1' is no answer key of this sheet (a key with a comma is quoted",
        ),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            read_entered(text, program)
    with pytest.raises(ValueError, match="more than 1024 KiB"):
        read_entered("p1.L,1\n" * 200_000, program)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, timeout=300)


def test_check_command_marks_a_class_of_values(tmp_path: Path, example_answers: dict[str, Any]) -> None:
    spec = str(Path(derive.__file__).parent / "examples" / "backprop.toml")
    values = shown_values(example_answers)
    right = tmp_path / "right.csv"
    buffer = io.StringIO()
    csv.writer(buffer).writerows([("key", "value"), *values.items()])  # w1[1,2] quoted: a key has commas
    right.write_text(buffer.getvalue(), encoding="utf-8")
    result = run("check", spec, str(right))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(" right\n") == 244 and "first wrong" not in result.stdout
    assert result.stderr.strip() == "244 right, 0 carried, 0 wrong, 0 missing"

    buffer = io.StringIO()
    csv.writer(buffer).writerows([("p1.z1[1]", "1/2"), ("p1.a1[1]", f"{sigmoid(0.5):.4f}")])
    slipped = tmp_path / "slipped.csv"
    slipped.write_text(buffer.getvalue(), encoding="utf-8")
    result = run("check", spec, str(slipped))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"p1\.z1\[1\] +wrong  \(0\.5; the solution's 0, from your earlier values 0\)", lines[0])
    assert re.match(r"p1\.a1\[1\] +carried", lines[2])
    assert (
        lines[-1]
        == r"first wrong: p1.z1[1]: z^{(1)}_{1} = w^{(1)}_{1,1} \, x_{1} + w^{(1)}_{1,2} \, x_{2} + b^{(1)}_{1}"
    )
    assert result.stderr.strip() == "0 right, 1 carried, 1 wrong, 242 missing"

    bad = tmp_path / "bad.csv"
    bad.write_text("key,value\np1.L,0.9.0\n", encoding="utf-8")
    result = run("check", spec, str(bad))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"{bad}: row 2: p1.L: '0.9.0' is not a number" in result.stderr


def test_page_is_one_self_contained_file_in_the_sheets_order_and_words(example: Solution) -> None:
    style = Style.of(example.spec.sheet)
    document = answers(example, style.places)
    page = check_page(example, style, document)
    asked = [row["name"] for row in document["quantities"] if row["asked"]]
    assert re.findall(r'<tr id="row-\d+" data-key="([^"]+)">', page) == asked  # escaped: &#34; never appears
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched
    assert "<math" in page and "<mfrac>" in page  # ∂L/∂w as MathML
    assert "Check your answers" in page and "0.25" in page
    german = check_page(example, Style.of(example.spec.sheet, language="de"), document)
    assert '<html lang="de">' in german and "Ergebnisse selbst prüfen" in german and "0,25" in german
    assert '"mark":","' in german


def test_a_title_is_escaped_on_the_page(tmp_path: Path) -> None:
    from dataclasses import replace

    spec = derive.load_example()
    spec = replace(spec, sheet=replace(spec.sheet, title="<script>alert(1)</script> & co"))
    solution = derive.solve(spec)
    style = Style.of(spec.sheet)
    page = check_page(solution, style, answers(solution, style.places))
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page


def test_both_page_catalogues_have_the_same_messages() -> None:
    folder = Path(__file__).parent.parent / "templates" / "lang"
    found = [re.findall(r"\{% macro (\w+)\(", (folder / f"{code}.html.j2").read_text("utf-8")) for code in ("en", "de")]
    assert found[0] == found[1] and "check_title" in found[0]


def test_the_page_states_every_given_an_asked_value_is_worked_out_from() -> None:
    """The neuron's bias reaches ∂f/∂w only through the sums between (not asked): it is stated too."""
    from derive.render.checkpage import page_context

    solution = derive.solve(load_spec(Path(__file__).parent.parent / "examples" / "circuit_neuron.toml"))
    style = Style.of(solution.spec.sheet)
    context = page_context(solution, style, answers(solution, style.places))
    stated = [re.sub(r"<[^>]+>|\s", "", given["math"]) for given in context["parts"][0]["givens"]]
    assert {"w0=2", "x0=&#x02212;1", "w1=&#x02212;3", "x1=&#x02212;2", "b=&#x02212;3"} <= set(
        s.replace("&#x0003D;", "=") for s in stated
    )


def test_the_page_templates_come_compiled_from_the_cache(
    tmp_path: Path, example: Solution, example_answers: dict[str, Any]
) -> None:
    # As the sheets' templates: the next process loads them compiled; a damaged entry is compiled again.
    from derive.render.checkpage import _environment

    cache = tmp_path / "compiled"
    first = check_page(example, Style(), example_answers, compiled=cache)
    kept = sorted(cache.iterdir())
    assert len(kept) == 2 and all(p.stat().st_size > 0 for p in kept)  # the page and its words
    _environment.cache_clear()
    assert check_page(example, Style(), example_answers, compiled=cache) == first
    for entry in kept:
        entry.write_bytes(b"not bytecode")
    _environment.cache_clear()
    assert check_page(example, Style(), example_answers, compiled=cache) == first
