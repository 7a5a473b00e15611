"""Machine-readable answers: every quantity with a stable name, its exact value, LaTeX and float."""

from __future__ import annotations

import json
import math
from typing import Any

import sympy as sp

from derive import latex
from derive.formula import (
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
    Slope,
    Sqrt,
    Sum,
    identifier,
    small,
)
from derive.steps import Solution

EXACT_NODES = 400
"""Largest closed form (in expression nodes) written out; longer values are given by formula."""


def formula_text(node: Node) -> str:
    """The formula over earlier quantities, as a SymPy expression string in their identifiers."""
    names = {q.key: sp.Symbol(identifier(q.key)) for q in node.refs()}
    expr = _symbolic(node, names)
    return sp.sstr(expr, order="none")  # the default term ordering costs more than the whole formula


def _symbolic(node: Node, names: dict[str, sp.Symbol]) -> sp.Expr:
    if isinstance(node, Ref):
        return names[node.q.key]
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Sum):
        return sp.Add(*(_symbolic(t, names) for t in node.terms))
    if isinstance(node, Product):
        return sp.Mul(*(_symbolic(f, names) for f in node.factors))
    if isinstance(node, Difference):
        return _symbolic(node.left, names) - _symbolic(node.right, names)
    if isinstance(node, Power):
        return _symbolic(node.base, names) ** node.exponent
    if isinstance(node, Apply):
        return node.function.rule(_symbolic(node.arg, names))
    if isinstance(node, Negate):
        return -_symbolic(node.arg, names)
    if isinstance(node, Quotient):
        return _symbolic(node.num, names) / _symbolic(node.den, names)
    if isinstance(node, Log):
        return sp.log(_symbolic(node.arg, names))
    if isinstance(node, Sqrt):
        return sp.sqrt(_symbolic(node.arg, names))
    if isinstance(node, Slope):
        return node.rule(_symbolic(node.arg, names))
    raise TypeError(f"no answer form for formula node {type(node).__name__}")


def entry(q: Quantity, part: int | None, places: int) -> dict[str, Any]:
    short = latex.is_exact(q.exact) and small(q.exact, EXACT_NODES)
    return {
        "name": q.key,
        "id": identifier(q.key),
        "part": part,
        "symbol": latex.symbol(q.symbol),
        "exact": sp.sstr(q.exact, order="none") if short else None,
        "latex": latex.exact_text(q.exact) if short else None,
        "float": float(q.approx) if math.isfinite(float(q.approx)) else None,  # JSON has no ∞
        "decimal": latex.decimal(q.approx, places),
        "formula": formula_text(q.formula) if q.formula is not None else None,
        "uses": list(q.uses),
    }


def answers(solution: Solution, places: int) -> dict[str, Any]:
    """The answers document: every quantity once, in the order of the sheet."""
    quantities = [entry(q, solution.part_of(q.key), places) for q in solution.quantities()]
    return {
        "spec": solution.spec.name,
        "title": solution.spec.sheet.title,
        "decimals": places,
        "note": "exact is a SymPy expression string (null when too long: then formula, over the ids of uses, is exact)",
        "quantities": quantities,
    }


def answers_json(solution: Solution, places: int) -> str:
    return json.dumps(answers(solution, places), indent=2, ensure_ascii=False) + "\n"
