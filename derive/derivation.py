"""From a validated spec to a solution: each task kind is one function from a part to its steps."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from derive.classification import cross_entropy_part, mse_vs_ce_part
from derive.deriver import Deriver
from derive.experiments import compare_activation_part, compare_optimizer_part, extra_layer_part, learning_rates_part
from derive.spec import Part, Spec
from derive.steps import PartSolution, Solution

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
}


def derive(spec: Spec) -> Solution:
    """Solve every part of ``spec`` exactly. Verification is separate: see :func:`derive.verify`."""
    deriver = Deriver(spec)
    parts = []
    for part in spec.parts:
        if part.kind not in KINDS:
            raise TypeError(f"no derivation for part kind {part.kind!r}")
        parts.append(KINDS[part.kind](deriver, part))
    return Solution(spec, deriver.givens(), tuple(parts), deriver.diagram())
