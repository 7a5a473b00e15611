"""Symbolic algebra a sheet shows: expressions in p, y and z, every equality checked by SymPy."""

from __future__ import annotations

import sympy as sp

from derive.catalog.losses import BINARY_CROSS_ENTROPY
from derive.errors import VerificationError
from derive.terms.formula import Num, equal
from derive.tex import printer as latex
from derive.tex.names import token

P, Y, Z = sp.symbols("p y z", real=True)


def bce(p: sp.Expr, y: sp.Expr) -> sp.Expr:
    """The catalogue's cross-entropy as a SymPy expression, so the algebra derives the rule in use."""
    return BINARY_CROSS_ENTROPY.term(Num(p), Num(y)).exact()


def tex(expr: sp.Expr) -> str:
    """An expression in p, y and z, with y and z in the sheet's names."""
    return latex.DerivePrinter({"symbol_names": {Y: token("y"), Z: token("z")}})._print(expr)


def checked(*chain: sp.Expr) -> None:
    """Raise unless every expression of the chain equals the first (SymPy, symbolically)."""
    for later in chain[1:]:
        if not equal(chain[0], later):
            raise VerificationError(f"symbolic step does not hold: {chain[0]} = {later}")
