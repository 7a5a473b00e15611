"""A forward pass: every layer's pre-activation and activation, the output and the loss, for one input."""

from __future__ import annotations

from derive.exercise.kind import Nothing, PartKind, ask_nothing, read_nothing
from derive.exercise.letters import none
from derive.exercise.model import Part
from derive.kinds.asking import named, within
from derive.maths.derivation import Derivation
from derive.maths.steps import PartSolution
from derive.terms.formula import Quantity
from derive.terms.symbols import OUTPUT
from derive.verify.twins import sample_run


def derive(d: Derivation, part: Part[Nothing]) -> PartSolution:
    network, loss = d.variant(part)
    sections, _ = d.sample_and_forward(network, loss, part, recall=False)
    return PartSolution(part, tuple(sections))


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """Every layer's z and a, the output ŷ and the loss L."""
    return {q.key for q in quantities if not within(q) and named(q, "z", "a", OUTPUT.base, "L")}


KIND = PartKind(
    name="forward",
    keys={},
    required=(),
    sample="required",
    student=True,
    read=read_nothing,
    derive=derive,
    twin=sample_run,
    ask=ask_nothing,
    asked=asked_keys,
    letters=none,
)
