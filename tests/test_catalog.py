"""Every catalogue entry: its derivative formula is the derivative of its rule, and its float twin agrees."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive.catalog.activations import ACTIVATIONS, SIGMOID, Activation
from derive.catalog.losses import LOSSES, SQUARED_ERROR, Loss, averaged, custom_loss
from derive.catalog.optimizers import OPTIMIZERS, Optimizer
from derive.terms.display import Pattern
from derive.terms.formula import Node, Num, Quantity
from derive.terms.formula import Ref as R
from derive.terms.symbols import Sym
from derive.tex.printer import Printer
from derive.verify.floats import unrounded

POINTS = [sp.Integer(-3), sp.Rational(-1, 2), sp.Integer(0), sp.Rational(1, 3), sp.Integer(2)]


def _activations() -> list[Activation]:
    elementwise = [entry.build(**entry.params) for entry in ACTIVATIONS.values()]
    return [act for act in elementwise if not act.vector] + [
        ACTIVATIONS["constant"].build(c=sp.Rational(3, 2)),
        ACTIVATIONS["leaky_relu"].build(slope=sp.Rational(1, 5)),
        ACTIVATIONS["custom"].build(formula="z^3/3 + exp(-z) + sigmoid(2*z)"),
    ]


def _losses() -> list[Loss]:
    return [*LOSSES.values(), custom_loss("(yhat - y)^4/4 + y*log(1 + yhat^2)"), averaged(SQUARED_ERROR, 3)]


def _given(value: sp.Expr) -> R:
    return R(Quantity.given(Sym("t"), value))


@pytest.mark.parametrize("act", _activations(), ids=lambda a: f"{a.name}{dict(a.params)}")
def test_derivative_formula_is_the_derivative_of_the_rule(act: Activation) -> None:
    z = sp.Symbol("z", real=True)
    derivative = sp.diff(act.rule(z), z)
    for point in POINTS:
        if act.kink and point == 0:
            continue  # the kink: see test_relu_takes_zero_slope_at_the_kink
        shown = act.derivative(_given(point), _given(act.rule(point))).exact()
        assert sp.simplify(shown - derivative.subs(z, point)) == 0, (act.name, point)


@pytest.mark.parametrize("act", _activations(), ids=lambda a: f"{a.name}{dict(a.params)}")
def test_float_twin_matches_the_exact_rule(act: Activation) -> None:
    f, fprime = act.floats.value, act.floats.slope
    assert fprime is not None
    z = sp.Symbol("z", real=True)
    points = np.array([float(p) for p in POINTS])
    exact = np.array([float(act.rule(p)) for p in POINTS])
    slopes = np.array([float(sp.diff(act.rule(z), z).subs(z, p)) for p in POINTS])
    np.testing.assert_allclose(f(points), exact, rtol=1e-14)
    if act.kink:
        points, slopes = points[points != 0], slopes[np.array([float(p) for p in POINTS]) != 0]
    np.testing.assert_allclose(fprime(points), slopes, rtol=1e-14)


def test_relu_takes_zero_slope_at_the_kink() -> None:
    relu = ACTIVATIONS["relu"].build()
    zero = _given(sp.Integer(0))
    assert relu.derivative(zero, zero).exact() == 0
    assert relu.floats.slope is not None and relu.floats.slope(np.array([0.0]))[0] == 0.0
    assert "z \\le 0" in Printer().show(Pattern(relu.identity))  # the sheet states the convention


@pytest.mark.parametrize(
    "z",
    [
        sp.Integer(0),
        sp.Integer(3),
        sp.Rational(-1, 2),
        sp.Rational(1, 2) - 1 / (1 + sp.exp(-3)),  # a sum with a sigmoid in it: σ of a later layer
        2 / (1 + sp.exp(sp.Rational(-1, 4))) - sp.Rational(7, 10) * sp.exp(-2),
        sp.log(3),  # e^{-log 3} is 1/3: σ(log 3) = 3/4
    ],
    ids=str,
)
def test_sigmoid_builds_what_sympy_builds(z: sp.Expr) -> None:
    # The exact rule builds 1/(1 + e^{-z}) itself (faster than SymPy's division, which asks every
    # term whether it is infinite): the same expression, node for node.
    expected = 1 / (1 + (sp.exp(-z) if z.is_Number else sp.exp(-z, evaluate=False)))
    assert SIGMOID.rule(z) == expected


def test_sigmoid_float_twin_is_stable_for_large_inputs() -> None:
    f, fprime = ACTIVATIONS["sigmoid"].build().floats.value, ACTIVATIONS["sigmoid"].build().floats.slope
    assert fprime is not None
    with np.errstate(over="raise", invalid="raise"):
        values = f(np.array([-1000.0, 1000.0]))
        np.testing.assert_allclose(values, [0.0, 1.0])
        np.testing.assert_allclose(fprime(np.array([-1000.0, 1000.0])), [0.0, 0.0])


@pytest.mark.parametrize("loss", _losses(), ids=lambda l: f"{l.name}/{l.scale}")
def test_loss_gradient_is_the_derivative_of_the_term(loss: Loss) -> None:
    yhat, y = sp.symbols("yhat y", real=True)
    for a, b in [
        (sp.Rational(1, 2), sp.Integer(1)),
        (sp.Integer(-2), sp.Integer(0)),
        (sp.Rational(3, 7), sp.Rational(1, 3)),
    ]:
        term = loss.term(Num(yhat), Num(y)).exact()  # Num only holds the symbols here
        shown = loss.gradient(_given(a), _given(b)).exact()
        assert shown == sp.diff(term, yhat).subs({yhat: a, y: b})
        value, grad = loss.floats.value, loss.floats.gradient
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
    twin = optimizer.floats
    hyper = {"alpha": float(rate), **{k: float(v) for k, v in optimizer.hyper.items()}}
    value, state = np.array([float(theta)]), {}
    for t, (grad, stages) in enumerate(zip(grads, exact, strict=True), 1):
        floats = twin(value, np.array([float(grad)]), state, t, hyper, unrounded)
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


def test_textbook_values_of_the_new_activations() -> None:
    # Values known from the definitions, not from the code: tanh'(0) = 1, softplus(0) = log 2,
    # softplus'(0) = σ(0) = 1/2, LReLU(−2) = −2s, and the custom f(z) = z² + 1 has f'(3) = 6.
    zero = _given(sp.Integer(0))
    tanh, softplus = ACTIVATIONS["tanh"].build(), ACTIVATIONS["softplus"].build()
    assert tanh.derivative(zero, _given(tanh.rule(sp.Integer(0)))).exact() == 1
    assert softplus.rule(sp.Integer(0)) == sp.log(2)
    assert softplus.derivative(zero, zero).exact() == sp.Rational(1, 2)
    leaky = ACTIVATIONS["leaky_relu"].build(slope=sp.Rational(1, 10))
    assert leaky.rule(sp.Integer(-2)) == sp.Rational(-1, 5)
    assert leaky.derivative(zero, zero).exact() == sp.Rational(1, 10)  # the convention at the kink
    square = ACTIVATIONS["custom"].build(formula="z^2 + 1")
    assert square.derivative(_given(sp.Integer(3)), _given(sp.Integer(10))).exact() == 6
    assert "f'(z) = 2 z" in Printer().show(Pattern(square.identity))


@pytest.mark.parametrize(
    ("name", "hyper", "thetas"),
    [
        # θ = 3/2, g = −4/5 then 1/10, α = 1/10, β = 9/10 worked by hand:
        # v1 = −4/5, θ1 = 3/2 + 2/25; v2 = −18/25 + 1/10 = −31/50, θ2 = θ1 + 31/500.
        ("momentum", {}, [sp.Rational(79, 50), sp.Rational(821, 500)]),
        # v1 = −2/25, θ1 = 3/2 + 1/125; v2 = −9/125 + 1/100 = −31/500, θ2 = θ1 + 31/5000.
        ("momentum_ema", {}, [sp.Rational(377, 250), sp.Rational(7571, 5000)]),
        # v1 = −4/5, θ1 = 3/2 − (1/10)(−4/5 − 18/25) = 3/2 + 19/125.
        ("nesterov", {}, [sp.Rational(413, 250), None]),
        # ρ = 3/4: s1 = (1/4)(16/25) = 4/25, √s1 = 2/5, θ1 = 3/2 + (1/10)(4/5)/(2/5) = 17/10 (ε = 0 here).
        ("rmsprop", {"rho": sp.Rational(3, 4), "epsilon": sp.Integer(0)}, [sp.Rational(17, 10), None]),
        # r1 = 16/25, √r1 = 4/5, θ1 = 3/2 + (1/10)(4/5)/(4/5) = 8/5 (ε = 0 here): α times the sign, as Adam.
        ("adagrad", {"epsilon": sp.Integer(0)}, [sp.Rational(8, 5), None]),
    ],
)
def test_optimizers_match_hand_worked_steps(
    name: str, hyper: dict[str, sp.Rational], thetas: list[sp.Rational]
) -> None:
    optimizer = OPTIMIZERS[name]
    optimizer = Optimizer(**{**optimizer.__dict__, "hyper": {**optimizer.hyper, **hyper}})
    steps = _run_exact(optimizer, sp.Rational(3, 2), [sp.Rational(-4, 5), sp.Rational(1, 10)], sp.Rational(1, 10))
    for stages, expected in zip(steps, thetas, strict=True):
        if expected is not None:
            assert stages["theta"] == expected


def test_softmax_is_a_distribution_and_its_twin_agrees() -> None:
    import numpy as np

    from derive.maths.network import activation_of
    from derive.terms.formula import Quantity, equal
    from derive.terms.symbols import Sym

    act = ACTIVATIONS["softmax"].build()
    assert act.vector and "[i = j]" in act.identity
    z = tuple(
        Quantity.given(Sym("z", 2, (j,)), v)
        for j, v in enumerate((sp.Integer(1), sp.Rational(-1, 2), sp.Integer(2)), 1)
    )
    a = [activation_of(act, z, j) for j in (1, 2, 3)]
    assert equal(sum(node.exact() for node in a), sp.Integer(1))
    softmax = act.floats.value
    twin = softmax(np.array([1.0, -0.5, 2.0]))
    for node, value in zip(a, twin, strict=True):
        assert abs(float(node.approx()) - value) < 1e-15
    # Large inputs do not overflow the twin (it shifts by max z).
    assert np.allclose(softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])
