"""The gates of a computational graph as data: each record holds its exact rule (a formula node of its
inputs), its local gradients (formula nodes, as a student writes them: σ' = q(1 − q)), the same in
floats for the verification gate, its label in a circuit drawing and the key of its backward flow's words.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import sympy as sp

from derive.catalog.activations import EXP, RELU, SIGMOID, TANH, Activation, sigmoid_float
from derive.terms.formula import Apply, Log, Negate, Node, Num, Power, Product, Quotient, Rule, Sum

ONE = sp.Integer(1)
Constant: TypeAlias = sp.Rational | None
Forward = Callable[[tuple[Node, ...], Constant], Node]
Local = Callable[[tuple[Node, ...], Node, Constant, int], Node]
"""The local gradient ∂out/∂(input i) from the inputs, the output and the constant."""
FloatForward = Callable[[Sequence[float], float], float]
FloatLocal = Callable[[Sequence[float], float, float, int], float]


@dataclass(frozen=True)
class Gate:
    """One gate kind: how it computes, its local gradients, exactly and in floats, and how it is drawn."""

    name: str
    arity: int
    forward: Forward
    local: Local
    floats: FloatForward
    """The output in floats from the inputs and the constant (0.0 where the gate has none)."""
    float_local: FloatLocal
    """The local gradient in floats from the inputs, the output and the constant."""
    label: str
    """LaTeX of the gate in a drawing; # stands for its constant."""
    flow: str = ""
    """The key of the words for its pattern of backward flow (add distributes, multiply swaps, max routes)."""
    constant: bool = False
    """Whether it carries a constant c (×c, +c, the power n)."""
    kink: bool = False
    """Whether its local gradient jumps where the verification's finite differences would straddle it."""


def _call(activation: Activation) -> Forward:
    return lambda args, c: Apply(activation, args[0])


def _through(activation: Activation) -> Local:
    """The activation's own derivative, written through its output where the catalogue does (σ' = q(1 − q))."""
    return lambda args, out, c, i: activation.derivative(args[0], out)


def _number(c: Constant) -> sp.Rational:
    if c is None:
        raise ValueError("this gate needs a constant")
    return c


def _extreme(bigger: bool) -> Local:
    """max (min) routes: the local gradient is 1 for the larger (smaller) input, 0 for the other.
    Ties are refused before a derivation (their gradient is not defined)."""

    def local(args: tuple[Node, ...], out: Node, c: Constant, i: int) -> Node:
        mine, other = args[i].approx(), args[1 - i].approx()
        return Num(sp.Integer(int(mine > other if bigger else mine < other)))

    return local


def _float_extreme(bigger: bool) -> FloatLocal:
    return lambda xs, out, c, i: float(xs[i] > xs[1 - i] if bigger else xs[i] < xs[1 - i])


def _power_local(args: tuple[Node, ...], out: Node, c: Constant, i: int) -> Node:
    n = _number(c)
    return Product((Num(n), args[0] if n == 2 else Power(args[0], int(n - 1))))


GATES: Mapping[str, Gate] = {
    gate.name: gate
    for gate in (
        Gate(
            "add",
            2,
            lambda args, c: Sum(args),
            lambda args, out, c, i: Num(ONE),
            lambda xs, c: xs[0] + xs[1],
            lambda xs, out, c, i: 1.0,
            "+",
            flow="distributes",
        ),
        Gate(
            "multiply",
            2,
            lambda args, c: Product(args),
            lambda args, out, c, i: args[1 - i],
            lambda xs, c: xs[0] * xs[1],
            lambda xs, out, c, i: xs[1 - i],
            r"\times",
            flow="swaps",
        ),
        Gate(
            "max",
            2,
            lambda args, c: Rule(r"\max\left(#1, #2\right)", sp.Max, args),
            _extreme(True),
            lambda xs, c: max(xs[0], xs[1]),
            _float_extreme(True),
            r"\max",
            flow="routes",
        ),
        Gate(
            "min",
            2,
            lambda args, c: Rule(r"\min\left(#1, #2\right)", sp.Min, args),
            _extreme(False),
            lambda xs, c: min(xs[0], xs[1]),
            _float_extreme(False),
            r"\min",
            flow="routes",
        ),
        Gate(
            "negate",
            1,
            lambda args, c: Negate(args[0]),
            lambda args, out, c, i: Num(-ONE),
            lambda xs, c: -xs[0],
            lambda xs, out, c, i: -1.0,
            r"\times(-1)",
        ),
        Gate(
            "exp",
            1,
            _call(EXP),
            lambda args, out, c, i: Apply(EXP, args[0]),
            lambda xs, c: math.exp(xs[0]),
            lambda xs, out, c, i: math.exp(xs[0]),
            r"\exp",
        ),
        Gate(
            "log",
            1,
            lambda args, c: Log(args[0]),
            lambda args, out, c, i: Quotient(Num(ONE), args[0]),
            lambda xs, c: math.log(xs[0]) if xs[0] > 0 else math.nan,
            lambda xs, out, c, i: 1.0 / xs[0],
            r"\log",
        ),
        Gate(
            "reciprocal",
            1,
            lambda args, c: Quotient(Num(ONE), args[0]),
            lambda args, out, c, i: Negate(Quotient(Num(ONE), Power(args[0], 2))),
            lambda xs, c: 1.0 / xs[0] if xs[0] else math.nan,
            lambda xs, out, c, i: -1.0 / (xs[0] * xs[0]),
            r"1/x",
        ),
        Gate(
            "scale",
            1,
            lambda args, c: Product((Num(_number(c)), args[0])),
            lambda args, out, c, i: Num(_number(c)),
            lambda xs, c: c * xs[0],
            lambda xs, out, c, i: c,
            r"\times #",
            constant=True,
        ),
        Gate(
            "shift",
            1,
            lambda args, c: Sum((args[0], Num(_number(c)))),
            lambda args, out, c, i: Num(ONE),
            lambda xs, c: xs[0] + c,
            lambda xs, out, c, i: 1.0,
            r"+ #",
            constant=True,
        ),
        Gate(
            "power",
            1,
            lambda args, c: Power(args[0], int(_number(c))),
            _power_local,
            lambda xs, c: xs[0] ** c,
            lambda xs, out, c, i: c * xs[0] ** (c - 1),
            r"(\cdot)^{#}",
            constant=True,
        ),
        Gate(
            "sigmoid",
            1,
            _call(SIGMOID),
            _through(SIGMOID),
            lambda xs, c: float(sigmoid_float(np.array(xs[0]))),
            lambda xs, out, c, i: out * (1.0 - out),
            r"\sigma",
        ),
        Gate(
            "tanh",
            1,
            _call(TANH),
            _through(TANH),
            lambda xs, c: math.tanh(xs[0]),
            lambda xs, out, c, i: 1.0 - out * out,
            r"\tanh",
        ),
        Gate(
            "relu",
            1,
            _call(RELU),
            _through(RELU),
            lambda xs, c: max(xs[0], 0.0),
            lambda xs, out, c, i: 1.0 if xs[0] > 0 else 0.0,
            r"\mathrm{ReLU}",
            kink=True,
        ),
    )
}
"""Every gate by name: add, multiply, max, min, negate, exp, log, 1/x, ×c, +c, power, σ, tanh, ReLU."""
