"""Words are data: the language catalogues hold one message per key, every record's words exist in
every language, and a part's prose comes from the same records as its maths."""

from __future__ import annotations

import re

import pytest

import derive
from derive.catalog.activations import ACTIVATIONS
from derive.catalog.losses import LOSSES
from derive.catalog.optimizers import OPTIMIZERS
from derive.exercise.model import LANGUAGES
from derive.kinds import KINDS
from derive.render.templates import environment, template_dirs
from derive.tex.style import Style
from tests.test_degenerate import SEED_LAYERS

LANG = template_dirs()[-1] / "lang"


def _messages(language: str) -> set[str]:
    return set(re.findall(r"<% macro (\w+)\(", (LANG / f"{language}.tex.j2").read_text(encoding="utf-8")))


def _wanted() -> set[str]:
    """Every message the catalogue records and the part kinds name."""
    keys = {f"question_{name}" for name in KINDS}
    for entry in ACTIVATIONS.values():
        prose = entry.build(**entry.params).prose
        keys |= {f"activation_{prose}", f"identity_{prose}"}
    keys |= {f"identity_{loss.prose}" for loss in LOSSES.values()} | {"identity_custom_loss"}
    for optimizer in OPTIMIZERS.values():
        keys |= {f"optimizer_{optimizer.prose}", f"identity_{optimizer.prose}", f"steps_note_{optimizer.prose}"}
        if optimizer.first_step:
            keys.add(f"finding_{optimizer.first_step}")
    return keys


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_message_a_record_names_exists_in_every_language(language: str) -> None:
    assert _wanted() <= _messages(language), _wanted() - _messages(language)
    assert _messages(language) == _messages("en"), _messages(language) ^ _messages("en")


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_no_catalogue_branches_on_a_kind_or_a_catalogue_name(language: str) -> None:
    text = (LANG / f"{language}.tex.j2").read_text(encoding="utf-8")
    names = {*KINDS, *OPTIMIZERS, *ACTIVATIONS, *LOSSES}
    # What a message may compare: its own parameters (a batch's mode "batch", a layer's biases "all").
    compared = {value for subject, value in re.findall(r'([\w.]+) [!=]= "(\w+)"', text) if subject != "q.mode"}
    assert not compared & names, compared & names


def test_a_missing_message_stops_the_build_naming_it() -> None:
    env = environment((), Style())
    with pytest.raises(Exception, match="have no message question_nothing"):
        env.globals["say"]("question", "nothing")  # type: ignore[operator]


BASE = f"""
[network]
inputs = 2
{SEED_LAYERS}
[loss]
name = "squared_error"
"""
PARTS = {
    "update": 'kind = "update"\nx = [1, 1]\ny = 1\nlearning_rate = "1/10"\n',
    "replace_activation": 'kind = "replace_activation"\nx = [1, 1]\ny = 1\nlayer = 1\nactivation = "relu"\n'
    'learning_rate = "1/10"\n',
    "learning_rates": 'kind = "learning_rates"\nx = [1, 1]\ny = 1\nlearning_rates = ["1/10", 1]\nsteps = 3\n',
    "compare_optimizer": 'kind = "compare_optimizer"\nx = [1, 1]\ny = 1\nlearning_rate = "1/10"\nsteps = 1\n',
    "batch": 'kind = "batch"\nlearning_rate = "1/10"\nsamples = [{ x = [1, 1], y = 1 }, { x = [1, -1], y = 0 }]\n',
}


@pytest.mark.parametrize("kind", sorted(PARTS))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_in_every_kind_that_takes_one_is_named_as_used(kind: str, name: str) -> None:
    optimizer = OPTIMIZERS[name]
    spec = derive.parse_spec(BASE + f'[[parts]]\n{PARTS[kind]}optimizer = "{name}"\n', name="words")
    documents = derive.render(derive.solve(spec))
    question = documents.exercise.split(r"\begin{enumerate}")[1]
    say = environment((), Style()).globals["say"]
    words = str(say("optimizer", optimizer.prose))  # type: ignore[operator]
    assert words in question or (optimizer.plain and "gradient descent" in question), (kind, name)
    for other in OPTIMIZERS.values():
        if other.label not in optimizer.label and other.label not in ("SGD",):
            assert other.label not in question, (kind, name, other.label)  # no other optimizer's name
    assert Style().printer().pattern(optimizer.formula) in documents.solution  # its own rule, from the same record


@pytest.mark.parametrize(
    ("name", "ratio"), [("momentum", "1.0000"), ("nesterov", "1.9000"), ("momentum_ema", "0.1000")]
)
def test_an_optimizer_without_its_own_account_is_compared_by_its_ratio_to_sgd(name: str, ratio: str) -> None:
    # First steps worked by hand: v_1 = g, so momentum moves −αg (SGD's step), Nesterov −α(g + βg) = 1.9
    # times it, and the averaging form −α(1 − β)g = 0.1 times it (β = 0.9).
    spec = derive.parse_spec(BASE + f'[[parts]]\n{PARTS["compare_optimizer"]}optimizer = "{name}"\n', name="ratio")
    solution = derive.render(derive.solve(spec)).solution
    assert rf"is \({ratio}\) times SGD's step" in solution


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("en", "Compute the first step of Adam", "Compute the first 2 steps of Adam"),
        ("de", "Berechnen Sie den ersten Schritt mit Adam", "Berechnen Sie die ersten 2 Schritte mit Adam"),
    ],
)
def test_one_optimizer_step_is_asked_in_the_singular(language: str, one: str, two: str) -> None:
    from pathlib import Path

    text = (Path(__file__).parent.parent / "derive/examples/backprop.toml").read_text(encoding="utf-8")
    text = text.replace("[sheet]\n", f'[sheet]\nlanguage = "{language}"\n', 1)
    assert "steps = 2\nuse_sample_of = 3" in text
    for steps, words in ((1, one), (2, two)):
        spec = derive.parse_spec(text.replace("steps = 2\nuse_sample_of = 3", f"steps = {steps}\nuse_sample_of = 3"))
        assert words in derive.render(derive.solve(spec)).exercise
