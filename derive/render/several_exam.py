"""The exam and the marking scheme of a sheet of several exercises: each exercise's questions (or worked
solution with points) in its own notation, one cover page and points table, one formula sheet."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from derive.errors import SpecError
from derive.exercise.model import Exam, Spec
from derive.render.context import Context
from derive.render.exam import exam_context, formula_sheet, marking_context
from derive.render.several import Exercise, lettered, render_several
from derive.tex.style import Style


def several_exam(
    kind: str,
    head: Spec,
    exercises: Sequence[Exercise],
    style: Style,
    exam: Exam,
    logo: str = "",
    templates: Sequence[Path] = (),
    compiled: Path | None = None,
) -> tuple[str, list[Context]]:
    """The exam or the marking scheme (``kind``) of verified exercises as one LaTeX document, and each
    exercise's context: the sheet's ``exam`` settings (time allowed, instructions, formula sheet)."""
    contexts = []
    for exercise in exercises:
        made = exam_context if kind == "exam" else marking_context
        try:
            contexts.append(lettered(made(exercise.solution, exercise.style, logo), exercise))
        except SpecError as error:  # a split that does not fit: named with its exercise
            field = f"exercises[{exercise.number}].{error.field}"
            raise SpecError(field, error.message, line=error.line, source=error.source) from None
    extra: dict[str, Any] = {
        "exam": {"duration": exam.duration, "instructions": exam.instructions},
        "formulas": formulas(exercises) if exam.formula_sheet else [],
        "network": None,
        "parts": [],
    }
    text = render_several(kind, head, exercises, contexts, style, templates, compiled, extra)
    return text, contexts


def formulas(exercises: Sequence[Exercise]) -> list[dict[str, Any]]:
    """The formula sheet of every exercise's rules (:func:`formula_sheet`), each rule once (the first
    exercise that uses it prints it, in its notation), grouped as one exercise's are."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for exercise in exercises:
        spec = exercise.solution.spec
        for group in formula_sheet(spec, exercise.style.printer(spec.network)):
            rules = groups.setdefault(group["key"], [])
            rules += [rule for rule in group["rules"] if all(rule["key"] != r["key"] for r in rules)]
    order = ("activations", "loss", "optimizers")
    return [{"key": key, "rules": groups[key]} for key in sorted(groups, key=order.index)]
