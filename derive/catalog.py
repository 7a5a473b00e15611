"""Activations, losses and optimizers as data: one frozen record each, looked up by name.

Each record carries its exact SymPy rule, the derivative identity a student is shown, and the
derivative as a formula tree, so the sheet prints exactly what the engine computes. Adding an
entry is one record here, its float64 twin in :mod:`derive.verify`, and a test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sympy as sp

from derive.formula import Difference, Log, Negate, Node, Num, Power, Product, Quotient, Slope, Sqrt, Sum


@dataclass(frozen=True)
class Activation:
    """An activation f: its rule, f' as a formula in z and a = f(z), and its notation."""

    name: str
    rule: Callable[[sp.Expr], sp.Expr]
    derivative: Callable[[Node, Node], Node]
    call: str
    """LaTeX of f(#), where # stands for the argument."""
    prime: str
    """LaTeX of f'(#)."""
    identity: str
    """The derivative identity shown to students, in z."""
    prose: str
    params: tuple[tuple[str, sp.Rational], ...] = ()


@dataclass(frozen=True)
class Loss:
    """A loss summed over the outputs: one term per output and its derivative in ŷ_j."""

    name: str
    term: Callable[[Node, Node], Node]
    gradient: Callable[[Node, Node], Node]
    formula: str
    """LaTeX of L for one output, in \\hat{y} and y."""
    identity: str
    """LaTeX of ∂L/∂ŷ for one output."""
    prose: str


Stage = tuple[str, Callable[[Mapping[str, Node], int], Node]]
"""One named intermediate of an optimizer step and its formula, given the names so far and t."""


@dataclass(frozen=True)
class Optimizer:
    """An update θ → θ' in named stages (m, v, m̂, v̂, then ``theta``), with its hyperparameters.

    A stage's formula may use ``theta``, ``g`` (the gradient), ``alpha``, every hyperparameter,
    the previous step's state as ``<name>_prev`` (0 before the first step) and earlier stages.
    """

    name: str
    stages: tuple[Stage, ...]
    formula: str
    prose: str
    hyper: Mapping[str, sp.Rational] = field(default_factory=dict)
    state: tuple[str, ...] = ()
    """Stages carried from one step to the next."""
    hyper_latex: Mapping[str, str] = field(default_factory=dict)


ONE_ = Num(sp.Integer(1))


def _exp(x: sp.Expr) -> sp.Expr:
    """e^x, evaluated only for a number: on a closed form SymPy would first try to decide the sign
    of the whole argument numerically, which costs more than the rest of a deep derivation."""
    return sp.exp(x) if x.is_Number else sp.exp(x, evaluate=False)


def _sigmoid(z: sp.Expr) -> sp.Expr:
    return 1 / (1 + _exp(-z))


def _relu(z: sp.Expr) -> sp.Expr:
    return sp.Max(sp.Integer(0), z)


def _relu_slope(z: sp.Expr) -> sp.Expr:
    # ReLU'(0) is undefined; like PyTorch we take 0 there, and the sheet says so.
    return sp.Piecewise((sp.Integer(1), z > 0), (sp.Integer(0), True))


IDENTITY = Activation(
    name="identity",
    rule=lambda z: z,
    derivative=lambda z, a: Num(sp.Integer(1)),
    call="#",
    prime="1",
    identity=r"f(z) = z,\quad f'(z) = 1",
    prose="identity",
)

SIGMOID = Activation(
    name="sigmoid",
    rule=_sigmoid,
    # σ'(z) = σ(z)(1 − σ(z)) = a(1 − a): the form students use, in the value already computed.
    derivative=lambda z, a: Product((a, Difference(Num(sp.Integer(1)), a))),
    call=r"\sigma\left(#\right)",
    prime=r"\sigma'\left(#\right)",
    identity=r"\sigma(z) = \frac{1}{1 + e^{-z}},\quad \sigma'(z) = \sigma(z)\bigl(1 - \sigma(z)\bigr)",
    prose="sigmoid",
)


ZERO = sp.Integer(0)


RELU = Activation(
    name="relu",
    rule=_relu,
    derivative=lambda z, a: Slope(r"\operatorname{ReLU}'\left(#\right)", _relu_slope, z),
    call=r"\operatorname{ReLU}\left(#\right)",
    prime=r"\operatorname{ReLU}'\left(#\right)",
    identity=(
        r"\operatorname{ReLU}(z) = \max(0, z),\quad \operatorname{ReLU}'(z) = "
        r"\begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}"
    ),
    prose="relu",
)


def constant(c: sp.Rational = ZERO) -> Activation:
    """The constant function f(z) = c; its derivative is 0 everywhere."""
    text = sp.latex(c)
    return Activation(
        name="constant",
        rule=lambda z: c,
        derivative=lambda z, a: Num(sp.Integer(0)),
        call=text,
        prime="0",
        identity=rf"f(z) = {text},\quad f'(z) = 0",
        prose="constant",
        params=(("c", c),),
    )


@dataclass(frozen=True)
class Entry:
    """A catalogue entry: the parameters it takes (with defaults) and how to build the record."""

    build: Callable[..., Activation]
    params: Mapping[str, sp.Rational] = field(default_factory=dict)


ACTIVATIONS: Mapping[str, Entry] = {
    "identity": Entry(lambda: IDENTITY),
    "sigmoid": Entry(lambda: SIGMOID),
    "relu": Entry(lambda: RELU),
    "constant": Entry(constant, {"c": ZERO}),
}

SQUARED_ERROR = Loss(
    name="squared_error",
    term=lambda yhat, y: Power(Difference(yhat, y), 2),
    gradient=lambda yhat, y: Product((Num(sp.Integer(2)), Difference(yhat, y))),
    formula=r"(\hat{y} - y)^2",
    identity=r"\frac{\partial L}{\partial \hat{y}} = 2(\hat{y} - y)",
    prose="squared_error",
)

BINARY_CROSS_ENTROPY = Loss(
    name="binary_cross_entropy",
    term=lambda p, y: Negate(Sum((Product((y, Log(p))), Product((Difference(ONE_, y), Log(Difference(ONE_, p))))))),
    gradient=lambda p, y: Difference(Quotient(Difference(ONE_, y), Difference(ONE_, p)), Quotient(y, p)),
    formula=r"-\bigl[y \log \hat{y} + (1 - y) \log(1 - \hat{y})\bigr]",
    identity=r"\frac{\partial L}{\partial \hat{y}} = \frac{1 - y}{1 - \hat{y}} - \frac{y}{\hat{y}}",
    prose="binary_cross_entropy",
)

LOSSES: Mapping[str, Loss] = {"squared_error": SQUARED_ERROR, "binary_cross_entropy": BINARY_CROSS_ENTROPY}

SGD = Optimizer(
    name="sgd",
    stages=(("theta", lambda e, t: Difference(e["theta"], Product((e["alpha"], e["g"])))),),
    formula=r"\theta' = \theta - \alpha \frac{\partial L}{\partial \theta}",
    prose="sgd",
)


ADAM = Optimizer(
    name="adam",
    stages=(
        ("m", lambda e, t: Sum((Product((e["beta1"], e["m_prev"])), Product((Difference(ONE_, e["beta1"]), e["g"]))))),
        (
            "v",
            lambda e, t: Sum(
                (Product((e["beta2"], e["v_prev"])), Product((Difference(ONE_, e["beta2"]), Power(e["g"], 2))))
            ),
        ),
        ("mhat", lambda e, t: Quotient(e["m"], Difference(ONE_, Power(e["beta1"], t)))),
        ("vhat", lambda e, t: Quotient(e["v"], Difference(ONE_, Power(e["beta2"], t)))),
        # ε outside the square root, as PyTorch does.
        (
            "theta",
            lambda e, t: Difference(
                e["theta"], Product((e["alpha"], Quotient(e["mhat"], Sum((Sqrt(e["vhat"]), e["epsilon"])))))
            ),
        ),
    ),
    formula=(
        r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, &"
        r" v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2,"
        r" \\ \hat{m}_t &= \frac{m_t}{1 - \beta_1^t}, & \hat{v}_t &= \frac{v_t}{1 - \beta_2^t}, \\"
        r" \theta_t &= \theta_{t-1} - \alpha \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \varepsilon} \end{aligned}"
    ),
    prose="adam",
    hyper={"beta1": sp.Rational(9, 10), "beta2": sp.Rational(999, 1000), "epsilon": sp.Rational(1, 10**8)},
    state=("m", "v"),
    hyper_latex={"beta1": r"\beta_1", "beta2": r"\beta_2", "epsilon": r"\varepsilon"},
)

OPTIMIZERS: Mapping[str, Optimizer] = {"sgd": SGD, "adam": ADAM}
