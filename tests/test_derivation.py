"""The built-in example's values, checked against the independent SymPy oracle in oracle.py."""

from __future__ import annotations

import contextlib

import numpy as np
import sympy as sp

import derive
from derive.exercise.reader import example_path
from derive.maths.steps import Claim, Recall, Solution
from derive.pipeline import parse_spec
from derive.terms.formula import CLOSED_FORM_NODES, TooLarge, identifier, small
from derive.terms.keys import Scope
from derive.terms.simplest import simplest
from tests import oracle


def test_part1_forward_and_loss_match_the_composed_network(example: Solution) -> None:
    values = oracle.start()
    expected_yhat = oracle.output((1, 1), values)
    assert oracle.same(example["p1.yhat[1]"].exact, expected_yhat)
    assert oracle.same(example["p1.L"].exact, (expected_yhat - 1) ** 2)
    # z^{(1)} = W1 x: (0, 3), so a^{(1)}_1 = σ(0) = 1/2 exactly
    assert example["p1.z1[1]"].exact == 0
    assert example["p1.z1[2]"].exact == 3
    assert example["p1.a1[1]"].exact == sp.Rational(1, 2)


def test_part2_forward_and_loss(example: Solution) -> None:
    expected = oracle.output((1, -1), oracle.start())
    assert oracle.same(example["p2.yhat[1]"].exact, expected)
    assert oracle.same(example["p2.L"].exact, (expected - 1) ** 2)


def test_part3_shows_yhat_one_half_exactly(example: Solution) -> None:
    assert example["p3.yhat[1]"].exact == sp.Rational(1, 2)
    assert example["p3.L"].exact == sp.Rational(1, 4)
    claims = [s for sec in example.part(3).sections for s in sec.steps if isinstance(s, Claim)]
    assert len(claims) == 1 and claims[0].claimed == sp.Rational(1, 2)


def test_part4_gradients_equal_sympy_diff_of_the_composed_loss(example: Solution) -> None:
    expected = oracle.gradients((0, 0), oracle.start())
    for key, value in expected.items():
        # Part 4 reuses part 3's forward pass, so its gradients are keyed under part 4.
        assert example[f"p4.dL/d{key}"].exact == value, key
    assert all(example[f"p4.dL/d{key}"].exact.is_Rational for key in expected)


def test_part4_recalls_part3_instead_of_recomputing(example: Solution) -> None:
    recalls = [s for sec in example.part(4).sections for s in sec.steps if isinstance(s, Recall)]
    assert [r.part for r in recalls] == [3]


def test_part5_sgd_step_and_new_loss(example: Solution) -> None:
    start = oracle.start()
    grads = oracle.gradients((0, 0), start)
    rate = sp.Rational(1, 2)
    new = {p: start[p] - rate * grads[oracle.KEYS[p]] for p in oracle.PARAMS}
    for p, value in new.items():
        head, _, index = oracle.KEYS[p].partition("[")
        got = example[f"p5.{head}_new[{index}"].exact
        assert got == value and got.is_Rational, oracle.KEYS[p]
    expected_loss = (oracle.output((0, 0), new) - 1) ** 2
    assert oracle.same(example["p5.L_new"].exact, expected_loss)
    assert not example["p5.L_new"].exact.is_Rational  # needs a closed form with e


def test_part6_constant_zero_activation(example: Solution) -> None:
    def zero(z: sp.Expr) -> sp.Expr:
        return sp.Integer(0)

    start = oracle.start()
    assert example["p6.yhat[1]"].exact == oracle.output((0, 0), start, act=zero)
    grads = oracle.gradients((0, 0), start, act=zero)
    for key, value in grads.items():
        assert example[f"p6.dL/d{key}"].exact == value, key
    new = {p: start[p] - sp.Rational(1, 2) * grads[oracle.KEYS[p]] for p in oracle.PARAMS}
    assert example["p6.L_new"].exact == (oracle.output((0, 0), new, act=zero) - 1) ** 2 == 0


def test_every_quantity_has_a_unique_key(example: Solution) -> None:
    keys = [q.key for q in example.quantities()]
    assert len(keys) == len(set(keys))


def test_step_values_are_their_formulas_evaluated(example: Solution) -> None:
    for q in example.quantities():
        if q.formula is None or q.exact.is_Float:
            continue
        if isinstance(q.exact, sp.Symbol) and q.exact.name == identifier(q.key):
            # a long closed form stands for itself by a symbol: too long to keep, (a power or root
            # of a long one) not built at all, or built from values that stand for themselves
            with contextlib.suppress(TooLarge):
                value = q.formula.exact()
                assert value.free_symbols or not small(value, CLOSED_FORM_NODES)
        else:
            # the value is its formula's, in the shortest form found (derive.terms.simplest)
            assert q.exact == simplest(q.formula.exact())


def test_gradients_with_respect_to_the_input_are_derived_and_verified() -> None:
    text = (
        example_path()
        .read_text(encoding="utf-8")
        .replace('kind = "gradients"', 'kind = "gradients"\nwrt = ["W1", "x"]')
    )
    assert 'wrt = ["W1", "x"]' in text
    solution = derive.solve(parse_spec(text))
    part = next(p for p in solution.parts if getattr(p.part.params, "wrt", ()) == ("W1", "x"))
    keys = [q.key for q in part.quantities()]
    n = part.part.number
    assert f"p{n}.dL/dx[1]" in keys and f"p{n}.dL/dx[2]" in keys
    assert f"p{n}.dL/db1[1]" not in keys  # only what was asked for
    # ∂L/∂x = W^{(1)ᵀ} δ^{(1)}, from the given weights and the part's own δ.
    w = np.array([[float(v) for v in row] for row in solution.spec.network.layers[0].weights])
    delta = np.array([float(solution[f"p{n}.delta1[{j}]"].approx) for j in (1, 2)])
    for k, expected in enumerate(w.T @ delta, 1):
        assert abs(float(solution[f"p{n}.dL/dx[{k}]"].approx) - expected) < 1e-12


def test_frozen_entries_keep_their_values_through_every_step() -> None:
    path = example_path().parent.parent.parent / "examples" / "frozen_parameters.toml"
    spec = derive.load_spec(path)
    part = spec.parts[-1]
    solution = derive.solve(spec)  # verified: the float twin masks the same entries independently
    given = {q.key: q.exact for g in solution.givens for row in g.entries for q in row}
    for t in range(1, part.params.steps + 1):
        moved = {
            key: solution[f"p2.{key.split('[')[0]}_new{t if t > 1 else ''}[{key.split('[')[1]}"].exact for key in given
        }
        for key in part.params.frozen:
            assert moved[key] == given[key]
        assert sum(moved[key] != given[key] for key in given if key not in part.params.frozen) >= 5


SOFTMAX_EXAMPLE = example_path().parent.parent.parent / "examples" / "softmax_cross_entropy.toml"


def test_softmax_with_cross_entropy_backpropagates_to_prediction_minus_target() -> None:
    from derive.maths.steps import Finding
    from derive.terms.formula import equal

    spec = derive.load_spec(SOFTMAX_EXAMPLE)
    assert [float(v) for v in spec.parts[0].sample.y] == [0.0, 1.0, 0.0]  # type: ignore[union-attr]  # y = 2
    solution = derive.solve(spec)  # verified against the float twin's Jacobian and finite differences
    outputs = [solution[f"p1.yhat[{j}]"] for j in (1, 2, 3)]
    assert equal(sum(q.exact for q in outputs), sp.Integer(1))  # a distribution, exactly
    # δ^{(2)} through the Jacobian equals ŷ − y, checked here independently of the sheet's own check.
    for j, (q, y) in enumerate(zip(outputs, (0, 1, 0), strict=True), 1):
        assert equal(solution[f"p2.delta2[{j}]"].exact, q.exact - y)
    # ḡ = Σ a_i ∂L/∂a_i = −Σ y_i = −1
    assert solution["p2.gbar2"].exact == -1
    findings = [s.key for sec in solution.part(2).sections for s in sec.steps if isinstance(s, Finding)]
    assert "softmax_ce_shortcut" in findings


def test_the_softmax_shortcut_is_only_stated_where_it_holds() -> None:
    from derive.maths.derivation import softmax_identity
    from derive.maths.steps import Finding
    from derive.terms.formula import equal

    assert all(softmax_identity(n) for n in (2, 3, 4))
    assert not equal(sp.Symbol("a") * (1 - sp.Symbol("a")), sp.Symbol("a"))  # equal() can say no
    # Averaged over the outputs, δ = (ŷ − y)/n: the sheet must not claim ŷ − y.
    text = SOFTMAX_EXAMPLE.read_text(encoding="utf-8").replace(
        'name = "categorical_cross_entropy"', 'name = "categorical_cross_entropy"\nreduction = "mean"'
    )
    solution = derive.solve(parse_spec(text))
    findings = [s.key for p in solution.parts for sec in p.sections for s in sec.steps if isinstance(s, Finding)]
    assert "softmax_ce_shortcut" not in findings
    assert equal(solution["p2.delta2[2]"].exact, (solution["p1.yhat[2]"].exact - 1) / 3)


def test_a_power_of_a_long_closed_form_stands_by_a_symbol_with_its_decimal() -> None:
    from derive.terms.formula import POWER_NODES, Power, Quantity, Ref, approximate
    from derive.terms.symbols import Sym

    long = sum((sp.exp(-sp.Rational(k, 3)) / (1 + sp.exp(sp.Integer(k))) for k in range(1, 12)), sp.Integer(0))
    assert not small(long, POWER_NODES)
    g = Quantity(Sym("g"), long, approximate(long), None, Scope())
    squared = Quantity.computed(Sym("s"), Power(Ref(g), 2), Scope.part(1))
    assert isinstance(squared.exact, sp.Symbol) and squared.exact.name == identifier("p1.s")
    assert abs(float(squared.approx) - float(long.evalf(30)) ** 2) < 1e-14


def test_a_custom_formula_of_a_long_closed_form_stands_by_a_symbol_with_its_decimal() -> None:
    # Fuzzing found it: a custom loss (ŷ − y)^2 + (ŷ − y)^4/4 of an updated output's closed form
    # ran for minutes in SymPy's automatic evaluation, as Power once did.
    from derive.catalog.losses import custom_loss
    from derive.terms.formula import POWER_NODES, Num, Quantity, Ref, approximate
    from derive.terms.symbols import Sym

    long = sum((sp.exp(-sp.Rational(k, 3)) / (1 + sp.exp(sp.Integer(k))) for k in range(1, 12)), sp.Integer(0))
    assert not small(long, POWER_NODES)
    yhat = Quantity(Sym("yhat"), long, approximate(long), None, Scope())
    loss = custom_loss("(yhat - y)^2 + (yhat - y)^4/4")
    value = Quantity.computed(Sym("L"), loss.term(Ref(yhat), Num(sp.Integer(1))), Scope.part(1))
    assert isinstance(value.exact, sp.Symbol)
    d = float(long.evalf(30)) - 1
    assert abs(float(value.approx) - (d**2 + d**4 / 4)) < 1e-14
    short = Quantity(Sym("yhat"), sp.Rational(1, 2), approximate(sp.Rational(1, 2)), None, Scope())
    assert Quantity.computed(Sym("L"), loss.term(Ref(short), Num(sp.Integer(1))), Scope.part(1)).exact == sp.Rational(
        17, 64
    )


def test_tied_entries_step_together_with_the_sum_of_their_gradients() -> None:
    path = example_path().parent.parent.parent / "examples" / "tied_parameters.toml"
    spec = derive.load_spec(path)
    part = spec.parts[-1]
    solution = derive.solve(spec)  # verified: the twin sums independently, differences move a group together
    for number, group in enumerate(part.params.tied, 1):
        # Step 1's gradients are those of part 1 (the same sample, recalled): θ_g's is their sum.
        assert solution[f"p2.dL/dtied{number}"].exact == sum(solution[f"p1.dL/d{key}"].exact for key in group)
        for t in range(1, part.params.steps + 1):
            moved = [solution[f"p2.{key.split('[')[0]}_new{t if t > 1 else ''}[{key.split('[')[1]}"] for key in group]
            # Still one shared value: the same 40 digits (a long closed form stands by a symbol per entry).
            assert len({q.approx for q in moved}) == 1 and moved[0].approx != solution[f"{group[0]}"].approx


def test_a_shared_bias_gets_the_sum_of_the_units_error_signals() -> None:
    path = example_path().parent.parent.parent / "examples" / "shared_bias.toml"
    solution = derive.solve(derive.load_spec(path))  # verified; PyTorch agrees (test_torch)
    assert solution["p1.dL/db1"].exact == solution["p1.delta1[1]"].exact + solution["p1.delta1[2]"].exact
    assert "p1.dL/db1[1]" not in solution and "p2.b1_new[1]" not in solution and "p2.b1_new" in solution


def test_gradients_of_an_output_are_sympy_diff_of_the_output_itself() -> None:
    """No loss: ∂ŷ_j/∂θ from the seed 1, against ``sympy.diff`` of the composed output ŷ_j."""
    path = example_path().parent.parent.parent / "examples" / "output_gradient.toml"
    spec = derive.load_spec(path)
    solution = derive.solve(spec)
    first, second = spec.network.layers
    symbols = {
        name: sp.Matrix(len(rows), len(rows[0]), lambda j, k, n=name: sp.Symbol(f"{n}_{j + 1}{k + 1}"))
        for name, rows in (("w1", first.weights), ("w2", second.weights), ("b1", [first.bias]), ("b2", [second.bias]))
    }
    x = sp.Matrix(sp.symbols("x_1 x_2"))
    hidden = (symbols["w1"] * x + symbols["b1"].T).applyfunc(sp.tanh)
    outputs = symbols["w2"] * hidden + symbols["b2"].T  # identity output layer
    given = {sym: value for name, rows in (("w1", first.weights), ("w2", second.weights)) for sym, value in
             zip(symbols[name], [v for row in rows for v in row], strict=True)}  # fmt: skip
    given |= dict(zip(symbols["b1"], first.bias, strict=True)) | dict(zip(symbols["b2"], second.bias, strict=True))
    assert spec.parts[0].sample is not None
    given |= dict(zip(x, spec.parts[0].sample.x, strict=True))
    checked = 0
    for part in spec.parts:
        assert part.output is not None
        of = outputs[part.output - 1]
        for q in solution.part(part.number).quantities():
            if not q.key.startswith(f"p{part.number}.dyhat[{part.output}]/d"):
                continue
            name = q.key.split("/d", 1)[1]
            if name[0] not in "xwb":  # the seed and ∂ŷ_j/∂a^{(1)}: steps on the way
                continue
            if name.startswith("x"):
                wrt = x[int(name[2]) - 1]
            elif name.startswith("w"):
                j, k = name[3:-1].split(",")
                wrt = symbols[name[:2]][int(j) - 1, int(k) - 1]
            else:
                wrt = symbols[name[:2]][int(name[3]) - 1]
            expected = sp.diff(of, wrt).xreplace(given)
            assert abs(sp.N(q.exact - expected, 40)) < 1e-35, q.key
            checked += 1
    assert checked == 2 + 4 + 2 + 4 + 2 + 4 + 2  # part 1: x, W1, b1, W2, b2; part 2: W1, x
    # The seed: ∂ŷ_1/∂ŷ_1 = 1 and ∂ŷ_1/∂ŷ_2 = 0; no loss anywhere.
    assert solution["p1.dyhat[1]/dyhat[1]"].exact == 1 and solution["p1.dyhat[1]/dyhat[2]"].exact == 0
    assert not any(q.key.endswith(".L") for q in solution.quantities())


COMBINED = """
[sheet]
title = "Kombination"
language = "de"
significant = 3

[network]
inputs = 2
[[network.layers]]
weights = [[1, -1], [2, 1]]
bias = { shared = "1/2" }
activation = "tanh"
[[network.layers]]
weights = [[1, -1, "1/2", 1], [0, 1, 1, -1]]
bias = "none"
activation = "softmax"
reads = ["x", 1]

[loss]
name = "categorical_cross_entropy"

[[parts]]
kind = "forward"
x = [1, -1]
y = 2

[[parts]]
kind = "gradients"
of = "yhat[1]"
use_sample_of = 1
wrt = ["W1", "b1", "W2", "x"]

[[parts]]
kind = "gradients"
use_sample_of = 1

[[parts]]
kind = "update"
use_sample_of = 1
learning_rate = "1/2"
optimizer = "adam"
frozen = ["w2[1,1]"]
tied = [["w1[1,1]", "w2[1,4]"]]
steps = 2

[[parts]]
kind = "batch"
samples = [{ x = [1, 0], y = 1 }, { x = [0, 1], y = 2 }]
learning_rate = "1/10"
mode = "per_sample"
optimizer = "momentum"

[[parts]]
kind = "replace_activation"
layer = 1
activation = "relu"
use_sample_of = 1
learning_rate = "1/2"
"""


def test_the_features_combine_and_verify() -> None:
    """Skip connections, a shared bias, a layer without one, softmax in the output, the no-loss mode,
    Adam with frozen and tied entries, a per-sample batch and a replaced activation, in German with
    significant figures: one sheet, every value through the gate."""
    spec = parse_spec(COMBINED)
    solution = derive.solve(spec)  # raises if any value disagrees with the float twin or the differences
    assert spec.network.skips and spec.parts[1].output == 1
    keys = {q.key for q in solution.quantities()}
    assert "p2.dyhat[1]/dx[1]" in keys and "p3.dL/dx[1]" not in keys
    assert "p4.b1_new2" in keys and "p5.s2.dL[2]/dw2[2,4]" in keys and "p5.s2.dL[2]/db1" in keys
    text = derive.render(solution).solution
    assert "signifikante Stellen" in text and "Skip-Verbindung" in text


def test_a_deep_chain_derives_linearly_and_matches_a_float_backprop() -> None:
    # A chain of 1×1 sigmoid layers once cost twice as much per layer (10 layers 48 s): SymPy
    # decided signs of exponentials nested in exponentials. Values nested deeper than
    # NESTED_FUNCTIONS now stand by a symbol, and stay exact through their formulas.
    import math

    from derive.terms.formula import NESTED_FUNCTIONS, nesting

    depth = 40
    weights = [sp.Rational(k % 3 + 1, 2) for k in range(depth)]
    biases = [sp.Rational(1, k + 2) for k in range(depth)]
    text = "[network]\ninputs = 1\n"
    for k in range(depth):
        activation = "identity" if k == depth - 1 else "sigmoid"
        text += f'[[network.layers]]\nweights = [["{weights[k]}"]]\nbias = ["{biases[k]}"]\n'
        text += f'activation = "{activation}"\n'
    text += '[loss]\nname = "squared_error"\n[[parts]]\nkind = "gradients"\nx = [1]\ny = 1\n'
    solution = derive.solve(parse_spec(text))
    derive.verify(solution)
    # The oracle: plain float backpropagation, written out here.
    a, zs = [1.0], []
    for k in range(depth):
        zs.append(float(weights[k]) * a[-1] + float(biases[k]))
        a.append(zs[-1] if k == depth - 1 else 1 / (1 + math.exp(-zs[-1])))
    delta = 2 * (a[-1] - 1)
    for k in reversed(range(depth)):
        if k < depth - 1:
            s = a[k + 1]
            delta *= s * (1 - s)
        assert math.isclose(float(solution[f"p1.dL/dw{k + 1}[1,1]"].approx), delta * a[k], rel_tol=1e-12)
        delta *= float(weights[k])
    assert not solution["p1.a3[1]"].exact.free_symbols  # a short closed form stays one
    deep = [solution[f"p1.a{k}[1]"].exact for k in range(1, depth)]
    assert all(nesting(value) <= NESTED_FUNCTIONS for value in deep)
    assert deep[-1].free_symbols  # built on a symbol standing for an earlier value
