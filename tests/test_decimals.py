"""Numbers as text: decimals half up to places or significant figures, finite decimals of fractions."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.tex.decimals import Digits, decimal, terminating


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (0.95257412682, 4, "0.9526"),
        (-0.25, 4, "-0.2500"),
        (0.00001234, 4, r"1.234 \cdot 10^{-5}"),
        (-0.00001, 2, r"-1.0 \cdot 10^{-5}"),
        (sp.Float("0.12345", 40), 4, "0.1235"),  # half up, as students round (half-even gives 0.1234)
        (0.0, 4, "0.0000"),
    ],
)
def test_decimal(value: float | sp.Float, places: int, expected: str) -> None:
    assert decimal(value, places) == expected


@pytest.mark.parametrize(
    ("value", "figures", "expected"),
    [
        (0.0123456, 4, "0.01235"),
        (1.23456, 4, "1.235"),
        (123456.7, 4, "123500"),
        (3, 4, "3.000"),
        (-0.98765, 1, "-1"),
        (9.99951, 4, "10.00"),  # the carry adds a figure in front: still four
        (0.000999951, 4, "0.001000"),
        (1.234e-05, 4, r"1.234 \cdot 10^{-5}"),
        (999999.7, 4, r"1.000 \cdot 10^{6}"),
        (0, 3, "0"),
        (0.375, 2, "0.38"),  # a tie (0.375 is exact in binary): half up
    ],
)
def test_decimal_to_significant_figures(value: float | sp.Float, figures: int, expected: str) -> None:
    assert decimal(value, Digits(figures, significant=True)) == expected


def test_significant_figures_agree_with_pythons_rounding_away_from_ties() -> None:
    """Away from exact ties, n significant figures are what Python's own ``.{n-1}e`` gives."""
    import random

    rng = random.Random(7)
    for _ in range(2000):
        value = rng.uniform(-1, 1) * 10 ** rng.randint(-3, 5)
        figures = rng.randint(1, 6)
        text = decimal(value, Digits(figures, significant=True))
        mantissa, _, exponent = text.partition(r" \cdot 10^")
        number = float(mantissa + ("e" + exponent.strip("{}") if exponent else ""))
        assert number == float(f"{value:.{figures - 1}e}"), (value, figures, text)
        digits = mantissa.lstrip("-").replace(".", "").lstrip("0")
        assert len(digits) == figures or number == 0 or digits.endswith("0"), (value, text)


def test_digits_are_an_int_that_prints_its_count() -> None:
    digits = Digits(3, significant=True)
    assert digits == 3 and str(digits) == "3" and digits + 1 == 4
    assert decimal(0.5, 3) == "0.500" and decimal(0.5, digits) == "0.500"


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (sp.Rational(1, 2), 4, "0.5"),
        (sp.Rational(-1, 8), 3, "-0.125"),
        (sp.Rational(1, 8), 2, None),
        (sp.Rational(1, 3), 9, None),
    ],
)
def test_a_fraction_terminates_within_its_places_or_not_at_all(
    value: sp.Rational, places: int, expected: str | None
) -> None:
    assert terminating(value, places) == expected


@pytest.mark.parametrize("power", [30, 60])
def test_a_power_of_ten_beyond_any_decimal_is_written_from_its_exponent(power: int) -> None:
    # σ(−10^30) = e^{−10^30}: inputs go up to 10^30, and no Decimal holds 10^{−4.3·10^29}. A huge
    # target makes a softmax output as small as e^{−10^60} after one step: its power of ten has more
    # digits than the value carries, and the mantissa must still be right.
    import mpmath

    from derive.tex.decimals import decimal, shown

    value = sp.exp(-(sp.Integer(10) ** power)).evalf(40)
    with mpmath.workdps(2 * power + 40):
        logarithm = -(mpmath.mpf(10) ** power) / mpmath.log(10)  # log10 of the value, independently
        exponent = int(mpmath.floor(logarithm))
        mantissa = float(mpmath.mpf(10) ** (logarithm - exponent))
    assert decimal(value, 4) == rf"{mantissa:.3f} \cdot 10^{{{exponent}}}"
    assert shown(value, 4) is None  # no calculator redoes a line with it
