"""ReLU against the sigmoid: σ' is at most 1/4, the same input through the network with ReLU, the
gradient magnitudes per layer under both, and (with ``dead_x``) a ReLU unit that stops learning."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from derive.catalog.activations import RELU, SIGMOID, Activation
from derive.catalog.losses import Loss
from derive.errors import VerificationError
from derive.exercise.kind import PartKind, asks_network, reads_network
from derive.exercise.kind import Table as SpecTable
from derive.exercise.letters import parameter
from derive.exercise.model import Network, Part, Sample, Spec, Vector
from derive.exercise.parts import PartReader
from derive.exercise.reader import MAX_LAYERS
from derive.exercise.shapes import Shape
from derive.kinds.asking import gradient, named, within
from derive.maths.derivation import Derivation, norm
from derive.maths.steps import Finding, Identity, PartSolution, Section, Table
from derive.terms.display import Exact, Join, Oriented, Pattern, Rounded
from derive.terms.formula import Quantity, equal
from derive.terms.keys import Scope, key
from derive.terms.symbols import (
    LOSS,
    OUTPUT,
    Norm,
    Partial,
    Sym,
    weight,
)
from derive.tex.printer import Latex, Printer
from derive.verify.floats import FloatNet, extended
from derive.verify.twins import Expected, forward_values, gradient_values, norms, sample_of

Z = sp.Symbol("z", real=True)


@dataclass(frozen=True)
class ActivationSwap:
    activation: Activation
    """The activation put in place of the sigmoid (ReLU)."""
    layers: tuple[int, ...]
    """The layers whose activation it replaces."""
    dead_x: Vector | None = None
    """An input at which a ReLU unit of those layers is dead, to show it."""


def read(
    reader: PartReader, path: list[str | int], table: SpecTable, network: Network, earlier: list[Part[Any]]
) -> ActivationSwap:
    depth = len(network.layers)
    raw_layers = table.get("layers", list(range(1, depth)))
    if not isinstance(raw_layers, list) or not raw_layers:
        raise reader.fail([*path, "layers"], "expected a list of layer numbers")
    layers = tuple(reader.integer([*path, "layers"], l, 1, depth) for l in raw_layers)
    dead = None
    if "dead_x" in table:
        dead = reader.vector([*path, "dead_x"], table["dead_x"])
        if len(dead) != network.inputs:
            raise reader.fail([*path, "dead_x"], f"the network takes {network.inputs} inputs; found {len(dead)}")
    activation = reader.activation([*path, "activation"], table["activation"])
    if activation.vector:
        raise reader.fail(
            [*path, "activation"], "softmax maps a whole layer: give it in [network], not as a replacement"
        )
    return ActivationSwap(activation, layers, dead)


def variant(spec: Spec, part: Part[ActivationSwap]) -> tuple[Network, Loss]:
    network = spec.net
    for layer in part.params.layers:
        network = network.with_activation(layer, part.params.activation)
    return network, spec.loss


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


def derive(d: Derivation, part: Part[ActivationSwap]) -> PartSolution:
    """The same sample through the network with ReLU in place of the sigmoid, and a dead unit."""
    relu_network, loss = d.variant(part)
    swap = part.params
    assert part.sample is not None
    peaks, peak = sigmoid_slope_peak()
    facts = Finding("sigmoid_bound", (("at", Join(tuple(Exact(z) for z in peaks))), ("max", Exact(peak))))
    sections = [
        Section(
            "activation_facts",
            (
                Identity(SIGMOID.identity, SIGMOID.prose),
                Identity(swap.activation.identity, swap.activation.prose),
                facts,
            ),
        ),
        Section("relu_network", (), label=", ".join(map(str, swap.layers))),
    ]
    names = d.params.names()
    shown, fwd = d.sample_and_forward(relu_network, loss, part, recall=False)
    grads, bwd = d.gradient_sections(relu_network, loss, part, fwd, names)
    sections.extend([*shown, *grads])
    scope = Scope.part(part.number)
    # The sigmoid network at the same input, worked here (or recalled from the part that did).
    sigmoid = d.spec.net
    before, sigmoid_fwd = d.sample_and_forward(sigmoid, d.spec.loss, part, scope=scope.tag("sigmoid"))
    sigmoid_grads, sigmoid_bwd = d.gradient_sections(
        sigmoid, d.spec.loss, part, sigmoid_fwd, names, scope=scope.tag("sigmoid")
    )
    sections.extend([Section("sigmoid_network", ()), *before, *sigmoid_grads])
    rows = []
    for l in range(1, len(relu_network.layers) + 1):
        rows.append(
            (
                Oriented(weight(l)),  # the sheet's W^{(l)}
                norm(sigmoid_bwd.gradients.weights[l - 1], Partial(LOSS, weight(l)), scope.tag("sigmoid")),
                norm(bwd.gradients.weights[l - 1], Partial(LOSS, weight(l)), scope.tag("relu")),
            )
        )
    layer_weights = (Oriented(Sym("W", "l")),)  # the sheet's W^{(l)} of any layer
    header = (
        "",
        Pattern(r"\text{sigmoid: } \lVert \partial @L / \partial #1 \rVert", layer_weights),
        Pattern(r"\text{ReLU: } \lVert \partial @L / \partial #1 \rVert", layer_weights),
    )
    sections.append(Section("magnitudes", (Table("magnitudes", header, tuple(rows)), _magnitude_finding(rows))))
    if swap.dead_x is not None:
        dead_sections, dead_fwd, _ = d.derive_sample(
            relu_network, loss, Sample(swap.dead_x, part.sample.y), scope.tag("dead")
        )
        dead = [
            q.symbol
            for l in swap.layers
            for q in dead_fwd.z[l - 1]
            if relu_network.layers[l - 1].activation.name == RELU.name
            and (q.exact <= 0 if q.exact.is_number else q.approx <= 0)
        ]
        finding = Finding("dead_units", (("units", Join(tuple(dead))), ("count", str(len(dead)))))
        sections.extend([Section("dead_unit", ()), *dead_sections, Section("dead_finding", (finding,))])
    return PartSolution(part, tuple(sections), network_changed=True)


def _magnitude_finding(rows: list[tuple[Oriented, Quantity, Quantity]]) -> Finding:
    """What the norms say: how each network's weight gradient changes from the last layer back to
    the first, and in how many layers ReLU's is the larger."""
    sigmoid = [float(row[1].approx) for row in rows]
    relu = [float(row[2].approx) for row in rows]
    larger = sum(r > s for s, r in zip(sigmoid, relu, strict=True))
    facts: list[tuple[str, Any]] = [
        ("larger", "all" if larger == len(rows) else "none" if larger == 0 else "some"),
        ("count", str(larger)),
        ("layers", str(len(rows))),
    ]
    if len(rows) > 1 and sigmoid[-1] and relu[-1]:
        # Back from the last layer to the first: the factor the signal's size changes by in each network.
        sigmoid_drop, relu_drop = sigmoid[0] / sigmoid[-1], relu[0] / relu[-1]
        facts += [
            ("sigmoid_drop", Rounded(sigmoid_drop, 3)),
            ("relu_drop", Rounded(relu_drop, 3)),
            ("fades_less", "swapped" if relu_drop > sigmoid_drop else "given"),
        ]
    else:
        # A last layer without gradient (a dead ReLU below it) gives no factor: the message says less.
        facts += [("sigmoid_drop", ""), ("relu_drop", ""), ("fades_less", "")]
    return Finding("magnitudes", tuple(facts))


def twin(out: Expected, spec: Spec, part: Part[ActivationSwap]) -> None:
    relu, loss = part.network_and_loss(spec)
    scope = Scope.part(part.number)
    x, y = sample_of(part)
    out.vector(scope, "x", x)
    out.vector(scope, "y", y)
    relu_net, sigmoid_net = FloatNet.of(relu), FloatNet.of(spec.net)
    forward_values(out, relu, relu_net, x, y, loss, scope)
    relu_grads = gradient_values(out, relu, relu_net, x, y, loss, scope)
    out.vector(scope.tag("sigmoid"), "x", x)
    out.vector(scope.tag("sigmoid"), "y", y)
    forward_values(out, spec.net, sigmoid_net, x, y, spec.loss, scope.tag("sigmoid"))
    sigmoid_grads = gradient_values(out, spec.net, sigmoid_net, x, y, spec.loss, scope.tag("sigmoid"))
    for l in range(1, len(relu.layers) + 1):
        norms(out, key(scope.tag("sigmoid"), Norm(Partial(LOSS, weight(l)))), sigmoid_grads.weights[l - 1])
        norms(out, key(scope.tag("relu"), Norm(Partial(LOSS, weight(l)))), relu_grads.weights[l - 1])
    if part.params.dead_x is not None:
        dead = extended(part.params.dead_x)
        out.vector(scope.tag("dead"), "x", dead)
        out.vector(scope.tag("dead"), "y", y)
        forward_values(out, relu, relu_net, dead, y, loss, scope.tag("dead"))
        gradient_values(out, relu, relu_net, dead, y, loss, scope.tag("dead"))


def ask(part: Part[ActivationSwap], network: Network, printer: Printer) -> Mapping[str, object]:
    swap = part.params
    return {
        "layers": ", ".join(map(str, swap.layers)),
        "layers_many": len(swap.layers) > 1,
        "dead_x": Latex(printer.vector(swap.dead_x)) if swap.dead_x else Latex(""),
    }


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """With ReLU: ŷ, L and the gradients; the gradient sizes per layer; the gradients at the dead input."""
    return {
        q.key
        for q in quantities
        if (not within(q) and (named(q, OUTPUT.base, "L") or gradient(q, inputs=False)))
        or isinstance(q.symbol, Norm)
        or (within(q) == ("dead",) and gradient(q, inputs=False))
    }


KIND = PartKind(
    name="compare_activation",
    keys={
        "activation": Shape("scalar_activation", "the activation put in place of the sigmoid"),
        "layers": Shape("wholes", "the layers it replaces (default: every hidden layer)", 1, MAX_LAYERS),
        "dead_x": Shape("numbers", "an input at which a unit stops learning"),
    },
    required=("activation",),
    sample="required",
    student=False,
    read=reads_network(read),
    derive=derive,
    twin=twin,
    ask=asks_network(ask),
    asked=asked_keys,
    variant=variant,
    one_output=True,
    letters=parameter,
)
