"""Symbolic algebra a sheet shows: expressions in p, y and z, every equality checked by SymPy."""

from __future__ import annotations

import sympy as sp

from derive.catalog.losses import BINARY_CROSS_ENTROPY
from derive.errors import VerificationError
from derive.terms.formula import Num, equal


def bce(p: sp.Expr, y: sp.Expr) -> sp.Expr:
    """The catalogue's cross-entropy as a SymPy expression, so the algebra derives the rule in use."""
    return BINARY_CROSS_ENTROPY.term(Num(p), Num(y)).exact()


def checked(*chain: sp.Expr) -> None:
    """Raise unless every expression of the chain equals the first (SymPy, symbolically)."""
    for later in chain[1:]:
        if not equal(chain[0], later):
            raise VerificationError(f"symbolic step does not hold: {chain[0]} = {later}")
