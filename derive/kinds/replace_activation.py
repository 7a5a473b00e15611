"""A layer's activation replaced (by the constant 0, say): the forward pass, the gradients and one
optimizer step of the changed network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from derive.catalog.activations import Activation
from derive.catalog.losses import Loss
from derive.exercise.kind import PartKind, Table, asks_network, reads_network
from derive.exercise.letters import stepping
from derive.exercise.model import Network, Part, Spec, Training
from derive.exercise.parts import PartReader
from derive.exercise.reader import MAX_LAYERS
from derive.exercise.shapes import LEARNING_RATE, Shape, optimizer_key, whole
from derive.kinds.asking import gradient, named, within
from derive.kinds.update import asked_keys as update_keys
from derive.kinds.update import training_question
from derive.maths.derivation import Derivation
from derive.maths.steps import Identity, PartSolution, Section
from derive.terms.formula import Quantity
from derive.terms.symbols import OUTPUT
from derive.tex.printer import Latex, Printer
from derive.verify.twins import Expected, sample_run


@dataclass(frozen=True)
class Replacement:
    layer: int
    activation: Activation
    training: Training


def read(
    reader: PartReader, path: list[str | int], table: Table, network: Network, earlier: list[Part[Any]]
) -> Replacement:
    training = reader.training(path, table, network)
    layer = reader.integer([*path, "layer"], table["layer"], 1, len(network.layers))
    activation = reader.activation([*path, "activation"], table["activation"])
    if activation.vector:
        raise reader.fail(
            [*path, "activation"], "softmax maps a whole layer: give it in [network], not as a replacement"
        )
    return Replacement(layer, activation, replace(training, wrt=()))


def variant(spec: Spec, part: Part[Replacement]) -> tuple[Network, Loss]:
    return spec.net.with_activation(part.params.layer, part.params.activation), spec.loss


def derive(d: Derivation, part: Part[Replacement]) -> PartSolution:
    activation = part.params.activation
    network, loss = d.variant(part)
    sections, fwd = d.sample_and_forward(network, loss, part)
    names = d.params.names()
    shown, bwd = d.gradient_sections(network, loss, part, fwd, names)
    sections = [
        Section("replaced", (Identity(activation.identity, activation.prose),)),
        *sections,
        *shown,
        *d.update_sections(network, loss, part, part.params.training, fwd, bwd, names),
    ]
    return PartSolution(part, tuple(sections), network_changed=True)


def twin(out: Expected, spec: Spec, part: Part[Replacement]) -> None:
    sample_run(out, spec, part, part.params.training)


def ask(part: Part[Replacement], network: Network, printer: Printer) -> Mapping[str, object]:
    return {
        **training_question(part.params.training, network, printer),
        "layer": part.params.layer,
        "activation": Latex(printer.pattern(part.params.activation.identity)),
        "activation_prose": part.params.activation.prose,
    }


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """ŷ, L and every parameter's gradient with the new activation, the new parameters and the loss after."""
    own = {q.key for q in quantities if not within(q) and (named(q, OUTPUT.base, "L") or gradient(q, inputs=False))}
    return own | update_keys(quantities)


KIND = PartKind(
    name="replace_activation",
    keys={
        "layer": whole(1, MAX_LAYERS, "the layer whose activation is replaced"),
        "activation": Shape("scalar_activation", "the new activation; not softmax"),
        "optimizer": optimizer_key("sgd"),
        "learning_rate": LEARNING_RATE,
    },
    required=("layer", "activation", "learning_rate"),
    sample="required",
    student=True,
    read=reads_network(read),
    derive=derive,
    twin=twin,
    ask=asks_network(ask),
    asked=asked_keys,
    variant=variant,
    letters=lambda replacement, notation: stepping(replacement.training.optimizer),
)
