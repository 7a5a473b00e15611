"""The network drawing: what each unit and edge carries, and how wide layers are elided."""

from __future__ import annotations

from typing import Any

import derive
from derive.maths.steps import Diagram
from derive.pipeline import parse_spec
from derive.render.context import sheet_context
from derive.render.diagram import MAX_UNITS, diagram_context, shown_units
from derive.tex.style import Style

PRINTER = Style().printer()


def test_narrow_layers_are_drawn_whole_and_wide_ones_elided() -> None:
    assert shown_units(MAX_UNITS) == list(range(1, MAX_UNITS + 1))
    assert shown_units(10) == [1, 2, 3, None, 9, 10]


def _edge_labels(context: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(e["source"], e["target"]): e["label"] for e in context["edges"]}


def test_the_network_drawing_carries_the_given_weights_and_biases() -> None:
    spec = derive.load_example()
    context = sheet_context(derive.solve(spec), Style.of(spec.sheet))["network"]["diagram"]
    assert context["labelled"]
    labels = _edge_labels(context)
    for l, layer in enumerate(spec.network.layers, 1):
        for j, row in enumerate(layer.weights, 1):
            for k, w in enumerate(row, 1):
                assert labels[(f"n{l - 1}-{k}", f"n{l}-{j}")] == PRINTER.inline(w)
    units = {n["id"]: n for n in context["nodes"]}
    for l, layer in enumerate(spec.network.layers, 1):
        for j, b in enumerate(layer.bias, 1):
            assert units[f"n{l}-{j}"]["label"] == PRINTER.inline(b)
    assert units["n0-1"]["input"] and units["n0-1"]["text"] == "x_{1}"
    assert units["n2-1"]["text"] == r"\hat{y}"


def test_the_forward_and_gradient_drawings_carry_the_computed_values() -> None:
    solution = derive.solve(derive.load_example())
    style = Style()
    forward = next(s for sec in solution.part(1).sections for s in sec.steps if isinstance(s, Diagram))
    nodes = {n["id"]: n["label"] for n in diagram_context(forward, style.printer())["nodes"]}
    assert nodes["n1-2"] == PRINTER.decimal(solution["p1.a1[2]"].approx, 4)
    assert nodes["n0-2"] == "1"  # the input x_2 of part 1
    gradients = next(s for sec in solution.part(4).sections for s in sec.steps if isinstance(s, Diagram))
    labels = _edge_labels(diagram_context(gradients, style.printer()))
    # Every edge carries its own weight's gradient (w_{j,k} joins input k to unit j).
    for l, (rows, cols) in enumerate(((2, 2), (1, 2)), 1):
        for j in range(1, rows + 1):
            for k in range(1, cols + 1):
                q = solution[f"p4.dL/dw{l}[{j},{k}]"]
                assert labels[(f"n{l - 1}-{k}", f"n{l}-{j}")] == Style(exact=False).printer().shown(q)
    assert any(label not in ("0", "") for label in labels.values())


WIDE = """
[network]
inputs = 2
[[network.layers]]
weights = [[1, 0], [0, 1], [1, 1], [1, -1], [2, 0], [0, 2], [1, 2], [2, 1], [-1, 1], [3, 1]]
bias = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
activation = "sigmoid"
[[network.layers]]
weights = [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]
bias = [0]
activation = "identity"
[loss]
name = "squared_error"
[[parts]]
kind = "gradients"
x = [1, 1]
y = 1
"""


def test_a_wide_layer_is_elided_visibly_and_its_edges_go_unlabelled() -> None:
    solution = derive.solve(parse_spec(WIDE))
    context = sheet_context(solution, Style())
    drawing = context["network"]["diagram"]
    dots = [n for n in drawing["nodes"] if n["dots"]]
    assert [n["more"] for n in dots] == ["5"]
    assert not drawing["labelled"] and all(e["label"] == "" for e in drawing["edges"])
    # Unlabelled, a gradient drawing would only repeat the network: the part leaves it out.
    steps = [s for sec in context["parts"][0]["sections"] for s in sec["steps"] if s["type"] == "diagram"]
    assert [s["show"] for s in steps] == [True, False]
