"""Formulas a spec gives as text: parsed safely for the exact rule, and lambdified for the float rule.

The parser is a whitelist walk over Python's syntax tree, never eval: ``"z**3/3 + 0.1*z"`` becomes
a SymPy expression built node by node from the tree; only numbers, the allowed variable names,
+ − × ÷ and powers (``**`` or ``^``), and the maths functions in :data:`FUNCTIONS` are
accepted. Numbers are read exactly ("0.1" is 1/10).

A formula is bounded when it is parsed (its length, depth, the exponents it writes and the numbers
it works out: ``9^9^9`` is refused, not computed) and when it is evaluated at a point
(:func:`evaluate`: no function of an argument beyond 10^100, no value beyond 10^300, real values
only), so a spec's formula can neither hang a build nor turn into a traceback.
"""

from __future__ import annotations

import ast
import math
import threading
from collections.abc import Callable, Mapping

import mpmath
import numpy as np
import sympy as sp

from derive.terms.formula import TooLarge, Undefined
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
MAX_ARGUMENT = 10**100
"""Largest argument (in size) of a function evaluated at a point: e^x of a larger x has an exponent
of more than 100 digits, and e^{e^{e^{20}}} would never finish."""
EXACT_ARGUMENT = 10**4
"""Largest argument of e^x (or x of b^x, in e^{x log b}) kept as an exact closed form: SymPy writes
e^{k log 2} as 2^k and computes it; a larger one stands for its value by a symbol (TooLarge)."""
LARGEST_VALUE = 10**300
"""Largest value (in size) of a formula at a point: float64 checks every value, and ends at 1.8e308."""


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
        raise FormulaError(f"its derivative {_short(slope)} is undefined")
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
        raise FormulaError(f"an exponent beyond ±{MAX_POWER} ({_short(exponent)}): a hand exercise needs small powers")


def _short(value: sp.Expr) -> str:
    text = str(value)
    return text if len(text) <= 30 else f"{text[:20]}… ({len(text)} characters)"


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


def at_point(expr: sp.Expr, variables: Mapping[str, sp.Symbol], text: str, field: str) -> Callable[..., sp.Expr]:
    """``expr`` (the formula ``text``, or its derivative) as a rule on SymPy numbers: on decimals it
    is evaluated by :func:`evaluate` at their precision, on exact values it is substituted; either
    way a value that is not real, or too large, is an :class:`Undefined` naming the formula, its
    ``field`` and the point (the caller adds the quantity and its part)."""
    symbols = tuple(variables.values())
    where = f"the formula {text!r}" + (f" ({field})" if field else "")

    def point(values: tuple[sp.Expr, ...]) -> str:
        shown = (mpmath.nstr(mpmath.mpf(v), 6) if v.is_Float else _short(v) for v in values)
        return ", ".join(f"{name} = {value}" for name, value in zip(variables, shown, strict=True))

    def rule(*values: sp.Expr) -> sp.Expr:
        if all(v.is_Float for v in values):
            prec = max(v._prec for v in values)  # type: ignore[attr-defined]
            try:
                result = evaluate(expr, dict(zip(symbols, values, strict=True)), prec)
            except Undefined as error:
                raise Undefined(f"{where} at {point(values)}: {error}") from None
            return sp.Float._new(result._mpf_, prec)  # type: ignore[attr-defined,no-any-return]
        try:  # SymPy would work e^{k log 2} out as 2^k: with k = 10^30 it never ends
            numbers = {s: evaluate(v, {}, largest=None) for s, v in zip(symbols, values, strict=True)}
            evaluate(expr, numbers, largest=None, argument=EXACT_ARGUMENT)
        except Undefined:
            pass  # decided on the decimals (which come first), or a value standing by a symbol
        exact = expr.xreplace(dict(zip(symbols, values, strict=True)))
        if exact.has(sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise Undefined(f"{where} at {point(values)}: {_short(exact)} is not a real number")
        return exact

    return rule


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


class _Contexts(threading.local):
    """An mpmath context per thread and precision: making one costs 0.7 ms, and a shared one's
    precision would change under another thread."""

    def __init__(self) -> None:
        self.made: dict[int, mpmath.ctx_mp.MPContext] = {}

    def at(self, prec: int) -> mpmath.ctx_mp.MPContext:
        if prec not in self.made:
            self.made[prec] = mpmath.MPContext()
            self.made[prec].prec = prec
        return self.made[prec]


_CONTEXTS = _Contexts()

_MPMATH: Mapping[type[sp.Basic], tuple[str, bool]] = {
    sp.exp: ("exp", True),
    sp.log: ("log", False),
    sp.sin: ("sin", True),
    sp.cos: ("cos", True),
    sp.tan: ("tan", True),
    sp.atan: ("atan", False),
    sp.sinh: ("sinh", True),
    sp.cosh: ("cosh", True),
    sp.tanh: ("tanh", True),
}
"""The functions a parsed formula (or its derivative) calls, by their mpmath names, and whether
their argument is bounded by :data:`MAX_ARGUMENT` (e^x and sin x of a huge x cost without end)."""


def evaluate(
    expr: sp.Expr,
    values: Mapping[sp.Symbol, object],
    prec: int = 53,
    largest: int | None = LARGEST_VALUE,
    argument: int | None = None,
) -> mpmath.mpf:
    """``expr`` at ``values`` (numbers for its symbols) in ``prec``-bit binary floating point, or
    :class:`Undefined` saying which piece has no real value (log of −99, sqrt of −1, 1/0), or is
    too large to evaluate (a function's argument beyond :data:`MAX_ARGUMENT`, a value beyond
    ``largest``). With ``argument``, an exponential or power whose argument passes it raises
    :class:`~derive.terms.formula.TooLarge` instead (the exact closed form would cost too much)."""
    ctx = _CONTEXTS.at(prec)
    memo: dict[sp.Basic, mpmath.mpf] = {}

    def real(x: object, what: str) -> mpmath.mpf:
        if not isinstance(x, ctx.mpf) or ctx.isnan(x):
            raise Undefined(f"{what} has no real value")
        if ctx.isinf(x):
            raise Undefined(f"{what} is undefined (infinite)")
        return x

    def walk(node: sp.Basic) -> mpmath.mpf:
        if node in memo:
            return memo[node]
        if node in values:
            result = real(ctx.mpf(values[node]), str(node))  # type: ignore[call-overload]
        elif node.is_Rational:
            result = ctx.mpf(int(node.p)) / int(node.q)  # type: ignore[attr-defined]
        elif node.is_Float:
            result = ctx.mpf(node._mpf_)  # type: ignore[attr-defined]
        elif node is sp.E:
            result = +ctx.e
        elif node is sp.pi:
            result = +ctx.pi
        elif node.is_Add:
            result = ctx.fsum(walk(a) for a in node.args)
        elif node.is_Mul:
            result = ctx.fprod(walk(a) for a in node.args)
        elif node.is_Pow:
            result = power(walk(node.args[0]), node.args[1])
        elif isinstance(node, sp.Abs):
            result = abs(walk(node.args[0]))
        elif isinstance(node, sp.sign):
            result = ctx.sign(walk(node.args[0]))
        elif type(node) in _MPMATH:
            name, bounded = _MPMATH[type(node)]
            x = walk(node.args[0])
            if argument is not None and bounded and abs(x) > argument:
                raise TooLarge
            if bounded and abs(x) > MAX_ARGUMENT:
                raise Undefined(f"{name}({ctx.nstr(x, 3)}) is too large to evaluate (an argument beyond ±10^100)")
            if name == "log" and x <= 0:
                raise Undefined(f"log({ctx.nstr(x, 6)}) " + ("is undefined" if x == 0 else "has no real value"))
            result = real(getattr(ctx, name)(x), f"{name}({ctx.nstr(x, 6)})")
        elif node.is_zero is False and node.is_extended_real is False:
            raise Undefined(f"{node} has no real value")
        else:  # zoo, nan, oo: what SymPy makes of log(0) or 0^-1
            raise Undefined(f"{node} is undefined")
        memo[node] = result
        return result

    def power(base: mpmath.mpf, exponent: sp.Expr) -> mpmath.mpf:
        if exponent.is_Integer:  # z^n: exact repeated products, whatever the base's size
            if base == 0 and exponent < 0:
                raise Undefined(f"0^{exponent} is undefined (a division by zero)")
            return base ** int(exponent)  # type: ignore[no-any-return]
        y = walk(exponent)
        shown = f"({ctx.nstr(base, 6)})^({ctx.nstr(y, 6)})"
        if base < 0:
            if not ctx.isint(y):
                raise Undefined(f"{shown} has no real value")
            # (−b)^n = ±b^n; an n beyond 2^prec is even (its last bits are zeros), and never made an int.
            odd = abs(y) < 2**prec and int(y) % 2 == 1
            magnitude = power(-base, sp.Float._new(y._mpf_, prec))  # type: ignore[attr-defined]
            return -magnitude if odd else magnitude
        if base == 0:
            if y > 0:
                return ctx.zero
            raise Undefined(f"{shown} is undefined")
        scale = y * ctx.log(base)
        if argument is not None and abs(scale) > argument:
            raise TooLarge
        if abs(scale) > MAX_ARGUMENT:
            raise Undefined(f"{shown} is too large to evaluate")
        return ctx.exp(scale)  # type: ignore[no-any-return]

    try:
        value = walk(expr)
    except OverflowError:  # an exponent beyond what mpmath represents
        raise Undefined("a power is too large to evaluate") from None
    if largest is not None and abs(value) > largest:
        raise Undefined(f"its value, about {ctx.nstr(value, 3)}, is beyond ±10^300, where float64 cannot check it")
    return value
