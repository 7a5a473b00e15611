"""Exact numbers from spec values: integers, fractions "1/2" and decimals "0.15", never binary floats."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

import sympy as sp

_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(\s*/\s*[+-]?\d+)?\s*$")
_PARTS = re.compile(r"^[+-]?(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$")

MAX_DIGITS = 30
"""Most digits a number is typed with (leading zeros not counted): a hand exercise needs a few."""
MAGNITUDE = 30
"""Numbers are 0 or between 10^-30 and 10^30 in size: far beyond what a hand exercise needs, and
well inside float64, which checks every value."""
MAX_DENOMINATOR = 10**12
"""Largest denominator of a fraction typed as "p/q"."""

LARGEST = Fraction(10**MAGNITUDE)
SMALLEST = Fraction(1, 10**MAGNITUDE)


class NumberError(ValueError):
    """A value that is not an exact finite number; the message says what was found."""


def parse_exact(value: object) -> sp.Rational:
    """Return ``value`` as an exact SymPy rational.

    Accepts ``int``, ``decimal.Decimal`` (TOML floats are read as Decimal, so ``0.15`` stays
    3/20) and strings such as ``"1/2"``, ``"-0.25"`` or ``"3e-2"``. Its digits, size and
    denominator are checked on what was typed, before any large number is built: "1e99999999"
    is refused at once, not computed first.
    """
    if isinstance(value, bool):
        raise NumberError(f"expected a number, found a boolean ({str(value).lower()})")
    if isinstance(value, int):
        if abs(value) > LARGEST:  # comparing costs nothing; printing a 5000-digit number would
            raise NumberError(f"a whole number of about {int(math.log10(abs(value))) + 1} digits is {_range()}")
        return sp.Integer(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NumberError(f"expected a finite number, found {value}")
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)  # finite
        number = _decimal("".join(map(str, digits)), len(digits) + exponent, value)
        return _rational(-number if sign else number)
    if isinstance(value, str):
        text = value.strip()
        if text.lower().lstrip("+-") in {"inf", "infinity", "nan"}:
            raise NumberError(f"expected a finite number, found {_shown(value)}")
        if not _NUMBER.match(text):
            raise NumberError(f'expected a number such as 2, "1/2" or "0.15", found {_shown(value)}')
        numerator, _, denominator = text.partition("/")
        top = _typed(numerator.strip(), value)
        if denominator:
            bottom = _denominator(denominator.strip(), value)
            top /= bottom
        return _rational(_sized(top, value))
    kind = type(value).__name__
    kind = {"list": "a list", "dict": "a table"}.get(kind, kind)
    raise NumberError(f"expected a number, found {kind}")


def _typed(text: str, value: object) -> Fraction:
    """A decimal as typed ("-0.25", "3e-2"), its digits and size checked before it is built."""
    match = _PARTS.match(text.replace(" ", ""))
    assert match is not None  # _NUMBER matched
    whole, fraction, exponent = match.groups()
    if not (whole + fraction).strip("0"):
        return Fraction(0)  # 0e99999999 is 0, whatever its exponent
    shift = 0
    if exponent:
        digits = exponent.lstrip("+-").lstrip("0")
        if len(digits) > len(str(2 * MAGNITUDE)):  # far out of range: never turned into a number
            raise NumberError(f"{_shown(value)} is {_range()}")
        shift = int(exponent)
    number = _decimal(whole + fraction, len(whole) + shift, value)
    return -number if text.startswith("-") else number


def _decimal(digits: str, point: int, value: object) -> Fraction:
    """The number 0.<digits> × 10^point, refused if it has too many digits or is out of range."""
    significant = digits.lstrip("0")
    if not significant:
        return Fraction(0)
    if len(significant) > MAX_DIGITS:
        raise NumberError(f"{_shown(value)} has {len(significant)} digits; at most {MAX_DIGITS} are read")
    lead = point - (len(digits) - len(significant))  # the number is 0.<significant> × 10^lead
    if not -MAGNITUDE <= lead <= MAGNITUDE + 1:
        raise NumberError(f"{_shown(value)} is {_range()}")
    number = Fraction(int(significant)) * Fraction(10) ** (lead - len(significant))
    return _sized(number, value)


def _denominator(text: str, value: object) -> Fraction:
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > len(str(MAX_DENOMINATOR)):
        raise NumberError(f"the denominator of {_shown(value)} is beyond {_power(MAX_DENOMINATOR)}")
    bottom = int(text)
    if bottom == 0:
        raise NumberError(f"zero denominator in {_shown(value)}")
    if abs(bottom) > MAX_DENOMINATOR:
        raise NumberError(f"the denominator of {_shown(value)} is beyond {_power(MAX_DENOMINATOR)}")
    return Fraction(bottom)


def _sized(number: Fraction, value: object) -> Fraction:
    if number != 0 and not SMALLEST <= abs(number) <= LARGEST:
        raise NumberError(f"{_shown(value)} is {_range()}")
    return number


def within_limits(number: sp.Rational) -> sp.Rational:
    """``number`` (from Python: a Fraction or a SymPy rational) if a spec could have typed it: its size
    and denominator within the limits :func:`parse_exact` checks on text."""
    fraction = Fraction(int(number.p), int(number.q))
    if fraction.denominator > MAX_DENOMINATOR:
        raise NumberError(f"the denominator of {_shown(number)} is beyond {_power(MAX_DENOMINATOR)}")
    _sized(fraction, number)
    return number


def _range() -> str:
    return f"out of range: numbers are 0 or from 10^-{MAGNITUDE} to 10^{MAGNITUDE} in size"


def _power(number: int) -> str:
    return f"10^{len(str(number)) - 1}"


def _shown(value: object) -> str:
    """``value`` as the message quotes it: a long one cut short (a 5000-digit number is no message)."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else f"{text[:30]}… ({len(text)} characters)"


def _rational(value: Fraction) -> sp.Rational:
    return sp.Rational(value.numerator, value.denominator)
