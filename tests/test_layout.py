"""Matrices on the page: amsmath's column limit is lifted only for a document with a wider matrix."""

from __future__ import annotations

import subprocess
from pathlib import Path

import derive
from derive import Options, build_sheet
from derive.maths.steps import Solution
from derive.pdf.compile import compile_pdf
from derive.tex.layout import AMSMATH_COLUMNS, matrix_columns

WIDE = AMSMATH_COLUMNS + 1


def _row(n: int) -> str:
    return " & ".join(str(k) for k in range(n))


def test_a_matrix_amsmath_can_set_asks_for_nothing() -> None:
    narrow = rf"\(\begin{{pmatrix}} {_row(AMSMATH_COLUMNS)} \\ {_row(2)} \end{{pmatrix}}\)"
    assert matrix_columns(narrow) == ""
    assert matrix_columns("no matrix at all") == ""


def test_the_widest_matrix_of_any_kind_sets_the_limit() -> None:
    latex = rf"\begin{{pmatrix}} {_row(3)} \end{{pmatrix}} and \begin{{bmatrix}} 1 \\ {_row(WIDE + 2)} \end{{bmatrix}}"
    assert matrix_columns(latex) == rf"\setcounter{{MaxMatrixCols}}{{{WIDE + 2}}}"


def test_the_built_in_sheets_leave_amsmath_s_limit_alone(example: Solution) -> None:
    # The allowance costs every matrix TeX time (200 columns made the solution 3.5 times as slow).
    rendered = derive.render(example)
    assert "MaxMatrixCols" not in rendered.exercise + rendered.solution


def _wide_spec(units: int) -> str:
    # One more hidden layer of `units` units after a layer as wide: the question states its weights whole.
    inserted = [[(i + j) % 3 - 1 for j in range(units)] for i in range(units)]
    return f"""
[sheet]
title = "Wide"
[network]
inputs = 2
[[network.layers]]
weights = {[[1, 1]] * units}
bias = {[0] * units}
activation = "sigmoid"
[[network.layers]]
weights = {[[1] * units]}
bias = [0]
activation = "identity"
[loss]
name = "squared_error"
[[parts]]
kind = "forward"
x = [1, 1]
y = 1
[[parts]]
kind = "extra_layer"
after = 1
weights = {inserted}
bias = {[0] * units}
activation = "sigmoid"
use_sample_of = 1
"""


def test_a_sheet_with_a_wider_matrix_compiles_and_its_fragment_too(tmp_path: Path) -> None:
    built = build_sheet(derive.parse_sheet(_wide_spec(WIDE), name="wide"), Options(output_dir=tmp_path))
    allowance = rf"\setcounter{{MaxMatrixCols}}{{{WIDE}}}"
    for sheet in ("exercise", "solution"):
        assert allowance in (tmp_path / f"wide-{sheet}.tex").read_text(encoding="utf-8")
        pdf = tmp_path / f"wide-{sheet}.pdf"
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "additional hidden layer" in text
    assert {tmp_path / "wide-exercise.pdf", tmp_path / "wide-solution.pdf"} <= set(built.files)
    fragment = (tmp_path / "wide-fragments" / "part2-exercise.tex").read_text(encoding="utf-8")
    assert allowance in fragment
    host = "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n%s\n\\end{document}\n"
    assert compile_pdf(host % fragment).startswith(b"%PDF")
    assert "MaxMatrixCols" not in (tmp_path / "wide-fragments" / "part1-exercise.tex").read_text(encoding="utf-8")
