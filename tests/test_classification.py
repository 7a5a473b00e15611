"""Part 7 (cross-entropy) and MSE against cross-entropy, against SymPy and hand-written oracles."""

from __future__ import annotations

import math

import sympy as sp

from derive.maths.steps import Finding, Limits, Solution, Table
from derive.tex.printer import Printer

P = sp.Symbol("p", positive=True)


def steps_of(solution: Solution, number: int, kind: type) -> list:
    return [s for section in solution.part(number).sections for s in section.steps if isinstance(s, kind)]


def test_best_and_worst_cases_are_the_symbolic_limits(example: Solution) -> None:
    (limits,) = steps_of(example, 7, Limits)
    expected = {
        ("best", "y = 1"): sp.limit(-sp.log(P), P, 1, "-"),
        ("worst", "y = 1"): sp.limit(-sp.log(P), P, 0, "+"),
        ("best", "y = 0"): sp.limit(-sp.log(1 - P), P, 0, "+"),
        ("worst", "y = 0"): sp.limit(-sp.log(1 - P), P, 1, "-"),
    }
    assert expected[("best", "y = 1")] == 0 and expected[("worst", "y = 1")] == sp.oo
    shown = {(row.case, Printer().show(row.condition)): Printer().show(row.value) for row in limits.rows}
    assert shown == {key: sp.latex(value) for key, value in expected.items()}


def test_loss_table_against_math_log(example: Solution) -> None:
    table = next(t for t in steps_of(example, 7, Table) if t.key == "ce_table")
    for (p_text, y1, y0), p in zip(table.rows, [0.01, 0.1, 0.5, 0.9, 0.99], strict=True):
        assert Printer().show(p_text) == str(p)
        assert float(y1.approx) == math.log(1 / p) or abs(float(y1.approx) + math.log(p)) < 1e-15
        assert abs(float(y0.approx) + math.log(1 - p)) < 1e-15
    assert table.rows[0][1].exact == sp.log(100)  # −log(1/100), exact


def test_classification_view_of_part_3(example: Solution) -> None:
    p = 1 / (1 + sp.exp(-sp.Rational(1, 2)))  # ŷ = 1/2 at x = 0, through a sigmoid
    assert example["p7.yhat[1]"].exact == p
    assert abs(float(example["p7.L"].approx) - math.log(1 + math.exp(-0.5))) < 1e-15
    assert sp.simplify(example["p7.delta2[1]"].exact - (p - 1)) == 0
    assert any(f.key == "ce_shortcut" for f in steps_of(example, 7, Finding))


def test_mse_gradient_vanishes_where_cross_entropy_does_not(example: Solution) -> None:
    table = steps_of(example, 11, Table)[0]
    for (_, mse, ce), p in zip(
        table.rows, ["1/1000", "1/100", "1/10", "1/2", "9/10", "99/100", "999/1000"], strict=True
    ):
        q = sp.Rational(p)
        assert mse.exact == 2 * (q - 1) * q * (1 - q)
        assert ce.exact == q - 1
    (finding,) = [f for f in steps_of(example, 11, Finding) if f.key == "vanishing"]
    facts = {name: Printer().show(value) for name, value in finding.facts}
    assert facts["p"] == "0.001"
    assert facts["ratio"] == f"{0.999 / (2 * 0.999 * 0.001 * 0.999):.1f}"
