"""A closed form's value, its SymPy tree walked in 45-digit decimals: the gate's check that an exact
form and its carried decimal agree, at a fifth of what ``evalf`` costs.

The carried decimal comes from the formula tree; this walks the closed form SymPy made of it (after
its automatic evaluation and :func:`derive.terms.simplest.simplest`), so a wrong form shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sympy as sp

from derive.terms.formula import MP, Approx, approximate

LARGEST = MP.mpf(10) ** 25
"""Largest intermediate value trusted: past it, 45 digits may keep fewer than the 20 that a 1e-9
comparison needs after cancellation (a sum of terms this large with a small result)."""


class Unwalked(Exception):
    """A node this walk does not evaluate (a function beyond exp and log, a complex power)."""


FUNCTIONS: Mapping[type[sp.Basic], Callable[[Approx], Approx]] = {sp.exp: MP.exp, sp.log: MP.log}


def walked(value: sp.Expr) -> float | None:
    """``value`` as a float through 45-digit decimals, or None where the walk cannot vouch for it
    (another function, a complex or undefined step, intermediates too large): ``evalf`` decides then."""
    try:
        result = _walk(value)
    except (Unwalked, ZeroDivisionError, ValueError):
        return None
    return float(result)


def _walk(node: sp.Basic) -> Approx:
    if node.is_Rational:
        return approximate(node)
    if node is sp.E:
        return MP.e
    if node is sp.pi:
        return MP.pi
    if node.is_Add:
        value = MP.fsum([_walk(arg) for arg in node.args])
    elif node.is_Mul:
        value = MP.fprod([_walk(arg) for arg in node.args])
    elif node.is_Pow:
        base, exponent = _walk(node.base), node.exp  # type: ignore[attr-defined]
        if exponent.is_Integer:
            value = base ** int(exponent)
        elif base > 0:
            value = base ** _walk(exponent)
        else:
            raise Unwalked("a power of a non-positive base")
    elif type(node) in FUNCTIONS and len(node.args) == 1:
        argument = _walk(node.args[0])
        if isinstance(node, sp.log) and not argument > 0:
            raise Unwalked("log of a non-positive number")
        value = FUNCTIONS[type(node)](argument)
    else:
        raise Unwalked(type(node).__name__)
    if not MP.isfinite(value) or abs(value) > LARGEST:
        raise Unwalked("too large to trust")
    return value
