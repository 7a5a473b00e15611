"""The float64 twin's passes: forward, backward with finite differences, and optimizer steps, each
value keyed exactly as the exact engine keys its quantities; each part kind's twin (in its module of
:mod:`derive.kinds`) runs them, and :func:`expected` runs every part of a spec for the gate.

This is the independent side of the verification gate: it shares with the exact engine only the
spec and the names of quantities, never a formula.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import sympy as sp

from derive.catalog.losses import Loss
from derive.catalog.optimizers import Optimizer, Rounder
from derive.exercise.model import Network, Part, Spec, Training
from derive.exercise.notation import ERROR
from derive.terms.keys import Scope, key, parse_entry, unit
from derive.terms.symbols import LOSS, Mean, Partial, Stat, Sym, Symbolic, Tied, Updated, bias, output_loss
from derive.verify.closed import given_float, typed_forms
from derive.verify.floats import (
    Array,
    FloatNet,
    Gradients,
    central_difference,
    extended,
    extrapolated,
    offsets,
    rounder,
    step,
    unrounded,
)

Mark = Callable[[Sym], Symbolic]


def plain(symbol: Sym) -> Symbolic:
    return symbol


def after(times: int) -> Mark:
    return lambda symbol: Updated(symbol, times)


@dataclass
class Expected:
    """Float64 values by answer key, and finite-difference estimates of every gradient."""

    values: dict[str, float] = field(default_factory=dict)
    differences: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Per gradient key: the central-difference estimate and its rounding-noise bound."""
    unrounded: dict[str, float] = field(default_factory=dict)
    """Under the student policy, per gradient key the gradient without rounding: the differences
    confirm it (the sheet's rounded value is confirmed by the rounded twin in ``values``)."""

    def vector(self, scope: Scope, base: str, values: Array) -> None:
        for i, v in enumerate(values, 1):
            self.values[key(scope, Sym(base, None, (i,)))] = float(v)


def rounding_of(spec: Spec) -> Rounder:
    """The twin's rounding for ``spec``: the student policy's, in float64, or none."""
    carry = spec.sheet.carry
    return unrounded if carry is None else rounder(carry.digits, carry.significant)


def param_symbols(network: Network) -> list[tuple[str, Sym, int, tuple[int, ...]]]:
    """(kind, symbol, layer, 0-based index) of every parameter entry, in the engine's order."""
    entries: list[tuple[str, Sym, int, tuple[int, ...]]] = []
    for l, layer in enumerate(network.layers, 1):
        rows, cols = layer.shape
        entries += [("w", Sym("w", l, (j + 1, k + 1)), l, (j, k)) for j in range(rows) for k in range(cols)]
        if layer.shared_bias:
            entries.append(("b", bias(l), l, (0,)))
        elif layer.has_bias:
            entries += [("b", bias(l).entry(j + 1), l, (j,)) for j in range(rows)]
    return entries


NetLoss = Callable[[list[Array], list[Array], Array], float]


def network_loss(network: Network, loss: Loss) -> NetLoss:
    """The loss from a forward pass (pre-activations, activations, target), stably where it matters.

    Cross-entropy of a sigmoid output is computed from the logit, log(1 + e^z) − y z: from the
    output p itself, 1 − p loses every digit as p → 1, and with them the finite differences.
    """
    value = loss.floats.value
    if logit_form(network, loss):
        return lambda zs, activations, y: float(np.sum(np.logaddexp(0.0, zs[-1]) - y * zs[-1]))
    return lambda zs, activations, y: value(activations[-1], y)


def logit_form(network: Network, loss: Loss) -> bool:
    """Whether the loss is cross-entropy of a sigmoid output, best computed from the logit."""
    return loss.name == "binary_cross_entropy" and network.layers[-1].activation.name == "sigmoid"


def forward_values(
    out: Expected, network: Network, net: FloatNet, x: Array, y: Array, loss: Loss, scope: Scope, mark: Mark = plain
) -> None:
    """Every z and a of the pass, and the loss (none without targets: a part of an output)."""
    zs, activations = net.forward(x)
    for l, (z, a) in enumerate(zip(zs, activations, strict=True), 1):
        for j, (zj, aj) in enumerate(zip(z, a, strict=True), 1):
            out.values[key(scope, mark(unit(len(network.layers), l, "z", j)))] = float(zj)
            out.values[key(scope, mark(unit(len(network.layers), l, "a", j)))] = float(aj)
    if len(y):
        if net.rounds:  # the student policy: the loss of the rounded ŷ, rounded
            value = float(net.r(np.array(loss.floats.value(activations[-1], y))))
        else:
            value = network_loss(network, loss)(zs, activations, y)
        out.values[key(scope, mark(LOSS))] = value
        if len(y) > 1 and loss.scale == 1:  # each output's share L_{o_j}, where a sheet splits the loss
            for j in range(len(y)):
                part = loss.floats.value(activations[-1][j : j + 1], y[j : j + 1])
                out.values[key(scope, mark(output_loss(j + 1)))] = float(part)


def at_kink(network: Network, zs: Sequence[Array]) -> bool:
    """Whether a pre-activation sits at a ReLU kink, where the two one-sided slopes differ."""
    return any(layer.activation.kink and np.any(np.abs(z) < 1e-7) for layer, z in zip(network.layers, zs, strict=True))


def entry_place(key: str) -> tuple[str, int, tuple[int, ...]]:
    """The kind ("w" or "b"), layer and 0-based index of an entry key (``w1[1,2]``; a shared ``b2``: ())."""
    entry = parse_entry(key)  # the key's name only; the values are this engine's own
    assert isinstance(entry.layer, int)
    return entry.base, entry.layer, tuple(int(i) - 1 for i in entry.index)


def gradient_values(
    out: Expected,
    network: Network,
    net: FloatNet,
    x: Array,
    y: Array,
    loss: Loss,
    scope: Scope,
    of: Sym = LOSS,
    output: int | None = None,
    differences: bool = True,
) -> Gradients:
    """Backpropagation in float64, and a central difference for every gradient it gives (of ``of``).

    With ``output`` there is no loss: the gradients are those of the output ŷ_output itself. Without
    ``differences`` the gradients are recorded without their central differences: for a step whose
    gradients the sheet does not list (a learning-rate run past its exact steps), whose differences
    nothing would be compared with (they were half of the built-in example's twin).
    """
    if output is None:
        value, derivative = loss.floats.value, loss.floats.gradient
        whole = network_loss(network, loss)
    else:
        of = unit(len(network.layers), len(network.layers), "a", output)
        value, derivative, whole = output_twin(output)
    logit = output is None and logit_form(network, loss)
    plain = net.plain()  # the true gradients, before the student policy's rounding
    grads = net.backward(x, y, derivative, from_logit=logit and not net.rounds)
    if plain is not net:
        grads = replace(grads, unrounded=plain.backward(x, y, derivative, from_logit=logit))
    kinked = at_kink(network, plain.forward(x)[0])
    fd, xf, yf = net.coarse(), x.astype(float), y.astype(float)  # what the differences nudge

    def record(symbol: Symbolic, where: tuple[str, tuple[int, ...]], nudged: tuple[float, float] | None) -> None:
        name = key(scope, symbol)
        out.values[name] = entry_of(grads, *where)
        if grads.unrounded is not None:
            out.unrounded[name] = entry_of(grads.unrounded, *where)
        if not kinked and nudged is not None:  # at a ReLU kink the two one-sided slopes differ
            out.differences[name] = nudged

    depth = len(network.layers)

    def of_output(zs: list[Array], activations: list[Array], target: Array) -> float:
        return value(activations[-1], target)  # nudging ŷ itself: the loss must come from ŷ, not the logit

    def units(of_units: NetLoss, kind: str, layer: int) -> Sequence[tuple[float, float] | None]:
        if differences:
            return _unit_differences(fd, xf, yf, of_units, kind, layer)
        return [None] * (len(xf) if kind == "x" else len(net.weights[layer - 1]))

    for j, nudged in enumerate(units(of_output, "a", depth), 1):
        record(Partial(of, unit(len(network.layers), depth, "a", j)), ("output", (j - 1,)), nudged)
    zs = plain.forward(x)[0]
    for l in range(1, depth + 1):
        for j, nudged in enumerate(units(whole, "z", l), 1):
            record(Sym("delta", l, (j,)), ("delta", (l - 1, j - 1)), nudged)
            _error_term(out, key(scope, Sym("delta", l, (j,))), key(scope, Sym(ERROR, l, (j,))))
        f_prime = network.layers[l - 1].activation.floats.slope
        if f_prime is not None:  # f'(z_j) = ∂a_j/∂z_j, where a sheet writes it as its own line
            slopes = f_prime(zs[l - 1])
            for j in range(1, len(slopes) + 1):
                da_dz = Partial(unit(depth, l, "a", j), unit(depth, l, "z", j))
                out.values[key(scope, da_dz)] = float(slopes[j - 1])
        if l > 1:
            for k, nudged in enumerate(units(whole, "a", l - 1), 1):
                record(Partial(of, unit(len(network.layers), l - 1, "a", k)), ("activation", (l - 2, k - 1)), nudged)
    if output is None and depth > 1 and not network.skips:
        # ∂L_{o_j}/∂a_k = δ_j w_{j,k}: each output's share of the gradient of a unit below the outputs.
        for j, d in enumerate(grads.delta[depth - 1], 1):
            for k, w in enumerate(net.weights[depth - 1][j - 1], 1):
                share = Partial(output_loss(j), unit(depth, depth - 1, "a", k))
                out.values[key(scope, share)] = float(d * w)
    outputs = net.forward(x)[1]
    for l, layer in enumerate(network.layers, 1):
        if layer.activation.vector:  # ḡ = Σ_i a_i ∂L/∂a_i of a softmax layer
            upstream = grads.output if l == depth else grads.activation[l - 1]
            out.values[key(scope, Mean(l))] = float(net.r(np.array(upstream @ outputs[l - 1])))
    # ∂L/∂x = W^{(1)ᵀ} δ^{(1)} (plus what skip connections bring back), nudged by moving the input itself.
    for k, nudged in enumerate(units(whole, "x", 0)):
        record(Partial(of, Sym("x", None, (k + 1,))), ("inputs", (k,)), nudged)
    entries = param_symbols(network)
    params = _param_differences(fd, xf, yf, whole, entries) if differences else [None] * len(entries)
    for (kind, symbol, l, index), nudged in zip(entries, params, strict=True):
        record(Partial(of, symbol), ("weights" if kind == "w" else "biases", (l - 1, *index)), nudged)
    return grads


def _error_term(out: Expected, delta: str, err: str) -> None:
    """Err_j = −δ_j, where a sheet writes the error term ([notation] error_term), with its differences."""
    out.values[err] = -out.values[delta]
    if delta in out.unrounded:
        out.unrounded[err] = -out.unrounded[delta]
    if delta in out.differences:
        estimate, noise = out.differences[delta]
        out.differences[err] = (-estimate, noise)


def entry_of(grads: Gradients, name: str, index: tuple[int, ...]) -> float:
    """One entry of ``grads``: its field ``name`` (delta, weights, …) at ``index`` (layer first)."""
    value = getattr(grads, name)
    for i in index:
        value = value[i]
    return float(value)


def output_twin(j: int) -> tuple[Callable[[Array, Array], float], Callable[[Array, Array], Array], NetLoss]:
    """The no-loss mode's stand-ins for the loss: ŷ_j itself, its seed e_j, and ŷ_j of a pass."""
    return (
        lambda p, y: float(p[j - 1]),
        lambda p, y: np.eye(len(p))[j - 1],
        lambda zs, activations, y: float(activations[-1][j - 1]),
    )


def _nudge_param(
    net: FloatNet,
    x: Array,
    y: Array,
    value: NetLoss,
    where: tuple[str, int, tuple[int, ...]],
    start: float,
) -> tuple[float, float]:
    kind, layer, index = where
    return central_difference(lambda h: value(*net.with_param(kind, layer, index, h).forward(x), y), start)


def _param_differences(
    net: FloatNet, x: Array, y: Array, value: NetLoss, entries: Sequence[tuple[str, Sym, int, tuple[int, ...]]]
) -> list[tuple[float, float]]:
    """A central difference for every parameter entry: each nudge moves one entry, as
    :func:`_nudge_param` does, but the passes of all the nudges of a layer run as the rows of one
    (a 32-32-32-1 network takes 9 000 passes)."""
    if not net.elementwise:  # softmax maps a whole layer: one pass at a time
        tensors = {"w": net.weights, "b": net.biases}
        return [
            _nudge_param(net, x, y, value, (kind, l, index), float(tensors[kind][l - 1][index]))
            for kind, _, l, index in entries
        ]
    zs, activations = net.forward(x)
    differences: list[tuple[float, float]] = []
    for layer in range(1, len(net.weights) + 1):
        places = [(kind, index) for kind, _, l, index in entries if l == layer]
        if not places:
            continue
        weights, biases = net.weights[layer - 1], net.biases[layer - 1]
        below = net.stacked(x, activations, layer)
        products = weights @ below
        steps, rows = [], []
        for kind, index in places:
            h = step(float((weights if kind == "w" else biases)[index]))
            steps.append(h)
            for offset in offsets(h):
                z = zs[layer - 1].copy()
                if kind == "w":
                    j, k = index
                    row = weights[j].copy()
                    row[k] += offset
                    z[j] = row @ below + biases[j]
                elif net.shared and net.shared[layer - 1]:
                    z = products + (biases + offset)  # one bias in every unit
                else:
                    z[index] = products[index] + (biases[index] + offset)
                rows.append(z)
        differences += _row_differences(steps, net.rows_from(x, zs, activations, layer, np.array(rows)), value, y)
    return differences


def _unit_differences(
    net: FloatNet, x: Array, y: Array, value: NetLoss, kind: str, layer: int
) -> list[tuple[float, float]]:
    """A central difference for every unit of ``layer``, nudged in its z (``kind`` "z") or its
    output a, or for every input (``kind`` "x", layer 0): as :func:`_nudge` and :func:`_nudge_input`
    do one at a time, but all the nudges as rows of one pass."""
    zs, activations = net.forward(x)
    values = x if kind == "x" else (zs if kind == "z" else activations)[layer - 1]
    if not net.elementwise:  # softmax maps a whole layer: one pass at a time
        if kind == "x":
            return [_nudge_input(net, x, y, value, k) for k in range(len(x))]
        return [_nudge(net, x, y, value, (kind, layer, j)) for j in range(len(values))]
    steps, rows = [], []
    for j, v in enumerate(values):
        h = step(float(v))
        steps.append(h)
        for offset in offsets(h):
            row = values.copy()
            row[j] += offset
            rows.append(row)
    if kind == "x":
        batch = net.rows_of_inputs(np.array(rows))
    else:
        batch = (net.rows_from if kind == "z" else net.rows_after)(x, zs, activations, layer, np.array(rows))
    return _row_differences(steps, batch, value, y)


def _row_differences(
    steps: Sequence[float], batch: tuple[list[Array], list[Array]], value: NetLoss, y: Array
) -> list[tuple[float, float]]:
    """The differences of passes computed as rows of ``batch``, four a step h (:func:`offsets`)."""
    batch_z, batch_a = batch
    losses = [value([z[i] for z in batch_z], [a[i] for a in batch_a], y) for i in range(4 * len(steps))]
    return [extrapolated(h, *losses[4 * n : 4 * n + 4]) for n, h in enumerate(steps)]


def _nudge_tied(net: FloatNet, x: Array, y: Array, value: NetLoss, group: Sequence[str]) -> tuple[float, float]:
    """The loss's slope when every entry of a tied group moves together: the shared parameter's gradient."""

    places = [entry_place(key) for key in group]

    def moved(h: float) -> float:
        shifted = net
        for kind, layer, index in places:
            shifted = shifted.with_param(kind, layer, index or (0,), h)
        return value(*shifted.forward(x), y)

    kind, layer, index = places[0]
    return central_difference(moved, float((net.weights if kind == "w" else net.biases)[layer - 1][index or (0,)]))


def _nudge_input(net: FloatNet, x: Array, y: Array, value: NetLoss, k: int) -> tuple[float, float]:
    def moved(h: float) -> float:
        nudged = x.astype(float).copy()
        nudged[k] += h  # central_difference passes offsets
        return value(*net.forward(nudged), y)

    return central_difference(moved, float(x[k]))


def _nudge(net: FloatNet, x: Array, y: Array, value: NetLoss, where: tuple[str, int, int]) -> tuple[float, float]:
    kind, layer, unit = where
    zs, activations = net.forward(x)
    start = float((zs if kind == "z" else activations)[layer - 1][unit])
    return central_difference(lambda h: value(*net.forward(x, (kind, layer, unit, h)), y), start)


def step_values(
    out: Expected,
    network: Network,
    net: FloatNet,
    grads: Gradients,
    optimizer: Optimizer,
    hyper: Mapping[str, float],
    state: dict[str, dict[tuple[str, int], Array]],
    t: int,
    names: Sequence[str],
    scope: Scope,
) -> FloatNet:
    """One optimizer step on the layers' tensors; records every stage of every entry."""
    update = optimizer.floats
    weights, biases = list(net.weights), list(net.biases)
    for l in range(1, len(network.layers) + 1):
        for kind, tensors, gradient in (("W", weights, grads.weights), ("b", biases, grads.biases)):
            if f"{kind}{l}" not in names:
                continue
            previous = {name: values[(kind, l)] for name, values in state.items() if (kind, l) in values}
            stages = update(tensors[l - 1], gradient[l - 1], previous, t, hyper, net.r)
            for name in optimizer.state:
                state.setdefault(name, {})[(kind, l)] = stages[name]
            tensors[l - 1] = stages["theta"]
            for name, values in stages.items():
                for index, v in np.ndenumerate(values):
                    if kind == "b" and network.layers[l - 1].shared_bias:
                        symbol = bias(l)  # every unit's copy steps alike
                    else:
                        symbol = (
                            Sym("w", l, tuple(i + 1 for i in index)) if kind == "W" else bias(l).entry(index[0] + 1)
                        )
                    target = Updated(symbol, t) if name == "theta" else Stat(name, symbol, t)
                    out.values[key(scope, target)] = float(v)
    return net.replace(tuple(weights), tuple(biases))


def run_steps(
    out: Expected,
    network: Network,
    net: FloatNet,
    x: Array,
    y: Array,
    loss: Loss,
    grads: Gradients,
    scope: Scope,
    training: Training,
    names: Sequence[str],
) -> list[FloatNet]:
    """``training.steps`` optimizer steps from ``net`` (whose gradients are ``grads``), keyed as the
    exact engine's optimizer run keys them; the network after each step."""
    hyper = hyper_of(training)
    state: dict[str, dict[tuple[str, int], Array]] = {}
    nets = []
    for t in range(1, training.steps + 1):
        if t > 1:
            forward_values(out, network, net, x, y, loss, scope, after(t - 1))
            grads = gradient_values(out, network, net, x, y, loss, scope.step(t))
        if training.frozen:
            grads = frozen_out(out, grads, training.frozen, scope if t == 1 else scope.step(t))
        if training.tied:
            grads = tied_out(out, grads, training.tied, scope if t == 1 else scope.step(t), net.r)
            whole = network_loss(network, loss)
            kinked = at_kink(network, net.plain().forward(x)[0])
            for number, group in enumerate(training.tied, 1):
                tied_key = key(scope if t == 1 else scope.step(t), Partial(LOSS, Tied(number)))
                if not kinked:  # at a ReLU kink the two one-sided slopes differ
                    out.differences[tied_key] = _nudge_tied(
                        net.coarse(), x.astype(float), y.astype(float), whole, group
                    )
        net = step_values(out, network, net, grads, training.optimizer, hyper, state, t, names, scope)
        nets.append(net)
    return nets


def frozen_out(out: Expected, grads: Gradients, frozen: Sequence[str], scope: Scope) -> Gradients:
    """The gradients with the frozen entries' set to 0 (recorded under the exact engine's keys)."""
    weights = [w.copy() for w in grads.weights]
    biases = [b.copy() for b in grads.biases]
    for entry in frozen:
        kind, layer, index = entry_place(entry)
        (weights if kind == "w" else biases)[layer - 1][index] = 0.0  # b2 (shared, index ()): every unit's copy
        out.values[key(scope.tag("frozen"), Partial(LOSS, parse_entry(entry)))] = 0.0
    return replace(grads, weights=tuple(weights), biases=tuple(biases))


def tied_out(
    out: Expected, grads: Gradients, groups: Sequence[Sequence[str]], scope: Scope, r: Rounder = unrounded
) -> Gradients:
    """The gradients with every entry of a tied group replaced by the group's sum (keyed as the exact engine)."""
    unrounded_grads = grads.unrounded
    if unrounded_grads is not None:
        unrounded_grads = tied_out(Expected(), unrounded_grads, groups, scope)
    weights = [w.copy() for w in grads.weights]
    biases = [b.copy() for b in grads.biases]
    for number, group in enumerate(groups, 1):
        places = [
            ((weights if kind == "w" else biases)[layer - 1], index) for kind, layer, index in map(entry_place, group)
        ]
        # A shared bias (index ()) holds its gradient in every unit's copy: read one, write all.
        total = float(r(np.array(sum(source[index or (0,)] for source, index in places))))
        for source, index in places:
            source[index] = total
        tied_key = key(scope, Partial(LOSS, Tied(number)))
        out.values[tied_key] = total
        if unrounded_grads is not None:
            kind, layer, index = entry_place(group[0])
            out.unrounded[tied_key] = entry_of(
                unrounded_grads, "weights" if kind == "w" else "biases", (layer - 1, *(index or (0,)))
            )
    return replace(grads, weights=tuple(weights), biases=tuple(biases), unrounded=unrounded_grads)


def sample_of(part: Part[Any]) -> tuple[Array, Array]:
    assert part.sample is not None
    return extended(part.sample.x), extended(part.sample.y)


def hyper_of(training: Training, rate: sp.Rational | None = None) -> dict[str, float]:
    """α (the training's, or ``rate``) and every hyperparameter of its optimizer, as floats."""
    values = {"alpha": training.learning_rate if rate is None else rate, **training.hyperparameters}
    return {name: given_float(value) for name, value in values.items()}


def record_hyper(out: Expected, scope: Scope, hyper: Mapping[str, float]) -> None:
    for name, value in hyper.items():
        out.values[key(scope, Sym(name))] = value


def all_names(network: Network) -> tuple[str, ...]:
    return tuple(network.parameter_names())


def start(out: Expected, network: Network, x: Array, y: Array, loss: Loss, scope: Scope) -> None:
    """The sample and its forward pass, which a part shows when no earlier part did."""
    out.vector(scope, "x", x)
    out.vector(scope, "y", y)
    forward_values(out, network, FloatNet.of(network), x, y, loss, scope)


def sample_run(out: Expected, spec: Spec, part: Part[Any], training: Training | None = None) -> None:
    """The twin of a part with one sample: its pass, its gradients (of the loss, or of the output it
    names), and with ``training`` the optimizer steps and the pass after them."""
    network, loss = part.network_and_loss(spec)
    scope = Scope.part(part.number)
    net = FloatNet.of(network, rounding_of(spec))
    x, y = sample_of(part)
    out.vector(scope, "x", x)
    out.vector(scope, "y", y)
    forward_values(out, network, net, x, y, loss, scope)
    grads = gradient_values(out, network, net, x, y, loss, scope, output=part.output)
    if training is not None:
        record_hyper(out, scope, hyper_of(training))
        names = training.wrt or all_names(network)
        net = run_steps(out, network, net, x, y, loss, grads, scope, training, names)[-1]
        forward_values(out, network, net, x, y, loss, scope, after(training.steps))


def norms(out: Expected, name: str, matrix: Array) -> None:
    """The Frobenius norm of a gradient matrix, under its key."""
    out.values[name] = float(np.sqrt(np.sum(np.asarray(matrix) ** 2)))


def expected(spec: Spec) -> Expected:
    """Float64 values of everything the solution of ``spec`` can contain."""
    out = Expected()
    if spec.network is not None:  # the network's given parameters, by their keys
        base = FloatNet.of(spec.network)
        for kind, symbol, l, index in param_symbols(spec.network):
            out.values[symbol.key] = float((base.weights if kind == "w" else base.biases)[l - 1][index])
    # Rounded to few digits a probability can be exactly 0: the twin then divides by 0 in gradients
    # no part may show (a forward part's), and where a part shows one the exact engine refuses it.
    with (
        np.errstate(divide="ignore", invalid="ignore") if spec.sheet.carry else contextlib.nullcontext(),
        typed_forms(spec.closed_forms),  # closed forms among the givens: the float engine reads their text
    ):
        for part in spec.parts:
            part.kind.twin(out, spec, part)
    return out
