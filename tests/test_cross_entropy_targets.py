"""Binary cross-entropy with real-valued targets, inside and outside [0, 1]: both engines compute
−[y log p + (1 − y) log(1 − p)] in full, the gate passes, and outside [0, 1] the sheet says the loss
has no lower bound."""

from __future__ import annotations

import math

import numpy as np
import pytest

import derive
from derive.catalog.losses import BINARY_CROSS_ENTROPY

SPEC = """
[sheet]
language = "{language}"
[network]
[[network.layers]]
weights = [[1, -1], ["1/2", 2]]
bias = [0, "-1/2"]
activation = "sigmoid"
[[network.layers]]
weights = [[1, -2]]
bias = ["1/2"]
activation = "sigmoid"
[loss]
name = "binary_cross_entropy"
[[parts]]
kind = "gradients"
x = [1, 2]
y = "{y}"
[[parts]]
kind = "update"
use_sample_of = 1
learning_rate = "1/2"
"""
W1, B1 = np.array([[1, -1], [0.5, 2]]), np.array([0, -0.5])
W2, B2 = np.array([[1, -2]]), np.array([0.5])
X = np.array([1.0, 2.0])
TARGETS = {"3/10": 0.3, "3/2": 1.5, "-1/2": -0.5, "0": 0.0, "1": 1.0, "2": 2.0}


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def oracle(y: float) -> dict[str, float]:
    """The loss, its gradients and one SGD step by hand: δ at the output is p − y for every y."""
    a1 = sigmoid(W1 @ X + B1)
    p = float(sigmoid(W2 @ a1 + B2)[0])
    loss = -((y * math.log(p) if y else 0.0) + ((1 - y) * math.log(1 - p) if y != 1 else 0.0))
    delta2 = np.array([p - y])
    delta1 = (W2.T @ delta2) * a1 * (1 - a1)
    grads = {"w2": np.outer(delta2, a1), "b2": delta2, "w1": np.outer(delta1, X), "b1": delta1}
    values = {"p1.L": loss, "p1.yhat[1]": p}
    for name, g in grads.items():
        for index, v in np.ndenumerate(g):
            entry = ",".join(str(i + 1) for i in index)
            values[f"p1.dL/d{name}[{entry}]"] = float(v)
    for name, start in (("w1", W1), ("w2", W2)):
        for index, v in np.ndenumerate(start):
            entry = ",".join(str(i + 1) for i in index)
            values[f"p2.{name}_new[{entry}]"] = float(v - 0.5 * grads[name][index])
    return values


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_target_passes_the_gate_with_the_full_formula(target: str) -> None:
    solution = derive.solve(derive.parse_spec(SPEC.format(language="en", y=target)))  # the gate passes
    for key, value in oracle(TARGETS[target]).items():
        assert float(solution[key].approx) == pytest.approx(value, rel=1e-12, abs=1e-14), key


@pytest.mark.parametrize("target", list(TARGETS))
def test_the_float_rule_is_the_exact_formula(target: str) -> None:
    y = TARGETS[target]
    p = np.array([0.2, 0.7, 0.95])
    full = -np.sum((y * np.log(p) if y else 0.0) + ((1 - y) * np.log(1 - p) if y != 1 else 0.0))
    assert BINARY_CROSS_ENTROPY.floats.value(p, np.full(3, y)) == pytest.approx(full, rel=1e-14)


@pytest.mark.parametrize(
    ("target", "language", "words"), [("3/2", "en", "no lower bound"), ("-1/2", "de", "nach unten unbeschränkt")]
)
def test_a_target_outside_0_1_is_accepted_and_the_sheet_says_the_loss_is_unbounded(
    target: str, language: str, words: str
) -> None:
    solution = derive.solve(derive.parse_spec(SPEC.format(language=language, y=target)))
    assert float(solution["p1.L"].approx) == pytest.approx(oracle(TARGETS[target])["p1.L"], rel=1e-12)
    assert words in derive.render(solution).solution


@pytest.mark.parametrize("target", ["3/10", "0", "1"])
def test_a_target_in_0_1_has_no_such_note(target: str) -> None:
    text = derive.render(derive.solve(derive.parse_spec(SPEC.format(language="en", y=target)))).solution
    assert "no lower bound" not in text
