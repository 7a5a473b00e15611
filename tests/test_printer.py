"""The printer: one expression, one expected LaTeX string, grouped by feature."""

from __future__ import annotations

import pytest
import sympy as sp

from derive.catalog.activations import SIGMOID
from derive.terms.formula import Apply, Difference, Num, Power, Product, Quantity, Ref, Sum
from derive.terms.symbols import LOSS, Partial, Sym, Updated
from derive.tex.decimals import decimal
from derive.tex.layout import width
from derive.tex.printer import Printer, exact_text

PRINTER = Printer()
"""A printer of the standard look: standard names, a decimal point, four places, exact forms."""


def symbol(s: object) -> str:
    return PRINTER.symbol(s)  # type: ignore[arg-type]


def formula(node: object) -> str:
    return PRINTER.formula(node)  # type: ignore[arg-type]


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
    assert PRINTER.substituted(node) == (r"\left(-1\right) \cdot 1 + \left(- \frac{1}{8}\right)", False)


def test_compound_values_are_bracketed_when_substituted() -> None:
    yhat = q(Sym("yhat"), 1 - 1 / (1 + sp.exp(-3)))
    node = Power(Difference(yhat, Num(sp.Integer(1))), 2)
    assert PRINTER.substituted(node)[0] == r"\left(\left(1 - \frac{1}{1 + e^{-3}}\right) - 1\right)^{2}"


def test_long_values_are_substituted_as_decimals_and_flagged() -> None:
    long = sum(sp.Rational(k, 7) / (1 + sp.exp(-sp.Rational(1, k))) for k in range(1, 6))
    text, approximated = PRINTER.substituted(Product((Num(sp.Integer(2)), q(Sym("a"), long))))
    assert approximated and text == rf"2 \cdot {decimal(sp.Float(long.evalf(30), 30), 4)}"


def test_a_number_after_a_symbol_gets_a_dot() -> None:
    node = Product((q(Sym("g"), sp.Integer(-1)), Num(sp.Integer(1))))
    assert formula(node) == r"g \cdot 1"


def test_activation_call() -> None:
    node = Apply(SIGMOID, q(Sym("z", 1, (1,)), sp.Integer(3)))
    assert formula(node) == r"\sigma\left(z^{(1)}_{1}\right)"
    assert PRINTER.substituted(node)[0] == r"\sigma\left(3\right)"


# --- exact values and decimals -----------------------------------------------------------


def test_numbers_first_and_inline_exponent_fractions() -> None:
    assert exact_text(1 / (1 + sp.exp(-sp.Rational(1, 8)))) == r"\frac{1}{1 + e^{-1/8}}"


def test_long_closed_forms_are_not_printed() -> None:
    huge = sp.Add(*(1 / (k + sp.exp(-k)) for k in range(1, 60)))
    assert exact_text(huge) is None


def test_result_segments() -> None:
    half = Quantity.given(Sym("a"), sp.Rational(1, 2))
    assert PRINTER.result(half) == [("=", r"\frac{1}{2}"), ("=", "0.5")]
    third = Quantity.given(Sym("a"), sp.Rational(1, 3))
    assert PRINTER.result(third) == [("=", r"\frac{1}{3}"), (r"\approx", "0.3333")]
    assert PRINTER.result(Quantity.given(Sym("a"), sp.Integer(-1))) == [("=", "-1")]


def test_unknown_objects_fail_loudly() -> None:
    with pytest.raises(TypeError, match="cannot print"):
        Printer()._print(object())


def test_width_of_a_matrix_is_its_widest_row() -> None:
    assert width(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}") < width("1 & 2 & 3 & 4 & 5 & 6")


def test_four_steps_and_more_are_one_superscript_with_the_layer() -> None:
    assert symbol(Updated(W12, 4)) == "w^{[4](1)}_{1,2}"  # w^{[4]}^{(1)} would stop TeX
    assert symbol(Updated(LOSS, 5)) == "L^{[5]}"


def test_a_printed_value_is_kept_per_kind_of_printer() -> None:
    # The LaTeX of an exact value is looked up by the printer's SymPy settings: a printer that folds
    # short fractions still folds a value a plain printer printed first, and a dict setting is a key too.
    value = sp.Rational(3, 7) + sp.exp(sp.Rational(-1, 3))
    plain = exact_text(value, Printer())
    folded = exact_text(value, Printer().but(fold_short_frac=True))
    assert plain == r"\frac{3}{7} + e^{-1/3}" and folded == r"3 / 7 + e^{-1/3}"
    assert exact_text(value, Printer()) == plain
    named = Printer({"symbol_names": {sp.Symbol("q"): "Q"}})
    assert named.exact_kind is not None and named.exact_kind != Printer().exact_kind
    assert exact_text(sp.Integer(10) ** 200, Printer(), 48) is None  # too long, decided before printing


def test_exact_values_print_alike_with_their_parts_remembered() -> None:
    # exact_text keeps the LaTeX of every subexpression it printed for a kind of printer; a value
    # printed after others that share its parts (σ(3) inside, e^{1/4} raised to a power) reads
    # exactly as a fresh printer, which remembers nothing, writes it.
    quarter = sp.exp(sp.Rational(1, 4))
    sigma = 1 / (1 + sp.exp(-3))
    values = [
        sigma,
        1 - sigma,
        (1 - sigma) * sigma / 2,
        6 * sp.exp(sp.Rational(1, 2)) / (1 + quarter) ** 3,
        sp.Rational(1, 4) - 6 * sp.exp(sp.Rational(1, 2)) / (1 + quarter) ** 3,
        sp.log(sp.Rational(3, 2)) * quarter**2 - sp.sqrt(1 + quarter),
        sp.log(sp.Rational(3, 2)) ** 2,  # the log printed with its exponent: \log^{2}
    ]
    for settings in ({}, {"fold_short_frac": True}):
        printer = Printer(settings)
        for value in values:
            assert exact_text(value, printer) == Printer(settings)._print(value)
