"""Large learning rates: k optimizer steps for each of several learning rates, from the given
parameters; the loss after every step tabulated and plotted, and each run judged."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import sympy as sp

from derive.catalog.optimizers import Optimizer
from derive.exercise.kind import PartKind, asks_network, reads_network
from derive.exercise.kind import Table as SpecTable
from derive.exercise.letters import stepping
from derive.exercise.model import Network, Part, Spec, Training
from derive.exercise.parts import PartReader
from derive.exercise.shapes import Shape, optimizer_key, whole
from derive.maths.derivation import Derivation
from derive.maths.network import Params, State, after_steps, backward, forward, hyper_quantities, step
from derive.maths.steps import Cell, Finding, Identity, PartSolution, Plot, Section, Series, Table
from derive.maths.updates import initial_state
from derive.terms.display import Exact, Join, Pattern, Rounded
from derive.terms.formula import DIGITS, Quantity
from derive.terms.keys import Scope, key
from derive.terms.symbols import (
    LOSS,
    Updated,
)
from derive.tex.givens import hyper_list
from derive.tex.printer import Latex, Printer
from derive.verify.floats import Array, FloatNet
from derive.verify.twins import (
    Expected,
    after,
    all_names,
    forward_values,
    gradient_values,
    hyper_of,
    record_hyper,
    sample_of,
    start,
    step_values,
)

RUNAWAY = 1e100
"""A run stops once its loss passes this: it has diverged, and float64 could not check it further."""
MAX_RUN = 200
"""Most steps a run takes."""


@dataclass(frozen=True)
class RateSweep:
    rates: tuple[sp.Rational, ...]
    steps: int
    exact_steps: int
    """The first steps computed exactly (past them, 40-digit decimals)."""
    optimizer: Optimizer
    hyper: tuple[tuple[str, sp.Rational], ...] = ()

    @property
    def to_decimals(self) -> int:
        """The step after which a run goes on in decimals: its last exact one (the first, with none
        exact: its parameters are exact either way). Stepped from decimals, they stay decimals."""
        return max(self.exact_steps, 1)

    def training(self, rate: sp.Rational) -> Training:
        """The run with learning rate ``rate``."""
        return Training(self.optimizer, rate, self.hyper, self.steps)


def read(
    reader: PartReader, path: list[str | int], table: SpecTable, network: Network, earlier: list[Part[Any]]
) -> RateSweep:
    rates = reader.vector([*path, "learning_rates"], table["learning_rates"])
    for i, rate in enumerate(rates, 1):
        reader.positive([*path, f"learning_rates[{i}]"], str(rate) if rate.is_Rational else rate)
    steps = reader.integer([*path, "steps"], table.get("steps", 20), 1, MAX_RUN)
    exact = reader.integer([*path, "exact_steps"], table.get("exact_steps", 2), 0, min(3, steps))
    optimizer, hyper = reader.optimizer([*path, "optimizer"], table.get("optimizer", "sgd"), "sgd")
    return RateSweep(rates, steps, exact, optimizer, tuple(hyper.items()))


def as_decimals(values: Params) -> Params:
    """The same parameters as 40-digit decimals: later steps are computed in decimals only."""

    def decimal(q: Quantity) -> Quantity:
        return Quantity.given(q.symbol, sp.Float(q.approx, DIGITS), q.scope)

    return Params(
        tuple(tuple(tuple(decimal(q) for q in row) for row in w) for w in values.weights),
        tuple(tuple(decimal(q) for q in b) for b in values.biases),
    )


def verdict(losses: Sequence[float]) -> str:
    """How a run of losses behaves, by the rule the sheet states."""
    if not all(math.isfinite(v) for v in losses) or losses[-1] > losses[0]:
        return "diverges"
    if any(later > earlier for earlier, later in pairwise(losses)):
        return "oscillates"
    return "converges"


def derive(d: Derivation, part: Part[RateSweep]) -> PartSolution:
    """k optimizer steps for each learning rate, from the spec's parameters; the loss after each."""
    network, loss = d.variant(part)
    sweep = part.params
    sections, start = d.sample_and_forward(network, loss, part, show_forward=False)
    names = d.params.names()
    runs: list[list[Quantity]] = []
    for r, rate in enumerate(sweep.rates, 1):
        hyper = hyper_quantities(sweep.optimizer, rate, Scope.part(part.number).run(r), **dict(sweep.hyper))
        params, state, fwd = d.params, State(), start
        losses = [start.loss]
        for t in range(1, sweep.steps + 1):
            scope = Scope.part(part.number).run(r).step(t)
            bwd = backward(network, params, fwd, loss, scope)
            stepped = step(d.params, params, bwd, sweep.optimizer, hyper, state, names, scope)
            params, state = stepped.params, stepped.state
            fwd = forward(network, params, start.inputs, start.targets, loss, scope, mark=after_steps(t))
            # A decimal-only loss is listed as a value, not as a formula over the run's internals.
            losses.append(fwd.loss if t <= sweep.exact_steps else replace(fwd.loss, formula=None))
            if abs(float(fwd.loss.approx)) > RUNAWAY:
                break  # the run has diverged beyond any doubt, and float64 could not follow it further
            if t == sweep.to_decimals:
                # Past the exact steps every value is a 40-digit decimal: exact forms would only grow.
                params = as_decimals(params)
                fwd = forward(network, params, start.inputs, start.targets, loss, scope.tag("d"))
        runs.append(losses)
    header = ("t", *(Pattern(r"\alpha = #1", (Exact(rate),)) for rate in sweep.rates))
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (str(t), *(run[t] if t < len(run) else r"\text{--}" for run in runs)) for t in range(sweep.steps + 1)
    )
    curves = tuple(
        Series(Pattern(r"\alpha = #1", (Exact(rate),)), tuple((sp.Integer(t), q) for t, q in enumerate(run)))
        for rate, run in zip(sweep.rates, runs, strict=True)
    )
    positive = all(float(q.approx) > 0 for run in runs for q in run)
    findings = []
    for rate, run in zip(sweep.rates, runs, strict=True):
        values = [float(q.approx) for q in run]
        rises = sum(later > earlier for earlier, later in pairwise(values))
        findings.append(
            Finding(
                "lr_verdict",
                (
                    ("rate", Exact(rate)),
                    ("verdict", verdict(values)),
                    ("first", Rounded(run[0].approx, 4)),
                    ("last", Rounded(run[-1].approx, 4)),
                    ("rises", str(rises)),
                    ("steps", str(len(run) - 1)),
                    ("stopped", "yes" if len(run) - 1 < sweep.steps else ""),
                ),
            )
        )
    sections.append(
        Section(
            "lr_runs",
            (
                Identity(sweep.optimizer.formula, sweep.optimizer.prose),
                Table("lr_table", header, rows),
                Plot("lr_plot", "t", Pattern("@L_t"), curves, log_y=positive),
                *findings,
            ),
            label=str(sweep.exact_steps),
        )
    )
    return PartSolution(part, tuple(sections))


def twin(out: Expected, spec: Spec, part: Part[RateSweep]) -> None:
    network, loss = part.network_and_loss(spec)
    sweep = part.params
    x, y = sample_of(part)
    start(out, network, x, y, loss, Scope.part(part.number))
    names = all_names(network)
    for r, rate in enumerate(sweep.rates, 1):
        hyper = hyper_of(sweep.training(rate))
        record_hyper(out, Scope.part(part.number).run(r), hyper)
        net = FloatNet.of(network)
        state: dict[str, dict[tuple[str, int], Array]] = {}
        for t in range(1, sweep.steps + 1):
            scope = Scope.part(part.number).run(r).step(t)
            # The sheet lists a step's gradients only where it is worked exactly: no differences after.
            grads = gradient_values(out, network, net, x, y, loss, scope, differences=t <= sweep.exact_steps)
            net = step_values(out, network, net, grads, sweep.optimizer, hyper, state, t, names, scope)
            forward_values(out, network, net, x, y, loss, scope, after(t))
            if t == sweep.to_decimals:
                forward_values(out, network, net, x, y, loss, scope.tag("d"))
            if abs(out.values[key(scope, Updated(LOSS, t))]) > RUNAWAY:
                break


def ask(part: Part[RateSweep], network: Network, printer: Printer) -> Mapping[str, object]:
    sweep = part.params
    run = sweep.training(sweep.rates[0])  # every run alike but for α: its hyperparameters and state
    return {
        "rates": Latex(printer.show(Join(tuple(Exact(r) for r in sweep.rates)))),
        "steps": sweep.steps,
        "optimizer": sweep.optimizer.prose,
        "plain": sweep.optimizer.plain,
        "hyper": hyper_list(run, printer),
        "state": Latex(printer.show(initial_state(sweep.optimizer))) if sweep.optimizer.state else Latex(""),
    }


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """The loss after every step of every run (the table and the plot)."""
    return {q.key for q in quantities if isinstance(q.symbol, Updated) and q.symbol.of.base == "L"}


KIND = PartKind(
    name="learning_rates",
    keys={
        "learning_rates": Shape("numbers", "the learning rates α compared, each above 0"),
        "steps": whole(1, MAX_RUN, "steps of each run (default 20)"),
        "exact_steps": whole(0, 3, "steps worked out exactly (default 2)"),
        "optimizer": optimizer_key("sgd"),
    },
    required=("learning_rates",),
    sample="required",
    student=False,
    read=reads_network(read),
    derive=derive,
    twin=twin,
    ask=asks_network(ask),
    asked=asked_keys,
    plots=lambda params: True,
    letters=lambda sweep, notation: stepping(sweep.optimizer, several=True),  # a table and plot over the steps t
)
