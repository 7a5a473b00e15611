"""The float engine's own reading of givens typed as closed forms ("sqrt(2)/2", "1 + sin(pi/3)"):
the typed text walked in math-module floats, never SymPy's value of it.

The exact engine reads the text with SymPy (:mod:`derive.exercise.closed`); this module reads the
same text again, so a misreading on either side shows up as a mismatch at the gate.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sympy as sp


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


FUNCTIONS: Mapping[str, Callable[[float], float]] = {
    "exp": math.exp,
    "log": math.log,
    "ln": math.log,
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "atan": math.atan,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "softplus": lambda x: math.log1p(math.exp(-abs(x))) + max(x, 0.0),
}
"""The functions a closed form may call, as the catalogue's formulas (:mod:`derive.catalog.parsing`) do."""
CONSTANTS: Mapping[str, float] = {"e": math.e, "E": math.e, "pi": math.pi}
"""The constants; ``E`` is SymPy's spelling, met when a model built in Python gives a SymPy value."""

_FORMS: ContextVar[Mapping[Any, str] | None] = ContextVar("closed_forms", default=None)


@contextmanager
def typed_forms(forms: tuple[tuple[sp.Expr, str], ...]) -> Iterator[None]:
    """Within the block, :func:`given_float` reads each of ``forms`` (value, text) from its text."""
    token = _FORMS.set(dict(forms))
    try:
        yield
    finally:
        _FORMS.reset(token)


def given_float(value: Any) -> float:
    """A given number as a float: a rational as p/q; a closed form from the text it was typed as,
    or (a model built in Python, with no text) from SymPy's written form of it, walked here in floats."""
    if isinstance(value, int | sp.Rational):
        r = sp.Rational(value)
        return int(r.p) / int(r.q)
    text = (_FORMS.get() or {}).get(value)
    return closed_float(text if text is not None else sp.sstr(value))


def closed_float(text: str) -> float:
    """``text`` ("1 + sin(pi/3)", "2*sqrt(3)", "e^-1") evaluated in floats; the reader has checked it."""
    tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    return _walk(tree.body)


def _walk(node: ast.expr) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        return CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _walk(node.operand)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = _walk(node.left), _walk(node.right)
        operations: dict[type, Callable[[float, float], float]] = {
            ast.Add: lambda a, b: a + b,
            ast.Sub: lambda a, b: a - b,
            ast.Mult: lambda a, b: a * b,
            ast.Div: lambda a, b: a / b,
            ast.Pow: math.pow,
        }
        return operations[type(node.op)](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
        return FUNCTIONS[node.func.id](_walk(node.args[0]))
    raise ValueError(f"not a closed form: {ast.unparse(node)}")  # the reader refused it first
