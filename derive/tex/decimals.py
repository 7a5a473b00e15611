"""Numbers as text: decimals rounded half up to places or significant figures, finite decimals of
fractions. Written with a decimal point; the printer gives them the sheet's decimal mark."""

from __future__ import annotations

import math
from decimal import Decimal

import sympy as sp
from mpmath import libmp
from sympy.core.numbers import mpf_norm

from derive.terms.formula import MP, Quantity
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


def decimal(value: sp.Float | float, places: int = 4, guard: int = 0) -> str:
    """A decimal rounded half up to ``places`` (or to that many significant figures when ``places``
    is a significant :class:`Digits`), with ``guard`` digits more; tiny and huge values in scientific
    notation. A value below 0.01 shows at least 3 significant figures (0.000338, not 0.0003)."""
    return written(value, places, guard)[0]


def shown(value: sp.Float | float, places: int = 4, guard: int = 0) -> Decimal | None:
    """The number :func:`decimal` writes for ``value``: what a student reads off the sheet (None for ±∞
    and for a power of ten beyond any calculator, such as σ(−10^{30}) = e^{−10^{30}})."""
    return written(value, places, guard)[1]


def written(value: sp.Float | float, places: int = 4, guard: int = 0) -> tuple[str, Decimal | None]:
    """:func:`decimal` and :func:`shown` of ``value`` at once (the answers give both of every value)."""
    if not math.isfinite(float(value)):
        return (r"\infty" if float(value) > 0 else r"-\infty"), None
    if (power := _beyond(value, places, guard)) is not None:
        return power, None
    number, mantissa_places = _rounded(value, places, guard)
    if mantissa_places is not None:
        mantissa, exponent = f"{number:.{mantissa_places}e}".split("e")  # already rounded: exact
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}", number
    return f"{number:f}", number


PRECISION = libmp.dps_to_prec(40)
"""The bits of a 40-digit SymPy Float, which the digits of a decimal are read from."""


def _binary(value: sp.Float | float) -> tuple[int, int, int, int]:
    """The mpmath number of ``sp.Float(value, 40)`` (a carried decimal's or a float's), without the Float."""
    if isinstance(value, float):
        return mpf_norm(libmp.from_float(value, PRECISION, libmp.round_nearest), PRECISION)
    binary = getattr(value, "_mpf_", None)
    if binary is None:
        return sp.Float(value, 40)._mpf_  # any other number: SymPy's own conversion
    return mpf_norm(binary, PRECISION)


BEYOND = 10**5
"""Powers of ten from which a value is written from its binary exponent: Python's Decimal holds
exponents up to 10^18, and σ(−10^{30}) = e^{−10^{30}} ≈ 10^{−4.3·10^{29}} (inputs go up to 10^30)."""


def _beyond(value: sp.Float | float, places: int, guard: int) -> str | None:
    """``value`` as m · 10^{e} when |e| is at least :data:`BEYOND` (else None), with as many figures
    as :func:`decimal` gives a power of ten."""
    binary = _binary(value)
    if not binary[1] or abs(binary[2] + binary[3]) < 3 * BEYOND:  # 0, or the binary exponent is small
        return None
    # The power of ten has as many digits as the binary exponent: computed to 30 more, the decimal
    # mantissa is right (to the carried digits, 10^{-1.6·10^{59}} came out as 10^{±10^{14}}).
    with MP.workdps(len(str(abs(binary[2]))) + 30):
        number = MP.make_mpf(binary)
        exponent = int(MP.floor(MP.log10(abs(number))))
        if abs(exponent) < BEYOND:
            return None
        quotient = MP.nstr(number / MP.mpf(10) ** exponent, 30)
    figures = (int(places) if significant(places) else max(places - 1, 1) + 1) + guard
    mantissa = rounded_decimal(Decimal(quotient), figures, significant=True)
    if abs(mantissa) >= 10:  # 9.99995 rounded up
        mantissa, exponent = mantissa / 10, exponent + 1
    return rf"{mantissa:.{figures - 1}f} \cdot 10^{{{exponent}}}"


FIGURES = 3
"""Fewest significant figures a decimal of a small value shows (fewer where the places allow fewer)."""


def _rounded(value: sp.Float | float, places: int, guard: int) -> tuple[Decimal, int | None]:
    """``value`` rounded as :func:`decimal` writes it, and the places of its mantissa when it is
    written as a power of ten (else None)."""
    number = Decimal(libmp.to_str(_binary(value), 40))  # the digits str(sp.Float(value, 40)) has
    if number == 0:
        return (Decimal(0) if significant(places) else rounded_decimal(abs(number), places + guard)), None
    if significant(places):
        rounded = rounded_decimal(number, int(places) + guard, significant=True)
        scientific = not Decimal("1e-4") <= abs(rounded) < Decimal(10) ** 6
        return rounded, max(int(places) + guard - 1, 0) if scientific else None
    if not Decimal(10) ** -places <= abs(number) < Decimal(10) ** 6:
        figures = max(places - 1, 1) + guard
        return rounded_decimal(number, figures + 1, significant=True), figures
    rounded = rounded_decimal(number, places + guard)
    if abs(rounded - number) > abs(number) * Decimal("1e-15"):
        # Places enough for the figures (0.000338 needs 6: figures - adjusted - 1), unless the value
        # is exact within the places (-0.0010 stays so; beyond 15 figures a binary float's noise).
        figures = min(FIGURES, places - 1)
        rounded = rounded_decimal(number, max(places, figures - number.adjusted() - 1) + guard)
    return (abs(rounded) if rounded == 0 else rounded), None


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
    if q.formula is None:
        return terminating(q.exact, 12)
    value = q.exact
    exact = None if significant(places) or abs(value) >= 10**6 else terminating(value, places)
    if exact is None:
        return decimal(q.approx, places)
    # Exactly the carried places (0.000300 would claim digits the policy did not carry).
    return f"{Decimal(exact):.{places}f}"


def decimals_only(q: Quantity, places: int) -> str | None:
    """What a decimals-only sheet writes for ``q`` with =: the student policy's carried text, or the
    value itself where it is exact within ``places``; None where it must be rounded for display."""
    return carried(q, places) or plain(q.exact, places)
