"""The general formulas a sheet shows in symbols: g(x) layer by layer, what a layer reads, the
chain rule of one entry, and the matrix forms of backpropagation's steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from derive.exercise.model import Network
from derive.exercise.notation import ERROR
from derive.maths.network import Backward, Forward, Params, plain, unit_symbol
from derive.maths.steps import ChainRule
from derive.terms.formula import Apply, Derivative, Hadamard, Node, Product, Quantity, Rule, Sum, Tensor
from derive.terms.keys import symbol_of
from derive.terms.symbols import LOSS, OUTPUT, Block, Partial, Stacked, Sym, Symbolic, bias, weight


def unit_formulas(network: Network) -> list[tuple[Sym, Node, Sym, Node]]:
    """Every unit's z_j = Σ_k w_{j,k} in_k + b_j and a_j = f(z_j), in symbols (neuron notation's
    network block): (z_j, its sum, a_j, f(z_j))."""
    units: list[tuple[Sym, Node, Sym, Node]] = []
    for l, layer in enumerate(network.layers, 1):
        width = layer.shape[0]
        inputs = [
            symbol_of("x", None, network.inputs, k) if source == 0 else unit_symbol(network, source, "a", k)
            for source in network.sources(l)
            for k in range(1, network.width(source) + 1)
        ]
        for j in range(1, width + 1):
            terms: list[Node] = [Product((Tensor(Sym("w", l, (j, k))), Tensor(x))) for k, x in enumerate(inputs, 1)]
            if layer.has_bias:
                terms.append(Tensor(Sym("b", l) if layer.shared_bias else symbol_of("b", l, width, j)))
            z = symbol_of("z", l, width, j)
            call: Node
            if layer.activation.vector:  # e^{z_j} over the sum of every unit's
                powers = " + ".join(f"e^{{#{i + 1}}}" for i in range(1, width + 1))
                zs = tuple(Tensor(symbol_of("z", l, width, i)) for i in range(1, width + 1))
                call = Rule(rf"\frac{{e^{{#1}}}}{{{powers}}}", display_only, (Tensor(z), *zs))
            else:
                call = Apply(layer.activation, Tensor(z))
            units.append((z, Sum(tuple(terms)) if len(terms) > 1 else terms[0], unit_symbol(network, l, "a", j), call))
    return units


def column(values: Sequence[Quantity]) -> tuple[tuple[Quantity, ...], ...]:
    """A vector as a one-column matrix, the layout of tensors and givens."""
    return tuple((q,) for q in values)


def display_only(*args: object) -> sp.Expr:
    """The rule of a formula that is only shown (a matrix form): evaluating it is a bug."""
    raise TypeError("a matrix-form formula is printed, never evaluated")


MAX_NESTED = 4
"""Most layers g(x) is written nested in (W^{(4)} σ(W^{(3)} σ(…))): a deeper network's would run off
the page (and nest a bracket per layer)."""


def network_formula(network: Network, below: int = 1) -> Node:
    """g(x) as nested layers: W^{(2)} σ(W^{(1)} x + b^{(1)}) + b^{(2)}; with skip connections, the
    output layer of its stacked sources (the layers below are given by :func:`layer_formula`).
    ``below``: the layers from that one up, on what it reads (a^{(l-1)} in place of the layers below)."""
    if network.skips:
        return layer_formula(network, len(network.layers), Tensor(input_symbol(network, len(network.layers))))
    inner: Node = Tensor(input_symbol(network, below))
    for l in range(below, len(network.layers) + 1):
        inner = layer_formula(network, l, inner)
    return inner


def layer_formula(network: Network, layer: int, inner: Node) -> Node:
    """f(W^{(l)} inner + b^{(l)}) (no + b for a layer without a bias)."""
    linear: Node = Product((Tensor(weight(layer)), inner))
    activation = network.layers[layer - 1].activation
    return Apply(activation, Sum((linear, Tensor(bias(layer)))) if network.layers[layer - 1].has_bias else linear)


def expanded_gradient(network: Network, of: Sym = LOSS) -> Node:
    """∂L/∂W^{(1)} with every δ written out: (W^{(2)⊤}(∂L/∂ŷ ⊙ f'(z^{(2)})) ⊙ σ'(z^{(1)})) x^⊤.

    Identity activations contribute the factor 1 and are left out.
    """
    depth = len(network.layers)

    def with_slope(node: Node, layer: int) -> Node:
        activation = network.layers[layer - 1].activation
        if activation.name == "identity":
            return node
        if activation.vector:
            # Softmax's derivative is its (symmetric) Jacobian diag(a) − a aᵀ, not an entry-wise factor.
            a = tensor_symbol(network, layer, "a")
            jacobian = r"\left(\operatorname{diag}\left(#1\right) - #1 \, #2\right) \, #3"
            return Rule(jacobian, display_only, (Tensor(a), Tensor(a, transpose=True), node))
        return Hadamard(node, Derivative(activation, Tensor(tensor_symbol(network, layer, "z"))))

    delta: Node = with_slope(Tensor(Partial(of, OUTPUT)), depth)
    for l in range(depth - 1, 0, -1):
        delta = with_slope(Product((Tensor(weight(l + 1), transpose=True), delta)), l)
    return Product((delta, Tensor(Sym("x"), transpose=True)))


def layer_input(
    network: Network, fwd: Forward, layer: int, mark: Callable[[Sym], Symbolic] = plain, transpose: bool = False
) -> Tensor:
    """What ``layer`` reads as a tensor: x, a^{(l-1)}, or with skip connections its sources stacked."""
    return Tensor(input_symbol(network, layer, mark), column(fwd.layer_input(layer)), transpose=transpose)


def input_symbol(network: Network, layer: int, mark: Callable[[Sym], Symbolic] = plain) -> Symbolic:
    """x, a^{(l-1)}, or the sources of a layer with skip connections stacked: [x; a^{(1)}]."""
    names = [input_part(network, k, mark) for k in network.sources(layer)]
    if len(names) == 1:
        return names[0]
    return Stacked(layer, tuple(names))


def input_part(network: Network, source: int, mark: Callable[[Sym], Symbolic] = plain) -> Symbolic:
    """x (source 0) or a^{(k)} (ŷ for the output layer)."""
    return Sym("x") if source == 0 else mark(tensor_symbol(network, source, "a"))


def weight_block(network: Network, layer: int, source: int, mark: Callable[[Sym], Symbolic] = plain) -> Symbolic:
    """W^{(l)}, or where layer l reads several sources the block of its columns that multiplies ``source``."""
    symbol = mark(weight(layer))
    if len(network.sources(layer)) == 1:
        return symbol
    return Block(symbol, input_part(network, source))


def back_through(
    network: Network, params: Params, bwd: Backward, source: int, mark: Callable[[Sym], Symbolic] = plain
) -> Node:
    """Step 5's formula: W^{(l)⊤} δ^{(l)} (W^{(l)⊤} Err^{(l)} where ``bwd`` holds error terms), or
    summed over every layer reading ``source`` (skips)."""
    terms: list[Node] = []
    for r in network.readers(source):
        span = network.columns(r)[source]
        block = tuple(row[span.start : span.stop] for row in params.weights[r - 1])
        delta = Tensor(Sym(ERROR if bwd.errors else "delta", r), column(bwd.delta[r - 1]))
        terms.append(Product((Tensor(weight_block(network, r, source, mark), block, transpose=True), delta)))
    return terms[0] if len(terms) == 1 else Sum(tuple(terms))


def tensor_symbol(network: Network, layer: int, kind: str) -> Sym:
    if kind == "a" and layer == len(network.layers):
        return OUTPUT
    return Sym(kind, layer)


def chain_rule(network: Network, layer: int, kind: str, of: Sym = LOSS) -> ChainRule:
    """∂L/∂θ as a product of partials for a generic entry θ of layer ``layer``.

    Through layers above that have a single unit the product is written out to ∂L/∂ŷ; where a
    layer above has several units the sum over them is what step 5 computes, so the chain
    starts at ∂L/∂a^{(l)}_j.
    """
    depth = len(network.layers)

    def unit(l: int, base: str, index: str) -> Sym:
        size = network.layers[l - 1].shape[0]
        if base == "a" and l == depth:
            return Sym(OUTPUT.base, None, (index,), hide_index=size == 1)
        return Sym(base, l, (index,), hide_index=size == 1)

    target = (
        Sym("w", layer, ("j", "k"))
        if kind == "w"
        else Sym("b", layer, ("j",), hide_index=network.layers[layer - 1].shape[0] == 1)
    )
    if network.layers[layer - 1].activation.vector:
        # Softmax: every a_i depends on z_j, so the chain goes through δ_j = ∂L/∂z_j (step 2).
        return ChainRule(
            Partial(of, target), (Partial(of, unit(layer, "z", "j")), Partial(unit(layer, "z", "j"), target))
        )
    tail: list[Symbolic] = [
        Partial(unit(layer, "a", "j"), unit(layer, "z", "j")),
        Partial(unit(layer, "z", "j"), target),
    ]
    # Written out through single units above only when there is one path up (no skip connections).
    single_above = not network.skips and all(network.layers[l - 1].shape[0] == 1 for l in range(layer + 1, depth + 1))
    if layer == depth or not single_above:
        return ChainRule(Partial(of, target), (Partial(of, unit(layer, "a", "j")), *tail))
    factors: list[Symbolic] = [Partial(of, unit(depth, "a", "i"))]
    for l in range(depth, layer, -1):
        factors.append(Partial(unit(l, "a", "i"), unit(l, "z", "i")))
        factors.append(Partial(unit(l, "z", "i"), unit(l - 1, "a", "j") if l - 1 == layer else unit(l - 1, "a", "i")))
    return ChainRule(Partial(of, target), (*factors, *tail))
