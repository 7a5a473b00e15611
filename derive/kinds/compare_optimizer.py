"""Another optimizer against SGD: its first steps computed exactly, and its first step next to
gradient descent's for every parameter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from derive.exercise.kind import PartKind
from derive.exercise.kind import Table as SpecTable
from derive.exercise.model import Network, Part, Spec, Training
from derive.exercise.parts import PartReader
from derive.kinds.update import training_question
from derive.maths.derivation import Derivation
from derive.maths.network import Backward, Params
from derive.maths.steps import Finding, PartSolution, Section, Table
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
    all_names,
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
    after_first = after[0]
    sections.append(_first_step_comparison(d, part, first, after_first, hyper["alpha"]))
    return PartSolution(part, tuple(sections))


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
    after_first = run_steps(out, network, initial, x, y, loss, first, scope, training, all_names(network))[0]
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


KIND = PartKind(
    name="compare_optimizer",
    keys=("optimizer", "learning_rate", "steps", "beta1", "beta2", "epsilon"),
    required=("learning_rate",),
    sample="required",
    student=False,
    read=read,
    derive=derive,
    twin=twin,
    ask=ask,
)
