"""What a step shows besides symbols and formula trees: authored patterns, exact values and decimals
in running text, lists, symbolic algebra, matrices in the sheet's orientation. Data only: the
printer writes each in the sheet's notation, names and decimal mark."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy as sp

P, Y, Z = sp.symbols("p y z", real=True)
"""The symbols of symbolic algebra on a sheet: a probability p, a label y, a pre-activation z."""

if TYPE_CHECKING:
    from derive.terms.symbols import Symbolic


@dataclass(frozen=True)
class Pattern:
    """Authored LaTeX with a mark for each of the network's quantities the sheet may rename
    (``@z``, ``@yhat``, ``@L``, …) and ``#1``, ``#2``, … for the shown ``args``:
    ``Pattern(r"\\text{CE: } p - @y")`` is written with the sheet's name for y. In maths a ", "
    separates list items (written "; " beside a decimal comma)."""

    text: str
    args: tuple[Shown, ...] = ()


@dataclass(frozen=True)
class Exact:
    """An exact value in running text, short fractions folded (1/2), as a student writes it inline."""

    value: sp.Expr


@dataclass(frozen=True)
class AsWritten:
    """A given number as an exercise writes it: 0.01 rather than 1/100 where its decimal is finite."""

    value: sp.Expr


@dataclass(frozen=True)
class Rounded:
    """A decimal of a computed number, to ``places`` places."""

    value: Any
    places: int


@dataclass(frozen=True)
class Join:
    """Items shown one after another, separated by ``separator`` (a list's ", " is "; " beside a
    decimal comma)."""

    items: tuple[Shown, ...]
    separator: str = ", "


@dataclass(frozen=True)
class Expression:
    """Symbolic algebra in p, y and z (:mod:`derive.maths.symbolic`): y and z in the sheet's names."""

    expr: sp.Expr


@dataclass(frozen=True)
class Oriented:
    """A weight-shaped quantity written as the sheet's own matrix (indexed from input to unit, the
    transpose of derive's)."""

    of: Symbolic


Shown = Any
"""What a step may show: a symbol, a formula node, a quantity or one of the records above (and a
plain ``str``, for a finding's words and counts)."""
