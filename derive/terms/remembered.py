"""SymPy's LaTeX and str printers that print each subexpression once and remember its text.

A sheet's values share most of their parts (1 + e^{1/4}, the sigmoid of one pre-activation in
every later value): printed whole each time, the shortest-form search spent a fifth of its time
measuring LaTeX and the answers file a twentieth of a build on ``sstr``. A subexpression printed
without extra arguments prints the same wherever it stands (the parent brackets it), so its text
is kept; one printed in a context (an exponent, an order) is printed as SymPy would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.printer import Printer
from sympy.printing.str import StrPrinter

KEPT = 8192
"""Subexpressions whose text a printer keeps (a few sheets' worth; then it starts again), so that a
watched sheet or a batch of variants stays bounded in memory."""


def remembered(printed: dict[sp.Basic, str], expr: Any, kwargs: dict[str, Any], plain: Callable[..., Any]) -> str:
    """``expr`` printed by ``plain``, or its text kept in ``printed`` (a printer's ``_print``)."""
    if kwargs or not isinstance(expr, sp.Basic):
        return str(plain(expr, **kwargs))
    text = printed.get(expr)
    if text is None:
        text = str(plain(expr))  # its parts are kept first
        if len(printed) >= KEPT:
            printed.clear()
        printed[expr] = text
    return text


class _Remembering(Printer):
    """A printer that keeps the text of each subexpression it printed (in ``printed``)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self.printed: dict[sp.Basic, str] = {}

    def _print(self, expr: Any, **kwargs: Any) -> str:
        return remembered(self.printed, expr, kwargs, super()._print)


class RememberedLatex(_Remembering, LatexPrinter):
    """``sympy.latex`` with the given settings, each subexpression printed once."""


class RememberedStr(_Remembering, StrPrinter):
    """``sympy.sstr`` with the given settings, each subexpression printed once."""
