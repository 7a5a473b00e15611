"""Every catalogue entry: its derivative formula is the derivative of its rule, and its float twin agrees."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive.catalog import ACTIVATIONS, LOSSES, OPTIMIZERS, Activation
from derive.formula import Num, Quantity
from derive.formula import Ref as R
from derive.notation import Sym
from derive.verify import _float_activation, _float_loss, _float_optimizer

POINTS = [sp.Integer(-3), sp.Rational(-1, 2), sp.Integer(0), sp.Rational(1, 3), sp.Integer(2)]


def _activations() -> list[Activation]:
    return [entry.build(**entry.params) for entry in ACTIVATIONS.values()] + [
        ACTIVATIONS["constant"].build(c=sp.Rational(3, 2))
    ]


def _given(value: sp.Expr) -> R:
    return R(Quantity.given(Sym("t"), value))


@pytest.mark.parametrize("act", _activations(), ids=lambda a: f"{a.name}{dict(a.params)}")
def test_derivative_formula_is_the_derivative_of_the_rule(act: Activation) -> None:
    z = sp.Symbol("z", real=True)
    derivative = sp.diff(act.rule(z), z)
    for point in POINTS:
        shown = act.derivative(_given(point), _given(act.rule(point))).exact()
        assert sp.simplify(shown - derivative.subs(z, point)) == 0, (act.name, point)


@pytest.mark.parametrize("act", _activations(), ids=lambda a: f"{a.name}{dict(a.params)}")
def test_float_twin_matches_the_exact_rule(act: Activation) -> None:
    f, fprime = _float_activation(act)
    z = sp.Symbol("z", real=True)
    points = np.array([float(p) for p in POINTS])
    exact = np.array([float(act.rule(p)) for p in POINTS])
    slopes = np.array([float(sp.diff(act.rule(z), z).subs(z, p)) for p in POINTS])
    np.testing.assert_allclose(f(points), exact, rtol=1e-15)
    np.testing.assert_allclose(fprime(points), slopes, rtol=1e-15)


def test_sigmoid_float_twin_is_stable_for_large_inputs() -> None:
    f, fprime = _float_activation(ACTIVATIONS["sigmoid"].build())
    with np.errstate(over="raise", invalid="raise"):
        values = f(np.array([-1000.0, 1000.0]))
        np.testing.assert_allclose(values, [0.0, 1.0])
        np.testing.assert_allclose(fprime(np.array([-1000.0, 1000.0])), [0.0, 0.0])


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradient_is_the_derivative_of_the_term(name: str) -> None:
    loss = LOSSES[name]
    yhat, y = sp.symbols("yhat y", real=True)
    for a, b in [
        (sp.Rational(1, 2), sp.Integer(1)),
        (sp.Integer(-2), sp.Integer(0)),
        (sp.Rational(3, 7), sp.Rational(1, 3)),
    ]:
        term = loss.term(Num(yhat), Num(y)).exact()  # Num only holds the symbols here
        shown = loss.gradient(_given(a), _given(b)).exact()
        assert shown == sp.diff(term, yhat).subs({yhat: a, y: b})
        value, grad = _float_loss(loss)
        assert value(np.array([float(a)]), np.array([float(b)])) == pytest.approx(float(term.subs({yhat: a, y: b})))
        assert grad(np.array([float(a)]), np.array([float(b)]))[0] == pytest.approx(float(shown))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_step_matches_its_float_twin(name: str) -> None:
    optimizer = OPTIMIZERS[name]
    theta, rate, grad = sp.Rational(3, 2), sp.Rational(1, 10), sp.Rational(-4, 5)
    exact = optimizer.step(Num(theta), Num(rate), Num(grad)).exact()
    assert exact == theta - rate * grad  # SGD: θ − α g
    twin = _float_optimizer(optimizer)
    assert twin(np.array([1.5]), 0.1, np.array([-0.8]))[0] == pytest.approx(float(exact))
