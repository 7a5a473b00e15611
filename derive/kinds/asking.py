"""What a part asks: the pieces each kind's answer-key rule (:attr:`PartKind.asked`) is made of.

Each kind's rule follows its question (``question_<kind>`` in the language catalogues): the values
it names (the output, the loss, the gradients of the parameters, the new parameters, …) are asked;
the values that lead to them (δ, ∂L/∂a, an optimizer's state), the givens and the plot's points are not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from derive.catalog.optimizers import OPTIMIZERS
from derive.terms.formula import Quantity
from derive.terms.symbols import Partial, Sym, Updated

KEPT = frozenset(kept for optimizer in OPTIMIZERS.values() for kept in optimizer.state)
"""The names of an optimizer's state carried to the next step (m, v, s, r; not m̂, v̂)."""


def within(q: Quantity) -> tuple[str, ...]:
    """Where in its part a quantity lies: () at the part's own level, ("s1",) in a sample, ("run2", "t3") …"""
    return q.scope.path[1:]


def named(q: Quantity, *bases: str) -> bool:
    return isinstance(q.symbol, Sym) and q.symbol.base in bases


def gradient(q: Quantity, inputs: bool = True) -> bool:
    """∂L/∂θ (or ∂ŷ_j/∂θ) for a parameter entry θ, or the input x: not δ, ∂L/∂a or ∂L/∂ŷ."""
    s = q.symbol
    bases = ("w", "b", "x") if inputs else ("w", "b")
    return isinstance(s, Partial) and isinstance(s.den, Sym) and s.den.base in bases


def parameter_symbol(s: object) -> bool:
    return isinstance(s, Sym) and s.base in ("w", "b")


def last_updated(quantities: Iterable[Quantity], keep: Callable[[Quantity], bool]) -> set[str]:
    """The keys of the kept updated values after the last step (the parameters and loss a question asks for)."""
    kept = [q for q in quantities if isinstance(q.symbol, Updated) and keep(q)]
    last = max((q.symbol.times for q in kept if isinstance(q.symbol, Updated)), default=0)
    return {q.key for q in kept if isinstance(q.symbol, Updated) and q.symbol.times == last}


def new_parameters(quantities: list[Quantity], every_step: bool = False) -> set[str]:
    def keep(q: Quantity) -> bool:
        return not within(q) and isinstance(q.symbol, Updated) and parameter_symbol(q.symbol.of)

    if every_step:
        return {q.key for q in quantities if keep(q)}
    return last_updated(quantities, keep)


def new_loss(quantities: list[Quantity]) -> set[str]:
    return last_updated(
        quantities, lambda q: not within(q) and isinstance(q.symbol, Updated) and q.symbol.of.base == "L"
    )
