"""Gradients by backpropagation: the forward pass, then every step of the chain rule down to the
parameters asked for (or to the input), of the loss or of one output itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from derive.exercise.kind import PartKind, Table, asks_network, reads_network
from derive.exercise.letters import parameter
from derive.exercise.model import Network, Part
from derive.exercise.parts import PartReader
from derive.exercise.shapes import WRT_OR_INPUT, Shape
from derive.kinds.asking import gradient, within
from derive.maths.derivation import Derivation
from derive.maths.steps import PartSolution
from derive.terms.formula import Quantity
from derive.tex.givens import wrt
from derive.tex.printer import Printer
from derive.verify.twins import sample_run


@dataclass(frozen=True)
class Gradients:
    wrt: tuple[str, ...] = ()
    """The parameters (W1, b1, …, or the input x) whose gradients it asks for; empty: every parameter."""


def read(
    reader: PartReader, path: list[str | int], table: Table, network: Network, earlier: list[Part[Any]]
) -> Gradients:
    return Gradients(reader.wrt([*path, "wrt"], table["wrt"], network, inputs=True) if "wrt" in table else ())


def derive(d: Derivation, part: Part[Gradients]) -> PartSolution:
    network, loss = d.variant(part)
    sections, fwd = d.sample_and_forward(network, loss, part)
    sections.extend(d.gradient_sections(network, loss, part, fwd, part.params.wrt or d.params.names())[0])
    return PartSolution(part, tuple(sections))


def ask(part: Part[Gradients], network: Network, printer: Printer) -> Mapping[str, object]:
    return {"wrt": wrt(part.params.wrt, network, printer)}


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """The gradient of L (or of an output) for every parameter entry asked, and x where asked."""
    return {q.key for q in quantities if not within(q) and gradient(q)}


KIND = PartKind(
    name="gradients",
    keys={
        "wrt": WRT_OR_INPUT,
        "of": Shape("objective", 'what is differentiated: "L" (default) or an output "yhat", "yhat[j]"'),
    },
    required=(),
    sample="required",
    student=True,
    read=reads_network(read),
    derive=derive,
    twin=sample_run,
    ask=asks_network(ask),
    asked=asked_keys,
    letters=parameter,
)
