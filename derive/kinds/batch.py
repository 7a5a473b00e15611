"""A batch of samples: each loss L_n and its gradients, the batch loss and gradient, SGD per batch or per sample.

``mode = "batch"``: every sample's gradients at the same parameters, then one step with the batch
gradient ∂L/∂θ = (1/N) Σ_n ∂L_n/∂θ (or the sum); ``steps = k`` takes k such steps (epochs), the
first worked in full, the later ones as tables of values, the optimizer's state carried from step
to step, and tabulates and plots the losses before every step and after the last.
``mode = "per_sample"``: one step per sample, in order, each from the gradient of that sample at
the parameters the previous step left (the optimizer's state carries over). Either way the batch
loss before and after is shown. Without a learning rate the part asks for the gradients only;
``wrt`` may name the input x, whose gradient ∂L_n/∂x is each sample's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sympy as sp

from derive.catalog.losses import REDUCTIONS, Loss
from derive.exercise.kind import PartKind, asks_network, reads_network
from derive.exercise.kind import Table as SpecTable
from derive.exercise.letters import stepping
from derive.exercise.model import Network, Part, Sample, Spec, Training
from derive.exercise.parts import BATCH_MODES, MAX_BATCH, MAX_STEPS, PartReader
from derive.exercise.shapes import WRT_OR_INPUT, Shape, choice, optimizer_key, whole
from derive.kinds.asking import gradient, named, parameter_symbol, within
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
from derive.maths.steps import Cell, Compute, Given, Identity, PartSolution, Plot, Section, Series, Step, Table, Values
from derive.maths.updates import flat, optimizer_steps, optimizer_table
from derive.terms.display import Pattern
from derive.terms.formula import Difference, Node, Num, Product, Quantity, Ref, Sum, Tensor
from derive.terms.keys import Scope, key, parameter
from derive.terms.symbols import (
    LOSS,
    OUTPUT,
    TARGET,
    Partial,
    Sym,
    Symbolic,
    Updated,
    sample_loss,
)
from derive.tex.givens import wrt
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
    """"batch": one step with the batch gradient per epoch; "per_sample": one step per sample, in order."""
    mean: bool
    """Whether the batch loss is the mean of the samples' losses (else their sum)."""
    training: Training | None
    """The steps (``steps``: epochs of the whole batch); None: the part asks for the gradients only."""
    wrt: tuple[str, ...] = ()
    """The parameters whose gradients it asks for (W1, b1, …); empty: every parameter, unless ``inputs``."""
    inputs: bool = False
    """Whether it asks for each sample's gradient with respect to its input, ∂L_n/∂x."""

    @property
    def steps(self) -> int:
        return self.training.steps if self.training is not None else 0


def read(
    reader: PartReader, path: list[str | int], table: SpecTable, network: Network, earlier: list[Part[Any]]
) -> Batch:
    samples, mode, mean = reader.batch(path, table, network)
    asked = reader.wrt([*path, "wrt"], table["wrt"], network, inputs=True) if "wrt" in table else ()
    wrt = tuple(name for name in asked if name != "x")
    if "learning_rate" not in table:
        for key in ("optimizer", "steps"):
            if key in table:
                raise reader.fail([*path, key], "without learning_rate a batch part asks for gradients only")
        if mode == "per_sample":
            raise reader.fail([*path, "mode"], "per_sample takes a step after each sample: give learning_rate")
        return Batch(samples, mode, mean, None, wrt, "x" in asked)
    if asked and not wrt:
        raise reader.fail([*path, "wrt"], "a step moves parameters, not the input x: name one of them too")
    training = reader.training(path, {k: v for k, v in table.items() if k != "wrt"}, network)
    steps = reader.integer([*path, "steps"], table.get("steps", 1), 1, MAX_STEPS)
    if steps > 1 and mode == "per_sample":
        raise reader.fail(
            [*path, "steps"], 'several steps (epochs) need mode = "batch"; per_sample steps once per sample'
        )
    return Batch(samples, mode, mean, replace(training, steps=steps, wrt=wrt), wrt, "x" in asked)


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
) -> tuple[list[Section], list[Forward], Quantity]:
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
    return sections, fwds, total.entries[0]


def asked(d: Derivation, batch: Batch) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The parameters whose gradients the part asks for (and steps), and the same with the input x."""
    names = batch.wrt or (() if batch.inputs else d.params.names())
    return names, (*names, "x") if batch.inputs else names


def later_pass(
    network: Network, loss: Loss, first: Sequence[Forward], params: Params, t: int, scope: Scope
) -> tuple[list[Forward], list[Backward]]:
    """Every sample through the network at the parameters before step ``t`` (t ≥ 2): the same
    computation as step 1's, keyed in the step's scope (``p3.t2.s1.z1[1]``)."""
    fwds, bwds = [], []
    for n, shown in enumerate(first, 1):
        where = scope.step(t).sample(n)
        fwd = forward(network, params, shown.inputs, shown.targets, loss, where, mark=sample_mark(n, t - 1))
        fwds.append(fwd)
        bwds.append(backward(network, params, fwd, loss, where))
    return fwds, bwds


def loss_table(losses: Sequence[tuple[Sequence[Quantity], Quantity]]) -> Section:
    """The samples' losses and the batch loss before every step and after the last, tabulated and plotted."""
    size = len(losses[0][0])
    header = ("t", *(sample_loss(n) for n in range(1, size + 1)), LOSS)
    rows: tuple[tuple[Cell, ...], ...] = tuple((str(t), *each, total) for t, (each, total) in enumerate(losses))
    curves = tuple(
        Series(sample_loss(n), tuple((sp.Integer(t), each[n - 1]) for t, (each, _) in enumerate(losses)))
        for n in range(1, size + 1)
    )
    whole = Series(LOSS, tuple((sp.Integer(t), total) for t, (_, total) in enumerate(losses)))
    return Section(
        "batch_losses", (Table("batch_losses", header, rows), Plot("batch_losses", "t", LOSS, (*curves, whole)))
    )


def derive(d: Derivation, part: Part[Batch]) -> PartSolution:
    """A batch part: per-sample passes, then steps per batch (epochs) or per sample, then the losses after."""
    batch, training = part.params, part.params.training
    network, loss = d.variant(part)
    names, gradients = asked(d, batch)
    scope, mean = Scope.part(part.number), batch.mean
    sections: list[Section] = []
    if training is None or batch.mode == "batch":
        fwds, bwds = [], []
        for n in range(1, len(batch.samples) + 1):
            shown, fwd, bwd = sample_pass(d, network, loss, part, n, d.params, gradients, 0)
            sections += shown
            fwds.append(fwd)
            bwds.append(bwd)
        combined_gradient = batch_gradient(bwds, mean, scope)
        total = batch_loss_step(fwds, mean, scope)
        share = shares(part, network, loss, fwds) if mean and logistic(network, loss) else ()
        sections.append(
            Section("batch_gradient", (total, *share, *gradient_steps(bwds, combined_gradient, names, mean)))
        )
        if training is None:
            return PartSolution(part, tuple(sections))
        optimizer, steps = training.optimizer, training.steps
        hyper = hyper_quantities(optimizer, training.learning_rate, scope, d.spec.sheet.carry, **dict(training.hyper))
        intro: tuple[Step, ...] = (Identity(optimizer.formula, optimizer.prose),)
        stepped = step(d.params, d.params, combined_gradient, optimizer, hyper, State(), names, scope)
        shown_step = optimizer_steps(optimizer, hyper, d.params, combined_gradient, stepped, names)
        sections.append(Section("update", (*intro, *shown_step), "1" if steps > 1 else ""))
        params, state = stepped.params, stepped.state
        losses = [([f.loss for f in fwds], total.entries[0])]
        for t in range(2, steps + 1):
            # Step t: the same passes at the parameters step t − 1 left, shown by their values only.
            fwds_t, bwds_t = later_pass(network, loss, fwds, params, t, scope)
            gradient_t = batch_gradient(bwds_t, mean, scope.step(t))
            total_t = batch_loss_step(fwds_t, mean, scope, t - 1).entries[0]
            stepped = step(d.params, params, gradient_t, optimizer, hyper, state, names, scope)
            values = (Values(total_t.symbol, ((total_t,),)), *epoch_gradients(gradient_t, names))
            table = optimizer_table(optimizer, hyper, params, gradient_t, stepped, names, False)
            sections.append(Section("batch_epoch", (*values, *table), str(t)))
            losses.append(([f.loss for f in fwds_t], total_t))
            params, state = stepped.params, stepped.state
        times = steps
        if steps > 1:
            # The losses after the last step end the table; the passes are those of the steps above.
            _, after_fwds, final = after_sections(d, network, loss, part, params, times)
            losses.append(([f.loss for f in after_fwds], final))
            sections.append(loss_table(losses))
            return PartSolution(part, tuple(sections))
    else:
        optimizer = training.optimizer
        hyper = hyper_quantities(optimizer, training.learning_rate, scope, d.spec.sheet.carry, **dict(training.hyper))
        intro = (Identity(optimizer.formula, optimizer.prose),)
        params, state = d.params, State()
        for n in range(1, len(batch.samples) + 1):
            shown, fwd, bwd = sample_pass(d, network, loss, part, n, params, gradients, n - 1)
            sections += shown
            stepped = step(d.params, params, bwd, optimizer, hyper, state, names, scope)
            shown_step = optimizer_steps(optimizer, hyper, params, bwd, stepped, names, n == 1)
            sections.append(Section("batch_update", (*(intro if n == 1 else ()), *shown_step), str(n)))
            params, state = stepped.params, stepped.state
        times = len(batch.samples)
    after, _, _ = after_sections(d, network, loss, part, params, times)
    return PartSolution(part, (*sections, *after))


def logistic(network: Network, loss: Loss) -> bool:
    """Whether the network is a classifier of one sigmoid output under cross-entropy, where each
    sample's error signal at the output is p − y (the shares below)."""
    return network.outputs == 1 and network.layers[-1].activation.name == "sigmoid" and loss.name == SHARED_LOSS


SHARED_LOSS = "binary_cross_entropy"


def share_symbol(network: Network) -> Partial:
    """∂L/∂z of the output layer's one unit (keyed in a sample's scope): that sample's share."""
    return Partial(LOSS, Sym("z", len(network.layers), (1,), hide_index=True))


def shares(part: Part[Batch], network: Network, loss: Loss, fwds: Sequence[Forward]) -> tuple[Step, ...]:
    """Each sample's share of the batch-mean gradient at the output's pre-activation, (p_n − y_n)/N
    (its error signal p_n − y_n, weighted 1/N by the mean), tabulated with its p_n and y_n."""
    size = len(fwds)
    rows: list[tuple[Cell, ...]] = []
    for n, fwd in enumerate(fwds, 1):
        p, y = fwd.output[0], fwd.targets[0]
        share = Quantity.computed(
            share_symbol(network),
            Product((Num(sp.Rational(1, size)), Difference(Ref(p), Ref(y)))),
            sample_scope(part, n),
        )
        rows.append((str(n), p, y, share))
    head = Pattern(r"\frac{\partial @L}{\partial #1} = \frac{@yhat_n - @y_n}{N}", (Sym("z", len(network.layers)),))
    return (Table("batch_shares", ("n", Pattern("@yhat_n"), Pattern("@y_n"), head), tuple(rows)),)


def epoch_gradients(gradient: Backward, names: Sequence[str]) -> tuple[Values, ...]:
    """The batch gradient of a later step, tensor by tensor, by its values."""
    return tuple(Values(Partial(LOSS, parameter(name)), gradient.gradients.tensor(name)) for name in names)


def twin(out: Expected, spec: Spec, part: Part[Batch]) -> None:
    """Each sample's pass and gradients, the batch loss and gradient, and the steps, per batch (each
    step's passes at the parameters the step before left, the optimizer's state carried) or per sample."""
    network, loss = part.network_and_loss(spec)
    batch, training = part.params, part.params.training
    scope, size = Scope.part(part.number), len(batch.samples)
    scale = 1.0 / size if batch.mean else 1.0
    samples = [(extended(s.x), extended(s.y)) for s in batch.samples]
    names = batch.wrt or all_names(network)
    state: dict[str, dict[tuple[str, int], Array]] = {}
    net = FloatNet.of(network, rounding_of(spec))
    r = net.r
    whole = network_loss(network, loss)

    def one(n: int, at: FloatNet, where: Scope) -> Gradients:
        x, y = samples[n - 1]
        sample = where.sample(n)
        out.vector(sample, "x", x)
        out.vector(sample, "y", y)
        forward_values(out, network, at, x, y, loss, sample, marked(n, 0))
        if batch.mean and logistic(network, loss):  # sample n's share (p_n − y_n)/N of the batch gradient
            p = at.forward(x)[1][-1][0]
            out.values[key(sample, share_symbol(network))] = float(r(np.array(scale * (p - float(y[0])))))
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

    def batch_at(t: int, at: FloatNet) -> Gradients:
        """Step t's passes at ``at`` (keyed in the step's scope from step 2 on), the batch loss there
        and the batch gradient, each entry confirmed by differences of the batch loss."""
        where = scope if t == 1 else scope.step(t)
        each = [one(n, at, where) for n in range(1, size + 1)]
        losses = [np.array(out.values[key(where.sample(n), sample_loss(n))]) for n in range(1, size + 1)]
        out.values[key(scope, Updated(LOSS, t - 1) if t > 1 else LOSS)] = float(combined(losses))
        layers = range(len(network.layers))
        grads = replace(
            each[0],
            weights=tuple(combined([g.weights[l] for g in each]) for l in layers),
            biases=tuple(combined([g.biases[l] for g in each]) for l in layers),
        )
        coarse = at.coarse()  # what the differences nudge, with the samples in float64 too
        coarse_samples = [(x.astype(float), y.astype(float)) for x, y in samples]
        kinked = any(at_kink(network, coarse.forward(x)[0]) for x, _ in coarse_samples)
        unrounded = [g.unrounded for g in each if g.unrounded is not None]  # empty unless the student policy
        for kind, symbol, l, index in param_symbols(network):

            def batch_loss(h: float, kind: str = kind, l: int = l, index: tuple[int, ...] = index) -> float:
                moved = coarse.with_param(kind, l, index, h)
                return scale * sum(whole(*moved.forward(x), y) for x, y in coarse_samples)

            start = float((at.weights if kind == "w" else at.biases)[l - 1][index])
            gradient = key(where, Partial(LOSS, symbol))
            place = ("weights" if kind == "w" else "biases", (l - 1, *index))
            out.values[gradient] = entry_of(grads, *place)
            if unrounded:
                out.unrounded[gradient] = scale * sum(entry_of(g, *place) for g in unrounded)
            if not kinked:
                out.differences[gradient] = central_difference(batch_loss, start)
        return grads

    if training is None or batch.mode == "batch":
        grads = batch_at(1, net)
        if training is None:
            return
        hyper = hyper_of(training)
        record_hyper(out, scope, hyper)
        for t in range(1, training.steps + 1):
            if t > 1:
                grads = batch_at(t, net)
            net = step_values(out, network, net, grads, training.optimizer, hyper, state, t, names, scope)
        times = training.steps
    else:
        hyper = hyper_of(training)
        record_hyper(out, scope, hyper)
        for n in range(1, size + 1):
            net = step_values(out, network, net, one(n, net, scope), training.optimizer, hyper, state, n, names, scope)
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
    training = training_question(batch.training, network, printer) if batch.training is not None else {}
    return {
        **training,
        "samples": [{"x": Latex(printer.vector(s.x)), "y": Latex(printer.vector(s.y))} for s in batch.samples],
        "mode": batch.mode,
        "batch_mean": batch.mean,
        "step": batch.training is not None,
        "steps": batch.steps,
        "wrt": wrt((*batch.wrt, *(("x",) if batch.inputs else ())), network, printer),
        "params": bool(batch.wrt) or not batch.inputs,
    }


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """Per sample ŷ, L_n and its gradients; the batch loss and gradient; the parameters and the batch
    loss after each step; over several epochs also the samples' losses before each step and after the last."""
    epochs = any(within(q)[:1] and within(q)[0].startswith("t") for q in quantities)
    asked = set()
    for q in quantities:
        tail, s = within(q), q.symbol
        new = isinstance(s, Updated) and (parameter_symbol(s.of) or s.of.base == "L")
        if not tail:
            wanted = named(q, "L") or gradient(q) or new
        elif len(tail) == 1 and tail[0].startswith("s"):  # one sample's pass
            wanted = named(q, OUTPUT.base, "L") or gradient(q) or (epochs and new)
        else:  # a sample's pass at a later epoch: its loss goes in the table
            wanted = epochs and named(q, "L")
        if wanted:
            asked.add(q.key)
    return asked


KIND = PartKind(
    name="batch",
    keys={
        "samples": Shape("samples", f"the batch: 2 to {MAX_BATCH} tables {{ x = [...], y = [...] }}", 2, MAX_BATCH),
        "mode": choice(BATCH_MODES, '"batch" (one step along the batch gradient, default) or "per_sample"'),
        "batch_reduction": choice(REDUCTIONS, 'how the samples\' losses combine: "mean" (default) or "sum"'),
        "optimizer": optimizer_key("sgd"),
        "learning_rate": Shape("positive", "the learning rate α (without it the part asks for gradients only)"),
        "wrt": WRT_OR_INPUT,
        "steps": whole(1, MAX_STEPS, "steps (epochs) along the batch gradient (default 1)"),
    },
    required=("samples",),
    sample="none",
    student=True,
    read=reads_network(read),
    derive=derive,
    twin=twin,
    ask=asks_network(ask),
    asked=asked_keys,
    plots=lambda params: params.steps > 1,  # the losses step by step
    letters=lambda batch, notation: stepping(
        batch.training.optimizer if batch.training else None, several=batch.mode == "per_sample" or batch.steps > 1
    ),
)
