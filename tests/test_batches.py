"""Batches: per-sample gradients, the batch gradient as their mean or sum, and steps per batch or per sample."""

from __future__ import annotations

from collections.abc import Iterator

import mpmath
import pytest

import derive
from derive.errors import SpecError

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
        (lambda t: t.replace('learning_rate = "1/2"', ""), "parts[1].learning_rate", "missing"),
        (lambda t: t + "steps = 2\n", "parts[1].steps", "steps"),
    ],
)
def test_bad_batches_are_one_line_naming_the_field(change: object, field: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        derive.parse_spec(change(batch()))  # type: ignore[operator]
    text = str(caught.value)
    assert field in text and message in text and "\n" not in text
