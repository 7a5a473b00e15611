"""Optimizer steps: the gradients at the given parameters, one or more steps of the optimizer (any
of the catalogue's), and the forward pass and loss after them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from derive.exercise.kind import PartKind, Table, asks_network, reads_network
from derive.exercise.letters import error_rule, stepping
from derive.exercise.model import Network, Part, Spec, Training
from derive.exercise.parts import MAX_STEPS, PartReader
from derive.exercise.shapes import LEARNING_RATE, WRT_PARAMETERS, Shape, optimizer_key, whole
from derive.kinds.asking import new_loss, new_parameters
from derive.maths.derivation import Derivation
from derive.maths.steps import PartSolution
from derive.maths.updates import frozen_entries, initial_state, tied_groups
from derive.terms.formula import Quantity
from derive.tex.givens import hyper_list, wrt
from derive.tex.printer import Latex, Printer
from derive.verify.twins import Expected, sample_run


def read(
    reader: PartReader, path: list[str | int], table: Table, network: Network, earlier: list[Part[Any]]
) -> Training:
    training = reader.training(path, table, network)
    steps = reader.integer([*path, "steps"], table.get("steps", 1), 1, MAX_STEPS)
    frozen = reader.frozen([*path, "frozen"], table["frozen"], network) if "frozen" in table else ()
    tied = reader.tied([*path, "tied"], table["tied"], network, frozen, training.wrt) if "tied" in table else ()
    return replace(training, steps=steps, frozen=frozen, tied=tied)


def derive(d: Derivation, part: Part[Training]) -> PartSolution:
    network, loss = d.variant(part)
    sections, fwd = d.sample_and_forward(network, loss, part, show_forward=False)
    names = part.params.wrt or d.params.names()
    shown, bwd = d.gradient_sections(network, loss, part, fwd, names)
    sections.extend(shown)
    sections.extend(d.update_sections(network, loss, part, part.params, fwd, bwd, names))
    return PartSolution(part, tuple(sections))


def twin(out: Expected, spec: Spec, part: Part[Training]) -> None:
    sample_run(out, spec, part, part.params)


def ask(part: Part[Training], network: Network, printer: Printer) -> Mapping[str, object]:
    # One plain step on a sheet of the error term is asked in its rule, w_ij + α Err_j O_i.
    return {
        **training_question(part.params, network, printer),
        "error_rule": error_rule(part.params, printer.look.notation),
    }


def training_question(training: Training, network: Network, printer: Printer) -> dict[str, object]:
    """What a question says of its training: the optimizer (its words and update rule), the learning
    rate, every hyperparameter as used, the state it starts from, the number of steps, the parameters
    it moves, and the entries it leaves frozen or moves tied (each named as the sheet names it)."""
    return {
        "optimizer": training.optimizer.prose,
        "label": training.optimizer.label,
        "plain": training.optimizer.plain,
        "optimizer_formula": Latex(printer.pattern(training.optimizer.formula)),
        "learning_rate": Latex(printer.given(training.learning_rate)),
        "hyper": hyper_list(training, printer),
        "steps": training.steps,
        "wrt": wrt(training.wrt, network, printer),
        # m_0 = v_0 = 0: what the first step's m_{t-1}, v_{t-1} are (empty for plain gradient descent).
        "state": Latex(printer.show(initial_state(training.optimizer))) if training.optimizer.state else Latex(""),
        "frozen": Latex(printer.show(frozen_entries(training.frozen))) if training.frozen else Latex(""),
        "frozen_many": len(training.frozen) > 1,
        "tied": Latex(printer.show(tied_groups(training.tied))) if training.tied else Latex(""),
    }


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """The new parameters and the new loss, after the last step."""
    return new_parameters(quantities) | new_loss(quantities)


KIND = PartKind(
    name="update",
    keys={
        "optimizer": optimizer_key("sgd"),
        "learning_rate": LEARNING_RATE,
        "wrt": WRT_PARAMETERS,
        "steps": whole(1, MAX_STEPS, "steps shown in full (default 1)"),
        "frozen": Shape("entries", 'tensors or entries that stay fixed: "W1", "w2[1,1]", "b2[1]"'),
        "tied": Shape("groups", 'groups of entries that share one value: [["w1[1,1]", "w2[1,2]"]]'),
    },
    required=("learning_rate",),
    sample="required",
    student=True,
    read=reads_network(read),
    derive=derive,
    twin=twin,
    ask=asks_network(ask),
    asked=asked_keys,
    letters=lambda training, notation: stepping(training.optimizer, theta=not error_rule(training, notation)),
)
