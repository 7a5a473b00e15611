"""The activation_values kind: f(z) and f'(z) at given points, against mpmath and a hand calculation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import mpmath
import pytest

import derive
from derive.errors import SpecError
from tests.test_cli import text_of
from tests.test_degenerate import layer, part
from tests.test_spec import refusal

SHEET = '[sheet]\ntitle = "Activation values"\ndecimals = 4\n'
NETWORK = f'[network]\ninputs = 1\n{layer("sigmoid")}[loss]\nname = "squared_error"\n'


def spec_text(activation: str, points: str, rounding: str = "") -> str:
    return SHEET + rounding + NETWORK + part("activation_values", activation=f'"{activation}"', z=points)


def solve(activation: str = "sigmoid", points: str = '[0, 2, "-1/2"]', rounding: str = "") -> dict[str, object]:
    spec = derive.parse_spec(spec_text(activation, points, rounding))
    return {q.key: q for q in derive.solve(spec).quantities()}


def value(quantities: dict[str, object], key: str) -> float:
    return float(quantities[key].exact)  # type: ignore[attr-defined]


ORACLES = {
    "sigmoid": (lambda z: 1 / (1 + mpmath.exp(-z)), lambda z: mpmath.exp(-z) / (1 + mpmath.exp(-z)) ** 2),
    "tanh": (mpmath.tanh, lambda z: mpmath.sech(z) ** 2),
    "softplus": (lambda z: mpmath.log(1 + mpmath.exp(z)), lambda z: 1 / (1 + mpmath.exp(-z))),
}


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_values_and_slopes_match_mpmath(name: str) -> None:
    quantities = solve(name)
    f, slope = ORACLES[name]
    for i, z in enumerate([mpmath.mpf(0), mpmath.mpf(2), mpmath.mpf(-0.5)], 1):
        assert value(quantities, f"p1.a[{i}]") == pytest.approx(float(f(z)), rel=1e-14)
        assert value(quantities, f"p1.da[{i}]/dz[{i}]") == pytest.approx(float(slope(z)), rel=1e-14)


def test_sigmoid_at_zero_is_exact() -> None:
    quantities = solve(points="[0]")
    assert str(quantities["p1.a[1]"].exact) == "1/2"  # type: ignore[attr-defined]
    assert str(quantities["p1.da[1]/dz[1]"].exact) == "1/4"  # type: ignore[attr-defined]


def test_relu_at_its_kink_is_worked_without_a_finite_difference() -> None:
    quantities = solve("relu", '[-1, 0, "3/2"]')
    assert [value(quantities, f"p1.a[{i}]") for i in (1, 2, 3)] == [0.0, 0.0, 1.5]
    assert [value(quantities, f"p1.da[{i}]/dz[{i}]") for i in (1, 3)] == [0.0, 1.0]


def test_student_rounding_takes_the_slope_from_the_rounded_value() -> None:
    """σ(1.1) = 0.750260… is carried as 0.7503, and σ' = 0.7503 · (1 − 0.7503) = 0.18735… → 0.1873,
    where the unrounded σ'(1.1) = 0.187370… would give 0.1874."""
    quantities = solve(points='"1.1"', rounding='rounding = "student"\n')
    sigma = Decimal(str(1 / (1 + mpmath.exp(-mpmath.mpf("1.1")))))
    a = sigma.quantize(Decimal("0.0001"), rounding="ROUND_HALF_UP")
    by_hand = (a * (1 - a)).quantize(Decimal("0.0001"), rounding="ROUND_HALF_UP")
    unrounded = (sigma * (1 - sigma)).quantize(Decimal("0.0001"), rounding="ROUND_HALF_UP")
    assert by_hand != unrounded  # the point tells the two ways apart
    assert value(quantities, "p1.a[1]") == float(a)
    assert value(quantities, "p1.da[1]/dz[1]") == float(by_hand)


def test_the_solution_sheet_shows_formula_substitution_and_result(tmp_path: Path) -> None:
    built = derive.build_sheet(
        derive.parse_spec(spec_text("tanh", "[1]")),
        derive.Options(output_dir=tmp_path),
    )
    text = " ".join(text_of(next(f for f in built.files if f.name.endswith("solution.pdf"))).split())
    assert "compute the value a = f (z) and the slope f ′ (z) at z = 1" in text
    assert "tanh (1) ≈ 0.7616" in text
    assert "= 1 − a2 = 1 − tanh (1)2 = 1 − tanh2 (1) ≈ 0.4200" in text


@pytest.mark.parametrize(
    ("activation", "points", "message"),
    [
        ("softmax", "[1]", "parts[1].activation: softmax maps a whole layer: it has no value at a single point"),
        ("sigmoid", str(list(range(13))), "parts[1].z: at most 12 points; found 13"),
        ("sigmoid", "[[1]]", "parts[1].z[1]: expected a number, found a list"),
        ("sigmoid", '"x"', "parts[1].z: expected a number such as 2"),
        ("tanhh", "[1]", "parts[1].activation: unknown activation 'tanhh'; valid: identity, sigmoid"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(activation: str, points: str, message: str) -> None:
    assert message in refusal(spec_text(activation, points))


def test_missing_points_name_the_kind() -> None:
    text = spec_text("tanh", "[1]").replace("z = [1]\n", "")
    with pytest.raises(SpecError, match=r"parts\[1\]\.z: missing: a part of kind 'activation_values' needs it"):
        derive.parse_spec(text)


def test_a_sample_is_refused_naming_the_kind() -> None:
    message = refusal(spec_text("tanh", "[1]") + "x = [1]\ny = 0\n")
    assert "parts[1].x: a part of kind 'activation_values' takes no input sample" in message
