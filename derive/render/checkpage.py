"""The student's self-check page (``STEM-check.html``): one self-contained HTML file with a field for
every asked value, in the sheet's order and notation, that marks each entry right, right given the
student's earlier values (error carried forward), or wrong, in the browser alone.

The maths is MathML, made here from the LaTeX the sheet's printer writes (so every name, index and
decimal mark is the sheet's), by latex2mathml: browsers render MathML themselves, so the page needs no
math library and fetches nothing. The formulas the page evaluates are printed to JavaScript from the
same formula trees by :class:`derive.render.carried.JsPrinter`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from derive.maths.steps import Solution
from derive.render.carried import Program, javascript
from derive.render.templates import CompiledTemplates, template_dirs
from derive.terms.formula import Quantity
from derive.tex.printer import ATOM, Printer
from derive.tex.style import Style

SLOT = "@{}@"
"""The text a substituted value stands as in a formula's MathML, until the page fills in the student's."""


class _Slots(Printer):
    """The sheet's printer, writing each substituted quantity as a numbered slot the page fills in."""

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.slots: list[Quantity] = []

    def value(self, q: Quantity) -> str:
        if q.formula is None:
            return super().value(q)  # a given is the sheet's number, whatever the student entered
        self.slots.append(q)
        return rf"\text{{{SLOT.format(len(self.slots) - 1)}}}"

    def value_precedence(self, q: Quantity) -> int:
        # The page brackets a negative number itself; a given is bracketed as the sheet does.
        return super().value_precedence(q) if q.formula is None else ATOM


@functools.lru_cache(maxsize=4096)
def mathml(latex: str) -> Markup:
    """The MathML of a formula the sheet's printer wrote (kept: a sheet writes half its formulas twice
    or more, and a watched sheet's rebuild most of them again)."""
    from latex2mathml.converter import convert  # the page's alone: imported after TeX has the sheets (30 ms)

    try:
        text = convert(latex)
    except Exception:  # a user's notation that latex2mathml does not know: the LaTeX, as text
        return Markup("<math><mtext>{}</mtext></math>").format(latex)
    # latex2mathml writes the MathML namespace on every <math>; in HTML the element alone is MathML.
    return Markup(text.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "", 1))


def page_context(solution: Solution, style: Style, document: dict[str, Any]) -> dict[str, Any]:
    """What ``check.html.j2`` shows: the parts with their givens and asked values (MathML), and the
    data its script works from (the cells, their JavaScript formulas, the decimal mark)."""
    program = Program.of(solution, style.places, document)
    formulas, functions = javascript(program)
    printers: dict[int | None, Printer] = {}
    for part in solution.parts:
        printers[part.number] = style.for_part(part.part).printer(part.network or solution.spec.network)
    plain = style.printer(solution.spec.network)
    parts: dict[int | None, dict[str, Any]] = {
        p.number: {"number": p.number, "title": p.part.title, "fields": [], "givens": []} for p in solution.parts
    }
    givens: list[dict[str, Any]] = []
    # The givens the asked values are worked out from, also through values not asked (a circuit's
    # bias reaches ∂f/∂w only through the sums between): the page states them.
    used = set().union(*(cell.quantity.givens() for cell in program.asked if cell.formula is not None))
    fields = []
    for i, cell in enumerate(program.cells):
        printer = printers.get(cell.part, plain)
        q = cell.quantity
        if cell.formula is None and (cell.key in used or cell.part is None):
            given = {"math": mathml(f"{printer.symbol(q.symbol)} = {printer.shown(q)}")}
            (parts[cell.part]["givens"] if cell.part in parts else givens).append(given)
        if not cell.asked:
            continue
        symbol = printer.symbol(q.symbol)
        slots = _Slots({"look": printer.look, "substitute": True})
        substituted = slots._print(cell.formula) if cell.formula is not None else ""
        field = {
            "index": i,
            "key": cell.key,
            "symbol": mathml(symbol),
            "formula": mathml(f"{symbol} = {printer.formula(cell.formula)}") if cell.formula is not None else "",
            "substituted": mathml(f"{symbol} = {substituted}") if cell.formula is not None else "",
            "slots": [program.index.get(s.key, -1) for s in slots.slots],
        }
        fields.append(field)
        if cell.part in parts:
            parts[cell.part]["fields"].append(field)
    data = {
        "cells": [
            {
                "a": cell.asked,
                "v": _finite(cell.value),
                "t": cell.tolerance,
                "c": None if cell.carry is None else [cell.carry.digits, cell.carry.significant],
            }
            for cell in program.cells
        ],
        "fields": [{"i": f["index"], "key": f["key"], "slots": f["slots"]} for f in fields],
        "mark": style.decimal_mark,
    }
    data_text = json.dumps(data, separators=(",", ":"))
    return {
        "language": style.language,
        "title": solution.spec.sheet.title,
        "subtitle": solution.spec.sheet.subtitle,
        "exercise": f"{solution.spec.name}-exercise.pdf",
        "example": f"0{style.decimal_mark}25",
        "givens": givens,
        "parts": [p for p in parts.values() if p["fields"]],
        "data": Markup(data_text.replace("</", "<\\/")),  # JSON inside <script>: no "</" ends it
        "formulas": Markup(_formulas(formulas)),
        "functions": Markup("\n".join(functions)),
        "storage": "derive-check-" + hashlib.sha256(data_text.encode()).hexdigest()[:16],
    }


def _finite(value: float) -> float | str:
    """JSON has no ∞: an infinite value (a loss of log 0) as the string JavaScript's Number() reads."""
    return value if value == value and abs(value) != float("inf") else str(value).replace("inf", "Infinity")


_SAFE = re.compile(r"^[\w\s.+\-*/(),<>=?:\[\]]*$")
"""What a printed formula is made of: names, numbers, operators and brackets (never a quote or a tag)."""


def _formulas(formulas: Sequence[str | None]) -> str:
    """The cells' formulas as one JavaScript array of functions of ``v`` (null for a given)."""
    for text in formulas:
        if text is not None and not _SAFE.match(text):
            raise ValueError(f"a printed formula has characters a script must not hold: {text[:60]!r}")
    return "[\n" + ",\n".join("null" if f is None else f"(v) => {f}" for f in formulas) + "\n]"


@functools.lru_cache(maxsize=4)
def _environment(extra: tuple[Path, ...], compiled: Path | None) -> jinja2.Environment:
    env = jinja2.Environment(
        bytecode_cache=CompiledTemplates(compiled) if compiled is not None else None,  # as the sheets'
        loader=jinja2.FileSystemLoader([str(p) for p in template_dirs(extra)]),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def check_page(
    solution: Solution,
    style: Style,
    document: dict[str, Any],
    extra_templates: Sequence[Path] = (),
    compiled: Path | None = None,
) -> str:
    """The self-check page of ``solution`` as HTML (``document``: its answers; ``compiled``: the
    folder of compiled templates, see :func:`derive.render.templates.environment`)."""
    env = _environment(tuple(extra_templates), compiled)
    words = env.get_template(f"lang/{style.language}.html.j2").module
    return env.get_template("check.html.j2").render(page_context(solution, style, document), t=words)
