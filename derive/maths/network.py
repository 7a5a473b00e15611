"""The exact engine: forward pass, loss, backpropagation and optimizer steps as formula trees.

Every quantity is a small formula over the quantities of the previous step (never a composed
closed form), so values stay exact and cheap to build and to evaluate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp

from derive.catalog.activations import EXP, Activation
from derive.catalog.losses import Loss
from derive.catalog.optimizers import Optimizer
from derive.exercise.model import Network, Sample
from derive.exercise.notation import ERROR
from derive.terms.formula import Apply, Difference, Negate, Node, Num, Product, Quantity, Quotient, Ref, Sum
from derive.terms.keys import ROOT, Scope, symbol_of, unit
from derive.terms.rounding import Carry
from derive.terms.symbols import LOSS, TARGET, Mean, Partial, Stat, Sym, Symbolic, Updated, output_loss

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
    unbiased: frozenset[int] = frozenset()
    """Layers without a bias: their b is 0 and not a parameter."""

    def tensor(self, name: str) -> Mat:
        """Entries of ``W2`` or ``b1`` (a bias as a column) by parameter name."""
        kind, layer = name[0], int(name[1:])
        if kind == "W":
            return self.weights[layer - 1]
        # A shared bias is one entry however many units add it.
        return tuple((q,) for q in {q.key: q for q in self.biases[layer - 1]}.values())

    def names(self) -> tuple[str, ...]:
        return tuple(
            f"{kind}{layer}"
            for layer in range(1, len(self.weights) + 1)
            for kind in ("W", "b")
            if kind == "W" or layer not in self.unbiased
        )


@dataclass(frozen=True)
class Forward:
    """Pre-activations z^{(l)} and activations a^{(l)} per layer (the last are ŷ), and L."""

    inputs: Vec
    targets: Vec
    z: tuple[Vec, ...]
    a: tuple[Vec, ...]
    loss: Quantity
    """What the backward pass differentiates: L, L_n of a batch's sample n, or in the no-loss mode
    (``targets`` empty) the chosen output ŷ_j itself."""
    reads: tuple[tuple[int, ...], ...] = ()
    """Per layer, what it reads (0: x, k: a^{(k)}), stacked; empty: each layer reads the one below."""
    parts: Vec = ()
    """Each output's share L_{o_j} of the loss, where the sheet splits it (L their sum); empty: not split."""

    @property
    def output(self) -> Vec:
        return self.a[-1]

    def layer_input(self, layer: int) -> Vec:
        """a^{(layer-1)}, which is x for layer 1; with skip connections, its sources stacked."""
        return stacked(self.reads[layer - 1] if self.reads else (layer - 1,), self.inputs, self.a)


def stacked(sources: Sequence[int], x: Vec, activations: Sequence[Vec]) -> Vec:
    """The values ``sources`` name (0: x, k: a^{(k)}), one after the other."""
    return tuple(q for k in sources for q in (x if k == 0 else activations[k - 1]))


@dataclass(frozen=True)
class Backward:
    """∂L/∂ŷ, δ^{(l)} = ∂L/∂z^{(l)}, ∂L/∂a^{(l)} (l below the output) and the parameter gradients."""

    output: Vec
    delta: tuple[Vec, ...]
    activation: tuple[Vec, ...]
    gradients: Params
    """∂L/∂W^{(l)} and ∂L/∂b^{(l)}, laid out like the parameters."""
    inputs: Vec = ()
    """∂L/∂x: step 5 once more, through the first layer's weights to the input."""
    means: tuple[Quantity | None, ...] = ()
    """ḡ^{(l)} of each softmax layer (None for the others)."""
    slopes: tuple[Vec, ...] = ()
    """f'(z^{(l)}_j) = ∂a^{(l)}_j/∂z^{(l)}_j per layer, where the sheet writes them as their own line
    (empty for a softmax layer); empty: δ multiplies by f' inline."""
    shares: tuple[Vec, ...] = ()
    """Per unit k of the layer below the outputs, each output's share ∂L_{o_j}/∂a_k = δ_{o_j} w_{j,k} of
    its gradient (the loss split per output); empty: not split."""
    errors: bool = False
    """Whether ``delta`` holds the error terms Err^{(l)}_j = −∂L/∂z^{(l)}_j (a sheet's ``error_term``)
    in place of δ, each gradient then −Err_j a_k."""

    def tensor(self, name: str) -> Mat:
        """The gradients of ``W2``, ``b1`` (a column) or ``x`` (a column) by name."""
        if name == "x":
            return tuple((q,) for q in self.inputs)
        return self.gradients.tensor(name)


def unit_symbol(network: Network, layer: int, kind: str, j: int) -> Sym:
    """z^{(l)}_j or a^{(l)}_j; the output layer's activations are ŷ_j."""
    return unit(len(network.layers), layer, kind, j, network.layers[layer - 1].shape[0])


def given_params(network: Network, scope: Scope = ROOT, carry: Carry | None = None) -> Params:
    weights = tuple(
        tuple(
            tuple(Quantity.given(Sym("w", l, (j, k)), w, scope, carry) for k, w in enumerate(row, 1))
            for j, row in enumerate(layer.weights, 1)
        )
        for l, layer in enumerate(network.layers, 1)
    )
    biases = tuple(
        (Quantity.given(Sym("b", l), layer.bias[0], scope, carry),) * len(layer.bias)
        if layer.shared_bias
        else tuple(
            Quantity.given(symbol_of("b", l, len(layer.bias), j), b, scope, carry) for j, b in enumerate(layer.bias, 1)
        )
        for l, layer in enumerate(network.layers, 1)
    )
    return Params(weights, biases, frozenset(l for l, layer in enumerate(network.layers, 1) if not layer.has_bias))


def given_sample(sample: Sample, scope: Scope, carry: Carry | None = None) -> tuple[Vec, Vec]:
    x = tuple(
        Quantity.given(symbol_of("x", None, len(sample.x), i), v, scope, carry) for i, v in enumerate(sample.x, 1)
    )
    y = tuple(
        Quantity.given(symbol_of(TARGET.base, None, len(sample.y), j), v, scope, carry)
        for j, v in enumerate(sample.y, 1)
    )
    return x, y


def forward(
    network: Network,
    params: Params,
    x: Vec,
    y: Vec,
    loss: Loss,
    scope: Scope,
    mark: Mark = plain,
    output: int | None = None,
    split: bool = False,
) -> Forward:
    """z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, a^{(l)} = f(z^{(l)}), then L(ŷ, y).

    With ``output`` (and no targets) there is no loss: the pass differentiates ŷ_output itself.
    ``split``: each output's term is a quantity of its own, L_{o_j}, and L their sum.
    """
    zs: list[Vec] = []
    activations: list[Vec] = []
    for l, layer in enumerate(network.layers, 1):
        w, b = params.weights[l - 1], params.biases[l - 1]
        previous = stacked(network.sources(l), x, activations)  # a^{(l-1)}, or [x; a^{(1)}; …] with skips
        z = tuple(
            Quantity.computed(
                mark(unit_symbol(network, l, "z", j)),
                Sum(
                    (
                        *(Product((Ref(w[j - 1][k]), Ref(previous[k]))) for k in range(len(previous))),
                        *((Ref(b[j - 1]),) if layer.has_bias else ()),  # bias = "none": z = W a
                    )
                ),
                scope,
            )
            for j in range(1, len(w) + 1)
        )
        a = tuple(
            Quantity.computed(mark(unit_symbol(network, l, "a", j)), activation_of(layer.activation, z, j), scope)
            for j in range(1, len(w) + 1)
        )
        zs.append(z)
        activations.append(a)
    reads = network.stacking()
    if output is not None:
        return Forward(x, (), tuple(zs), tuple(activations), activations[-1][output - 1], reads)
    terms = [loss.term(Ref(q), Ref(t)) for q, t in zip(activations[-1], y, strict=True)]
    parts: Vec = ()
    if split:
        parts = tuple(Quantity.computed(mark(output_loss(j)), term, scope) for j, term in enumerate(terms, 1))
        terms = [Ref(part) for part in parts]
    total: Node = terms[0] if len(terms) == 1 else Sum(tuple(terms))
    return Forward(x, y, tuple(zs), tuple(activations), Quantity.computed(mark(LOSS), total, scope), reads, parts)


def activation_of(activation: Activation, z: Vec, j: int) -> Node:
    """a_j = f(z_j); for softmax, which maps the whole layer, e^{z_j} / Σ_k e^{z_k}."""
    if activation.vector:
        return Quotient(Apply(EXP, Ref(z[j - 1])), Sum(tuple(Apply(EXP, Ref(zk)) for zk in z)))
    return Apply(activation, Ref(z[j - 1]))


def mean_symbol(layer: int) -> Mean:
    """ḡ^{(l)} = Σ_i a_i ∂L/∂a_i, the term every entry of a softmax layer's δ subtracts."""
    return Mean(layer)


def loss_symbol(fwd: Forward) -> Sym:
    """What the gradients of ``fwd`` differentiate: L, L_n of sample n of a batch, or an output ŷ_j."""
    return fwd.loss.symbol if isinstance(fwd.loss.symbol, Sym) else LOSS


def backward(
    network: Network,
    params: Params,
    fwd: Forward,
    loss: Loss,
    scope: Scope,
    slopes: bool = False,
    errors: bool = False,
) -> Backward:
    """Backpropagation; the numbered comments are the step numbers printed on the sheet. ``slopes``:
    each f'(z^{(l)}_j) is a quantity of its own, ∂a^{(l)}_j/∂z^{(l)}_j, that δ multiplies by.
    ``errors``: the error terms Err^{(l)}_j = −δ^{(l)}_j as the textbooks that use them write them,
    f'(z_j)(y_j − ŷ_j) at the output and f'(z_j) Σ_k Err_k w_{k,j} below (no ∂L/∂a between)."""
    depth = len(network.layers)
    deltas: list[Vec] = [()] * depth
    d_activation: list[Vec] = [()] * depth
    d_weights: list[Mat] = [()] * depth
    d_biases: list[Vec] = [()] * depth
    means: list[Quantity | None] = [None] * depth
    d_slopes: list[Vec] = [()] * depth
    shares: tuple[Vec, ...] = ()
    of = loss_symbol(fwd)

    def grad(symbol: Sym, formula: Node) -> Quantity:
        return Quantity.computed(Partial(of, symbol), formula, scope)

    # Step 1: ∂L/∂ŷ_j, from the loss's derivative identity; with no loss, the seed ∂ŷ_i/∂ŷ_j = [i = j].
    upstream = tuple(
        grad(
            unit_symbol(network, depth, "a", j),
            loss.gradient(Ref(q), Ref(fwd.targets[j - 1]))
            if fwd.targets
            else Num(sp.Integer(int(q.key == fwd.loss.key))),
        )
        for j, q in enumerate(fwd.output, 1)
    )
    d_output = upstream
    # The error terms' other factor: −∂L/∂ŷ_j written as the loss's derivative turned round (y − ŷ).
    minus: list[Node] = [
        negated(loss.gradient(Ref(q), Ref(fwd.targets[j]))) if fwd.targets else Negate(Ref(upstream[j]))
        for j, q in enumerate(fwd.output)
    ]
    for l in range(depth, 0, -1):
        layer = network.layers[l - 1]
        z, a = fwd.z[l - 1], fwd.a[l - 1]
        # Step 2 (output layer) and step 6 (hidden layers): δ^{(l)}_j = ∂L/∂a^{(l)}_j · f'(z^{(l)}_j);
        # through softmax's Jacobian a_i([i = j] − a_j): δ_j = a_j (∂L/∂a_j − ḡ), ḡ = Σ_i a_i ∂L/∂a_i.
        if layer.activation.vector:
            mean = Quantity.computed(
                mean_symbol(l),
                Sum(tuple(Product((Ref(ai), Ref(gi))) for ai, gi in zip(a, upstream, strict=True))),
                scope,
            )
            means[l - 1] = mean
            entries = [
                Product((Ref(a[j - 1]), Difference(Ref(upstream[j - 1]), Ref(mean)))) for j in range(1, len(z) + 1)
            ]
        elif errors:
            # Err_j = f'(z_j) · (−∂L/∂a_j): the slope first, as the textbooks write O_j(1 − O_j)(T_j − O_j).
            entries = [
                Product((layer.activation.derivative(Ref(z[j - 1]), Ref(a[j - 1])), minus[j - 1]))
                for j in range(1, len(z) + 1)
            ]
        elif slopes:
            # f'(z_j) as a line of its own: ∂a_j/∂z_j = a_j(1 − a_j) = …, then δ_j = ∂L/∂a_j · ∂a_j/∂z_j.
            d_slopes[l - 1] = tuple(
                Quantity.computed(
                    Partial(unit_symbol(network, l, "a", j), unit_symbol(network, l, "z", j)),
                    layer.activation.derivative(Ref(z[j - 1]), Ref(a[j - 1])),
                    scope,
                )
                for j in range(1, len(z) + 1)
            )
            entries = [Product((Ref(upstream[j - 1]), Ref(d_slopes[l - 1][j - 1]))) for j in range(1, len(z) + 1)]
        else:
            entries = [
                Product((Ref(upstream[j - 1]), layer.activation.derivative(Ref(z[j - 1]), Ref(a[j - 1]))))
                for j in range(1, len(z) + 1)
            ]
        name = ERROR if errors else "delta"
        delta = tuple(
            Quantity.computed(Sym(name, l, (j,), hide_index=len(z) == 1), entries[j - 1], scope)
            for j in range(1, len(z) + 1)
        )
        deltas[l - 1] = delta
        below = fwd.layer_input(l)
        sign: Callable[[Node], Node] = Negate if errors else _same  # ∂L/∂z_j = −Err_j
        # Step 3: ∂L/∂w^{(l)}_{j,k} = δ^{(l)}_j · a^{(l-1)}_k.
        d_weights[l - 1] = tuple(
            tuple(
                grad(Sym("w", l, (j + 1, k + 1)), sign(Product((Ref(delta[j]), Ref(below[k])))))
                for k in range(len(below))
            )
            for j in range(len(delta))
        )
        # Step 4: ∂L/∂b^{(l)}_j = δ^{(l)}_j; a bias shared by the layer's units: ∂L/∂b^{(l)} = Σ_j δ^{(l)}_j.
        if layer.shared_bias:
            d_biases[l - 1] = (grad(Sym("b", l), sign(Sum(tuple(Ref(d) for d in delta)))),) * len(delta)
        else:
            d_biases[l - 1] = tuple(
                grad(symbol_of("b", l, len(delta), j + 1), sign(Ref(delta[j]))) for j in range(len(delta))
            )
        # Step 5: ∂L/∂a^{(l-1)}_k = Σ_j w^{(l)}_{j,k} δ^{(l)}_j; below layer 1 that is ∂L/∂x_k. With skip
        # connections a^{(l-1)} feeds every layer r that reads it, through W^{(r)}'s columns for it: the
        # sum runs over them all (each r > l - 1, so its δ^{(r)} is known).
        width = network.width(l - 1)
        spans = {r: network.columns(r)[l - 1] for r in network.readers(l - 1)}
        if l == depth and l > 1 and fwd.parts and not errors:
            # Each output's share of a unit's gradient, ∂L_{o_j}/∂a_k = δ_j w_{j,k}; ∂L/∂a_k adds them up.
            shares = tuple(
                tuple(
                    Quantity.computed(
                        Partial(output_loss(j + 1), unit_symbol(network, l - 1, "a", k + 1)),
                        Product((Ref(d), Ref(params.weights[l - 1][j][k]))),
                        scope,
                    )
                    for j, d in enumerate(delta)
                )
                for k in range(width)
            )
        sums = [
            _added(
                errors,
                tuple(
                    # Σ_k Err_k w_{k,j}, as the textbooks of the error term write it; else Σ_j w_{j,k} δ_j.
                    Product((Ref(d), Ref(params.weights[r - 1][j][span[k]])))
                    if errors
                    else Product((Ref(params.weights[r - 1][j][span[k]]), Ref(d)))
                    for r, span in spans.items()
                    for j, d in enumerate(deltas[r - 1])
                ),
            )
            for k in range(width)
        ]
        if shares and l == depth:
            sums = [Sum(tuple(Ref(share) for share in shares[k])) for k in range(width)]
        upstream = tuple(
            grad(
                unit_symbol(network, l - 1, "a", k + 1) if l > 1 else symbol_of("x", None, width, k + 1),
                sign(sums[k]),
            )
            for k in range(width)
        )
        minus = list(sums)
        if l > 1:
            d_activation[l - 2] = upstream
    gradients = Params(tuple(d_weights), tuple(d_biases))
    return Backward(
        d_output,
        tuple(deltas),
        tuple(d_activation),
        gradients,
        inputs=upstream,
        means=tuple(means),
        slopes=tuple(d_slopes) if slopes else (),
        shares=shares,
        errors=errors,
    )


def _same(node: Node) -> Node:
    return node


def _added(errors: bool, terms: tuple[Node, ...]) -> Node:
    """Σ_k of ``terms``; in the error term's textbooks one term alone is written without a sum
    (Err_4 = O_4(1 − O_4) Err_6 w_46)."""
    return terms[0] if errors and len(terms) == 1 else Sum(terms)


def negated(node: Node) -> Node:
    """−node, written as the textbooks write it: a difference turned round (y − ŷ for −(ŷ − y)), in a
    product its first difference (−2(ŷ − y) as 2(y − ŷ)), a negation dropped."""
    if isinstance(node, Difference):
        return Difference(node.right, node.left)
    if isinstance(node, Negate):
        return node.arg
    if isinstance(node, Product):
        for i, factor in enumerate(node.factors):
            if isinstance(factor, Difference):
                return Product((*node.factors[:i], negated(factor), *node.factors[i + 1 :]))
    return Negate(node)


@dataclass(frozen=True)
class State:
    """Optimizer state after ``t`` steps: per state name, one quantity per parameter entry key."""

    t: int = 0
    values: Mapping[str, Mapping[str, Quantity]] = field(default_factory=dict)


@dataclass(frozen=True)
class Stepped:
    """The result of one optimizer step: new parameters, new state, every stage quantity."""

    params: Params
    state: State
    stages: Mapping[str, Params]
    """Per stage name (m, v, …, theta) the stage's quantities, laid out like the parameters."""


def step(
    origin: Params,
    params: Params,
    grads: Backward,
    optimizer: Optimizer,
    hyper: Mapping[str, Quantity],
    state: State,
    names: Sequence[str],
    scope: Scope,
    ascent: bool = False,
) -> Stepped:
    """One optimizer step on the parameters in ``names``; every gradient is the old parameters'.

    ``origin`` holds the given parameters, whose symbols name the entries however many steps
    have been taken. ``ascent``: a plain gradient step is written as the error term's textbooks
    write it, w' = w + α Err_j a_k (each gradient −Err_j a_k; a frozen entry's given 0 as usual).
    """
    t = state.t + 1
    produced: dict[str, dict[str, Quantity]] = {name: {} for name, _ in optimizer.stages}

    def update(base: Quantity, q: Quantity, g: Quantity, name: str) -> Quantity:
        if name not in names:
            return q
        if base.key in produced["theta"]:  # a shared bias: one parameter, stepped once
            return produced["theta"][base.key]
        symbol = base.name
        env: dict[str, Node] = {"theta": Ref(q), "g": Ref(g), **{k: Ref(v) for k, v in hyper.items()}}
        for kept in optimizer.state:
            previous = state.values.get(kept, {}).get(base.key)
            env[f"{kept}_prev"] = Ref(previous) if previous is not None else Num(sp.Integer(0))
        result = q
        for stage, formula in optimizer.stages:
            target: Symbolic = Updated(symbol, t) if stage == "theta" else Stat(stage, symbol, t)
            node = formula(env, t)
            if ascent and stage == "theta" and isinstance(g.formula, Negate):
                # θ − α(−Err a) = θ + α Err a: the error term's factors, read off the gradient's formula.
                inner = g.formula.arg
                node = Sum(
                    (Ref(q), Product((env["alpha"], *(inner.factors if isinstance(inner, Product) else (inner,)))))
                )
            result = Quantity.computed(target, node, scope)
            produced[stage][base.key] = result
            env[stage] = Ref(result)
        return result

    def layout(pick: Callable[[Quantity, Quantity, Quantity, str], Quantity]) -> Params:
        weights = tuple(
            tuple(
                tuple(pick(o, q, g, f"W{l}") for o, q, g in zip(orow, row, grow, strict=True))
                for orow, row, grow in zip(ow, w, gw, strict=True)
            )
            for l, (ow, w, gw) in enumerate(
                zip(origin.weights, params.weights, grads.gradients.weights, strict=True), 1
            )
        )
        biases = tuple(
            tuple(pick(o, q, g, f"b{l}") for o, q, g in zip(ob, b, gb, strict=True))
            for l, (ob, b, gb) in enumerate(zip(origin.biases, params.biases, grads.gradients.biases, strict=True), 1)
        )
        return Params(weights, biases, params.unbiased)

    new = layout(update)

    def stage_values(stage: str) -> Params:
        # Entries that were not updated keep their current value in every stage's layout.
        return layout(lambda o, q, g, name: produced[stage].get(o.key, q))

    stages = {stage: stage_values(stage) for stage, _ in optimizer.stages}
    kept_state = {kept: dict(produced[kept]) for kept in optimizer.state}
    return Stepped(new, State(t, kept_state), stages)


def hyper_quantities(
    optimizer: Optimizer, rate: sp.Rational, scope: Scope, carry: Carry | None = None, **given: sp.Rational
) -> dict[str, Quantity]:
    """α and the optimizer's hyperparameters (defaults unless given) as quantities."""
    values = {"alpha": rate, **optimizer.hyper, **given}
    return {name: Quantity.given(Sym(name), value, scope, carry) for name, value in values.items()}


def updated(symbol: Sym) -> Symbolic:
    """Mark for quantities computed with the updated parameters: ŷ', L'."""
    return Updated(symbol)


def after_steps(times: int) -> Mark:
    """Mark for quantities computed with the parameters after ``times`` optimizer steps."""
    return lambda symbol: Updated(symbol, times)
