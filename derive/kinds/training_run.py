"""A long training run: up to 10 000 optimizer steps on one sample or a batch, the first few worked out
exactly, the rest in float64 from the same formula trees compiled once (:mod:`derive.maths.compiled`);
the loss at chosen steps tabulated and plotted, and the parameters after the last step."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sympy as sp

from derive.catalog.losses import REDUCTIONS, Loss
from derive.exercise.kind import PartKind, asks_network, reads_network
from derive.exercise.kind import Table as SpecTable
from derive.exercise.model import Network, Part, Sample, Spec, Training
from derive.exercise.parts import MAX_BATCH, PartReader
from derive.exercise.shapes import LEARNING_RATE, WRT_PARAMETERS, Shape, choice, optimizer_key, whole
from derive.kinds import batch as batch_kind
from derive.kinds.asking import new_parameters, within
from derive.kinds.update import training_question
from derive.maths.compiled import STEP, Program, Slot
from derive.maths.derivation import Derivation, pass_values
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
from derive.maths.steps import Cell, Finding, Identity, PartSolution, Plot, Section, Series, Step, Table, Values
from derive.maths.updates import optimizer_steps, optimizer_table
from derive.terms.display import Pattern, Rounded
from derive.terms.formula import DIGITS, MP, Quantity
from derive.terms.keys import Scope, key, parameter
from derive.terms.symbols import (
    LOSS,
    Partial,
    Updated,
)
from derive.tex.printer import Latex, Printer
from derive.verify.floats import Array, FloatNet, extended, unrounded
from derive.verify.twins import (
    Expected,
    all_names,
    hyper_of,
    logit_form,
    network_loss,
    param_symbols,
    sample_of,
    sample_run,
)

MAX_RUN = 10_000
"""Most steps a run takes (10 000 steps of a small network take about a second each way)."""
MAX_EXACT = 3
MAX_TABLE = 20
"""Most steps the loss table lists (besides t = 0 and the last step)."""
DEFAULT_STEPS = 1000
DEFAULT_TABLE = (1, 10, 100, 1000, 10_000)
PLOT_POINTS = 120
"""Most points of the plot's curve: every step of a short run, steps spread evenly on a log axis beyond."""
LINEAR_PLOT = 200
"""Longest run plotted step by step on a linear axis."""
RUNAWAY = 1e100
"""A run stops once its loss passes this: it has diverged, and float64 could not check it further."""


@dataclass(frozen=True)
class TrainingRun:
    training: Training
    """The optimizer, its learning rate and hyperparameters, and the run's steps."""
    exact_steps: int
    table_steps: tuple[int, ...]
    samples: tuple[Sample, ...] = ()
    """A batch trained on with its batch gradient each step; empty: the part's own sample."""
    mean: bool = True

    @property
    def steps(self) -> int:
        return self.training.steps


def read(
    reader: PartReader, path: list[str | int], table: SpecTable, network: Network, earlier: list[Part[Any]]
) -> TrainingRun:
    training = reader.training(path, table, network)
    steps = reader.integer([*path, "steps"], table.get("steps", DEFAULT_STEPS), 1, MAX_RUN)
    exact = reader.integer([*path, "exact_steps"], table.get("exact_steps", 1), 0, min(MAX_EXACT, steps))
    if "table_steps" in table:
        raw = table["table_steps"]
        if not isinstance(raw, list) or not raw:
            raise reader.fail([*path, "table_steps"], f"expected a list of step numbers from 1 to {steps}")
        reader.most([*path, "table_steps"], raw, MAX_TABLE, "step numbers")
        chosen = tuple(sorted({reader.integer([*path, "table_steps"], t, 1, steps) for t in raw}))
    else:
        chosen = tuple(t for t in DEFAULT_TABLE if t <= steps)
    own = {"x", "y", "use_sample_of"} & set(table)
    if "samples" in table:
        if own:
            raise reader.fail(
                [*path, "samples"], f"give either samples or a sample ({', '.join(sorted(own))}), not both"
            )
        samples, _, mean = reader.batch(path, table, network)
        return TrainingRun(replace(training, steps=steps), exact, chosen, samples, mean)
    if "batch_reduction" in table:
        raise reader.fail([*path, "batch_reduction"], "it combines the losses of a batch: give samples")
    if not own:
        raise reader.fail([*path, "x"], "missing: the input vector (or use_sample_of, or samples for a batch)")
    return TrainingRun(replace(training, steps=steps), exact, chosen)


def shown_steps(run: TrainingRun, last: int) -> tuple[tuple[int, ...], tuple[int, ...], bool]:
    """The steps whose loss the table lists and those the plot draws (t = 0 only on a linear axis),
    for a run that ended after ``last`` steps; and whether the plot's axis is logarithmic."""
    rows = tuple(sorted({0, *(t for t in run.table_steps if t <= last), last}))
    if last <= LINEAR_PLOT:
        return rows, tuple(range(last + 1)), False
    spread = {round(math.exp(i * math.log(last) / (PLOT_POINTS - 1))) for i in range(PLOT_POINTS)}
    return rows, tuple(sorted(spread | {1, last})), True


def measured(symbol: Updated, value: float, scope: Scope) -> Quantity:
    """A value of the float64 run: its decimal is all it has (no exact form, no formula to show)."""
    return Quantity(symbol, sp.Float(value), MP.mpf(value), None, scope)


@dataclass(frozen=True)
class Worked:
    """Where the exact steps left the run: the parameters, the optimizer's state, α and its
    hyperparameters, the loss after each exact step, and the run's givens (samples' inputs, targets)."""

    params: Params
    state: State
    hyper: Mapping[str, Quantity]
    losses: list[Quantity]
    passes: list[Forward]


def sample_steps(
    d: Derivation, network: Network, loss: Loss, part: Part[TrainingRun], names: Sequence[str]
) -> tuple[list[Section], Worked]:
    """One sample: its pass and gradients, then the exact steps as an update part shows them."""
    run, scope = part.params, Scope.part(part.number)
    optimizer, k = run.training.optimizer, run.exact_steps
    sections, fwd = d.sample_and_forward(network, loss, part, show_forward=False)
    hyper = hyper_quantities(optimizer, run.training.learning_rate, scope, **dict(run.training.hyper))
    params, state, losses = d.params, State(), [fwd.loss]
    start = fwd
    if k:
        shown, bwd = d.gradient_sections(network, loss, part, fwd, names)
        sections.extend(shown)
    for t in range(1, k + 1):
        if t > 1:
            fwd = forward(network, params, fwd.inputs, fwd.targets, loss, scope, mark=after_steps(t - 1))
            bwd = backward(network, params, fwd, loss, scope.step(t))
            losses.append(fwd.loss)
            gradients = tuple(Values(Partial(LOSS, parameter(n)), bwd.gradients.tensor(n)) for n in names)
            values = (*pass_values(fwd, bwd), Values(fwd.loss.symbol, ((fwd.loss,),)), *gradients)
            sections.append(Section("optimizer_gradients", values, str(t - 1)))
        stepped = step(d.params, params, bwd, optimizer, hyper, state, names, scope)
        intro: tuple[Step, ...] = (Identity(optimizer.formula, optimizer.prose),) if t == 1 else ()
        shown_step = optimizer_steps(optimizer, hyper, params, bwd, stepped, names, t == 1)
        sections.append(Section("update", (*intro, *shown_step), str(t)))
        params, state = stepped.params, stepped.state
    if k:
        mark = after_steps(k)
        after = forward(network, params, start.inputs, start.targets, loss, scope, mark=mark)
        steps = (*d.forward_steps(network, params, after, mark=mark), d.loss_step(after, loss, mark=mark))
        sections.append(Section("after_update", steps, str(k)))
        losses.append(after.loss)
    return sections, Worked(params, state, hyper, losses, [start])


def as_batch(part: Part[TrainingRun], steps: int) -> Part[batch_kind.Batch]:
    """The run's batch as a batch part of ``steps`` steps: its exact steps are worked (and checked) so."""
    run = part.params
    training = replace(run.training, steps=steps) if steps else None
    params = batch_kind.Batch(run.samples, "batch", run.mean, training, run.training.wrt)
    return Part(part.number, batch_kind.KIND, params)


def batch_steps(
    d: Derivation, network: Network, loss: Loss, part: Part[TrainingRun], names: Sequence[str]
) -> tuple[list[Section], Worked]:
    """A batch: every sample's pass and gradients, the batch gradient, then the exact steps as a batch
    part's epochs."""
    run, scope, mean = part.params, Scope.part(part.number), part.params.mean
    optimizer, k = run.training.optimizer, run.exact_steps
    shaped = as_batch(part, k)
    sections: list[Section] = []
    fwds, bwds = [], []
    for n in range(1, len(run.samples) + 1):
        shown, fwd, bwd = batch_kind.sample_pass(d, network, loss, shaped, n, d.params, names, 0)
        sections += shown
        fwds.append(fwd)
        bwds.append(bwd)
    gradient = batch_kind.batch_gradient(bwds, mean, scope)
    total = batch_kind.batch_loss_step(fwds, mean, scope)
    sections.append(Section("batch_gradient", (total, *batch_kind.gradient_steps(bwds, gradient, names, mean))))
    hyper = hyper_quantities(optimizer, run.training.learning_rate, scope, **dict(run.training.hyper))
    params, state, losses = d.params, State(), [total.entries[0]]
    for t in range(1, k + 1):
        if t == 1:
            stepped = step(d.params, params, gradient, optimizer, hyper, state, names, scope)
            shown_step = optimizer_steps(optimizer, hyper, params, gradient, stepped, names)
            intro = (Identity(optimizer.formula, optimizer.prose),)
            sections.append(Section("update", (*intro, *shown_step), "1" if k > 1 else ""))
        else:
            fwds_t, bwds_t = batch_kind.later_pass(network, loss, fwds, params, t, scope)
            gradient = batch_kind.batch_gradient(bwds_t, mean, scope.step(t))
            total_t = batch_kind.batch_loss_step(fwds_t, mean, scope, t - 1).entries[0]
            losses.append(total_t)
            stepped = step(d.params, params, gradient, optimizer, hyper, state, names, scope)
            values = (Values(total_t.symbol, ((total_t,),)), *batch_kind.epoch_gradients(gradient, names))
            table = optimizer_table(optimizer, hyper, params, gradient, stepped, names, False)
            sections.append(Section("batch_epoch", (*values, *table), str(t)))
        params, state = stepped.params, stepped.state
    if k:
        after, _, final = batch_kind.after_sections(d, network, loss, shaped, params, k)
        sections += after
        losses.append(final)
    return sections, Worked(params, state, hyper, losses, fwds)


def compiled_step(
    d: Derivation, network: Network, loss: Loss, run: TrainingRun, worked: Worked, names: Sequence[str]
) -> tuple[Any, list[float], list[Quantity]]:
    """One step of the run as a float64 function, compiled from the exact engine's formula trees: the
    forward passes, backpropagation, the batch gradient and the optimizer's stages, built once at the
    parameters the exact steps left. Returns the function (of the parameters, the state and t: the loss
    before the step, the parameters and the state after it), its first arguments, and the entries."""
    scope = Scope.part(0).tag("d")  # the template's own quantities are never shown
    program = Program()
    entries: dict[str, tuple[Quantity, Quantity]] = {}  # per entry key: its given quantity and the template's

    def placeholder(origin: Quantity, now: Quantity) -> Quantity:
        if origin.key not in entries:
            template = Quantity.given(origin.symbol, sp.Float(now.approx, DIGITS), scope)
            program.input(template)
            entries[origin.key] = (origin, template)
        return entries[origin.key][1]

    origin, now = d.params, worked.params
    params = Params(
        tuple(
            tuple(
                tuple(placeholder(o, q) for o, q in zip(orow, row, strict=True))
                for orow, row in zip(ow, w, strict=True)
            )
            for ow, w in zip(origin.weights, now.weights, strict=True)
        ),
        tuple(
            tuple(placeholder(o, q) for o, q in zip(ob, b, strict=True))
            for ob, b in zip(origin.biases, now.biases, strict=True)
        ),
        origin.unbiased,
    )
    passes = [
        forward(network, params, shown.inputs, shown.targets, loss, scope.sample(n))
        for n, shown in enumerate(worked.passes, 1)
    ]
    grads: list[Backward] = [backward(network, params, p, loss, scope.sample(n)) for n, p in enumerate(passes, 1)]
    if run.samples:
        gradient = batch_kind.batch_gradient(grads, run.mean, scope)
        total = batch_kind.combined(LOSS, [p.loss for p in passes], run.mean, scope)
    else:
        gradient, total = grads[0], passes[0].loss
    # Each moved entry's gradient, laid out as the parameters are (a shared bias once).
    slopes: dict[str, Quantity] = {}
    for l, (ow, gw) in enumerate(zip(origin.weights, gradient.gradients.weights, strict=True), 1):
        if f"W{l}" in names:
            slopes.update(
                {o.key: g for orow, grow in zip(ow, gw, strict=True) for o, g in zip(orow, grow, strict=True)}
            )
    for l, (ob, gb) in enumerate(zip(origin.biases, gradient.gradients.biases, strict=True), 1):
        if f"b{l}" in names:
            slopes.update({o.key: g for o, g in zip(ob, gb, strict=True)})
    optimizer = run.training.optimizer
    state_in = {kept: {entry: program.input() for entry in slopes} for kept in optimizer.state}
    hyper = {name: Slot(program.quantity(q)) for name, q in worked.hyper.items()}
    loss_line = program.quantity(total)
    moved: list[Any] = []
    new_state: dict[str, dict[str, Any]] = {kept: {} for kept in optimizer.state}
    for entry, (_, template) in entries.items():
        if entry not in slopes:
            moved.append(program.names[id(template)])  # not moved: the parameter stays as it is
            continue
        env = {"theta": Slot(program.quantity(template)), "g": Slot(program.quantity(slopes[entry])), **hyper}
        env.update({f"{kept}_prev": Slot(state_in[kept][entry]) for kept in optimizer.state})
        for stage, formula in optimizer.stages:
            # t is the compiled step's argument (Adam's 1 - beta1^t): the formula's power takes its symbol.
            env[stage] = Slot(program.define(formula(env, STEP)))  # type: ignore[arg-type]
        moved.append(env["theta"].symbol)
        for kept in optimizer.state:
            new_state[kept][entry] = env[kept].symbol
    states = [new_state[kept][entry] for kept in optimizer.state for entry in slopes]
    function = program.compile([loss_line, *moved, *states])
    start = [float(template.approx) for _, template in entries.values()]
    start += [
        float(worked.state.values[kept][entry].approx) if entry in worked.state.values.get(kept, {}) else 0.0
        for kept in optimizer.state
        for entry in slopes
    ]
    return function, start, [o for o, _ in entries.values()]


def float_run(function: Any, start: list[float], first: int, steps: int) -> tuple[dict[int, float], list[float], int]:
    """The run from step ``first`` on with the compiled step: the loss after each step, the parameters
    (and state) after the last, and the number of steps taken (fewer where the loss ran away)."""
    values, losses, t = start, {}, first
    while True:
        try:
            out = function(*values, t=t + 1)  # the loss at the parameters after t steps, and step t + 1
        except (OverflowError, ZeroDivisionError, ValueError):
            out = [math.inf, *values]
        losses[t] = out[0]
        if t == steps or not math.isfinite(out[0]) or abs(out[0]) > RUNAWAY:
            return losses, values, t
        values, t = out[1:], t + 1


def derive(d: Derivation, part: Part[TrainingRun]) -> PartSolution:
    """The exact steps in full, then the float64 run, its losses tabulated and plotted, and the
    parameters after the last step."""
    run = part.params
    network, loss = d.variant(part)
    names = run.training.wrt or d.params.names()
    scope, k = Scope.part(part.number), run.exact_steps
    worked_steps = batch_steps if run.samples else sample_steps
    sections, worked = worked_steps(d, network, loss, part, names)
    function, start, entries = compiled_step(d, network, loss, run, worked, names)
    floats, values, last = float_run(function, start, k, run.steps)
    rows, points, log_x = shown_steps(run, last)
    table_rows = set(rows)

    def loss_after(t: int) -> Quantity:
        if t <= k:
            return worked.losses[t]
        return measured(Updated(LOSS, t), floats[t], scope if t in table_rows else scope.tag("plot"))

    losses = {t: loss_after(t) for t in sorted(table_rows | set(points))}
    header = ("t", Pattern("@L_t"))
    cells: tuple[tuple[Cell, ...], ...] = tuple((str(t), losses[t]) for t in rows)
    positive = all(float(q.approx) > 0 for q in losses.values())
    curve = Series(Pattern("@L_t"), tuple((sp.Integer(t), losses[t]) for t in points if t > 0 or not log_x))
    first, final = losses[0], losses[last]
    finding = Finding(
        "run_summary",
        (
            ("first", Rounded(first.approx, 4)),
            ("last", Rounded(final.approx, 4)),
            ("steps", str(last)),
            ("floats", str(max(last - k, 0))),
            ("stopped", "yes" if last < run.steps else ""),
        ),
    )
    intro: tuple[Step, ...] = () if k else (Identity(run.training.optimizer.formula, run.training.optimizer.prose),)
    sections.append(
        Section(
            "run_losses",
            (
                *intro,
                Table("run_losses", header, cells),
                Plot("run_losses", "t", Pattern("@L_t"), (curve,), positive, log_x),
                finding,
            ),
            str(k),
        )
    )
    if last > k:
        final_params = dict(zip((o.key for o in entries), values, strict=False))
        after = {o.key: measured(Updated(o.name, last), final_params[o.key], scope) for o in entries}
    else:
        after = {}
    shown = worked.params if last <= k else None
    tensors = []
    for name in names:
        given = d.params.tensor(name)
        if shown is not None:
            tensors.append(Values(Updated(parameter(name), last), shown.tensor(name)))
        else:
            rows_q = tuple(tuple(after[q.key] for q in row) for row in given)
            tensors.append(Values(Updated(parameter(name), last), rows_q))
    sections.append(Section("run_final", (*tensors, Values(Updated(LOSS, last), ((final,),))), str(last)))
    return PartSolution(part, tuple(sections))


def twin(out: Expected, spec: Spec, part: Part[TrainingRun]) -> None:
    """The exact steps as an update (or batch) part's twin checks them, then the whole run again in the
    float engine from the given parameters: the losses the sheet shows and the parameters after it."""
    network, loss = part.network_and_loss(spec)
    run, scope, k = part.params, Scope.part(part.number), part.params.exact_steps
    if run.samples:
        batch_kind.twin(out, spec, as_batch(part, k))
        samples = [(extended(s.x), extended(s.y)) for s in run.samples]
    else:
        sample_run(out, spec, part, replace(run.training, steps=k) if k else None)
        samples = [sample_of(part)]
    losses, net, last = twin_run(network, loss, run, samples)
    rows, points, _ = shown_steps(run, last)
    for t in {*rows, *points}:
        if t > k:
            out.values[key(scope if t in rows else scope.tag("plot"), Updated(LOSS, t))] = losses[t]
    if last > k:
        for kind, symbol, l, index in param_symbols(network):
            value = (net.weights if kind == "w" else net.biases)[l - 1][index]
            out.values[key(scope, Updated(symbol, last))] = float(value)


def twin_run(
    network: Network, loss: Loss, run: TrainingRun, samples: Sequence[tuple[Array, Array]]
) -> tuple[dict[int, float], FloatNet, int]:
    """Full-batch training in the float engine: the loss after every step, the network after the last,
    and the steps taken (stopped, as the derivation stops, once the loss runs away)."""
    net = FloatNet.of(network)
    names = run.training.wrt or all_names(network)
    hyper, optimizer = hyper_of(run.training), run.training.optimizer
    whole, derivative = network_loss(network, loss), loss.floats.gradient
    logit = logit_form(network, loss)
    scale = 1.0 / len(samples) if run.mean else 1.0
    state: dict[str, dict[tuple[str, int], Array]] = {}
    losses: dict[int, float] = {}
    t = 0
    while True:
        total = 0.0
        weights = [np.zeros(w.shape, dtype=w.dtype) for w in net.weights]
        biases = [np.zeros(b.shape, dtype=b.dtype) for b in net.biases]
        for x, y in samples:
            total += whole(*net.forward(x), y)
            grads = net.backward(x, y, derivative, from_logit=logit)
            weights = [w + g for w, g in zip(weights, grads.weights, strict=True)]
            biases = [b + g for b, g in zip(biases, grads.biases, strict=True)]
        losses[t] = scale * total
        if t == run.steps or not math.isfinite(losses[t]) or abs(losses[t]) > RUNAWAY:
            return losses, net, t
        t += 1
        tensors = {"W": list(net.weights), "b": list(net.biases)}
        for kind, gradients in (("W", weights), ("b", biases)):
            for l in range(1, len(network.layers) + 1):
                if f"{kind}{l}" not in names:
                    continue
                previous = {name: values[(kind, l)] for name, values in state.items() if (kind, l) in values}
                stages = optimizer.floats(tensors[kind][l - 1], scale * gradients[l - 1], previous, t, hyper, unrounded)
                for name in optimizer.state:
                    state.setdefault(name, {})[(kind, l)] = stages[name]
                tensors[kind][l - 1] = stages["theta"]
        net = net.replace(tuple(tensors["W"]), tuple(tensors["b"]))


def ask(part: Part[TrainingRun], network: Network, printer: Printer) -> Mapping[str, object]:
    run = part.params
    return {
        **training_question(run.training, network, printer),
        "exact_steps": run.exact_steps,
        "table_steps": ", ".join(str(t) for t in run.table_steps),
        "samples": [{"x": Latex(printer.vector(s.x)), "y": Latex(printer.vector(s.y))} for s in run.samples],
        "batch_mean": run.mean,
        # The batch's sections (worked as a batch part's epochs) say how it trains and what it differentiates.
        "mode": "batch",
        "params": True,
    }


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """The loss after each step the table lists, and the parameters after each exact step and after the last."""
    table = {q.key for q in quantities if not within(q) and isinstance(q.symbol, Updated) and q.symbol.of.base == "L"}
    return table | new_parameters(quantities, every_step=True)


KIND = PartKind(
    name="training_run",
    keys={
        "learning_rate": LEARNING_RATE,
        "optimizer": optimizer_key("sgd"),
        "wrt": WRT_PARAMETERS,
        "steps": whole(1, MAX_RUN, f"steps of the run (default {DEFAULT_STEPS})"),
        "exact_steps": whole(0, MAX_EXACT, "the first steps worked out exactly and shown in full (default 1)"),
        "table_steps": Shape(
            "wholes", f"the steps after which the table lists the loss (default {list(DEFAULT_TABLE)})", 1, MAX_RUN
        ),
        "samples": Shape(
            "samples", f"a batch to train on: 2 to {MAX_BATCH} tables {{ x = [...], y = [...] }}", 2, MAX_BATCH
        ),
        "batch_reduction": choice(REDUCTIONS, 'how the samples\' losses combine: "mean" (default) or "sum"'),
    },
    required=("learning_rate",),
    sample="optional",
    student=False,
    read=reads_network(read),
    derive=derive,
    twin=twin,
    ask=asks_network(ask),
    asked=asked_keys,
    plots=lambda params: True,
)
