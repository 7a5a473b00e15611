"""A formula evaluated at a point in bounded arithmetic: no function of an argument beyond 10^100, no
value beyond 10^300, real values only (a spec's formula can neither hang a build nor overflow)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

import mpmath
import sympy as sp

from derive.terms.formula import TooLarge, Undefined

MAX_ARGUMENT = 10**100
"""Largest argument (in size) of a function evaluated at a point: e^x of a larger x has an exponent
of more than 100 digits, and e^{e^{e^{20}}} would never finish."""
EXACT_ARGUMENT = 10**4
"""Largest argument of e^x (or x of b^x, in e^{x log b}) kept as an exact closed form: SymPy writes
e^{k log 2} as 2^k and computes it; a larger one stands for its value by a symbol (TooLarge)."""
LARGEST_VALUE = 10**300
"""Largest value (in size) of a formula at a point: float64 checks every value, and ends at 1.8e308."""


def short(value: sp.Expr) -> str:
    text = str(value)
    return text if len(text) <= 30 else f"{text[:20]}… ({len(text)} characters)"


def at_point(expr: sp.Expr, variables: Mapping[str, sp.Symbol], text: str, field: str) -> Callable[..., sp.Expr]:
    """``expr`` (the formula ``text``, or its derivative) as a rule on SymPy numbers: on decimals it
    is evaluated by :func:`evaluate` at their precision, on exact values it is substituted; either
    way a value that is not real, or too large, is an :class:`Undefined` naming the formula, its
    ``field`` and the point (the caller adds the quantity and its part)."""
    symbols = tuple(variables.values())
    where = f"the formula {text!r}" + (f" ({field})" if field else "")

    def point(values: tuple[sp.Expr, ...]) -> str:
        shown = (mpmath.nstr(mpmath.mpf(v), 6) if v.is_Float else short(v) for v in values)
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
            raise Undefined(f"{where} at {point(values)}: {short(exact)} is not a real number")
        return exact

    return rule


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
