"""What makes wide networks fast keeps every value and every text: values computed from values that
stand for themselves by a symbol, the answers' JSON writer, the decimals read from the carried
digits, the finite differences of all parameters in one batched pass."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import sympy as sp
from mpmath import libmp

import derive
from derive.exercise.model import Network
from derive.maths.steps import Solution
from derive.render.answers import indented
from derive.terms import formula
from derive.terms.formula import MP, Difference, Product, Quantity, Ref, Sum, identifier
from derive.terms.symbols import Sym
from derive.tex import decimals
from derive.tex.decimals import Digits, decimal, shown
from derive.verify import twins
from derive.verify.floats import Array, FloatNet

EXAMPLES = Path(__file__).parent.parent / "examples"


def standing(name: str, approx: float) -> Quantity:
    """A quantity whose closed form was too long: its exact value is a symbol of its own."""
    return Quantity(Sym(name), sp.Symbol(identifier(name)), MP.mpf(approx))


def test_a_value_computed_from_a_stand_in_stands_for_itself() -> None:
    z, w = standing("z", 0.5), Quantity.given(Sym("w"), sp.Rational(3, 10))
    q = Quantity.computed(Sym("a"), Sum((Product((Ref(w), Ref(z))), Ref(w))))
    assert q.exact == sp.Symbol(identifier(q.key)) and q.stands
    assert abs(q.approx - (MP.mpf(3) / 10 * MP.mpf(0.5) + MP.mpf(3) / 10)) < MP.mpf(10) ** -40


def test_what_cancels_symbolically_stays_exact() -> None:
    # Decided as with the stand-ins' own symbols: a product with an exact 0, and x - x.
    z, zero = standing("z", 0.5), Quantity.given(Sym("x"), 0)
    assert Quantity.computed(Sym("g"), Product((Ref(z), Ref(zero)))).exact == 0
    assert Quantity.computed(Sym("d"), Difference(Ref(z), Ref(z))).exact == 0
    assert Quantity.computed(Sym("e"), Difference(Ref(z), Ref(standing("y", 0.5)))).stands


def test_the_answers_json_is_the_json_modules_text() -> None:
    document = {
        "a": [],
        "b": {},
        "c": [1, 2.5, -0.0, 1e-300, float("inf"), float("-inf"), True, False, None, 'ŷ "q"\n\t\u2028'],
        "d": {"e": [{"f": [[]], "g": {"h": 10**30}}], "i": "Σ"},
        "j": {1: "not a string key", None: 2},
        "k": (3, "tuple"),
        "l": Digits(4),
    }
    assert indented(document) == json.dumps(document, indent=2, ensure_ascii=False)


def test_decimals_are_read_from_the_digits_of_a_40_digit_float() -> None:
    # decimal() and shown() read the digits str(sp.Float(value, 40)) has, without building the Float.
    random.seed(23)
    values = [MP.mpf(random.uniform(-1, 1)) * MP.mpf(10) ** random.randint(-30, 30) / 7 for _ in range(300)]
    values += [MP.mpf(random.randint(-(10**6), 10**6)) / 10 ** random.randint(0, 8) for _ in range(300)]
    values += [random.uniform(-1e6, 1e6) for _ in range(100)] + [0.06175, 9.99995, 5e-5, 0.0, MP.zero, MP.mpf(1) / 3]
    for value in values:
        assert Decimal(libmp.to_str(decimals._binary(value), 40)) == Decimal(str(sp.Float(value, 40)))
    assert decimal(MP.mpf(10) ** -400000 * 3, 4) == r"3.000 \cdot 10^{-400000}"
    assert shown(MP.mpf(10) ** -400000 * 3) is None and shown(MP.mpf(1) / 3) == Decimal("0.3333")


def nudged_examples() -> Iterator[tuple[str, Network, FloatNet, Array, Array, twins.NetLoss]]:
    """Examples with skips, shared biases and tanh: each network, its float twin as the differences
    nudge it, the sample of its first part with one, and the loss of a pass."""
    for name in ("skip_connections", "shared_bias", "activation_tanh"):
        spec = derive.parse_spec((EXAMPLES / f"{name}.toml").read_text())
        part = next(p for p in spec.parts if p.sample is not None)
        network, loss = part.network_and_loss(spec)
        x, y = (v.astype(float) for v in twins.sample_of(part))
        yield name, network, FloatNet.of(network).coarse(), x, y, twins.network_loss(network, loss)


def same(estimate: float, noise: float, one: float, one_noise: float) -> bool:
    """Equal to float64's rounding, far below the gate's 1e-6."""
    return abs(estimate - one) < 1e-8 * max(1.0, abs(one)) and abs(noise - one_noise) < 1e-8


def test_the_differences_of_all_parameters_at_once_are_those_of_one_pass_each() -> None:
    # The rows of one batched pass nudge one entry each, as _nudge_param's passes do: the same
    # estimates, skips and shared biases too.
    for name, network, net, x, y, whole in nudged_examples():
        assert net.elementwise
        entries = twins.param_symbols(network)
        batched = twins._param_differences(net, x, y, whole, entries)
        for (kind, _, l, index), nudged in zip(entries, batched, strict=True):
            start = float((net.weights if kind == "w" else net.biases)[l - 1][index])
            assert same(*nudged, *twins._nudge_param(net, x, y, whole, (kind, l, index), start)), (name, kind, l)


def test_the_differences_of_all_units_and_inputs_at_once_are_those_of_one_pass_each() -> None:
    # Each layer's z and a nudges, and the inputs', as rows of one batched pass: the same estimates
    # as one forward pass a nudge, through skip connections (an output read by two layers) too.
    for name, network, net, x, y, whole in nudged_examples():
        places = [("x", 0), *((kind, l) for l in range(1, len(network.layers) + 1) for kind in ("z", "a"))]
        for kind, layer in places:
            batched = twins._unit_differences(net, x, y, whole, kind, layer)
            assert len(batched) == (len(x) if kind == "x" else len(network.layers[layer - 1].weights))
            for j, nudged in enumerate(batched):
                one = (
                    twins._nudge_input(net, x, y, whole, j)
                    if kind == "x"
                    else twins._nudge(net, x, y, whole, (kind, layer, j))
                )
                assert same(*nudged, *one), (name, kind)


def test_a_sum_too_long_to_keep_is_known_before_it_is_built() -> None:
    # Terms of parts no other term has stay in a sum: 40 of them are past the limit, built or not.
    exps = [1 / (1 + sp.exp(sp.Rational(k, 7))) for k in range(1, 41)]
    terms = tuple(Ref(Quantity(Sym("a", None, (k,)), e, MP.one)) for k, e in enumerate(exps, 1))
    assert not formula.small(sp.Add(*exps), formula.CLOSED_FORM_NODES)
    assert Sum(terms).closed(formula.CLOSED_FORM_NODES) is None
    # What cancels is still found: a long term and its negative, a few short ones.
    back = tuple(Ref(Quantity(Sym("b", None, (k,)), -e, MP.one)) for k, e in enumerate(exps, 1))
    assert Sum(terms + back).closed(formula.CLOSED_FORM_NODES) == 0
    assert Sum(terms[:3]).closed(formula.CLOSED_FORM_NODES) == sp.Add(*exps[:3])


def test_the_parts_of_a_term_read_off_its_factors_are_those_of_its_value(example: Solution) -> None:
    # Every term of every sum of the built-in example: w·a read off its factors as SymPy multiplies it.
    terms = [t for q in example.quantities() if isinstance(q.formula, Sum) for t in q.formula.terms]
    assert len(terms) > 50
    for term in terms:
        value = term.exact()
        whole = [
            t.as_coeff_Mul()[1]
            for t in (value.args if value.is_Add else (value,))
            if not (t.is_Number or (t.is_Pow and t.base.is_Number))
        ]
        assert formula._parts(term) == whole, term
