"""The catalogue's activations on carried decimals: compiled from the exact rule, to every carried digit."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.catalog.activations import ACTIVATIONS, EXP, custom
from derive.terms.decimal_rules import DecimalRule
from derive.terms.formula import DIGITS, MP, Apply, Num, Undefined, approximate

POINTS = ["0", "1/3", "-2/3", "7/2", "-30", "400", "-800", "1/1000000"]
ELEMENTWISE = [name for name, entry in ACTIVATIONS.items() if name not in ("softmax", "custom")]


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("point", POINTS)
def test_a_catalogue_activation_on_decimals_agrees_with_its_exact_rule_to_every_carried_digit(
    name: str, point: str
) -> None:
    activation = ACTIVATIONS[name].build()
    assert isinstance(activation.decimal, DecimalRule)
    z = sp.Rational(point)
    carried = Apply(activation, Num(z)).approx()
    # The oracle: the exact rule at the exact point, evaluated by SymPy to 60 digits.
    exact = activation.rule(z).evalf(60)
    assert isinstance(carried, type(MP.mpf(1)))
    assert abs(carried - approximate(exact)) <= MP.mpf(10) ** -DIGITS * max(1, abs(carried))


def test_the_exponential_of_softmax_is_compiled_too() -> None:
    assert isinstance(EXP.decimal, DecimalRule)
    carried = Apply(EXP, Num(sp.Rational(1, 2))).approx()
    assert abs(carried - approximate(sp.exp(sp.Rational(1, 2)).evalf(60))) <= MP.mpf(10) ** -DIGITS


def test_a_users_formula_keeps_its_bounded_evaluation_and_its_one_line_domain_error() -> None:
    activation = custom("log(z)", "layers[1].activation")
    assert activation.decimal is None
    with pytest.raises(Undefined, match=r"^the formula 'log\(z\)' \(layers\[1\]\.activation\) at z = -1"):
        Apply(activation, Num(sp.Integer(-1))).approx()


def test_a_decimal_rule_compiles_once_and_names_its_rule() -> None:
    rule = ACTIVATIONS["sigmoid"].build().decimal
    assert isinstance(rule, DecimalRule)
    rule(MP.mpf(1))
    compiled = rule._compiled
    rule(MP.mpf(2))
    assert rule._compiled is compiled and repr(rule) == "DecimalRule(_sigmoid)"
