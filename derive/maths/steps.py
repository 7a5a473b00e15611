"""The typed steps a solution is made of, and the solution itself: plain frozen records of symbols,
formula trees, quantities and displays (:mod:`derive.terms.display`), never LaTeX: the printer
writes them in the sheet's notation."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sympy as sp

from derive.exercise.model import Network, Part, Spec
from derive.terms.display import Shown
from derive.terms.formula import Node, Quantity, notebook
from derive.terms.symbols import LOSS, Sym, Symbolic


@dataclass(frozen=True)
class Given:
    """A given vector or matrix: W^{(1)}, x, y, α."""

    symbol: Symbolic
    entries: tuple[tuple[Quantity, ...], ...]

    def one_by_one(self) -> list[Given]:
        """The given entry by entry (w_1 = …, w_2 = …), as neuron style states it."""
        return [Given(q.symbol, ((q,),)) for row in self.entries for q in row]


@dataclass(frozen=True)
class Compute:
    """A computed vector or matrix: its matrix-form formula, then each entry in full.

    ``number`` is the backpropagation step number (the same numbers as in :mod:`derive.maths.network`).
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
    """A rule shown to the student (σ' in terms of σ, the loss derivative, the update rule): a
    catalogue pattern (@-marks for the network's quantities) and the key of its lead sentence."""

    pattern: str
    prose: str


@dataclass(frozen=True)
class Expanded:
    """A gradient in matrix form with every δ written out: the whole chain rule in one line."""

    target: Symbolic
    formula: Node


@dataclass(frozen=True)
class ChainRule:
    """The chain-rule product for one generic entry of a parameter gradient."""

    target: Symbolic
    factors: tuple[Symbolic, ...]


@dataclass(frozen=True)
class Values:
    """Computed values shown without their derivation (it is the same as in an earlier part)."""

    symbol: Symbolic
    entries: tuple[tuple[Quantity, ...], ...]


@dataclass(frozen=True)
class Word:
    """A table cell in words ("with layer 2"): the templates' language catalogue says it."""

    key: str
    arg: str = ""


Cell = Quantity | Word | Shown
"""A table cell: a verified quantity (shown exactly where short, and as a decimal), words, or maths
(a symbol or a display)."""


@dataclass(frozen=True)
class Table:
    """A table of computed values; ``key`` selects its caption in the templates."""

    key: str
    header: tuple[Shown, ...]
    rows: tuple[tuple[Cell, ...], ...]
    decimals_only: bool = False
    """Wide tables show decimals only; the exact values are in the answers."""


@dataclass(frozen=True)
class Series:
    """One curve of a plot: its legend and points (x exact, y a verified quantity)."""

    label: Shown
    points: tuple[tuple[sp.Expr, Quantity], ...]


@dataclass(frozen=True)
class Plot:
    """A pgfplots plot of computed points."""

    key: str
    xlabel: Shown
    ylabel: Shown
    series: tuple[Series, ...]
    log_y: bool = False
    log_x: bool = False
    """A logarithmic step axis: a long run's steps 1 to 10 000."""


@dataclass(frozen=True)
class Algebra:
    """A symbolic derivation: each line's equalities were checked by SymPy when it was built."""

    key: str
    lines: tuple[tuple[Shown, tuple[Shown, ...]], ...]


@dataclass(frozen=True)
class Limit:
    """lim_{variable → point±} expression = value, computed by SymPy."""

    case: str
    condition: Shown
    expression: Shown
    variable: str
    point: str
    side: str
    value: Shown


@dataclass(frozen=True)
class Limits:
    rows: tuple[Limit, ...]


@dataclass(frozen=True)
class Finding:
    """A statement the sheet makes from computed numbers; ``facts`` are maths to show (symbols,
    displays) or plain words and counts (``str``), by name."""

    key: str
    facts: tuple[tuple[str, Shown], ...]


@dataclass(frozen=True)
class Diagram:
    """The network drawn as a graph, as a student would draw it on the board.

    ``kind`` says what it carries: "network" (edges: weights, units: biases), "forward" (units:
    activations, inputs: x) or "gradients" (edges: ∂L/∂w, units: ∂L/∂b). ``columns`` are the
    input and every layer's units: the value a unit shows, or None for its symbol alone.
    """

    kind: str
    columns: tuple[tuple[Quantity | None, ...], ...]
    edges: tuple[tuple[tuple[Quantity, ...], ...], ...] = ()
    """Per layer, a value for every edge (laid out like W); empty: plain edges."""
    units: tuple[tuple[Quantity, ...], ...] = ()
    """Per layer, a value beside every unit (a bias or its gradient); empty: none."""
    of: Symbolic = LOSS
    """What a "gradients" drawing's values differentiate: L, or an output ŷ_j."""
    reads: tuple[tuple[int, ...], ...] = ()
    """Per layer, the columns it reads (0: the input), stacked like W's columns; empty: the one before."""


@dataclass(frozen=True)
class CircuitWire:
    """One wire of a circuit drawing: a variable or a gate's output, its value and its gradient ∂f/∂wire
    (None where the drawing leaves them out)."""

    symbol: Sym
    gate: str
    """The gate's name in the catalogue (:data:`derive.catalog.gates.GATES`); empty for a variable."""
    args: tuple[int, ...]
    constant: sp.Rational | None
    value: Quantity | None
    gradient: Quantity | None


@dataclass(frozen=True)
class Circuit:
    """A computational graph drawn as a circuit: the variables left, the output right, each wire with
    its value above and its gradient below where they are given."""

    wires: tuple[CircuitWire, ...]


Step = (
    Circuit
    | Diagram
    | Given
    | Compute
    | Recall
    | Claim
    | Identity
    | ChainRule
    | Expanded
    | Values
    | Table
    | Plot
    | Algebra
    | Limits
    | Finding
)


@dataclass(frozen=True)
class Section:
    """A titled group of steps; ``key`` selects the heading and prose in the templates."""

    key: str
    steps: tuple[Step, ...]
    label: str = ""
    """Extra text for the heading, e.g. the step number t of an optimizer step."""
    numbering: Network | None = None
    """The network whose units and weights number the section's quantities in neuron style, where it
    is not the part's (the values of the network without an inserted layer)."""


@dataclass(frozen=True)
class PartSolution:
    """The worked solution of one part."""

    part: Part[Any]
    sections: tuple[Section, ...]
    network_changed: bool = False
    spec: Spec | None = None
    """The spec the part belongs to (its sheet's notation and decimals), for the notebook display."""
    network: Network | None = None
    """The network the part works with (its units' numbering in neuron style), for the notebook display."""

    @property
    def number(self) -> int:
        return self.part.number

    def __repr__(self) -> str:
        return f"PartSolution(part {self.number}: {self.part.kind.name}, {sum(1 for _ in self.quantities())} values)"

    def _repr_markdown_(self) -> str | None:
        """Jupyter: the part's worked steps as maths under its headings, the sheet's lines."""
        return notebook(self, "markdown")

    def _repr_latex_(self) -> str | None:
        return notebook(self, "latex")

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
    """The quantities a step shows (and so the verification checks and the answers list)."""
    if isinstance(step, Given | Values):
        for row in step.entries:
            yield from row
    elif isinstance(step, Compute):
        yield from step.entries
    elif isinstance(step, Table):
        for cells in step.rows:
            yield from (c for c in cells if isinstance(c, Quantity))
    elif isinstance(step, Plot):
        for series in step.series:
            yield from (y for _, y in series.points)
    elif isinstance(step, Circuit):
        yield from (q for wire in step.wires for q in (wire.value, wire.gradient) if q is not None)
    elif isinstance(step, Diagram):
        yield from (q for column in step.columns for q in column if q is not None)
        yield from (q for matrix in step.edges for row in matrix for q in row)
        yield from (q for vector in step.units for q in vector)


@dataclass(frozen=True)
class Solution:
    """A solved spec: the network's given parameters and the worked parts, all verified."""

    spec: Spec
    givens: tuple[Given, ...]
    parts: tuple[PartSolution, ...]
    diagram: Diagram | None = None
    """The given network drawn with its parameters (both sheets show it)."""

    def quantities(self) -> Iterator[Quantity]:
        """Every quantity of the solution once, in the order the sheet shows them.

        A quantity's formula may use values the sheet does not print (the parameters inside a
        learning-rate run); those come first, so every quantity's ``uses`` are listed too.
        """
        return iter(self._listed.values())

    def asked(self) -> dict[int, set[str]]:
        """Each part's answer key, by part number: the keys its question asks for among the quantities
        it first shows (its kind's rule, :attr:`PartKind.asked`)."""
        listed = list(self.quantities())
        return {p.number: p.part.kind.asked([q for q in listed if q.scope.number == p.number]) for p in self.parts}

    @functools.cached_property
    def _listed(self) -> dict[str, Quantity]:
        # Walked once: the sheet, the gate and the answers all list the same quantities.
        listed: dict[str, Quantity] = {}
        roots = [q for given in self.givens for q in step_quantities(given)]
        roots += [q for part in self.parts for q in part.quantities()]
        for root in roots:
            pending = [(root, False)]
            while pending:
                item, expanded = pending.pop()
                if item.key in listed:
                    continue
                if expanded or item.formula is None:
                    listed[item.key] = item
                    continue
                pending.append((item, True))
                pending.extend((used, False) for used in reversed(list(item.formula.refs())))
        return listed

    def _repr_markdown_(self) -> str | None:
        """Jupyter: an overview of the parts (``solution.part(n)`` shows one part's worked steps)."""
        return notebook(self, "markdown")

    def _repr_latex_(self) -> str | None:
        return notebook(self, "latex")

    def __getitem__(self, key: str) -> Quantity:
        """A quantity by its answer key, e.g. ``solution["p1.L"]``."""
        return self._listed[key]

    def __contains__(self, key: object) -> bool:
        return key in self._listed

    def part(self, number: int) -> PartSolution:
        """Part ``number``, counted from 1 as the sheet does."""
        if not 1 <= number <= len(self.parts):
            raise IndexError(f"part {number}: the solution has parts 1 to {len(self.parts)}")
        return self.parts[number - 1]

    def __repr__(self) -> str:
        parts = f"{len(self.parts)} part{'s' if len(self.parts) != 1 else ''}"
        return f"Solution({self.spec.name}: {parts}, {len(self._listed)} values)"
