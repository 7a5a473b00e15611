"""The verification gate: an independent float64 engine and central finite differences.

Nothing here reuses the exact engine's formulas: the activations, losses and optimizers have
their own float64 twins below, forward and backward passes are written again with NumPy, and
every gradient is also checked by central finite differences of the float loss. A mismatch
beyond the named tolerances raises :class:`VerificationError` naming the quantity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from derive.catalog import Activation, Loss, Optimizer
from derive.errors import VerificationError
from derive.formula import small
from derive.network import unit_symbol
from derive.notation import LOSS, RATE, Partial, Sym, Symbolic, Updated, bias
from derive.spec import Network, Part
from derive.steps import Solution

REL_TOL = 1e-9
"""Relative tolerance between an exact value and the float64 engine."""
ABS_TOL = 1e-12
"""Absolute floor for values that cancel to (nearly) zero."""
FD_TOL = 1e-6
"""Tolerance (relative, with an absolute floor of the same size) for finite differences."""

Array = np.ndarray
FloatFn = Callable[[Array], Array]


def _sigmoid(z: Array) -> Array:
    # Stable for large |z|: never exponentiates a positive number.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _float_activation(act: Activation) -> tuple[FloatFn, FloatFn]:
    params = dict(act.params)
    if act.name == "identity":
        return (lambda z: z), (lambda z: np.ones_like(z))
    if act.name == "sigmoid":
        return _sigmoid, (lambda z: _sigmoid(z) * (1.0 - _sigmoid(z)))
    if act.name == "constant":
        c = float(params["c"])
        return (lambda z: np.full_like(z, c)), (lambda z: np.zeros_like(z))
    raise VerificationError(f"no float64 twin for activation {act.name!r}: add one to derive/verify.py")


def _float_loss(loss: Loss) -> tuple[Callable[[Array, Array], float], Callable[[Array, Array], Array]]:
    if loss.name == "squared_error":
        return (lambda yhat, y: float(np.sum((yhat - y) ** 2))), (lambda yhat, y: 2.0 * (yhat - y))
    raise VerificationError(f"no float64 twin for loss {loss.name!r}: add one to derive/verify.py")


def _float_optimizer(optimizer: Optimizer) -> Callable[[Array, float, Array], Array]:
    if optimizer.name == "sgd":
        return lambda theta, rate, grad: theta - rate * grad
    raise VerificationError(f"no float64 twin for optimizer {optimizer.name!r}: add one to derive/verify.py")


@dataclass(frozen=True)
class FloatNet:
    """A network in float64: weights, biases and activation twins per layer."""

    weights: tuple[Array, ...]
    biases: tuple[Array, ...]
    acts: tuple[tuple[FloatFn, FloatFn], ...]

    @classmethod
    def of(cls, network: Network) -> FloatNet:
        return cls(
            tuple(np.array([[float(w) for w in row] for row in layer.weights]) for layer in network.layers),
            tuple(np.array([float(b) for b in layer.bias]) for layer in network.layers),
            tuple(_float_activation(layer.activation) for layer in network.layers),
        )

    def forward(self, x: Array, nudge: tuple[str, int, int, float] | None = None) -> tuple[list[Array], list[Array]]:
        """z and a per layer; ``nudge`` = (kind, layer, unit, h) adds h to one z or a (for differences)."""
        zs, activations, a = [], [], x
        for l, (w, b, (f, _)) in enumerate(zip(self.weights, self.biases, self.acts, strict=True), 1):
            z = w @ a + b
            if nudge and nudge[0] == "z" and nudge[1] == l:
                z = z.copy()
                z[nudge[2]] += nudge[3]
            a = f(z)
            if nudge and nudge[0] == "a" and nudge[1] == l:
                a = a.copy()
                a[nudge[2]] += nudge[3]
            zs.append(z)
            activations.append(a)
        return zs, activations

    def with_param(self, kind: str, layer: int, index: tuple[int, ...], h: float) -> FloatNet:
        weights, biases = list(self.weights), list(self.biases)
        target = weights if kind == "w" else biases
        target[layer - 1] = target[layer - 1].copy()
        target[layer - 1][index] += h
        return FloatNet(tuple(weights), tuple(biases), self.acts)


@dataclass(frozen=True)
class Report:
    """What the gate checked: counts and the largest deviations seen."""

    values: int
    differences: int
    max_relative: float
    max_difference: float


def verify(solution: Solution) -> Report:
    """Check every quantity of ``solution``; raise :class:`VerificationError` on the first mismatches."""
    spec = solution.spec
    expected: dict[str, float] = {}
    base = FloatNet.of(spec.network)
    for given in solution.givens:
        for row in given.entries:
            for q in row:
                expected[q.key] = _param_value(base, q.symbol)
    differences: dict[str, float] = {}
    for part_solution in solution.parts:
        part = part_solution.part
        network = (
            spec.network.with_activation(part.layer, part.activation)
            if part.activation and part.layer
            else spec.network
        )
        values, part_differences = _float_part(network, spec.loss, part)
        expected.update(values)
        differences.update(part_differences)
    problems: list[str] = []
    checked = fd_checked = 0
    worst = worst_fd = 0.0
    for q in solution.quantities():
        if q.key not in expected:
            problems.append(f"{q.key}: no independent float64 value to check it against")
            continue
        exact = float(q.approx)
        reference = expected[q.key]
        checked += 1
        scale = max(abs(exact), abs(reference))
        error = abs(exact - reference)
        worst = max(worst, error / scale if scale > 0 else 0.0)
        if error > REL_TOL * scale + ABS_TOL:
            problems.append(f"{q.key}: exact value {exact:.12g} but float64 gives {reference:.12g}")
        if small(q.exact, 200) and abs(float(q.exact.evalf(30)) - exact) > REL_TOL * max(abs(exact), 1.0):
            problems.append(f"{q.key}: exact form {q.exact} does not evaluate to its carried decimal {exact:.12g}")
        if q.key in differences:
            fd_checked += 1
            fd = differences[q.key]
            deviation = abs(fd - exact)
            worst_fd = max(worst_fd, deviation)
            if deviation > FD_TOL * max(1.0, abs(exact)):
                problems.append(f"{q.key}: exact gradient {exact:.12g} but finite differences give {fd:.12g}")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise VerificationError("verification failed: " + "; ".join(problems[:3]) + more)
    return Report(checked, fd_checked, worst, worst_fd)


def _param_value(net: FloatNet, symbol: Symbolic) -> float:
    assert isinstance(symbol, Sym) and isinstance(symbol.layer, int)
    index = tuple(int(i) - 1 for i in symbol.index)
    source = net.weights if symbol.base == "w" else net.biases
    return float(source[symbol.layer - 1][index])


def _float_part(network: Network, loss: Loss, part: Part) -> tuple[dict[str, float], dict[str, float]]:
    """Float64 values of everything a part can show, keyed as the exact engine keys them."""
    prefix = f"p{part.number}."
    net = FloatNet.of(network)
    x = np.array([float(v) for v in part.sample.x])
    y = np.array([float(v) for v in part.sample.y])
    loss_fn, loss_grad = _float_loss(loss)
    values: dict[str, float] = {}
    values.update(_vector(prefix, "x", x))
    values.update(_vector(prefix, "y", y))
    values.update(_forward_values(network, net, x, y, loss_fn, prefix, _plain))
    grads = _backward(network, net, x, y, loss_grad)
    fd: dict[str, float] = {}
    for symbol, value in grads.items():
        # δ^{(l)} is ∂L/∂z^{(l)} under its own name; every other gradient is keyed as ∂L/∂θ.
        key = prefix + (symbol.key if symbol.base == "delta" else Partial(LOSS, symbol).key)
        values[key] = value
        fd[key] = _difference(network, net, x, y, loss_fn, symbol)
    if part.learning_rate is not None and part.optimizer is not None:
        rate = float(part.learning_rate)
        values[prefix + RATE.key] = rate
        update = _float_optimizer(part.optimizer)
        names = part.wrt or tuple(f"{k}{l}" for l in range(1, len(network.layers) + 1) for k in ("W", "b"))
        weights, biases = list(net.weights), list(net.biases)
        for l in range(1, len(network.layers) + 1):
            g_w = np.array(
                [
                    [grads[Sym("w", l, (j, k))] for k in range(1, weights[l - 1].shape[1] + 1)]
                    for j in range(1, weights[l - 1].shape[0] + 1)
                ]
            )
            g_b = np.array([grads[_bias_symbol(network, l, j)] for j in range(1, biases[l - 1].shape[0] + 1)])
            if f"W{l}" in names:
                weights[l - 1] = update(weights[l - 1], rate, g_w)
                for (j, k), v in np.ndenumerate(weights[l - 1]):
                    values[prefix + Updated(Sym("w", l, (j + 1, k + 1))).key] = float(v)
            if f"b{l}" in names:
                biases[l - 1] = update(biases[l - 1], rate, g_b)
                for j, v in enumerate(biases[l - 1], 1):
                    values[prefix + Updated(_bias_symbol(network, l, j)).key] = float(v)
        after = FloatNet(tuple(weights), tuple(biases), net.acts)
        values.update(_forward_values(network, after, x, y, loss_fn, prefix, Updated))
    return values, fd


def _plain(symbol: Sym) -> Symbolic:
    return symbol


def _vector(prefix: str, base: str, values: Array) -> Iterator[tuple[str, float]]:
    for i, v in enumerate(values, 1):
        yield prefix + Sym(base, None, (i,)).key, float(v)


def _bias_symbol(network: Network, layer: int, j: int) -> Sym:
    return bias(layer).entry(j)


def _forward_values(
    network: Network,
    net: FloatNet,
    x: Array,
    y: Array,
    loss_fn: Callable[[Array, Array], float],
    prefix: str,
    mark: Callable[[Sym], Symbolic],
) -> Mapping[str, float]:
    zs, activations = net.forward(x)
    values: dict[str, float] = {}
    for l, (z, a) in enumerate(zip(zs, activations, strict=True), 1):
        for j, (zj, aj) in enumerate(zip(z, a, strict=True), 1):
            values[prefix + mark(unit_symbol(network, l, "z", j)).key] = float(zj)
            values[prefix + mark(unit_symbol(network, l, "a", j)).key] = float(aj)
    values[prefix + mark(LOSS).key] = loss_fn(activations[-1], y)
    return values


def _backward(
    network: Network, net: FloatNet, x: Array, y: Array, loss_grad: Callable[[Array, Array], Array]
) -> dict[Sym, float]:
    """Plain float64 backpropagation, written independently of the exact engine."""
    zs, activations = net.forward(x)
    grads: dict[Sym, float] = {}
    upstream = loss_grad(activations[-1], y)
    for j, g in enumerate(upstream, 1):
        grads[unit_symbol(network, len(zs), "a", j)] = float(g)
    for l in range(len(zs), 0, -1):
        delta = upstream * net.acts[l - 1][1](zs[l - 1])
        below = x if l == 1 else activations[l - 2]
        for j, d in enumerate(delta, 1):
            grads[Sym("delta", l, (j,))] = float(d)
            grads[_bias_symbol(network, l, j)] = float(d)
            for k, a in enumerate(below, 1):
                grads[Sym("w", l, (j, k))] = float(d * a)
        upstream = net.weights[l - 1].T @ delta
        if l > 1:
            for k, g in enumerate(upstream, 1):
                grads[unit_symbol(network, l - 1, "a", k)] = float(g)
    return grads


def _difference(
    network: Network, net: FloatNet, x: Array, y: Array, loss_fn: Callable[[Array, Array], float], symbol: Sym
) -> float:
    """Central finite difference of the float loss in one parameter, pre-activation or activation."""
    if symbol.base == "delta":
        assert symbol.layer is not None
        kind, layer, unit = "z", symbol.layer, int(symbol.index[0]) - 1
        value = net.forward(x)[0][layer - 1][unit]
    elif symbol.base in ("w", "b"):
        assert symbol.layer is not None
        index = tuple(int(i) - 1 for i in symbol.index)
        value = (net.weights if symbol.base == "w" else net.biases)[symbol.layer - 1][index]
        h = 1e-6 * max(1.0, abs(float(value)))
        plus = loss_fn(net.with_param(symbol.base, symbol.layer, index, h).forward(x)[1][-1], y)
        minus = loss_fn(net.with_param(symbol.base, symbol.layer, index, -h).forward(x)[1][-1], y)
        return (plus - minus) / (2 * h)
    else:
        kind = "a"
        layer = len(network.layers) if symbol.layer is None else symbol.layer
        unit = int(symbol.index[0]) - 1
        value = net.forward(x)[1][layer - 1][unit]
    h = 1e-6 * max(1.0, abs(float(value)))
    plus = loss_fn(net.forward(x, (kind, layer, unit, h))[1][-1], y)
    minus = loss_fn(net.forward(x, (kind, layer, unit, -h))[1][-1], y)
    return (plus - minus) / (2 * h)
