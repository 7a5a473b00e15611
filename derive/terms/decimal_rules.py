"""A catalogue function's exact rule compiled once onto the carried decimals (the formula trees' mpmath).

Every activation value is also carried as a 45-digit decimal. Applying the exact rule to a SymPy
Float and converting back (what a user's formula still does, for its domain checks) costs 185 µs a
value, nearly all of it SymPy building and caching Floats no other value shares; the same
expression compiled by SymPy's ``lambdify`` into the private mpmath context costs 7 µs. The
rule's own expression is compiled, so the decimals follow from the exact rule and nothing is
written twice.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from derive.terms.formula import MP, Approx

_NAMES: dict[str, object] = {name: getattr(MP, name) for name in dir(MP) if not name.startswith("_")}
"""mpmath's functions and constructors, taken from the private context (its precision, not the global's)."""
_NAMES["mpmath"] = MP


class DecimalRule:
    """``rule`` on carried decimals, compiled at its first use (a sheet uses few of the catalogue's).

    Only for the catalogue's own rules, which are real and finite wherever they are defined: a
    user's formula keeps its bounded evaluation (it may raise e to a huge power, or leave the reals).
    """

    def __init__(self, rule: Callable[[sp.Expr], sp.Expr]) -> None:
        self.rule = rule
        self._compiled: Callable[[Approx], Approx] | None = None

    def __repr__(self) -> str:
        return f"DecimalRule({getattr(self.rule, '__name__', 'rule')})"

    def __call__(self, x: Approx) -> Approx:
        if self._compiled is None:
            u = sp.Symbol("u", real=True)
            self._compiled = sp.lambdify([u], self.rule(u), modules=[_NAMES, "mpmath"])
        return MP.convert(self._compiled(x))  # max(0, u) of ReLU gives the int 0 for u < 0
