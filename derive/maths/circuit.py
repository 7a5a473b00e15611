"""A computational graph worked exactly: every gate's value in the order it computes, then every wire's
gradient ∂f/∂wire from ∂f/∂f = 1 backwards, each the upstream gradient times the gate's local gradient
and summed where a wire fans out, with the patterns of backward flow said where they occur."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from derive.catalog.circuits import OUTPUT, Graph, wire_symbols
from derive.catalog.gates import GATES
from derive.errors import DegenerateError
from derive.maths.steps import Circuit, CircuitWire, Compute, Finding, Given, Section, Step
from derive.terms.display import Shown
from derive.terms.formula import Node, Product, Quantity, Ref, Sum
from derive.terms.keys import Scope, key
from derive.terms.rounding import Carry
from derive.terms.symbols import Partial, Sym


def gradient_symbol(symbol: Sym) -> Partial:
    return Partial(OUTPUT, symbol)


@dataclass(frozen=True)
class Worked:
    """A circuit worked out: every wire's value and gradient (in wire order), and the seed ∂f/∂f."""

    values: tuple[Quantity, ...]
    gradients: tuple[Quantity, ...]
    seed: Quantity
    steps: tuple[Step, ...]
    """The backward pass as it is shown: words where a pattern occurs, each wire's line."""


def forward(graph: Graph, values: Sequence[sp.Rational], scope: Scope, carry: Carry | None) -> tuple[Quantity, ...]:
    """Every wire's value: the variables given, each gate from the wires it reads."""
    symbols = wire_symbols(graph)
    given = dict(zip(graph.inputs, values, strict=True))
    out: list[Quantity] = []
    for i, wire in enumerate(graph.wires):
        if not wire.gate:
            out.append(Quantity.given(symbols[i], given[i], scope, carry))
            continue
        args = tuple(out[a] for a in wire.args)
        if wire.gate in ("max", "min") and args[0].exact == args[1].exact:
            shown = ", ".join(str(a.exact) for a in args)
            raise DegenerateError(
                f"{key(scope, symbols[i])}: {wire.gate}({shown}) of two equal values has no gradient; "
                "give values that differ"
            )
        _within_domain(wire.gate, wire.constant, args, key(scope, symbols[i]))
        node = GATES[wire.gate].forward(tuple(Ref(a) for a in args), wire.constant)
        out.append(Quantity.computed(symbols[i], node, scope))
    return tuple(out)


def _within_domain(gate: str, constant: sp.Rational | None, args: tuple[Quantity, ...], where: str) -> None:
    """Refuse a gate outside its domain in one line: 1/0 (or 0 to a negative power), log of x ≤ 0."""
    value = args[0].exact
    divides = gate == "reciprocal" or (gate == "power" and constant is not None and constant < 0)
    if divides and value == 0:
        raise DegenerateError(
            f"{where}: 1/0 is undefined (the gate divides by its input, which is 0); give other values"
        )
    if gate == "log" and args[0].approx <= 0:
        raise DegenerateError(
            f"{where}: the logarithm of {value} is undefined (its input must be positive); give other values"
        )


def backward(graph: Graph, values: tuple[Quantity, ...], scope: Scope) -> Worked:
    """Every wire's gradient from the output back: its readers' upstream gradients times their local
    gradients, summed over the readers; each gate's pattern said once, a fan-out where it is summed."""
    symbols = wire_symbols(graph)
    last = len(graph.wires) - 1
    seed = Quantity.given(gradient_symbol(OUTPUT), 1, scope)
    gradients: dict[int, Quantity] = {last: seed}
    steps: list[Step] = []
    done: set[int] = {last}
    for g in reversed(graph.gates):
        wire = graph.wires[g]
        gate = GATES[wire.gate]
        if gate.flow:
            steps.append(_flow(wire.gate, symbols, wire.args, g, values))
        lines: list[Quantity] = []
        for a in dict.fromkeys(wire.args):
            readers = graph.readers(a)
            if any(r not in done and r != g for r, _ in readers):
                continue  # it fans out to a gate further back: summed when that one is done
            terms: list[Node] = []
            for r, k in readers:
                reader = graph.wires[r]
                local = GATES[reader.gate].local(
                    tuple(Ref(values[b]) for b in reader.args), Ref(values[r]), reader.constant, k
                )
                terms.append(Product((Ref(gradients[r]), local)))
            if len(terms) > 1:
                steps.append(Finding("circuit_fan_out", (("wire", symbols[a]), ("count", str(len(terms))))))
            formula = terms[0] if len(terms) == 1 else Sum(tuple(terms))
            gradients[a] = Quantity.computed(gradient_symbol(symbols[a]), formula, scope)
            lines.append(gradients[a])
        done.add(g)
        if lines:
            steps.append(Compute(lines[0].symbol, None, tuple(lines)))
    ordered = tuple(gradients[i] for i in range(len(graph.wires)))
    return Worked(values, ordered, seed, tuple(steps))


def _flow(
    name: str, symbols: tuple[Sym, ...], args: tuple[int, ...], gate: int, values: tuple[Quantity, ...]
) -> Finding:
    """The words for a gate's pattern: add distributes, multiply swaps its inputs, max and min route."""
    facts: list[tuple[str, Shown]] = [("out", symbols[gate]), ("gate", name)]
    facts += [(f"in{k}", symbols[a]) for k, a in enumerate(args, 1)]
    if name in ("max", "min"):
        first, second = values[args[0]].approx, values[args[1]].approx
        chosen = first > second if name == "max" else first < second
        winner, loser = (args[0], args[1]) if chosen else (args[1], args[0])
        facts += [("winner", symbols[winner]), ("loser", symbols[loser])]
    return Finding(f"circuit_{GATES[name].flow}", tuple(facts))


def circuit_steps(graph: Graph, worked: Worked, scope: Scope) -> tuple[Section, ...]:
    """The solution's sections: the givens, the forward pass, the backward pass and the drawing."""
    symbols = wire_symbols(graph)
    givens = tuple(Given(symbols[i], ((worked.values[i],),)) for i in graph.inputs)
    gates = tuple(worked.values[g] for g in graph.gates)
    drawing = drawn(graph, worked.values, worked.gradients)
    return (
        Section("givens", givens),
        Section("circuit_forward", (Compute(OUTPUT, None, gates),)),
        Section("circuit_backward", (Compute(gradient_symbol(OUTPUT), None, (worked.seed,)), *worked.steps)),
        Section("circuit_drawing", (drawing,)),
    )


def drawn(
    graph: Graph, values: Sequence[Quantity | None] | None = None, gradients: Sequence[Quantity | None] | None = None
) -> Circuit:
    """The circuit as a drawing, with the given values and gradients on its wires (None: left blank)."""
    symbols = wire_symbols(graph)
    count = len(graph.wires)
    shown_values = list(values) if values is not None else [None] * count
    shown_gradients = list(gradients) if gradients is not None else [None] * count
    return Circuit(
        tuple(
            CircuitWire(symbols[i], w.gate, w.args, w.constant, shown_values[i], shown_gradients[i])
            for i, w in enumerate(graph.wires)
        )
    )
