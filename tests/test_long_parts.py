"""Long parts stay readable and no line is overfull: long sums break, many-parameter optimizer steps
become one worked entry and a table, drawings label briefly and off crossings, steps name their layer."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import derive
from derive.maths.steps import Compute, Diagram, Finding, Table
from derive.pdf.compile import Pdf
from derive.pipeline import Options, build_sheet, parse_spec
from derive.render.context import sheet_context
from derive.render.diagram import LABEL_FIGURES, diagram_context
from derive.render.step_context import LINE_WIDTH, _wrap
from derive.render.templates import render_solution
from derive.terms.formula import Quantity
from derive.tex.layout import terms, width
from derive.tex.style import Style

WIDE = """
[sheet]
title = "Eight hidden units"
decimals = 4

[network]
inputs = 2

[[network.layers]]
weights = [[1, -1], [2, 1], [0.5, -0.5], [1, 2], [-1, 1], [0.25, 0.75], [-2, 1], [1, 0.5]]
bias = [0, 0.1, 0, -0.1, 0.2, 0, 0.3, -0.2]
activation = "sigmoid"

[[network.layers]]
weights = [[1, -1, 0.5, 2, -0.5, 1, 0.25, -1]]
bias = ["1/2"]
activation = "identity"

[loss]
name = "squared_error"

[[parts]]
kind = "forward"
x = [1, -1]
y = 1

[[parts]]
kind = "gradients"
x = [1, 1]
of = "yhat"
wrt = ["W1", "b1", "W2", "b2", "x"]

[[parts]]
kind = "update"
use_sample_of = 1
optimizer = "adam"
learning_rate = "1/10"
steps = 2

[[parts]]
kind = "mse_vs_ce"
p = ["0.001", "0.01", "0.1", "0.5", "0.9", "0.99", "0.999"]
target = 1
"""

ADAM_3_2_2 = """
[network]
inputs = 3

[[network.layers]]
weights = [[1, -1, 0.5], [2, 1, -1]]
bias = [0, 0.1]
activation = "sigmoid"

[[network.layers]]
weights = [[1, -1], [0.5, 2]]
bias = ["1/2", 0]
activation = "identity"

[loss]
name = "squared_error"

[[parts]]
kind = "update"
x = [1, -1, 0.5]
y = [1, 0]
optimizer = "adam"
learning_rate = "1/10"
steps = 2
"""


def test_a_sum_splits_between_its_top_level_terms_only() -> None:
    text = r"1 \cdot \frac{1}{1 + e^{-2}} + \left(-1\right) \cdot a - \begin{pmatrix} a + b \end{pmatrix} + \frac{1}{2}"
    pieces = terms(text)
    assert pieces == [
        r"1 \cdot \frac{1}{1 + e^{-2}}",
        r"+ \left(-1\right) \cdot a",
        r"- \begin{pmatrix} a + b \end{pmatrix}",
        r"+ \frac{1}{2}",
    ]
    assert " ".join(pieces) == text
    assert terms(r"- \frac{1}{2}") == [r"- \frac{1}{2}"]  # a leading sign is no place to break


def test_a_long_sum_breaks_into_rows_that_fit() -> None:
    long_sum = " + ".join(rf"w^{{(2)}}_{{1,{k}}} \, a^{{(1)}}_{{{k}}}" for k in range(1, 9))
    rows = _wrap("z^{(2)}", [("=", long_sum), (r"\approx", "1.2435")])
    assert len(rows) > 1
    for row in rows:
        assert width(row["left"]) + sum(width(text) + 2 for _, text in row["segments"]) <= LINE_WIDTH + 4
    # Every later row goes on with the next term's sign; together they are the sum.
    continued = [text for row in rows[1:] for rel, text in row["segments"] if rel == r"\quad"]
    assert continued and all(text.startswith("{} + ") for text in continued)
    shown = " ".join(text.removeprefix("{} ") for row in rows for _, text in row["segments"][:])
    assert long_sum in shown


def overfull(log: str) -> list[float]:
    """The Overfull \\hbox widths (pt) in a TeX log."""
    return list(Pdf.of(b"", log).overfull)  # as derive's own record of a PDF reads them


def compiled_log(tex: Path) -> str:
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tex.parent,
        capture_output=True,
        timeout=120,
        check=False,
    )
    log = tex.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    assert run.returncode == 0, log[-2000:]
    return log


@pytest.mark.parametrize("language", ["en", "de"])
def test_no_line_of_an_eight_unit_layers_sheets_is_overfull(tmp_path: Path, language: str) -> None:
    spec = parse_spec(WIDE, name="wide")
    build_sheet(spec, Options(output_dir=tmp_path, pdf=False, formats=None, compiled=None, language=language))
    sheets = ("solution", "exercise") if language == "en" else ("solution",)
    for sheet in sheets:
        log = compiled_log(tmp_path / f"wide-{sheet}.tex")
        assert [pt for pt in overfull(log) if pt > 1.0] == [], sheet


def test_many_parameters_take_one_worked_entry_and_a_table_of_verified_values(tmp_path: Path) -> None:
    built = build_sheet(parse_spec(ADAM_3_2_2, name="adam"), Options(output_dir=tmp_path, pdf=False, compiled=None))
    part = built.solution.parts[0]
    for t in ("1", "2"):
        section = next(s for s in part.sections if s.key == "update" and s.label == t)
        tables = [s for s in section.steps if isinstance(s, Table)]
        computes = [s for s in section.steps if isinstance(s, Compute)]
        assert len(tables) == 1 and len(tables[0].rows) == 14  # every entry of W1, b1, W2, b2
        stages = len(part.part.params.optimizer.stages)
        assert len(computes) == stages and all(len(c.entries) == 1 for c in computes)  # one entry worked
        assert any(isinstance(s, Finding) and s.key == "worked_entry" for s in section.steps) == (t == "1")
        cells = [c for row in tables[0].rows for c in row if isinstance(c, Quantity)]
        assert len(cells) == 14 * (1 + stages)  # g, then each stage
        # The worked entry's values are the table's (the same quantities, verified by the gate).
        assert {c.entries[0].key for c in computes} <= {c.key for c in cells}
    assert built.report.values >= len(list(built.solution.quantities()))
    text = (tmp_path / "adam-solution.tex").read_text()
    assert "every stage is worked out in full for one entry" in text


def test_backpropagation_steps_name_their_layer(example: derive.Solution) -> None:
    style = Style()
    text = render_solution(example, style, (), sheet_context(example, style))
    assert "Step 3 (layer 2): weight gradients." in text
    assert "Step 3 (layer 1): weight gradients." in text
    assert "Step 6 (layer 1): error signal of the hidden layer." in text
    assert "Step 1: derivative of the loss." in text


def test_drawings_label_few_figures_off_the_crossings() -> None:
    spec = derive.load_example()
    solution = derive.solve(spec)
    style = Style(places=9)
    gradients = next(s for sec in solution.part(4).sections for s in sec.steps if isinstance(s, Diagram))
    context = diagram_context(gradients, style.printer())
    for edge in context["edges"]:
        digits = re.sub(r"\\cdot 10\^\{-?\d+\}", "", edge["label"])
        assert len(re.sub(r"[^0-9]", "", digits).lstrip("0")) <= LABEL_FIGURES, edge["label"]
    # In the seed's network, x1 → a2 and x2 → a1 cross halfway: no weight label sits there.
    network = sheet_context(solution, Style.of(spec.sheet))["network"]["diagram"]
    crossing = {("n0-1", "n1-2"), ("n0-2", "n1-1")}
    for edge in network["edges"]:
        if (edge["source"], edge["target"]) in crossing:
            assert abs(float(edge["pos"]) - 0.5) >= 0.15
