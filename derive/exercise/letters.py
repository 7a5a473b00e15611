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
    from derive.exercise.model import Part, Training
    from derive.exercise.notation import Notation

SHARED: Mapping[str, str] = {
    "theta": "a parameter in the questions and update rules",
    "t": "the step counter",
    "s": "RMSProp's running average",
    "p": "a probability",
}
"""The letters a quantity may take where the sheet's parts do not write them, and what they write."""


def every(params: object, notation: Notation) -> dict[str, str]:
    """All four: a kind that does not say what it writes (a clash is safer refused than printed)."""
    return dict(SHARED)


def none(params: object, notation: Notation) -> dict[str, str]:
    """None: a kind whose questions and solutions write no parameter θ (no gradient, no update rule)."""
    return {}


def parameter(params: object, notation: Notation) -> dict[str, str]:
    """θ: a kind that asks for gradients writes the parameter θ in its questions, unless the sheet
    writes the error term (the textbooks that do name each weight and bias, and θ_j is a bias there)."""
    return {} if notation.error else {"theta": SHARED["theta"]}


def probability(params: object, notation: Notation) -> dict[str, str]:
    """θ and the probability p (cross-entropy's p = σ(z))."""
    return {"theta": SHARED["theta"], "p": SHARED["p"]}


def error_rule(training: Training, notation: Notation) -> bool:
    """Whether a step is written as the error term's textbooks write it, each weight and bias by its
    name (w_ij' = w_ij + α Err_j O_i, b_j' = b_j + α Err_j): one step of plain gradient descent on a
    sheet with the error term, no tied entries (θ_g) among them."""
    return bool(notation.error) and training.optimizer.name == "sgd" and training.steps == 1 and not training.tied


def stepping(optimizer: Optimizer | None, several: bool = False, theta: bool = True) -> dict[str, str]:
    """θ (unless not ``theta``: the rule names each weight and bias) and what stepping with
    ``optimizer`` writes: the step counter t of a rule with memory (m_t, v_t, …) or of ``several``
    steps (a table or plot over the steps), RMSProp's s."""
    used = {"theta": SHARED["theta"]} if theta else {}
    if several or (optimizer is not None and optimizer.state):
        used["t"] = SHARED["t"]
    if optimizer is not None and "s" in optimizer.state:
        used["s"] = SHARED["s"]
    return used


def written(part: Part[Any], notation: Notation) -> Mapping[str, str]:
    """The shared letters ``part`` writes on a sheet of ``notation``, each with what it writes with it."""
    return part.kind.letters(part.params, notation)


def clashes(parts: Sequence[Part[Any]], letters: str, notation: Notation) -> tuple[int, str, str] | None:
    """The first part that writes ``letters`` (a shared letter), with its kind and what it writes."""
    for part in parts:
        if letters in (used := written(part, notation)):
            return part.number, part.kind.name, used[letters]
    return None
