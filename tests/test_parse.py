"""The formula parser: ordinary maths in, SymPy out; anything else a one-line FormulaError."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.catalog.parsing import FormulaError, parse_formula

Z = sp.Symbol("z", real=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("z^3/3 + 0.1*z", Z**3 / 3 + sp.Rational(1, 10) * Z),
        ("z**2 + 1", Z**2 + 1),
        ("2^z+1", 2**Z + 1),  # ^ is a power with a power's precedence, not xor
        ("-z + +z", sp.Integer(0)),
        ("exp(-z) * sigmoid(z)", sp.exp(-Z) / (1 + sp.exp(-Z))),
        ("ln(e) + pi*0", sp.Integer(1)),
        ("softplus(z)", sp.log(1 + sp.exp(Z))),
    ],
)
def test_ordinary_maths_is_read_exactly(text: str, expected: sp.Expr) -> None:
    assert sp.simplify(parse_formula(text, {"z": Z}) - expected) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('__import__("os").system("touch /tmp/derive-pwned")', "unknown function"),
        ("z.real", "not allowed in a formula: 'z.real'"),
        ("(lambda: 1)()", "unknown function"),
        ("[z for z in range(9)]", "not allowed in a formula"),
        ("z if z else 1", "not allowed in a formula"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("'a' * 3", "only numbers may appear as constants"),
        ("True + z", "only numbers may appear as constants"),
        ("sqrt(z, 2)", "sqrt() takes exactly one argument"),
        ("exp(x=z)", "exp() takes exactly one argument"),
        ("x + 1", "unknown name 'x'; allowed: z, e, pi"),
        ("1/0", "division by zero"),
        ("z +", "not a formula"),
        ("", "empty"),
        ("z" + " + z" * 100, "longer than 200 characters"),
        ("(" * 40 + "z" + ")" * 40, ""),  # brackets alone add no depth: this one is fine
        ("-" * 40 + "z", "nested more than"),
    ],
)
def test_anything_else_is_refused_with_a_reason(text: str, message: str) -> None:
    if not message:
        assert parse_formula(text, {"z": Z}) == Z
        return
    with pytest.raises(FormulaError) as caught:
        parse_formula(text, {"z": Z})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
