"""A batch of a sigmoid output under mean cross-entropy: each sample's share (p_n − y_n)/N of the
batch gradient at the pre-activation, against NumPy and PyTorch, and the batch gradient it makes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from derive.pipeline import Options, build_sheet, parse_spec

EXAMPLE = Path(__file__).parent.parent / "examples" / "batch_logistic_shares.toml"
W, B = np.array([0.5, -0.25]), 0.0
X = np.array([[1.0, 2.0], [2.0, -1.0], [-1.0, 1.0]])
Y = np.array([1.0, 0.0, 1.0])


def test_each_share_is_p_minus_y_over_n_and_they_make_the_gradient(tmp_path: Path) -> None:
    built = build_sheet(parse_spec(EXAMPLE.read_text(), name="shares"), Options(output_dir=tmp_path, pdf=False))
    solution = built.solution
    p = 1 / (1 + np.exp(-(X @ W + B)))
    share = (p - Y) / len(Y)
    for n in range(1, 4):
        assert math.isclose(float(solution[f"p1.s{n}.dL/dz1[1]"].approx), share[n - 1], rel_tol=1e-12)
    # ∂L/∂w = Σ_n (p_n − y_n)/N · x_n: the batch gradient the sheet computes from the samples' own.
    for k in (1, 2):
        assert math.isclose(float(solution[f"p1.dL/dw1[1,{k}]"].approx), float(share @ X[:, k - 1]), rel_tol=1e-12)
    tex = (tmp_path / "shares-solution.tex").read_text()
    assert r"\frac{\partial L}{\partial z^{(1)}} = \frac{p_n - y_n}{N}" in tex
    assert "share of the batch gradient" in tex


def test_the_shares_are_pytorchs_gradients_of_the_mean_loss(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    built = build_sheet(parse_spec(EXAMPLE.read_text(), name="torch"), Options(output_dir=tmp_path, pdf=False))
    z = torch.tensor(X @ W + B, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy(torch.sigmoid(z), torch.tensor(Y), reduction="mean")
    loss.backward()
    assert z.grad is not None
    for n in range(1, 4):
        assert math.isclose(float(built.solution[f"p1.s{n}.dL/dz1[1]"].approx), float(z.grad[n - 1]), rel_tol=1e-9)


def test_a_summed_batch_has_no_shares(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace('batch_reduction = "mean"', 'batch_reduction = "sum"')
    built = build_sheet(parse_spec(text, name="sum"), Options(output_dir=tmp_path, pdf=False))
    assert "p1.s1.dL/dz1[1]" not in built.solution
