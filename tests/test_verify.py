"""The verification gate stops a wrong derivation: break a rule on purpose and expect the error."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

import derive
from derive import catalog
from derive.catalog import Entry
from derive.derivation import derive as derive_exactly
from derive.errors import VerificationError
from derive.formula import Difference, Num, Product, Sum
from derive.spec import example_path, parse_spec
from derive.verify import FD_TOL, FloatNet, _backward, _difference, _float_loss

EXAMPLE = example_path().read_text(encoding="utf-8")


def test_the_example_passes_with_small_deviations(example: derive.Solution) -> None:
    report = derive.verify(example)
    assert report.values == len(list(example.quantities()))
    assert report.differences >= 30  # every gradient of parts 4 and 6, δ and ∂L/∂a included
    assert report.max_relative < 1e-12
    assert report.max_difference < FD_TOL


def test_a_wrong_sigmoid_derivative_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # σ' = σ(1 + σ) instead of σ(1 − σ): the exact engine follows the broken rule, the float engine does not.
    broken = replace(catalog.SIGMOID, derivative=lambda z, a: Product((a, Sum((Num(sp.Integer(1)), a)))))
    monkeypatch.setitem(catalog.ACTIVATIONS, "sigmoid", Entry(lambda: broken))  # type: ignore[index]
    spec = parse_spec(EXAMPLE)
    with pytest.raises(VerificationError, match=r"p4\.delta1\[1\]: exact value -0\.75 but float64 gives -0\.25"):
        derive.verify(derive_exactly(spec))


def test_a_wrong_loss_gradient_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = replace(catalog.SQUARED_ERROR, gradient=lambda yhat, y: Difference(yhat, y))  # forgot the 2
    monkeypatch.setitem(catalog.LOSSES, "squared_error", broken)  # type: ignore[index]
    with pytest.raises(VerificationError, match=r"p4\.dL/dyhat\[1\]"):
        derive.verify(derive_exactly(parse_spec(EXAMPLE)))


def test_a_wrong_update_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = replace(catalog.SGD, step=lambda theta, rate, grad: Difference(theta, grad))  # forgot α
    monkeypatch.setitem(catalog.OPTIMIZERS, "sgd", broken)  # type: ignore[index]
    with pytest.raises(VerificationError, match=r"p5\.\w+_new"):
        derive.verify(derive_exactly(parse_spec(EXAMPLE)))


def test_finite_differences_agree_with_float_backprop() -> None:
    spec = parse_spec(EXAMPLE)
    net = FloatNet.of(spec.network)
    import numpy as np

    x, y = np.array([1.0, -1.0]), np.array([1.0])
    loss_fn, loss_grad = _float_loss(spec.loss)
    for symbol, value in _backward(spec.network, net, x, y, loss_grad).items():
        assert _difference(spec.network, net, x, y, loss_fn, symbol) == pytest.approx(value, abs=1e-8), symbol
