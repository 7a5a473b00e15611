"""A solution's parts as Moodle Cloze (embedded answers) questions: the exercise as HTML whose maths is
TeX for Moodle's MathJax filter (``\\(…\\)``, ``\\[…\\]``, written by the sheet's printer), a NUMERICAL
blank per asked value (the answer key: each kind's :attr:`PartKind.asked`), the worked steps as general feedback.

The answer of a blank is the decimal the sheet shows and its tolerance half a unit of the last place
shown (the answers file's ``tolerance``): every value that rounds to the sheet's decimal is right.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from derive.exercise.exercises import key_prefix
from derive.maths.steps import PartSolution, Solution
from derive.notebook import HTML, Page, catalogue, worked
from derive.render.answers import answers
from derive.render.context import Context, sheet_context
from derive.render.several import Exercise, lettered
from derive.render.templates import names
from derive.tex.decimals import shown
from derive.tex.style import Style

PICTURE = "{stem}-network.png"
"""The file name of the network's drawing inside a question (``@@PLUGINFILE@@/…``)."""
_FIELD_START = re.compile(r"\{(?=[0-9]*:)")
"""Where Moodle's Cloze parser would see a blank begin (``{``, digits, ``:``: its ANSWER_START_REGEX)."""


@dataclass(frozen=True)
class Blank:
    """One NUMERICAL blank: the answer key it stands for, the decimal Moodle accepts, its tolerance."""

    key: str
    answer: str
    tolerance: str
    weight: int = 1

    def cloze(self) -> str:
        """The blank in Moodle's Cloze syntax: ``{1:NUMERICAL:=0.6225:5e-05}`` (numbers only: nothing
        inside it needs Cloze's backslash escapes of ``} # ~ / " \\``)."""
        return f"{{{self.weight}:NUMERICAL:={self.answer}:{self.tolerance}}}"


@dataclass(frozen=True)
class Question:
    """One Cloze question: its name in the question bank, its HTML text with the blanks in place, the
    general feedback (HTML) and the files its text shows (name → bytes)."""

    name: str
    text: str
    feedback: str
    blanks: tuple[Blank, ...]
    files: Mapping[str, bytes] = field(default_factory=dict)


def question_name(stem: str, part: int | None = None, exercise: int | None = None) -> str:
    """The question's name: the spec's name with ``p`` and the part's number (as its answer keys begin,
    ``p2.``), on a sheet of several led by ``e`` and the exercise's number (``week4 e2 p3``, as its keys
    begin, ``e2.p3.``); or the name alone for a question holding every part (a variant)."""
    if part is None:
        return stem
    return f"{stem} p{part}" if exercise is None else f"{stem} e{exercise} p{part}"


def number_text(number: Decimal) -> str:
    """A decimal as Moodle's NUMERICAL reads it (a point, an exponent only for very large or small)."""
    exponent = number.adjusted()
    # 0.5 as the sheet writes it, not 0.5000: trailing zeros say nothing a tolerance does not.
    plain = number.normalize() if number else Decimal(0)
    return format(plain, "f") if -12 <= exponent <= 15 else format(plain, "e")


def blanks(solution: Solution, style: Style, document: dict[str, Any] | None = None) -> dict[int, tuple[Blank, ...]]:
    """Each part's blanks, in the order of the sheet: every asked value a student can type (an infinite
    loss, or a power of ten beyond any calculator, is left out)."""
    document = document or answers(solution, style.places)
    places = {p.number: style.places if p.part.decimals is None else p.part.decimals for p in solution.parts}
    found: dict[int, list[Blank]] = {p.number: [] for p in solution.parts}
    for row in document["quantities"]:
        if not row["asked"] or row["tolerance"] is None or row["part"] not in found:
            continue
        number = shown(solution[row["name"]].approx, places[row["part"]])
        if number is None:
            continue
        found[row["part"]].append(Blank(row["name"], number_text(number), repr(row["tolerance"])))
    return {part: tuple(found[part]) for part in found}


def exercises_layout(stem: str, exercises: Sequence[Exercise]) -> dict[str, tuple[str, ...]]:
    """:func:`layout` of a sheet of several exercises (``stem``): each part's question
    (:func:`exercise_questions`) by name, its blanks' keys led by the exercise (``e2.p3.…``)."""
    found: dict[str, tuple[str, ...]] = {}
    for exercise in exercises:
        prefix = key_prefix(exercise.number)
        for part, fields in blanks(exercise.solution, exercise.style).items():
            if fields:
                found[question_name(stem, part, exercise.number)] = tuple(prefix + b.key for b in fields)
    return found


def layout(solution: Solution, style: Style) -> dict[str, tuple[str, ...]]:
    """The answer key of every blank of every question :func:`part_questions` and :func:`sheet_question`
    make of ``solution``, by question name, in the order Moodle numbers them (``part 1``, ``part 2``, …):
    the parts' questions in order, then the one holding every part."""
    per_part = blanks(solution, style)
    names = {question_name(solution.spec.name, part): tuple(b.key for b in found) for part, found in per_part.items()}
    whole = tuple(b.key for found in per_part.values() for b in found)
    return {**{name: keys for name, keys in names.items() if keys}, question_name(solution.spec.name): whole}


def inert(text: str) -> str:
    """HTML in which Moodle's Cloze parser finds no blank: a ``{`` that could open one (``{1:``) is
    written as its character reference, which the browser, and MathJax after it, read as ``{``."""
    return _FIELD_START.sub("&#123;", text)


class _Writer:
    """The questions of one solution: its sheet's template context, catalogue and drawing, made once."""

    def __init__(
        self,
        solution: Solution,
        style: Style,
        document: dict[str, Any] | None,
        picture: bytes | None,
        sheet: tuple[str, str, Exercise] | None = None,
        context: Context | None = None,
    ):
        self.solution, self.style = solution, style
        self.context = context or sheet_context(solution, style)
        self.say, self.t = catalogue(style, HTML)
        self.blanks = blanks(solution, style, document)
        self.picture = picture
        self.file = PICTURE.format(stem=solution.spec.name)
        self.title, self.exercise = solution.spec.sheet.title, None
        if sheet is not None:  # an exercise of a sheet of several: its parts "Exercise 2 (c)", its own drawing
            stem, self.title, self.exercise = sheet
            self.context = lettered(self.context, self.exercise)
            self.file = PICTURE.format(stem=f"{stem}-{key_prefix(self.exercise.number).rstrip('.')}")

    def head(self, page: Page) -> None:
        """The sheet's title (and the exercise's heading), the network with its givens and drawing, and
        the instructions."""
        context, t = self.context, self.t
        page.blocks.append(f"<p><strong>{html.escape(self.title, quote=False)}</strong></p>")
        if self.exercise is not None:
            page.blocks.append(f"<h3>{html.escape(str(t.exercise_heading(context['exercise'])), quote=False)}</h3>")
        if context["network"] is not None:
            self.network(page, context["network"])
        page.line(str(t.moodle_instructions(context["decimals"], context["significant"], context["student"])))

    def network(self, page: Page, network: dict[str, Any]) -> None:
        """The exercise sheet's network block (``macros.tex.j2``), as MathJax shows it."""
        t, context = self.t, self.context
        page.blocks.append(f"<h4>{html.escape(str(t.network_heading()), quote=False)}</h4>")
        page.line(str(t.network_intro(network)))
        if network["neuron"]:
            page.line(str(t.neuron_numbering(network["bias_as_weight"])))
            rows = [
                f"{r['z']} &= {r['sum']} & {r['a']} &= {r['call']}" if r["first"] else rf"&\quad + {r['sum']}"
                for r in network["units"]
            ]
            page.maths(" \\\\\n".join(rows))
            for layer, units in zip(network["layers"], network["unit_names"], strict=False):
                page.line(str(t.neuron_layer_line(layer, units)))
        else:
            sym = names(self.style)
            yhat, x = sym["yhat"], sym["x"]
            rows = [
                f"{d['symbol']} &= {d['formula']}," + (rf" \qquad {d['range']}," if d["range"] else "")
                for d in network["definitions"]
            ]
            rows.append(f"{yhat} = g({x}) &= {network['formula']}.")
            page.maths(" \\\\\n".join(rows))
            for run in network["runs"]:
                same = run["last"] == run["layer"]["number"]
                line = t.layer_line(run["layer"]) if same else t.layers_line(run["layer"], run["last"])
                page.line(str(line))
        if network["from_to"]:
            page.line(str(t.index_from_to()))
        if network["bias_as_weight"] and not network["neuron"]:
            page.line(str(t.bias_as_weight()))
        page.line(str(t.parameters_are()))
        lines: list[list[str]] = [[]]
        for given in context["givens"]:
            if given["breaks"]:
                lines.append([])
            lines[-1].append(f"{given['symbol']} = {given['value']}")
        page.maths(",\\\\\n".join(r",\quad ".join(line) for line in lines), "gathered")
        if context["loss"]["given"]:
            page.line(str(t.loss_line(context["loss"])))
        if self.picture is not None:
            alt = html.escape(str(t.network_heading()))
            page.blocks.append(f'<p><img src="@@PLUGINFILE@@/{html.escape(self.file)}" alt="{alt}"></p>')

    def part(self, page: Page, solved: PartSolution, index: int, fields: list[Blank]) -> None:
        """A part's heading, question and one blank per asked value (its symbol, then the blank)."""
        part = self.context["parts"][index]
        heading = self.t.part_heading(part) if self.exercise is None else self.t.exercise_part_heading(part)
        page.blocks.append(f"<h4>{html.escape(str(heading), quote=False)}</h4>")
        page.line(str(self.say("question", part["kind"], part)))
        if part["decimals"] != self.context["decimals"]:
            page.line(str(self.t.moodle_instructions(part["decimals"], part["significant"], self.context["student"])))
        printer = self.style.for_part(solved.part).printer(solved.network or self.solution.spec.network)
        rows = []
        for blank in self.blanks[solved.number]:
            label = html.escape(rf"\({printer.symbol(self.solution[blank.key].symbol)} =\)", quote=False)
            rows.append(f"<tr><td>{label}</td><td>{FIELD.format(len(fields))}</td></tr>")
            fields.append(blank)
        page.blocks.append('<table class="derive-blanks">\n' + "\n".join(rows) + "\n</table>")

    def question(self, name: str, parts: Sequence[int]) -> Question:
        page, fields = Page(HTML), list[Blank]()
        self.head(page)
        for index in parts:
            self.part(page, self.solution.parts[index], index, fields)
        page.blocks.append(f'<p class="derive-name"><small>{html.escape(name, quote=False)}</small></p>')
        text = inert(page.text())
        # The blanks go in after the rest was made inert: their own braces open Moodle's fields.
        for i, blank in enumerate(fields):
            text = text.replace(FIELD.format(i), blank.cloze(), 1)
        feedback = "\n".join(
            worked(self.context["parts"][i], self.style.for_part(self.solution.parts[i].part), HTML) for i in parts
        )
        files = {self.file: self.picture} if self.picture is not None else {}
        if self.exercise is not None:  # the blanks' keys as the sheet's answers name them: e2.p3.…
            prefix = key_prefix(self.exercise.number)
            fields = [replace(blank, key=prefix + blank.key) for blank in fields]
        return Question(name, text, feedback, tuple(fields), files)


FIELD = "@@DERIVE-BLANK-{}@@"
"""Where a blank goes in a question's HTML until the rest of it is made inert."""


def part_questions(
    solution: Solution, style: Style, document: dict[str, Any] | None = None, picture: bytes | None = None
) -> list[Question]:
    """A Cloze question for each part that asks for values, named :func:`question_name` (``backprop p2``)."""
    writer = _Writer(solution, style, document, picture)
    return [
        writer.question(question_name(solution.spec.name, solved.number), [index])
        for index, solved in enumerate(solution.parts)
        if writer.blanks[solved.number]
    ]


def exercise_questions(stem: str, title: str, exercise: Exercise, picture: bytes | None = None) -> list[Question]:
    """The Cloze questions of one exercise of the sheet ``stem`` (titled ``title``) of several: one per
    part that asks for values, named :func:`question_name` (``week4 e2 p3``), its parts headed "Exercise 2
    (c)", the exercise's network and ``picture`` (its drawing) in each, the blanks keyed ``e2.p3.…``."""
    writer = _Writer(exercise.solution, exercise.style, None, picture, (stem, title, exercise))
    return [
        writer.question(question_name(stem, solved.number, exercise.number), [index])
        for index, solved in enumerate(exercise.solution.parts)
        if writer.blanks[solved.number]
    ]


def sheet_question(
    solution: Solution,
    style: Style,
    document: dict[str, Any] | None = None,
    picture: bytes | None = None,
    context: Context | None = None,
) -> Question:
    """One Cloze question holding every part (a variant of an exercise), named by the spec's name;
    ``context``: the solution sheet's template context, where a build made it already."""
    writer = _Writer(solution, style, document, picture, context=context)
    return writer.question(question_name(solution.spec.name), range(len(solution.parts)))
