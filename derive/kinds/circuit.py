"""A computational graph (a circuit of gates, as in the backprop lecture notes): every gate's value forward,
every wire's gradient ∂f/∂wire backward from ∂f/∂f = 1, and the circuit drawn with both; from a
formula and its variables' values, or a single neuron expanded into its gates."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from derive.catalog.circuits import (
    MAX_INPUTS,
    OUTPUT,
    Graph,
    check_name,
    evaluate_floats,
    neuron_circuit,
    parse_circuit,
    wire_symbols,
)
from derive.catalog.gates import GATES
from derive.catalog.parsing import FormulaError
from derive.exercise.kind import PartKind
from derive.exercise.kind import Table as SpecTable
from derive.exercise.model import Network, Part, Spec
from derive.exercise.parts import PartReader
from derive.exercise.shapes import Shape, choice
from derive.kinds.asking import named
from derive.maths.circuit import backward, circuit_steps, drawn, forward, gradient_symbol
from derive.maths.derivation import Derivation
from derive.maths.steps import PartSolution
from derive.terms.formula import Node, Quantity, Quotient, Ref
from derive.terms.keys import Scope, key
from derive.terms.symbols import Partial, Sym
from derive.tex.printer import Latex, Printer
from derive.verify.floats import central_difference, unrounded
from derive.verify.twins import Expected, rounding_of

NEURON_ACTIVATIONS = ("sigmoid", "tanh", "relu")
MAX_NEURON_INPUTS = 6
"""Most inputs of a neuron drawn as a circuit (its products and partial sums on one page)."""
DRAWINGS = ("inputs", "values", "plain", "none")
"""What the exercise sheet's drawing shows: the variables' values, every wire's value, the names only, or no drawing."""
GATE_FORMS = ("one", "expanded")


@dataclass(frozen=True)
class Neuron:
    """A neuron as the question states it: its activation, its inputs, whether it has a bias, its gates."""

    activation: str
    inputs: int
    bias: bool
    expanded: bool


@dataclass(frozen=True)
class CircuitPart:
    graph: Graph
    values: tuple[sp.Rational, ...]
    """Each variable's value, in the order of the graph's variables."""
    drawing: str = "inputs"
    neuron: Neuron | None = None


def read(
    reader: PartReader, path: list[str | int], table: SpecTable, network: Network | None, earlier: list[Part[Any]]
) -> CircuitPart:
    drawing = table.get("drawing", "inputs")
    if drawing not in DRAWINGS:
        raise reader.fail([*path, "drawing"], f"expected one of {', '.join(DRAWINGS)}, found {drawing!r}")
    if ("expression" in table) == ("neuron" in table):
        raise reader.fail([*path, "expression"], "give either expression (with values) or neuron, not both or neither")
    if "neuron" in table:
        if "values" in table:
            raise reader.fail([*path, "values"], "a neuron's values are its w, x and b")
        return _neuron(reader, path, table, str(drawing))
    if "activation_gates" in table:
        raise reader.fail([*path, "activation_gates"], "only a neuron's activation can be expanded into gates")
    expression = reader.text([*path, "expression"], table["expression"])
    raw = table.get("values")
    if raw is None:
        raise reader.fail([*path, "values"], "missing: the value of every variable of the expression")
    if not isinstance(raw, dict):
        raise reader.fail([*path, "values"], "expected a table { x = -2, y = 5 }")
    if len(raw) > MAX_INPUTS:
        raise reader.fail([*path, "values"], f"at most {MAX_INPUTS} variables; found {len(raw)}")
    numbers: dict[str, sp.Rational] = {}
    for name, value in raw.items():
        try:
            check_name(name)
        except FormulaError as error:
            raise reader.fail([*path, "values", name], str(error)) from None
        numbers[name] = reader.number([*path, "values", name], value)
    try:
        graph = parse_circuit(expression, list(numbers))
    except FormulaError as error:
        raise reader.fail([*path, "expression"], str(error)) from None
    return CircuitPart(graph, tuple(numbers[name] for name in graph.names), str(drawing))


def _neuron(reader: PartReader, path: list[str | int], table: SpecTable, drawing: str) -> CircuitPart:
    where = [*path, "neuron"]
    spec = reader.table(where, table["neuron"], ("w", "x", "b", "activation", "index_from"))
    for needed in ("w", "x"):
        if needed not in spec:
            raise reader.fail([*where, needed], "missing: a neuron needs its weights w and inputs x")
    w, x = reader.vector([*where, "w"], spec["w"]), reader.vector([*where, "x"], spec["x"])
    if len(w) != len(x):
        raise reader.fail([*where, "x"], f"as many inputs as weights ({len(w)}); found {len(x)}")
    if len(w) > MAX_NEURON_INPUTS:
        raise reader.fail([*where, "w"], f"at most {MAX_NEURON_INPUTS} weights; found {len(w)}")
    activation = spec.get("activation", "sigmoid")
    if activation not in NEURON_ACTIVATIONS:
        raise reader.fail(
            [*where, "activation"], f"expected one of {', '.join(NEURON_ACTIVATIONS)}, found {activation!r}"
        )
    first = reader.integer([*where, "index_from"], spec["index_from"], 0, 1) if "index_from" in spec else 1
    forms = table.get("activation_gates", "one")
    if forms not in GATE_FORMS:
        raise reader.fail([*path, "activation_gates"], f"expected one of {', '.join(GATE_FORMS)}, found {forms!r}")
    expanded = forms == "expanded"
    if expanded and activation == "relu":
        raise reader.fail([*path, "activation_gates"], "ReLU is one gate already: expand a sigmoid or tanh")
    bias = "b" in spec
    values = [v for pair in zip(w, x, strict=True) for v in pair]
    if bias:
        values.append(reader.number([*where, "b"], spec["b"]))
    graph, _ = neuron_circuit(len(w), str(activation), expanded, bias, first)
    return CircuitPart(graph, tuple(values), drawing, Neuron(str(activation), len(w), bias, expanded))


def derive(d: Derivation, part: Part[CircuitPart]) -> PartSolution:
    scope = Scope.part(part.number)
    values = forward(part.params.graph, part.params.values, scope, d.spec.sheet.carry)
    worked = backward(part.params.graph, values, scope)
    return PartSolution(part, circuit_steps(part.params.graph, worked, scope))


def twin(out: Expected, spec: Spec, part: Part[CircuitPart]) -> None:
    """Every wire's value and gradient in floats, from the graph and its values only; each gradient
    also by central differences of f in that wire's value, the gates after it run again."""
    graph, scope, r = part.params.graph, Scope.part(part.number), rounding_of(spec)
    symbols = wire_symbols(graph)
    start = dict(zip(graph.inputs, (float(v) for v in part.params.values), strict=True))
    rounded = _passes(graph, start, lambda v: float(r(np.array([v]))[0]))
    plain = _passes(graph, start, lambda v: v) if r is not unrounded else rounded
    exact_values = evaluate_floats(graph, start)
    last = len(graph.wires) - 1
    kinked = _kinked(graph, exact_values)
    for i, symbol in enumerate(symbols):
        out.values[key(scope, symbol)] = rounded[0][i]
        gradient_key = key(scope, Partial(OUTPUT, symbol))
        out.values[gradient_key] = rounded[1][i]
        if i == last or i in kinked:
            continue
        out.differences[gradient_key] = central_difference(_nudged(graph, exact_values, i), exact_values[i])
        if r is not unrounded:
            out.unrounded[gradient_key] = plain[1][i]


def _passes(graph: Graph, start: Mapping[int, float], r: Any) -> tuple[list[float], list[float]]:
    """The forward and backward pass in floats, each computed value rounded by ``r`` (the student policy)."""
    values: list[float] = []
    for i, wire in enumerate(graph.wires):
        if not wire.gate:
            values.append(start[i])
            continue
        c = float(wire.constant) if wire.constant is not None else 0.0
        values.append(r(GATES[wire.gate].floats([values[a] for a in wire.args], c)))
    last = len(graph.wires) - 1
    gradients = [0.0] * len(graph.wires)
    gradients[last] = 1.0
    for i in range(last - 1, -1, -1):  # every reader of a wire comes after it
        total = 0.0
        for g, k in graph.readers(i):
            wire = graph.wires[g]
            c = float(wire.constant) if wire.constant is not None else 0.0
            total += gradients[g] * GATES[wire.gate].float_local([values[a] for a in wire.args], values[g], c, k)
        gradients[i] = r(total)
    return values, gradients


def _kinked(graph: Graph, values: list[float]) -> set[int]:
    """The wires upstream of a ReLU at its kink (input 0): there the one-sided slopes differ, and
    finite differences cannot judge the gradient (ReLU'(0) = 0 by convention, as in PyTorch)."""
    at = {g for g in graph.gates if GATES[graph.wires[g].gate].kink and values[graph.wires[g].args[0]] == 0}
    upstream: set[int] = set()
    pending = [a for g in at for a in graph.wires[g].args]
    while pending:
        wire = pending.pop()
        if wire not in upstream:
            upstream.add(wire)
            pending.extend(graph.wires[wire].args)
    return upstream


def _nudged(graph: Graph, values: list[float], wire: int) -> Any:
    """f with wire ``wire``'s value moved by h, the gates after it computed again."""

    def f(h: float) -> float:
        moved = list(values)
        moved[wire] += h
        for i in range(wire + 1, len(graph.wires)):
            w = graph.wires[i]
            if w.gate:
                c = float(w.constant) if w.constant is not None else 0.0
                moved[i] = GATES[w.gate].floats([moved[a] for a in w.args], c)
        return moved[-1] if math.isfinite(moved[-1]) else math.nan

    return f


def _formula(graph: Graph, givens: list[Quantity]) -> Node:
    """f as one formula in the variables, gate by gate as the spec writes it."""
    nodes: list[Node] = []
    given = iter(givens)
    for wire in graph.wires:
        if not wire.gate:
            nodes.append(Ref(next(given)))
        elif wire.gate == "multiply" and graph.wires[wire.args[1]].gate == "reciprocal":
            # a/b is the gates a · (1/b), and written a/b, as the spec writes it.
            nodes.append(Quotient(nodes[wire.args[0]], nodes[graph.wires[wire.args[1]].args[0]]))
        else:
            nodes.append(GATES[wire.gate].forward(tuple(nodes[a] for a in wire.args), wire.constant))
    return nodes[-1]


def _stated(params: CircuitPart) -> Graph:
    """The graph the question writes f from: a neuron's with its activation as one gate."""
    neuron = params.neuron
    if neuron is None or not neuron.expanded:
        return params.graph
    return neuron_circuit(neuron.inputs, neuron.activation, False, neuron.bias)[0]


def ask(part: Part[CircuitPart], network: Network | None, printer: Printer) -> Mapping[str, object]:
    graph, params = part.params.graph, part.params
    symbols = wire_symbols(graph)
    scope = Scope.part(part.number)
    givens = [Quantity.given(symbols[i], v, scope) for i, v in zip(graph.inputs, params.values, strict=True)]
    separator = printer.look.separator
    shown: list[Quantity | None] = [None] * len(graph.wires)
    if params.drawing == "values":
        shown = list(forward(graph, params.values, scope, None))
    elif params.drawing == "inputs":
        for i, q in zip(graph.inputs, givens, strict=True):
            shown[i] = q
    neuron = params.neuron
    return {
        "function": Latex(printer.symbol(OUTPUT)),
        # A neuron is stated with its activation as one function, σ(w_1 x_1 + … + b), whatever its gates.
        "formula": Latex(printer.formula(_formula(_stated(part.params), givens))),
        "given": Latex(separator.join(f"{printer.symbol(q.symbol)} = {printer.shown(q)}" for q in givens)),
        "gradients": Latex(separator.join(printer.symbol(gradient_symbol(q.name)) for q in givens)),
        "neuron": neuron is not None,
        "activation": neuron.activation if neuron else "",
        "expanded": bool(neuron and neuron.expanded),
        "inputs": neuron.inputs if neuron else 0,
        "drawing": None if params.drawing == "none" else drawn(graph, shown),
        "drawn": params.drawing,
    }


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """The output f and its gradient with respect to every variable (not the wires between gates)."""
    return {
        q.key
        for q in quantities
        if named(q, "f")
        or (
            isinstance(q.symbol, Partial)
            and q.symbol.num.base == "f"
            and isinstance(q.symbol.den, Sym)
            and q.symbol.den.base not in ("f", "q")
        )
    }


KIND = PartKind(
    name="circuit",
    keys={
        "expression": Shape("text", 'the function as a formula of gates, e.g. "(x + y)*z" or "max(x, y)*z + w*v"'),
        "values": Shape(
            "values", "the value of every variable of the expression: { x = -2, y = 5, z = -4 }", high=MAX_INPUTS
        ),
        "neuron": Shape(
            "neuron",
            'a single neuron instead: { w = [...], x = [...], b = ..., activation = "sigmoid" }, index_from (1)',
            high=MAX_NEURON_INPUTS,
            choices=NEURON_ACTIVATIONS,
        ),
        "activation_gates": choice(
            GATE_FORMS, 'a neuron\'s sigmoid or tanh as one gate ("one") or its gates ("expanded")'
        ),
        "drawing": choice(DRAWINGS, 'what the exercise sheet\'s drawing shows (default "inputs")'),
    },
    required=(),
    sample="none",
    student=True,
    read=read,
    derive=derive,
    twin=twin,
    ask=ask,
    asked=asked_keys,
    network=False,
)
