"""[notation] loss_per_output: the loss split per output, E = Σ_o E_o, and each output's share
∂E_o/∂out_h of a hidden unit's gradient (the widely copied step-by-step example), its numbers
computed again in NumPy and PyTorch, and the one-line refusals."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from derive.pipeline import Options, build_sheet, parse_spec
from tests.test_spec import refusal

EXAMPLE = Path(__file__).parent.parent / "examples" / "textbook_per_output_loss.toml"
X, T = np.array([0.05, 0.1]), np.array([0.01, 0.99])
W1, W2 = np.array([[0.15, 0.2], [0.25, 0.3]]), np.array([[0.4, 0.45], [0.5, 0.55]])
B1, B2, RATE = 0.35, 0.6, 0.5


def sigmoid(v: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-v)))


def example() -> dict[str, np.ndarray]:
    """The example computed again: each output's error, the shares δ_o w_{o,h}, the new weights."""
    h = sigmoid(W1 @ X + B1)
    o = sigmoid(W2 @ h + B2)
    delta_o = (o - T) * o * (1 - o)
    shares = delta_o[:, None] * W2  # [o, h]: ∂E_o/∂out_h
    delta_h = shares.sum(axis=0) * h * (1 - h)
    return {
        "E_o": 0.5 * (T - o) ** 2,
        "shares": shares,
        "W2": W2 - RATE * np.outer(delta_o, h),
        "W1": W1 - RATE * np.outer(delta_h, X),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    out = tmp_path_factory.mktemp("split")
    return build_sheet(parse_spec(EXAMPLE.read_text(), name="split"), Options(output_dir=out, pdf=False)), out


def test_the_sheet_gives_the_examples_numbers(built: tuple[object, Path]) -> None:
    solution = built[0].solution  # type: ignore[attr-defined]
    again = example()
    for j in (1, 2):
        assert math.isclose(float(solution[f"p1.Lo[{j}]"].approx), again["E_o"][j - 1], rel_tol=1e-12)
        for k in (1, 2):
            share = float(solution[f"p2.dLo[{j}]/da1[{k}]"].approx)
            assert math.isclose(share, again["shares"][j - 1, k - 1], rel_tol=1e-12)
    assert math.isclose(float(solution["p1.L"].approx), again["E_o"].sum(), rel_tol=1e-12)
    assert math.isclose(float(solution["p2.w2_new[1,1]"].approx), again["W2"][0, 0], rel_tol=1e-12)
    assert math.isclose(float(solution["p2.w1_new[1,1]"].approx), again["W1"][0, 0], rel_tol=1e-12)
    # The source's printed numbers are these, to its nine places.
    assert (round(again["E_o"].sum(), 9), round(again["W2"][0, 0], 8), round(again["W1"][0, 0], 9)) == (
        0.298371109,
        0.35891648,
        0.149780716,
    )


def test_the_sheet_writes_the_split(built: tuple[object, Path]) -> None:
    tex = (built[1] / "split-solution.tex").read_text()
    assert r"E & = E_{o_{1}} + E_{o_{2}} \approx 0.274811083 + 0.023560026 \approx 0.298371109" in tex
    assert r"\frac{\partial E_{o_{2}}}{\partial \mathrm{out}_{h_{1}}} & = \delta_{o_{2}} \, w_{7}" in tex
    share_sum = r"\frac{\partial E_{o_{1}}}{\partial \mathrm{out}_{h_{1}}} + \frac{\partial E_{o_{2}}}{\partial"
    assert share_sum in tex


def test_the_shares_are_pytorchs_gradients_of_each_outputs_error(built: tuple[object, Path]) -> None:
    torch = pytest.importorskip("torch")
    solution = built[0].solution  # type: ignore[attr-defined]
    h = torch.sigmoid(torch.tensor(W1) @ torch.tensor(X) + B1).detach().requires_grad_(True)
    o = torch.sigmoid(torch.tensor(W2) @ h + B2)
    for j in (1, 2):
        (grad,) = torch.autograd.grad(0.5 * (torch.tensor(T[j - 1]) - o[j - 1]) ** 2, h, retain_graph=True)
        for k in (1, 2):
            assert math.isclose(float(solution[f"p2.dLo[{j}]/da1[{k}]"].approx), float(grad[k - 1]), rel_tol=1e-9)


def test_in_matrix_style_each_outputs_loss_is_ell(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace('style = "neuron"\n', "")
    build_sheet(parse_spec(text, name="ell"), Options(output_dir=tmp_path, pdf=False))
    assert r"E & = \ell_{1} + \ell_{2}" in (tmp_path / "ell-solution.tex").read_text()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('name = "half_squared_error"', 'name = "squared_error"\nreduction = "mean"'), "split only a sum"),
        (("[sheet]\n", '[sheet]\nrounding = "student"\n'), 'notation.loss_per_output: not with rounding = "student"'),
        (('activation = "sigmoid"\n\n[loss]', 'activation = "softmax"\n\n[loss]'), "not with a softmax layer"),
        (
            ("weights = [[0.4, 0.45], [0.5, 0.55]]", "weights = [[0.4, 0.45]]"),
            "notation.loss_per_output: the network has one output: its loss is not split",
        ),
    ],
)
def test_what_the_split_cannot_write_is_one_line(edit: tuple[str, str], message: str) -> None:
    text = EXAMPLE.read_text()
    assert edit[0] in text
    text = text.replace(*edit, 1).replace("activation_derivative = true\n", "")
    assert message in refusal(text)
