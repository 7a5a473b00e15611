"""The exact engine: forward pass, loss, backpropagation and optimizer steps as formula trees.

Every quantity is a small formula over the quantities of the previous step (never a composed
closed form), so values stay exact and cheap to build and to evaluate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from derive.catalog import Loss, Optimizer
from derive.formula import Apply, Node, Product, Quantity, Ref, Sum
from derive.notation import LOSS, OUTPUT, RATE, TARGET, Partial, Sym, Symbolic, Updated
from derive.spec import Network, Sample

Vec = tuple[Quantity, ...]
Mat = tuple[Vec, ...]
Mark = Callable[[Sym], Symbolic]


def plain(symbol: Sym) -> Symbolic:
    """Symbols of the current parameters, unmarked."""
    return symbol


@dataclass(frozen=True)
class Params:
    """The parameters W^{(l)}, b^{(l)} of every layer as quantities (index 0 is layer 1)."""

    weights: tuple[Mat, ...]
    biases: tuple[Vec, ...]

    def tensor(self, name: str) -> Mat:
        """Entries of ``W2`` or ``b1`` (a bias as a column) by parameter name."""
        kind, layer = name[0], int(name[1:])
        if kind == "W":
            return self.weights[layer - 1]
        return tuple((q,) for q in self.biases[layer - 1])

    def names(self) -> tuple[str, ...]:
        return tuple(f"{kind}{layer}" for layer in range(1, len(self.weights) + 1) for kind in ("W", "b"))


@dataclass(frozen=True)
class Forward:
    """Pre-activations z^{(l)} and activations a^{(l)} per layer (the last are ŷ), and L."""

    inputs: Vec
    targets: Vec
    z: tuple[Vec, ...]
    a: tuple[Vec, ...]
    loss: Quantity

    @property
    def output(self) -> Vec:
        return self.a[-1]

    def layer_input(self, layer: int) -> Vec:
        """a^{(layer-1)}, which is x for layer 1."""
        return self.inputs if layer == 1 else self.a[layer - 2]


@dataclass(frozen=True)
class Backward:
    """∂L/∂ŷ, δ^{(l)} = ∂L/∂z^{(l)}, ∂L/∂a^{(l)} (l below the output) and the parameter gradients."""

    output: Vec
    delta: tuple[Vec, ...]
    activation: tuple[Vec, ...]
    gradients: Params
    """∂L/∂W^{(l)} and ∂L/∂b^{(l)}, laid out like the parameters."""


def symbol_of(base: str, layer: int | None, size: int, *index: int) -> Sym:
    """A vector entry's symbol; the index is hidden on the sheet when the vector has one entry."""
    return Sym(base, layer, tuple(index), hide_index=size == 1 and len(index) == 1)


def unit_symbol(network: Network, layer: int, kind: str, j: int) -> Sym:
    """z^{(l)}_j or a^{(l)}_j; the output layer's activations are ŷ_j."""
    size = network.layers[layer - 1].shape[0]
    if kind == "a" and layer == len(network.layers):
        return symbol_of(OUTPUT.base, None, size, j)
    return symbol_of(kind, layer, size, j)


def given_params(network: Network, prefix: str = "") -> Params:
    weights = tuple(
        tuple(
            tuple(Quantity.given(Sym("w", l, (j, k)), w, prefix) for k, w in enumerate(row, 1))
            for j, row in enumerate(layer.weights, 1)
        )
        for l, layer in enumerate(network.layers, 1)
    )
    biases = tuple(
        tuple(Quantity.given(symbol_of("b", l, len(layer.bias), j), b, prefix) for j, b in enumerate(layer.bias, 1))
        for l, layer in enumerate(network.layers, 1)
    )
    return Params(weights, biases)


def given_sample(sample: Sample, prefix: str) -> tuple[Vec, Vec]:
    x = tuple(Quantity.given(symbol_of("x", None, len(sample.x), i), v, prefix) for i, v in enumerate(sample.x, 1))
    y = tuple(
        Quantity.given(symbol_of(TARGET.base, None, len(sample.y), j), v, prefix) for j, v in enumerate(sample.y, 1)
    )
    return x, y


def forward(network: Network, params: Params, x: Vec, y: Vec, loss: Loss, prefix: str, mark: Mark = plain) -> Forward:
    """z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, a^{(l)} = f(z^{(l)}), then L(ŷ, y)."""
    zs: list[Vec] = []
    activations: list[Vec] = []
    previous = x
    for l, layer in enumerate(network.layers, 1):
        w, b = params.weights[l - 1], params.biases[l - 1]
        z = tuple(
            Quantity.computed(
                mark(unit_symbol(network, l, "z", j)),
                Sum((*(Product((Ref(w[j - 1][k]), Ref(previous[k]))) for k in range(len(previous))), Ref(b[j - 1]))),
                prefix,
            )
            for j in range(1, len(w) + 1)
        )
        a = tuple(
            Quantity.computed(mark(unit_symbol(network, l, "a", j)), Apply(layer.activation, Ref(z[j - 1])), prefix)
            for j in range(1, len(w) + 1)
        )
        zs.append(z)
        activations.append(a)
        previous = a
    terms = [loss.term(Ref(q), Ref(t)) for q, t in zip(previous, y, strict=True)]
    total: Node = terms[0] if len(terms) == 1 else Sum(tuple(terms))
    return Forward(x, y, tuple(zs), tuple(activations), Quantity.computed(mark(LOSS), total, prefix))


def backward(network: Network, params: Params, fwd: Forward, loss: Loss, prefix: str) -> Backward:
    """Backpropagation; the numbered comments are the step numbers printed on the sheet."""
    depth = len(network.layers)
    deltas: list[Vec] = [()] * depth
    d_activation: list[Vec] = [()] * depth
    d_weights: list[Mat] = [()] * depth
    d_biases: list[Vec] = [()] * depth

    def grad(symbol: Sym, formula: Node) -> Quantity:
        return Quantity.computed(Partial(LOSS, symbol), formula, prefix)

    # Step 1: ∂L/∂ŷ_j, from the loss's derivative identity.
    upstream = tuple(grad(q.name, loss.gradient(Ref(q), Ref(t))) for q, t in zip(fwd.output, fwd.targets, strict=True))
    d_output = upstream
    for l in range(depth, 0, -1):
        layer = network.layers[l - 1]
        z, a = fwd.z[l - 1], fwd.a[l - 1]
        # Step 2 (output layer) and step 6 (hidden layers): δ^{(l)}_j = ∂L/∂a^{(l)}_j · f'(z^{(l)}_j).
        delta = tuple(
            Quantity.computed(
                Sym("delta", l, (j,), hide_index=len(z) == 1),
                Product((Ref(upstream[j - 1]), layer.activation.derivative(Ref(z[j - 1]), Ref(a[j - 1])))),
                prefix,
            )
            for j in range(1, len(z) + 1)
        )
        deltas[l - 1] = delta
        below = fwd.layer_input(l)
        # Step 3: ∂L/∂w^{(l)}_{j,k} = δ^{(l)}_j · a^{(l-1)}_k.
        d_weights[l - 1] = tuple(
            tuple(
                grad(params.weights[l - 1][j][k].name, Product((Ref(delta[j]), Ref(below[k]))))
                for k in range(len(below))
            )
            for j in range(len(delta))
        )
        # Step 4: ∂L/∂b^{(l)}_j = δ^{(l)}_j.
        d_biases[l - 1] = tuple(grad(params.biases[l - 1][j].name, Ref(delta[j])) for j in range(len(delta)))
        if l > 1:
            # Step 5: ∂L/∂a^{(l-1)}_k = Σ_j w^{(l)}_{j,k} δ^{(l)}_j.
            w = params.weights[l - 1]
            upstream = tuple(
                grad(
                    below[k].name,
                    Sum(tuple(Product((Ref(w[j][k]), Ref(delta[j]))) for j in range(len(delta)))),
                )
                for k in range(len(below))
            )
            d_activation[l - 2] = upstream
    return Backward(d_output, tuple(deltas), tuple(d_activation), Params(tuple(d_weights), tuple(d_biases)))


def step(
    params: Params, grads: Backward, optimizer: Optimizer, rate: Quantity, names: Sequence[str], prefix: str
) -> Params:
    """One optimizer step on the parameters in ``names``; all gradients are the old parameters'."""

    def update(q: Quantity, g: Quantity, name: str) -> Quantity:
        if name not in names:
            return q
        return Quantity.computed(Updated(q.name), optimizer.step(Ref(q), Ref(rate), Ref(g)), prefix)

    weights = tuple(
        tuple(
            tuple(update(q, g, f"W{l}") for q, g in zip(row, grow, strict=True))
            for row, grow in zip(w, gw, strict=True)
        )
        for l, (w, gw) in enumerate(zip(params.weights, grads.gradients.weights, strict=True), 1)
    )
    biases = tuple(
        tuple(update(q, g, f"b{l}") for q, g in zip(b, gb, strict=True))
        for l, (b, gb) in enumerate(zip(params.biases, grads.gradients.biases, strict=True), 1)
    )
    return Params(weights, biases)


def rate_quantity(rate: sp.Rational, prefix: str) -> Quantity:
    return Quantity.given(RATE, rate, prefix)


def updated(symbol: Sym) -> Symbolic:
    """Mark for quantities computed with the updated parameters: ŷ', L'."""
    return Updated(symbol)
