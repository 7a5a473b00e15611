"""Values computed from values that stand for themselves by a symbol (closed forms too long to keep)."""

from __future__ import annotations

import sympy as sp

from derive.terms.formula import MP, Difference, Product, Quantity, Ref, Sum, identifier
from derive.terms.symbols import Sym


def standing(name: str, approx: float) -> Quantity:
    """A quantity whose closed form was too long: its exact value is a symbol of its own."""
    return Quantity(Sym(name), sp.Symbol(identifier(name)), MP.mpf(approx))


def test_a_value_computed_from_a_stand_in_stands_for_itself() -> None:
    z, w = standing("z", 0.5), Quantity.given(Sym("w"), sp.Rational(3, 10))
    q = Quantity.computed(Sym("a"), Sum((Product((Ref(w), Ref(z))), Ref(w))))
    assert q.exact == sp.Symbol(identifier(q.key)) and q.stands
    assert abs(q.approx - (MP.mpf(3) / 10 * MP.mpf(0.5) + MP.mpf(3) / 10)) < MP.mpf(10) ** -40


def test_what_cancels_symbolically_stays_exact() -> None:
    # Decided as with the stand-ins' own symbols: a product with an exact 0, and x - x.
    z, zero = standing("z", 0.5), Quantity.given(Sym("x"), 0)
    assert Quantity.computed(Sym("g"), Product((Ref(z), Ref(zero)))).exact == 0
    assert Quantity.computed(Sym("d"), Difference(Ref(z), Ref(z))).exact == 0
    assert Quantity.computed(Sym("e"), Difference(Ref(z), Ref(standing("y", 0.5)))).stands
