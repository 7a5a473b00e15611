"""Exact numbers from spec values."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sympy as sp

from derive.terms.numbers import NumberError, parse_exact


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, sp.Integer(3)),
        (-2, sp.Integer(-2)),
        ("1/2", sp.Rational(1, 2)),
        (" -3 / 4 ", sp.Rational(-3, 4)),
        ("0.15", sp.Rational(3, 20)),  # never via a binary float
        (Decimal("0.15"), sp.Rational(3, 20)),  # a TOML float read as Decimal
        ("1e-3", sp.Rational(1, 1000)),
        ("0.5/2", sp.Rational(1, 4)),
        (".5", sp.Rational(1, 2)),
    ],
)
def test_exact_values(value: object, expected: sp.Rational) -> None:
    assert parse_exact(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1/0", "zero denominator"),
        ("inf", "finite"),
        (Decimal("nan"), "finite"),
        (Decimal("inf"), "finite"),
        (True, "boolean"),
        ("one", "expected a number"),
        ("1/2/3", "expected a number"),
        ([1], "a list"),
    ],
)
def test_bad_values_say_what_was_found(value: object, message: str) -> None:
    with pytest.raises(NumberError, match=message):
        parse_exact(value)
