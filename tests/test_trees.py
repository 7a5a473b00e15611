"""has_symbol answers as SymPy's free_symbols and has(Float) do, on the trees a sheet makes."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.terms.trees import has_symbol

X = sp.Symbol("x")
CASES = [
    sp.Integer(3),
    sp.Rational(-7, 40),
    sp.exp(sp.Rational(1, 4)) / (1 + sp.exp(sp.Rational(1, 4))) ** 3,
    1 / (1 + sp.exp(-1 / (1 + sp.exp(-3)) + sp.Rational(1, 2))),
    sp.log(sp.Rational(3, 40)) + sp.sqrt(2),
    sp.E + sp.pi,
    X,
    1 / (1 + sp.exp(-X)),
    sp.exp(sp.Rational(1, 2)) * sp.Dummy("t") ** 2,
    sp.Float("0.25", 40) + sp.exp(2),
    sp.log(1 + sp.Float("1e-30", 40)),
    sp.Float(1.5) * X,
]


@pytest.mark.parametrize("value", CASES, ids=str)
def test_as_sympy_answers(value: sp.Expr) -> None:
    assert has_symbol(value) == bool(value.free_symbols)
    assert has_symbol(value, floats=True) == (bool(value.free_symbols) or value.has(sp.Float))
