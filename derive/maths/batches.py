"""A batch of samples: each loss L_n and its gradients, the batch loss and gradient, SGD per batch or per sample.

``mode = "batch"``: every sample's gradients at the same parameters, then one step with the batch
gradient ∂L/∂θ = (1/N) Σ_n ∂L_n/∂θ (or the sum). ``mode = "per_sample"``: one step per sample, in
order, each from the gradient of that sample at the parameters the previous step left (the
optimizer's state carries over). Either way the batch loss before and after is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from derive.catalog.losses import Loss
from derive.maths.derivation import Deriver, gradient_findings, loss_findings
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
from derive.maths.updates import flat, optimizer_steps, param_symbol
from derive.spec.model import Network, Part
from derive.terms.formula import Node, Num, Product, Quantity, Ref, Sum, Tensor
from derive.terms.keys import Scope
from derive.terms.symbols import LOSS, TARGET, Partial, Sym, Symbolic, Updated, sample_loss


def sample_scope(part: Part, n: int) -> Scope:
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
    d: Deriver,
    network: Network,
    loss: Loss,
    part: Part,
    n: int,
    params: Params,
    names: Sequence[str],
    steps_before: int,
) -> tuple[list[Section], Forward, Backward]:
    """Sample n: its givens, forward pass, loss L_n and every gradient ∂L_n/∂θ, in full."""
    mark = sample_mark(n, steps_before)
    scope = sample_scope(part, n)
    x, y = given_sample(part.samples[n - 1], scope, d.spec.sheet.carry)
    fwd = forward(network, params, x, y, loss, scope, mark=mark)
    bwd = backward(network, params, fwd, loss, scope)
    label = str(n)
    return (
        [
            Section("batch_sample", (Given(Sym("x"), column(x)), Given(Sym(TARGET.base), column(y))), label),
            Section("forward", d.forward_steps(network, params, fwd, mark)),
            Section("loss", (d.loss_step(fwd, loss, mark), *loss_findings(fwd))),
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
        symbol = param_symbol(name)
        terms = tuple(Tensor(Partial(sample_loss(n), symbol), b.gradients.tensor(name)) for n, b in enumerate(bwds, 1))
        general: Node = Sum(terms)
        if mean:
            general = Product((Num(sp.Rational(1, len(bwds))), general))
        values = batch.gradients.tensor(name)
        steps.append(Compute(Partial(LOSS, symbol), general, flat(values), shape=(len(values), len(values[0]))))
    return steps


def after_sections(
    d: Deriver, network: Network, loss: Loss, part: Part, params: Params, times: int
) -> tuple[list[Section], list[Forward]]:
    """Every sample through the network after ``times`` steps, and the batch loss there."""
    sections: list[Section] = []
    fwds = []
    for n in range(1, len(part.samples) + 1):
        scope = sample_scope(part, n)
        x, y = given_sample(part.samples[n - 1], scope, d.spec.sheet.carry)

        def mark(symbol: Sym, n: int = n) -> Symbolic:
            return Updated(sample_loss(n) if symbol == LOSS else symbol, times)

        fwd = forward(network, params, x, y, loss, scope, mark=mark)
        fwds.append(fwd)
        steps = (*d.forward_steps(network, params, fwd, mark), d.loss_step(fwd, loss, mark))
        sections.append(Section("batch_after", steps, str(n)))
    total = batch_loss_step(fwds, part.batch_mean, Scope.part(part.number), times)
    sections.append(Section("batch_after_loss", (total,), str(times)))
    return sections, fwds


def batch_part(d: Deriver, part: Part) -> PartSolution:
    """A batch part: per-sample passes, then one step per batch or per sample, then the losses after."""
    assert part.optimizer is not None and part.learning_rate is not None
    network, loss = d.variant(part)
    names = part.wrt or d.params.names()
    scope, mean = Scope.part(part.number), part.batch_mean
    hyper = hyper_quantities(part.optimizer, part.learning_rate, scope, d.spec.sheet.carry, **dict(part.hyper))
    intro: tuple[Step, ...] = (Identity(part.optimizer.formula, part.optimizer.prose),)
    sections: list[Section] = []
    if part.mode == "batch":
        fwds, bwds = [], []
        for n in range(1, len(part.samples) + 1):
            shown, fwd, bwd = sample_pass(d, network, loss, part, n, d.params, names, 0)
            sections += shown
            fwds.append(fwd)
            bwds.append(bwd)
        batch = batch_gradient(bwds, mean, scope)
        total = batch_loss_step(fwds, mean, scope)
        sections.append(Section("batch_gradient", (total, *gradient_steps(bwds, batch, names, mean))))
        stepped = step(d.params, d.params, batch, part.optimizer, hyper, State(), names, scope)
        shown_step = optimizer_steps(part.optimizer, hyper, d.params, batch, stepped, names)
        sections.append(Section("update", (*intro, *shown_step)))
        params, times = stepped.params, 1
    else:
        params, state = d.params, State()
        losses = []
        for n in range(1, len(part.samples) + 1):
            shown, fwd, bwd = sample_pass(d, network, loss, part, n, params, names, n - 1)
            sections += shown
            losses.append(fwd)
            stepped = step(d.params, params, bwd, part.optimizer, hyper, state, names, scope)
            shown_step = optimizer_steps(part.optimizer, hyper, params, bwd, stepped, names, n == 1)
            sections.append(Section("update", (*(intro if n == 1 else ()), *shown_step), str(n)))
            params, state = stepped.params, stepped.state
        times = len(part.samples)
    after, _ = after_sections(d, network, loss, part, params, times)
    return PartSolution(part, (*sections, *after))
