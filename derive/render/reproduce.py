"""Whether a worked line can be redone with a calculator: the numbers it shows, put into the formula
it shows, give the result it shows at the precision it shows it.

A decimal substituted into a formula gets guard digits, as few as make the line redo; the count of
lines that redo is the build's measure of it (see :func:`derive.pipeline.build_sheet`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from derive.terms.formula import Node, Quantity, TooLarge, Undefined, with_values
from derive.tex.decimals import shown
from derive.tex.printer import Printer, Substitution

GUARD_DIGITS = 6
"""Most digits beyond the sheet's places that a substituted decimal gets."""


@dataclass(frozen=True)
class Worked:
    """A quantity's formula with its numbers substituted, and whether the line redoes."""

    substitution: Substitution
    redoes: bool


def worked(q: Quantity, printer: Printer) -> Worked:
    """``q``'s formula with its numbers, decimals carrying the fewest guard digits that make it redo."""
    assert q.formula is not None
    first = None
    for guard in range(GUARD_DIGITS + 1):
        substitution = printer.but(guard=guard).substitution(q.formula)
        first = first or substitution
        if redoes(q, substitution, printer.look.places):
            return Worked(substitution, True)
        if not substitution.approximated:
            break  # exact numbers throughout: more digits change nothing
    assert first is not None
    return Worked(first, False)  # as the sheet's places write it; the build names the line


def redoes(q: Quantity, substitution: Substitution, places: int) -> bool:
    """Whether the formula evaluated with the numbers as written rounds to the result as shown."""
    assert q.formula is not None
    tree = with_values(q.formula, substitution.values)
    try:
        redone = tree.approx()
        if q.carry is not None:
            # The student policy rounds each value as computed: the line redoes when rounding what the
            # shown numbers give, by the same policy, is the value carried (a tie seen exactly).
            return q.carry.round(_exact(tree), redone) == q.exact
    except (ArithmeticError, Undefined, ValueError):
        return False  # a shown denominator of 0, the log of a shown negative number
    return shown(redone, places) == shown(q.approx, places)


def _exact(tree: Node) -> sp.Expr | None:
    try:
        return tree.exact()
    except TooLarge:
        return None


@dataclass(frozen=True)
class Redone:
    """A build's substituted lines: how many it shows, and the answer keys of those that do not redo."""

    lines: int = 0
    failed: tuple[str, ...] = ()

    @property
    def redone(self) -> int:
        return self.lines - len(self.failed)

    @classmethod
    def of(cls, parts: Iterable[Mapping[str, Any]]) -> Redone:
        """Counted from the parts' template contexts (each lists its lines as (key, redoes))."""
        lines = [line for part in parts for line in part["redone"]]
        return cls(len(lines), tuple(key for key, redoes in lines if not redoes))

    def __str__(self) -> str:
        return f"{self.redone} of {self.lines} worked lines redo from the numbers they show"
