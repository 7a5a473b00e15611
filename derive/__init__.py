"""derive: exact, verified, step-by-step worked solutions of small neural-network exercises.

>>> import derive
>>> solution = derive.solve(derive.load_example())
>>> solution["p3.yhat[1]"].exact
1/2
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from derive.errors import (
        BudgetError,
        DegenerateError,
        DeriveError,
        SpecError,
        TexError,
        TexMissing,
        VerificationError,
    )
    from derive.exercise.exercises import Exercises
    from derive.exercise.model import Spec
    from derive.library import check, render, solve, spec_from_dict, verify
    from derive.maths.steps import PartSolution, Solution
    from derive.pipeline import (
        Built,
        Options,
        build_sheet,
        load_example,
        load_sheet,
        load_spec,
        parse_sheet,
        parse_spec,
    )
    from derive.render.templates import Documents
    from derive.terms.formula import Quantity
    from derive.tex.style import Style
    from derive.verify.gate import Report

_HOMES = {
    **dict.fromkeys(
        ("BudgetError", "DegenerateError", "DeriveError", "SpecError", "TexError", "TexMissing", "VerificationError"),
        "errors",
    ),
    "Spec": "exercise.model",
    "Exercises": "exercise.exercises",
    **dict.fromkeys(("PartSolution", "Solution"), "maths.steps"),
    **dict.fromkeys(
        ("Built", "Options", "build_sheet", "load_example", "load_sheet", "load_spec", "parse_sheet", "parse_spec"),
        "pipeline",
    ),
    "Documents": "render.templates",
    **dict.fromkeys(("check", "render", "solve", "spec_from_dict", "verify"), "library"),
    "Quantity": "terms.formula",
    "Style": "tex.style",
    "Report": "verify.gate",
}
"""Where each public name lives. They are imported on first use, so ``import derive`` is light: the
command line sets up its signal handling before SymPy loads (a Ctrl-C then ends it in one line)."""


class _Package(types.ModuleType):
    """``derive`` itself: its functions ``render`` and ``verify`` keep their names when the stages of
    the same names load (the import system would put the subpackages there)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("render", "verify") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    try:
        module = importlib.import_module(f"derive.{home or name}")
    except ModuleNotFoundError:
        raise AttributeError(f"module 'derive' has no attribute {name!r}") from None
    value = module if home is None else getattr(module, name)
    globals()[name] = value
    return value


__all__ = [
    "BudgetError",
    "Built",
    "DegenerateError",
    "DeriveError",
    "Documents",
    "Exercises",
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
    "load_sheet",
    "load_spec",
    "parse_sheet",
    "parse_spec",
    "render",
    "solve",
    "spec_from_dict",
    "verify",
]
