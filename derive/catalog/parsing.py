"""Formulas a spec gives as text: parsed safely for the exact rule, and lambdified for the float rule.

The parser is a whitelist walk over Python's syntax tree, never eval: ``"z**3/3 + 0.1*z"`` becomes
a SymPy expression built node by node from the tree; only numbers, the allowed variable names,
+ − × ÷ and powers (``**`` or ``^``), and the maths functions in :data:`FUNCTIONS` are
accepted. Numbers are read exactly ("0.1" is 1/10).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping

import mpmath
import numpy as np
import sympy as sp

from derive.terms.numbers import NumberError, parse_exact

MAX_LENGTH = 200
MAX_DEPTH = 30


def _sigmoid(x: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-x))


def _softplus(x: sp.Expr) -> sp.Expr:
    return sp.log(1 + sp.exp(x))


FUNCTIONS: Mapping[str, Callable[[sp.Expr], sp.Expr]] = {
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "atan": sp.atan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
}
"""Smooth functions only: finite differences check every derivative, and a kink would defeat them."""

CONSTANTS: Mapping[str, sp.Expr] = {"e": sp.E, "pi": sp.pi}

_BINARY: Mapping[type, Callable[[sp.Expr, sp.Expr], sp.Expr]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


class FormulaError(ValueError):
    """A formula that is not allowed or not well formed; the message says what and where."""


def parse_formula(text: str, variables: Mapping[str, sp.Symbol]) -> sp.Expr:
    """``text`` as a SymPy expression in ``variables``; raises :class:`FormulaError` on anything else."""
    if not text.strip():
        raise FormulaError("the formula is empty")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is longer than {MAX_LENGTH} characters")
    try:
        # "^" as most people write a power; Python would read it as xor, with the wrong precedence.
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as error:
        raise FormulaError(f"not a formula: {error.msg} at column {error.offset}") from None
    return _Builder(text.strip().replace("^", "**"), variables).build(tree.body, 0)


class _Builder:
    def __init__(self, text: str, variables: Mapping[str, sp.Symbol]) -> None:
        self.text = text
        self.variables = variables

    def allowed(self) -> str:
        return ", ".join([*self.variables, *CONSTANTS])

    def build(self, node: ast.expr, depth: int) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise FormulaError(f"the formula is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise FormulaError(f"only numbers may appear as constants, found {node.value!r}")
            source = ast.get_source_segment(self.text, node) or repr(node.value)
            try:
                return parse_exact(source)
            except NumberError as error:
                raise FormulaError(str(error)) from None
        if isinstance(node, ast.Name):
            if node.id in self.variables:
                return self.variables[node.id]
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            raise FormulaError(f"unknown name {node.id!r}; allowed: {self.allowed()}")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self.build(node.left, depth + 1), self.build(node.right, depth + 1)
            if isinstance(node.op, ast.Div) and right == 0:
                raise FormulaError("division by zero in the formula")
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.build(node.operand, depth + 1)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name is None or name not in FUNCTIONS:
                shown = name or ast.get_source_segment(self.text, node.func) or "?"
                raise FormulaError(f"unknown function {shown!r}; allowed: {', '.join(FUNCTIONS)}")
            if node.keywords or len(node.args) != 1:
                raise FormulaError(f"{name}() takes exactly one argument")
            return FUNCTIONS[name](self.build(node.args[0], depth + 1))
        shown = ast.get_source_segment(self.text, node) or type(node).__name__
        raise FormulaError(
            f"not allowed in a formula: {shown!r} (only numbers, {self.allowed()}, + - * / ** and functions)"
        )


def float_rules(formula: str, *names: str) -> tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]:
    """A user formula and its derivative in the first variable, as NumPy functions (the float rule).

    The formula is parsed on its own here, and differentiated by SymPy; the finite differences of
    the gate are what check that derivative independently.
    """
    symbols = {name: sp.Symbol(f"v{i}", real=True) for i, name in enumerate(names)}
    expr = parse_formula(formula, symbols)
    args = list(symbols.values())
    slope = sp.diff(expr, args[0])
    return (
        _robust(sp.lambdify(args, expr, "numpy"), sp.lambdify(args, expr, "mpmath")),
        _robust(sp.lambdify(args, slope, "numpy"), sp.lambdify(args, slope, "mpmath")),
    )


def _robust(fast: Callable[..., object], wide: Callable[..., object]) -> Callable[..., np.ndarray]:
    """A lambdified formula on arrays; an entry that NumPy could not finish (an overflow inside,
    as e^{-z}/(1 + e^{-z})^2 at z = -10^45) is evaluated again by mpmath, whose exponents do not
    overflow, and rounded to float64 (infinite only if the value itself is)."""

    def call(*xs: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):  # what overflows is recomputed below
            out = np.broadcast_to(np.asarray(fast(*xs), dtype=float), np.shape(xs[0])).copy()
        bad = ~np.isfinite(out)
        if bad.any():
            inputs = [np.broadcast_to(np.asarray(x, dtype=float), out.shape) for x in xs]
            for index in zip(*np.nonzero(bad), strict=True):
                try:
                    out[index] = float(wide(*(mpmath.mpf(float(x[index])) for x in inputs)))  # type: ignore[arg-type]
                except (TypeError, ValueError, ZeroDivisionError):  # complex, or undefined there too
                    out[index] = math.nan
        return out

    return call
