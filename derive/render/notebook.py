"""Jupyter display: a part or a whole solution as maths (``_repr_latex_``) or Markdown."""

from __future__ import annotations

from collections.abc import Iterable

from derive.terms.formula import Quantity
from derive.tex import printer as latex
from derive.tex.names import STANDARD, Names

PLACES = 4


def _line(q: Quantity, places: int, names: Names) -> str:
    segments = " ".join(f"{rel} {tex}" for rel, tex in latex.result(q, places))
    return names.expand(f"{latex.symbol(q.symbol)} &{segments}")


def quantities_latex(title: str, quantities: Iterable[Quantity], places: int = PLACES, names: Names = STANDARD) -> str:
    """One aligned display: every quantity as symbol = exact ≈ decimal, under a heading row."""
    rows = [rf"&\text{{{latex_text(title)}}}"] + [_line(q, places, names) for q in quantities]
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def quantities_markdown(
    title: str, quantities: Iterable[Quantity], places: int = PLACES, names: Names = STANDARD
) -> str:
    """A Markdown list with inline maths, for front ends without a LaTeX renderer."""
    lines = [f"**{title}**", ""]
    for q in quantities:
        segments = " ".join(f"{rel} {tex}" for rel, tex in latex.result(q, places))
        lines.append(names.expand(f"- ${latex.symbol(q.symbol)} {segments}$"))
    return "\n".join(lines) + "\n"


def latex_text(text: str) -> str:
    """Plain text safe inside ``\\text{}``."""
    from derive.spec.text import escape

    return escape(text)
