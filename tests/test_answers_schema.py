"""The answers file as data: versioned, described by its shipped JSON Schema, each quantity flagged when
its part's question asks for it (the answer key) and given the tolerance of the decimal the sheet shows."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import derive
from derive.exercise.reader import example_path, load_spec, parse_spec
from derive.kinds import KINDS
from derive.maths.solve import derive as derive_exactly
from derive.render.answers import FORMAT, VERSION, answers, answers_csv
from derive.schema import shipped
from derive.tex.style import Style
from tests.sheets import single

EXAMPLES = [*single(sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.toml"))), example_path()]
VALIDATOR = jsonschema.Draft7Validator(json.loads(shipped("answers")))


def answers_of(spec: derive.Spec) -> dict[str, Any]:
    """The answers document a build writes (the sheet's own places), without the gate: it changes no value."""
    return answers(derive_exactly(spec), Style.of(spec.sheet).places)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_examples_answers_pass_the_schema(path: Path) -> None:
    document = json.loads(json.dumps(answers_of(load_spec(path, KINDS))))  # as the file has it
    assert [e.message for e in VALIDATOR.iter_errors(document)] == []
    assert (document["format"], document["version"]) == (FORMAT, VERSION)
    for part in {q["part"] for q in document["quantities"]} - {None}:
        assert any(q["asked"] for q in document["quantities"] if q["part"] == part), f"part {part} asks for nothing"
    assert not any(q["asked"] for q in document["quantities"] if q["part"] is None)  # the givens


def parameter_entries(spec: derive.Spec) -> list[str]:
    """w{l}[j,k] and b{l}[j] of every layer, from the spec's shapes."""
    names = []
    for l, layer in enumerate(spec.network.layers, 1):
        rows, cols = len(layer.weights), len(layer.weights[0])
        names += [f"w{l}[{j},{k}]" for j in range(1, rows + 1) for k in range(1, cols + 1)]
        names += [f"b{l}[{j}]" for j in range(1, rows + 1)]
    return names


def test_the_answer_key_of_the_built_in_example_is_what_its_questions_ask(example_answers: dict[str, Any]) -> None:
    spec = derive.load_example()
    sheet = derive.render(derive.solve(spec)).exercise
    asked = {q["name"] for q in example_answers["quantities"] if q["asked"]}
    shown = {q["name"] for q in example_answers["quantities"]}
    # Part 1: "compute every layer's pre-activation z and activation, the output ŷ, and the loss L".
    assert r"the output \(\hat{y}\), and the loss \(L\)" in sheet
    depth = len(spec.network.layers)
    hidden = [(l, j) for l in range(1, depth) for j in range(1, len(spec.network.layers[l - 1].weights) + 1)]
    forward = {f"p1.z{l}[{j}]" for l, j in hidden} | {f"p1.a{l}[{j}]" for l, j in hidden}
    assert {n for n in asked if n.startswith("p1.")} == forward | {f"p1.z{depth}[1]", "p1.yhat[1]", "p1.L"}
    assert {"p1.x[1]", "p1.y[1]"} <= shown - asked  # the givens of the part are not asked
    # Part 4: "compute with the chain rule the gradient ∂L/∂θ of the loss for every parameter θ".
    assert r"\partial L / \partial \theta\) of the loss for every parameter" in sheet
    assert {n for n in asked if n.startswith("p4.")} == {f"p4.dL/d{name}" for name in parameter_entries(spec)}
    assert {"p4.delta1[1]", "p4.dL/da1[1]", "p4.dL/dyhat[1]"} <= shown - asked  # the way there
    # Part 5: "Give the new parameters and the new loss".
    assert {n for n in asked if n.startswith("p5.")} == {
        "p5." + name.replace("[", "_new[", 1) for name in parameter_entries(spec)
    } | {"p5.L_new"}


def last_place(decimal: str) -> Decimal:
    """The unit in the last place of a decimal as the answers write it: 0.1235, or 3.38 \\cdot 10^{-7}."""
    mantissa, _, power = decimal.partition(r" \cdot 10^")
    exponent = Decimal(mantissa).as_tuple().exponent
    assert isinstance(exponent, int)
    return Decimal(1).scaleb(exponent + (int(power.strip("{}")) if power else 0))


@pytest.mark.parametrize("name", ["backprop", "rounding_student", "optimizer_adam", "loss_cross_entropy"])
def test_the_tolerance_is_half_a_unit_in_the_last_shown_place(name: str) -> None:
    path = example_path() if name == "backprop" else Path(__file__).resolve().parent.parent / f"examples/{name}.toml"
    document = answers_of(load_spec(path, KINDS))
    for q in document["quantities"]:
        if q["float"] is None or "infty" in q["decimal"]:
            assert q["tolerance"] is None
            continue
        unit = last_place(q["decimal"])
        assert Decimal(str(q["tolerance"])) == unit / 2, q["name"]
        # The value itself lies within the tolerance of the decimal shown for it.
        mantissa, _, power = q["decimal"].partition(r" \cdot 10^")
        shown = Decimal(mantissa).scaleb(int(power.strip("{}")) if power else 0)
        assert abs(Decimal(q["float"]) - shown) <= unit / 2 * Decimal("1.000001"), q["name"]


def test_a_part_with_its_own_decimals_has_their_tolerance() -> None:
    text = example_path().read_text(encoding="utf-8")
    text = text.replace('kind = "gradients"\n', 'kind = "gradients"\ndecimals = 6\n')
    document = answers_of(parse_spec(text, KINDS))
    for q in document["quantities"]:
        places = 6 if q["part"] == 4 else 4
        if re.fullmatch(r"-?\d+\.\d+", q["decimal"]):
            assert len(q["decimal"].split(".")[1]) >= places, q["name"]
        if q["part"] == 4 and abs(q["float"]) >= 0.01:
            assert q["tolerance"] == float(Decimal("0.5").scaleb(-places)), q["name"]


def test_the_csv_has_the_answer_key_and_the_tolerance(example: derive.Solution) -> None:
    rows = list(csv.DictReader(io.StringIO(answers_csv(example, 4))))
    by_name = {row["name"]: row for row in rows}
    assert by_name["p1.L"]["asked"] == "true" and by_name["p1.x[1]"]["asked"] == "false"
    assert Decimal(by_name["p1.L"]["tolerance"]) == Decimal("0.00005")
