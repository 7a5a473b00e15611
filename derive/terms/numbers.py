"""Exact numbers from spec values: integers, fractions "1/2" and decimals "0.15", never binary floats."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import sympy as sp

_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(\s*/\s*[+-]?\d+)?\s*$")


class NumberError(ValueError):
    """A value that is not an exact finite number; the message says what was found."""


def parse_exact(value: object) -> sp.Rational:
    """Return ``value`` as an exact SymPy rational.

    Accepts ``int``, ``decimal.Decimal`` (TOML floats are read as Decimal, so ``0.15`` stays
    3/20) and strings such as ``"1/2"``, ``"-0.25"`` or ``"3e-2"``.
    """
    if isinstance(value, bool):
        raise NumberError(f"expected a number, found a boolean ({str(value).lower()})")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NumberError(f"expected a finite number, found {value}")
        return _rational(Fraction(value))
    if isinstance(value, str):
        text = value.strip()
        if text.lower().lstrip("+-") in {"inf", "infinity", "nan"}:
            raise NumberError(f"expected a finite number, found {value!r}")
        if not _NUMBER.match(text):
            raise NumberError(f'expected a number such as 2, "1/2" or "0.15", found {value!r}')
        numerator, _, denominator = text.partition("/")
        top = Fraction(Decimal(numerator.strip()))
        if denominator:
            bottom = Fraction(int(denominator.strip()))
            if bottom == 0:
                raise NumberError(f"zero denominator in {value!r}")
            top /= bottom
        return _rational(top)
    kind = type(value).__name__
    kind = {"list": "a list", "dict": "a table"}.get(kind, kind)
    raise NumberError(f"expected a number, found {kind}")


def _rational(value: Fraction) -> sp.Rational:
    return sp.Rational(value.numerator, value.denominator)
