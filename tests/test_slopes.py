"""[notation] activation_derivative: the activation's derivative f'(net) = ∂a/∂z written as its own
line and answer before each δ, which then multiplies by it (the well-known 2-2-2 worked example)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from derive.pipeline import Options, build_sheet, parse_spec
from tests.test_spec import refusal

EXAMPLE = Path(__file__).parent.parent / "examples" / "notation_neuron.toml"


def spec(extra: str = "") -> str:
    """The worked example in neuron style, with each f'(net) on its own line."""
    text = EXAMPLE.read_text()
    assert "[notation]\n" in text
    return text.replace("[notation]\n", f"[notation]\nactivation_derivative = true\n{extra}", 1)


def sigmoid(v: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-v)))


def test_each_slope_is_a_line_and_an_answer_that_delta_uses(tmp_path: Path) -> None:
    built = build_sheet(parse_spec(spec(), name="slopes"), Options(output_dir=tmp_path, pdf=False))
    # An independent float computation of the example's slopes (σ'(net) = out(1 − out)).
    x = np.array([0.05, 0.1])
    h = sigmoid(np.array([[0.15, 0.2], [0.25, 0.3]]) @ x + 0.35)
    o = sigmoid(np.array([[0.4, 0.45], [0.5, 0.55]]) @ h + 0.6)
    solution = built.solution
    for j in (1, 2):
        assert math.isclose(float(solution[f"p2.dyhat[{j}]/dz2[{j}]"].approx), o[j - 1] * (1 - o[j - 1]))
        assert math.isclose(float(solution[f"p2.da1[{j}]/dz1[{j}]"].approx), h[j - 1] * (1 - h[j - 1]))
    delta = solution["p2.delta2[1]"]
    assert delta.formula is not None and "p2.dyhat[1]/dz2[1]" in {q.key for q in delta.formula.refs()}
    tex = (tmp_path / "slopes-solution.tex").read_text()
    assert r"\frac{\partial \mathrm{out}_{h_{1}}}{\partial \mathrm{net}_{h_{1}}} & = \mathrm{out}_{h_{1}}" in tex
    assert tex.count("error signal of the output layer") == 1  # one step: f' first, then δ


def test_without_the_key_the_sheet_is_as_before(tmp_path: Path) -> None:
    build_sheet(parse_spec(EXAMPLE.read_text(), name="plain"), Options(output_dir=tmp_path, pdf=False))
    assert r"\partial \mathrm{net}_{h_{1}}} &" not in (tmp_path / "plain-solution.tex").read_text()


def test_not_with_the_student_policy() -> None:
    text = spec().replace("[sheet]\n", '[sheet]\nrounding = "student"\n', 1)
    assert "notation.activation_derivative: not with rounding" in refusal(text)
