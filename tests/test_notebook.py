"""Jupyter: a part shows its worked steps as maths, a solution an overview, a quantity its worked line;
a spec built in Python from plain values; LaTeX users: pgfplots' compat level and \\deriveexact."""

from __future__ import annotations

import doctest
import re
import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

import derive
from derive.errors import SpecError
from derive.exercise.reader import example_path
from derive.maths.steps import PartSolution, Solution
from derive.notebook import markdown_text
from derive.render.reproduce import worked
from derive.tex.style import DEFAULT, Style

SAFE = {
    *("begin", "end", "frac", "left", "right", "cdot", "quad", "qquad", "approx", "partial", "hat", "bar", "top"),
    *("sigma", "delta", "alpha", "beta", "rho", "theta", "varepsilon", "ell", "infty", "odot", "sqrt", "sum", "log"),
    *("tanh", "max", "lim", "to", "le", "text", "mathrm", "operatorname", "hline", "checkmark", "lVert", "rVert"),
    *("big", "Big", "bigl", "bigr", "Bigl", "Bigr", "mid", "ge", "neq", "in", "dots", "ldots", "cdots", "exp"),
}
"""Macros a notebook's MathJax and KaTeX both render (no derive macros, no TikZ, no pgfplots)."""


@pytest.fixture(scope="module")
def example() -> Solution:
    return derive.solve(derive.load_example())


def _data() -> dict[str, Any]:
    return tomllib.loads(example_path().read_text(encoding="utf-8"))


def test_a_part_shows_its_general_formula_numbers_and_result(example: Solution) -> None:
    part = example.part(4)
    shown = part._repr_markdown_()
    assert shown is not None and shown.startswith("#### Part 4\n")
    assert "**Backward pass (chain rule)**" in shown  # the section's title, from the catalogue
    printer = Style.of(example.spec.sheet).printer(part.network)
    gradient = example["p4.dL/dw2[1,1]"]
    assert gradient.formula is not None
    line = (
        f"{printer.symbol(gradient.symbol)} & = {printer.formula(gradient.formula)}"
        f" = {worked(gradient, printer).substitution.text}"
        + "".join(f" {relation} {text}" for relation, text in printer.result(gradient))
    )
    assert line in shown  # symbol = general formula = numbers substituted = exact = decimal
    assert len(printer.result(gradient)) == 2  # the result exactly, then as a decimal
    # The vector's matrix-form line heads its entries, as on the sheet.
    assert r"\frac{\partial L}{\partial W^{(2)}} &= \delta^{(2)} \, a^{(1)\top}" in shown


def test_every_display_is_notebook_safe_maths(example: Solution) -> None:
    words = {"textbf", "textit", "par", "medskip", "noindent"}  # the LaTeX form's headings
    for part in example.parts:
        markdown, latex = part._repr_markdown_(), part._repr_latex_()
        assert markdown is not None and latex is not None
        for shown in (markdown, latex):
            assert set(re.findall(r"\\([A-Za-z]+)", shown)) - words <= SAFE
        assert markdown.count("$$") % 2 == 0 and markdown.count("$$") == 2 * latex.count("\\[\n")
        for block in markdown.split("$$")[1::2]:
            assert "\n\n" not in block.strip("\n")  # a blank line would end the maths in Markdown


def test_a_solution_shows_a_short_overview(example: Solution) -> None:
    shown = example._repr_markdown_()
    assert shown is not None and len(shown) < 1000 and "aligned" not in shown
    assert shown.startswith(f"#### {example.spec.sheet.title}\n")
    for part in example.parts:
        assert f"- Part {part.number}: {sum(1 for _ in part.quantities())} values\n" in shown
    assert "`solution.part(n)`" in shown
    latex = example._repr_latex_()
    assert latex is not None and r"\item Part 12:" in latex and r"\texttt{solution.part(n)}" in latex


def test_a_quantity_shows_its_worked_line(example: Solution) -> None:
    q = example["p1.z1[2]"]
    assert q.formula is not None
    shown = q._repr_markdown_()
    printer = DEFAULT.printer()
    assert shown is not None and shown.startswith("$$\n\\begin{aligned}\n")
    assert (
        f"{printer.symbol(q.symbol)} & = {printer.formula(q.formula)} = {worked(q, printer).substitution.text}" in shown
    )
    assert printer.result(q)[-1][1] in shown
    given = next(g for g in example.quantities() if g.formula is None)
    assert printer.result(given)[-1][1] in (given._repr_latex_() or "")


def test_the_german_sheet_displays_in_german() -> None:
    solution = derive.solve(derive.load_spec(Path(__file__).parent.parent / "examples" / "sheet_german.toml"))
    shown = solution.part(1)._repr_markdown_()
    assert shown is not None and shown.startswith("#### Aufgabe 1") and "**Vorwärtsdurchlauf**" in shown
    assert "Werte" in (solution._repr_markdown_() or "")


def test_user_text_is_plain_text_in_markdown() -> None:
    data = _data()
    data["sheet"]["title"] = "Costs: $5 <b>bold</b> *not* [a](b)"
    data["parts"][0]["title"] = "x_1 & #2"
    solution = derive.solve(derive.spec_from_dict(data, "titled"))
    overview = solution._repr_markdown_() or ""
    assert markdown_text(data["sheet"]["title"]) in overview
    assert re.search(r"(?<!\\)[$<*\[]", overview) is None  # no maths, no HTML, no emphasis, no link
    assert r"Part 1: x\_1 \& \#2" in (solution.part(1)._repr_markdown_() or "")
    assert markdown_text("a*b") == r"a\*b"


def test_the_display_protocol_is_hooked_up(example: Solution) -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    formatter = formatters.DisplayFormatter()
    for value in (example, example.part(4), example["p4.dL/dw2[1,1]"]):
        data, _ = formatter.format(value)
        assert data["text/plain"] == repr(value)
        assert data["text/markdown"] == value._repr_markdown_()
        assert data["text/latex"] == value._repr_latex_()
    # A part made by hand knows no sheet: IPython shows its repr alone.
    bare = PartSolution(example.spec.parts[0], ())
    data, _ = formatter.format(bare)
    assert set(data) == {"text/plain"}


def test_a_spec_from_a_dict_is_the_spec_of_its_toml(example: Solution) -> None:
    solution = derive.solve(derive.spec_from_dict(_data(), "backprop"))
    for q in example.quantities():
        assert solution[q.key].exact == q.exact
    # Python values read as typed: a float as its decimal, a Fraction as p/q, a tuple as a list.
    data = _data()
    data["network"]["layers"][0]["weights"] = ((1, -1), (2, 0.1))
    data["network"]["layers"][1]["bias"] = [Fraction(1, 3)]
    spec = derive.spec_from_dict(data)
    assert spec.network.layers[0].weights[1][1] == sp.Rational(1, 10)
    assert spec.network.layers[1].bias == (sp.Rational(1, 3),)
    assert spec.name == "exercise"


def _refused(data: object, name: str = "exercise") -> str:
    with pytest.raises(SpecError) as caught:
        derive.spec_from_dict(data, name)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def test_a_bad_dict_is_refused_in_one_line_naming_the_field() -> None:
    data = _data()
    data["network"]["layers"][0]["weights"] = [[1, -1], [2]]
    assert _refused(data) == "spec: network.layers[1].weights: rows must have equal length, found row lengths 2, 1"
    data = _data()
    data["parts"][1]["xx"] = [1, 1]
    assert _refused(data).startswith("spec: parts[2].xx: unknown key (did you mean 'x'?)")
    data = _data()
    data["network"]["layers"][1]["bias"] = [float("nan")]
    assert _refused(data).startswith("spec: network.layers[2].bias[1]: expected a finite number")
    data = _data()
    data["sheet"] = {1: "one"}
    assert _refused(data) == "spec: sheet: keys are strings, found int 1"
    nested: list[object] = []
    nested.append(nested)  # a list inside itself: refused, not a RecursionError
    assert "nested deeper than a spec is" in _refused({"network": nested})
    assert "cannot name the output files" in _refused(_data(), "../out")
    with pytest.raises(TypeError, match="spec_from_dict: data must be a dict of the spec's tables"):
        derive.spec_from_dict("[network]")  # type: ignore[arg-type]


def test_the_notebook_docs_run_as_written() -> None:
    docs = Path(__file__).resolve().parent.parent / "docs" / "notebooks.md"
    result = doctest.testfile(str(docs), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
