"""The letters θ, t, s and p: a quantity may take one where no part of the sheet writes it for
something else (a textbook's bias θ_j, target t, probability p); a clash is one line naming both."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from derive.exercise.kind import Nothing, PartKind
from derive.exercise.letters import SHARED
from derive.exercise.notation import STANDARD
from derive.kinds import KINDS
from derive.pipeline import Options, build_sheet, parse_spec
from tests.test_spec import refusal

NETWORK = """
[network]
inputs = 2

[[network.layers]]
weights = [[0.15, 0.2], [0.25, 0.3]]
bias = [0.35, 0.35]
activation = "sigmoid"

[[network.layers]]
weights = [[0.4, 0.45]]
bias = [0.6]
activation = "sigmoid"

[loss]
name = "half_squared_error"

[[parts]]
kind = "forward"
x = [0.05, 0.1]
y = [0.01]
"""


def spec(names: str, *parts: str) -> str:
    """The network above with ``names`` as its [notation] and a forward part, then ``parts``."""
    return f"[notation]\n{names}\n{NETWORK}" + "".join(f"\n[[parts]]\n{part}\n" for part in parts)


UPDATE = 'kind = "update"\nuse_sample_of = 1\nlearning_rate = 0.5\n'


def test_a_forward_sheet_lets_a_quantity_take_every_shared_letter(tmp_path: Path) -> None:
    text = spec('b = "theta"\ny = "t"\nyhat = "hat p"\nz = "s"')
    build_sheet(parse_spec(text, name="letters"), Options(output_dir=tmp_path, pdf=False))
    tex = (tmp_path / "letters-solution.tex").read_text()
    assert r"\theta^{(1)}_{1}" in tex and r"s^{(1)}_{2}" in tex and r"\hat{p}" in tex
    assert r"\theta^{(1)}" in (tmp_path / "letters-exercise.tex").read_text()


@pytest.mark.parametrize(
    ("names", "part", "message"),
    [
        (
            'b = "theta"',
            'kind = "gradients"\nuse_sample_of = 1',
            "notation.b: 'theta' is taken: part 2 (gradients) writes a parameter in the questions and update rules",
        ),
        ('y = "t"', UPDATE + 'optimizer = "adam"', "notation.y: 't' is taken: part 2 (update) writes the step counter"),
        ('y = "t"', UPDATE + "steps = 2\n" + 'optimizer = "momentum"', "part 2 (update) writes the step counter"),
        ('a = "s"', UPDATE + 'optimizer = "rmsprop"', "notation.a: 's' is taken: part 2 (update) writes RMSProp's"),
        ('yhat = "hat p"', 'kind = "cross_entropy"\np = [0.5]', "'hat p' is taken: part 2 (cross_entropy)"),
    ],
)
def test_a_letter_a_part_writes_stays_refused_naming_both(names: str, part: str, message: str) -> None:
    assert message in refusal(spec(names, part))


@pytest.mark.parametrize(
    ("names", "part"),
    [
        ('y = "t"', UPDATE),  # plain gradient descent counts no steps: θ' = θ − α ∂L/∂θ
        ('y = "t"\nyhat = "p"', 'kind = "gradients"\nuse_sample_of = 1'),
        ('a = "s"', UPDATE + 'optimizer = "momentum"'),  # momentum's state is v, not s
        ('yhat = "p"', UPDATE + 'optimizer = "adam"'),
    ],
)
def test_a_letter_no_part_writes_is_free(names: str, part: str, tmp_path: Path) -> None:
    build_sheet(parse_spec(spec(names, part), name="free"), Options(output_dir=tmp_path, pdf=False))
    assert (tmp_path / "free-solution.tex").exists()


def test_the_letters_every_sheet_writes_stay_refused() -> None:
    assert "notation.z: 'e' is taken: the sheet writes Euler's number with it" in refusal(spec('z = "e"'))
    assert "'v' is taken" in refusal(spec('a = "v"'))
    assert set(SHARED) == {"theta", "t", "s", "p"}


def test_each_kind_says_its_letters_and_one_that_does_not_writes_all_four() -> None:
    forward = KINDS["forward"]
    silent = PartKind(**{f.name: getattr(forward, f.name) for f in fields(forward) if f.name != "letters"})
    assert forward.letters(Nothing(), STANDARD) == {} and silent.letters(Nothing(), STANDARD) == dict(SHARED)
    assert set(KINDS["cross_entropy"].letters(None, STANDARD)) == {"theta", "p"}
