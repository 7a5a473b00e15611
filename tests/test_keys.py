"""Answer keys: built from structure, printed and parsed back in one place."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.terms.keys import Key, Scope, parse, parse_entry
from derive.terms.symbols import LOSS, LossAt, Norm, Partial, Stat, StepSize, Sym, Tied, Updated, weight
from tests.sheets import single

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("w1[2,1]", Key(Scope(), Sym("w", 1, (2, 1)))),
        ("p4.t2.dL/dw1[2,1]", Key(Scope.part(4).step(2), Partial(LOSS, Sym("w", 1, (2, 1))))),
        ("p3.s2.L[2]", Key(Scope.part(3).sample(2), Sym("L", None, (2,)))),
        ("p5.w2_new3[1,1]", Key(Scope.part(5), Updated(Sym("w", 2, (1, 1)), 3))),
        ("p10.t2.vhat2(b1[1])", Key(Scope.part(10).step(2), Stat("vhat", Sym("b", 1, (1,)), 2))),
        ("p6.s1(w1[1,1])", Key(Scope.part(6), Stat("s", Sym("w", 1, (1, 1)), 1))),  # RMSProp's s, not a sample
        ("p7.plot.L(p=1/40,y=0)", Key(Scope.part(7).tag("plot"), LossAt(sp.Rational(1, 40), 0))),
        ("p9.sigmoid.norm(dL/dW1)", Key(Scope.part(9).tag("sigmoid"), Norm(Partial(LOSS, weight(1))))),
        ("p10.adam_step(b2)", Key(Scope.part(10), StepSize("adam", Sym("b", 2)))),
        ("p5.dL/dtied1", Key(Scope.part(5), Partial(LOSS, Tied(1)))),
        ("p4.run1.t3.d.yhat_new3", Key(Scope.part(4).run(1).step(3).tag("d"), Updated(Sym("yhat"), 3))),
        ("p2.beta1", Key(Scope.part(2), Sym("beta1"))),
    ],
)
def test_a_key_prints_and_parses_as_its_structure(text: str, key: Key) -> None:
    assert str(key) == text
    assert parse(text) == key


def test_every_quantity_of_every_example_parses_back_to_its_key() -> None:
    for path in [ROOT / "derive/examples/backprop.toml", *single(sorted((ROOT / "examples").glob("*.toml")))]:
        solution = derive.solve(derive.load_spec(path))
        for q in solution.quantities():
            parsed = parse(q.key)
            assert (str(parsed), parsed.scope, parsed.symbol.key) == (q.key, q.scope, q.symbol.key), q.key


@pytest.mark.parametrize("text", ["", "w1[", "p1.", "d/d"])
def test_what_is_not_a_key_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse(text)


def test_an_entry_of_a_frozen_or_tied_list_reads_as_its_symbol() -> None:
    assert parse_entry("w2[1,3]") == Sym("w", 2, (1, 3))
    assert parse_entry("b2") == Sym("b", 2)  # a shared bias
