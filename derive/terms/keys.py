"""Answer keys: where each quantity of a solution is found, built from structure, printed and parsed here.

A key is a scope and a symbol: ``p4.t2.dL/dw1[2,1]`` is ∂L/∂w^{(1)}_{2,1} in step 2 of part 4's
optimizer run. The exact engine and the float twin both build their keys with this module (the
twin never imports the exact engine), and :func:`parse` reads one back into its structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import sympy as sp

from derive.terms.symbols import (
    OUTPUT,
    LossAt,
    LossSlope,
    Mean,
    Norm,
    Partial,
    PredictionError,
    Stat,
    StepSize,
    Sym,
    Symbolic,
    Tied,
    Updated,
)

TAGS = ("plot", "sigmoid", "relu", "shallow", "deep", "dead", "frozen", "d", "mse", "ce")
"""Names of the scopes inside a part that are not a step, a sample or a run: the plot's points, the
two networks a comparison runs, the input of a dead unit, frozen gradients, a run's decimal tail,
the two losses a comparison works through."""


@dataclass(frozen=True)
class Scope:
    """Where a quantity belongs: nothing (the given parameters), a part, and within it a step ``t2``,
    a sample ``s1``, a learning-rate run ``run3`` or a tag (:data:`TAGS`)."""

    path: tuple[str, ...] = ()

    @classmethod
    def part(cls, number: int) -> Scope:
        return cls((f"p{number}",))

    def step(self, t: int) -> Scope:
        return Scope((*self.path, f"t{t}"))

    def sample(self, n: int) -> Scope:
        return Scope((*self.path, f"s{n}"))

    def run(self, r: int) -> Scope:
        return Scope((*self.path, f"run{r}"))

    def tag(self, name: str) -> Scope:
        if name not in TAGS:
            raise ValueError(f"unknown scope tag {name!r}")
        return Scope((*self.path, name))

    @property
    def number(self) -> int | None:
        """The number of the part the scope lies in (None for the given parameters)."""
        return int(self.path[0][1:]) if self.path else None

    def __str__(self) -> str:
        return "".join(f"{name}." for name in self.path)

    def __bool__(self) -> bool:
        return bool(self.path)


ROOT = Scope()


@dataclass(frozen=True)
class Key:
    """A quantity's answer key: its scope and its symbol."""

    scope: Scope
    symbol: Symbolic

    def __str__(self) -> str:
        return key(self.scope, self.symbol)


def key(scope: Scope, symbol: Symbolic) -> str:
    """The text of a key, as the answers and the gate's tables use it."""
    return str(scope) + symbol.key


def symbol_of(base: str, layer: int | None, size: int, *index: int) -> Sym:
    """A vector entry's symbol; the index is hidden on the sheet when the vector has one entry."""
    return Sym(base, layer, tuple(index), hide_index=size == 1 and len(index) == 1)


def unit(depth: int, layer: int, kind: str, j: int, size: int = 0) -> Sym:
    """z^{(l)}_j or a^{(l)}_j of a network ``depth`` layers deep; the output layer's a_j is ŷ_j.
    ``size`` is the layer's width (a width of 1 hides the index on the sheet, never in the key)."""
    if kind == "a" and layer == depth:
        return symbol_of(OUTPUT.base, None, size, j)
    return symbol_of(kind, layer, size, j)


_SCOPE = re.compile(r"(p\d+|t\d+|s\d+|run\d+|" + "|".join(TAGS) + r")\.")
_ENTRY = re.compile(r"([A-Za-z]+?)(\d*)(?:\[([\w,]+)\])?")
_UPDATED = re.compile(r"(\w+?)(\d*)_new(\d*)(?:\[([\w,]+)\])?")
_STAT = re.compile(r"([A-Za-z]+)(\d+)\((.+)\)")
"""An optimizer's state: its name (any optimizer's: m, v, mhat, s, …), the step and the entry."""
_RATIONAL = r"(-?\d+(?:/\d+)?)"


def parameter(name: str) -> Sym:
    """W^{(l)} or b^{(l)} from a parameter's name such as ``W2``; x for the input."""
    if name == "x":
        return Sym("x")
    return Sym(name[0], int(name[1:]))


HYPER = ("beta1", "beta2")
"""Symbols whose names end in a digit that is not a layer (Adam's decay rates)."""


def parse_entry(text: str) -> Sym:
    """A plain symbol from its key: ``w1[1,2]`` → w^{(1)}_{1,2}, ``b2`` (a shared bias), ``yhat[1]``."""
    if text in HYPER:
        return Sym(text)
    match = _ENTRY.fullmatch(text)
    if match is None:
        raise ValueError(f"not a symbol key: {text!r}")
    base, layer, index = match.groups()
    indices = tuple(int(i) if i.isdigit() else i for i in index.split(",")) if index else ()
    return Sym(base, int(layer) if layer else None, indices)


def parse(text: str) -> Key:
    """A key back in its structure: ``parse("p4.t2.dL/dw1[2,1]")``; raises ValueError on anything else."""
    path: list[str] = []
    rest = text
    while (match := _SCOPE.match(rest)) is not None and not _symbol_starts(rest):
        path.append(match.group(1))
        rest = rest[match.end() :]
    return Key(Scope(tuple(path)), _symbol(rest))


def _symbol_starts(text: str) -> bool:
    """Whether a scope-like head is in fact a symbol (``s1(w1[1,1])``: RMSProp's s at step 1)."""
    return _STAT.fullmatch(text) is not None


@cache
def _symbol(text: str) -> Symbolic:
    if match := re.fullmatch(r"gbar(\d+)", text):
        return Mean(int(match.group(1)))
    if text == "p-y":
        return PredictionError()
    if match := re.fullmatch(rf"L\(p={_RATIONAL},y=(\d)\)", text):
        return LossAt(sp.Rational(match.group(1)), int(match.group(2)))
    if match := re.fullmatch(rf"dL/dz_(mse|ce)\(p={_RATIONAL}\)", text):
        return LossSlope(match.group(1), sp.Rational(match.group(2)))
    if match := re.fullmatch(r"norm\((.+)\)", text):
        return Norm(_symbol(match.group(1)))
    if match := re.fullmatch(r"(\w+)_step\((.+)\)", text):
        return StepSize(match.group(1), parse_entry(match.group(2)))
    if match := _STAT.fullmatch(text):
        return Stat(match.group(1), parse_entry(match.group(3)), int(match.group(2)))
    if match := re.fullmatch(r"d(\w+?(?:\[[\w,]+\])?)/d(.+)", text):
        num, den = match.groups()
        tied = re.fullmatch(r"tied(\d+)", den)
        return Partial(parse_entry(num), Tied(int(tied.group(1))) if tied else parse_entry(den))
    if match := _UPDATED.fullmatch(text):
        base, layer, times, index = match.groups()
        of = parse_entry(f"{base}{layer}" + (f"[{index}]" if index else ""))
        return Updated(of, int(times) if times else 1)
    return parse_entry(text)
