"""Where the network drawing puts its units and edges, and what each one carries.

The template (``steps/diagram.tex.j2``) only writes TikZ for what this module lays out: its
coordinates arrive as finished numbers, its labels as finished LaTeX.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from derive.maths.steps import Diagram
from derive.terms.formula import Quantity
from derive.terms.keys import symbol_of
from derive.terms.symbols import Sym
from derive.tex.decimals import Digits
from derive.tex.printer import Data, Latex, Printer, exact_text, is_exact

MAX_UNITS = 6
"""Most units a column shows; a wider layer shows its first three and last two around a ⋮."""
MAX_LABELLED_EDGES = 6
"""Most edges between two columns that still carry their values legibly."""
WIDTH_CM = 14.0
"""Widest drawing (the text is 16.6 cm wide); columns move closer for a deep network."""
GAP_CM = 3.6
"""Distance between columns when the edges carry labels; 2.4 cm when they do not."""
ROW_CM = 1.45
LABEL_FIGURES = 4
"""Most significant figures a computed value in a drawing shows (fewer where the sheet shows fewer)."""
LABEL_CM = (0.9, 0.32)
"""About how wide and high an edge's label is, to keep labels apart and off the crossings of edges."""
POSITIONS = tuple(round(0.15 + 0.05 * i, 2) for i in range(15))
"""Where along an edge its label may sit (0 at the source, 1 at the target)."""


MAX_DRAWN_LAYERS = 6
"""Most layers a drawing shows; a deeper network shows its first three and last two around a ⋯."""


def shown_columns(count: int) -> list[int | None]:
    """The columns (0 the input, l layer l) a drawing of ``count`` columns draws, None where the ⋯
    stands: a hundred layers drawn side by side would be a hundred overlapping circles."""
    if count <= MAX_DRAWN_LAYERS + 1:
        return list(range(count))
    return [0, 1, 2, 3, None, count - 2, count - 1]


def shown_units(count: int) -> list[int | None]:
    """The 1-based unit numbers a column draws, None where the ⋮ stands."""
    if count <= MAX_UNITS:
        return list(range(1, count + 1))
    return [1, 2, 3, None, count - 1, count]


def _unit_symbol(column: int, unit: int, widths: tuple[int, ...], printer: Printer) -> str:
    size = widths[column]
    if column == 0:
        return printer.symbol(symbol_of("x", None, size, unit))
    if printer.look.neurons is not None:
        return printer.look.neurons.unit(column, unit)  # h_1, o_2: the units' own names
    if column == len(widths) - 1:
        return printer.symbol(symbol_of("yhat", None, size, unit))
    return printer.symbol(symbol_of("a", column, size, unit))


def _given(q: Quantity, printer: Printer) -> str:
    """A given parameter as written in the spec (1/2, -3; 0.15 on a decimals-only sheet); a long one
    as a decimal."""
    text = exact_text(q.exact, limit=16) if is_exact(q.exact) else None  # - \frac{1}{3}: 13
    return printer.given(q.exact) if text is not None else printer.decimal(q.approx)


def _value(q: Quantity, kind: str, printer: Printer) -> str:
    if kind == "network":
        return _given(q, printer)
    # A computed value as a short decimal: a label of nine places cannot be read between arrows.
    figures = Digits(max(min(int(printer.look.places), LABEL_FIGURES), 1), significant=True)
    return printer.but(look=replace(printer.look, exact=False, places=figures)).shown(q)


Point = tuple[float, float]


def _at(source: Point, target: Point, pos: float) -> Point:
    return source[0] + (target[0] - source[0]) * pos, source[1] + (target[1] - source[1]) * pos


def _crossings(source: Point, target: Point, others: list[tuple[Point, Point]]) -> list[float]:
    """Where along a straight edge the other straight edges between the same columns cross it."""
    found = []
    for s, t in others:
        slope = (target[1] - source[1]) - (t[1] - s[1])
        if s != source and t != target and abs(slope) > 1e-9:
            pos = (s[1] - source[1]) / slope
            if 0 < pos < 1:
                found.append(pos)
    return found


def _placed(source: Point, target: Point, others: list[tuple[Point, Point]], taken: list[Point]) -> float:
    """The position along an edge for its label farthest from where other edges cross it and from
    the labels already placed (distances measured in label sizes), near the middle on ties."""
    length = max(abs(target[0] - source[0]), 1e-9)
    crossings = _crossings(source, target, others)

    def clearance(pos: float) -> tuple[float, float]:
        x, y = _at(source, target, pos)
        along = min((abs(pos - c) * length / LABEL_CM[0] * 2 for c in crossings), default=9.0)
        apart = min((max(abs(x - u) / LABEL_CM[0], abs(y - v) / LABEL_CM[1]) for u, v in taken), default=9.0)
        return min(along, apart, 2.0), -abs(pos - 0.4)

    return max(POSITIONS, key=clearance)


def _row_y(units: list[int | None], unit: int) -> float:
    """The height of a unit in its column (the column is centred on 0)."""
    return ((len(units) - 1) / 2 - units.index(unit)) * ROW_CM


def _path(source: int, target: int, height: float) -> str:
    """A straight edge between neighbouring columns; a skip connection arcs around the columns
    between, above them from the upper half and below them from the lower half."""
    if target - source == 1:
        return "--"
    return f"to[bend {'left' if height >= 0 else 'right'}={min(20 + 10 * (target - source), 45)}]"


def diagram_context(step: Diagram, printer: Printer) -> dict[str, Any]:
    """Nodes (id, position, symbol, label) and edges (ends, label) of one drawing."""
    widths = tuple(len(column) for column in step.columns)
    shown = [shown_units(width) for width in widths]
    reads = step.reads or tuple((c - 1,) for c in range(1, len(widths)))
    if step.reads and len(widths) > MAX_DRAWN_LAYERS + 1:
        # Skip connections arc over the layers between: a deep network with them is not drawn.
        return {"type": "diagram", "show": False}
    columns = shown_columns(len(widths))
    drawn = [c for c in columns if c is not None]
    links = [(c, s) for c in drawn[1:] for s in reads[c - 1] if s in drawn]
    labelled = bool(step.edges) and all(
        len(shown[s]) * len(shown[c]) <= MAX_LABELLED_EDGES and None not in shown[s] + shown[c] for c, s in links
    )
    if step.kind == "gradients" and not labelled:
        # Unlabelled, a gradient drawing is the plain network again: leave it out.
        return {"type": "diagram", "show": False}
    neuron = printer.look.neurons is not None
    gap = min(GAP_CM if labelled else 2.4, WIDTH_CM / max(len(columns) - 1, 1))
    nodes: list[dict[str, Any]] = []
    for place, c in enumerate(columns):
        if c is None:
            # The layers left out: one ⋯ between the columns beside it, saying how many.
            nodes.append(
                {
                    "id": Data("layers"),
                    "x": Data(f"{place * gap:.2f}"),
                    "y": Data("0.00"),
                    "dots": True,
                    "across": True,
                    "input": False,
                    "text": Latex(""),
                    "label": Latex(""),
                    "more": str(len(widths) - len(drawn)),
                }
            )
            continue
        units = shown[c]
        top = (len(units) - 1) / 2
        for row, unit in enumerate(units):
            y = (top - row) * ROW_CM
            node: dict[str, Any] = {
                "id": Data(f"n{c}-{unit or 0}"),
                "x": Data(f"{place * gap:.2f}"),
                "y": Data(f"{y:.2f}"),
                "dots": unit is None,
                "across": False,
                "input": c == 0,
            }
            if unit is None:
                node.update(text=Latex(""), label=Latex(""), more=str(widths[c] - 5))
            else:
                value = step.columns[c][unit - 1]
                label = ""
                if value is not None:
                    label = _value(value, "forward", printer)
                elif c > 0 and step.units and step.units[c - 1]:  # a layer without a bias shows none
                    label = _value(step.units[c - 1][unit - 1], step.kind, printer)
                if label and step.kind == "network" and neuron and value is None:
                    label = f"{printer.symbol(symbol_of('b', c, widths[c], unit))} = {label}"  # b_1 = 0.35
                node.update(text=Latex(_unit_symbol(c, unit, widths, printer)), label=Latex(label), more="")
            nodes.append(node)
    edges: list[dict[str, Any]] = []
    at = {n["id"]: (float(n["x"]), float(n["y"])) for n in nodes}

    def straight(s: int, c: int) -> list[tuple[Point, Point]]:
        """The straight edges from column s to column c (their ends)."""
        return [
            (at[f"n{s}-{k}"], at[f"n{c}-{j}"]) for j in shown[c] if j is not None for k in shown[s] if k is not None
        ]

    taken: list[Point] = []
    for c in drawn[1:]:
        offset = 0  # where the source's columns start in the layer's W (its sources are stacked)
        for s in reads[c - 1]:
            if s not in drawn:
                # Into the first layer after the ⋯: its edges come from the ⋯ (drawn below).
                offset += widths[s]
                continue
            for j in (u for u in shown[c] if u is not None):
                for k in (u for u in shown[s] if u is not None):
                    value = step.edges[c - 1][j - 1][offset + k - 1] if labelled else None
                    label = _value(value, step.kind, printer) if value is not None else ""
                    if label and step.kind == "network" and neuron:
                        # Neuron notation numbers the weights: the drawing says which is which (the
                        # values are listed beside it; both on a short edge would overlap).
                        label = printer.symbol(Sym("w", c, (j, offset + k)))
                    pos = 0.2 + 0.3 * shown[c].index(j) / max(len(shown[c]) - 1, 1)  # a skip's arc
                    source, target = at[f"n{s}-{k}"], at[f"n{c}-{j}"]
                    if label and c - s == 1:
                        # A label sits where no other edge crosses its own and apart from the others'.
                        pos = _placed(source, target, straight(s, c), taken)
                        taken.append(_at(source, target, pos))
                    edges.append(
                        {
                            "source": Data(f"n{s}-{k}"),
                            "target": Data(f"n{c}-{j}"),
                            "path": Data(_path(s, c, _row_y(shown[s], k) + _row_y(shown[c], j))),
                            "label": Latex(label),
                            "pos": Data(f"{pos:.2f}"),
                        }
                    )
            offset += widths[s]
    if None in columns:
        # The ⋯ between the layers left out, joined to the columns beside it.
        before, after = columns[columns.index(None) - 1], columns[columns.index(None) + 1]
        assert before is not None and after is not None
        ends = [(f"n{before}-{k}", "layers") for k in shown[before] if k is not None]
        ends += [("layers", f"n{after}-{j}") for j in shown[after] if j is not None]
        for start, end in ends:
            path = Data("--")
            edges.append(
                {"source": Data(start), "target": Data(end), "path": path, "label": Latex(""), "pos": Data("0.50")}
            )
    return {
        "type": "diagram",
        "show": True,
        "kind": step.kind,
        "of": Latex(printer.symbol(step.of)),
        "labelled": labelled,
        "neuron": neuron,
        "nodes": nodes,
        "edges": edges,
    }
