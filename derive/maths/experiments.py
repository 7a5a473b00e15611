"""The extended questions that run experiments: learning rates, ReLU vs sigmoid, Adam vs SGD, depth."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise

import sympy as sp

from derive.catalog.activations import RELU, SIGMOID
from derive.errors import VerificationError
from derive.maths.derivation import Deriver
from derive.maths.general import column, network_formula
from derive.maths.network import (
    Backward,
    Forward,
    Params,
    State,
    after_steps,
    backward,
    forward,
    given_params,
    given_sample,
    hyper_quantities,
    step,
)
from derive.maths.steps import Cell, Finding, Given, Identity, PartSolution, Plot, Section, Series, Table, Values, Word
from derive.maths.updates import flat, optimizer_table
from derive.spec.model import Network, Part, Sample
from derive.terms.formula import DIGITS, Difference, Negate, Power, Product, Quantity, Ref, Sqrt, Sum, equal
from derive.terms.keys import Scope
from derive.terms.symbols import LOSS, Norm, Partial, StepSize, Symbolic, bias, weight
from derive.tex import printer as latex
from derive.tex.names import named

Z = sp.Symbol("z", real=True)


RUNAWAY = 1e100
"""A run stops once its loss passes this: it has diverged, and float64 could not check it further."""


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


def learning_rates_part(d: Deriver, part: Part) -> PartSolution:
    """k optimizer steps for each learning rate, from the spec's parameters; the loss after each."""
    network, loss = d.variant(part)
    assert part.sample is not None and part.optimizer is not None
    sections, start = d.sample_and_forward(network, loss, part, show_forward=False)
    names = d.params.names()
    runs: list[list[Quantity]] = []
    for r, rate in enumerate(part.learning_rates, 1):
        hyper = hyper_quantities(part.optimizer, rate, Scope.part(part.number).run(r), **dict(part.hyper))
        params, state, fwd = d.params, State(), start
        losses = [start.loss]
        for t in range(1, part.steps + 1):
            scope = Scope.part(part.number).run(r).step(t)
            bwd = backward(network, params, fwd, loss, scope)
            stepped = step(d.params, params, bwd, part.optimizer, hyper, state, names, scope)
            params, state = stepped.params, stepped.state
            fwd = forward(network, params, start.inputs, start.targets, loss, scope, mark=after_steps(t))
            # A decimal-only loss is listed as a value, not as a formula over the run's internals.
            losses.append(fwd.loss if t <= part.exact_steps else replace(fwd.loss, formula=None))
            if abs(float(fwd.loss.approx)) > RUNAWAY:
                break  # the run has diverged beyond any doubt, and float64 could not follow it further
            if t >= part.exact_steps:
                # Past the exact steps every value is a 40-digit decimal: exact forms would only grow.
                params = as_decimals(params)
                fwd = forward(network, params, start.inputs, start.targets, loss, scope.tag("d"))
        runs.append(losses)
    header = ("t", *(rf"\alpha = {latex.inline(rate)}" for rate in part.learning_rates))
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (str(t), *(run[t] if t < len(run) else r"\text{--}" for run in runs)) for t in range(part.steps + 1)
    )
    curves = tuple(
        Series(rf"\alpha = {latex.inline(rate)}", tuple((sp.Integer(t), q) for t, q in enumerate(run)))
        for rate, run in zip(part.learning_rates, runs, strict=True)
    )
    positive = all(float(q.approx) > 0 for run in runs for q in run)
    findings = []
    for rate, run in zip(part.learning_rates, runs, strict=True):
        values = [float(q.approx) for q in run]
        rises = sum(later > earlier for earlier, later in pairwise(values))
        findings.append(
            Finding(
                "lr_verdict",
                (
                    ("rate", latex.inline(rate)),
                    ("verdict", verdict(values)),
                    ("first", latex.decimal(run[0].approx, 4)),
                    ("last", latex.decimal(run[-1].approx, 4)),
                    ("rises", str(rises)),
                    ("steps", str(len(run) - 1)),
                    ("stopped", "yes" if len(run) - 1 < part.steps else ""),
                ),
            )
        )
    sections.append(
        Section(
            "lr_runs",
            (
                Identity(part.optimizer.formula, part.optimizer.prose),
                Table("lr_table", header, rows),
                Plot("lr_plot", "t", r"L_t", curves, log_y=positive),
                *findings,
            ),
            label=str(part.exact_steps),
        )
    )
    return PartSolution(part, tuple(sections))


def norm(grads: Sequence[Sequence[Quantity]], of: Symbolic, scope: Scope, sheet: bool = False) -> Quantity:
    """The Frobenius norm √(Σ g²) of a gradient matrix, as a quantity of its own."""
    terms = tuple(Power(Ref(g), 2) for row in grads for g in row)
    return Quantity.computed(Norm(of, sheet), Sqrt(Sum(terms)), scope)


def silent_pass(d: Deriver, network: Network, part: Part, scope: Scope) -> tuple[Forward, Backward]:
    """Forward and backward pass of the spec's network at the part's sample, reusing what parts showed."""
    assert part.sample is not None
    memo = d.shown.get(d.sample_key(network, part))
    if memo is not None:
        fwd = memo.forward
        bwd = memo.backward or backward(network, d.params, fwd, d.spec.loss, scope)
        return fwd, bwd
    x, y = given_sample(part.sample, scope)
    fwd = forward(network, d.params, x, y, d.spec.loss, scope)
    return fwd, backward(network, d.params, fwd, d.spec.loss, scope)


def sigmoid_slope_peak() -> tuple[list[sp.Expr], sp.Expr]:
    """Where σ' is largest, and its value there: σ'(z) = σ(1 − σ) is a parabola in s = σ(z).

    Setting its derivative 1 − 2s to zero gives s = 1/2, so z = log(s/(1 − s)). Worked in s, a
    polynomial, instead of solving in e^{z}: the same answer for a tenth of the SymPy time.
    """
    sigma, s = SIGMOID.rule(Z), sp.Symbol("s", positive=True)
    slope = s * (1 - s)
    if not equal(sp.diff(sigma, Z), slope.subs(s, sigma)):  # the identity the sheet shows, checked
        raise VerificationError("the sigmoid's derivative is not σ(1 − σ)")
    stationary = [v for v in sp.solve(sp.diff(slope, s), s) if 0 < v < 1]
    return [sp.log(v / (1 - v)) for v in stationary], max(slope.subs(s, v) for v in stationary)


def compare_activation_part(d: Deriver, part: Part) -> PartSolution:
    """The same sample through the network with ReLU in place of the sigmoid, and a dead unit."""
    relu_network, loss = d.variant(part)
    assert part.sample is not None and part.activation is not None
    peaks, peak = sigmoid_slope_peak()
    facts = Finding("sigmoid_bound", (("at", ", ".join(latex.inline(z) for z in peaks)), ("max", latex.inline(peak))))
    sections = [
        Section(
            "activation_facts",
            (
                Identity(SIGMOID.identity, SIGMOID.prose),
                Identity(part.activation.identity, part.activation.prose),
                facts,
            ),
        ),
        Section("relu_network", (), label=", ".join(map(str, part.layers))),
    ]
    names = d.params.names()
    shown, fwd = d.sample_and_forward(relu_network, loss, part, recall=False)
    grads, bwd = d.gradient_sections(relu_network, loss, part, fwd, names)
    sections.extend([*shown, *grads])
    scope = Scope.part(part.number)
    _, sigmoid_bwd = silent_pass(d, d.spec.network, part, scope.tag("sigmoid"))
    values = tuple(
        Values(Partial(LOSS, weight(l)), sigmoid_bwd.gradients.weights[l - 1])
        for l in range(1, len(relu_network.layers) + 1)
    )
    rows = []
    flip = d.spec.sheet.names.from_to  # the sheet's W is derive's transposed (latex.weight_shaped)
    for l in range(1, len(relu_network.layers) + 1):
        rows.append(
            (
                latex.symbol(weight(l), flip),
                norm(sigmoid_bwd.gradients.weights[l - 1], Partial(LOSS, weight(l)), scope.tag("sigmoid"), flip),
                norm(bwd.gradients.weights[l - 1], Partial(LOSS, weight(l)), scope.tag("relu"), flip),
            )
        )
    top = r"\top" if flip else ""  # written so that the sheet's names leave its W without ⊤
    header = (
        "",
        named(rf"\text{{sigmoid: }} \lVert \partial @L / \partial @W^{{(l){top}}} \rVert"),
        named(rf"\text{{ReLU: }} \lVert \partial @L / \partial @W^{{(l){top}}} \rVert"),
    )
    sections.append(Section("magnitudes", (*values, Table("magnitudes", header, tuple(rows)))))
    if part.dead_x is not None:
        dead_sections, dead_fwd, _ = d.derive_sample(
            relu_network, loss, Sample(part.dead_x, part.sample.y), scope.tag("dead")
        )
        dead = [
            latex.symbol(q.symbol)
            for l in part.layers
            for q in dead_fwd.z[l - 1]
            if relu_network.layers[l - 1].activation.name == RELU.name
            and (q.exact <= 0 if q.exact.is_number else q.approx <= 0)
        ]
        finding = Finding("dead_units", (("units", ", ".join(dead)), ("count", str(len(dead)))))
        sections.extend([Section("dead_unit", ()), *dead_sections, Section("dead_finding", (finding,))])
    return PartSolution(part, tuple(sections), network_changed=True)


def compare_optimizer_part(d: Deriver, part: Part) -> PartSolution:
    """The first steps of an optimizer (Adam) computed exactly, and its first step next to SGD's."""
    network, loss = d.variant(part)
    assert part.sample is not None and part.optimizer is not None and part.learning_rate is not None
    sections, start = d.sample_and_forward(network, loss, part, show_forward=False)
    names = d.params.names()
    shown, first = d.gradient_sections(network, loss, part, start, names)
    sections.extend(shown)
    steps, after, hyper = d.optimizer_run(
        network, loss, part, start, first, names, optimizer_table, "optimizer_step", str
    )
    sections.extend(steps)
    after_first = after[0]
    sections.append(_first_step_comparison(d, part, first, after_first, hyper["alpha"]))
    return PartSolution(part, tuple(sections))


def _first_step_comparison(d: Deriver, part: Part, grads: Backward, after: Params, rate: Quantity) -> Section:
    assert part.optimizer is not None
    scope, method = Scope.part(part.number), part.optimizer.name
    rows = []
    adam_sizes, gradient_sizes, zero = [], [], []
    for name in d.params.names():
        for o, g, new in zip(
            flat(d.params.tensor(name)), flat(grads.gradients.tensor(name)), flat(after.tensor(name)), strict=True
        ):
            theta = latex.symbol(o.symbol)
            sgd = Quantity.computed(StepSize("sgd", o.name), Negate(Product((Ref(rate), Ref(g)))), scope)
            adam = Quantity.computed(StepSize(method, o.name), Difference(Ref(new), Ref(o)), scope)
            rows.append((theta, g, sgd, adam))
            if g.exact == 0:
                zero.append(theta)
            else:
                gradient_sizes.append(abs(float(g.approx)))
                adam_sizes.append(abs(float(adam.approx)))
    alpha = float(rate.approx)
    deviation = max((abs(size - alpha) / alpha for size in adam_sizes), default=0.0)
    facts = (
        ("alpha", latex.inline(rate.exact)),
        ("deviation", latex.decimal(deviation, 2)),
        ("gmin", latex.decimal(min(gradient_sizes, default=0.0), 4)),
        ("gmax", latex.decimal(max(gradient_sizes, default=0.0), 4)),
        ("zero", ", ".join(zero)),
        ("moved", str(len(adam_sizes))),
    )
    header = (
        r"\theta",
        named(r"g = \partial @L / \partial \theta"),
        r"\text{SGD: } -\alpha g",
        r"\text{Adam: } \theta_1 - \theta_0",
    )
    return Section(
        "optimizer_comparison", (Table("optimizer_comparison", header, tuple(rows)), Finding("adam_scale", facts))
    )


def extra_layer_part(d: Deriver, part: Part) -> PartSolution:
    """The network with one more layer: forward pass and gradients again, and how ∂L/∂W^{(1)} changes."""
    deep, loss = d.variant(part)
    assert part.sample is not None and part.after is not None
    scope = Scope.part(part.number)
    params = given_params(deep, scope)
    new = part.after + 1
    intro = (
        Given(weight(new), params.weights[new - 1]),
        Given(bias(new), column(params.biases[new - 1])),
        Finding(
            "inserted",
            (
                ("layer", str(new)),
                ("formula", latex.formula(network_formula(deep))),
                (
                    "activation",
                    latex.formula(network_formula(deep)) and part.inserted.activation.prose if part.inserted else "",
                ),
            ),
        ),
    )
    shown, _, deep_bwd = d.derive_sample(deep, loss, part.sample, scope, params)
    _, shallow_bwd = silent_pass(d, d.spec.network, part, scope.tag("shallow"))
    # A sheet indexing weights from input to unit means by W its transpose (latex.weight_shaped).
    flip = d.spec.sheet.names.from_to
    symbol_w, symbol_b = latex.symbol(Partial(LOSS, weight(1)), flip), latex.symbol(Partial(LOSS, bias(1)))
    rows = []
    for tag, grads, label in (("shallow", shallow_bwd, "without_layer"), ("deep", deep_bwd, "with_layer")):
        rows.append(
            (
                Word(label, str(new)),
                norm(grads.gradients.weights[0], Partial(LOSS, weight(1)), scope.tag(tag), flip),
                norm(tuple((q,) for q in grads.gradients.biases[0]), Partial(LOSS, bias(1)), scope.tag(tag)),
            )
        )
    shallow_norm, deep_norm = float(rows[0][1].approx), float(rows[1][1].approx)
    ratio = deep_norm / shallow_norm if shallow_norm else math.inf
    finding = Finding("depth_effect", (("ratio", latex.decimal(ratio, 3)), ("smaller", "yes" if ratio < 1 else "no")))
    values = (Values(Partial(LOSS, weight(1)), shallow_bwd.gradients.weights[0]),)
    header = ("", rf"\lVert {symbol_w} \rVert", rf"\lVert {symbol_b} \rVert")
    return PartSolution(
        part,
        (
            Section("inserted", intro),
            *shown,
            Section("depth_comparison", (*values, Table("depth", header, tuple(rows)), finding)),
        ),
        network_changed=True,
    )
