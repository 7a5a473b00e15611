"""From a validated spec to a solution: each task kind is one function from a part to its steps."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from derive.maths.batches import batch_part
from derive.maths.classification import cross_entropy_part, mse_vs_ce_part
from derive.maths.derivation import Deriver
from derive.maths.experiments import (
    compare_activation_part,
    compare_optimizer_part,
    extra_layer_part,
    learning_rates_part,
)
from derive.maths.steps import PartSolution, Solution
from derive.spec.model import Part, Spec

KINDS: Mapping[str, Callable[[Deriver, Part], PartSolution]] = {
    "forward": Deriver.forward_part,
    "show_that": Deriver.show_that_part,
    "gradients": Deriver.gradients_part,
    "update": Deriver.update_part,
    "replace_activation": Deriver.replace_activation_part,
    "cross_entropy": cross_entropy_part,
    "learning_rates": learning_rates_part,
    "compare_activation": compare_activation_part,
    "compare_optimizer": compare_optimizer_part,
    "mse_vs_ce": mse_vs_ce_part,
    "extra_layer": extra_layer_part,
    "batch": batch_part,
}


def outline(spec: Spec, deriver: Deriver | None = None) -> Solution:
    """The spec's givens, its network drawing and its parts without their working: all the
    exercise sheet shows, made without deriving anything (so its TeX can start at once)."""
    deriver = deriver or Deriver(spec)
    return Solution(spec, deriver.givens(), tuple(PartSolution(p, ()) for p in spec.parts), deriver.diagram())


def solver(deriver: Deriver) -> Callable[[Part], PartSolution]:
    """Solve one part at a time, in the spec's order (later parts recall what earlier ones showed)."""

    def solve(part: Part) -> PartSolution:
        if part.kind not in KINDS:
            raise TypeError(f"no derivation for part kind {part.kind!r}")
        # The part's values display (in a notebook) with the sheet's names for its quantities.
        return replace(KINDS[part.kind](deriver, part), names=deriver.spec.sheet.names)

    return solve


def derive(spec: Spec) -> Solution:
    """Solve every part of ``spec`` exactly. Verification is separate: see :func:`derive.verify.gate`."""
    deriver = Deriver(spec)
    solve = solver(deriver)
    return Solution(spec, deriver.givens(), tuple(solve(part) for part in spec.parts), deriver.diagram())
