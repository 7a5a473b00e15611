""" "Show that ŷ = c": the forward pass of one input, and its output checked exactly against the claim."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from derive.errors import SpecError
from derive.exercise.kind import PartKind, Table, asks_network, reads_network
from derive.exercise.letters import none
from derive.exercise.model import Network, Part, Vector
from derive.exercise.parts import PartReader
from derive.exercise.shapes import Shape
from derive.kinds.asking import named, within
from derive.maths.derivation import Derivation
from derive.maths.steps import Claim, PartSolution, Section, Step
from derive.terms.formula import DIGITS, MP, Quantity, approximate
from derive.terms.symbols import OUTPUT
from derive.tex.printer import Latex, Printer
from derive.verify.twins import sample_run


@dataclass(frozen=True)
class ShowThat:
    claim: Vector
    """The output the part claims, one value per output."""


def read(
    reader: PartReader, path: list[str | int], table: Table, network: Network, earlier: list[Part[Any]]
) -> ShowThat:
    claim = reader.vector([*path, "yhat"], table["yhat"], scalar_ok=True)
    if len(claim) != network.outputs:
        raise reader.fail([*path, "yhat"], f"the network has {network.outputs} outputs; found {len(claim)} values")
    return ShowThat(claim)


def derive(d: Derivation, part: Part[ShowThat]) -> PartSolution:
    network, loss = d.variant(part)
    sections, fwd = d.sample_and_forward(network, loss, part, recall=False)
    claims: list[Step] = []
    for j, (q, claimed) in enumerate(zip(fwd.output, part.params.claim, strict=True), 1):
        difference = q.exact - claimed
        if difference.free_symbols:  # a long closed form: the claim is checked to the carried digits
            holds = abs(q.approx - approximate(claimed)) <= MP.mpf(10) ** -(DIGITS - 5) * max(1, abs(q.approx))
        else:
            holds = difference == 0 or (abs(float(q.approx) - float(claimed)) <= 1e-30 and difference.equals(0))
        if not holds:
            name = "ŷ" if len(fwd.output) == 1 else f"ŷ_{j}"
            computed = f"{q.exact} ≈ {float(q.approx):.6g}"
            raise SpecError(
                f"parts[{part.number}].yhat",
                f"the claim {name} = {claimed} is false: derive computes {name} = {computed}",
            )
        claims.append(Claim(q, claimed))
    # The claim is shown right after the forward pass, before the loss.
    return PartSolution(part, (*sections[:2], Section("claim", tuple(claims)), *sections[2:]))


def ask(part: Part[ShowThat], network: Network, printer: Printer) -> Mapping[str, object]:
    return {"claim": Latex(printer.vector(part.params.claim))}


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """ŷ (shown to be exact) and the loss L."""
    return {q.key for q in quantities if not within(q) and named(q, OUTPUT.base, "L")}


KIND = PartKind(
    name="show_that",
    keys={"yhat": Shape("numbers_or_number", "the output ŷ the student shows to be exact")},
    required=("yhat",),
    sample="required",
    student=False,
    read=reads_network(read),
    derive=derive,
    twin=sample_run,
    ask=asks_network(ask),
    asked=asked_keys,
    letters=none,
)
