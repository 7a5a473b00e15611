"""Machine-readable answers: every quantity with a stable name, its exact value, LaTeX and float,
whether its part asks for it (the answer key) and the tolerance of its shown decimal.

The document's form is versioned (``format``, ``version``) and described by the JSON Schema
``derive/schema/answers.schema.json`` (docs/schema.md); its keys stay, new ones come with a new version."""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sympy as sp

from derive.exercise.exercises import key_prefix
from derive.maths.steps import Solution
from derive.terms.formula import (
    Apply,
    Difference,
    Log,
    Negate,
    Node,
    Num,
    Power,
    Product,
    Quantity,
    Quotient,
    Ref,
    Rule,
    Slope,
    Sqrt,
    Sum,
    identifier,
    small,
)
from derive.terms.remembered import RememberedStr
from derive.tex.decimals import shown, significant, written
from derive.tex.printer import Printer, exact_text, is_exact
from derive.tex.style import Style

EXACT_NODES = 400
"""Largest closed form (in expression nodes) written out; longer values are given by formula."""
FORMAT = "derive-answers"
VERSION = 2
"""The answers document's version: 1 added ``format``, ``version`` and each quantity's ``asked`` and ``tolerance``;
2 added ``points`` (the sheet's total), ``parts`` (each part's points) and each quantity's ``points`` (its part's)."""


def formula_text(node: Node, prefix: str = "") -> str:
    """The formula over earlier quantities, as a SymPy expression string in their identifiers (their
    keys after ``prefix``: an exercise's ``e2.`` on a sheet of several).

    Written directly from the tree (every operation bracketed): building SymPy objects only to
    print them cost more than all the rest of the answers.
    """
    if isinstance(node, Ref):
        return identifier(prefix + node.q.key)
    if isinstance(node, Num):
        return f"({number_text(node.value)})"
    if isinstance(node, Sum):
        return "(" + " + ".join(formula_text(t, prefix) for t in node.terms) + ")"
    if isinstance(node, Product):
        return "(" + "*".join(formula_text(f, prefix) for f in node.factors) + ")"
    if isinstance(node, Difference):
        return f"({formula_text(node.left, prefix)} - {formula_text(node.right, prefix)})"
    if isinstance(node, Power):
        return f"({formula_text(node.base, prefix)}**{node.exponent})"
    if isinstance(node, Negate):
        return f"(-{formula_text(node.arg, prefix)})"
    if isinstance(node, Quotient):
        return f"({formula_text(node.num, prefix)}/{formula_text(node.den, prefix)})"
    if isinstance(node, Log):
        return f"log({formula_text(node.arg, prefix)})"
    if isinstance(node, Sqrt):
        return f"sqrt({formula_text(node.arg, prefix)})"
    if isinstance(node, Apply):
        return _rule_text(node.function.rule).replace(_ARG, formula_text(node.arg, prefix))
    if isinstance(node, Slope):
        return _rule_text(node.rule).replace(_ARG, formula_text(node.arg, prefix))
    if isinstance(node, Rule):
        names = [sp.Symbol(f"_a{i}") for i in range(len(node.args))]
        text = sp.sstr(node.rule(*names))
        for name, arg in zip(names, node.args, strict=True):
            text = text.replace(str(name), f"({formula_text(arg, prefix)})")
        return text
    raise TypeError(f"no answer form for formula node {type(node).__name__}")


_ARG = "ARGUMENT"


def number_text(value: sp.Expr, ordered: bool = True) -> str:
    """``sympy.sstr`` of a value (its terms as they stand unless ``ordered``), written directly for
    the integers and fractions most values are (SymPy's printer was half the time of the answers)."""
    if value.is_Integer:
        return str(int(value))
    if value.is_Rational:
        return f"{value.p}/{value.q}"
    return _ORDERED.doprint(value) if ordered else _AS_THEY_STAND.doprint(value)


_ORDERED, _AS_THEY_STAND = RememberedStr({}), RememberedStr({"order": "none"})


@functools.cache
def _rule_text(rule: Callable[[sp.Expr], sp.Expr]) -> str:
    """A catalogue rule as SymPy text with a placeholder argument, e.g. 1/(exp(-(ARGUMENT)) + 1)."""
    return sp.sstr(rule(sp.Symbol("_a"))).replace("_a", f"({_ARG})")


def tolerance(value: sp.Float | float, places: int) -> float | None:
    """Half a unit in the last place the sheet shows ``value`` with (its decimal rounded half up to
    ``places``, or to that many significant figures): an answer within it rounds to the same decimal."""
    return _tolerance(shown(value, places))


def _tolerance(number: Decimal | None) -> float | None:
    if number is None:
        return None
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # shown() gives finite numbers
    return float(Decimal(5).scaleb(exponent - 1))


def entry(
    q: Quantity,
    part: int | None,
    places: int,
    printer: Printer | None = None,
    asked: bool = False,
    points: sp.Rational | None = None,
    prefix: str = "",
) -> dict[str, Any]:
    """A quantity's answer; ``printer`` writes its symbol in the sheet's notation (a decimal point always):
    a printer of names (``printer.but(substitute=False, oriented=False)``), made once for all entries;
    ``prefix`` leads its key and those it uses (an exercise's ``e2.`` on a sheet of several)."""
    names = printer or Printer().but(substitute=False, oriented=False)
    short = is_exact(q.exact) and small(q.exact, EXACT_NODES)
    text, number = written(q.approx, places)  # the decimal and the number it shows, worked out once
    return {
        "name": prefix + q.key,
        "id": identifier(prefix + q.key),
        "part": part,
        "symbol": names.doprint(q.symbol),
        "exact": number_text(q.exact, ordered=False) if short else None,
        "latex": exact_text(q.exact) if short else None,
        "float": float(q.approx) if math.isfinite(float(q.approx)) else None,  # JSON has no ∞
        "decimal": text,
        "formula": formula_text(q.formula, prefix) if q.formula is not None else None,
        "uses": [prefix + key for key in q.uses],
        "asked": asked,
        "tolerance": _tolerance(number),
        "points": points_number(points),
    }


def points_number(points: sp.Rational | None) -> int | float | None:
    """Points as JSON writes them: 4, 2.5 (halves are exact in binary), or None for no points."""
    if points is None:
        return None
    return int(points) if points.is_Integer else float(points)


def answers(solution: Solution, places: int, exercise: int | None = None) -> dict[str, Any]:
    """The answers document: every quantity once, in the order of the sheet; ``exercise``: the
    solution's number on a sheet of several, which prefixes its keys (``e2.p3.L``) and marks its
    quantities (:func:`derive.render.several.answers_of`)."""
    # Machine-readable: the sheet's names and notation, but a decimal point, whatever the language.
    printer = Style(notation=solution.spec.sheet.notation).printer(solution.spec.network)
    names = printer.but(substitute=False, oriented=False)  # what Printer.symbol makes for each symbol
    listed = list(solution.quantities())
    asked: set[str] = set().union(*solution.asked().values())
    part_places: dict[int | None, int] = {None: places}
    for part in solution.parts:
        # A part's own decimals, as its sheet shows them (Style.for_part).
        part_places[part.number] = places if part.part.decimals is None else part.part.decimals
    prefix = "" if exercise is None else key_prefix(exercise)
    points: dict[int | None, sp.Rational | None] = {p.number: p.points for p in solution.spec.parts}
    quantities = [
        entry(
            q,
            q.scope.number,
            part_places.get(q.scope.number, places),
            names,
            q.key in asked,
            points.get(q.scope.number),
            prefix,
        )
        for q in listed
    ]
    if exercise is not None:
        quantities = [{**q, "exercise": exercise} for q in quantities]
    given = [p.points for p in solution.spec.parts if p.points is not None]
    return {
        "format": FORMAT,
        "version": VERSION,
        "spec": solution.spec.name,
        "title": solution.spec.sheet.title,
        "decimals": places,
        "significant": significant(places),  # decimals counts significant figures
        # "student": every computed value is rounded to decimals as computed, exact the rounded value
        "rounding": solution.spec.sheet.rounding,
        "note": "exact is a SymPy expression string (null when too long: then formula, over the ids of uses, is exact)",
        "points": points_number(sp.Rational(sum(given))) if given else None,
        "parts": [
            {"part": p.number, "kind": p.kind.name, "title": p.title, "points": points_number(p.points)}
            for p in solution.spec.parts
        ],
        "quantities": quantities,
    }


def answers_json(solution: Solution, places: int, document: dict[str, Any] | None = None) -> str:
    """The answers as JSON (``document``: an :func:`answers` result already made)."""
    return indented(document or answers(solution, places)) + "\n"


def indented(value: Any, margin: str = "") -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, the same text written directly: the json
    module's indenting encoder is its pure-Python one, a quarter of a wide network's answers."""
    scalar = _SCALARS.get(type(value))
    if scalar is not None:
        return scalar(value)
    inner = margin + "  "
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        if not value:
            return "{}"
        items = (
            f"{inner}{_STRING(k)}: {_SCALARS[type(v)](v) if type(v) in _SCALARS else indented(v, inner)}"
            for k, v in value.items()
        )
        return "{\n" + ",\n".join(items) + f"\n{margin}}}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + indented(v, inner) for v in value) + f"\n{margin}]"
    if isinstance(value, str):
        return _STRING(value)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, int):
        return int.__repr__(value)
    # Anything else (a dict with other keys): as json writes it, or refuses it.
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + margin)


_STRING: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]
"""A JSON string as ``ensure_ascii=False`` writes it (the C encoder where there is one)."""


def _number(value: float) -> str:
    """A float as json writes it (NaN and Infinity as JavaScript's, as ``allow_nan`` does)."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


_SCALARS: dict[type, Callable[[Any], str]] = {
    str: _STRING,
    float: _number,
    int: int.__repr__,
    bool: lambda value: "true" if value else "false",
    type(None): lambda value: "null",
}
"""The JSON of the exact types most values have (subclasses, such as Digits, go the long way)."""


CSV_COLUMNS = (
    *("name", "id", "part", "symbol", "exact", "latex", "float", "decimal", "formula", "uses"),
    *("asked", "tolerance"),  # new in version 1: at the end, so that the columns before stay where they were
    "points",  # new in version 2: its part's points
)


EXERCISE_COLUMN = "exercise"
"""The number of a quantity's exercise: a field and a last column on a sheet of several exercises only."""


def answers_csv(solution: Solution, places: int, document: dict[str, Any] | None = None) -> str:
    """The answers as CSV, one row per quantity, for spreadsheets (``uses`` joined by spaces)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    document = document or answers(solution, places)
    # A sheet of several exercises adds their number as the last column (the others stay where they were).
    columns = (*CSV_COLUMNS, EXERCISE_COLUMN) if "exercises" in document else CSV_COLUMNS
    writer.writerow(columns)
    for row in document["quantities"]:
        cells = {**row, "uses": " ".join(row["uses"]), "asked": str(row["asked"]).lower()}  # as JSON writes it
        writer.writerow(["" if cells[c] is None else cells[c] for c in columns])
    return buffer.getvalue()
