"""The float64 twin of each task kind: what every part computes, again, keyed as the exact engine
keys it; :func:`expected` runs all of a spec's parts for the verification gate."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np
import sympy as sp

from derive.catalog.losses import BINARY_CROSS_ENTROPY
from derive.maths.classification import PLOT_POINTS
from derive.maths.experiments import RUNAWAY
from derive.spec.model import Part, Spec, variant
from derive.terms.keys import Scope, key
from derive.terms.symbols import (
    LOSS,
    LossAt,
    LossSlope,
    Norm,
    Partial,
    PredictionError,
    StepSize,
    Sym,
    Symbolic,
    Updated,
    bias,
    sample_loss,
    weight,
)
from derive.verify.floats import Array, FloatNet, Gradients, central_difference, extended
from derive.verify.twins import (
    Expected,
    Mark,
    after,
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
    run_steps,
    sample_of,
    start,
    step_values,
)


def sample_twin(out: Expected, spec: Spec, part: Part) -> None:
    """forward, show_that, gradients, update, replace_activation: one sample, maybe one step."""
    network, loss = variant(spec, part)
    scope = Scope.part(part.number)
    net = FloatNet.of(network, rounding_of(spec))
    x, y = sample_of(part)
    out.vector(scope, "x", x)
    out.vector(scope, "y", y)
    forward_values(out, network, net, x, y, loss, scope)
    grads = gradient_values(out, network, net, x, y, loss, scope, output=part.output)
    if part.optimizer is not None and part.learning_rate is not None:
        hyper = hyper_of(part.optimizer, float(part.learning_rate), part.hyper)
        record_hyper(out, scope, hyper)
        names = part.wrt or all_names(network)
        net = run_steps(out, network, net, x, y, loss, grads, part, hyper, names)[-1]
        forward_values(out, network, net, x, y, loss, scope, after(part.steps))


def cross_entropy_twin(out: Expected, spec: Spec, part: Part) -> None:
    scope = Scope.part(part.number)
    value = BINARY_CROSS_ENTROPY.floats.value
    grid = [sp.Rational(k, PLOT_POINTS) for k in range(1, PLOT_POINTS)]
    for where, points in ((scope, part.probabilities), (scope.tag("plot"), grid)):
        for exact in points:
            p = float(exact)
            for y in (1, 0):
                out.values[key(where, LossAt(exact, y))] = value(np.array([p]), np.array([float(y)]))
    if part.sample is not None:
        network, loss = variant(spec, part)
        net = FloatNet.of(network)
        x, y_true = sample_of(part)
        out.vector(scope, "x", x)
        out.vector(scope, "y", y_true)
        forward_values(out, network, net, x, y_true, loss, scope)
        gradient_values(out, network, net, x, y_true, loss, scope)
        out.values[key(scope, PredictionError())] = float(net.forward(x)[1][-1][0] - y_true[0])


def mse_vs_ce_twin(out: Expected, spec: Spec, part: Part) -> None:
    scope, y = Scope.part(part.number), float(part.target)
    for p_exact in part.probabilities:
        p = float(p_exact)
        out.values[key(scope, LossSlope("mse", p_exact))] = 2 * (p - y) * p * (1 - p)
        out.values[key(scope, LossSlope("ce", p_exact))] = p - y


def learning_rates_twin(out: Expected, spec: Spec, part: Part) -> None:
    network, loss = variant(spec, part)
    assert part.optimizer is not None
    x, y = sample_of(part)
    start(out, network, x, y, loss, Scope.part(part.number))
    names = all_names(network)
    for r, rate in enumerate(part.learning_rates, 1):
        hyper = hyper_of(part.optimizer, float(rate), part.hyper)
        record_hyper(out, Scope.part(part.number).run(r), hyper)
        net = FloatNet.of(network)
        state: dict[str, dict[tuple[str, int], Array]] = {}
        for t in range(1, part.steps + 1):
            scope = Scope.part(part.number).run(r).step(t)
            grads = gradient_values(out, network, net, x, y, loss, scope)
            net = step_values(out, network, net, grads, part.optimizer, hyper, state, t, names, scope)
            forward_values(out, network, net, x, y, loss, scope, after(t))
            forward_values(out, network, net, x, y, loss, scope.tag("d"))
            if abs(out.values[key(scope, Updated(LOSS, t))]) > RUNAWAY:
                break


def norms(out: Expected, key: str, matrix: Array) -> None:
    out.values[key] = float(np.sqrt(np.sum(np.asarray(matrix) ** 2)))


def compare_activation_twin(out: Expected, spec: Spec, part: Part) -> None:
    relu, loss = variant(spec, part)
    scope = Scope.part(part.number)
    x, y = sample_of(part)
    out.vector(scope, "x", x)
    out.vector(scope, "y", y)
    relu_net, sigmoid_net = FloatNet.of(relu), FloatNet.of(spec.network)
    forward_values(out, relu, relu_net, x, y, loss, scope)
    relu_grads = gradient_values(out, relu, relu_net, x, y, loss, scope)
    forward_values(out, spec.network, sigmoid_net, x, y, spec.loss, scope.tag("sigmoid"))
    sigmoid_grads = gradient_values(out, spec.network, sigmoid_net, x, y, spec.loss, scope.tag("sigmoid"))
    for l in range(1, len(relu.layers) + 1):
        norms(out, key(scope.tag("sigmoid"), Norm(Partial(LOSS, weight(l)))), sigmoid_grads.weights[l - 1])
        norms(out, key(scope.tag("relu"), Norm(Partial(LOSS, weight(l)))), relu_grads.weights[l - 1])
    if part.dead_x is not None:
        dead = extended(part.dead_x)
        out.vector(scope.tag("dead"), "x", dead)
        out.vector(scope.tag("dead"), "y", y)
        forward_values(out, relu, relu_net, dead, y, loss, scope.tag("dead"))
        gradient_values(out, relu, relu_net, dead, y, loss, scope.tag("dead"))


def compare_optimizer_twin(out: Expected, spec: Spec, part: Part) -> None:
    network, loss = variant(spec, part)
    assert part.optimizer is not None and part.learning_rate is not None
    scope = Scope.part(part.number)
    x, y = sample_of(part)
    start(out, network, x, y, loss, scope)
    initial = FloatNet.of(network)
    hyper = hyper_of(part.optimizer, float(part.learning_rate), part.hyper)
    record_hyper(out, scope, hyper)
    first = gradient_values(out, network, initial, x, y, loss, scope)
    after_first = run_steps(out, network, initial, x, y, loss, first, part, hyper, all_names(network))[0]
    for kind, symbol, l, index in param_symbols(network):
        g = float((first.weights if kind == "w" else first.biases)[l - 1][index])
        old = float((initial.weights if kind == "w" else initial.biases)[l - 1][index])
        new = float((after_first.weights if kind == "w" else after_first.biases)[l - 1][index])
        out.values[key(scope, StepSize("sgd", symbol))] = -hyper["alpha"] * g
        out.values[key(scope, StepSize(part.optimizer.name, symbol))] = new - old


def extra_layer_twin(out: Expected, spec: Spec, part: Part) -> None:
    deep, loss = variant(spec, part)
    scope = Scope.part(part.number)
    x, y = sample_of(part)
    deep_net, shallow_net = FloatNet.of(deep), FloatNet.of(spec.network)
    for kind, symbol, l, index in param_symbols(deep):
        out.values[key(scope, symbol)] = float((deep_net.weights if kind == "w" else deep_net.biases)[l - 1][index])
    out.vector(scope, "x", x)
    out.vector(scope, "y", y)
    forward_values(out, deep, deep_net, x, y, loss, scope)
    deep_grads = gradient_values(out, deep, deep_net, x, y, loss, scope)
    forward_values(out, spec.network, shallow_net, x, y, spec.loss, scope.tag("shallow"))
    shallow_grads = gradient_values(out, spec.network, shallow_net, x, y, spec.loss, scope.tag("shallow"))
    for tag, grads in (("shallow", shallow_grads), ("deep", deep_grads)):
        norms(out, key(scope.tag(tag), Norm(Partial(LOSS, weight(1)))), grads.weights[0])
        norms(out, key(scope.tag(tag), Norm(Partial(LOSS, bias(1)))), grads.biases[0])


def batch_twin(out: Expected, spec: Spec, part: Part) -> None:
    """Each sample's pass and gradients, the batch loss and gradient, and the steps, per batch or per sample."""
    network, loss = variant(spec, part)
    assert part.optimizer is not None and part.learning_rate is not None
    scope, size = Scope.part(part.number), len(part.samples)
    scale = 1.0 / size if part.batch_mean else 1.0
    samples = [(extended(s.x), extended(s.y)) for s in part.samples]
    hyper = hyper_of(part.optimizer, float(part.learning_rate), part.hyper)
    record_hyper(out, scope, hyper)
    names = part.wrt or all_names(network)
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

    if part.mode == "batch":
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
        net = step_values(out, network, net, grads, part.optimizer, hyper, state, 1, names, scope)
        times = 1
    else:
        for n in range(1, size + 1):
            net = step_values(out, network, net, one(n, net), part.optimizer, hyper, state, n, names, scope)
        times = size
    for n, (x, y) in enumerate(samples, 1):
        forward_values(out, network, net, x, y, loss, scope.sample(n), marked(n, times))
    out.values[key(scope, Updated(LOSS, times))] = float(
        combined(
            [np.array(out.values[key(scope.sample(n), Updated(sample_loss(n), times))]) for n in range(1, size + 1)]
        )
    )


TWINS: Mapping[str, Callable[[Expected, Spec, Part], None]] = {
    "forward": sample_twin,
    "show_that": sample_twin,
    "gradients": sample_twin,
    "update": sample_twin,
    "replace_activation": sample_twin,
    "cross_entropy": cross_entropy_twin,
    "learning_rates": learning_rates_twin,
    "compare_activation": compare_activation_twin,
    "compare_optimizer": compare_optimizer_twin,
    "mse_vs_ce": mse_vs_ce_twin,
    "extra_layer": extra_layer_twin,
    "batch": batch_twin,
}


def expected(spec: Spec) -> Expected:
    """Float64 values of everything the solution of ``spec`` can contain."""
    out = Expected()
    base = FloatNet.of(spec.network)
    for kind, symbol, l, index in param_symbols(spec.network):
        out.values[symbol.key] = float((base.weights if kind == "w" else base.biases)[l - 1][index])
    # Rounded to few digits a probability can be exactly 0: the twin then divides by 0 in gradients
    # no part may show (a forward part's), and where a part shows one the exact engine refuses it.
    with np.errstate(divide="ignore", invalid="ignore") if spec.sheet.carry else contextlib.nullcontext():
        for part in spec.parts:
            if part.kind not in TWINS:
                raise TypeError(f"no float64 twin for part kind {part.kind!r}")
            TWINS[part.kind](out, spec, part)
    return out
