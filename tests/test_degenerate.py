"""Degenerate maths: an explained sheet where the maths has an answer, one clear line where it has none."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import derive
from derive.errors import DegenerateError, SpecError
from derive.maths.steps import Finding, Solution
from derive.pipeline import Options, build_sheet

SEED_LAYERS = """
[[network.layers]]
weights = [[1, -1], [2, 1]]
bias = [0, 0]
activation = "sigmoid"
[[network.layers]]
weights = [[1, -1]]
bias = ["1/2"]
activation = "identity"
"""


def layer(activation: str, weights: str = "[[1]]", bias: str = "[0]") -> str:
    return f'[[network.layers]]\nweights = {weights}\nbias = {bias}\nactivation = "{activation}"\n'


def part(kind: str, **fields: object) -> str:
    lines = [f'kind = "{kind}"'] + [f"{key} = {value}" for key, value in fields.items()]
    return "[[parts]]\n" + "\n".join(lines) + "\n"


def spec(layers: str, parts: str, loss: str = "squared_error") -> derive.Spec:
    return derive.parse_spec(f'{layers}\n[loss]\nname = "{loss}"\n{parts}', name="degenerate")


def findings(solution: Solution) -> list[dict[str, str]]:
    steps = (s for p in solution.parts for sec in p.sections for s in sec.steps)
    return [{"key": s.key, **dict(s.facts)} for s in steps if isinstance(s, Finding)]


def test_log_zero_gives_an_infinite_loss_with_an_explanation(tmp_path: Path) -> None:
    certain = spec(layer("identity"), part("forward", x=[1], y=0), "binary_cross_entropy")
    solution = derive.solve(certain)  # verified: both engines say +∞
    assert solution["p1.L"].exact == sp.oo
    assert [f["key"] for f in findings(solution)] == ["infinite_loss"]
    build_sheet(certain, Options(output_dir=tmp_path))
    pdf = tmp_path / "degenerate-solution.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "∞" in text and "The loss is infinite" in text


def test_the_gradient_of_an_infinite_loss_is_one_clear_error() -> None:
    certain = spec(layer("identity"), part("gradients", x=[1], y=0), "binary_cross_entropy")
    with pytest.raises(DegenerateError, match=r"^p1\.dL/dyhat\[1\]: division by zero"):
        derive.solve(certain)


def test_cross_entropy_of_a_negative_output_is_one_clear_error() -> None:
    negative = spec(layer("identity"), part("forward", x=[-1], y=1), "binary_cross_entropy")
    with pytest.raises(DegenerateError, match="logarithm of a negative number"):
        derive.solve(negative)


def test_huge_pre_activations_do_not_overflow() -> None:
    layers = layer("sigmoid", "[[1000], [-1000]]", "[0, 0]") + layer("identity", "[[1, 1]]")
    solution = derive.solve(spec(layers, part("gradients", x=[1], y=1)))  # the gate passed
    assert solution["p1.a1[1]"].exact == 1 / (1 + sp.exp(-1000))
    slope = solution["p1.dL/dw1[1,1]"]
    # σ'(1000) ≈ e^{-1000} is below float64's range; the exact value and the carried decimal keep it
    assert slope.exact != 0 and slope.approx != 0 and float(slope.approx) == 0.0
    assert math.isfinite(float(solution["p1.L"].approx))


def test_a_perfect_prediction_has_zero_gradients_explained() -> None:
    solution = derive.solve(spec(SEED_LAYERS, part("gradients", x=[0, 0], y='"1/2"')))
    gradients = [q for q in solution.quantities() if q.key.startswith(("p1.dL/dw", "p1.dL/db"))]
    assert len(gradients) == 9 and all(q.exact == 0 for q in gradients)
    assert findings(solution) == [{"key": "zero_gradient", "cause": "output"}]


def test_dead_relu_units_give_zero_gradients_explained() -> None:
    solution = derive.solve(spec(layer("relu"), part("gradients", x=[-2], y=1)))
    assert solution["p1.dL/dw1[1,1]"].exact == 0
    assert findings(solution) == [{"key": "zero_gradient", "cause": "slopes"}]


def test_learning_rate_zero_is_refused_clearly() -> None:
    with pytest.raises(SpecError, match="a learning rate of 0 leaves every parameter unchanged"):
        spec(layer("sigmoid"), part("update", x=[1], y=1, learning_rate=0))


def test_a_runaway_run_stops_and_is_verified() -> None:
    runaway = part("learning_rates", x=[1], y=2, learning_rates=[5], steps=200, exact_steps=1)
    solution = derive.solve(spec(layer("identity"), runaway))
    (facts,) = findings(solution)
    assert facts["verdict"] == "diverges" and facts["stopped"] == "yes"
    assert int(facts["steps"]) < 200


def test_sheets_too_large_to_read_are_refused_but_the_library_derives_them(tmp_path: Path) -> None:
    width = 15
    layers = (
        layer("sigmoid", str([[1, 1]] * width), str([0] * width))
        + layer("sigmoid", str([[1] * width] * width), str([0] * width))
        + layer("identity", str([[1] * width]))
    )
    big = spec(layers, part("forward", x=[1, 1], y=1))
    too_many = r"^spec: network.layers\[2\]: 301 parameters are more than a readable sheet shows"
    with pytest.raises(SpecError, match=too_many):
        build_sheet(big, Options(output_dir=tmp_path / "o"))
    assert not (tmp_path / "o").exists()
    assert derive.solve(big)["p1.L"].exact.is_positive


def test_a_step_that_saturates_the_output_is_one_truthful_line() -> None:
    # RMSProp's first step is about 10α per parameter: with α = 1 the sigmoid output of the
    # second step is 1 to 45 digits, and cross-entropy's derivative divides by 1 − ŷ. The exact
    # 1 − ŷ is not 0, so the message must not say "exactly 0".
    layers = layer("softplus", '[["3/2", 3], [3, -3], [-0.5, -2]]', "[-3, -3, -2]") + layer(
        "sigmoid", '[[-0.5, 3, "3/2"]]', '["1/2"]'
    )
    saturated = spec(
        layers,
        part("update", x="[-2, 0]", y="[1]", learning_rate=1, optimizer='"rmsprop"', steps=2),
        loss="binary_cross_entropy",
    )
    with pytest.raises(DegenerateError) as caught:
        derive.solve(saturated)
    message = str(caught.value)
    assert "\n" not in message and "exactly 0" not in message
    assert message.startswith("p1.t2.dL/dyhat[1]: division by zero") and "saturated activation" in message


def test_a_custom_formula_that_overflows_numpy_inside_is_evaluated_again_without_overflow() -> None:
    from derive.catalog.parsing import float_rules

    value, slope = float_rules("z^2/2 + sigmoid(z)", "z")
    z = np.array([-1e45, -3.0, 0.0, 800.0])
    # The oracle, in the stable form for either sign: σ'(z) = e^{-|z|} / (1 + e^{-|z|})².
    expected = [t + math.exp(-abs(t)) / (1 + math.exp(-abs(t))) ** 2 for t in z]
    assert list(slope(z)) == pytest.approx(expected, rel=1e-12)  # NumPy alone: e^{1e45}/… is nan
    assert value(z)[0] == pytest.approx(0.5e90, rel=1e-12)
    overflow, _ = float_rules("exp(z)", "z")
    assert math.isinf(overflow(np.array([1000.0]))[0])  # a value that itself overflows stays infinite


def test_a_diverging_custom_network_is_verified_not_refused() -> None:
    # Found by the fuzz: two SGD steps with rate 1/2 send z to -3.5e45, where the float twin's
    # σ'(z) = e^{-z}/(1 + e^{-z})² was inf/inf; the gate refused a correct sheet.
    text = """
[network]
inputs = 3
[[network.layers]]
weights = [[0, 0, 0], [0, 0, 0]]
bias = [3, 0]
activation = { name = "custom", formula = "z^2/2 + sigmoid(z)" }
[[network.layers]]
weights = [[0, 0], [3, 0]]
bias = [0, 0]
activation = "identity"
[loss]
name = "custom"
formula = "(yhat - y)^2 + (yhat - y)^4/4"
[[parts]]
kind = "update"
x = [0, 0, 0]
y = [0, 0]
learning_rate = "1/2"
steps = 2
"""
    solution = derive.solve(derive.parse_spec(text, name="diverging"))
    assert float(solution["p1.t2.delta1[1]"].approx) == pytest.approx(-3.5048108671450145e45, rel=1e-12)


def test_a_root_or_log_of_a_negative_closed_form_is_undefined() -> None:
    # The sign of a closed form is read from its carried decimal (SymPy's own test is slow); a
    # negative one is still refused, a positive one rooted, a symbol's left to SymPy.
    from derive.catalog.activations import SIGMOID
    from derive.terms.formula import Apply, Difference, Log, Num, Power, Sqrt, Sum, Undefined

    negative = Difference(Num(sp.Rational(1, 2)), Apply(SIGMOID, Num(sp.Integer(3))))  # 1/2 - σ(3)
    for node in (Sqrt(negative), Log(negative)):
        with pytest.raises(Undefined, match="of a negative number"):
            node.exact()
    squares = Sum((Power(negative, 2), Power(Apply(SIGMOID, Num(sp.Integer(1))), 2)))
    assert Sqrt(squares).exact() == sp.sqrt(squares.exact())
    assert Log(Num(sp.Symbol("p"))).exact() == sp.log(sp.Symbol("p"))
