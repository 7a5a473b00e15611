"""The independent float engine: NumPy forward and backward passes, optimizer steps, differences.

Nothing here reuses the exact engine's formulas: every activation, loss and optimizer has its own
float twin below, written from the textbook definitions. The network's numbers enter as long
doubles (:func:`extended`; 64-bit mantissa on x86, float64 where a platform has nothing longer),
so a cancellation that float64 would resolve to 1e-7 is confirmed rather than refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as replaced
from typing import Any

import numpy as np
import sympy as sp

from derive.catalog.records import Activation, Loss, Optimizer
from derive.errors import VerificationError
from derive.spec.model import Network

Array = np.ndarray
FloatFn = Callable[[Array], Array]
LossFns = tuple[Callable[[Array, Array], float], Callable[[Array, Array], Array]]
Rounder = Callable[[Array], Array]
"""What the twin does to every value it computes: nothing, or the student policy's rounding."""

TIE = 1e-12
"""A value this close (relatively) below a tie is the tie: 0.06175 computed in float64 may land
just under it, and the student policy rounds a tie up, as the exact engine sees it."""


def extended(values: Sequence[Any]) -> Array:
    """Exact numbers (rationals, rows of them) as an array of long doubles (64-bit mantissa on x86:
    2000 times finer than float64), so that a cancellation the exact engine resolves is resolved here too."""

    def one(v: Any) -> Any:
        r = sp.Rational(v)
        return np.longdouble(int(r.p)) / np.longdouble(int(r.q))

    return np.array(
        [[one(v) for v in row] if isinstance(row, Sequence) else one(row) for row in values], dtype=np.longdouble
    )


def unrounded(values: Array) -> Array:
    return values


def rounder(digits: int, significant: bool = False) -> Rounder:
    """Rounding half up (away from zero) to ``digits`` places or significant figures, in float64."""

    def one(v: float) -> float:
        if v == 0 or not math.isfinite(v):
            return v
        places = digits - 1 - math.floor(math.log10(abs(v))) if significant else digits
        # A power of ten below 1 is inexact in binary: divide or multiply by the exact 10^|places|.
        y = abs(v) * 10.0**places if places >= 0 else abs(v) / 10.0**-places
        if not y < 2.0**52:
            return v  # float64 has no digit below the place rounded to (the exact engine refuses these)
        k = math.floor(y + 0.5 + TIE * y)
        return math.copysign(k / 10.0**places if places >= 0 else k * 10.0**-places, v)

    def rounded(values: Array) -> Array:
        array = np.asarray(values, dtype=float)
        return np.array([one(float(v)) for v in array.flat]).reshape(array.shape)

    return rounded


def carried_slope(act: Activation) -> FloatFn | None:
    """f' from the rounded a where a student writes it so (σ' = a(1 − a), tanh' = 1 − a²), else None."""
    if act.name == "sigmoid":
        return lambda a: a * (1.0 - a)
    if act.name == "tanh":
        return lambda a: 1.0 - a * a
    return None


def sigmoid(z: Array) -> Array:
    # Stable for large |z|: never exponentiates a positive number.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z: Array) -> Array:
    """e^{z_j} / Σ_k e^{z_k}, shifted by max z so that no exponential overflows."""
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def whole_layer(z: Array) -> Array:
    """Stands for f' of softmax: its δ goes through the Jacobian (see FloatNet.backward)."""
    raise TypeError("softmax has no elementwise derivative")


def activation_twin(act: Activation) -> tuple[FloatFn, FloatFn]:
    """f and f' in float64 (for softmax, f' is :func:`whole_layer`)."""
    params = dict(act.params)
    if act.name == "softmax":
        return softmax, whole_layer
    if act.name == "identity":
        return (lambda z: z), (lambda z: np.ones_like(z))
    if act.name == "sigmoid":
        return sigmoid, (lambda z: sigmoid(z) * sigmoid(-z))  # not 1 − σ(z): it loses digits as σ saturates
    if act.name == "relu":
        return (lambda z: np.maximum(z, 0.0)), (lambda z: (z > 0).astype(float))
    if act.name == "constant":
        c = float(params["c"])
        return (lambda z: np.full_like(z, c)), (lambda z: np.zeros_like(z))
    if act.name == "tanh":
        # sech² z = 4e^{−2|z|} / (1 + e^{−2|z|})²: no overflow of cosh for large |z|, no 1 − tanh² cancellation.
        return np.tanh, (lambda z: 4.0 * np.exp(-2.0 * np.abs(z)) / (1.0 + np.exp(-2.0 * np.abs(z))) ** 2)
    if act.name == "leaky_relu":
        s = float(params["slope"])
        return (lambda z: np.where(z > 0, z, s * z)), (lambda z: np.where(z > 0, 1.0, s))
    if act.name == "softplus":
        return (lambda z: np.logaddexp(0.0, z)), sigmoid
    if act.name == "custom":
        return custom_twin(str(params["formula"]), "z")
    raise VerificationError(f"no float64 twin for activation {act.name!r}: add one to derive/floats.py")


def custom_twin(formula: str, *names: str) -> tuple[Callable[..., Array], Callable[..., Array]]:
    """A user formula and its derivative in the first variable, as NumPy functions.

    The formula is parsed (safely) on its own here, and differentiated by SymPy; the finite
    differences of the gate are what check that derivative independently.
    """
    import sympy as sp

    from derive.spec.user_formulas import parse_formula

    symbols = {name: sp.Symbol(f"v{i}", real=True) for i, name in enumerate(names)}
    expr = parse_formula(formula, symbols)
    args = list(symbols.values())
    slope = sp.diff(expr, args[0])
    return (
        _robust(sp.lambdify(args, expr, "numpy"), sp.lambdify(args, expr, "mpmath")),
        _robust(sp.lambdify(args, slope, "numpy"), sp.lambdify(args, slope, "mpmath")),
    )


def _robust(fast: Callable[..., object], wide: Callable[..., object]) -> Callable[..., Array]:
    """A lambdified formula on arrays; an entry that NumPy could not finish (an overflow inside,
    as e^{-z}/(1 + e^{-z})² at z = -10^45) is evaluated again by mpmath, whose exponents do not
    overflow, and rounded to float64 (infinite only if the value itself is)."""
    import mpmath

    def call(*xs: Array) -> Array:
        with np.errstate(all="ignore"):  # what overflows is recomputed below
            out = np.broadcast_to(np.asarray(fast(*xs), dtype=float), np.shape(xs[0])).copy()
        bad = ~np.isfinite(out)
        if bad.any():
            inputs = [np.broadcast_to(np.asarray(x, dtype=float), out.shape) for x in xs]
            for index in zip(*np.nonzero(bad), strict=True):
                try:
                    out[index] = float(wide(*(mpmath.mpf(float(x[index])) for x in inputs)))  # type: ignore[arg-type]
                except (TypeError, ValueError, ZeroDivisionError):  # complex, or undefined there too
                    out[index] = math.nan
        return out

    return call


def loss_twin(loss: Loss) -> LossFns:
    """L(ŷ, y) over the outputs (summed, or averaged as the loss says) and ∂L/∂ŷ, in float64."""
    value, gradient = _loss_twin(loss)
    if loss.scale == 1:
        return value, gradient
    scale = float(loss.scale)
    return (lambda yhat, y: scale * value(yhat, y)), (lambda yhat, y: scale * gradient(yhat, y))


def _loss_twin(loss: Loss) -> LossFns:
    if loss.name == "squared_error":
        return (lambda yhat, y: float(np.sum((yhat - y) ** 2))), (lambda yhat, y: 2.0 * (yhat - y))
    if loss.name == "binary_cross_entropy":

        def value(p: Array, y: Array) -> float:
            with np.errstate(divide="ignore", invalid="ignore"):  # np.where evaluates both branches
                terms = np.where(y > 0, y * np.log(p), 0.0) + np.where(y < 1, (1 - y) * np.log1p(-p), 0.0)
            return float(-np.sum(terms))

        def gradient(p: Array, y: Array) -> Array:
            with np.errstate(divide="ignore", invalid="ignore"):  # p = 0 or 1: the exact engine reports it
                return (1 - y) / (1 - p) - y / p

        return value, gradient
    if loss.name == "categorical_cross_entropy":

        def categorical(p: Array, y: Array) -> float:
            with np.errstate(divide="ignore", invalid="ignore"):  # a zero target's term is 0, whatever p is
                return float(-np.sum(np.where(y > 0, y * np.log(p), 0.0)))

        return categorical, (lambda p, y: -y / p)
    if loss.name == "half_squared_error":
        return (lambda yhat, y: float(0.5 * np.sum((yhat - y) ** 2))), (lambda yhat, y: yhat - y)
    if loss.name == "custom":
        term, slope = custom_twin(dict(loss.params)["formula"], "yhat", "y")
        return (lambda yhat, y: float(np.sum(term(yhat, y)))), slope
    raise VerificationError(f"no float64 twin for loss {loss.name!r}: add one to derive/floats.py")


StepFn = Callable[[Array, Array, Mapping[str, Array], int, Mapping[str, float], Rounder], dict[str, Array]]


def optimizer_twin(optimizer: Optimizer) -> StepFn:
    """One step: (θ, g, previous state, t, hyperparameters with ``alpha``, rounding of each stage)
    → every stage's values."""
    if optimizer.name == "sgd":
        return lambda theta, g, state, t, h, r: {"theta": r(theta - h["alpha"] * g)}
    if optimizer.name == "adam":

        def adam(
            theta: Array, g: Array, state: Mapping[str, Array], t: int, h: Mapping[str, float], r: Rounder
        ) -> dict[str, Array]:
            m = r(h["beta1"] * state.get("m", np.zeros_like(g)) + (1 - h["beta1"]) * g)
            v = r(h["beta2"] * state.get("v", np.zeros_like(g)) + (1 - h["beta2"]) * g * g)
            mhat = r(m / (1 - h["beta1"] ** t))
            vhat = r(v / (1 - h["beta2"] ** t))
            return {
                "m": m,
                "v": v,
                "mhat": mhat,
                "vhat": vhat,
                "theta": r(theta - h["alpha"] * mhat / (np.sqrt(vhat) + h["epsilon"])),
            }

        return adam
    if optimizer.name in ("momentum", "momentum_ema", "nesterov"):
        damped = optimizer.name == "momentum_ema"

        def momentum(
            theta: Array, g: Array, state: Mapping[str, Array], t: int, h: Mapping[str, float], r: Rounder
        ) -> dict[str, Array]:
            beta = h["beta"]
            v = r(beta * state.get("v", np.zeros_like(g)) + ((1 - beta) * g if damped else g))
            step = g + beta * v if optimizer.name == "nesterov" else v
            return {"v": v, "theta": r(theta - h["alpha"] * step)}

        return momentum
    if optimizer.name == "rmsprop":

        def rmsprop(
            theta: Array, g: Array, state: Mapping[str, Array], t: int, h: Mapping[str, float], r: Rounder
        ) -> dict[str, Array]:
            s = r(h["rho"] * state.get("s", np.zeros_like(g)) + (1 - h["rho"]) * g * g)
            return {"s": s, "theta": r(theta - h["alpha"] * g / (np.sqrt(s) + h["epsilon"]))}

        return rmsprop
    raise VerificationError(f"no float64 twin for optimizer {optimizer.name!r}: add one to derive/floats.py")


@dataclass(frozen=True)
class FloatNet:
    """A network in float64: weights, biases and activation twins per layer."""

    weights: tuple[Array, ...]
    biases: tuple[Array, ...]
    acts: tuple[tuple[FloatFn, FloatFn], ...]
    shared: tuple[bool, ...] = ()
    """Per layer: one bias shared by every unit (its gradient is the sum of the units')."""
    reads: tuple[tuple[int, ...], ...] = ()
    """Per layer, its sources stacked (0: x, k: layer k's output); empty: each reads the one below."""
    r: Rounder = unrounded
    """Applied to every value computed (the student policy's rounding), or :func:`unrounded`."""
    carried: tuple[FloatFn | None, ...] = ()
    """Per layer, f' from the rounded a where the student policy takes it so (:func:`carried_slope`)."""

    @classmethod
    def of(cls, network: Network, r: Rounder = unrounded) -> FloatNet:
        return cls(
            tuple(extended(layer.weights) for layer in network.layers),
            tuple(extended(layer.bias) for layer in network.layers),
            tuple(activation_twin(layer.activation) for layer in network.layers),
            tuple(layer.shared_bias for layer in network.layers),
            tuple(network.sources(l) for l in range(1, len(network.layers) + 1)),
            r,
            tuple(carried_slope(layer.activation) for layer in network.layers),
        )

    @property
    def rounds(self) -> bool:
        return self.r is not unrounded

    def plain(self) -> FloatNet:
        """The same network without rounding: the true gradients under the student policy."""
        return replaced(self, r=unrounded) if self.rounds else self

    def coarse(self) -> FloatNet:
        """Unrounded and in float64: what finite differences nudge (their own error, ~1e-6, dwarfs
        float64's, and BLAS makes the thousands of passes of a wide network cheap)."""
        weights = tuple(w.astype(float) for w in self.weights)
        return replaced(self, weights=weights, biases=tuple(b.astype(float) for b in self.biases), r=unrounded)

    def sources(self, layer: int) -> tuple[int, ...]:
        return self.reads[layer - 1] if self.reads else (layer - 1,)

    def stacked(self, x: Array, activations: Sequence[Array], layer: int) -> Array:
        """What layer ``layer`` reads: its sources concatenated (no copy for one source)."""
        sources = self.sources(layer)
        if len(sources) == 1:
            return x if sources[0] == 0 else activations[sources[0] - 1]
        return np.concatenate([x if k == 0 else activations[k - 1] for k in sources])

    def forward(self, x: Array, nudge: tuple[str, int, int, float] | None = None) -> tuple[list[Array], list[Array]]:
        """z and a per layer; ``nudge`` = (kind, layer, unit, h) adds h to one z or a (for differences)."""
        zs: list[Array] = []
        activations: list[Array] = []
        r = self.r
        for l, (w, b, (f, _)) in enumerate(zip(self.weights, self.biases, self.acts, strict=True), 1):
            z = r(w @ self.stacked(x, activations, l) + b)
            if nudge and nudge[0] == "z" and nudge[1] == l:
                z = z.copy()
                z[nudge[2]] += nudge[3]
            a = r(f(z))
            if nudge and nudge[0] == "a" and nudge[1] == l:
                a = a.copy()
                a[nudge[2]] += nudge[3]
            zs.append(z)
            activations.append(a)
        return zs, activations

    def backward(
        self, x: Array, y: Array, loss_grad: Callable[[Array, Array], Array], from_logit: bool = False
    ) -> Gradients:
        """Plain float64 backpropagation.

        ``from_logit``: a sigmoid output under cross-entropy, whose ∂L/∂p = (1 − y)/(1 − p) − y/p
        is taken with 1 − p = σ(−z): in float64, 1 − p itself has no digits left as p → 1.
        """
        zs, activations = self.forward(x)
        r = self.r
        if from_logit:
            z = zs[-1]
            upstream = (1 - y) / sigmoid(-z) - y / sigmoid(z)
        else:
            upstream = r(loss_grad(activations[-1], y))
        output = upstream
        deltas: list[Array] = [np.empty(0)] * len(zs)
        d_activation: list[Array] = [np.empty(0)] * len(zs)
        d_weights: list[Array] = [np.empty(0)] * len(zs)
        # What flows back into x (index 0) and each a^{(k)}, summed over every layer that reads it.
        inflow = [np.zeros_like(x, dtype=float), *(np.zeros_like(a, dtype=float) for a in activations)]
        for l in range(len(zs), 0, -1):
            if l < len(zs):
                upstream = r(inflow[l])
            if self.acts[l - 1][1] is whole_layer:
                # Softmax: its Jacobian a_i([i = j] − a_j) applied to ∂L/∂a gives a ⊙ (∂L/∂a − a·∂L/∂a).
                a = activations[l - 1]
                delta = r(a * (upstream - r(np.array(upstream @ a))))
            else:
                carried = self.carried[l - 1] if self.rounds and self.carried else None
                slope = carried(activations[l - 1]) if carried else self.acts[l - 1][1](zs[l - 1])
                if from_logit and l == len(zs):
                    slope = sigmoid(zs[-1]) * sigmoid(-zs[-1])  # σ' without 1 − σ
                delta = r(upstream * slope)
            deltas[l - 1] = delta
            d_weights[l - 1] = r(np.outer(delta, self.stacked(x, activations, l)))
            back = self.weights[l - 1].T @ delta
            start = 0
            for k in self.sources(l):  # split W^T δ by the sources stacked in the layer's input
                inflow[k] = inflow[k] + back[start : start + len(inflow[k])]
                start += len(inflow[k])
            if l > 1:
                d_activation[l - 2] = r(inflow[l - 1])
        d_biases = tuple(
            np.full_like(d, r(np.array(d.sum()))) if self.shared and self.shared[l] else d for l, d in enumerate(deltas)
        )
        return Gradients(output, tuple(deltas), tuple(d_activation), tuple(d_weights), d_biases, r(inflow[0]))

    def with_param(self, kind: str, layer: int, index: tuple[int, ...], h: float) -> FloatNet:
        weights, biases = list(self.weights), list(self.biases)
        target = weights if kind == "w" else biases
        target[layer - 1] = target[layer - 1].copy()
        if kind == "b" and self.shared and self.shared[layer - 1]:
            target[layer - 1] += h  # one bias in every unit
        else:
            target[layer - 1][index] += h
        return replaced(self, weights=tuple(weights), biases=tuple(biases))

    def replace(self, weights: tuple[Array, ...], biases: tuple[Array, ...]) -> FloatNet:
        return replaced(self, weights=weights, biases=biases)


@dataclass(frozen=True)
class Gradients:
    """∂L/∂ŷ, δ per layer, ∂L/∂a below each layer, and the parameter gradients."""

    output: Array
    delta: tuple[Array, ...]
    activation: tuple[Array, ...]
    weights: tuple[Array, ...]
    biases: tuple[Array, ...]
    inputs: Array = field(default_factory=lambda: np.empty(0))
    """∂L/∂x: what flows back into the input from every layer that reads it."""
    unrounded: Gradients | None = None
    """Under the student policy, the same gradients unrounded: what finite differences confirm."""


def central_difference(loss_of: Callable[[float], float], value: float) -> tuple[float, float]:
    """A central-difference slope and a bound on its own error.

    Two step sizes h and 2h are combined by Richardson extrapolation; their disagreement bounds
    the truncation error (large where the loss curves sharply, as cross-entropy near p = 1), and
    ε·|L|/h the rounding error (large where the loss itself is large).
    """
    h = 1e-6 * max(1.0, abs(value))
    plus, minus = loss_of(h), loss_of(-h)
    near = (plus - minus) / (2 * h)
    far = (loss_of(2 * h) - loss_of(-2 * h)) / (4 * h)
    rounding = 64 * np.finfo(float).eps * max(abs(plus), abs(minus)) / (2 * h)
    return (4 * near - far) / 3, float(abs(near - far) + rounding)
