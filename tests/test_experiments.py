"""Learning-rate runs, ReLU vs sigmoid, Adam vs SGD and the extra layer, against hand-written oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import derive
from derive.exercise.reader import example_path
from derive.kinds.learning_rates import verdict
from derive.maths.steps import Finding, Solution, Table
from derive.tex.printer import Printer
from tests import oracle


def findings(solution: Solution, number: int) -> list[dict[str, str]]:
    printer = Printer()  # the facts as the sheet writes them
    return [
        {name: printer.show(value) for name, value in s.facts}
        for sec in solution.part(number).sections
        for s in sec.steps
        if isinstance(s, Finding)
    ]


def table(solution: Solution, number: int, key: str) -> Table:
    return next(s for sec in solution.part(number).sections for s in sec.steps if isinstance(s, Table) and s.key == key)


def sgd_run(rate: float, steps: int) -> list[float]:
    params, losses = oracle.float_start(), []
    for _ in range(steps):
        loss, grads = oracle.float_loss_and_grads(params, (0.0, 0.0))
        losses.append(loss)
        params = {k: v - rate * grads[k] for k, v in params.items()}
    losses.append(oracle.float_loss_and_grads(params, (0.0, 0.0))[0])
    return losses


def test_learning_rate_runs_match_a_float_rerun(example: Solution) -> None:
    runs = table(example, 8, "lr_table")
    for column, rate in enumerate([0.1, 0.5, 1.0, 5.0], 1):
        expected = sgd_run(rate, 20)
        for t, row in enumerate(runs.rows):
            got = float(row[column].approx)
            assert math.isclose(got, expected[t], rel_tol=1e-9, abs_tol=1e-12), (rate, t)


def test_verdicts_are_those_of_the_float_rerun(example: Solution) -> None:
    shown = [f["verdict"] for f in findings(example, 8)]
    assert shown == [verdict(sgd_run(rate, 20)) for rate in [0.1, 0.5, 1.0, 5.0]]
    assert shown[0] == "converges" and shown[-1] == "diverges"


def test_the_first_steps_are_exact(example: Solution) -> None:
    runs = table(example, 8, "lr_table")
    assert runs.rows[0][1].exact == sp.Rational(1, 4)
    assert not runs.rows[1][1].exact.has(sp.Float) and not runs.rows[2][1].exact.has(sp.Float)
    assert runs.rows[3][1].exact.is_Float  # past exact_steps = 2: decimals only


def test_relu_gradients_at_part_2_input(example: Solution) -> None:
    _, expected = oracle.float_loss_and_grads(oracle.float_start(), (1.0, -1.0), act="relu")
    for key, value in expected.items():
        assert math.isclose(float(example[f"p9.dL/d{key}"].approx), value, abs_tol=1e-15), key
    norm = math.sqrt(sum(expected[k] ** 2 for k in ("w1[1,1]", "w1[1,2]", "w1[2,1]", "w1[2,2]")))
    assert math.isclose(float(example["p9.relu.norm(dL/dW1)"].approx), norm, rel_tol=1e-12)


def test_dead_relu_unit(example: Solution) -> None:
    # x = (0, 1): z = (−1, 1), so unit 1 is dead and its row of ∂L/∂W^{(1)} is zero
    assert example["p9.dead.z1[1]"].exact == -1
    assert example["p9.dead.dL/dw1[1,2]"].exact == 0 and example["p9.dead.dL/db1[1]"].exact == 0
    assert example["p9.dead.dL/dw1[2,2]"].exact != 0
    (dead,) = [f for f in findings(example, 9) if "units" in f]
    assert dead["count"] == "1"


def test_adam_steps_match_a_float_adam(example: Solution) -> None:
    params, alpha, b1, b2, eps = oracle.float_start(), 0.5, 0.9, 0.999, 1e-8
    m = dict.fromkeys(params, 0.0)
    v = dict.fromkeys(params, 0.0)
    for t in (1, 2):
        _, grads = oracle.float_loss_and_grads(params, (0.0, 0.0))
        for k in params:
            m[k] = b1 * m[k] + (1 - b1) * grads[k]
            v[k] = b2 * v[k] + (1 - b2) * grads[k] ** 2
            params[k] -= alpha * (m[k] / (1 - b1**t)) / (math.sqrt(v[k] / (1 - b2**t)) + eps)
        for k, value in params.items():
            head, _, index = k.partition("[")
            key = f"p10.{head}_new{'' if t == 1 else t}[{index}"
            assert math.isclose(float(example[key].approx), value, rel_tol=1e-9, abs_tol=1e-12), (t, k)


def test_adam_first_step_is_exact_and_about_alpha(example: Solution) -> None:
    grads = oracle.gradients((0, 0), oracle.start())
    eps = sp.Rational(1, 10**8)
    for key, g in grads.items():
        assert example[f"p10.adam_step({key})"].exact == -sp.Rational(1, 2) * g / (abs(g) + eps), key
    facts = findings(example, 10)[0]
    assert facts["moved"] == "5" and facts["alpha"].replace(" ", "") == "1/2"


def test_extra_layer_forward_and_gradient_norms(example: Solution) -> None:
    sigma = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    w1, w_new, w2 = np.array([[1, -1], [2, 1]]), np.array([[1, -1], [1, 1]]), np.array([1, -1])
    x = np.array([1.0, 1.0])
    h1 = sigma(w1 @ x)
    h2 = sigma(w_new @ h1)
    yhat = w2 @ h2 + 0.5
    assert math.isclose(float(example["p12.yhat[1]"].approx), yhat, rel_tol=1e-14)
    g = 2 * (yhat - 1)
    delta2 = g * w2 * h2 * (1 - h2)
    delta1 = (w_new.T @ delta2) * h1 * (1 - h1)
    deep = np.linalg.norm(np.outer(delta1, x))
    assert math.isclose(float(example["p12.deep.norm(dL/dW1)"].approx), deep, rel_tol=1e-12)
    shallow_g = 2 * (w2 @ h1 + 0.5 - 1)  # the original network's own output error
    shallow_delta = shallow_g * w2 * h1 * (1 - h1)
    shallow = np.linalg.norm(np.outer(shallow_delta, x))
    assert math.isclose(float(example["p12.shallow.norm(dL/dW1)"].approx), shallow, rel_tol=1e-12)
    assert dict(findings(example, 12)[-1])["ratio"] == f"{deep / shallow:.3f}"


def test_extra_layer_over_a_first_layer_without_bias_compares_only_the_weights() -> None:
    # Found by the library-boundary work: the comparison table asked for ∂L/∂b^{(1)}, which a layer
    # with bias = "none" does not have, and the gate refused it (no float64 value to check against).
    from derive.exercise.reader import example_path

    text = example_path().read_text().replace("bias = [0, 0]", 'bias = "none"', 1)
    solution = derive.solve(derive.parse_spec(text))  # the gate passes
    keys = {q.key for q in solution.part(12).quantities()}
    assert "p12.deep.norm(dL/dW1)" in keys and not any("db1" in k for k in keys)


@pytest.mark.parametrize("exact_steps", [0, 3])
def test_every_step_past_the_exact_ones_is_a_decimal_of_the_float_rerun(exact_steps: int) -> None:
    # The run turns to decimals once, after its last exact step (after the first, with none exact:
    # that step's parameters and loss are exact either way), and steps on from decimals: every later
    # loss still agrees with the float rerun.
    text = example_path().read_text(encoding="utf-8")
    assert text.count("exact_steps = 2") == 1
    spec = derive.parse_spec(text.replace("exact_steps = 2", f"exact_steps = {exact_steps}"), name="lr")
    runs = table(derive.solve(spec), 8, "lr_table")
    for column, rate in enumerate([0.1, 0.5, 1.0, 5.0], 1):
        expected = sgd_run(rate, 20)
        for t, row in enumerate(runs.rows):
            value = row[column]
            assert math.isclose(float(value.approx), expected[t], rel_tol=1e-9, abs_tol=1e-12), (rate, t)
            assert value.exact.is_Float == (t > max(exact_steps, 1)), (rate, t)
