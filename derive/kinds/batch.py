"""A batch of samples: each loss L_n and its gradients, the batch loss and gradient, SGD per batch or per sample.

``mode = "batch"``: every sample's gradients at the same parameters, then one step with the batch
gradient ∂L/∂θ = (1/N) Σ_n ∂L_n/∂θ (or the sum). ``mode = "per_sample"``: one step per sample, in
order, each from the gradient of that sample at the parameters the previous step left (the
optimizer's state carries over). Either way the batch loss before and after is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sympy as sp

from derive.catalog.losses import Loss
from derive.exercise.kind import PartKind
from derive.exercise.kind import Table as SpecTable
from derive.exercise.model import Network, Part, Sample, Spec, Training
from derive.exercise.parts import PartReader
from derive.kinds.update import training_question
from derive.maths.derivation import Derivation, gradient_findings, loss_findings
from derive.maths.general import column
from derive.maths.network import (
    Backward,
    Forward,
    Params,
    State,
    backward,
    forward,
    given_sample,
    hyper_quantities,
    step,
)
from derive.maths.steps import Compute, Given, Identity, PartSolution, Section, Step
from derive.maths.updates import flat, optimizer_steps
from derive.terms.formula import Node, Num, Product, Quantity, Ref, Sum, Tensor
from derive.terms.keys import Scope, key, parameter
from derive.terms.symbols import LOSS, TARGET, Partial, Sym, Symbolic, Updated, sample_loss
from derive.tex.printer import Latex, Printer
from derive.verify.floats import Array, FloatNet, Gradients, central_difference, extended
from derive.verify.twins import (
    Expected,
    Mark,
    all_names,
    at_kink,
    entry_of,
    forward_values,
    gradient_values,
    hyper_of,
    network_loss,
    param_symbols,
    record_hyper,
    rounding_of,
    step_values,
)


@dataclass(frozen=True)
class Batch:
    samples: tuple[Sample, ...]
    mode: str
    """"batch": one step with the batch gradient; "per_sample": one step per sample, in order."""
    mean: bool
    """Whether the batch loss is the mean of the samples' losses (else their sum)."""
    training: Training


def read(
    reader: PartReader, path: list[str | int], table: SpecTable, network: Network, earlier: list[Part[Any]]
) -> Batch:
    training = reader.training(path, table, network)
    samples, mode, mean = reader.batch(path, table, network)
    return Batch(samples, mode, mean, training)


def sample_scope(part: Part[Batch], n: int) -> Scope:
    """Answer keys of sample n's quantities: ``p3.s2.z1[1]``."""
    return Scope.part(part.number).sample(n)


def sample_mark(n: int, steps_before: int) -> Callable[[Sym], Symbolic]:
    """Sample n's symbols: its loss is L_n, and the parameters carry a prime per step taken before it."""

    def mark(symbol: Sym) -> Symbolic:
        if symbol == LOSS:
            return sample_loss(n)
        if steps_before and symbol.base in ("W", "b"):
            return Updated(symbol, steps_before)
        return symbol

    return mark


def sample_pass(
    d: Derivation,
    network: Network,
    loss: Loss,
    part: Part[Batch],
    n: int,
    params: Params,
    names: Sequence[str],
    steps_before: int,
) -> tuple[list[Section], Forward, Backward]:
    """Sample n: its givens, forward pass, loss L_n and every gradient ∂L_n/∂θ, in full."""
    mark = sample_mark(n, steps_before)
    scope = sample_scope(part, n)
    x, y = given_sample(part.params.samples[n - 1], scope, d.spec.sheet.carry)
    fwd = forward(network, params, x, y, loss, scope, mark=mark)
    bwd = backward(network, params, fwd, loss, scope)
    label = str(n)
    return (
        [
            Section("batch_sample", (Given(Sym("x"), column(x)), Given(Sym(TARGET.base), column(y))), label),
            Section("forward", d.forward_steps(network, params, fwd, mark)),
            Section("loss", (d.loss_step(fwd, loss, mark), *loss_findings(fwd, loss))),
            Section(
                "backward",
                (*d.backward_steps(network, loss, params, fwd, bwd, names, mark), *gradient_findings(bwd, names)),
                label,
            ),
        ],
        fwd,
        bwd,
    )


def combined(symbol: Symbolic, parts: Sequence[Quantity], mean: bool, scope: Scope) -> Quantity:
    """(1/N)(q_1 + … + q_N), or the plain sum."""
    total: Node = Sum(tuple(Ref(q) for q in parts))
    formula = Product((Num(sp.Rational(1, len(parts))), total)) if mean else total
    return Quantity.computed(symbol, formula, scope)


def batch_gradient(bwds: Sequence[Backward], mean: bool, scope: Scope) -> Backward:
    """∂L/∂θ of the batch loss for every parameter entry, from the samples' gradients."""

    def entry(pick: int, layer: int, *index: int) -> Quantity:
        values = [
            (b.gradients.weights[layer][index[0]][index[1]] if pick == 0 else b.gradients.biases[layer][index[0]])
            for b in bwds
        ]
        symbol = values[0].symbol
        assert isinstance(symbol, Partial)
        return combined(Partial(LOSS, symbol.den), values, mean, scope)

    first = bwds[0].gradients
    weights = tuple(
        tuple(tuple(entry(0, l, j, k) for k in range(len(row))) for j, row in enumerate(w))
        for l, w in enumerate(first.weights)
    )
    biases = tuple(tuple(entry(1, l, j) for j in range(len(b))) for l, b in enumerate(first.biases))
    return Backward((), (), (), Params(weights, biases))


def batch_loss_step(fwds: Sequence[Forward], mean: bool, scope: Scope, times: int = 0) -> Compute:
    """L = (1/N) Σ_n L_n (primed after ``times`` steps)."""
    symbol: Symbolic = Updated(LOSS, times) if times else LOSS
    total = combined(symbol, [f.loss for f in fwds], mean, scope)
    return Compute(symbol, None, (total,), shape=(1, 1))


def gradient_steps(bwds: Sequence[Backward], batch: Backward, names: Sequence[str], mean: bool) -> list[Step]:
    """∂L/∂θ = (1/N)(∂L_1/∂θ + … + ∂L_N/∂θ) per parameter tensor, then entry by entry."""
    steps: list[Step] = []
    for name in names:
        symbol = parameter(name)
        terms = tuple(Tensor(Partial(sample_loss(n), symbol), b.gradients.tensor(name)) for n, b in enumerate(bwds, 1))
        general: Node = Sum(terms)
        if mean:
            general = Product((Num(sp.Rational(1, len(bwds))), general))
        values = batch.gradients.tensor(name)
        steps.append(Compute(Partial(LOSS, symbol), general, flat(values), shape=(len(values), len(values[0]))))
    return steps


def after_sections(
    d: Derivation, network: Network, loss: Loss, part: Part[Batch], params: Params, times: int
) -> tuple[list[Section], list[Forward]]:
    """Every sample through the network after ``times`` steps, and the batch loss there."""
    sections: list[Section] = []
    fwds = []
    for n in range(1, len(part.params.samples) + 1):
        scope = sample_scope(part, n)
        x, y = given_sample(part.params.samples[n - 1], scope, d.spec.sheet.carry)

        def mark(symbol: Sym, n: int = n) -> Symbolic:
            return Updated(sample_loss(n) if symbol == LOSS else symbol, times)

        fwd = forward(network, params, x, y, loss, scope, mark=mark)
        fwds.append(fwd)
        steps = (*d.forward_steps(network, params, fwd, mark), d.loss_step(fwd, loss, mark))
        sections.append(Section("batch_after", steps, str(n)))
    total = batch_loss_step(fwds, part.params.mean, Scope.part(part.number), times)
    sections.append(Section("batch_after_loss", (total,), str(times)))
    return sections, fwds


def derive(d: Derivation, part: Part[Batch]) -> PartSolution:
    """A batch part: per-sample passes, then one step per batch or per sample, then the losses after."""
    batch, training = part.params, part.params.training
    optimizer = training.optimizer
    network, loss = d.variant(part)
    names = training.wrt or d.params.names()
    scope, mean = Scope.part(part.number), batch.mean
    hyper = hyper_quantities(optimizer, training.learning_rate, scope, d.spec.sheet.carry, **dict(training.hyper))
    intro: tuple[Step, ...] = (Identity(optimizer.formula, optimizer.prose),)
    sections: list[Section] = []
    if batch.mode == "batch":
        fwds, bwds = [], []
        for n in range(1, len(part.params.samples) + 1):
            shown, fwd, bwd = sample_pass(d, network, loss, part, n, d.params, names, 0)
            sections += shown
            fwds.append(fwd)
            bwds.append(bwd)
        combined_gradient = batch_gradient(bwds, mean, scope)
        total = batch_loss_step(fwds, mean, scope)
        sections.append(Section("batch_gradient", (total, *gradient_steps(bwds, combined_gradient, names, mean))))
        stepped = step(d.params, d.params, combined_gradient, optimizer, hyper, State(), names, scope)
        shown_step = optimizer_steps(optimizer, hyper, d.params, combined_gradient, stepped, names)
        sections.append(Section("update", (*intro, *shown_step)))
        params, times = stepped.params, 1
    else:
        params, state = d.params, State()
        losses = []
        for n in range(1, len(part.params.samples) + 1):
            shown, fwd, bwd = sample_pass(d, network, loss, part, n, params, names, n - 1)
            sections += shown
            losses.append(fwd)
            stepped = step(d.params, params, bwd, optimizer, hyper, state, names, scope)
            shown_step = optimizer_steps(optimizer, hyper, params, bwd, stepped, names, n == 1)
            sections.append(Section("batch_update", (*(intro if n == 1 else ()), *shown_step), str(n)))
            params, state = stepped.params, stepped.state
        times = len(part.params.samples)
    after, _ = after_sections(d, network, loss, part, params, times)
    return PartSolution(part, (*sections, *after))


def twin(out: Expected, spec: Spec, part: Part[Batch]) -> None:
    """Each sample's pass and gradients, the batch loss and gradient, and the steps, per batch or per sample."""
    network, loss = part.network_and_loss(spec)
    batch, training = part.params, part.params.training
    scope, size = Scope.part(part.number), len(batch.samples)
    scale = 1.0 / size if batch.mean else 1.0
    samples = [(extended(s.x), extended(s.y)) for s in batch.samples]
    hyper = hyper_of(training)
    record_hyper(out, scope, hyper)
    names = training.wrt or all_names(network)
    state: dict[str, dict[tuple[str, int], Array]] = {}
    net = FloatNet.of(network, rounding_of(spec))
    r = net.r

    def one(n: int, at: FloatNet) -> Gradients:
        x, y = samples[n - 1]
        sample = scope.sample(n)
        out.vector(sample, "x", x)
        out.vector(sample, "y", y)
        forward_values(out, network, at, x, y, loss, sample, marked(n, 0))
        return gradient_values(out, network, at, x, y, loss, sample, sample_loss(n))

    def marked(n: int, times: int) -> Mark:
        """Sample n's loss is L_n; after ``times`` steps every symbol carries their primes."""

        def mark(symbol: Sym) -> Symbolic:
            named = sample_loss(n) if symbol == LOSS else symbol
            return Updated(named, times) if times else named

        return mark

    def combined(values: list[Array]) -> Array:
        """(1/N) Σ_n, or the plain sum, of the samples' values (the student policy rounds it once)."""
        return r(scale * np.sum(values, axis=0))

    if batch.mode == "batch":
        each = [one(n, net) for n in range(1, size + 1)]
        out.values[key(scope, LOSS)] = float(
            combined([np.array(out.values[key(scope.sample(n), sample_loss(n))]) for n in range(1, size + 1)])
        )
        whole = network_loss(network, loss)
        layers = range(len(network.layers))
        grads = replace(
            each[0],
            weights=tuple(combined([g.weights[l] for g in each]) for l in layers),
            biases=tuple(combined([g.biases[l] for g in each]) for l in layers),
        )
        coarse = net.coarse()  # what the differences nudge, with the samples in float64 too
        coarse_samples = [(x.astype(float), y.astype(float)) for x, y in samples]
        kinked = any(at_kink(network, coarse.forward(x)[0]) for x, _ in coarse_samples)
        unrounded = [g.unrounded for g in each if g.unrounded is not None]  # empty unless the student policy
        for kind, symbol, l, index in param_symbols(network):

            def batch_loss(h: float, kind: str = kind, l: int = l, index: tuple[int, ...] = index) -> float:
                moved = coarse.with_param(kind, l, index, h)
                return scale * sum(whole(*moved.forward(x), y) for x, y in coarse_samples)

            start = float((net.weights if kind == "w" else net.biases)[l - 1][index])
            gradient = key(scope, Partial(LOSS, symbol))
            where = ("weights" if kind == "w" else "biases", (l - 1, *index))
            out.values[gradient] = entry_of(grads, *where)
            if unrounded:
                out.unrounded[gradient] = scale * sum(entry_of(g, *where) for g in unrounded)
            if not kinked:
                out.differences[gradient] = central_difference(batch_loss, start)
        net = step_values(out, network, net, grads, training.optimizer, hyper, state, 1, names, scope)
        times = 1
    else:
        for n in range(1, size + 1):
            net = step_values(out, network, net, one(n, net), training.optimizer, hyper, state, n, names, scope)
        times = size
    for n, (x, y) in enumerate(samples, 1):
        forward_values(out, network, net, x, y, loss, scope.sample(n), marked(n, times))
    out.values[key(scope, Updated(LOSS, times))] = float(
        combined(
            [np.array(out.values[key(scope.sample(n), Updated(sample_loss(n), times))]) for n in range(1, size + 1)]
        )
    )


def ask(part: Part[Batch], network: Network, printer: Printer) -> Mapping[str, object]:
    batch = part.params
    return {
        **training_question(batch.training, network, printer),
        "samples": [{"x": Latex(printer.vector(s.x)), "y": Latex(printer.vector(s.y))} for s in batch.samples],
        "mode": batch.mode,
        "batch_mean": batch.mean,
    }


KIND = PartKind(
    name="batch",
    keys=("samples", "mode", "batch_reduction", "optimizer", "learning_rate", "wrt"),
    required=("samples", "learning_rate"),
    sample="none",
    student=True,
    read=read,
    derive=derive,
    twin=twin,
    ask=ask,
)
