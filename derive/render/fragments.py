"""Outputs for course material: per-part LaTeX fragments and a file of value macros."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from derive.maths.steps import Solution
from derive.render.context import Context, sheet_context
from derive.render.document import PLOT_PREAMBLE
from derive.render.templates import environment
from derive.tex.layout import matrix_columns
from derive.tex.printer import Latex
from derive.tex.style import Style

FRAGMENT_PACKAGES = ("amsmath", "amssymb", "booktabs", "tikz")
"""All a host document needs for any fragment (and pgfplots for a part with a plot)."""
PGFPLOTS_COMPAT = PLOT_PREAMBLE.partition("compat=")[2].rstrip("}")
"""The pgfplots compat level the sheets draw their plots with (a plot's fragment asks for it too)."""


def fragments(
    solution: Solution,
    style: Style,
    extra_templates: Sequence[Path] = (),
    context: Context | None = None,
    compiled: Path | None = None,
) -> dict[str, str]:
    """Every part's solution and question, and the network, as files to ``\\input``.

    A fragment has no preamble and no sectioning of its own: the headings inside a part use
    ``\\deriveheading``, which the fragment provides only if the host has not defined it.
    """
    env = environment(extra_templates, style, compiled)
    context = context or sheet_context(solution, style)
    files = {}

    def render(name: str, local: Context) -> str:
        # A fragment with a matrix wider than amsmath allows lifts the limit, to its own width: the
        # host's every matrix pays for the allowance. Known only once rendered, so rendered again.
        text = env.get_template(name).render({**local, "matrix_columns": ""})
        columns = matrix_columns(text)
        return env.get_template(name).render({**local, "matrix_columns": Latex(columns)}) if columns else text

    if context["network"] is not None:  # a sheet of circuits or given gradients has no network to show
        files["network.tex"] = render("fragment-network.tex.j2", context)
    plots = {"plot_preamble": Latex(PLOT_PREAMBLE), "compat": PGFPLOTS_COMPAT}
    for part in context["parts"]:
        local = {**context, **plots, "part": part}
        files[f"part{part['number']}-solution.tex"] = render("fragment-solution.tex.j2", local)
        files[f"part{part['number']}-exercise.tex"] = render("fragment-exercise.tex.j2", local)
    return files


def value_macros(document: dict[str, Any], decimal_mark: str = ".") -> str:
    """``\\derivevalue{p1.L}`` (the decimal) and ``\\deriveexact{p1.L}`` (the exact value, in maths).

    ``document`` is the answers document (:func:`derive.render.answers.answers`); the macros print
    decimals with the sheet's ``decimal_mark``.

    Course text that quotes a number through these stays right when the spec changes; an unknown
    key stops the host's compile with an error that names it. A value without a short exact form (the
    answers' ``latex`` is null) has ``\\deriveexact`` print its decimal, with a TeX warning naming the key.
    """
    lines = [
        "% derive: every computed value of this sheet, by answer key (see the answers JSON or CSV).",
        "% \\input this file, then write \\derivevalue{p1.L} for a decimal",
        "% or $\\deriveexact{p1.L}$ for the exact value (a value too long to print exactly: its decimal, and",
        "% a warning naming the key in the log).",
        r"\makeatletter",
        r"\providecommand{\derivevalue}[1]{\@ifundefined{derive@d@#1}"
        r"{\PackageError{derive}{No derive value `#1'}{Check the key in the answers file.}}"
        r"{\@nameuse{derive@d@#1}}}",
        r"\providecommand{\deriveexact}[1]{\@ifundefined{derive@e@#1}"
        r"{\PackageError{derive}{No derive value `#1'}{Check the key in the answers file.}}"
        r"{\@nameuse{derive@e@#1}}}",
        # Said where it is used, once per use: the course text asked for a form it does not get.
        r"\providecommand{\derive@decimal@instead}[1]{\PackageWarning{derive}{\string\deriveexact{\detokenize{#1}}"
        r" has no exact form short enough to print; it prints the decimal}}",
    ]
    # The answers document has each value's decimal (with a point) and, when short, its exact LaTeX.
    printer = Style(decimal_mark=decimal_mark).printer()
    for entry in document["quantities"]:
        key = entry["name"]
        decimal = printer.number(entry["decimal"])
        exact = entry["latex"]
        lines.append(rf"\@namedef{{derive@d@{key}}}{{\ensuremath{{{decimal}}}}}")
        shown = exact if exact is not None else rf"\derive@decimal@instead{{{key}}}{decimal}"
        lines.append(rf"\@namedef{{derive@e@{key}}}{{{shown}}}")
    lines.append(r"\makeatother")
    return "\n".join(lines) + "\n"
