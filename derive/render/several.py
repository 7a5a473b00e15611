"""A sheet of several exercises: both sheets (each exercise in its own notation, its parts "Exercise 2 (c)"),
and its answers, value macros, fragments and self-check pages addressable per exercise."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from derive.exercise.exercises import key_prefix, letter
from derive.exercise.model import Sheet, Spec
from derive.maths.steps import Plot, Solution
from derive.render.answers import answers, answers_csv, answers_json
from derive.render.checkpage import check_page
from derive.render.context import Context, sheet_context, sheet_fields
from derive.render.fragments import fragments, value_macros
from derive.render.pieces import Counted
from derive.render.points import exercises_points
from derive.render.templates import environment, wrap
from derive.tex.printer import Latex
from derive.tex.style import Style


@dataclass(frozen=True)
class Exercise:
    """One exercise of the sheet as the renderer takes it: its number, its solution (or the outline the
    exercise sheet is made from) and its style (the sheet's, in the exercise's notation)."""

    number: int
    solution: Solution
    style: Style

    @property
    def title(self) -> str:
        return self.solution.spec.sheet.title


def exercise_context(exercise: Exercise, logo: str = "") -> Context:
    """An exercise's template context (:func:`sheet_context`), its parts marked with the exercise's
    number and their letters, and a part referred to by another (the sample of part 2) by its letter."""
    return lettered(sheet_context(exercise.solution, exercise.style, logo=logo), exercise)


def lettered(context: Context, exercise: Exercise) -> Context:
    """``context`` (an exercise's sheet, exam or marking context) with its parts marked with the
    exercise's number and their letters, a part referred to by another by its letter, and the
    exercise's ``number`` and ``title``."""
    for part in context["parts"]:
        part["exercise"] = exercise.number
        part["letter"] = letter(part["number"])
        question = part["question"]
        if question["sample_of"]:
            question["sample_of"] = f"({letter(question['sample_of'])})"
        for section in part["sections"]:
            for step in section["steps"]:
                if step.get("type") == "recall":  # "the input is the one of part (b)"
                    step["part"] = f"({letter(step['part'])})"
    context["exercise"] = {"number": exercise.number, "title": exercise.title}
    return context


def render_several(
    kind: str,
    head: Spec,
    exercises: Sequence[Exercise],
    contexts: Sequence[Context],
    style: Style,
    templates: Sequence[Path] = (),
    compiled: Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The exercise or solution sheet (``kind``; or the exam or the marking scheme, whose context adds
    ``extra``) of several exercises as one LaTeX document: each exercise's block rendered with its own
    notation, within the sheet's title block (``head``: the sheet's settings on a spec) and words
    (``style``); the points table a row per exercise where every part has points."""
    blocks = [block(kind, e, c, templates, compiled) for e, c in zip(exercises, contexts, strict=True)]
    env = environment(templates, style, compiled)
    context = {**several_context(head, exercises, contexts[0], blocks, contexts, style), **(extra or {})}
    text = env.get_template(f"several-{kind}.tex.j2").render(context)
    plots = kind in ("solution", "marking") and any(
        isinstance(s, Plot)
        for exercise in exercises
        for p in exercise.solution.parts
        for section in p.sections
        for s in section.steps
    )
    return wrap(kind, text, env, head, style, plots, bool(context["sheet"]["logo"]))


def block(
    kind: str, exercise: Exercise, context: Context, templates: Sequence[Path] = (), compiled: Path | None = None
) -> dict[str, Any]:
    """One exercise's block of the ``kind`` sheet (``block-KIND.tex.j2``), rendered in its own notation."""
    body = environment(templates, exercise.style, compiled).get_template(f"block-{kind}.tex.j2").render(context)
    return {"number": exercise.number, "title": exercise.title, "body": Latex(body)}


def several_context(
    head: Spec,
    exercises: Sequence[Exercise],
    first: Context,
    blocks: Iterable[dict[str, Any]],
    contexts: Sequence[Context],
    style: Style,
) -> Context:
    """The context of a sheet of several exercises around their ``blocks``: the sheet-wide settings of
    the ``first`` exercise's context, the title block, the points table and what the verification
    checked, counted from the exercises' ``contexts`` when the template prints it (a streamed sheet
    fills them as it goes)."""
    return {
        **{key: first[key] for key in ("decimals", "significant", "exact", "student", "language")},
        "sheet": sheet_fields(head.sheet, str(first["sheet"]["logo"])),
        "exercises": blocks,
        "verification": Checked(contexts),
        "points": exercises_points([(e.number, e.solution.spec) for e in exercises], style.printer()),
    }


class Checked(Counted):
    """What the verification checked in every exercise, counted from their contexts when read."""

    def __init__(self, contexts: Sequence[Context]) -> None:
        self.contexts = contexts

    @property
    def checked(self) -> int:
        return sum(int(c["verification"]["checked"]) for c in self.contexts)

    @property
    def differences(self) -> bool:
        return any(c["verification"]["differences"] for c in self.contexts)

    def _parts(self) -> Iterable[Mapping[str, Any]]:
        return (part for context in self.contexts for part in context["parts"])


def answers_of(name: str, sheet: Sheet, exercises: Sequence[Exercise], places: int) -> dict[str, Any]:
    """The answers document of a sheet of several exercises: as one exercise's (:func:`answers`), its
    ``exercises`` listed, every key led by its exercise (``e2.p3.L``) and every quantity marked with it."""
    documents = [answers(exercise.solution, places, exercise.number) for exercise in exercises]
    document = {key: value for key, value in documents[0].items() if key != "quantities"}
    listed = [{"number": exercise.number, "title": exercise.title} for exercise in exercises]
    quantities = [q for d in documents for q in d["quantities"]]
    parts = [{**p, "exercise": e.number} for e, d in zip(exercises, documents, strict=True) for p in d["parts"]]
    totals = [d["points"] for d in documents]
    points = sum(totals) if all(total is not None for total in totals) else None  # each exercise's, or none
    return {
        **document,
        "spec": name,
        "title": sheet.title,
        "points": points,
        "parts": parts,
        "exercises": listed,
        "quantities": quantities,
    }


def several_outputs(
    name: str,
    sheet: Sheet,
    exercises: Sequence[Exercise],
    contexts: Sequence[Context],
    style: Style,
    sheets: dict[str, str],
    templates: Sequence[Path] = (),
    compiled: Path | None = None,
) -> dict[str, bytes]:
    """Every file of a sheet of several exercises but the PDFs: both sheets' sources, the answers (JSON,
    CSV) and value macros of all exercises (keys ``e2.…``), and per exercise its self-check page
    (``STEM-e2-check.html``) and fragments (``STEM-fragments/e2/``)."""
    document = answers_of(name, sheet, exercises, style.places)
    solution = exercises[0].solution  # the CSV and JSON are written from the document
    files = {
        **{f"{name}-{kind}.tex": text.encode() for kind, text in sheets.items()},
        f"{name}-answers.json": answers_json(solution, style.places, document).encode(),
        f"{name}-answers.csv": answers_csv(solution, style.places, document).encode(),
        f"{name}-values.tex": value_macros(document, style.decimal_mark).encode(),
    }
    for exercise, context in zip(exercises, contexts, strict=True):
        own = answers(exercise.solution, style.places)  # the page's keys are the exercise's own
        folder = key_prefix(exercise.number).rstrip(".")
        page = check_page(exercise.solution, exercise.style, own, templates, compiled)
        files[f"{name}-{folder}-check.html"] = page.encode()
        texts = fragments(exercise.solution, exercise.style, templates, context, compiled)
        files.update({f"{name}-fragments/{folder}/{file}": text.encode() for file, text in texts.items()})
    return files


def headed(sheet: Sheet, spec: Spec) -> Spec:
    """``spec`` under the sheet's title block: what the document's metadata, paper and engine come from."""
    return replace(spec, sheet=sheet)
