"""From a validated spec to a solution: each part worked out by its kind, in the spec's order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from derive.exercise.model import Part, Spec
from derive.maths.derivation import Derivation
from derive.maths.steps import PartSolution, Solution


def outline(spec: Spec, derivation: Derivation | None = None) -> Solution:
    """The spec's givens, its network drawing and its parts without their working: all the
    exercise sheet shows, made without deriving anything (so its TeX can start at once)."""
    derivation = derivation or Derivation(spec)
    return Solution(spec, derivation.givens(), tuple(PartSolution(p, ()) for p in spec.parts), derivation.diagram())


Solve = Callable[[Part[Any]], PartSolution]
"""Work out one part."""


def solver(derivation: Derivation) -> Solve:
    """Solve one part at a time, in the spec's order (later parts recall what earlier ones showed)."""

    def solve(part: Part[Any]) -> PartSolution:
        # The part displays (in a notebook) as its sheet shows it: the spec's style, its network's numbering.
        network = derivation.variant(part)[0] if part.kind.network else None
        return replace(part.kind.derive(derivation, part), spec=derivation.spec, network=network)

    return solve


def derive(spec: Spec, each: Callable[[Solve], Solve] = lambda solve: solve) -> Solution:
    """Solve every part of ``spec`` exactly, each through ``each`` (a build's budget times and bounds
    every part: :meth:`derive.budget.Budget.parts`). Verification is separate: see :func:`derive.verify`."""
    derivation = Derivation(spec)
    solve = each(solver(derivation))
    return Solution(spec, derivation.givens(), tuple(solve(part) for part in spec.parts), derivation.diagram())
