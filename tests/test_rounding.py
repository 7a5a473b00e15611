"""The student rounding policy: exact and float rounding agree on ties, the engine carries the rounded
values as a hand calculation does, the gate checks them, and the sheets say so."""

from __future__ import annotations

import json
import random
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

import derive
from derive.errors import SpecError, VerificationError
from derive.pipeline import Options, build_sheet
from derive.terms.rounding import Carry, rounded_decimal
from derive.verify.floats import rounder
from tests.test_cli import text_of

STUDENT = """
[sheet]
title = "Student rounding"
decimals = 4
rounding = "student"

[network]
inputs = 2

[[network.layers]]
weights = [[0.15, 0.2], [0.25, 0.3]]
bias = [0.35, 0.35]
activation = "sigmoid"

[[network.layers]]
weights = [[0.4, 0.45]]
bias = [0.6]
activation = "sigmoid"

[loss]
name = "squared_error"

[[parts]]
kind = "forward"
x = [0.05, 0.1]
y = 0.01

[[parts]]
kind = "gradients"
use_sample_of = 1

[[parts]]
kind = "update"
use_sample_of = 1
learning_rate = 0.5
"""


def half_up(value: Fraction, places: int) -> Fraction:
    """The textbook rule in integers: |v|·10^n + 1/2, floored, with v's sign."""
    scaled = abs(value) * 10**places + Fraction(1, 2)
    whole = scaled.numerator // scaled.denominator
    return Fraction(whole if value >= 0 else -whole, 10**places)


def test_exact_rounding_is_half_up_away_from_zero_on_ties() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        places = rng.randint(0, 6)
        # Every second value an exact tie (…5 one place beyond), half of them negative.
        numerator = rng.randint(-(10**8), 10**8) * 10 + (5 if rng.random() < 0.5 else rng.randint(0, 9))
        value = Fraction(numerator, 10 ** (places + 1) * rng.choice([1, 1, 3, 7]))
        carried = Carry(places).round(sp.Rational(value.numerator, value.denominator), None)
        assert Fraction(int(carried.p), int(carried.q)) == half_up(value, places)


def test_significant_figures_count_from_the_first_nonzero_digit_and_keep_the_carry() -> None:
    cases = {"0.0123456": "0.01235", "123456": "123500", "9.99951": "10.00", "-0.000987654": "-0.0009877"}
    for given, expected in cases.items():
        assert rounded_decimal(Decimal(given), 4, significant=True) == Decimal(expected)


def test_the_float_twin_rounds_ties_as_the_exact_engine_does() -> None:
    """0.5 · 0.1237 = 0.06185 is a tie; in float64 it lands a hair off it, and must still round up."""
    rng = random.Random(11)
    for _ in range(3000):
        places = rng.randint(1, 5)
        a = Fraction(rng.randint(-9999, 9999), 10**places)
        b = Fraction(rng.choice([1, 2, 5, 25, 125]), rng.choice([2, 4, 8, 10, 20, 40]))
        exact = Carry(places).round(sp.Rational(a * b), None)
        twin = rounder(places)(np.array([float(a) * float(b)]))[0]
        assert twin == float(exact), (a, b, places)
        sig = rng.randint(1, 5)
        exact_sig = Carry(sig, significant=True).round(sp.Rational(a * b), None)
        assert rounder(sig, significant=True)(np.array([float(a) * float(b)]))[0] == float(exact_sig)


def student_by_hand() -> dict[str, Decimal]:
    """The calculation a careful student does with the STUDENT spec, in Python's decimal module:
    every value rounded to 4 places half up as soon as it is computed. Shares no code with derive."""

    def r(v: Decimal) -> Decimal:
        return v.quantize(Decimal("0.0001"), rounding="ROUND_HALF_UP")

    def sigma(z: Decimal) -> Decimal:
        with localcontext() as context:
            context.prec = 50
            return 1 / (1 + (-z).exp())

    d = Decimal
    w1, b1, w2, b2 = [[d("0.15"), d("0.2")], [d("0.25"), d("0.3")]], [d("0.35")] * 2, [d("0.4"), d("0.45")], d("0.6")
    x, y = [d("0.05"), d("0.1")], d("0.01")
    z1 = [r(w1[j][0] * x[0] + w1[j][1] * x[1] + b1[j]) for j in range(2)]
    a1 = [r(sigma(z)) for z in z1]
    z2 = r(w2[0] * a1[0] + w2[1] * a1[1] + b2)
    yhat = r(sigma(z2))
    loss = r((yhat - y) ** 2)
    dyhat = r(2 * (yhat - y))
    delta2 = r(dyhat * yhat * (1 - yhat))  # σ' = a(1 − a), with the rounded a
    da1 = [r(w2[k] * delta2) for k in range(2)]
    delta1 = [r(da1[j] * a1[j] * (1 - a1[j])) for j in range(2)]
    dw1 = [[r(delta1[j] * x[k]) for k in range(2)] for j in range(2)]
    dw2 = [r(delta2 * a1[k]) for k in range(2)]
    values = {"p1.z2[1]": z2, "p1.yhat[1]": yhat, "p1.L": loss, "p2.dL/dyhat[1]": dyhat, "p2.delta2[1]": delta2}
    for j in range(2):
        values[f"p1.z1[{j + 1}]"], values[f"p1.a1[{j + 1}]"] = z1[j], a1[j]
        values[f"p2.dL/da1[{j + 1}]"], values[f"p2.delta1[{j + 1}]"] = da1[j], delta1[j]
        values[f"p2.dL/dw2[1,{j + 1}]"] = dw2[j]
        for k in range(2):
            values[f"p2.dL/dw1[{j + 1},{k + 1}]"] = dw1[j][k]
            values[f"p3.w1_new[{j + 1},{k + 1}]"] = r(w1[j][k] - d("0.5") * dw1[j][k])
    return values


def test_the_engine_carries_rounded_values_as_a_student_computes_by_hand() -> None:
    solution = derive.solve(derive.parse_spec(STUDENT, name="student"))  # the gate passes too
    by_hand = student_by_hand()
    for key, value in by_hand.items():
        assert solution[key].exact == sp.Rational(str(value)), key
    # The rounding made a difference: exact arithmetic gives another output (σ's are not 4-place numbers).
    exact = derive.solve(derive.parse_spec(STUDENT.replace('rounding = "student"', ""), name="exact"))
    assert exact["p1.yhat[1]"].exact != solution["p1.yhat[1]"].exact
    assert abs(float(exact["p1.yhat[1]"].approx) - float(by_hand["p1.yhat[1]"])) < 1e-3
    assert solution["p1.a1[1]"].rounded and not solution["p1.z1[1]"].rounded  # 0.3775 is exact


def test_a_tie_rounds_up_in_both_engines() -> None:
    tie = STUDENT.replace("x = [0.05, 0.1]", "x = [0.1237, 0]").replace("bias = [0.35, 0.35]", "bias = [0, 0]")
    tie = tie.replace("weights = [[0.15, 0.2], [0.25, 0.3]]", "weights = [[0.5, 0.2], [0.25, 0.3]]")
    solution = derive.solve(derive.parse_spec(tie, name="tie"))
    assert solution["p1.z1[1]"].exact == sp.Rational("0.0619")  # 0.06185 up, not to the even 0.0618


def test_the_gate_refuses_a_rounding_the_twin_does_not_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine that rounds ties to even (Python's round) is caught by the twin's half up."""
    tie = STUDENT.replace("x = [0.05, 0.1]", "x = [0.1237, 0]").replace("bias = [0.35, 0.35]", "bias = [0, 0]")
    tie = tie.replace("weights = [[0.15, 0.2], [0.25, 0.3]]", "weights = [[0.5, 0.2], [0.25, 0.3]]")

    def to_even(self: Carry, exact: sp.Expr | None, approx: object) -> sp.Rational:
        rational = exact is not None and exact.is_Rational
        value = Fraction(int(exact.p), int(exact.q)) if rational else Fraction(str(approx))  # type: ignore[union-attr]
        return sp.Rational(round(value * 10**self.digits), 10**self.digits)

    monkeypatch.setattr(Carry, "round", to_even)
    with pytest.raises(VerificationError, match=r"p1\.z1\[1\]: exact value 0.0618 but float64 gives 0.0619"):
        derive.solve(derive.parse_spec(tie, name="tie"))


def test_significant_figures_are_carried_too() -> None:
    spec = STUDENT.replace("decimals = 4", "significant = 3")
    solution = derive.solve(derive.parse_spec(spec, name="sig"))
    for q in solution.quantities():
        if q.formula is not None and q.exact != 0:
            digits = str(abs(Decimal(int(q.exact.p)) / Decimal(int(q.exact.q)))).replace(".", "").strip("0")
            assert len(digits) <= 3, (q.key, q.exact)


def test_the_sheets_say_the_policy_and_show_the_carried_places(tmp_path: Path) -> None:
    spec_path = tmp_path / "student.toml"
    spec_path.write_text(STUDENT)
    build_sheet(spec_path, Options(output_dir=tmp_path))
    solution = " ".join(text_of(tmp_path / "student-solution.pdf").split())  # lines joined
    exercise = " ".join(text_of(tmp_path / "student-exercise.pdf").split())
    assert "Round every intermediate result to 4 places" in exercise
    assert "x = (0.05, 0.1)" in exercise  # the givens as the decimals they are, not 1/20
    assert "is rounded to 4 places as soon as it is computed" in solution
    by_hand = student_by_hand()
    assert f"σ (0.3775) ≈ {by_hand['p1.a1[1]']}" in solution  # rounded: ≈, then carried
    assert f"= {by_hand['p1.z1[1]']}" in solution  # 0.15 · 0.05 + 0.2 · 0.1 + 0.35 is exact: =
    assert f"≈ {by_hand['p2.delta2[1]']}" in solution and str(by_hand["p2.delta2[1]"]).endswith("0")  # 0.2770
    document = json.loads((tmp_path / "student-answers.json").read_text())
    assert document["rounding"] == "student"
    entry = next(e for e in document["quantities"] if e["name"] == "p1.yhat[1]")
    assert sp.Rational(entry["exact"]) == sp.Rational(str(by_hand["p1.yhat[1]"]))


def test_a_cli_decimals_option_changes_what_is_carried(tmp_path: Path) -> None:
    spec_path = tmp_path / "student.toml"
    spec_path.write_text(STUDENT)
    built = build_sheet(spec_path, Options(output_dir=tmp_path, decimals=2, pdf=False))
    assert built.solution["p1.a1[1]"].exact == sp.Rational("0.59")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('kind = "forward"', 'kind = "show_that"\nyhat = "1/2"'),
            'parts[1].kind: a part of kind "show_that" needs exact values; with rounding = "student" the kinds are',
        ),
        (("use_sample_of = 1\n\n", "use_sample_of = 1\ndecimals = 2\n\n"), "parts[2].decimals: with rounding"),
        (('rounding = "student"', 'rounding = "student"\nexact = true'), "sheet.exact: rounding"),
        (('rounding = "student"', 'rounding = "careful"'), "sheet.rounding: unknown rounding policy 'careful'"),
    ],
)
def test_what_the_student_policy_cannot_do_is_one_line(change: tuple[str, str], message: str) -> None:
    text = STUDENT.replace(*change, 1)
    assert text != STUDENT
    with pytest.raises(SpecError) as caught:
        derive.parse_spec(text, name="student")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_huge_value_keeps_its_figures_and_is_too_long_for_places() -> None:
    big = sp.Integer(10) ** 100 * 17 + sp.Rational(1, 3)
    assert Carry(3, significant=True).round(big, None) == sp.Integer(10) ** 100 * 17
    with pytest.raises(ValueError, match="more digits than the float64 check can follow"):
        Carry(2).round(big, None)


def softmax_sheet(weights: str, bias: str, kind: str) -> str:
    """A one-layer softmax classifier under cross-entropy, rounded to 2 places as a student would."""
    return f"""
[sheet]
rounding = "student"
decimals = 2
[network]
[[network.layers]]
weights = {weights}
bias = {bias}
activation = "softmax"
[loss]
name = "categorical_cross_entropy"
[[parts]]
kind = "{kind}"
x = [2]
y = 1
"""


def test_a_probability_rounded_to_zero_is_a_one_line_refusal_that_says_why() -> None:
    spec = softmax_sheet("[[3], [-3], [0]]", "[0, 0, 0]", "gradients")
    with pytest.raises(derive.DeriveError) as caught:
        derive.solve(derive.parse_spec(spec, name="zero"))
    message = str(caught.value)
    assert message.startswith("p1.dL/dyhat[2]: division by zero") and "\n" not in message
    assert message.endswith("(rounded to 2 places; carry more digits)")


def test_an_infinite_loss_stays_infinite() -> None:
    """p rounded to 0.00 under cross-entropy: L = −log 0 = ∞ in both engines, as in exact mode."""
    spec = softmax_sheet("[[-3], [3]]", "[0, 0]", "forward")
    solution = derive.solve(derive.parse_spec(spec, name="infinite"))
    assert solution["p1.yhat[1]"].exact == 0 and solution["p1.L"].exact == sp.oo


def test_a_value_too_long_for_the_float_check_is_refused_in_one_line() -> None:
    """Rounded to places, 415614402254.51 has 14 digits: float64 could round it differently."""
    spec = STUDENT.replace("weights = [[0.4, 0.45]]", "weights = [[400000000, 450000000]]")
    with pytest.raises(derive.DeriveError) as caught:
        derive.solve(derive.parse_spec(spec, name="long"))
    message = str(caught.value)
    assert "more digits than the float64 check can follow (12); use significant figures" in message
    assert "\n" not in message
    derive.solve(derive.parse_spec(spec.replace("decimals = 4", "significant = 4"), name="long"))


def test_a_given_with_more_places_is_written_and_used_as_given() -> None:
    spec = derive.parse_spec(STUDENT.replace("x = [0.05, 0.1]", "x = [0.123456, 0.1]"), name="given")
    solution = derive.solve(spec)
    assert solution["p1.z1[1]"].exact == sp.Rational("0.3885")  # 0.15 · 0.123456 + 0.02 + 0.35 = 0.3885184
    tex = derive.render(solution, 4).solution
    assert "0.123456" in tex and "0.1235" not in tex


def test_a_value_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="not a number"):
        Carry(2).round(None, mpmath.mpf("nan"))


def test_a_student_sheet_renders_with_the_places_it_carries() -> None:
    solution = derive.solve(derive.parse_spec(STUDENT.replace("decimals = 4", "decimals = 2"), name="two"))
    tex = derive.render(solution, 6).solution  # the library call's places cannot contradict the carry
    assert "0.59" in tex and "0.590000" not in tex
