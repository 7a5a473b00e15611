"""A circuit drawn as the backprop lecture notes draw it: the variables on the left, the output on
the right, a gate per node, each wire with its value above it and its gradient below it.

Each wire leaves its node on a short horizontal stub that carries its numbers (so they read level
whatever the slope of the line on to its readers), and fans out from the stub's end where it feeds
several gates.
"""

from __future__ import annotations

import itertools
from typing import Any

from derive.catalog.gates import GATES
from derive.maths.steps import Circuit
from derive.terms.formula import Quantity
from derive.tex.printer import Data, Latex, Printer

ROW = 1.25
"""Vertical distance of two nodes in a column (cm)."""
WIDTH = 15.0
"""The widest drawing (cm) before it is scaled down to the line."""
COLUMN = (2.3, 2.8)
"""The narrowest and widest distance of two columns (cm)."""
STUB = 0.65
"""The share of a column's width a wire's numbered stub takes."""


def layout(step: Circuit) -> tuple[list[int], list[float]]:
    """Each wire's column (a gate one right of the furthest wire it reads) and height (the variables
    one under another, a gate level with the mean of what it reads, kept a row apart in its column)."""
    columns: list[int] = []
    heights: list[float] = []
    row = 0
    for wire in step.wires:
        if not wire.gate:
            columns.append(0)
            heights.append(-ROW * row)
            row += 1
        else:
            columns.append(1 + max(columns[a] for a in wire.args))
            heights.append(sum(heights[a] for a in wire.args) / len(wire.args))
    for column in range(1, max(columns) + 1):
        members = sorted((i for i, c in enumerate(columns) if c == column), key=lambda i: -heights[i])
        for above, below in itertools.pairwise(members):
            if heights[above] - heights[below] < ROW:
                heights[below] = heights[above] - ROW
    return columns, heights


def circuit_context(step: Circuit, printer: Printer) -> dict[str, Any]:
    """The drawing's nodes, stubs and lines, every label LaTeX written by the sheet's printer."""
    columns, heights = layout(step)
    count = max(columns) + 1
    dx = max(COLUMN[0], min(COLUMN[1], WIDTH / (count + 0.5)))
    last = len(step.wires) - 1
    nodes, stubs, lines = [], [], []
    for i, wire in enumerate(step.wires):
        x, y = columns[i] * dx, heights[i]
        if wire.gate:
            text = _label(wire.gate, wire.constant, printer)
            # The wire a gate puts out is named above it (q_1, …), as the solution names it; f at the end.
            name = printer.symbol(wire.symbol) if i != last else ""
        else:
            text, name = printer.symbol(wire.symbol), ""
        node = {"id": f"n{i}", "x": _cm(x), "y": _cm(y), "gate": bool(wire.gate), "text": Latex(text)}
        nodes.append({**node, "name": Latex(name)})
        readers = [g for g, w in enumerate(step.wires) if i in w.args]
        stubs.append(
            {
                "source": f"n{i}",
                "id": f"s{i}",
                "x": _cm(x + STUB * dx),
                "y": _cm(y),
                "value": _number(wire.value, printer),
                "gradient": _number(wire.gradient, printer),
                "fans": len(readers) > 1,
                "output": i == last,
            }
        )
        lines += [{"source": f"s{i}", "target": f"n{g}"} for g in dict.fromkeys(readers)]
    return {
        "type": "circuit",
        "nodes": nodes,
        "stubs": stubs,
        "lines": lines,
        # (Not "values": a template would read a dict's method of that name.)
        "with_values": any(w.value is not None and w.gate for w in step.wires),
        "with_inputs": any(w.value is not None for w in step.wires),
        "with_gradients": any(w.gradient is not None for w in step.wires),
        "output": Latex(printer.symbol(step.wires[last].symbol)),
        # A drawing wider than the line is scaled to it, its text with it (transform shape).
        "scale": Data(f"{min(1.0, WIDTH / (count * dx)):.3f}"),
    }


def _cm(value: float) -> Data:
    return Data(f"{value + 0.0:.3f}")  # + 0.0: no -0.000


def _label(gate: str, constant: Any, printer: Printer) -> str:
    """The gate's label; its constant as written (a negative one in brackets, subtracted after +)."""
    label = GATES[gate].label
    if constant is None:
        return label
    if gate == "shift" and constant < 0:
        return "- " + printer.as_written(-constant)
    text = printer.as_written(constant)
    return label.replace("#", rf"({text})" if constant < 0 and gate == "scale" else text)


def _number(q: Quantity | None, printer: Printer) -> Latex:
    """A wire's number: an integer or a given as it is, any other value as its decimal."""
    if q is None:
        return Latex("")
    if q.formula is None:
        return Latex(printer.shown(q))
    if q.exact.is_Integer:
        return Latex(printer.inline(q.exact))
    return Latex(printer.decimal(q.approx))
