"""Questions answered with computed evidence: the loss after each compared method's steps and a
verdict, δ = ŷ − y by simplification, both gradient paths of MSE and CE derived, and comparison
parts that work out every value they use. Checked against the hand-written float oracle and SymPy."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import sympy as sp

import derive
from derive.exercise.reader import example_path
from derive.maths.steps import Algebra, Finding, Solution, Table
from derive.pipeline import parse_spec
from tests.oracle import float_loss_and_grads, float_start

EXAMPLE = example_path().read_text(encoding="utf-8")


def steps_of(solution: Solution, number: int, kind: type) -> list:
    return [s for section in solution.part(number).sections for s in section.steps if isinstance(s, kind)]


def finding(solution: Solution, number: int, key: str) -> dict:
    (found,) = [f for f in steps_of(solution, number, Finding) if f.key == key]
    return dict(found.facts)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def sgd_losses(x: tuple[float, float], rate: float, steps: int) -> list[float]:
    params = float_start()
    losses = [float_loss_and_grads(params, x)[0]]
    for _ in range(steps):
        grads = float_loss_and_grads(params, x)[1]
        params = {k: v - rate * grads[k] for k, v in params.items()}
        losses.append(float_loss_and_grads(params, x)[0])
    return losses


def adam_losses(x: tuple[float, float], rate: float, steps: int) -> list[float]:
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    params = float_start()
    m = dict.fromkeys(params, 0.0)
    v = dict.fromkeys(params, 0.0)
    losses = [float_loss_and_grads(params, x)[0]]
    for t in range(1, steps + 1):
        grads = float_loss_and_grads(params, x)[1]
        for k in params:
            m[k] = beta1 * m[k] + (1 - beta1) * grads[k]
            v[k] = beta2 * v[k] + (1 - beta2) * grads[k] ** 2
            mhat, vhat = m[k] / (1 - beta1**t), v[k] / (1 - beta2**t)
            params[k] -= rate * mhat / (np.sqrt(vhat) + eps)
        losses.append(float_loss_and_grads(params, x)[0])
    return losses


def test_the_optimizer_part_gives_the_loss_after_each_step_of_both_methods(example: Solution) -> None:
    (table,) = [t for t in steps_of(example, 10, Table) if t.key == "optimizer_losses"]
    sgd, adam = sgd_losses((0.0, 0.0), 0.5, 2), adam_losses((0.0, 0.0), 0.5, 2)
    assert [row[0] for row in table.rows] == ["0", "1", "2"]
    for (_, s, a), expected_sgd, expected_adam in zip(table.rows, sgd, adam, strict=True):
        assert close(float(s.approx), expected_sgd) and close(float(a.approx), expected_adam)
    # The numbers: Adam's first step raises the loss from 0.25, SGD's lowers it.
    assert adam[1] > adam[0] == 0.25 > sgd[1]
    assert f"{adam[1]:.4f}" == "0.5549" and f"{sgd[1]:.4f}" == "0.0976"
    facts = finding(example, 10, "optimizer_verdict")
    assert facts["winner"] == ("gd" if sgd[-1] < adam[-1] else "other")
    assert not facts["sgd_rose"] and not facts["other_rose"]  # both end below 0.25 after 2 steps


def test_the_optimizer_verdict_is_one_sentence_in_both_languages(example: Solution) -> None:
    sgd, adam = sgd_losses((0.0, 0.0), 0.5, 2), adam_losses((0.0, 0.0), 0.5, 2)
    tex = derive.render(example).solution
    part = tex.split(r"\section*{Part 10")[1].split(r"\section*{Part 11")[0]
    assert f"SGD reaches \\(L_{{2}} = {sgd[-1]:.4f}\\)" in part
    assert f"Adam \\(L_{{2}} = {adam[-1]:.4f}\\)" in part
    assert r"\textbf{SGD lowered the loss more}" in part
    german = derive.render(derive.solve(parse_spec(EXAMPLE.replace("[sheet]", '[sheet]\nlanguage = "de"')))).solution
    assert r"\textbf{senkt SGD den Verlust stärker}" in german
    assert f"{adam[-1]:.4f}".replace(".", "{,}") in german


def test_a_method_that_raises_the_loss_is_said_to() -> None:
    # With α = 5 both methods overshoot: the verdict says which raised the loss less, from the numbers.
    text = EXAMPLE.replace('optimizer = "adam"\nlearning_rate = "1/2"', 'optimizer = "adam"\nlearning_rate = 5')
    assert text != EXAMPLE
    solution = derive.solve(parse_spec(text))
    sgd, adam = sgd_losses((0.0, 0.0), 5.0, 2), adam_losses((0.0, 0.0), 5.0, 2)
    facts = finding(solution, 10, "optimizer_verdict")
    assert facts["sgd_rose"] == ("yes" if sgd[-1] > sgd[0] else "")
    assert facts["other_rose"] == ("yes" if adam[-1] > adam[0] else "")
    assert facts["winner"] == ("gd" if sgd[-1] < adam[-1] else "other")


def test_delta_equals_the_prediction_error_by_simplification(example: Solution) -> None:
    (algebra,) = [a for a in steps_of(example, 7, Algebra) if a.key == "ce_simplified"]
    (delta_line, error_line) = algebra.lines
    p = 1 / (1 + sp.exp(-sp.Rational(1, 2)))  # ŷ at x = 0 through a sigmoid, y = 1
    delta_forms = [shown.expr for shown in delta_line[1]]
    error_forms = [shown.expr for shown in error_line[1]]
    assert delta_forms[0] == example["p7.delta2[1]"].exact and error_forms[0] == example["p7.p-y"].exact
    assert delta_forms[-1] == error_forms[-1]  # both closed forms end in the same expression
    for form in (*delta_forms, *error_forms):
        assert sp.simplify(form - (p - 1)) == 0
    # Shown, not restated: a form is brought to the other by simplifying (δ may be in its simplest form
    # already, as the engine keeps it; ŷ − y then is not).
    worked = max((delta_forms, error_forms), key=len)
    assert len(worked) > 1 and len(sp.srepr(worked[-1])) < len(sp.srepr(worked[0]))


def test_both_gradient_paths_are_worked_with_the_numbers(example: Solution) -> None:
    p, y = 0.001, 1.0
    assert close(float(example["p11.dp/dz"].approx), p * (1 - p))
    assert close(float(example["p11.mse.dL/dp"].approx), 2 * (p - y))
    assert close(float(example["p11.ce.dL/dp"].approx), (1 - y) / (1 - p) - y / p)
    mse, ce = example["p11.dL/dz_mse(p=1/1000)"], example["p11.dL/dz_ce(p=1/1000)"]
    assert mse.uses == ("p11.mse.dL/dp", "p11.dp/dz") and ce.uses == ("p11.ce.dL/dp", "p11.dp/dz")
    assert close(float(mse.approx), 2 * (p - y) * p * (1 - p)) and close(float(ce.approx), p - y)
    (algebra,) = steps_of(example, 11, Algebra)
    assert len(algebra.lines) == 5  # ∂p/∂z, then ∂L/∂p and ∂L/∂z under each loss
    tex = derive.render(example).solution.split(r"\section*{Part 11")[1]
    assert "SymPy-checked" not in tex
    assert "Under squared error:" in tex and "Under cross-entropy:" in tex


def norms(grads: dict, keys: list[str]) -> float:
    return math.sqrt(sum(grads[k] ** 2 for k in keys))


W1 = ["w1[1,1]", "w1[1,2]", "w1[2,1]", "w1[2,2]"]
W2 = ["w2[1,1]", "w2[1,2]"]


def test_the_sigmoid_network_of_the_activation_part_is_worked_in_it(example: Solution) -> None:
    _, grads = float_loss_and_grads(float_start(), (1.0, -1.0))
    for name, value in grads.items():
        assert close(float(example[f"p9.sigmoid.dL/d{name}"].approx), value), name
    _, relu = float_loss_and_grads(float_start(), (1.0, -1.0), act="relu")
    sigmoid_drop = norms(grads, W1) / norms(grads, W2)
    relu_drop = norms(relu, W1) / norms(relu, W2)
    facts = finding(example, 9, "magnitudes")
    assert facts["sigmoid_drop"].value == pytest.approx(sigmoid_drop, rel=1e-12)
    assert facts["relu_drop"].value == pytest.approx(relu_drop, rel=1e-12)
    assert facts["fades_less"] == ("swapped" if relu_drop > sigmoid_drop else "given")
    larger = sum(norms(r, k) > norms(s, k) for s, r, k in ((grads, relu, W1), (grads, relu, W2)))
    assert facts["larger"] == {2: "all", 0: "none"}.get(larger, "some")


def test_the_network_without_the_extra_layer_is_worked_in_the_part(example: Solution) -> None:
    _, grads = float_loss_and_grads(float_start(), (1.0, 1.0))
    for name, value in grads.items():
        assert close(float(example[f"p12.shallow.dL/d{name}"].approx), value), name
    assert close(float(example["p12.shallow.norm(dL/dW1)"].approx), norms(grads, W1))


def test_no_comparison_part_leans_on_values_no_part_computed(example: Solution) -> None:
    tex = derive.render(example).solution
    for number in (9, 12):
        part = re.split(r"\\section\*\{Part \d+", tex)[number]
        assert "as in the parts above" not in part
        # Part 9: the ReLU network, the sigmoid network and the dead unit; part 12: with and without the layer.
        assert part.count(r"\deriveheading{Backward pass (chain rule)}") == (3 if number == 9 else 2)
    german = derive.render(derive.solve(parse_spec(EXAMPLE.replace("[sheet]", '[sheet]\nlanguage = "de"')))).solution
    for words in ("Das Netz mit der Sigmoidfunktion", "Ohne die zusätzliche Schicht", "Mit dem quadratischen Fehler"):
        assert words in german, words
    assert "Auf einen gemeinsamen Nenner gebracht" in german
