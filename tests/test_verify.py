"""The verification gate stops a wrong derivation: break a rule on purpose and expect the error."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import sympy as sp

import derive
from derive.catalog import activations, losses, optimizers
from derive.catalog.activations import Entry
from derive.errors import VerificationError
from derive.exercise.reader import example_path
from derive.maths.solve import derive as derive_exactly
from derive.pipeline import parse_spec
from derive.terms.formula import Difference, Num, Product, Sum
from derive.verify.gate import FD_TOL
from derive.verify.twins import expected

EXAMPLE = example_path().read_text(encoding="utf-8")


def test_the_example_passes_with_small_deviations(example: derive.Solution) -> None:
    report = derive.verify(example)
    assert report.values == len(list(example.quantities()))
    assert report.differences >= 30  # every gradient of parts 4 and 6, δ and ∂L/∂a included
    assert report.max_relative < 1e-10  # float64 rounding accumulates over the 20-step runs
    assert report.max_difference < FD_TOL


def test_a_wrong_sigmoid_derivative_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # σ' = σ(1 + σ) instead of σ(1 − σ): the exact engine follows the broken rule, the float engine does not.
    broken = replace(activations.SIGMOID, derivative=lambda z, a: Product((a, Sum((Num(sp.Integer(1)), a)))))
    monkeypatch.setitem(activations.ACTIVATIONS, "sigmoid", Entry(lambda: broken))  # type: ignore[index]
    spec = parse_spec(EXAMPLE)
    with pytest.raises(VerificationError, match=r"p4\.delta1\[1\]: exact value -0\.75 but float64 gives -0\.25"):
        derive.verify(derive_exactly(spec))


def test_a_wrong_loss_gradient_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = replace(losses.SQUARED_ERROR, gradient=lambda yhat, y: Difference(yhat, y))  # forgot the 2
    monkeypatch.setitem(losses.LOSSES, "squared_error", broken)  # type: ignore[index]
    with pytest.raises(VerificationError, match=r"p4\.dL/dyhat\[1\]"):
        derive.verify(derive_exactly(parse_spec(EXAMPLE)))


def test_a_wrong_update_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = replace(optimizers.SGD, stages=(("theta", lambda e, t: Difference(e["theta"], e["g"])),))  # forgot α
    monkeypatch.setitem(optimizers.OPTIMIZERS, "sgd", broken)  # type: ignore[index]
    with pytest.raises(VerificationError, match=r"p5\.\w+_new"):
        derive.verify(derive_exactly(parse_spec(EXAMPLE)))


def test_a_wrong_closed_form_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shortest-form search returns a value off by 1/1000 wherever e appears: the carried decimal,
    # from the formula tree, no longer agrees with the closed form the sheet would print.
    from derive.terms import formula

    monkeypatch.setattr(formula, "simplest", lambda value: value + sp.Rational(1, 1000) if value.has(sp.exp) else value)
    spec = parse_spec(EXAMPLE)
    with pytest.raises(VerificationError, match=r"exact form .*exp.* does not evaluate to its carried decimal"):
        derive.verify(derive_exactly(replace(spec, parts=spec.parts[:6])))  # part 7 would refuse it itself


def test_finite_differences_agree_with_float_backprop() -> None:
    reference = expected(parse_spec(EXAMPLE))
    assert len(reference.differences) > 30
    for key, (estimate, noise) in reference.differences.items():
        assert estimate == pytest.approx(reference.values[key], abs=1e-7 + noise), key


def test_every_gradient_a_learning_rate_run_lists_is_checked_by_differences(example: derive.Solution) -> None:
    # The sweep's steps past its exact ones list only their loss: their gradients get no differences
    # (half the twin's time went there), every gradient the sheet does list still does.
    reference = expected(example.spec)
    listed = {q.key for q in example.quantities() if q.key.startswith("p8.") and "/d" in q.key}
    assert listed and all(".t1." in k or ".t2." in k for k in listed)
    assert listed <= set(reference.differences)
    assert not any(k.startswith("p8.") and ".t3." in k for k in reference.differences)


# After one Adam step a softmax hidden layer's error signal here is a cancellation,
# u_j − Σ_i a_i u_i ≈ 6.6e-11 from terms ≈ 0.36, which float64 resolves only to ~1e-7 relative; Adam's
# second step divides it by ε = 1e-8, a 2e-12 error on a 3.5e-5 parameter, past the gate's tolerance:
# a float64 twin refused this correct sheet. The twin computes in long double (floats.extended).
CANCELLATION = """
[network]
[[network.layers]]
weights = [[0, 2, 2], [0, 0, 0], [0, 0, 0]]
bias = [0, 0, 0]
activation = "softmax"
[[network.layers]]
weights = [[2, 2, 2]]
bias = [0]
activation = "sigmoid"
[[network.layers]]
weights = [[0, 0, 0, -1], [0, 0, 0, 0], [0, 0, 0, 0]]
bias = [0, 0, 0]
activation = "identity"
reads = ["x", 2]
[loss]
name = "squared_error"
[[parts]]
kind = "update"
x = [0, 0, 1]
y = [0, 0, 0]
learning_rate = "1/100"
optimizer = "adam"
steps = 2
"""


@pytest.mark.skipif(np.finfo(np.longdouble).eps >= np.finfo(float).eps, reason="this platform's long double is float64")
def test_adam_on_a_cancelled_softmax_gradient_is_confirmed() -> None:
    spec = parse_spec(CANCELLATION)
    solution = derive_exactly(spec)
    exact = float(solution["p1.t2.delta1[2]"].approx)
    twin = expected(spec).values["p1.t2.delta1[2]"]
    assert abs(exact) < 1e-10  # a cancellation of terms ≈ 0.36 ...
    assert abs(exact - twin) / abs(exact) < 1e-9  # ... that the long-double twin resolves
    derive.solve(spec)  # and the gate confirms Adam's second step
