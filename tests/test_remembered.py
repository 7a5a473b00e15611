"""The remembering printers write what SymPy's own printers write, sharing parts across values."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.terms import remembered
from derive.terms.remembered import RememberedLatex, RememberedStr

Q = sp.Rational
S = 1 + sp.exp(Q(1, 4))
VALUES = [
    6 * sp.exp(Q(1, 2)) / S**3,
    Q(1, 4) - 6 * sp.exp(Q(1, 2)) / S**3,
    (-13 * sp.exp(Q(1, 20)) + 27 * sp.exp(Q(1, 40))) / (5 * (1 + sp.exp(Q(1, 40))) ** 3),
    1 / (1 + sp.exp(-1 / (1 + sp.exp(-3)) + Q(1, 2))),
    -sp.log(Q(3, 40)) + sp.sqrt(2) * sp.exp(-3) - sp.E,
    sp.sin(S),
    sp.sin(S) ** 2,  # a function raised to a power: its LaTeX is printed with the exponent inside
    sp.Matrix([[S, 1], [0, -S]]),
]


@pytest.mark.parametrize("settings", [{}, {"order": "none"}], ids=["ordered", "as-they-stand"])
def test_the_same_text_as_sympy_twice_over(settings: dict[str, str]) -> None:
    latex, text = RememberedLatex(settings), RememberedStr(settings)
    for _ in range(2):  # the second round prints every part from memory
        for value in VALUES:
            assert latex.doprint(value) == sp.latex(value, **settings)
            assert text.doprint(value) == sp.sstr(value, **settings)
    assert S in latex.printed and S in text.printed


def test_the_memory_starts_again_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remembered, "KEPT", 3)
    text = RememberedStr({})
    for value in VALUES:
        assert text.doprint(value) == sp.sstr(value)
        assert len(text.printed) <= 3
