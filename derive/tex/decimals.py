"""Numbers as text: decimals rounded half up to places or significant figures, finite decimals of
fractions. Written with a decimal point; the printer gives them the sheet's decimal mark."""

from __future__ import annotations

import math
from decimal import Decimal

import sympy as sp

from derive.terms.formula import Quantity
from derive.terms.rounding import rounded_decimal


class Digits(int):
    """How many digits a decimal shows: places after the point, or with ``significant`` significant
    figures. An ``int`` (the places) wherever a count of places is expected."""

    significant: bool

    def __new__(cls, count: int, significant: bool = False) -> Digits:
        digits = super().__new__(cls, count)
        digits.significant = significant
        return digits

    def __repr__(self) -> str:
        return f"Digits({int(self)}, significant={self.significant})"

    def __str__(self) -> str:  # the count, as templates print it
        return str(int(self))


def significant(places: int) -> bool:
    """Whether a count of digits means significant figures (a significant :class:`Digits`)."""
    return getattr(places, "significant", False)


def decimal(value: sp.Float | float, places: int = 4) -> str:
    """A decimal rounded half up to ``places`` (or to that many significant figures when ``places``
    is a significant :class:`Digits`); tiny and huge values in scientific notation."""
    if not math.isfinite(float(value)):
        return r"\infty" if float(value) > 0 else r"-\infty"
    number = Decimal(str(sp.Float(value, 40)))
    if significant(places):
        return _significant(number, int(places))
    if number != 0 and not Decimal(10) ** -places <= abs(number) < Decimal(10) ** 6:
        mantissa, exponent = f"{number:.{max(places - 1, 1)}e}".split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
    rounded = rounded_decimal(number, places)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:f}"


def _significant(number: Decimal, figures: int) -> str:
    """``number`` rounded half up to ``figures`` significant figures: 0.01235, 1.235, 123500."""
    if number == 0:
        return "0"
    rounded = rounded_decimal(number, figures, significant=True)
    if not Decimal("1e-4") <= abs(rounded) < Decimal(10) ** 6:
        mantissa, exponent = f"{rounded:.{max(figures - 1, 0)}e}".split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
    return f"{rounded:f}"


def terminating(value: sp.Expr, places: int) -> str | None:
    """The exact decimal of a rational with at most ``places`` digits after the point, else None.

    Worked in integers: a fraction terminates when its denominator is 2^i 5^j, after max(i, j)
    digits; Decimal's 28-digit context would round a long numerator instead.
    """
    if not value.is_Rational:
        return None
    p, q = int(value.p), int(value.q)
    twos = fives = 0
    while q % 2 == 0:
        q, twos = q // 2, twos + 1
    while q % 5 == 0:
        q, fives = q // 5, fives + 1
    digits = max(twos, fives)
    if q != 1 or digits > places:
        return None
    scaled = abs(p) * 10**digits // int(value.q)
    whole, fraction = divmod(scaled, 10**digits)
    text = f"{whole}.{fraction:0{digits}d}".rstrip("0").rstrip(".") if digits else str(whole)
    return f"-{text}" if p < 0 else text


def plain(value: sp.Expr, places: int) -> str | None:
    """An integer, or a decimal that is exact within ``places``: what a decimals-only sheet may write with =."""
    if value.is_Integer:
        return str(value)
    if significant(places):
        # 0.001235 has 4 significant figures in 6 places: it is exact to 4 figures.
        text = terminating(value, 60)
        figures = None if text is None else text.lstrip("-").replace(".", "").lstrip("0")
        return text if figures is not None and len(figures) <= places else None
    return terminating(value, places)


def hyperparameter(value: sp.Rational) -> str | None:
    """A hyperparameter as an exercise states it: 10^{-8} rather than 0.00000001 (None: no power of ten)."""
    digits = len(str(value.q)) - 1
    if value.p == 1 and value.q == 10**digits and digits >= 4:
        return rf"10^{{-{digits}}}"
    return None


def carried(q: Quantity, places: int) -> str | None:
    """Under the student policy: a computed value with every place it carries (0.0300, not 0.03),
    a given with all of its own (0.123456 stays so); None for any other value (with a point)."""
    if q.carry is None:
        return None
    return decimal(q.approx, places) if q.formula is not None else terminating(q.exact, 12)


def decimals_only(q: Quantity, places: int) -> str | None:
    """What a decimals-only sheet writes for ``q`` with =: the student policy's carried text, or the
    value itself where it is exact within ``places``; None where it must be rounded for display."""
    return carried(q, places) or plain(q.exact, places)
