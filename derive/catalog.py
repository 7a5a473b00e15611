"""Activations, losses and optimizers as data: one frozen record each, looked up by name.

Each record carries its exact SymPy rule, the derivative identity a student is shown, and the
derivative as a formula tree, so the sheet prints exactly what the engine computes. Adding an
entry is one record here, its float64 twin in :mod:`derive.verify`, and a test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sympy as sp

from derive.formula import Difference, Node, Num, Power, Product


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


@dataclass(frozen=True)
class Optimizer:
    """A parameter update θ' from θ, the learning rate α and the gradient g."""

    name: str
    step: Callable[[Node, Node, Node], Node]
    formula: str
    prose: str


def _sigmoid(z: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-z))


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

LOSSES: Mapping[str, Loss] = {"squared_error": SQUARED_ERROR}

SGD = Optimizer(
    name="sgd",
    step=lambda theta, rate, grad: Difference(theta, Product((rate, grad))),
    formula=r"\theta' = \theta - \alpha \frac{\partial L}{\partial \theta}",
    prose="sgd",
)

OPTIMIZERS: Mapping[str, Optimizer] = {"sgd": SGD}
