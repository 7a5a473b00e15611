"""The independent float engine: NumPy forward and backward passes, optimizer steps, differences.

Nothing here reuses the exact engine's formulas: every activation, loss and optimizer of the
catalogue carries its own float rule, written from the textbook definitions, beside its exact one.
The network's numbers enter as long doubles (:func:`extended`; 64-bit mantissa on x86, float64
where a platform has nothing longer), so a cancellation that float64 would resolve to 1e-7 is
confirmed rather than refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as replaced
from typing import Any

import numpy as np
import sympy as sp

from derive.catalog.activations import Floats, sigmoid_float
from derive.catalog.optimizers import Rounder
from derive.exercise.model import Network
from derive.verify.closed import given_float

Array = np.ndarray

TIE = 1e-12
"""A value this close (relatively) below a tie is the tie: 0.06175 computed in float64 may land
just under it, and the student policy rounds a tie up, as the exact engine sees it."""


def extended(values: Sequence[Any]) -> Array:
    """Given numbers (rationals, closed forms, rows of them) as an array of long doubles (64-bit mantissa on x86:
    2000 times finer than float64), so that a cancellation the exact engine resolves is resolved here too."""

    def one(v: Any) -> Any:
        if not isinstance(v, int | sp.Rational):
            return np.longdouble(given_float(v))  # a closed form ("sqrt(2)/2"), read from its text in float64
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


@dataclass(frozen=True)
class FloatNet:
    """A network in float64: weights, biases and activation twins per layer."""

    weights: tuple[Array, ...]
    biases: tuple[Array, ...]
    acts: tuple[Floats, ...]
    shared: tuple[bool, ...] = ()
    """Per layer: one bias shared by every unit (its gradient is the sum of the units')."""
    reads: tuple[tuple[int, ...], ...] = ()
    """Per layer, its sources stacked (0: x, k: layer k's output); empty: each reads the one below."""
    r: Rounder = unrounded
    """Applied to every value computed (the student policy's rounding), or :func:`unrounded`."""

    @classmethod
    def of(cls, network: Network, r: Rounder = unrounded) -> FloatNet:
        return cls(
            tuple(extended(layer.weights) for layer in network.layers),
            tuple(extended(layer.bias) for layer in network.layers),
            tuple(layer.activation.floats for layer in network.layers),
            tuple(layer.shared_bias for layer in network.layers),
            tuple(network.sources(l) for l in range(1, len(network.layers) + 1)),
            r,
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
        for l, (w, b, act) in enumerate(zip(self.weights, self.biases, self.acts, strict=True), 1):
            z = r(w @ self.stacked(x, activations, l) + b)
            if nudge and nudge[0] == "z" and nudge[1] == l:
                z = z.copy()
                z[nudge[2]] += nudge[3]
            a = r(act.value(z))
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
            upstream = (1 - y) / sigmoid_float(-z) - y / sigmoid_float(z)
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
            act = self.acts[l - 1]
            if act.slope is None:
                # Softmax: its Jacobian a_i([i = j] − a_j) applied to ∂L/∂a gives a ⊙ (∂L/∂a − a·∂L/∂a).
                a = activations[l - 1]
                delta = r(a * (upstream - r(np.array(upstream @ a))))
            else:
                # The student policy takes f' from the rounded a where a student writes it so (σ' = a(1 − a)).
                slope = act.slope_as_worked(zs[l - 1], activations[l - 1], self.rounds)
                if from_logit and l == len(zs):
                    slope = sigmoid_float(zs[-1]) * sigmoid_float(-zs[-1])  # σ' without 1 − σ
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

    @property
    def elementwise(self) -> bool:
        """Whether every activation maps each unit on its own (not softmax): a batch of passes can
        then be computed as one, rows for passes."""
        return all(act.slope is not None for act in self.acts)

    def rows_from(
        self, x: Array, zs: Sequence[Array], activations: Sequence[Array], layer: int, z: Array
    ) -> tuple[list[Array], list[Array]]:
        """Many forward passes at once, each row of ``z`` one pass's pre-activations at ``layer``:
        the layers below are those of the pass ``zs``, ``activations`` (all rows share them), the
        layers from ``layer`` on are computed for every row (an elementwise, unrounded network)."""
        batch_z = [*self._shared(zs[: layer - 1], len(z)), z]
        batch_a = [
            *self._shared(activations[: layer - 1], len(z)),
            self.acts[layer - 1].value(z.ravel()).reshape(z.shape),
        ]
        return self._rows_above(x, batch_z, batch_a, layer, len(z))

    def rows_after(
        self, x: Array, zs: Sequence[Array], activations: Sequence[Array], layer: int, a: Array
    ) -> tuple[list[Array], list[Array]]:
        """As :meth:`rows_from`, each row of ``a`` one pass's outputs of ``layer`` (its z that of ``zs``)."""
        batch_z = self._shared(zs[:layer], len(a))
        batch_a = [*self._shared(activations[: layer - 1], len(a)), a]
        return self._rows_above(x, batch_z, batch_a, layer, len(a))

    def rows_of_inputs(self, x: Array) -> tuple[list[Array], list[Array]]:
        """As :meth:`rows_from`, each row of ``x`` one pass's input."""
        return self._rows_above(x, [], [], 0, len(x))

    @staticmethod
    def _shared(values: Sequence[Array], rows: int) -> list[Array]:
        return [np.broadcast_to(v, (rows, len(v))) for v in values]

    def _rows_above(
        self, x: Array, batch_z: list[Array], batch_a: list[Array], layer: int, rows: int
    ) -> tuple[list[Array], list[Array]]:
        """The layers above ``layer`` for ``rows`` passes, ``batch_z``, ``batch_a`` the layers up to
        ``layer`` (the input x: 0), ``x`` the input of every pass or one row each."""
        assert self.elementwise and not self.rounds
        for l in range(layer + 1, len(self.weights) + 1):
            sources = [x if k == 0 else batch_a[k - 1] for k in self.sources(l)]
            below = np.concatenate([np.broadcast_to(v, (rows, v.shape[-1])) for v in sources], axis=1)
            z = below @ self.weights[l - 1].T + self.biases[l - 1]
            batch_z.append(z)
            batch_a.append(self.acts[l - 1].value(z.ravel()).reshape(z.shape))  # rules take vectors
        return batch_z, batch_a

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
    h = step(value)
    return extrapolated(h, *(loss_of(offset) for offset in offsets(h)))


def step(value: float) -> float:
    """The step h of a central difference at ``value`` (relative to it beyond 1)."""
    return 1e-6 * max(1.0, abs(value))


def offsets(h: float) -> tuple[float, float, float, float]:
    """The four nudges of a central difference of step h, in the order :func:`extrapolated` takes
    their losses."""
    return h, -h, 2 * h, -2 * h


def extrapolated(h: float, plus: float, minus: float, far_plus: float, far_minus: float) -> tuple[float, float]:
    """:func:`central_difference` from the losses at value + h, − h, + 2h and − 2h, however computed."""
    near = (plus - minus) / (2 * h)
    far = (far_plus - far_minus) / (4 * h)
    rounding = 64 * np.finfo(float).eps * max(abs(plus), abs(minus)) / (2 * h)
    return (4 * near - far) / 3, float(abs(near - far) + rounding)
