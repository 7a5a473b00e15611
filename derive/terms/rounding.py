"""Rounding half up to places or significant figures, and the "student" policy that carries it.

The exact engine rounds here (in decimal arithmetic, so a tie such as 0.06175 is seen as one);
the float64 twin rounds with its own code in :mod:`derive.verify.floats`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import mpmath
import sympy as sp

POLICIES = ("exact", "student")
"""``[sheet] rounding``: exact values carried (display rounding only), or every intermediate rounded."""


def rounded_decimal(number: Decimal, digits: int, significant: bool = False) -> Decimal:
    """``number`` rounded half up (away from zero) to ``digits`` places, or significant figures.

    With significant figures a carry that adds a figure is counted: 9.9996 to 4 figures is 10.00.
    """
    with localcontext() as context:
        # Enough digits for the whole part and the places: 10^100 to 2 places has 103.
        context.prec = max(80, number.adjusted() + digits + 5)
        if not significant:
            return number.quantize(Decimal(10) ** -digits, rounding=ROUND_HALF_UP)
        if number == 0:
            return Decimal(0)
        rounded = number.quantize(Decimal(1).scaleb(number.adjusted() - digits + 1), rounding=ROUND_HALF_UP)
        if rounded.adjusted() > number.adjusted():  # 9.9996 → 10.000: the carry added a figure
            rounded = rounded.quantize(Decimal(1).scaleb(rounded.adjusted() - digits + 1), rounding=ROUND_HALF_UP)
        return rounded


CHECKED_DIGITS = 12
"""Most digits a carried value may have: float64 (16 digits) must round it as exact arithmetic does."""


@dataclass(frozen=True)
class Carry:
    """The student policy: every computed value is rounded to ``digits`` places (or significant
    figures) as soon as it is computed, and the rounded value is what later steps use."""

    digits: int
    significant: bool = False

    def describe(self) -> str:
        """ "4 places" or "3 significant figures", for messages."""
        return f"{self.digits} {'significant figures' if self.significant else 'places'}"

    def round(self, exact: sp.Expr | None, approx: Any) -> sp.Expr:
        """The carried value of a computed one: a rational exactly, anything else from its decimal.

        A rational is rounded in exact decimal arithmetic, so that a tie rounds up as on paper; an
        irrational value (σ(z), a square root) is never a tie, and its 40-digit decimal decides.
        """
        if exact is not None and exact.is_infinite:
            return exact  # an infinite loss (log 0) is infinite however it is rounded
        if exact is not None and exact.is_Rational:
            p, q = int(exact.p), int(exact.q)
            with localcontext() as context:
                # Every digit of the whole part, and 60 after it: a tie is decided exactly.
                context.prec = len(str(abs(p) // q)) + 60
                number = Decimal(p) / Decimal(q)
        else:
            number = Decimal(mpmath.libmp.to_str(approx._mpf_, 45))
        if number.is_nan():
            raise ValueError("it is not a number")
        if not number.is_finite():
            return sp.oo if number > 0 else -sp.oo
        value = rounded_decimal(number, self.digits, self.significant)
        if len(value.as_tuple().digits) > CHECKED_DIGITS:
            raise ValueError(
                f"rounded to {self.describe()} it is {value}: more digits than the float64 check can follow"
                f" ({CHECKED_DIGITS}); use significant figures"
            )
        return sp.Rational(str(value)) if value else sp.Integer(0)
