"""What each step type gives its template (``steps/<type>.tex.j2``): LaTeX written by the sheet's
printer, dispatched on the step's type; an unknown type stops the build."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import singledispatch
from typing import Any

from derive.maths.general import display_only
from derive.maths.steps import (
    Algebra,
    Cell,
    ChainRule,
    Circuit,
    Claim,
    Compute,
    Diagram,
    Expanded,
    Finding,
    Given,
    Identity,
    Limits,
    Plot,
    Recall,
    Step,
    Table,
    Values,
    Word,
)
from derive.render.circuit import circuit_context
from derive.render.diagram import diagram_context
from derive.render.reproduce import worked
from derive.terms.formula import Apply, Derivative, Node, Product, Quantity, Quotient, Ref, Rule, Sum, Tensor
from derive.terms.symbols import Partial, Sym, Symbolic
from derive.tex.decimals import terminating
from derive.tex.layout import bracketed, matrix, terms, whole, width
from derive.tex.printer import Data, Latex, Printer, exact_text, is_exact

LINE_WIDTH = 58
"""Printed characters of maths per line before a line of a derivation is broken."""
CONTINUED = 4
"""Printed width a continued row starts with (its indent)."""


@singledispatch
def step_context(step: Step, printer: Printer) -> dict[str, Any]:
    """The template context of one step; each step type has its own template in ``steps/``."""
    raise TypeError(f"no renderer for step type {type(step).__name__}")


@step_context.register
def _(step: Diagram, printer: Printer) -> dict[str, Any]:
    return diagram_context(step, printer)


@step_context.register
def _(step: Circuit, printer: Printer) -> dict[str, Any]:
    return circuit_context(step, printer)


def entries(step: Given, printer: Printer) -> list[Given]:
    """A given as the sheet states it: whole, or entry by entry in neuron style (w_1 = …, w_2 = …) and
    where it is too large to be written as one matrix (w_{1,1} = …, …, w_{1,60} = …)."""
    return step.one_by_one() if listed(step.symbol, step.entries, printer) else [step]


def listed(
    symbol: Symbolic,
    rows: Sequence[Sequence[Any]],
    printer: Printer,
    cells: Callable[[Sequence[Sequence[Any]], Printer], list[list[str]]] | None = None,
) -> bool:
    """Whether values of ``symbol`` are listed entry by entry: in neuron style (which writes no
    vectors), and where the matrix the sheet would write (its entries printed by ``cells``, as a
    given's by default) is too wide or too long for the page."""
    if printer.look.notation.neuron:
        return True
    text, shown = printer.listing(symbol, rows)
    if not whole(shown):
        return True
    # A matrix of long numbers (-3.290·10^{-19}, six to a row) may be too wide with fewer columns.
    measure = printer.but()  # its own record of approximations: this printing is only measured
    printed = cells(shown, measure) if cells else [[measure.shown(q) for q in row] for row in shown]
    return len(shown) * len(shown[0]) > 1 and width(text) + width(matrix(printed)) > LINE_WIDTH


@step_context.register
def _(step: Given, printer: Printer) -> dict[str, Any]:
    symbol, rows = printer.listing(step.symbol, step.entries)
    return {
        "type": "given",
        "symbol": Latex(symbol),
        "value": Latex(matrix([[printer.shown(q) for q in r] for r in rows])),
    }


@step_context.register
def _(step: Compute, printer: Printer) -> dict[str, Any]:
    general = substituted = None
    flip = printer.but(oriented=True).orients(step.symbol)  # a weight-shaped listing, as the sheet's matrix
    # The matrix-form line heads a vector's entries; neuron style writes the entries alone.
    if step.general is not None and len(step.entries) > 1 and not printer.look.notation.neuron:
        shown = _transposed(step.general) if flip else None
        # δ aᵀ becomes a δᵀ, whose matrices keep their own meaning; an elementwise formula (an update
        # rule) is a weight-shaped listing: all of it in the sheet's orientation.
        inner = flip and shown is None
        shown = shown or step.general
        general = Latex(printer.formula(shown, inner))
        text, approximated = printer.substituted(shown, inner)
        # f and f' of a whole vector are shown entry by entry below, not as f(matrix).
        if not _applies(step.general) and not approximated and width(text) <= LINE_WIDTH:
            substituted = Latex(text)
    order = _in_order(step, flip)
    lines = [line_context(q, printer) for q in order]
    return {
        "type": "compute",
        "number": step.number or 0,
        "layer": _layer(step),
        "symbol": Latex(printer.symbol(step.symbol, flip)),
        "general": general,
        "substituted": substituted,
        "rows": [row for rows, _ in lines for row in rows],
        # Per substituted line, whether its shown numbers give its shown result (counted by the build).
        "redone": [(q.key, redone) for q, (_, redone) in zip(order, lines, strict=True) if redone is not None],
    }


def _layer(step: Compute) -> int | None:
    """The layer a numbered backpropagation step works on, named in its label (steps 3 and 4 come
    once per layer): δ^{(l)}, ∂L/∂W^{(l)}, ∂L/∂b^{(l)}; step 5 goes back through layer l's weights
    to ∂L/∂a^{(l-1)} (to ∂L/∂x through layer 1). Step 1, the loss's derivative, has none."""
    symbol = step.symbol.den if isinstance(step.symbol, Partial) else step.symbol
    if step.number in (None, 1) or not isinstance(symbol, Sym):
        return None
    if step.number == 5:
        return symbol.layer + 1 if isinstance(symbol.layer, int) else 1
    return symbol.layer if isinstance(symbol.layer, int) else None


def _in_order(step: Compute, flip: bool) -> tuple[Quantity, ...]:
    """A matrix's entries row by row; shown transposed, row by row of the transpose."""
    rows, cols = step.shape
    if not flip or rows * cols != len(step.entries):
        return step.entries
    return tuple(step.entries[j * cols + k] for k in range(cols) for j in range(rows))


def _transposed(node: Node) -> Node | None:
    """A weight gradient's general formula as the sheet's W (its transpose) reads it: δ aᵀ as a δᵀ;
    None for any other formula."""
    if isinstance(node, Product) and len(node.factors) == 2:
        left, right = node.factors
        if isinstance(right, Tensor) and right.transpose:
            return Product((replace(right, transpose=False), _transpose(left)))
    return None


def _transpose(node: Node) -> Node:
    if isinstance(node, Tensor):
        return replace(node, transpose=not node.transpose)
    return Rule(r"#1^{\top}", display_only, (node,))  # (W^T δ ⊙ σ'(z))^T: bracketed as an atom


def _applies(node: Node) -> bool:
    return isinstance(node, Apply | Derivative) or any(_applies(child) for child in node.children())


def _is_copy(node: Node) -> bool:
    """A formula that only names another quantity (through at most an identity activation)."""
    return isinstance(node, Ref) or (isinstance(node, Apply) and node.function.call == "#" and _is_copy(node.arg))


def line_context(q: Quantity, printer: Printer) -> tuple[list[dict[str, Any]], bool | None]:
    """One scalar as display rows: symbol = formula = numbers substituted = exact result ≈ decimal,
    and whether the substituted line redoes (None: the value has no line to redo).

    When a substituted value had to be a decimal, the chain reads ≈ from there on and the exact
    result is restated on a row of its own, so no "=" ever joins a rounded and an exact value.
    """
    if q.formula is not None and _over_sum(q.formula) and width(printer.formula(q.formula)) > LINE_WIDTH:
        printer = printer.but(slashed=True)  # a fraction over a long sum, written so that it may break
    symbol_text = printer.symbol(q.symbol)
    result = printer.result(q)
    chain: list[tuple[str, str]] = []
    restated: list[tuple[str, str]] = []
    redone = None
    if q.formula is not None and _is_copy(q.formula):
        # ŷ = z^{(2)}, ∂L/∂b = δ: nothing to substitute, the value follows directly.
        chain.append(("=", printer.formula(q.formula)))
        chain.extend(result)
    elif q.formula is not None:
        chain.append(("=", printer.formula(q.formula)))
        line = worked(q, printer)
        text, approximated, redone = line.substitution.text, line.substitution.approximated, line.redoes
        if approximated:
            chain.append((r"\approx", text))
            if len(result) == 1 and result[0][0] == "=":
                restated = result  # an exact integer (ḡ = −1): it stands on a row of its own, with =
            else:
                chain.append((r"\approx", result[-1][1]))
                restated = result[:-1]
        else:
            chain.append(("=", text))
            chain.extend(result)
    else:
        chain.extend(result)
    rows = _wrap(symbol_text, _dedupe(symbol_text, chain))
    if restated:
        rows.extend(_wrap(symbol_text, restated))
    return rows, redone


def _over_sum(node: Node) -> bool:
    """Whether a formula has a fraction over a sum (softmax's e^{z_j} / Σ_k e^{z_k})."""
    return (isinstance(node, Quotient) and isinstance(node.den, Sum)) or any(_over_sum(c) for c in node.children())


def _dedupe(first: str, chain: list[tuple[str, str]]) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    previous = first
    for relation, text in chain:
        if text != previous:
            shown.append((relation, text))
            previous = text
    return shown


def _wrap(left: str, chain: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Break a chain of relations into rows that fit the line width; a sum too long for a row of its
    own breaks between its terms, each later row going on with the next term's sign."""
    rows: list[dict[str, Any]] = [{"left": Latex(left), "segments": []}]
    used = width(left)
    for relation, text in chain:
        size = width(text) + 2
        if rows[-1]["segments"] and used + size > LINE_WIDTH:
            rows.append({"left": Latex(""), "segments": []})
            used = CONTINUED
        pieces = terms(text) if used + size > LINE_WIDTH else [text]
        # A sum inside one bracket (a batch's mean, 1/8 (L_1 + … + L_8)) goes on over lines too: each
        # line's part of the bracket closes with an invisible \right. and opens with \left.
        split = bracketed(text) if len(pieces) == 1 and used + size > LINE_WIDTH else None
        inner = terms(split[1]) if split else []
        opened = split is not None and len(inner) > 1
        if split is not None and opened:
            pieces = [split[0] + r"\left(" + inner[0], *inner[1:]]
        shown = pieces[0]
        for piece in pieces[1:]:
            if used + width(shown) + width(piece) + 3 > LINE_WIDTH:
                rows[-1]["segments"].append((Latex(relation), Latex(shown + (r" \right." if opened else ""))))
                rows.append({"left": Latex(""), "segments": []})
                # The empty group makes the sign binary, as it is in the sum.
                relation, shown, used = r"\quad", (r"\left. " if opened else "") + "{} " + piece, CONTINUED
            else:
                shown += " " + piece
        if opened:
            shown += r" \right)"
        rows[-1]["segments"].append((Latex(relation), Latex(shown)))
        used += width(shown) + 2
    return rows


@step_context.register
def _(step: Recall, printer: Printer) -> dict[str, Any]:
    items = _items(step.items, printer)
    return {"type": "recall", "part": step.part, "entries": items, "lines": display_lines(items)}


Items = tuple[tuple[Any, tuple[tuple[Quantity, ...], ...]], ...]


def _items(values: Items, printer: Printer) -> list[dict[str, Any]]:
    """Each symbol = its value (a matrix, a vector as a column), without the derivation."""
    items = []
    for symbol, rows in _itemized(values, printer):
        text, shown = printer.listing(symbol, rows)
        writer = printer.but()  # its own record of whether a decimal stood in for an exact value
        value = matrix(_recalled(shown, writer))
        closed = any(not q.exact.is_Rational for row in shown for q in row)
        relation = r"\approx" if writer.approximated or closed else "="
        items.append({"symbol": Latex(text), "relation": Latex(relation), "value": Latex(value)})
    return items


def _recalled(rows: Sequence[Sequence[Quantity]], writer: Printer) -> list[list[str]]:
    """Recalled values as a listing prints them. A closed form such as 1/(1 + e^{-12500000/25000001})
    is listed as its decimal: a listing is read for the numbers (its derivation, with the exact form,
    is elsewhere)."""
    closed = any(not q.exact.is_Rational for row in rows for q in row)
    return [[writer.decimal(q.approx) if closed else writer.value(q) for q in row] for row in rows]


def display_lines(items: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """As many values per display line as fit; a long list breaks into several lines."""
    lines: list[list[dict[str, Any]]] = [[]]
    used = 0
    for item in items:
        size = width(item["symbol"]) + width(item["value"]) + 4
        if lines[-1] and used + size > LINE_WIDTH:
            lines.append([])
            used = 0
        lines[-1].append(item)
        used += size
    return lines


def _itemized(items: Items, printer: Printer) -> Items:
    """Recalled values whole, or entry by entry where the sheet lists them so (:func:`listed`)."""
    return tuple(
        item
        for symbol, rows in items
        for item in (
            [(q.symbol, ((q,),)) for row in rows for q in row]
            if listed(symbol, rows, printer, _recalled)
            else [(symbol, rows)]
        )
    )


@step_context.register
def _(step: Claim, printer: Printer) -> dict[str, Any]:
    return {
        "type": "claim",
        "symbol": Latex(printer.symbol(step.quantity.symbol)),
        "claimed": Latex(printer.inline(step.claimed)),
        "computed": Latex(printer.inline(step.quantity.exact)),
    }


@step_context.register
def _(step: Identity, printer: Printer) -> dict[str, Any]:
    return {"type": "identity", "latex": Latex(printer.pattern(step.pattern)), "prose": step.prose}


@step_context.register
def _(step: Expanded, printer: Printer) -> dict[str, Any]:
    flip = printer.but(oriented=True).orients(step.target)
    return {
        "type": "expanded",
        "target": Latex(printer.symbol(step.target, flip)),
        "formula": Latex(printer.formula((_transposed(step.formula) if flip else None) or step.formula)),
    }


@step_context.register
def _(step: Values, printer: Printer) -> dict[str, Any]:
    items = _items(((step.symbol, step.entries),), printer)
    return {"type": "values", "lines": display_lines(items)}


MANY_TICKS = 25
"""Most steps of a plot that each get a tick of their own."""
CELL_LIMIT = 36
"""Longest exact value (LaTeX characters) shown in a table cell; beside it always its decimal."""


def cell(value: Cell, printer: Printer, decimals_only: bool = False) -> dict[str, Any]:
    """A table cell: words, maths as shown, or a quantity's short exact form and its decimal."""
    blank = {"exact": Latex(""), "decimal": Latex(""), "word": "", "arg": ""}
    if isinstance(value, Word):
        return {**blank, "word": value.key, "arg": value.arg}
    if not isinstance(value, Quantity):
        return {**blank, "exact": Latex(printer.show(value))}
    if decimals_only or not printer.look.exact:
        shown = str(value.exact) if value.exact.is_Integer else printer.decimal(value.approx)
        return {**blank, "exact": Latex(shown)}
    exact = exact_text(value.exact, limit=CELL_LIMIT) if is_exact(value.exact) else None
    decimal = printer.decimal(value.approx)
    if exact is not None and (value.exact.is_Integer or exact == decimal):
        return {**blank, "exact": Latex(exact)}
    relation = "=" if terminating(value.exact, printer.look.places) is not None else r"\approx"
    return {**blank, "exact": Latex(exact or ""), "decimal": Latex(f"{relation} {decimal}" if exact else decimal)}


@step_context.register
def _(step: Table, printer: Printer) -> dict[str, Any]:
    return {
        "type": "table",
        "key": step.key,
        "header": [Latex(printer.show(h)) for h in step.header],
        "rows": [[cell(c, printer, step.decimals_only) for c in row] for row in step.rows],
    }


@step_context.register
def _(step: Plot, printer: Printer) -> dict[str, Any]:
    series = []
    for curve in step.series:
        points = " ".join(f"({float(x):.6g},{float(y.approx):.8g})" for x, y in curve.points)
        series.append({"label": Latex(printer.show(curve.label)), "points": Data(points)})
    return {
        "type": "plot",
        "key": step.key,
        "xlabel": Latex(printer.show(step.xlabel)),
        "ylabel": Latex(printer.show(step.ylabel)),
        "series": series,
        "log_y": step.log_y,
        "log_x": step.log_x,
        # Points at a few whole steps 0, 1, 2, …: ticks at the steps only (no 0.5 between two steps);
        # a long run's hundreds of steps keep pgfplots' own ticks.
        "steps": not step.log_x
        and all(x.is_Integer for curve in step.series for x, _ in curve.points)
        and all(len(curve.points) <= MANY_TICKS for curve in step.series),
    }


@step_context.register
def _(step: Algebra, printer: Printer) -> dict[str, Any]:
    lines = [
        {"left": Latex(printer.show(left)), "right": [Latex(printer.show(r)) for r in rights]}
        for left, rights in step.lines
    ]
    return {"type": "algebra", "key": step.key, "lines": lines}


@step_context.register
def _(step: Limits, printer: Printer) -> dict[str, Any]:
    rows = [
        {
            "case": row.case,
            "condition": Latex(printer.show(row.condition)),
            "expression": Latex(printer.show(row.expression)),
            "limit": Latex(rf"\lim_{{{row.variable} \to {row.point}^{{{row.side}}}}}"),
            "value": Latex(printer.show(row.value)),
        }
        for row in step.rows
    ]
    return {"type": "limits", "rows": rows}


@step_context.register
def _(step: Finding, printer: Printer) -> dict[str, Any]:
    facts = {name: Latex(printer.show(value)) for name, value in step.facts}
    return {"type": "finding", "key": step.key, "facts": facts, "neuron": printer.look.notation.neuron}


@step_context.register
def _(step: ChainRule, printer: Printer) -> dict[str, Any]:
    target, factors, example = step.target, _bounded(step.factors), ""
    if printer.look.notation.neuron:
        # Neuron style numbers the entries, so the rule is shown for the layer's first one.
        target, factors = _first(target), tuple(_first(f) for f in factors)
        example = printer.symbol(target.den if isinstance(target, Partial) else target)
    return {
        "type": "chain",
        "target": Latex(printer.symbol(target)),
        "product": Latex(r" \, ".join(printer.symbol(f) for f in factors)),
        "example": Latex(example),
        "lines": [Latex(r" \, ".join(line)) for line in _rows([printer.symbol(f) for f in factors])],
    }


MAX_CHAIN = 7
"""Most factors a chain rule is written with (a network of three layers writes its first layer's in
full); a deeper one's leading factors stand as the one they multiply to (∂L/∂z^{(l+2)})."""


def _bounded(factors: tuple[Symbolic, ...]) -> tuple[Symbolic, ...]:
    """A chain of at most MAX_CHAIN factors: ∂L/∂ŷ ∂ŷ/∂z^{(100)} … ∂z^{(3)}/∂a^{(2)} … is ∂L/∂z^{(3)}
    ∂z^{(3)}/∂a^{(2)} …: the product of a chain's leading factors is the partial of its first
    numerator by their last denominator, and a 100-layer network's chain rules stay a line each."""
    head, tail = factors[: -(MAX_CHAIN - 2)], factors[-(MAX_CHAIN - 2) :]
    first, last = head[0] if head else None, tail[0]
    if len(factors) <= MAX_CHAIN or not isinstance(first, Partial) or not isinstance(last, Partial):
        return factors
    return (Partial(first.num, last.num), *tail)


def _rows(factors: list[str]) -> list[list[str]]:
    """A product's factors in as many display lines as keep each within the line width."""
    lines: list[list[str]] = [[]]
    for factor in factors:
        if lines[-1] and width(" ".join([*lines[-1], factor])) > LINE_WIDTH:
            lines.append([])
        lines[-1].append(factor)
    return lines


def _first(symbol: Symbolic) -> Symbolic:
    """A generic entry at index 1: ∂L/∂w_{j,k} as ∂L/∂w_{1,1}, a_i as a_1."""
    if isinstance(symbol, Partial):
        return Partial(_first(symbol.num), _first(symbol.den))  # type: ignore[arg-type]
    if isinstance(symbol, Sym):
        return replace(symbol, index=tuple(1 if isinstance(i, str) else i for i in symbol.index))
    return symbol
