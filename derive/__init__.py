"""derive: exact, verified, step-by-step worked solutions of small neural-network exercises.

>>> import derive
>>> solution = derive.solve(derive.load_example())
>>> solution["p3.yhat[1]"].exact
1/2
"""

from __future__ import annotations

__version__ = "0.1.0"

from derive.errors import BudgetError, DegenerateError, DeriveError, SpecError, TexError, TexMissing, VerificationError
from derive.exercise.model import Spec
from derive.maths.solve import derive as _derive
from derive.maths.steps import PartSolution, Solution
from derive.pipeline import Built, Options, build_sheet, load_example, load_spec, parse_spec
from derive.render.templates import Documents, render
from derive.terms.formula import Quantity
from derive.tex.style import Style
from derive.verify.gate import Report, verify


def solve(spec: Spec) -> Solution:
    """Derive every part of ``spec`` exactly and pass it through the verification gate."""
    solution = _derive(spec)
    verify(solution)
    return solution


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
    "load_example",
    "load_spec",
    "parse_spec",
    "render",
    "solve",
    "verify",
]
