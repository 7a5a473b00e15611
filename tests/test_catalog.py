"""Every catalogue entry: its derivative formula is the derivative of its rule, and its float twin agrees."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive.catalog import ACTIVATIONS, LOSSES, OPTIMIZERS, Activation, Optimizer
from derive.floats import activation_twin, loss_twin, optimizer_twin
from derive.formula import Node, Num, Quantity
from derive.formula import Ref as R
from derive.notation import Sym

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
        if act.name == "relu" and point == 0:
            continue  # the kink: see test_relu_takes_zero_slope_at_the_kink
        shown = act.derivative(_given(point), _given(act.rule(point))).exact()
        assert sp.simplify(shown - derivative.subs(z, point)) == 0, (act.name, point)


@pytest.mark.parametrize("act", _activations(), ids=lambda a: f"{a.name}{dict(a.params)}")
def test_float_twin_matches_the_exact_rule(act: Activation) -> None:
    f, fprime = activation_twin(act)
    z = sp.Symbol("z", real=True)
    points = np.array([float(p) for p in POINTS])
    exact = np.array([float(act.rule(p)) for p in POINTS])
    slopes = np.array([float(sp.diff(act.rule(z), z).subs(z, p)) for p in POINTS])
    np.testing.assert_allclose(f(points), exact, rtol=1e-15)
    if act.name == "relu":
        points, slopes = points[points != 0], slopes[np.array([float(p) for p in POINTS]) != 0]
    np.testing.assert_allclose(fprime(points), slopes, rtol=1e-15)


def test_relu_takes_zero_slope_at_the_kink() -> None:
    relu = ACTIVATIONS["relu"].build()
    zero = _given(sp.Integer(0))
    assert relu.derivative(zero, zero).exact() == 0
    assert activation_twin(relu)[1](np.array([0.0]))[0] == 0.0
    assert "z \\le 0" in relu.identity  # the sheet states the convention


def test_sigmoid_float_twin_is_stable_for_large_inputs() -> None:
    f, fprime = activation_twin(ACTIVATIONS["sigmoid"].build())
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
        value, grad = loss_twin(loss)
        assert value(np.array([float(a)]), np.array([float(b)])) == pytest.approx(float(term.subs({yhat: a, y: b})))
        assert grad(np.array([float(a)]), np.array([float(b)]))[0] == pytest.approx(float(shown))


def _run_exact(optimizer: Optimizer, theta: sp.Expr, grads: list[sp.Expr], rate: sp.Expr) -> list[dict[str, sp.Expr]]:
    """The optimizer's stages over several steps, evaluated exactly from its catalogue formulas."""
    steps, state = [], {name: sp.Integer(0) for name in optimizer.state}
    for t, grad in enumerate(grads, 1):
        env: dict[str, Node] = {"theta": Num(theta), "g": Num(grad), "alpha": Num(rate)}
        env.update({name: Num(value) for name, value in optimizer.hyper.items()})
        env.update({f"{name}_prev": Num(value) for name, value in state.items()})
        stages: dict[str, sp.Expr] = {}
        for stage, formula in optimizer.stages:
            stages[stage] = formula(env, t).exact()
            env[stage] = Num(stages[stage])
        state = {name: stages[name] for name in optimizer.state}
        theta = stages["theta"]
        steps.append(stages)
    return steps


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_stages_match_their_float_twin(name: str) -> None:
    optimizer = OPTIMIZERS[name]
    theta, grads, rate = sp.Rational(3, 2), [sp.Rational(-4, 5), sp.Rational(1, 10)], sp.Rational(1, 10)
    exact = _run_exact(optimizer, theta, grads, rate)
    twin = optimizer_twin(optimizer)
    hyper = {"alpha": float(rate), **{k: float(v) for k, v in optimizer.hyper.items()}}
    value, state = np.array([float(theta)]), {}
    for t, (grad, stages) in enumerate(zip(grads, exact, strict=True), 1):
        floats = twin(value, np.array([float(grad)]), state, t, hyper)
        for stage, expected in stages.items():
            assert floats[stage][0] == pytest.approx(float(expected), rel=1e-12), (name, t, stage)
        state = {k: floats[k] for k in optimizer.state}
        value = floats["theta"]


def test_sgd_is_theta_minus_alpha_g() -> None:
    assert _run_exact(OPTIMIZERS["sgd"], sp.Rational(3, 2), [sp.Rational(-4, 5)], sp.Rational(1, 10))[0]["theta"] == (
        sp.Rational(3, 2) + sp.Rational(8, 100)
    )


def test_adam_first_step_is_alpha_times_sign_up_to_epsilon() -> None:
    adam = OPTIMIZERS["adam"]
    g, eps = sp.Rational(-4, 5), adam.hyper["epsilon"]
    first = _run_exact(adam, sp.Integer(0), [g], sp.Rational(1, 10))[0]
    # m̂ = g and v̂ = g² after bias correction, so the step is α g / (|g| + ε)
    assert first["mhat"] == g and first["vhat"] == g**2
    assert first["theta"] == -sp.Rational(1, 10) * g / (abs(g) + eps)
