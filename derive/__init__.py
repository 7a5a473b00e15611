"""derive: exact, verified, step-by-step worked solutions of small neural-network exercises.

>>> import derive
>>> solution = derive.solve(derive.load_example())
>>> solution["p3.yhat[1]"].exact
1/2
"""

from __future__ import annotations

__version__ = "0.1.0"

from collections.abc import Sequence
from pathlib import Path

from derive.errors import BudgetError, DegenerateError, DeriveError, SpecError, TexError, TexMissing, VerificationError
from derive.exercise.check import check as _check
from derive.exercise.check import expect as _expect
from derive.exercise.model import LANGUAGES as _LANGUAGES
from derive.exercise.model import Spec
from derive.maths.solve import derive as _derive
from derive.maths.steps import PartSolution, Solution
from derive.pipeline import Built, Options, build_sheet, load_example, load_spec, parse_spec
from derive.pipeline import folders as _folders
from derive.render.templates import Documents
from derive.render.templates import render as _render
from derive.terms.formula import Quantity
from derive.tex.style import Style
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
    _expect(solution, Solution, "verify: solution", "a derive.Solution (from derive.solve)")
    return _verify(solution)


def render(
    solution: Solution, places: int | None = None, extra_templates: Sequence[Path] = (), language: str | None = None
) -> Documents:
    """Both sheets as complete LaTeX documents; ``places`` and ``language`` override the spec's
    ``sheet.decimals`` and ``sheet.language``, ``extra_templates`` are folders searched first."""
    _expect(solution, Solution, "render: solution", "a derive.Solution (from derive.solve)")
    if places is not None:
        _expect(places, int, "render: places", "a whole number from 0 to 12 or None")
        if not 0 <= places <= 12:
            raise ValueError(f"render: places must be a whole number from 0 to 12, not {places}")
    if language is not None and language not in _LANGUAGES:
        raise ValueError(f"render: language must be one of {', '.join(_LANGUAGES)} or None, not {language!r}")
    return _render(solution, places, _folders("render: extra_templates", extra_templates), language)


__all__ = [
    "BudgetError",
    "Built",
    "DegenerateError",
    "DeriveError",
    "Documents",
    "Options",
    "PartSolution",
    "Quantity",
    "Report",
    "Solution",
    "Spec",
    "SpecError",
    "Style",
    "TexError",
    "TexMissing",
    "VerificationError",
    "__version__",
    "build_sheet",
    "check",
    "load_example",
    "load_spec",
    "parse_spec",
    "render",
    "solve",
    "verify",
]
