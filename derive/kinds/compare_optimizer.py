"""Another optimizer against SGD: its first steps computed exactly, its first step next to gradient
descent's for every parameter, and the loss after each method's steps with which lowered it more."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from derive.catalog.losses import Loss
from derive.catalog.optimizers import SGD
from derive.exercise.kind import PartKind, asks_network, reads_network
from derive.exercise.kind import Table as SpecTable
from derive.exercise.letters import stepping
from derive.exercise.model import Network, Part, Spec, Training
from derive.exercise.parts import PartReader
from derive.exercise.shapes import LEARNING_RATE, Shape, optimizer_key, whole
from derive.kinds.asking import new_parameters
from derive.kinds.update import training_question
from derive.maths.derivation import Derivation
from derive.maths.network import (
    Backward,
    Forward,
    Params,
    State,
    after_steps,
    backward,
    forward,
    hyper_quantities,
    step,
)
from derive.maths.steps import Cell, Finding, PartSolution, Section, Table
from derive.maths.updates import flat, optimizer_table
from derive.terms.display import Exact, Join, Pattern, Rounded
from derive.terms.formula import Difference, Negate, Product, Quantity, Ref
from derive.terms.keys import Scope, key
from derive.terms.symbols import StepSize
from derive.tex.givens import hypers
from derive.tex.printer import Printer
from derive.verify.floats import FloatNet
from derive.verify.twins import (
    Expected,
    after,
    all_names,
    forward_values,
    gradient_values,
    hyper_of,
    param_symbols,
    record_hyper,
    run_steps,
    sample_of,
    start,
)

MAX_STEPS = 3
"""Most steps computed exactly (Adam's closed forms grow fast)."""
TIE = 1e-12
"""Relative difference of the two final losses below which neither method did better."""


def sgd_scope(part: Part[Training]) -> Scope:
    """Where gradient descent's own run lives in the part: its steps, state and losses."""
    return Scope.part(part.number).run(1)


def sgd_training(training: Training) -> Training:
    """Gradient descent with the compared optimizer's learning rate and number of steps."""
    return Training(SGD, training.learning_rate, (), training.steps)


def read(
    reader: PartReader, path: list[str | int], table: SpecTable, network: Network, earlier: list[Part[Any]]
) -> Training:
    steps = reader.integer([*path, "steps"], table.get("steps", 2), 1, MAX_STEPS)
    hyper = tuple(
        (key, reader.positive([*path, key], table[key])) for key in ("beta1", "beta2", "epsilon") if key in table
    )
    training = reader.training(path, table, network, default="adam", steps=steps, hyper=hyper)
    for name, _ in hyper:
        if name not in training.optimizer.hyper:
            taken = ", ".join(training.optimizer.hyper) or "none"
            raise reader.fail([*path, name], f"not a hyperparameter of {training.optimizer.name} (it takes: {taken})")
    return replace(training, wrt=())


def derive(d: Derivation, part: Part[Training]) -> PartSolution:
    """The first steps of an optimizer (Adam) computed exactly, and its first step next to SGD's."""
    network, loss = d.variant(part)
    sections, start = d.sample_and_forward(network, loss, part, show_forward=False)
    names = d.params.names()
    shown, first = d.gradient_sections(network, loss, part, start, names)
    sections.extend(shown)
    steps, after, hyper = d.optimizer_run(
        network, loss, part, part.params, start, first, names, optimizer_table, "optimizer_step", str
    )
    sections.extend(steps)
    sections.append(_first_step_comparison(d, part, first, after[0], hyper["alpha"]))
    scope = Scope.part(part.number)
    # The loss at the parameters after each step: a new forward pass per method and step.
    losses = [
        forward(network, p, start.inputs, start.targets, loss, scope, after_steps(t)).loss
        for t, p in enumerate(after, 1)
    ]
    sections.append(_loss_comparison(part, start, losses, _sgd_losses(d, network, loss, part, start, first, names)))
    return PartSolution(part, tuple(sections))


def _sgd_losses(
    d: Derivation,
    network: Network,
    loss: Loss,
    part: Part[Training],
    start: Forward,
    first: Backward,
    names: tuple[str, ...],
) -> list[Quantity]:
    """Gradient descent from the same parameters with the same α, step by step: the loss after each step."""
    scope = sgd_scope(part)
    training = sgd_training(part.params)
    hyper = hyper_quantities(SGD, training.learning_rate, scope, d.spec.sheet.carry)
    params, state, grads, losses = d.params, State(), first, []
    for t in range(1, training.steps + 1):
        stepped = step(d.params, params, grads, SGD, hyper, state, names, scope)
        params, state = stepped.params, stepped.state
        fwd = forward(network, params, start.inputs, start.targets, loss, scope, after_steps(t))
        losses.append(fwd.loss)
        if t < training.steps:
            grads = backward(network, params, fwd, loss, scope.step(t + 1))
    return losses


def _loss_comparison(part: Part[Training], start: Forward, other: list[Quantity], sgd: list[Quantity]) -> Section:
    """The loss before and after every step under both methods, and which ended lower."""
    optimizer = part.params.optimizer
    header = ("t", Pattern(r"\text{SGD: } @L_t"), Pattern(rf"\text{{{optimizer.label}: }} @L_t"))
    rows: list[tuple[Cell, ...]] = [("0", start.loss, start.loss)]
    rows += [(str(t), s, o) for t, (s, o) in enumerate(zip(sgd, other, strict=True), 1)]
    before, sgd_end, other_end = float(start.loss.approx), float(sgd[-1].approx), float(other[-1].approx)
    tie = abs(sgd_end - other_end) <= TIE * max(abs(sgd_end), abs(other_end))
    winner = "tie" if tie else "gd" if sgd_end < other_end else "other"
    facts = (
        ("label", optimizer.label),
        ("steps", str(part.params.steps)),
        ("before", Rounded(start.loss.approx, 4)),
        ("sgd", Rounded(sgd[-1].approx, 4)),
        ("other", Rounded(other[-1].approx, 4)),
        ("sgd_rose", "yes" if sgd_end > before else ""),
        ("other_rose", "yes" if other_end > before else ""),
        ("winner", winner),
    )
    return Section(
        "optimizer_losses", (Table("optimizer_losses", header, tuple(rows)), Finding("optimizer_verdict", facts))
    )


def _first_step_comparison(
    d: Derivation, part: Part[Training], grads: Backward, after: Params, rate: Quantity
) -> Section:
    optimizer = part.params.optimizer
    scope = Scope.part(part.number)
    rows = []
    sizes, gradient_sizes, ratios, zero = [], [], [], []
    for name in d.params.names():
        for o, g, new in zip(
            flat(d.params.tensor(name)), flat(grads.gradients.tensor(name)), flat(after.tensor(name)), strict=True
        ):
            theta = o.symbol
            sgd = Quantity.computed(StepSize("sgd", o.name), Negate(Product((Ref(rate), Ref(g)))), scope)
            moved = Quantity.computed(StepSize(optimizer.name, o.name), Difference(Ref(new), Ref(o)), scope)
            rows.append((theta, g, sgd, moved))
            if g.exact == 0:
                zero.append(theta)
            else:
                gradient_sizes.append(abs(float(g.approx)))
                sizes.append(abs(float(moved.approx)))
                ratios.append(float(moved.approx / sgd.approx))
    header = (
        Pattern(r"\theta"),
        Pattern(r"g = \partial @L / \partial \theta"),
        Pattern(r"\text{SGD: } -\alpha g"),
        Pattern(rf"\text{{{optimizer.label}: }} \theta_1 - \theta_0"),
    )
    table = Table("optimizer_comparison", header, tuple(rows))
    if optimizer.first_step:  # the optimizer's own account of its first step (Adam's: α times the sign)
        alpha = float(rate.approx)
        facts = (
            ("alpha", Exact(rate.exact)),
            ("deviation", Rounded(max((abs(size - alpha) / alpha for size in sizes), default=0.0), 2)),
            ("gmin", Rounded(min(gradient_sizes, default=0.0), 4)),
            ("gmax", Rounded(max(gradient_sizes, default=0.0), 4)),
            ("zero", Join(tuple(zero))),
            ("moved", str(len(sizes))),
        )
        return Section("optimizer_comparison", (table, Finding(optimizer.first_step, facts)))
    # Otherwise its first step against SGD's, parameter by parameter: the range of their ratio.
    low, high = (Rounded(min(ratios), 4), Rounded(max(ratios), 4)) if ratios else ("1", "1")
    ratio = (
        ("method", optimizer.prose),
        ("low", low),
        ("high", high),
        ("zero", Join(tuple(zero))),
        ("moved", str(len(sizes))),
    )
    return Section("optimizer_comparison", (table, Finding("step_ratio", ratio)))


def twin(out: Expected, spec: Spec, part: Part[Training]) -> None:
    network, loss = part.network_and_loss(spec)
    training = part.params
    scope = Scope.part(part.number)
    x, y = sample_of(part)
    start(out, network, x, y, loss, scope)
    initial = FloatNet.of(network)
    hyper = hyper_of(training)
    record_hyper(out, scope, hyper)
    first = gradient_values(out, network, initial, x, y, loss, scope)
    names = all_names(network)
    nets = run_steps(out, network, initial, x, y, loss, first, scope, training, names)
    after_first = nets[0]
    # The loss after every step of both methods (gradient descent as its own run from the same start).
    sgd = sgd_training(training)
    record_hyper(out, sgd_scope(part), hyper_of(sgd))
    sgd_nets = run_steps(out, network, initial, x, y, loss, first, sgd_scope(part), sgd, names)
    for where, run in ((scope, nets), (sgd_scope(part), sgd_nets)):
        for t, net in enumerate(run, 1):
            forward_values(out, network, net, x, y, loss, where, after(t))
    for kind, symbol, l, index in param_symbols(network):
        g = float((first.weights if kind == "w" else first.biases)[l - 1][index])
        old = float((initial.weights if kind == "w" else initial.biases)[l - 1][index])
        new = float((after_first.weights if kind == "w" else after_first.biases)[l - 1][index])
        out.values[key(scope, StepSize("sgd", symbol))] = -hyper["alpha"] * g
        out.values[key(scope, StepSize(training.optimizer.name, symbol))] = new - old


def ask(part: Part[Training], network: Network, printer: Printer) -> Mapping[str, object]:
    training = part.params
    return {
        **training_question(training, network, printer),
        "hypers": hypers(training, printer),  # each on its own, β_1 = 0.9: the question lists them beside α
    }


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """The parameters after each of the steps, and each parameter's first step beside SGD's."""
    return new_parameters(quantities, every_step=True) | {q.key for q in quantities if isinstance(q.symbol, StepSize)}


KIND = PartKind(
    name="compare_optimizer",
    keys={
        "optimizer": optimizer_key("adam"),
        "learning_rate": LEARNING_RATE,
        "steps": whole(1, MAX_STEPS, "steps shown in full (default 2)"),
        "beta1": Shape("positive", "Adam's β₁"),
        "beta2": Shape("positive", "Adam's β₂"),
        "epsilon": Shape("positive", "the ε in the denominator"),
    },
    required=("learning_rate",),
    sample="required",
    student=False,
    read=reads_network(read),
    derive=derive,
    twin=twin,
    ask=asks_network(ask),
    asked=asked_keys,
    letters=lambda training, notation: stepping(training.optimizer, several=True),  # a table over the steps t
)
