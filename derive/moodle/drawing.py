"""The network's drawing for a Moodle question: the exercise sheet's TikZ picture (``steps/diagram.tex.j2``)
in a standalone document, compiled and made a PNG at build time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from derive.errors import TexError, TexMissing
from derive.maths.steps import Solution
from derive.pdf.picture import png
from derive.render.step_context import step_context
from derive.render.templates import environment
from derive.tex.style import Style

PREAMBLE = (
    r"\documentclass[border=6pt,varwidth=16cm]{standalone}",
    r"\usepackage[T1]{fontenc}",
    r"\usepackage[utf8]{inputenc}",
    r"\usepackage{lmodern,amsmath,amssymb,tikz}",
)


def drawing_source(solution: Solution, style: Style, templates: Sequence[Path] = ()) -> str | None:
    """The standalone LaTeX of the network's drawing as the exercise sheet shows it (None: no network)."""
    if solution.diagram is None or solution.spec.network is None:
        return None
    context = step_context(solution.diagram, style.printer(solution.spec.network))
    body = environment(templates, style).get_template("steps/diagram.tex.j2").render(s=context)
    return "\n".join((*PREAMBLE, r"\begin{document}", body.strip(), r"\end{document}", ""))


def network_picture(
    solution: Solution, style: Style, timeout: float = 60.0, templates: Sequence[Path] = ()
) -> tuple[bytes | None, str | None]:
    """The PNG of the network's drawing, or None and why not (no TeX, no pdftoppm: the questions are
    written without it); (None, None) where the exercise has no network."""
    source = drawing_source(solution, style, templates)
    if source is None:
        return None, None
    try:
        return png(source, timeout), None
    except TexMissing as missing:
        return None, f"the network's drawing is left out of the Moodle questions: {missing}"
    except TexError as error:
        first = str(error).splitlines()[0] if str(error) else "LaTeX failed"
        return None, f"the network's drawing is left out of the Moodle questions: {first}"
