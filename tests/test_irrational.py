"""Givens typed as closed forms ("sqrt(2)/2", "1 + sin(pi/3)", "ln(2)"): read exactly, refused in one
line when they are no real number, checked by the float engine from their own text, and printed short."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import derive
from derive.errors import VerificationError
from derive.exercise.closed import MAX_LENGTH, MAX_NODES, closed_form
from derive.pipeline import Options, build_sheet
from derive.verify.closed import closed_float
from tests.test_cli import text_of
from tests.test_spec import refusal

EXAMPLE = Path(__file__).parent.parent / "examples" / "irrational_givens.toml"

FORMS = {
    "sqrt(2)/2": (sp.sqrt(2) / 2, math.sqrt(2) / 2),
    "1 + sin(pi/3)": (1 + sp.sqrt(3) / 2, 1 + math.sin(math.pi / 3)),
    "ln(2)": (sp.log(2), math.log(2)),
    "log(2)": (sp.log(2), math.log(2)),
    "e": (sp.E, math.e),
    "pi/4": (sp.pi / 4, math.pi / 4),
    "cos(pi/6)": (sp.sqrt(3) / 2, math.cos(math.pi / 6)),
    "2*sqrt(3)": (2 * sp.sqrt(3), 2 * math.sqrt(3)),
    "exp(-1)": (sp.exp(-1), math.exp(-1)),
    "e^-1": (sp.exp(-1), math.exp(-1)),
    "2^(1/3)": (sp.root(2, 3), 2 ** (1 / 3)),
    "-0.5*tan(1)": (-sp.tan(1) / 2, -0.5 * math.tan(1)),
    "cos(pi/3)": (sp.Rational(1, 2), 0.5),
}
"""Typed text: its exact value (written independently in SymPy) and its value in math-module floats."""


@pytest.mark.parametrize("text", FORMS)
def test_a_closed_form_is_read_exactly_by_the_reader_and_again_in_floats(text: str) -> None:
    exact, value = FORMS[text]
    assert sp.simplify(closed_form(text) - exact) == 0
    assert closed_float(text) == pytest.approx(value, rel=1e-15)


def with_target(value: str) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    return text.replace('y = "1 + sin(pi/3)"', f"y = {value}", 1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"ln(0)"', "parts[1].y: the closed form 'ln(0)' is undefined"),
        ('"sqrt(-2)"', "parts[1].y: the closed form 'sqrt(-2)' has no real value"),
        ('"log(-1) + 1"', "parts[1].y: the closed form 'log(-1) + 1': 'log(-1)' has no real value"),
        ('"tan(pi/2)"', "parts[1].y: the closed form 'tan(pi/2)' is undefined"),
        ('"1/(pi - pi)"', "division by zero"),
        ('"e^100"', "parts[1].y: 'e^100' is out of range: numbers are 0 or from 10^-30 to 10^30 in size"),
        ('"e^1000"', "parts[1].y: the closed form 'e^1000': an exponent beyond ±100"),
        ('"pi^9^9"', "an exponent beyond ±100"),
        ('"erf(1)"', 'parts[1].y: expected a number such as 2, "1/2", "0.15" or "sqrt(2)/2", found \'erf(1)\' '),
        ('"one"', "unknown name 'one'; allowed: e, pi"),
        ('"sqrt(2"', "was never closed"),
        ('"sin(1, 2)"', "sin() takes exactly one argument"),
        (f'"{"1+" * 40}pi"', f"a closed form of at most {MAX_LENGTH} characters; found 82"),
        ('"(1+sqrt(2))*(1+sqrt(3))*(1+sqrt(5))*(2+sqrt(7))*(3+pi+e)"', f"at most {MAX_NODES} are printed"),
        ('"exp(exp(exp(exp(exp(-9)))))"', "nested 5 deep; at most 4"),
    ],
)
def test_a_closed_form_that_is_no_real_number_is_one_line_naming_the_field(value: str, message: str) -> None:
    assert message in refusal(with_target(value))


def test_a_closed_form_is_refused_naming_its_own_field() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace('learning_rate = "1/10"', 'learning_rate = "-pi"')
    assert "parts[3].learning_rate: expected a positive number" in refusal(text)
    text = EXAMPLE.read_text(encoding="utf-8").replace('"sqrt(2)/2"', '"sqrt(2)/0"')
    assert "network.layers[1].weights[1][1]: the closed form 'sqrt(2)/0': division by zero" in refusal(text)


def test_a_number_typed_as_before_is_read_as_before() -> None:
    """Decimals with an exponent are numbers (their e is no constant), and inf is still refused as not finite."""
    spec = derive.parse_spec(with_target('"3e-2"'))
    assert spec.parts[0].sample.y == (sp.Rational(3, 100),)
    assert sp.Rational(3, 100) in spec.sheet.typed_decimals
    assert spec.closed_forms == ((sp.sqrt(2) / 2, "sqrt(2)/2"), (sp.pi / 4, "pi/4"), (sp.log(2), "ln(2)"))
    assert "expected a finite number" in refusal(with_target('"inf"'))


def forward_backward(x: np.ndarray, y: float, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray):  # type: ignore[no-untyped-def]
    """The example's network (ReLU, then identity; half squared error) in NumPy, written here."""
    z1 = w1 @ x + b1
    a1 = np.maximum(z1, 0.0)
    yhat = (w2 @ a1 + b2)[0]
    loss = 0.5 * (yhat - y) ** 2
    delta2 = np.array([yhat - y])
    delta1 = (w2.T @ delta2) * (z1 > 0)
    return yhat, loss, np.outer(delta1, x), delta1, np.outer(delta2, a1), delta2


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, derive.Solution]:
    out = tmp_path_factory.mktemp("irrational")
    sheet = build_sheet(derive.load_spec(EXAMPLE), Options(output_dir=out))
    assert sheet.report.values > 40 and sheet.report.differences > 10
    return out, sheet.solution


def test_the_example_agrees_with_numpy_from_the_typed_values(built: tuple[Path, derive.Solution]) -> None:
    _, solution = built
    x = np.array([math.log(2), 1.0])
    y = 1 + math.sin(math.pi / 3)
    w1 = np.array([[math.sqrt(2) / 2, 1.0], [-1.0, 0.5]])
    b1 = np.array([0.0, math.pi / 4])
    w2, b2 = np.array([[1.0, -0.5]]), np.array([0.0])
    yhat, loss, gw1, gb1, gw2, gb2 = forward_backward(x, y, w1, b1, w2, b2)
    assert float(solution["p1.yhat[1]"].approx) == pytest.approx(yhat, rel=1e-12)
    assert float(solution["p1.L"].approx) == pytest.approx(loss, rel=1e-12)
    for name, grad in (("w1", gw1), ("w2", gw2)):
        for (j, k), value in np.ndenumerate(grad):
            assert float(solution[f"p2.dL/d{name}[{j + 1},{k + 1}]"].approx) == pytest.approx(value, rel=1e-12)
    for name, grad in (("b1", gb1), ("b2", gb2)):
        for (j,), value in np.ndenumerate(grad):
            assert float(solution[f"p2.dL/d{name}[{j + 1}]"].approx) == pytest.approx(value, rel=1e-12)
    alpha = 0.1
    moved = (w1 - alpha * gw1, b1 - alpha * gb1, w2 - alpha * gw2, b2 - alpha * gb2)
    for (j, k), value in np.ndenumerate(moved[0]):
        assert float(solution[f"p3.w1_new[{j + 1},{k + 1}]"].approx) == pytest.approx(value, rel=1e-12)
    assert float(solution["p3.L_new"].approx) == pytest.approx(forward_backward(x, y, *moved)[1], rel=1e-12)
    # Kept exact: the target is 1 + √3/2, the first hidden value 1 + √2·ln 2 / 2.
    assert solution["p1.y[1]"].exact == 1 + sp.sqrt(3) / 2
    assert sp.simplify(solution["p1.z1[1]"].exact - (1 + sp.sqrt(2) * sp.log(2) / 2)) == 0


def test_the_sheets_print_the_closed_forms_short(built: tuple[Path, derive.Solution]) -> None:
    out, _ = built
    tex = (out / "irrational_givens-solution.tex").read_text(encoding="utf-8")
    assert r"\frac{\sqrt{2}}{2}" in tex and r"\frac{\pi}{4}" in tex
    assert r"y = 1 + \frac{\sqrt{3}}{2}" in tex
    assert r"\log {2}" in tex and r"\log{\left(2 \right)}" not in tex
    text = " ".join(text_of(out / "irrational_givens-exercise.pdf").split())
    assert "x = (log 2, 1)⊤" in text
    solution = " ".join(text_of(out / "irrational_givens-solution.pdf").split())
    assert "log 2" in solution and "log (2)" not in solution
    # ŷ exact and short: 3/4 + (log 2)/2 − π/8 + √2 log 2 / 2
    assert r"\frac{3}{4} + \frac{\log {2}}{2} - \frac{\pi}{8} + \frac{\sqrt{2} \log {2}}{2}" in tex


def test_the_float_engine_reads_the_typed_text_not_the_exact_value() -> None:
    """Were the exact reading of a given wrong, the float engine's own reading of its text disagrees
    at the gate: here the text of √2/2 is swapped for that of √3/2."""
    spec = derive.load_spec(EXAMPLE)
    misread = tuple((value, "sqrt(3)/2" if text == "sqrt(2)/2" else text) for value, text in spec.closed_forms)
    derive.solve(spec)
    with pytest.raises(VerificationError, match=r"p1\.z1\[1\]: exact value 1\.49\d+ but float64 gives 1\.60"):
        derive.solve(replace(spec, closed_forms=misread))


def test_a_model_built_in_python_may_give_closed_forms() -> None:
    """SymPy values, or the same strings as in a spec file; the float engine then reads SymPy's text."""
    spec = derive.load_spec(EXAMPLE)
    layer = spec.network.layers[0]
    weights = ((sp.sqrt(3) / 3, "cos(pi/4)"), layer.weights[1])
    network = replace(spec.network, layers=(replace(layer, weights=weights), *spec.network.layers[1:]))
    checked = derive.check(replace(spec, network=network, closed_forms=()))
    assert checked.network.layers[0].weights[0] == (sp.sqrt(3) / 3, sp.sqrt(2) / 2)
    derive.solve(checked)
    bad = replace(layer, weights=((sp.sqrt(-1), 1), layer.weights[1]))
    with pytest.raises(derive.SpecError, match=r"network.layers\[1\].weights\[1\]\[1\]: I has no real value"):
        derive.check(replace(spec, network=replace(spec.network, layers=(bad, *spec.network.layers[1:]))))
