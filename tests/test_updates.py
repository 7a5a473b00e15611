"""Optimizer-step display helpers: entry symbols from keys, and the masked gradients of frozen entries."""

from __future__ import annotations

from pathlib import Path

import derive
from derive.maths.derivation import Derivation
from derive.maths.network import backward, forward, given_sample
from derive.maths.updates import masked
from derive.terms.keys import Scope, parse_entry
from derive.terms.symbols import Sym
from tests.test_cli import text_of


def test_an_entry_key_names_its_symbol() -> None:
    assert parse_entry("w2[1,3]") == Sym("w", 2, (1, 3))
    assert parse_entry("b1[2]") == Sym("b", 1, (2,))


def test_masking_zeroes_exactly_the_frozen_entries_under_their_own_keys() -> None:
    spec = derive.load_example()
    d = Derivation(spec)
    sample = spec.parts[0].sample
    assert sample is not None
    x, y = given_sample(sample, Scope.part(1))
    fwd = forward(spec.network, d.params, x, y, spec.loss, Scope.part(1))
    bwd = backward(spec.network, d.params, fwd, spec.loss, Scope.part(1))
    out = masked(bwd, ("w1[2,1]", "b2[1]"), Scope.part(1))
    assert out.gradients.weights[0][1][0].key == "p1.frozen.dL/dw1[2,1]" and out.gradients.weights[0][1][0].exact == 0
    assert out.gradients.biases[1][0].key == "p1.frozen.dL/db2[1]"
    assert out.gradients.weights[0][0][0] is bwd.gradients.weights[0][0][0]
    assert bwd.gradients.weights[0][1][0].exact != 0  # the unmasked pass is untouched


def test_four_optimizer_steps_compile(tmp_path: Path) -> None:
    """After four steps a weight is w^{[4](1)}: the sheet compiles and shows the last step."""
    spec = derive.parse_spec(
        '[network]\n[[network.layers]]\nweights = [[1]]\nbias = [0]\nactivation = "sigmoid"\n'
        '[loss]\nname = "squared_error"\n'
        '[[parts]]\nkind = "update"\nx = [1]\ny = 1\nlearning_rate = "1/10"\nsteps = 4\n',
        name="four",
    )
    built = derive.build_sheet(spec, derive.Options(output_dir=tmp_path))
    assert "p1.w1_new4[1,1]" in {q.key for q in built.solution.quantities()}
    assert "b[4](1) = b′′′(1) − α" in text_of(tmp_path / "four-solution.pdf")  # the fourth step, after three
