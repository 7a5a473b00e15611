"""The exact engine's formula trees compiled once into a float64 function: the later steps of a long run.

A step of a run is the same formula trees every time (the forward pass, backpropagation, the
optimizer's stages); only the numbers change. Evaluating them as quantities (SymPy and 40-digit
decimals) would take minutes for 10 000 steps, so the trees of one step are translated once, line
by line, into straight-line Python over floats (SymPy's ``lambdify``), each quantity one line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from derive.terms.formula import (
    Apply,
    Difference,
    Log,
    Negate,
    Node,
    Num,
    Power,
    Product,
    Quantity,
    Quotient,
    Ref,
    Rule,
    Slope,
    Sqrt,
    Sum,
)

STEP = sp.Symbol("t_step")
"""The step counter t, where a formula uses it (Adam's 1 − β₁ᵗ): an argument of the compiled step."""


def _exp(x: float) -> float:
    # A saturated sigmoid's e^{-z}: float64's infinity rather than an error, so 1/(1 + e^{-z}) is 0.
    return math.exp(x) if x < 709.0 else math.inf


def _log(x: float) -> float:
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else math.nan


SAFE = {"exp": _exp, "log": _log, "sqrt": _sqrt}


@dataclass(frozen=True, eq=False)
class Slot(Node):
    """A line of the program already written, used in a later formula (an optimizer's earlier stage)."""

    symbol: sp.Symbol


class Program:
    """The lines of one step: each quantity (and each extra formula) once, in the order computed."""

    def __init__(self) -> None:
        self.names: dict[int, sp.Symbol] = {}
        """Per quantity (by identity), its name in the program."""
        self.inputs: list[sp.Symbol] = []
        self.constants: list[tuple[sp.Symbol, float]] = []
        self.lines: list[tuple[sp.Symbol, sp.Expr]] = []
        self.functions: dict[str, Callable[..., float]] = {}
        self.rules: dict[int, sp.Function] = {}
        self.count = 0

    def _fresh(self, prefix: str) -> sp.Symbol:
        self.count += 1
        return sp.Symbol(f"{prefix}{self.count}")

    def input(self, q: Quantity | None = None) -> sp.Symbol:
        """An argument of the step (a parameter, an optimizer state), standing for ``q`` where given."""
        symbol = self._fresh("x")
        self.inputs.append(symbol)
        if q is not None:
            self.names[id(q)] = symbol
        return symbol

    def quantity(self, root: Quantity) -> sp.Symbol:
        """The name of ``root``'s line, written (with every line it needs first) if not yet."""
        pending = [(root, False)]
        while pending:  # depth first without recursion: a deep network chains hundreds of quantities
            q, expanded = pending.pop()
            if id(q) in self.names:
                continue
            if q.formula is None:
                # A given (x, y, α, β): a constant of the program, its carried decimal.
                symbol = self._fresh("c")
                self.constants.append((symbol, float(q.approx)))
                self.names[id(q)] = symbol
            elif expanded:
                symbol = self._fresh("v")
                self.lines.append((symbol, self.expression(q.formula)))
                self.names[id(q)] = symbol
            else:
                pending.append((q, True))
                pending.extend((used, False) for used in q.formula.refs() if id(used) not in self.names)
        return self.names[id(root)]

    def define(self, formula: Node) -> sp.Symbol:
        """A line for a formula of no quantity (an optimizer's stage, built with :class:`Slot` and
        the symbol :data:`STEP` for t); every quantity it uses is written first."""
        for used in formula.refs():
            self.quantity(used)
        symbol = self._fresh("s")
        self.lines.append((symbol, self.expression(formula)))
        return symbol

    def expression(self, node: Node) -> sp.Expr:
        """One formula as a SymPy expression over the names of the lines before it."""
        if isinstance(node, Ref):
            return self.names[id(node.q)]
        if isinstance(node, Slot):
            return node.symbol
        if isinstance(node, Num):
            return node.value
        if isinstance(node, Sum):
            return sp.Add(*(self.expression(t) for t in node.terms))
        if isinstance(node, Product):
            return sp.Mul(*(self.expression(f) for f in node.factors))
        if isinstance(node, Difference):
            return self.expression(node.left) - self.expression(node.right)
        if isinstance(node, Quotient):
            return self.expression(node.num) / self.expression(node.den)
        if isinstance(node, Negate):
            return -self.expression(node.arg)
        if isinstance(node, Power):
            return sp.Pow(self.expression(node.base), node.exponent)
        if isinstance(node, Log):
            return sp.log(self.expression(node.arg))
        if isinstance(node, Sqrt):
            return sp.sqrt(self.expression(node.arg))
        if isinstance(node, Apply):
            return self.call(node.function.rule, (node.arg,))
        if isinstance(node, Slope):
            return self.call(node.rule, (node.arg,))
        if isinstance(node, Rule):
            return self.call(node.rule, node.args)
        raise TypeError(f"{type(node).__name__} is a display-only node and has no value")

    def call(self, rule: Callable[..., sp.Expr], args: Sequence[Node]) -> sp.Expr:
        """A catalogue or user rule (σ, ReLU', a custom loss) as a function of its own, compiled once
        from the rule's exact expression."""
        function = self.rules.get(id(rule))
        if function is None:
            name = f"f{len(self.rules)}"
            self.functions[name] = _compiled_rule(rule, len(args))
            function = sp.Function(name)
            self.rules[id(rule)] = function
        return function(*(self.expression(a) for a in args))  # type: ignore[no-any-return]

    def compile(self, outputs: Sequence[sp.Symbol]) -> Callable[..., list[float]]:
        """The step as a function of the inputs (in the order declared) and t, returning ``outputs``."""
        constants = [symbol for symbol, _ in self.constants]
        values = [value for _, value in self.constants]
        lines = self.lines

        def straight(exprs: Any) -> tuple[list[tuple[sp.Symbol, sp.Expr]], Any]:
            return lines, exprs  # the lines are already in order, each computed once

        function = sp.lambdify(
            [*self.inputs, *constants, STEP], list(outputs), modules=[self.functions, SAFE, "math"], cse=straight
        )

        def step(*inputs: float, t: int) -> list[float]:
            return function(*inputs, *values, t)  # type: ignore[no-any-return]

        return step


def _compiled_rule(rule: Callable[..., sp.Expr], arity: int) -> Callable[..., float]:
    """``rule`` over floats: its expression at symbols, compiled; where the rule needs numbers (a user's
    formula checks its domain), the rule itself on each float."""
    symbols = sp.symbols(f"u0:{arity}", real=True)
    try:
        expr = rule(*symbols)
        if not isinstance(expr, sp.Expr) or not expr.free_symbols <= set(symbols):
            raise TypeError("not a formula in its arguments")
        return sp.lambdify(symbols, expr, modules=[SAFE, "math"])  # type: ignore[no-any-return]
    except Exception:
        # Any rule that cannot take symbols (a user's formula checking its domain) is evaluated point by point.
        return lambda *values: float(rule(*(sp.Float(v) for v in values)))
