"""Symbols of the solution (w, z, a, ŷ, L, ∂L/∂θ, θ'): what they denote and their stable answer keys.

The printer in :mod:`derive.tex.printer` owns how they look; this module only says what they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sym:
    """A named quantity: ``base`` with an optional layer superscript and 1-based indices.

    ``hide_index`` drops the subscript on the sheet (a vector of length one), never in the key.
    """

    base: str
    layer: int | str | None = None
    index: tuple[int | str, ...] = ()
    hide_index: bool = field(default=False, compare=False)

    @property
    def key(self) -> str:
        layer = "" if self.layer is None else str(self.layer)
        index = "" if not self.index else "[" + ",".join(map(str, self.index)) + "]"
        return f"{self.base}{layer}{index}"

    def entry(self, *index: int | str, hide_index: bool = False) -> Sym:
        """The scalar entry of this tensor symbol at ``index``."""
        return Sym(self.base, self.layer, tuple(index), hide_index)


@dataclass(frozen=True)
class Partial:
    """∂num/∂den, always printed with ∂ whatever remains free."""

    num: Sym
    den: Sym | Tied

    @property
    def key(self) -> str:
        return f"d{self.num.key}/d{self.den.key}"


@dataclass(frozen=True)
class Updated:
    """A value after ``times`` optimizer steps (parameters, or ŷ and L computed with them): primes."""

    of: Sym
    times: int = 1

    @property
    def key(self) -> str:
        head, bracket, tail = self.of.key.partition("[")
        count = "" if self.times == 1 else str(self.times)
        return f"{head}_new{count}{bracket}{tail}"


@dataclass(frozen=True)
class Stat:
    """Optimizer state of one parameter at step t: m_t, v_t, m̂_t, v̂_t."""

    name: str
    of: Sym
    t: int

    @property
    def key(self) -> str:
        return f"{self.name}{self.t}({self.of.key})"


@dataclass(frozen=True)
class Mean:
    """ḡ^{(l)} = Σ_i a_i ∂L/∂a_i of a softmax layer: the term every entry of its δ subtracts."""

    layer: int

    @property
    def key(self) -> str:
        return f"gbar{self.layer}"


@dataclass(frozen=True)
class Stacked:
    """What a layer with skip connections reads: its sources stacked, [x; a^{(1)}] (display only)."""

    layer: int
    parts: tuple[Symbolic, ...]

    @property
    def key(self) -> str:
        return f"in{self.layer}"


@dataclass(frozen=True)
class Block:
    """The columns of a weight matrix that multiply one of its layer's sources, W^{(l)}_{a} (display only)."""

    matrix: Symbolic
    source: Symbolic

    @property
    def key(self) -> str:
        return f"{self.matrix.key}.{self.source.key}"


@dataclass(frozen=True)
class Tied:
    """θ_g: a group of tied entries, one parameter used in several places."""

    group: int

    @property
    def key(self) -> str:
        return f"tied{self.group}"


@dataclass(frozen=True)
class LossAt:
    """The cross-entropy L(p, y) of a probability p for the label y."""

    p: Any
    y: int

    @property
    def key(self) -> str:
        return f"L(p={self.p},y={self.y})"


@dataclass(frozen=True)
class Norm:
    """The Frobenius norm ‖∂L/∂W^{(l)}‖ of a gradient (the same for the sheet's own matrix, its transpose)."""

    of: Symbolic

    @property
    def key(self) -> str:
        return f"norm({self.of.key})"


@dataclass(frozen=True)
class StepSize:
    """How far a parameter entry moves in one step of a method: −α g for SGD, θ_1 − θ_0 for another."""

    method: str
    entry: Sym

    @property
    def key(self) -> str:
        return f"{self.method}_step({self.entry.key})"


@dataclass(frozen=True)
class PredictionError:
    """ŷ − y: what cross-entropy's gradient at a sigmoid's pre-activation comes to."""

    @property
    def key(self) -> str:
        return "p-y"


@dataclass(frozen=True)
class LossSlope:
    """∂L/∂z at a sigmoid output p under squared error ("mse") or cross-entropy ("ce")."""

    loss: str
    p: Any

    @property
    def key(self) -> str:
        return f"dL/dz_{self.loss}(p={self.p})"


Symbolic = (
    Sym
    | Partial
    | Updated
    | Stat
    | Mean
    | Stacked
    | Block
    | Tied
    | LossAt
    | Norm
    | StepSize
    | PredictionError
    | LossSlope
)


def weight_shaped(s: Symbolic) -> bool:
    """Whether ``s`` has a weight matrix's shape: W^{(l)}, W'^{(l)}, ∂L/∂W^{(l)}, its optimizer state."""
    if isinstance(s, Updated | Stat):
        s = s.of
    if isinstance(s, Partial):
        s = s.den
    return isinstance(s, Sym) and s.base == "W"


STATS = {"mhat": r"\hat{m}", "vhat": r"\hat{v}"}
"""LaTeX of optimizer state names that are not a plain letter."""

LOSS = Sym("L")
OUTPUT = Sym("yhat")
TARGET = Sym("y")
OUTPUT_LOSS = "Lo"
"""The base of one output's share of the loss, L = Σ_j L_{o_j} ([notation] loss_per_output)."""


def output_loss(j: int) -> Sym:
    """Output j's share of the loss: E_{o_j} in neuron style, ℓ_j in matrices."""
    return Sym(OUTPUT_LOSS, None, (j,))


INPUT = Sym("x")
RATE = Sym("alpha")


def sample_loss(n: int) -> Sym:
    """L_n, the loss of sample n of a batch."""
    return Sym(LOSS.base, None, (n,))


def weight(layer: int) -> Sym:
    """W^{(layer)} as a whole matrix; its entries are w^{(layer)}_{j,k}."""
    return Sym("W", layer)


def weight_entry(layer: int, row: int, col: int) -> Sym:
    return Sym("w", layer, (row, col))


def bias(layer: int) -> Sym:
    return Sym("b", layer)


def preactivation(layer: int) -> Sym:
    return Sym("z", layer)


def activation(layer: int) -> Sym:
    return Sym("a", layer)


def delta(layer: int) -> Sym:
    return Sym("delta", layer)
