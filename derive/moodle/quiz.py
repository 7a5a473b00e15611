"""The Moodle XML of a solution (a Cloze question per part), or of several variants of an exercise
(one Cloze question each, all parts in it, in one category: a quiz's "random question" from that
category gives each student one variant)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from derive.maths.steps import Solution
from derive.moodle.cloze import exercise_questions, part_questions, sheet_question
from derive.moodle.writer import quiz_xml
from derive.render.several import Exercise
from derive.tex.style import Style


def moodle_quiz(
    solution: Solution,
    style: Style | None = None,
    picture: bytes | None = None,
    document: dict[str, Any] | None = None,
    category: str | None = None,
) -> str:
    """A Cloze question for each part of ``solution`` that asks for values, in the category ``category``
    (default: the spec's name); ``picture`` is the network's drawing (:func:`network_picture`),
    ``document`` its answers when they are already made."""
    style = style or Style.of(solution.spec.sheet)
    questions = part_questions(solution, style, document, picture)
    return quiz_xml(questions, solution.spec.name if category is None else category)


def moodle_exercises(
    stem: str, title: str, exercises: Sequence[Exercise], pictures: Sequence[bytes | None] | None = None
) -> str:
    """The Moodle XML of a sheet of several exercises (``stem``, titled ``title``): a Cloze question
    for each part that asks for values, exercise by exercise (:func:`exercise_questions`), each with
    its exercise's drawing (``pictures``, one per exercise; default: none), all in the category ``stem``."""
    drawn = list(pictures) if pictures is not None else [None] * len(exercises)
    if len(drawn) != len(exercises):
        raise ValueError("moodle_exercises: give one picture (or None) per exercise")
    questions = [
        question
        for exercise, picture in zip(exercises, drawn, strict=True)
        for question in exercise_questions(stem, title, exercise, picture)
    ]
    return quiz_xml(questions, stem)


def moodle_variants(
    solutions: Sequence[Solution],
    category: str,
    styles: Sequence[Style] | None = None,
    pictures: Sequence[bytes | None] | None = None,
) -> str:
    """One Cloze question per variant (every part of it, named by the variant's spec name), all in
    ``category``: a "random question" from it gives each student one variant. ``styles`` and
    ``pictures`` go with the solutions one by one (default: each spec's own style, no drawing)."""
    if not solutions:
        raise ValueError("moodle_variants: no solutions")
    names = [solution.spec.name for solution in solutions]
    if len(set(names)) != len(names):
        raise ValueError("moodle_variants: two variants have the same spec name (each names its question)")
    chosen = list(styles) if styles is not None else [Style.of(s.spec.sheet) for s in solutions]
    drawn = list(pictures) if pictures is not None else [None] * len(solutions)
    if len(chosen) != len(solutions) or len(drawn) != len(solutions):
        raise ValueError("moodle_variants: give one style and one picture per solution")
    questions = [
        sheet_question(solution, style, picture=picture)
        for solution, style, picture in zip(solutions, chosen, drawn, strict=True)
    ]
    return quiz_xml(questions, category)
