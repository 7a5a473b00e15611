"""The marking scheme: a part's points split over the steps that first show a value its question
asks for, and the answer space an exam leaves after the question."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sympy as sp

from derive.errors import SpecError
from derive.exercise.model import Part, Spec
from derive.maths.general import MAX_NESTED
from derive.maths.steps import PartSolution, Section, Step, step_quantities
from derive.render.context import grouped, part_context, shown
from derive.render.points import written
from derive.render.step_context import display_lines, step_context
from derive.tex.printer import Printer
from derive.tex.style import Style

SPACE_CM = (sp.Integer(3), sp.Integer(18))
"""The answer space an exam leaves after a question by default: from 3 cm, by its size, to 18 cm."""
SPACE_BASE, SPACE_PER_VALUE = sp.Integer(2), sp.Rational(3, 5)
"""The default space: 2 cm and 0.6 cm per value the question asks for (within :data:`SPACE_CM`)."""


def marked_steps(solved: PartSolution, keys: set[str]) -> list[Step]:
    """The steps of a part that first show a value its question asks for, in the sheet's order: the
    steps a marker gives points for."""
    seen: set[str] = set()
    marked = []
    for section in solved.sections:
        for step in section.steps:
            new = {q.key for q in step_quantities(step)} - seen
            seen |= new
            if new & keys:
                marked.append(step)
    return marked


def evenly(points: sp.Rational, count: int) -> tuple[sp.Rational, ...]:
    """``points`` over ``count`` steps in halves that add up to it exactly: each the same, and the
    half points left over one each to the last steps (a part's results come last)."""
    halves = int(2 * points)
    each, left = divmod(halves, count)
    return tuple(sp.Rational(each + (i >= count - left), 2) for i in range(count))


def split(part: Part[Any], count: int) -> tuple[sp.Rational, ...]:
    """The part's points over its ``count`` marked steps: the spec's ``split``, or :func:`evenly`."""
    if part.points is None or count == 0:
        return ()
    if not part.split:
        return evenly(part.points, count)
    if len(part.split) != count:
        raise SpecError(
            f"parts[{part.number}].split",
            f"the marking scheme marks {count} steps of this part (each first showing a value it asks for); "
            f"found {len(part.split)} numbers",
        )
    return part.split


def space(part: Part[Any], values: int) -> str:
    """The answer space after a part's question, as a TeX length: the spec's ``space``, or by the
    number of values it asks for (:data:`SPACE_BASE`, :data:`SPACE_PER_VALUE`, within :data:`SPACE_CM`)."""
    if part.space is not None:
        cm = part.space
    else:
        low, high = SPACE_CM
        cm = min(high, max(low, SPACE_BASE + SPACE_PER_VALUE * values))
    return f"{float(cm):.2f}cm"  # a length for TeX, never shown: a decimal point in every language


def marked_part(solved: PartSolution, style: Style, spec: Spec, keys: set[str]) -> dict[str, Any]:
    """A part's template context for the marking scheme: as on the solution sheet, each step with its
    ``marks`` (written points, or None) and the part's ``points``."""
    part = solved.part
    base = part_context(solved, style, spec)
    steps = marked_steps(solved, keys)
    marks = dict(zip(map(id, steps), split(part, len(steps)), strict=True))
    working = solved.network or spec.network
    printer = style.printer(working)
    deep = working is not None and len(working.layers) > MAX_NESTED
    return {
        **base,
        "sections": [_section(section, style, printer, deep, marks) for section in solved.sections],
        "points": written(part.points, printer),
        "unmarked": bool(part.points) and not steps,
    }


def _section(
    section: Section, style: Style, printer: Printer, deep: bool, marks: dict[int, sp.Rational]
) -> dict[str, Any]:
    """A section as :func:`derive.render.context.section_context` makes it, each step with its marks
    (steps a run of givens or values shares one display with add theirs up)."""
    numbered = style.printer(section.numbering) if section.numbering else printer
    contexts = [(step_context(s, numbered), marks.get(id(s))) for s in shown(section.steps, style, numbered, deep)]
    if section.key == "givens":  # the part's givens: never marked, one display line as on the solution sheet
        steps = [context for context, _ in contexts]
        return {"key": section.key, "label": section.label, "steps": steps, "lines": display_lines(steps)}
    steps = [_merged(run, numbered) for run in _runs(contexts)]
    return {"key": section.key, "label": section.label, "steps": steps, "lines": []}


def _runs(
    contexts: Iterable[tuple[dict[str, Any], sp.Rational | None]],
) -> list[list[tuple[dict[str, Any], sp.Rational | None]]]:
    """Steps in the runs :func:`derive.render.context.grouped` shows in one display."""
    runs: list[list[tuple[dict[str, Any], sp.Rational | None]]] = []
    for context, mark in contexts:
        if context["type"] in ("given", "values") and runs and runs[-1][-1][0]["type"] == context["type"]:
            runs[-1].append((context, mark))
        else:
            runs.append([(context, mark)])
    return runs


def _merged(run: list[tuple[dict[str, Any], sp.Rational | None]], printer: Printer) -> dict[str, Any]:
    (step,) = grouped([context for context, _ in run])
    points = sp.Rational(sum(mark or 0 for _, mark in run))
    return {**step, "marks": written(points, printer) if points else None}
