"""The library's own functions at the public boundary: each checks its arguments, then calls its stage."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from derive.exercise.check import check as _check
from derive.exercise.check import expect
from derive.exercise.model import LANGUAGES, Spec
from derive.maths.solve import derive as _derive
from derive.maths.steps import Solution
from derive.pipeline import folders
from derive.render.templates import Documents
from derive.render.templates import render as _render
from derive.verify.gate import Report
from derive.verify.gate import verify as _verify


def check(spec: Spec) -> Spec:
    """``spec`` validated as a spec file is (a model built or changed in Python): one SpecError naming
    the field, or the spec with its numbers exact (ints, Fractions, "1/2" become SymPy rationals)."""
    return _check(spec, "check: spec")


def solve(spec: Spec) -> Solution:
    """Derive every part of ``spec`` exactly and pass it through the verification gate; a model built
    or changed in Python is validated first, as a spec file is (:func:`check`)."""
    solution = _derive(_check(spec, "solve: spec"))
    _verify(solution)
    return solution


def verify(solution: Solution) -> Report:
    """Check every quantity of ``solution`` against the independent float64 engine and finite
    differences; raise :class:`VerificationError` on the first mismatches."""
    expect(solution, Solution, "verify: solution", "a derive.Solution (from derive.solve)")
    return _verify(solution)


def render(
    solution: Solution, places: int | None = None, extra_templates: Sequence[Path] = (), language: str | None = None
) -> Documents:
    """Both sheets as complete LaTeX documents; ``places`` and ``language`` override the spec's
    ``sheet.decimals`` and ``sheet.language``, ``extra_templates`` are folders searched first."""
    expect(solution, Solution, "render: solution", "a derive.Solution (from derive.solve)")
    if places is not None:
        expect(places, int, "render: places", "a whole number from 0 to 12 or None")
        if not 0 <= places <= 12:
            raise ValueError(f"render: places must be a whole number from 0 to 12, not {places}")
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"render: language must be one of {', '.join(LANGUAGES)} or None, not {language!r}")
    return _render(solution, places, folders("render: extra_templates", extra_templates), language)
