"""The letters θ, t, s and p, which a sheet writes for something else only in some parts: the update
rules' parameter, the step counter, RMSProp's running average, a probability. A quantity may take one
of them (a textbook's bias θ_j, target t, probability p) on a sheet that writes it for nothing else.
Each part kind says which it writes (:attr:`~derive.exercise.kind.PartKind.letters`), from the
helpers here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from derive.catalog.optimizers import Optimizer
    from derive.exercise.model import Part

SHARED: Mapping[str, str] = {
    "theta": "a parameter in the questions and update rules",
    "t": "the step counter",
    "s": "RMSProp's running average",
    "p": "a probability",
}
"""The letters a quantity may take where the sheet's parts do not write them, and what they write."""


def every(params: object) -> dict[str, str]:
    """All four: a kind that does not say what it writes (a clash is safer refused than printed)."""
    return dict(SHARED)


def none(params: object) -> dict[str, str]:
    """None: a kind whose questions and solutions write no parameter θ (no gradient, no update rule)."""
    return {}


def parameter(params: object = None) -> dict[str, str]:
    """θ: a kind that asks for gradients or steps writes the parameter θ in its questions and rules."""
    return {"theta": SHARED["theta"]}


def probability(params: object) -> dict[str, str]:
    """θ and the probability p (cross-entropy's p = σ(z))."""
    return {**parameter(), "p": SHARED["p"]}


def stepping(optimizer: Optimizer | None, several: bool = False) -> dict[str, str]:
    """θ and what stepping with ``optimizer`` writes: the step counter t of a rule with memory (m_t,
    v_t, …) or of ``several`` steps (a table or plot over the steps), RMSProp's s."""
    used = parameter()
    if several or (optimizer is not None and optimizer.state):
        used["t"] = SHARED["t"]
    if optimizer is not None and "s" in optimizer.state:
        used["s"] = SHARED["s"]
    return used


def written(part: Part[Any]) -> Mapping[str, str]:
    """The shared letters ``part`` writes, each with what it writes with it."""
    return part.kind.letters(part.params)


def clashes(parts: Sequence[Part[Any]], letters: str) -> tuple[int, str, str] | None:
    """The first part that writes ``letters`` (a shared letter), with its kind and what it writes."""
    for part in parts:
        if letters in (used := written(part)):
            return part.number, part.kind.name, used[letters]
    return None
