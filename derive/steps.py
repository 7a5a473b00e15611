"""The typed steps a solution is made of, and the solution itself: plain frozen records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sympy as sp

from derive.formula import Node, Quantity
from derive.notation import Symbolic
from derive.spec import Part, Spec


@dataclass(frozen=True)
class Given:
    """A given vector or matrix: W^{(1)}, x, y, α."""

    symbol: Symbolic
    entries: tuple[tuple[Quantity, ...], ...]


@dataclass(frozen=True)
class Compute:
    """A computed vector or matrix: its matrix-form formula, then each entry in full.

    ``number`` is the backpropagation step number (the same numbers as in :mod:`derive.network`).
    """

    symbol: Symbolic
    general: Node | None
    entries: tuple[Quantity, ...]
    number: int | None = None
    shape: tuple[int, int] = (0, 1)


@dataclass(frozen=True)
class Recall:
    """Values computed in an earlier part, listed without their derivation."""

    part: int
    items: tuple[tuple[Symbolic, tuple[tuple[Quantity, ...], ...]], ...]
    """Each symbol with its values as a matrix (a vector as one column)."""


@dataclass(frozen=True)
class Claim:
    """A "show that" statement: the computed quantity equals the claimed value exactly."""

    quantity: Quantity
    claimed: sp.Expr


@dataclass(frozen=True)
class Identity:
    """A rule shown to the student (σ' in terms of σ, the loss derivative, the update rule)."""

    latex: str
    prose: str


@dataclass(frozen=True)
class ChainRule:
    """The chain-rule product for one generic entry of a parameter gradient."""

    target: Symbolic
    factors: tuple[Symbolic, ...]


Step = Given | Compute | Recall | Claim | Identity | ChainRule


@dataclass(frozen=True)
class Section:
    """A titled group of steps; ``key`` selects the heading and prose in the templates."""

    key: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class PartSolution:
    """The worked solution of one part."""

    part: Part
    sections: tuple[Section, ...]
    network_changed: bool = False

    @property
    def number(self) -> int:
        return self.part.number

    def quantities(self) -> Iterator[Quantity]:
        """Every quantity first shown in this part (recalled values are not repeated)."""
        seen: set[str] = set()
        for section in self.sections:
            for step in section.steps:
                for q in step_quantities(step):
                    if q.key not in seen:
                        seen.add(q.key)
                        yield q


def step_quantities(step: Step) -> Iterator[Quantity]:
    if isinstance(step, Given):
        for row in step.entries:
            yield from row
    elif isinstance(step, Compute):
        yield from step.entries


@dataclass(frozen=True)
class Solution:
    """A solved spec: the network's given parameters and the worked parts, all verified."""

    spec: Spec
    givens: tuple[Given, ...]
    parts: tuple[PartSolution, ...]

    def quantities(self) -> Iterator[Quantity]:
        """Every quantity of the solution once, in the order the sheet shows them."""
        for given in self.givens:
            yield from step_quantities(given)
        for part in self.parts:
            yield from part.quantities()

    def __getitem__(self, key: str) -> Quantity:
        """A quantity by its answer key, e.g. ``solution["p1.L"]``."""
        for q in self.quantities():
            if q.key == key:
                return q
        raise KeyError(key)

    def part(self, number: int) -> PartSolution:
        return self.parts[number - 1]
