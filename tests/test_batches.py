"""Batches: per-sample gradients, the batch gradient as their mean or sum, and steps per batch or per sample."""

from __future__ import annotations

from collections.abc import Iterator

import mpmath
import numpy as np
import pytest

import derive
from derive.errors import SpecError
from derive.maths.steps import Plot, Table
from derive.terms.formula import Quantity

NETWORK = """
[network]
[[network.layers]]
weights = [[1, -1], ["1/2", 2]]
bias = [0, "-1/2"]
activation = "sigmoid"
[[network.layers]]
weights = [[1, -2]]
bias = ["1/2"]
activation = "identity"
[loss]
name = "squared_error"
"""
SAMPLES = [("[1, 0]", "1"), ("[0, 1]", "0"), ("[2, -1]", "1/2")]
KEYS = ["w1[1,1]", "w1[2,2]", "b1[2]", "w2[1,2]", "b2[1]"]


def batch(mode: str = "batch", reduction: str = "mean", extra: str = "") -> str:
    samples = ", ".join(f'{{ x = {x}, y = "{y}" }}' for x, y in SAMPLES)
    return (
        NETWORK
        + f'[[parts]]\nkind = "batch"\nsamples = [{samples}]\nmode = "{mode}"\n'
        + f'batch_reduction = "{reduction}"\nlearning_rate = "1/2"\n{extra}'
    )


def single_gradients() -> list[derive.Solution]:
    """Each sample's gradients from an ordinary gradients part: the batch part must agree."""
    return [
        derive.solve(derive.parse_spec(NETWORK + f'[[parts]]\nkind = "gradients"\nx = {x}\ny = "{y}"\n'))
        for x, y in SAMPLES
    ]


@pytest.fixture(autouse=True)
def digits() -> Iterator[None]:
    """The comparisons below in 50 digits: the engine carries 40, float64 would not tell."""
    with mpmath.workdps(50):
        yield


def close(a: mpmath.mpf, b: mpmath.mpf) -> bool:
    return bool(abs(a - b) <= mpmath.mpf(10) ** -35 * max(1, abs(b)))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_batch_gradient_is_the_mean_or_sum_of_the_samples_gradients(reduction: str) -> None:
    solution = derive.solve(derive.parse_spec(batch(reduction=reduction)))
    singles = single_gradients()
    scale = mpmath.mpf(1) / len(SAMPLES) if reduction == "mean" else 1
    for key in KEYS:
        each = [s[f"p1.dL/d{key}"].approx for s in singles]
        for n, value in enumerate(each, 1):
            assert close(solution[f"p1.s{n}.dL[{n}]/d{key}"].approx, value)
        assert close(solution[f"p1.dL/d{key}"].approx, scale * sum(each))
    losses = [s["p1.L"].approx for s in singles]
    assert close(solution["p1.L"].approx, scale * sum(losses))
    # One step along the batch gradient: θ' = θ − α ∂L/∂θ, exactly.
    assert (solution["p1.w1_new[1,1]"].exact - (1 - solution["p1.dL/dw1[1,1]"].exact / 2)).equals(0)


def test_per_sample_steps_each_start_where_the_previous_one_left() -> None:
    solution = derive.solve(derive.parse_spec(batch(mode="per_sample")))
    # Sample 2 goes through the network after the step with sample 1: z = w' x + b'.
    x1, x2 = 0, 1
    z = (
        solution["p1.w1_new[1,1]"].approx * x1
        + solution["p1.w1_new[1,2]"].approx * x2
        + solution["p1.b1_new[1]"].approx
    )
    assert close(solution["p1.s2.z1[1]"].approx, z)
    # Step n uses sample n's own gradient at the parameters after step n − 1.
    for n in (2, 3):
        before = "w2[1,2]" if n == 1 else f"w2_new{'' if n == 2 else n - 1}[1,2]"
        after = f"w2_new{n}[1,2]"
        g = solution[f"p1.s{n}.dL[{n}]/dw2[1,2]"].approx
        assert close(solution[f"p1.{after}"].approx, solution[f"p1.{before}"].approx - g / 2)
    # The batch loss after all steps is the mean of the samples' losses there.
    each = [solution[f"p1.s{n}.L_new3[{n}]"].approx for n in (1, 2, 3)]
    assert close(solution["p1.L_new3"].approx, sum(each) / 3)


def test_a_batch_sheet_names_each_samples_loss(tmp_path: object) -> None:
    solution = derive.solve(derive.parse_spec(batch(mode="per_sample")))
    text = derive.render(solution).solution
    assert r"\deriveheading{Sample 3}" in text and r"\deriveheading{Update with sample 2}" in text
    assert r"\frac{\partial L_{2}}{\partial w^{(2)}_{1,2}}" in text
    questions = derive.render(derive.solve(derive.parse_spec(batch()))).exercise
    assert "one step of gradient descent" in questions and "mean" in questions


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda t: t.replace("samples = [", "samples = [{ x = [1, 0], y = 1 }] #"), "parts[1].samples", "2 to 8"),
        (lambda t: t.replace('mode = "batch"', 'mode = "minibatch"'), "parts[1].mode", "valid: batch, per_sample"),
        (lambda t: t.replace('batch_reduction = "mean"', 'batch_reduction = "avg"'), "parts[1].batch_reduction", "sum"),
        (lambda t: t.replace("x = [0, 1]", "x = [0, 1, 2]"), "parts[1].samples[2].x", "shape mismatch"),
        (lambda t: t.replace("x = [0, 1]", "z = [0, 1]"), "parts[1].samples[2]", "z"),
        (lambda t: t.replace("samples = [", "samples = [3, "), "parts[1].samples[1]", "a table"),
        (lambda t: t.replace('learning_rate = "1/2"', 'optimizer = "adam"'), "parts[1].optimizer", "gradients only"),
        (lambda t: t.replace('learning_rate = "1/2"', "steps = 2"), "parts[1].steps", "gradients only"),
        (lambda t: t.replace('"batch"\nbatch_', '"per_sample"\nbatch_') + "steps = 2\n", "parts[1].steps", '"batch"'),
        (lambda t: t + "steps = 6\n", "parts[1].steps", "1 to 5"),
        (lambda t: t + 'wrt = ["x"]\n', "parts[1].wrt", "not the input x"),
        (lambda t: t + 'wrt = ["y"]\n', "parts[1].wrt", "unknown parameter"),
    ],
)
def test_bad_batches_are_one_line_naming_the_field(change: object, field: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        derive.parse_spec(change(batch()))  # type: ignore[operator]
    text = str(caught.value)
    assert field in text and message in text and "\n" not in text


def test_without_a_learning_rate_the_part_asks_for_the_gradients_only() -> None:
    solution = derive.solve(derive.parse_spec(batch().replace('learning_rate = "1/2"\n', "")))
    keys = {q.key for q in solution.quantities()}
    assert "p1.dL/dw1[1,1]" in keys and not any("_new" in k for k in keys)
    each = [s["p1.dL/dw2[1,2]"].approx for s in single_gradients()]
    assert close(solution["p1.dL/dw2[1,2]"].approx, sum(each) / len(each))
    questions = derive.render(solution).exercise
    assert "Give the batch loss and its gradient" in questions and "learning rate" not in questions
    refused = batch(mode="per_sample").replace('learning_rate = "1/2"\n', "")
    with pytest.raises(SpecError, match=r"parts\[1\]\.mode.*learning_rate"):
        derive.parse_spec(refused)


# --- an independent NumPy run of the same batch: the network above, written out by hand -------------

W1, B1 = np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0.0, -0.5])
W2, B2 = np.array([[1.0, -2.0]]), np.array([0.5])
XS = [np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([2.0, -1.0])]
YS = [1.0, 0.0, 0.5]


def numpy_sample(params: dict[str, np.ndarray], x: np.ndarray, y: float) -> tuple[float, dict[str, np.ndarray]]:
    """Sample loss (ŷ − y)² and its gradients (with ∂L/∂x) for the sigmoid-identity network."""
    a1 = 1 / (1 + np.exp(-(params["W1"] @ x + params["b1"])))
    yhat = float((params["W2"] @ a1 + params["b2"])[0])
    delta2 = np.array([2 * (yhat - y)])
    delta1 = (params["W2"].T @ delta2) * a1 * (1 - a1)
    grads = {"W1": np.outer(delta1, x), "b1": delta1, "W2": np.outer(delta2, a1), "b2": delta2}
    return (yhat - y) ** 2, {**grads, "x": params["W1"].T @ delta1}


def numpy_epochs(steps: int, alpha: float, beta: float) -> list[dict[str, object]]:
    """Full-batch momentum (PyTorch's v = βv + g, θ = θ − αv): per step the batch loss and gradient
    before it, the velocity and the parameters after it; then the batch loss after the last."""
    params = {"W1": W1, "b1": B1, "W2": W2, "b2": B2}
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    run: list[dict[str, object]] = []
    for _ in range(steps + 1):
        passes = [numpy_sample(params, x, y) for x, y in zip(XS, YS, strict=True)]
        losses = [loss for loss, _ in passes]
        gradient = {name: sum(g[name] for _, g in passes) / len(XS) for name in params}
        run.append({"losses": losses, "L": sum(losses) / len(XS), "gradient": gradient})
        velocity = {name: beta * velocity[name] + gradient[name] for name in params}
        params = {name: params[name] - alpha * velocity[name] for name in params}
        run[-1].update(velocity=velocity, after=params)
    return run


def entry(name: str, index: tuple[int, ...]) -> str:
    """The answer key's entry of a tensor name and 0-based index: W1, (0, 1) → w1[1,2]; b2, (0,) → b2[1]."""
    return f"{name.lower()}[{','.join(str(i + 1) for i in index)}]"


def primes(t: int) -> str:
    return "_new" if t == 1 else f"_new{t}"


def test_several_batch_steps_follow_an_independent_numpy_run() -> None:
    extra = 'steps = 3\noptimizer = { name = "momentum", beta = "1/2" }\n'
    solution = derive.solve(derive.parse_spec(batch(extra=extra)))  # every value through the gate
    run = numpy_epochs(3, 0.5, 0.5)
    for t, state in enumerate(run[:3], 1):
        where = "p1." if t == 1 else f"p1.t{t}."
        before = solution["p1.L" if t == 1 else f"p1.L{primes(t - 1)}"]  # the batch loss before step t
        assert float(before.approx) == pytest.approx(state["L"], rel=1e-12)
        for n, loss in enumerate(state["losses"], 1):  # type: ignore[arg-type]
            assert float(solution[f"{where}s{n}.L[{n}]"].approx) == pytest.approx(loss, rel=1e-12)
        for name in ("W1", "b1", "W2", "b2"):
            for index, g in np.ndenumerate(state["gradient"][name]):  # type: ignore[index]
                assert float(solution[f"{where}dL/d{entry(name, index)}"].approx) == pytest.approx(g, rel=1e-12)
            for index, v in np.ndenumerate(state["velocity"][name]):  # type: ignore[index]
                # The velocity carries over: step t's v is β times step t − 1's plus the new gradient.
                assert float(solution[f"p1.v{t}({entry(name, index)})"].approx) == pytest.approx(v, rel=1e-12)
            for index, theta in np.ndenumerate(state["after"][name]):  # type: ignore[index]
                key = f"p1.{name.lower()}{primes(t)}[{','.join(str(i + 1) for i in index)}]"
                assert float(solution[key].approx) == pytest.approx(theta, rel=1e-12)
    assert float(solution["p1.L_new3"].approx) == pytest.approx(run[3]["L"], rel=1e-12)


def test_the_losses_per_step_are_a_table_and_a_plot() -> None:
    solution = derive.solve(derive.parse_spec(batch(extra="steps = 3\n")))
    run = numpy_epochs(3, 0.5, 0.0)
    table = [s for sec in solution.part(1).sections for s in sec.steps if isinstance(s, Table)][-1]
    assert table.key == "batch_losses" and len(table.rows) == 4
    for row, state in zip(table.rows, run, strict=True):
        values = [float(c.approx) for c in row if isinstance(c, Quantity)]
        assert values == pytest.approx([*state["losses"], state["L"]], rel=1e-12)  # type: ignore[list-item]
    (plot,) = [s for sec in solution.part(1).sections for s in sec.steps if isinstance(s, Plot)]
    batch_losses = [float(row[-1].approx) for row in table.rows]  # type: ignore[union-attr]
    assert [float(q.approx) for _, q in plot.series[-1].points] == batch_losses
    text = derive.render(solution).solution
    assert r"\begin{axis}" in text and r"\deriveheading{Step 3}" in text and "The losses step by step" in text
    questions = derive.render(solution).exercise
    assert "take 3 steps of gradient descent" in questions and "tabulate and plot" in questions


def test_the_gradient_with_respect_to_the_input_is_each_samples_own() -> None:
    solution = derive.solve(derive.parse_spec(batch().replace('learning_rate = "1/2"\n', 'wrt = ["x"]\n')))
    params = {"W1": W1, "b1": B1, "W2": W2, "b2": B2}
    for n, (x, y) in enumerate(zip(XS, YS, strict=True), 1):
        inputs = numpy_sample(params, x, y)[1]["x"]
        for k, g in enumerate(inputs, 1):
            assert float(solution[f"p1.s{n}.dL[{n}]/dx[{k}]"].approx) == pytest.approx(g, rel=1e-12)
    keys = {q.key for q in solution.quantities()}
    assert not any("/dw" in k or "/db" in k for k in keys)
    stepped = derive.solve(derive.parse_spec(batch(extra='wrt = ["W2", "x"]\n')))
    keys = {q.key for q in stepped.quantities()}
    assert "p1.w2_new[1,2]" in keys and "p1.s3.dL[3]/dx[2]" in keys and "p1.w1_new[1,1]" not in keys


@pytest.mark.parametrize("mode", ["batch", "per_sample"])
def test_cross_entropy_with_real_valued_targets_in_a_batch(mode: str) -> None:
    text = batch(mode=mode).replace('activation = "identity"', 'activation = "sigmoid"')
    text = text.replace('"squared_error"', '"binary_cross_entropy"').replace('y = "1/2"', 'y = "3/2"')
    solution = derive.solve(derive.parse_spec(text))  # the gate passes with y = 3/2 outside [0, 1]
    assert "no lower bound" in derive.render(solution).solution
