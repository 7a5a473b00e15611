"""An extra hidden layer: the network with one more layer, its forward pass and gradients, and how
the first layer's gradient changes with the added depth."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from derive.catalog.losses import Loss
from derive.exercise.kind import PartKind, asks_network, reads_network
from derive.exercise.kind import Table as SpecTable
from derive.exercise.letters import parameter
from derive.exercise.model import Layer, Network, Part, Spec
from derive.exercise.parts import PartReader
from derive.exercise.reader import MAX_LAYERS
from derive.exercise.shapes import Shape, whole
from derive.kinds.asking import gradient, named, within
from derive.maths.derivation import Derivation, norm
from derive.maths.general import MAX_NESTED, column, network_formula, unit_formulas
from derive.maths.network import given_params
from derive.maths.steps import Cell, Finding, Given, PartSolution, Section, Table, Word
from derive.terms.display import Join, Oriented, Pattern, Rounded
from derive.terms.formula import Quantity
from derive.terms.keys import Scope, key
from derive.terms.symbols import (
    LOSS,
    OUTPUT,
    Norm,
    Partial,
    Sym,
    bias,
    weight,
)
from derive.tex.layout import matrix
from derive.tex.printer import Latex, Printer
from derive.verify.floats import FloatNet
from derive.verify.twins import Expected, forward_values, gradient_values, norms, param_symbols, sample_of


@dataclass(frozen=True)
class Insertion:
    after: int
    """The layer it is inserted after (0: before layer 1)."""
    layer: Layer


def read(
    reader: PartReader, path: list[str | int], table: SpecTable, network: Network, earlier: list[Part[Any]]
) -> Insertion:
    depth = len(network.layers)
    if network.skips:
        raise reader.fail([*path, "kind"], "an 'extra_layer' part needs a network without skip connections (reads)")
    after = reader.integer([*path, "after"], table.get("after", depth - 1), 0, depth - 1)
    width = network.inputs if after == 0 else network.layers[after - 1].shape[0]
    weights = reader.matrix([*path, "weights"], table["weights"])
    if (len(weights), len(weights[0])) != (width, width):
        raise reader.fail(
            [*path, "weights"],
            f"shape mismatch: inserted after layer {after}, the new layer reads {width} values and must give "
            f"{width} so that layer {after + 1} still fits, so W needs {width}x{width}; "
            f"found {len(weights)}x{len(weights[0])}",
        )
    bias = reader.vector([*path, "bias"], table["bias"], scalar_ok=True)
    if len(bias) != width:
        raise reader.fail([*path, "bias"], f"shape mismatch: b needs {width} entries; found {len(bias)}")
    activation = reader.activation([*path, "activation"], table.get("activation", "sigmoid"))
    if activation.vector:
        raise reader.fail([*path, "activation"], "an inserted layer cannot be softmax: give it in [network]")
    return Insertion(after, Layer(weights, bias, activation))


def variant(spec: Spec, part: Part[Insertion]) -> tuple[Network, Loss]:
    return spec.net.with_layer(part.params.after, part.params.layer), spec.loss


def derive(d: Derivation, part: Part[Insertion]) -> PartSolution:
    """The network with one more layer: forward pass and gradients again, and how ∂L/∂W^{(1)} changes."""
    deep, loss = d.variant(part)
    assert part.sample is not None
    scope = Scope.part(part.number)
    params = given_params(deep, scope)
    new = part.params.after + 1
    intro = (
        Given(weight(new), params.weights[new - 1]),
        Given(bias(new), column(params.biases[new - 1])),
        Finding(
            "inserted",
            (
                ("layer", str(new)),
                # A deep network nested from the new layer up, at most MAX_NESTED layers of it.
                ("formula", network_formula(deep, max(1, min(new, len(deep.layers) - MAX_NESTED + 1)))),
                # Neuron style: every unit's sum and activation, numbered as in the deeper network.
                ("units", Join(tuple(Pattern("#1 &= #2 & #3 &= #4", unit) for unit in unit_formulas(deep)), r" \\ ")),
                (
                    "activation",
                    part.params.layer.activation.prose,
                ),
            ),
        ),
    )
    shown, _, deep_bwd = d.derive_sample(deep, loss, part.sample, scope, params)
    # The network without the layer at the same input, worked here (or recalled from the part that did).
    shallow = d.spec.net
    before, fwd = d.sample_and_forward(shallow, d.spec.loss, part, scope=scope.tag("shallow"))
    grads, shallow_bwd = d.gradient_sections(
        shallow, d.spec.loss, part, fwd, d.params.names(), scope=scope.tag("shallow")
    )
    # ∂L/∂b^{(1)} is compared only where both networks' first layer has a bias ("none" has no gradient).
    biased = deep.layers[0].has_bias and shallow.layers[0].has_bias
    rows, w_norms = [], []
    for tag, bwd, label in (("shallow", shallow_bwd, "without_layer"), ("deep", deep_bwd, "with_layer")):
        w_norms.append(norm(bwd.gradients.weights[0], Partial(LOSS, weight(1)), scope.tag(tag)))
        row: tuple[Cell, ...] = (Word(label, str(new)), w_norms[-1])
        if biased:
            row += (norm(tuple((q,) for q in bwd.gradients.biases[0]), Partial(LOSS, bias(1)), scope.tag(tag)),)
        rows.append(row)
    shallow_norm, deep_norm = float(w_norms[0].approx), float(w_norms[1].approx)
    ratio = deep_norm / shallow_norm if shallow_norm else math.inf
    finding = Finding("depth_effect", (("ratio", Rounded(ratio, 3)), ("smaller", "yes" if ratio < 1 else "no")))
    # The norms of the sheet's own matrices (indexed from input to unit, the transpose of derive's).
    header = (
        "",
        Pattern(r"\lVert #1 \rVert", (Oriented(Partial(LOSS, weight(1))),)),
        *((Pattern(r"\lVert #1 \rVert", (Partial(LOSS, bias(1)),)),) if biased else ()),
    )
    # Numbered (in neuron style) as the given network: these values are of the network without the layer.
    without = [replace(section, numbering=shallow) for section in (*before, *grads)]
    return PartSolution(
        part,
        (
            Section("inserted", intro),
            *shown,
            Section("without_layer", (), label=str(new), numbering=shallow),
            *without,
            Section("depth_comparison", (Table("depth", header, tuple(rows)), finding), numbering=shallow),
        ),
        network_changed=True,
    )


def twin(out: Expected, spec: Spec, part: Part[Insertion]) -> None:
    deep, loss = part.network_and_loss(spec)
    scope = Scope.part(part.number)
    x, y = sample_of(part)
    deep_net, shallow_net = FloatNet.of(deep), FloatNet.of(spec.net)
    for kind, symbol, l, index in param_symbols(deep):
        out.values[key(scope, symbol)] = float((deep_net.weights if kind == "w" else deep_net.biases)[l - 1][index])
    out.vector(scope, "x", x)
    out.vector(scope, "y", y)
    forward_values(out, deep, deep_net, x, y, loss, scope)
    deep_grads = gradient_values(out, deep, deep_net, x, y, loss, scope)
    out.vector(scope.tag("shallow"), "x", x)
    out.vector(scope.tag("shallow"), "y", y)
    forward_values(out, spec.net, shallow_net, x, y, spec.loss, scope.tag("shallow"))
    shallow_grads = gradient_values(out, spec.net, shallow_net, x, y, spec.loss, scope.tag("shallow"))
    for tag, grads in (("shallow", shallow_grads), ("deep", deep_grads)):
        norms(out, key(scope.tag(tag), Norm(Partial(LOSS, weight(1)))), grads.weights[0])
        norms(out, key(scope.tag(tag), Norm(Partial(LOSS, bias(1)))), grads.biases[0])


def ask(part: Part[Insertion], network: Network, printer: Printer) -> Mapping[str, object]:
    inserted = part.params.layer
    symbol, rows = printer.listing(Sym("W"), inserted.weights)
    return {
        "after": part.params.after,
        # Indexed from input to unit, the sheet's W is the transpose of the spec's rows per unit.
        "inserted_w": Latex(matrix([[printer.inline(v) for v in row] for row in rows])),
        "inserted_symbol": Latex(symbol),
        "inserted_b": Latex(printer.vector(inserted.bias)),
    }


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """With the extra layer: ŷ, L and the gradients; the first layer's gradient size with and without it."""
    return {
        q.key
        for q in quantities
        if (not within(q) and (named(q, OUTPUT.base, "L") or gradient(q, inputs=False))) or isinstance(q.symbol, Norm)
    }


KIND = PartKind(
    name="extra_layer",
    keys={
        "after": whole(0, MAX_LAYERS - 1, "the layer it is inserted after (default: the last hidden one)"),
        "weights": Shape("matrix", "the new layer's W, square"),
        "bias": Shape("numbers_or_number", "the new layer's b"),
        "activation": Shape("scalar_activation", 'its activation (default "sigmoid")'),
    },
    required=("weights", "bias"),
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
