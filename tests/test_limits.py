"""Bounded input: every limit is refused before the work it bounds, in one line naming the field (and
its TOML line), never a hang or an internal error."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derive
from derive.build.stages import MAX_SHEET_PARAMETERS, check_size
from derive.catalog.evaluation import MAX_ARGUMENT, evaluate
from derive.catalog.parsing import FUNCTIONS, MAX_NESTED, MAX_POWER, FormulaError, parse_formula
from derive.errors import DegenerateError, SpecError
from derive.exercise.fields import MAX_WIDTH
from derive.exercise.parts import MAX_NAMES, MAX_RATES
from derive.exercise.reader import MAX_LAYERS, MAX_PARTS
from derive.pipeline import parse_spec
from derive.terms.formula import Num, Undefined
from derive.terms.numbers import MAGNITUDE, MAX_DENOMINATOR, MAX_DIGITS, NumberError, parse_exact

RANGE = f"out of range: numbers are 0 or from 10^-{MAGNITUDE} to 10^{MAGNITUDE} in size"

BASE = """\
[network]
inputs = 1

[[network.layers]]
weights = [[1]]
bias = [0]
activation = ACTIVATION

[loss]
name = "squared_error"

[[parts]]
kind = "forward"
x = [X]
y = 1
"""
ACTIVATION_LINE, X_LINE = 7, 14


def spec(activation: str = '"sigmoid"', x: str = "1", extra: str = "") -> str:
    return BASE.replace("ACTIVATION", activation).replace("X", x) + extra


def refusal(text: str) -> str:
    """The one-line message ``text`` is refused with when read."""
    with pytest.raises(SpecError) as caught:
        parse_spec(text, name="t", source="t.toml")
    assert "\n" not in str(caught.value), str(caught.value)
    return str(caught.value)


def degenerate(text: str) -> str:
    """The one-line message the derivation of ``text`` stops with."""
    with pytest.raises(DegenerateError) as caught:
        derive.solve(parse_spec(text, name="t", source="t.toml"))
    assert "\n" not in str(caught.value), str(caught.value)
    return str(caught.value)


# Numbers: decided on what was typed, before a large number is built.


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ('"1e99999999"', "'1e99999999'"),
        ("1e99999999", "1E+99999999"),  # a TOML float: read as a Decimal, whose exponent is checked
        ('"1e-5000"', "'1e-5000'"),
        ("1e-5000", "1E-5000"),
        (f'"1e{MAGNITUDE + 1}"', f"'1e{MAGNITUDE + 1}'"),
        (f'"-1e-{MAGNITUDE + 1}"', f"'-1e-{MAGNITUDE + 1}'"),
    ],
)
def test_a_number_out_of_range_is_refused_naming_its_field_and_line(typed: str, shown: str) -> None:
    assert refusal(spec(x=typed)) == f"t.toml:{X_LINE}: parts[1].x[1]: {shown} is {RANGE}"


def test_the_range_includes_its_ends() -> None:
    assert parse_exact(f"1e{MAGNITUDE}") == 10**MAGNITUDE
    assert parse_exact(f"-1e-{MAGNITUDE}") * 10**MAGNITUDE == -1
    assert parse_exact("0e99999999") == 0  # zero, whatever its exponent


def test_a_number_of_thousands_of_digits_is_refused_before_it_is_built() -> None:
    digits = "7" * 5000
    assert refusal(spec(x=f'"{digits}"')) == (
        f"t.toml:{X_LINE}: parts[1].x[1]: '{digits[:29]}… (5002 characters) has 5000 digits; "
        f"at most {MAX_DIGITS} are read"
    )
    assert refusal(spec(x=f'"1/{digits}"')) == (
        f"t.toml:{X_LINE}: parts[1].x[1]: the denominator of '1/{digits[:27]}… (5004 characters) is beyond 10^12"
    )
    assert refusal(spec(x=f"0.{digits}")) == (
        f"t.toml:{X_LINE}: parts[1].x[1]: 0.{digits[:28]}… (5002 characters) has 5000 digits; "
        f"at most {MAX_DIGITS} are read"
    )


def test_a_toml_integer_of_thousands_of_digits_is_one_line_with_its_line() -> None:
    # tomllib itself refuses it (int's 4300-digit limit): the reader says so in one line.
    assert refusal(spec(x="7" * 5000)) == (
        f"t.toml:{X_LINE}: a whole number of thousands of digits; numbers have at most {MAX_DIGITS} digits"
    )
    assert refusal(spec(x="7" * 4000)) == (
        f"t.toml:{X_LINE}: parts[1].x[1]: a whole number of about 4000 digits is {RANGE}"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1" * (MAX_DIGITS + 1), f"has {MAX_DIGITS + 1} digits; at most {MAX_DIGITS} are read"),
        (Decimal("0." + "1" * (MAX_DIGITS + 1)), f"has {MAX_DIGITS + 1} digits"),
        (f"1/{MAX_DENOMINATOR + 1}", "is beyond 10^12"),
        (10 ** (MAGNITUDE + 1), RANGE),
        (Decimal("1e-99999999"), RANGE),
    ],
)
def test_parse_exact_checks_digits_size_and_denominator(value: object, message: str) -> None:
    with pytest.raises(NumberError) as caught:
        parse_exact(value)
    assert message in str(caught.value)


def test_the_limits_admit_what_a_hand_exercise_writes() -> None:
    assert parse_exact("1" * MAX_DIGITS) == int("1" * MAX_DIGITS)
    assert parse_exact(f"1/{MAX_DENOMINATOR}") * MAX_DENOMINATOR == 1
    assert parse_exact(Decimal("1e-8")) * 10**8 == 1


# Formulas: bounded when parsed, and where they are evaluated.


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("z + 9^9^9", f"an exponent beyond ±{MAX_POWER} (387420489): a hand exercise needs small powers"),
        ("z + 1e5000", f"'1e5000' is {RANGE}"),
        ("sqrt(-1)*z", "'sqrt(-1)' has no real value"),
        ("log(0)+z", "'log(0)' is undefined"),
        ("(z^10)^20", f"an exponent beyond ±{MAX_POWER} (200): a hand exercise needs small powers"),
        ("z*7^99", "'7**99' works out to a number of more than 60 digits"),
        (
            "sigmoid(z)^sigmoid(z)^sigmoid(z)^sigmoid(z)^sigmoid(z)",
            f"functions (or powers with a variable exponent) nested 5 deep; at most {MAX_NESTED}: "
            "deriving and printing them would take minutes",
        ),
    ],
)
def test_a_formula_beyond_the_limits_is_refused_with_its_line(formula: str, message: str) -> None:
    text = spec(activation=f'{{ name = "custom", formula = "{formula}" }}')
    assert refusal(text) == f"t.toml:{ACTIVATION_LINE}: network.layers[1].activation.formula: {message}"


def test_a_custom_loss_beyond_the_limits_is_refused_with_its_line() -> None:
    text = spec().replace('name = "squared_error"', 'name = "custom"\nformula = "(yhat - y)^2 + log(0)"')
    assert refusal(text) == "t.toml:11: loss.formula: 'log(0)' is undefined"


def test_a_custom_activation_without_a_real_value_at_the_point_names_quantity_field_and_point() -> None:
    text = spec(activation='{ name = "custom", formula = "log(z - 100)" }')
    assert degenerate(text) == (
        "p1.yhat[1]: the formula 'log(z - 100)' (network.layers[1].activation.formula) at z = 1.0: "
        "log(-99.0) has no real value"
    )


def test_a_custom_activation_too_large_to_evaluate_is_one_line_not_a_hang() -> None:
    text = spec(activation='{ name = "custom", formula = "exp(exp(exp(z)))" }', x="20")
    message = degenerate(text)
    assert message.startswith("p1.yhat[1]: the formula 'exp(exp(exp(z)))' (network.layers[1].activation.formula)")
    assert message.endswith("is too large to evaluate (an argument beyond ±10^100)")
    beyond = degenerate(spec(activation='{ name = "custom", formula = "exp(exp(z))" }', x="20"))
    assert beyond.endswith("is beyond ±10^300, where float64 cannot check it")


def test_a_custom_loss_without_a_real_value_names_its_field() -> None:
    text = spec(activation='"identity"').replace(
        'name = "squared_error"', 'name = "custom"\nformula = "log(yhat - 2) + (yhat - y)^2"'
    )
    assert degenerate(text) == (
        "p1.L: the formula 'log(yhat - 2) + (yhat - y)^2' (loss.formula) at yhat = 1.0, y = 1.0: "
        "log(-1.0) has no real value"
    )


def test_the_bounded_evaluator_agrees_with_sympy_and_refuses_what_it_cannot_finish() -> None:
    import sympy as sp

    z = sp.Symbol("z", real=True)
    expr = parse_formula("z^3/3 + sigmoid(2*z) - atan(z)^2 + sqrt(z) * cosh(z)", {"z": z})
    at = sp.Rational(7, 5)
    assert abs(float(evaluate(expr, {z: sp.Float(at, 30)}, prec=100)) - float(expr.subs(z, at).evalf(30))) < 1e-14
    with pytest.raises(ArithmeticError, match="too large to evaluate"):
        evaluate(sp.exp(z), {z: sp.Float(MAX_ARGUMENT) * 2})
    with pytest.raises(FormulaError, match="nested 6 deep"):
        parse_formula("sigmoid(" * 6 + "z" + ")" * 6, {"z": z})


# Lists, layers and parts: counted before a single item is read.


def test_learning_rates_beyond_the_limit_are_refused_before_any_run() -> None:
    rates = ", ".join(["0.1"] * 1000)
    extra = f'\n[[parts]]\nkind = "learning_rates"\nuse_sample_of = 1\nlearning_rates = [{rates}]\n'
    assert (
        refusal(spec(extra=extra))
        == f"t.toml:20: parts[2].learning_rates: at most {MAX_RATES} learning rates; found 1000"
    )


def test_every_part_list_has_a_limit() -> None:
    names = ", ".join(['"W1"'] * (MAX_NAMES + 1))
    extra = f'\n[[parts]]\nkind = "update"\nuse_sample_of = 1\nlearning_rate = 0.1\nfrozen = [{names}]\n'
    assert (
        refusal(spec(extra=extra)) == f"t.toml:21: parts[2].frozen: at most {MAX_NAMES} entries; found {MAX_NAMES + 1}"
    )


def test_a_list_of_numbers_beyond_the_width_limit_is_refused_before_it_is_read() -> None:
    assert refusal(spec(x=", ".join(["1"] * (MAX_WIDTH + 1)))) == (
        f"t.toml:{X_LINE}: parts[1].x: at most {MAX_WIDTH} numbers; found {MAX_WIDTH + 1}"
    )


def test_too_many_layers_or_parts_are_refused_before_they_are_read() -> None:
    layer = '[[network.layers]]\nweights = [[1]]\nbias = "none"\nactivation = "identity"\n'
    deep = "[network]\ninputs = 1\n" + layer * (MAX_LAYERS + 1) + '[[parts]]\nkind = "forward"\nx = [1]\ny = 1\n'
    line = 3 + 4 * MAX_LAYERS
    assert refusal(deep) == (
        f"t.toml:{line}: network.layers[{MAX_LAYERS + 1}]: at most {MAX_LAYERS} layers; found {MAX_LAYERS + 1}"
    )
    part = '\n[[parts]]\nkind = "forward"\nuse_sample_of = 1\n'
    many = spec(extra=part * MAX_PARTS)
    header = 15 + 4 * (MAX_PARTS - 1) + 2  # the base's 15 lines, then 4 a part
    assert refusal(many) == f"t.toml:{header}: parts[{MAX_PARTS + 1}]: at most {MAX_PARTS} parts; found {MAX_PARTS + 1}"


# TOML shapes.


def test_toml_nested_thousands_deep_is_one_line() -> None:
    text = spec(extra="\n[sheet]\ntitle = " + "[" * 3000 + "]" * 3000 + "\n")
    assert refusal(text) == "t.toml:18: arrays or inline tables nested too deeply (a spec needs 3 levels)"


def test_a_table_where_a_tied_entry_belongs_names_the_field_and_line() -> None:
    extra = '\n[[parts]]\nkind = "update"\nuse_sample_of = 1\nlearning_rate = 0.1\ntied = [[{a=1}, "w1[1,1]"]]\n'
    assert refusal(spec(extra=extra)) == "t.toml:21: parts[2].tied[1]: expected entries such as w1[1,1]; found a table"


def test_a_megabyte_key_or_name_is_no_megabyte_message() -> None:
    long = "k" * 100_000
    assert len(refusal(spec(extra=f"\n[sheet]\n{long} = 1\n"))) < 300
    assert len(refusal(spec(activation=f'"{long}"'))) < 300


# The size check of a sheet.


def test_a_bias_of_none_is_no_parameter_and_the_size_error_names_the_layer() -> None:
    def chain(bias: str) -> str:
        layer = f'[[network.layers]]\nweights = [[1]]\nbias = {bias}\nactivation = "identity"\n'
        return (
            "[network]\ninputs = 1\n"
            + layer * 150
            + '[loss]\nname = "squared_error"\n'
            + BASE[BASE.index("[[parts]]") :].replace("X", "1")
        )

    check_size(parse_spec(chain('"none"')))  # 150 weights: within the limit
    with pytest.raises(SpecError) as caught:
        check_size(parse_spec(chain("0")))
    passed = MAX_SHEET_PARAMETERS // 2 + 1  # two parameters a layer
    assert str(caught.value).startswith(
        f"spec: network.layers[{passed}]: 300 parameters are more than a readable sheet shows "
        f"(at most {MAX_SHEET_PARAMETERS})"
    )


# Through the command line: one line, exit 2, and never a hang (bounded by a subprocess timeout).


@pytest.mark.parametrize(
    ("activation", "x", "extra"),
    [
        ('"sigmoid"', '"1e99999999"', ""),
        ('{ name = "custom", formula = "z + 9^9^9" }', "1", ""),
        ('{ name = "custom", formula = "exp(exp(exp(z)))" }', "20", ""),
    ],
)
def test_the_cli_refuses_hostile_input_in_one_line(activation: str, x: str, extra: str, tmp_path: Path) -> None:
    path = tmp_path / "hostile.toml"
    path.write_text(spec(activation, x, extra), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "derive", "sheet", str(path), "--no-pdf", "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("derive: error: "), result.stderr
    assert not (tmp_path / "out").exists()


# Generated formulas: each is parsed or refused in one line, and at a point has a value or one line.

FORMULA_EXAMPLES = max(30, int(os.environ.get("DERIVE_FUZZ_EXAMPLES", "500")) // 10)


@st.composite
def formulas(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 5 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["z", "z", "2", "1/2", "0.1", "e", "pi", "0", "-1", "9"]))
    kind = draw(st.sampled_from(["call", "binary", "power", "negate"]))
    if kind == "call":
        name = draw(st.sampled_from(sorted(FUNCTIONS)))
        return f"{name}({draw(formulas(depth + 1))})"
    if kind == "negate":
        return f"-({draw(formulas(depth + 1))})"
    left = draw(formulas(depth + 1))
    if kind == "power":
        return f"({left})^{draw(st.sampled_from(['2', '3', '1/2', '-1', '101', 'z', '(' + left + ')']))}"
    return f"({left}) {draw(st.sampled_from(['+', '-', '*', '/']))} ({draw(formulas(depth + 1))})"


@settings(max_examples=FORMULA_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(formula=formulas(), point=st.sampled_from(["0", "1/3", "-2", "20", "-1e30", "1e-30"]))
def test_a_generated_formula_is_read_and_evaluated_or_refused_in_one_line(formula: str, point: str) -> None:
    import sympy as sp

    from derive.catalog.activations import custom

    try:
        activation = custom(formula, "f")
    except FormulaError as error:
        assert "\n" not in str(error)
        return
    z = sp.Float(parse_exact(point), 50)
    for rule in (activation.rule, lambda v: activation.derivative(Num(v), Num(v)).rule(v)):  # type: ignore[attr-defined]
        try:
            value = rule(z)
        except Undefined as error:
            assert "\n" not in str(error) and str(error).startswith("the formula ")
        else:
            assert value.is_Number and abs(value) <= 10**300  # a Float, or 0


def test_an_exact_value_sympy_would_work_out_as_a_huge_power_stands_by_a_symbol() -> None:
    # SymPy writes e^{k log 2} as 2^k and computes it: with k = 10^30 that never ends. The rule
    # raises TooLarge, so the value stands for itself by a symbol (its decimal is still computed).
    import sympy as sp

    from derive.catalog.activations import custom
    from derive.terms.formula import TooLarge

    rule = custom("sigmoid(z*log(2))", "f").rule
    with pytest.raises(TooLarge):
        rule(sp.Integer(-(10**MAGNITUDE)))
    assert rule(sp.Integer(3)) == sp.Rational(8, 9)  # a small one stays exact
