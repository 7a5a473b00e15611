"""The printer: one expression, one expected LaTeX string, grouped by feature."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.catalog.activations import SIGMOID
from derive.terms.formula import Apply, Difference, Num, Power, Product, Quantity, Ref, Sum
from derive.terms.symbols import LOSS, Partial, Sym, Updated
from derive.tex import printer as latex
from derive.tex.names import STANDARD


def symbol(s: object) -> str:
    """A symbol as a sheet with the standard names shows it (the printer writes name tokens)."""
    return STANDARD.expand(latex.symbol(s))  # type: ignore[arg-type]


def formula(node: object) -> str:
    return STANDARD.expand(latex.formula(node))  # type: ignore[arg-type]


def q(symbol: Sym, value: sp.Expr) -> Ref:
    return Ref(Quantity.given(symbol, value))


W12 = Sym("w", 1, (1, 2))
X2 = Sym("x", None, (2,))


# --- symbols -------------------------------------------------------------------------------


def test_layer_superscript_and_comma_indices() -> None:
    assert symbol(W12) == "w^{(1)}_{1,2}"


def test_indices_never_collide() -> None:
    # w_{1,2} (row 1, column 2) and w_{12} (entry 12 of a vector) must print differently
    assert symbol(Sym("w", None, (1, 2))) != symbol(Sym("w", None, (12,)))


def test_partials_always_use_the_partial_sign() -> None:
    assert symbol(Partial(LOSS, W12)) == r"\frac{\partial L}{\partial w^{(1)}_{1,2}}"


def test_updated_parameter_gets_a_prime_before_the_layer() -> None:
    assert symbol(Updated(W12)) == "w'^{(1)}_{1,2}"
    assert symbol(Updated(Sym("yhat", None, (1,), hide_index=True))) == r"\hat{y}'"


def test_hidden_index_for_single_entry_vectors() -> None:
    assert symbol(Sym("z", 2, (1,), hide_index=True)) == "z^{(2)}"


# --- substitution --------------------------------------------------------------------------


def test_negative_numbers_are_bracketed_when_substituted() -> None:
    node = Sum((Product((q(W12, sp.Integer(-1)), q(X2, sp.Integer(1)))), q(Sym("b"), sp.Rational(-1, 8))))
    assert formula(node) == r"w^{(1)}_{1,2} \, x_{2} + b"
    assert latex.substituted(node, 4) == (r"\left(-1\right) \cdot 1 + \left(- \frac{1}{8}\right)", False)


def test_compound_values_are_bracketed_when_substituted() -> None:
    yhat = q(Sym("yhat"), 1 - 1 / (1 + sp.exp(-3)))
    node = Power(Difference(yhat, Num(sp.Integer(1))), 2)
    assert latex.substituted(node, 4)[0] == r"\left(\left(1 - \frac{1}{1 + e^{-3}}\right) - 1\right)^{2}"


def test_long_values_are_substituted_as_decimals_and_flagged() -> None:
    long = sum(sp.Rational(k, 7) / (1 + sp.exp(-sp.Rational(1, k))) for k in range(1, 6))
    text, approximated = latex.substituted(Product((Num(sp.Integer(2)), q(Sym("a"), long))), 4)
    assert approximated and text == rf"2 \cdot {latex.decimal(sp.Float(long.evalf(30), 30), 4)}"


def test_a_number_after_a_symbol_gets_a_dot() -> None:
    node = Product((q(Sym("g"), sp.Integer(-1)), Num(sp.Integer(1))))
    assert formula(node) == r"g \cdot 1"


def test_activation_call() -> None:
    node = Apply(SIGMOID, q(Sym("z", 1, (1,)), sp.Integer(3)))
    assert formula(node) == r"\sigma\left(z^{(1)}_{1}\right)"
    assert latex.substituted(node, 4)[0] == r"\sigma\left(3\right)"


# --- exact values and decimals -----------------------------------------------------------


def test_numbers_first_and_inline_exponent_fractions() -> None:
    assert latex.exact_text(1 / (1 + sp.exp(-sp.Rational(1, 8)))) == r"\frac{1}{1 + e^{-1/8}}"


def test_long_closed_forms_are_not_printed() -> None:
    huge = sp.Add(*(1 / (k + sp.exp(-k)) for k in range(1, 60)))
    assert latex.exact_text(huge) is None


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
    assert latex.decimal(value, places) == expected


def test_result_segments() -> None:
    half = Quantity.given(Sym("a"), sp.Rational(1, 2))
    assert latex.result(half, 4) == [("=", r"\frac{1}{2}"), ("=", "0.5")]
    third = Quantity.given(Sym("a"), sp.Rational(1, 3))
    assert latex.result(third, 4) == [("=", r"\frac{1}{3}"), (r"\approx", "0.3333")]
    assert latex.result(Quantity.given(Sym("a"), sp.Integer(-1)), 4) == [("=", "-1")]


def test_unknown_objects_fail_loudly() -> None:
    with pytest.raises(TypeError, match="cannot print"):
        latex.DerivePrinter()._print(object())


def test_width_of_a_matrix_is_its_widest_row() -> None:
    assert latex.width(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}") < latex.width("1 & 2 & 3 & 4 & 5 & 6")


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
    assert latex.decimal(value, latex.Digits(figures, significant=True)) == expected


def test_significant_figures_agree_with_pythons_rounding_away_from_ties() -> None:
    """Away from exact ties, n significant figures are what Python's own ``.{n-1}e`` gives."""
    import random

    rng = random.Random(7)
    for _ in range(2000):
        value = rng.uniform(-1, 1) * 10 ** rng.randint(-3, 5)
        figures = rng.randint(1, 6)
        text = latex.decimal(value, latex.Digits(figures, significant=True))
        mantissa, _, exponent = text.partition(r" \cdot 10^")
        number = float(mantissa + ("e" + exponent.strip("{}") if exponent else ""))
        assert number == float(f"{value:.{figures - 1}e}"), (value, figures, text)
        digits = mantissa.lstrip("-").replace(".", "").lstrip("0")
        assert len(digits) == figures or number == 0 or digits.endswith("0"), (value, text)


def test_digits_are_an_int_that_prints_its_count() -> None:
    digits = latex.Digits(3, significant=True)
    assert digits == 3 and str(digits) == "3" and digits + 1 == 4
    assert latex.decimal(0.5, 3) == "0.500" and latex.decimal(0.5, digits) == "0.500"


def test_four_steps_and_more_are_one_superscript_with_the_layer() -> None:
    assert symbol(Updated(W12, 4)) == "w^{[4](1)}_{1,2}"  # w^{[4]}^{(1)} would stop TeX
    assert symbol(Updated(LOSS, 5)) == "L^{[5]}"
