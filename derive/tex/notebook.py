"""Jupyter display: a part or a whole solution as maths (``_repr_latex_``) or Markdown."""

from __future__ import annotations

from collections.abc import Iterable

from derive.exercise.model import Network
from derive.exercise.notation import STANDARD, Notation
from derive.terms.formula import Quantity
from derive.tex.escape import escape
from derive.tex.printer import Printer
from derive.tex.style import Style

PLACES = 4


def _printer(notation: Notation, network: Network | None) -> Printer:
    return Style(places=PLACES, notation=notation).printer(network)


def _segments(q: Quantity, printer: Printer) -> str:
    return " ".join(f"{rel} {tex}" for rel, tex in printer.result(q))


def quantities_latex(
    title: str, quantities: Iterable[Quantity], notation: Notation = STANDARD, network: Network | None = None
) -> str:
    """One aligned display: every quantity as symbol = exact ≈ decimal, under a heading row."""
    printer = _printer(notation, network)
    rows = [rf"&\text{{{latex_text(title)}}}"] + [
        f"{printer.symbol(q.symbol)} &{_segments(q, printer)}" for q in quantities
    ]
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def quantities_markdown(
    title: str, quantities: Iterable[Quantity], notation: Notation = STANDARD, network: Network | None = None
) -> str:
    """A Markdown list with inline maths, for front ends without a LaTeX renderer."""
    printer = _printer(notation, network)
    lines = [f"**{title}**", ""]
    lines += [f"- ${printer.symbol(q.symbol)} {_segments(q, printer)}$" for q in quantities]
    return "\n".join(lines) + "\n"


def latex_text(text: str) -> str:
    """Plain text safe inside ``\\text{}``."""
    return escape(text)
