"""The letters θ, t, s and p, which a sheet writes for something else only in some parts: the update
rules' parameter, the step counter, RMSProp's running average, a probability. A quantity may take one
of them (a textbook's bias θ_j, target t, probability p) on a sheet that writes it for nothing else."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from derive.catalog.optimizers import Optimizer
from derive.exercise.model import Part

SHARED = {
    "theta": "a parameter in the questions and update rules",
    "t": "the step counter",
    "s": "RMSProp's running average",
    "p": "a probability",
}
"""The letters a quantity may take where the sheet's parts do not write them, and what they write."""
_NO_PARAMETER = frozenset({"forward", "show_that", "activation_values"})
"""Kinds whose questions and solutions write no parameter θ (no gradient, no update rule)."""
_KNOWN = frozenset(
    {
        *_NO_PARAMETER,
        "gradients",
        "update",
        "replace_activation",
        "cross_entropy",
        "learning_rates",
        "compare_activation",
        "compare_optimizer",
        "mse_vs_ce",
        "extra_layer",
        "batch",
    }
)
"""Kinds whose letters this module knows; a kind it does not know takes all four (a clash is safer
refused than printed)."""


def written(part: Part[Any]) -> dict[str, str]:
    """The shared letters ``part`` writes, each with what it writes with it."""
    kind = part.kind.name
    if kind not in _KNOWN:
        return dict(SHARED)
    used: dict[str, str] = {}
    if kind not in _NO_PARAMETER:
        used["theta"] = SHARED["theta"]
    for optimizer in _optimizers(part.params):
        if optimizer.state:  # m_t, v_t, …: a rule with memory counts its steps t
            used["t"] = SHARED["t"]
        if "s" in optimizer.state:
            used["s"] = SHARED["s"]
    several = kind == "batch" and (part.params.mode == "per_sample" or part.params.steps > 1)
    if kind in ("learning_rates", "compare_optimizer") or several:
        used["t"] = SHARED["t"]  # a table or plot over the steps t
    if kind in ("cross_entropy", "mse_vs_ce"):
        used["p"] = SHARED["p"]
    return used


def clashes(parts: Sequence[Part[Any]], letters: str) -> tuple[int, str, str] | None:
    """The first part that writes ``letters`` (a shared letter), with its kind and what it writes."""
    for part in parts:
        if letters in (used := written(part)):
            return part.number, part.kind.name, used[letters]
    return None


def _optimizers(params: object) -> Iterator[Optimizer]:
    """The optimizers a part's parameters step with (its own, or its training's)."""
    for holder in (params, getattr(params, "training", None)):
        optimizer = getattr(holder, "optimizer", None)
        if isinstance(optimizer, Optimizer):
            yield optimizer
