"""The answers JSON: every quantity once, exact values that SymPy parses back."""

from __future__ import annotations

import json
from typing import Any

import sympy as sp

from derive.maths.steps import Solution
from derive.render.answers import answers_json, identifier
from derive.tex.printer import is_exact


def same_value(a: sp.Expr, b: sp.Expr) -> bool:
    """Equal as written, or equal to 30 digits (SymPy may regroup a sum when it parses it)."""
    return a == b or abs(sp.N(a - b, 30)) < sp.Float("1e-25")


def test_every_quantity_is_listed_once_with_parsable_exact_values(example: Solution) -> None:
    data = json.loads(answers_json(example, 4))
    entries = {e["name"]: e for e in data["quantities"]}
    assert len(entries) == len(data["quantities"]) == len(list(example.quantities()))
    for q in example.quantities():
        entry = entries[q.key]
        assert entry["float"] == float(q.approx)
        if entry["exact"] is None:
            assert not is_exact(q.exact) or entry["formula"] is not None, q.key
            continue
        assert same_value(sp.sympify(entry["exact"]), q.exact), q.key


def test_formulas_are_exact_over_the_quantities_they_use(example_answers: dict[str, Any]) -> None:
    data = example_answers
    values = {identifier(e["name"]): e for e in data["quantities"]}
    for entry in data["quantities"]:
        if entry["formula"] is None or entry["exact"] is None:
            continue
        formula = sp.sympify(entry["formula"], locals={k: sp.Symbol(k) for k in values})
        # a constant activation ignores its argument, so a formula may use fewer than it refers to
        assert {str(s) for s in formula.free_symbols} <= {identifier(u) for u in entry["uses"]}
        if all(values[str(s)]["exact"] is not None for s in formula.free_symbols):
            bound = formula.xreplace({s: sp.sympify(values[str(s)]["exact"]) for s in formula.free_symbols})
            assert same_value(bound, sp.sympify(entry["exact"])), entry["name"]


def test_every_use_is_listed(example_answers: dict[str, Any]) -> None:
    names = {e["name"] for e in example_answers["quantities"]}
    for entry in example_answers["quantities"]:
        assert set(entry["uses"]) <= names, entry["name"]


def test_key_numbers_of_the_example(example_answers: dict[str, Any]) -> None:
    entries = {e["name"]: e for e in example_answers["quantities"]}
    assert entries["p3.yhat[1]"]["exact"] == "1/2"
    assert entries["p5.b2_new[1]"]["exact"] == "1"
    assert entries["p1.L"]["latex"] == r"\frac{1}{\left(1 + e^{-3}\right)^{2}}"
    assert entries["p1.L"]["part"] == 1 and entries["w1[1,1]"]["part"] is None


def test_identifiers_are_unique_and_parsable(example: Solution) -> None:
    ids = [identifier(q.key) for q in example.quantities()]
    assert len(ids) == len(set(ids))
    assert all(sp.Symbol(i) == sp.sympify(i) for i in ids)


def test_numbers_are_written_as_sympy_writes_them() -> None:
    from derive.render.answers import number_text

    values = [sp.Rational(p, q) for p in range(-7, 8) for q in (1, 2, 3, 10, 64)]
    values += [sp.Integer(10) ** 40 + 1, 1 / (1 + sp.exp(-3)), sp.log(2) / 3]
    for value in values:
        assert number_text(value) == sp.sstr(value), value
        assert sp.sympify(number_text(value)) == value
