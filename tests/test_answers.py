"""The answers JSON: every quantity once, exact values that SymPy parses back."""

from __future__ import annotations

import json

import sympy as sp

from derive.answers import answers, answers_json, identifier
from derive.steps import Solution


def test_every_quantity_is_listed_once_with_parsable_exact_values(example: Solution) -> None:
    data = json.loads(answers_json(example, 4))
    entries = {e["name"]: e for e in data["quantities"]}
    assert len(entries) == len(data["quantities"]) == len(list(example.quantities()))
    for q in example.quantities():
        entry = entries[q.key]
        assert sp.simplify(sp.sympify(entry["exact"]) - q.exact) == 0, q.key
        assert entry["float"] == float(q.approx)


def test_formulas_are_exact_over_the_quantities_they_use(example: Solution) -> None:
    data = answers(example, 4)
    values = {identifier(e["name"]): sp.sympify(e["exact"]) for e in data["quantities"]}
    for entry in data["quantities"]:
        if entry["formula"] is None:
            continue
        formula = sp.sympify(entry["formula"], locals={k: sp.Symbol(k) for k in values})
        assert (
            sp.simplify(formula.xreplace({sp.Symbol(k): v for k, v in values.items()}) - sp.sympify(entry["exact"]))
            == 0
        )
        # a constant activation ignores its argument, so a formula may use fewer than it refers to
        assert {str(s) for s in formula.free_symbols} <= {identifier(u) for u in entry["uses"]}


def test_key_numbers_of_the_example(example: Solution) -> None:
    entries = {e["name"]: e for e in answers(example, 4)["quantities"]}
    assert entries["p3.yhat[1]"]["exact"] == "1/2"
    assert entries["p5.b2_new[1]"]["exact"] == "1"
    assert entries["p1.L"]["latex"] == r"\frac{1}{\left(1 + e^{-3}\right)^{2}}"
    assert entries["p1.L"]["part"] == 1 and entries["w1[1,1]"]["part"] is None


def test_identifiers_are_unique_and_parsable(example: Solution) -> None:
    ids = [identifier(q.key) for q in example.quantities()]
    assert len(ids) == len(set(ids))
    assert all(sp.Symbol(i) == sp.sympify(i) for i in ids)
