"""Every given a solution works from is stated on the exercise sheet, so that a student can redo the
solution line by line from the exercise alone: the samples, learning rates and hyperparameters, the
points, an inserted layer, the frozen and tied entries, the state an optimizer starts from, the
number of steps, and the rounding (the student policy, a part's own places).

What a given is, is read off the solution: every quantity of a part with no formula (a number the
part starts from), and of each optimizer step its tied groups, its state and its steps. Each is
printed by the printer of the part's question and looked up in the question (or, for a sample
taken from an earlier part, in that part's question).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

import derive
from derive.catalog.optimizers import OPTIMIZERS
from derive.exercise.model import Part, Spec, Training
from derive.exercise.reader import example_path
from derive.maths.steps import Solution
from derive.render.templates import environment, render
from derive.terms.formula import Quantity
from derive.terms.keys import parse_entry
from derive.terms.symbols import RATE, Partial, Sym
from derive.tex.decimals import significant
from derive.tex.printer import Printer
from derive.tex.style import Style
from tests.sheets import single
from tests.test_derivation import COMBINED

EXAMPLES = [*single(sorted((Path(__file__).parent.parent / "examples").glob("*.toml"))), example_path()]
HYPER_NAMES = {name: latex for o in OPTIMIZERS.values() for name, latex in o.hyper_latex.items()}


def questions(exercise: str) -> list[str]:
    """The exercise sheet's questions, one per part (each with what its \\item says under it)."""
    tasks = exercise[exercise.rindex(r"\begin{enumerate}") : exercise.rindex(r"\end{enumerate}")]
    return tasks.split(r"\item")[1:]


def training_of(part: Part[Any]) -> Training | None:
    """How a part moves the parameters, if it does (a sweep: its first run, alike but for α)."""
    params = part.params
    if isinstance(params, Training):
        return params
    if isinstance(getattr(params, "training", None), Training):
        return params.training  # type: ignore[no-any-return]
    if callable(getattr(params, "training", None)):
        return params.training(params.rates[0])  # type: ignore[no-any-return]
    return None


class Sheet:
    """A spec's solution and its exercise sheet, with each part's question and printer."""

    def __init__(self, spec: Spec, solution: Solution | None = None) -> None:
        self.spec = spec
        self.solution = solution or derive.solve(spec)
        self.style = Style.of(spec.sheet)
        self.exercise = render(self.solution).exercise
        self.questions = questions(self.exercise)
        assert len(self.questions) == len(spec.parts)

    def printer(self, number: int) -> Printer:
        """The printer of part ``number``'s question: its own style, the given network's names."""
        return self.style.for_part(self.spec.parts[number - 1]).printer(self.spec.network)

    def stating(self, number: int) -> list[int]:
        """The part and the earlier parts whose sample it takes ("for the input and target of part 1")."""
        chain = [number]
        while (earlier := self.spec.parts[chain[-1] - 1].sample_of) is not None:
            chain.append(earlier)
        return chain

    def states(self, number: int, forms: Callable[[Printer], Sequence[str]]) -> bool:
        """Whether part ``number`` (or a part it takes its sample from) states all of ``forms``,
        printed as that part's question prints them."""
        return any(all(form in self.questions[m - 1] for form in forms(self.printer(m))) for m in self.stating(number))


def givens(solution: Solution, number: int) -> dict[tuple[str, str], list[Quantity]]:
    """The numbers part ``number`` starts from: its quantities with no formula, grouped by scope
    and name. A 40-digit decimal with no formula is a long run carried on in decimals, not a given;
    a closed form the spec typed ("ln(2)") is one."""
    groups: dict[tuple[str, str], list[Quantity]] = {}
    typed = {value for value, _ in solution.spec.closed_forms}
    for q in solution.quantities():
        if q.scope.number == number and q.formula is None and (isinstance(q.exact, sp.Rational) or q.exact in typed):
            name = q.symbol.base if isinstance(q.symbol, Sym) else type(q.symbol).__name__
            groups.setdefault((str(q.scope), name), []).append(q)
    return groups


def forms(scope: str, name: str, group: list[Quantity]) -> Callable[[Printer], list[str]] | None:
    """How a question prints a group of givens, as a function of its printer; None for a layer's
    parameters (looked up by :func:`layer_given`)."""
    values = [q.exact for q in group]
    if name == "Partial":  # a frozen entry's gradient, taken as 0: the question names the entry frozen
        return lambda p: [p.symbol(q.symbol.den) for q in group if isinstance(q.symbol, Partial)]
    if name in ("x", "y"):  # a sample (of a batch, or a second input): x = (1, -1)^T
        return lambda p: [f"{p.symbol(Sym(name))} = {p.vector(values)}"]
    if name == RATE.base and ".run" in scope:  # a sweep's learning rates: α ∈ {1/10, 1/2, …}
        return lambda p: [p.inline(v) for v in values]
    if name == RATE.base:  # α = 1/10
        return lambda p: [rf"\alpha = {p.given(values[0])}"]
    if name in HYPER_NAMES:  # β_1 = 0.9, ε = 10^{-8}
        return lambda p: [f"{HYPER_NAMES[name]} = {p.given(values[0])}"]
    if name == "p":  # the probability a loss comparison works its numbers at, one of the question's
        return lambda p: [p.as_written(v) for v in values]
    if name == "z":  # the points an activation is evaluated at
        return lambda p: [p.as_written(v) for v in values]
    if name in ("w", "b"):
        return None
    raise AssertionError(f"a given this test does not know how to look for: {group[0].key}")


def circuit_forms(group: list[Quantity]) -> Callable[[Printer], list[str]]:
    """A circuit's givens: each variable as x = -2, and the seed of its backward pass, ∂f/∂f = 1."""
    if isinstance(group[0].symbol, Partial):
        return lambda p: [rf"\partial {p.symbol(group[0].symbol.num)} / \partial {p.symbol(group[0].symbol.num)} = 1"]  # type: ignore[union-attr]
    return lambda p: [f"{p.symbol(q.symbol)} = {p.shown(q)}" for q in group]


def unstated(sheet: Sheet) -> list[str]:
    """Every given of the solution that its exercise sheet does not state, by answer key."""
    missing: list[str] = []
    for solved in sheet.solution.parts:
        n, part = solved.number, solved.part
        for (scope, name), group in givens(sheet.solution, n).items():
            if part.kind.name == "optimizer_step" and name in ("w", "b", "Updated", "Partial", "Stat"):
                # Given parameters, gradients and state: every entry in the question's matrices.
                printer = sheet.printer(n)
                question = sheet.questions[n - 1]
                missing += [
                    q.key for q in group if not re.search(rf"[ &{{]{re.escape(printer.shown(q))}[ ,}}]", question)
                ]
                continue
            printed = circuit_forms(group) if part.kind.name == "circuit" else forms(scope, name, group)
            if printed is None:  # a layer of a changed network: the given network's, or an inserted one
                layers = {q.symbol.layer for q in group if isinstance(q.symbol, Sym)}
                ok = all(layer_given(sheet, n, [q for q in group if q.symbol.layer == l]) for l in layers)  # type: ignore[union-attr]
            else:
                ok = sheet.states(n, printed)
            if not ok:
                missing += [q.key for q in group]
        missing += unstated_training(sheet, n, training_of(part))
        if part.decimals is not None or part.exact is not None:
            style = sheet.style.for_part(part)
            words = environment(style=style).globals["t"]
            own = str(words.part_instructions(style.places, style.exact, significant(style.places)))
            if own not in sheet.questions[n - 1]:
                missing.append(f"p{n}: its own places and exact forms")
    if sheet.spec.sheet.rounding == "student":
        style = sheet.style
        words = environment(style=style).globals["t"]
        if str(words.instructions(style.places, False, significant(style.places), True)) not in sheet.exercise:
            missing.append("the student rounding policy")
    return missing


def layer_given(sheet: Sheet, number: int, entries: list[Quantity]) -> bool:
    """A layer's parameters in a part: those of a layer of the given network (stated with it), or
    an inserted layer's, each entry stated in the question in order."""
    values = [q.exact for q in entries]
    for layer in sheet.spec.network.layers:
        rows = [list(row) for row in layer.weights]
        if values in ([w for row in rows for w in row], list(layer.bias)):
            return True
    text = sheet.questions[number - 1]
    printer = sheet.printer(number)
    at = 0
    for v in values:
        at = text.find(printer.inline(v), at)
        if at < 0:
            return False
    return True


def unstated_training(sheet: Sheet, number: int, training: Training | None) -> list[str]:
    """An optimizer step's givens that are no quantity: its tied groups, the state it starts from
    (m_0 = v_0 = 0) and how many steps it takes."""
    if training is None:
        return []
    text, printer = sheet.questions[number - 1], sheet.printer(number)
    missing = [
        f"p{number}: tied {key}"
        for group in training.tied
        for key in group
        if printer.symbol(parse_entry(key)) not in text
    ]
    part = sheet.spec.parts[number - 1]
    start = part.params.t if part.kind.name == "optimizer_step" else 1  # from step t − 1's given state
    missing += [
        f"p{number}: {name}_0"
        for name in training.optimizer.state
        if start == 1 and printer.symbol(Sym(name, None, (0,))) not in text
    ]
    if training.steps > 1 and f" {training.steps} " not in text:
        missing.append(f"p{number}: {training.steps} steps")
    return missing


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_given_of_the_solution_is_on_the_exercise_sheet(path: Path) -> None:
    assert unstated(Sheet(derive.load_spec(path))) == []


def test_the_frozen_entries_are_named_in_the_question_instead_of_every_parameter() -> None:
    sheet = Sheet(derive.load_spec(EXAMPLES[0].parent / "frozen_parameters.toml"))
    question = sheet.questions[1]
    assert r"every parameter except the frozen entries \(w^{(1)}_{1,2}, b^{(1)}_{1}, b^{(1)}_{2}\)" in question
    assert r"from \(m_{0} = v_{0} = 0\)" in question


def test_a_given_left_off_the_sheet_is_found() -> None:
    """The check is no formality: a question that does not name the frozen entries fails it."""
    sheet = Sheet(derive.load_spec(EXAMPLES[0].parent / "frozen_parameters.toml"))
    frozen = r" except the frozen entries \(w^{(1)}_{1,2}, b^{(1)}_{1}, b^{(1)}_{2}\), which keep their given values"
    assert frozen in sheet.questions[1]
    sheet.questions[1] = sheet.questions[1].replace(frozen, "")
    assert unstated(sheet) == [
        "p2.frozen.dL/dw1[1,2]",
        "p2.frozen.dL/db1[1]",
        "p2.frozen.dL/db1[2]",
        "p2.t2.frozen.dL/dw1[1,2]",
        "p2.t2.frozen.dL/db1[1]",
        "p2.t2.frozen.dL/db1[2]",
    ]


@pytest.mark.parametrize(
    "notation", ['style = "neuron"', 'index_order = "from_to"', "bias_as_weight = true"], ids=lambda n: n.split()[0]
)
@pytest.mark.parametrize("example", ["frozen_parameters", "tied_parameters"])
def test_frozen_and_tied_entries_are_named_in_every_notation(example: str, notation: str) -> None:
    text = (
        (EXAMPLES[0].parent / f"{example}.toml")
        .read_text()
        .replace("[network]", f"[notation]\n{notation}\n\n[network]")
    )
    assert unstated(Sheet(derive.parse_spec(text))) == []


def test_a_sheet_combining_the_features_states_its_givens_in_german() -> None:
    """Frozen and tied entries, Adam, a per-sample batch with momentum and a replaced activation, in
    German with significant figures and skip connections."""
    sheet = Sheet(derive.parse_spec(COMBINED))
    assert unstated(sheet) == []
    assert r"außer dem eingefrorenen Eintrag" in sheet.questions[3] and r"m_{0} = v_{0} = 0" in sheet.questions[3]
