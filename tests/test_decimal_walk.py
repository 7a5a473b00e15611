"""The gate's walk of a closed form in 45-digit decimals: SymPy's evalf to 30 digits is its oracle."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.verify.decimal_walk import walked

E = sp.exp
HALF = sp.Rational(1, 2)
FORMS = [
    1 / (1 + E(-HALF)),
    (1 - 1 / (E(-1 / (E(-3) + 1) - HALF) + 1)) * (-2 / (1 + E(-HALF + 1 / (E(-3) + 1))) + 1),
    -sp.Rational(25000001, 50000001) + 10 / (1 + E(sp.Rational(12500000, 25000001))),
    sp.log(1 + E(sp.Rational(3, 7))) - sp.Rational(3, 7),
    -sp.log(sp.Rational(99, 100)),
    sp.sqrt(2) / 2 + sp.pi * sp.E,
    (1 + E(sp.Rational(1, 40))) ** -3 * (513 * E(sp.Rational(1, 40)) - 247 * E(sp.Rational(1, 20))) / 200,
    sp.Integer(7) ** -5,
]


@pytest.mark.parametrize("form", FORMS, ids=[str(i) for i in range(len(FORMS))])
def test_a_closed_form_walked_in_decimals_is_its_value(form: sp.Expr) -> None:
    value = walked(form)
    assert value is not None
    assert value == pytest.approx(float(form.evalf(30)), rel=1e-15, abs=1e-300)


@pytest.mark.parametrize(
    "form",
    [
        sp.sin(1) + 1,  # a function the walk does not evaluate
        sp.tanh(HALF),
        sp.Integer(-2) ** sp.Rational(1, 3),  # a complex power
        E(sp.Integer(100)) - E(sp.Integer(100)) * (1 + E(-40)),  # intermediates past 10^25: digits lost
        sp.Symbol("x") + 1,
    ],
)
def test_a_form_the_walk_cannot_vouch_for_is_left_to_evalf(form: sp.Expr) -> None:
    assert walked(form) is None
