"""Formulas a spec gives as text: parsed safely for the exact rule, and lambdified for the float rule.

The parser is a whitelist walk over Python's syntax tree, never eval: ``"z**3/3 + 0.1*z"`` becomes
a SymPy expression built node by node from the tree; only numbers, the allowed variable names,
+ − × ÷ and powers (``**`` or ``^``), and the maths functions in :data:`FUNCTIONS` are
accepted. Numbers are read exactly ("0.1" is 1/10).

A formula is bounded when it is parsed (its length, depth, the exponents it writes and the numbers
it works out: ``9^9^9`` is refused, not computed) and when it is evaluated at a point
(:mod:`derive.catalog.evaluation`), so a spec's formula can neither hang a build nor turn into a
traceback.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping

import mpmath
import numpy as np
import sympy as sp

from derive.catalog.evaluation import evaluate, short
from derive.terms.formula import Undefined
from derive.terms.numbers import NumberError, parse_exact

MAX_LENGTH = 200
"""Longest formula (characters)."""
MAX_DEPTH = 30
"""Deepest nesting of operations and calls in a formula."""
MAX_NESTED = 4
"""Most functions, and powers with a variable in the exponent, nested inside each other (in the
formula as SymPy writes it: sigmoid(z) is 1/(1 + e^{-z}), one level). SymPy's sign decisions, in
printing and simplifying, triple in cost with each level: 4 levels of sigmoid take 0.7 s, 6 take 14 s."""
MAX_POWER = 100
"""Largest exponent a formula writes as a number (z^4, (yhat - y)^2); 9^9^9 would have 370 million digits."""
MAX_WORKED_DIGITS = 60
"""Most digits above or below the fraction bar of a number a formula works out from its constants."""


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
    expr = _Builder(text.strip().replace("^", "**"), variables).build(tree.body, 0)
    for power in expr.atoms(sp.Pow):  # SymPy joins powers ((z^10)^10 is z^100): the bound holds after
        _exponent(power.exp)
    if (levels := _levels(expr)) > MAX_NESTED:
        raise FormulaError(
            f"functions (or powers with a variable exponent) nested {levels} deep; at most {MAX_NESTED}: "
            "deriving and printing them would take minutes"
        )
    return expr


def differentiate(expr: sp.Expr, symbol: sp.Symbol) -> sp.Expr:
    """d expr / d symbol, refused when it is undefined wherever it is written (0^z: log 0)."""
    slope = sp.diff(expr, symbol)
    if slope.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I):
        raise FormulaError(f"its derivative {short(slope)} is undefined")
    return slope


def _levels(expr: sp.Basic) -> int:
    """How deep functions and powers with a variable exponent (z^z, 2^z) are nested in ``expr``."""
    memo: dict[sp.Basic, int] = {}

    def depth(node: sp.Basic) -> int:
        if node not in memo:
            inner = max((depth(a) for a in node.args), default=0)
            level = isinstance(node, sp.Function) or (node.is_Pow and bool(node.exp.free_symbols))
            memo[node] = inner + int(level)
        return memo[node]

    return depth(expr)


def _exponent(exponent: sp.Expr) -> None:
    if exponent.is_Number and abs(exponent) > MAX_POWER:
        raise FormulaError(f"an exponent beyond ±{MAX_POWER} ({short(exponent)}): a hand exercise needs small powers")


class _Builder:
    def __init__(self, text: str, variables: Mapping[str, sp.Symbol]) -> None:
        self.text = text
        self.variables = variables

    def allowed(self) -> str:
        return ", ".join([*self.variables, *CONSTANTS])

    def build(self, node: ast.expr, depth: int) -> sp.Expr:
        """The SymPy expression of ``node``; a part without variables is checked to be a real number
        of bounded size as soon as it is built (``log(0)``, ``sqrt(-1)``, ``9^99``)."""
        value = self.expression(node, depth)
        if value.free_symbols:
            return value
        shown = ast.get_source_segment(self.text, node) or str(value)
        if value.is_Rational:
            if max(abs(value.p), value.q) >= 10**MAX_WORKED_DIGITS:  # type: ignore[attr-defined]
                raise FormulaError(f"{shown!r} works out to a number of more than {MAX_WORKED_DIGITS} digits")
            return value
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise FormulaError(f"{shown!r} is undefined")
        if value.has(sp.I):
            raise FormulaError(f"{shown!r} has no real value")
        try:
            evaluate(value, {})
        except Undefined as error:
            raise FormulaError(f"{shown!r}: {error}") from None
        return value

    def expression(self, node: ast.expr, depth: int) -> sp.Expr:
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
            if isinstance(node.op, ast.Pow):
                _exponent(right)  # before the power is computed: 9^(9^9) would not end
                if left.is_Rational and right.is_Rational and left != 0:
                    # Its size before it is computed: (10^59)^99 would have 5841 digits.
                    size = abs(right) * max(abs(left.p), left.q).bit_length()  # type: ignore[attr-defined]
                    if size > MAX_WORKED_DIGITS * math.log2(10) + 4:
                        shown = ast.get_source_segment(self.text, node) or "a power"
                        raise FormulaError(f"{shown!r} works out to a number of more than {MAX_WORKED_DIGITS} digits")
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
    slope = differentiate(expr, args[0])
    return (
        _robust(sp.lambdify(args, expr, "numpy"), _wide(expr, args)),
        _robust(sp.lambdify(args, slope, "numpy"), _wide(slope, args)),
    )


def _wide(expr: sp.Expr, args: list[sp.Symbol]) -> Callable[..., object]:
    """``expr`` in mpmath numbers, bounded (:func:`evaluate`), where NumPy overflows: a value beyond
    float64 is returned as it is (it rounds to ±inf), not refused."""
    return lambda *xs: evaluate(expr, dict(zip(args, xs, strict=True)), largest=None)


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
                except (TypeError, ValueError, ArithmeticError):  # complex, undefined or too large there too
                    out[index] = math.nan
        return out

    return call
