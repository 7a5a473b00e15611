"""Jupyter display: a part's worked steps as maths under its headings, a solution as an overview of
its parts, a quantity as symbol = formula = numbers substituted = value.

The maths is the sheet's own: every line comes from the template context the sheets are rendered
from (:func:`derive.render.context.part_context`), written by the sheet's printer, and every word from
the language catalogue. Only what a notebook's MathJax (or KaTeX) renders is used: ``aligned``,
``gathered`` and ``array`` displays of those lines, no TikZ, no pgfplots and no macros of derive's
own. Markdown (``$$`` displays) is what JupyterLab, VS Code and Colab show; LaTeX is for front ends
and exports (nbconvert's PDF) that prefer it.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable
from typing import Any

from markupsafe import Markup

from derive.maths.steps import PartSolution, Solution
from derive.render.context import part_context
from derive.render.step_context import line_context
from derive.render.templates import Words, environment, finalizer
from derive.terms.formula import NOTEBOOK, Quantity
from derive.tex.escape import escape
from derive.tex.style import DEFAULT, Style

FORMS = ("markdown", "latex")
"""The formats of IPython's display protocol a value is shown in (``_repr_markdown_``, ``_repr_latex_``)."""
HTML = "html"
"""One more form, for pages whose MathJax typesets \\[…\\] in HTML (a Moodle question's feedback)."""

HINT = "solution.part(n)"
"""The code the overview of a solution points to for one part's worked steps."""

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$&~^])")


def markdown_text(text: str) -> str:
    """Plain text that Markdown prints literally: its punctuation backslash-escaped (so a ``$`` starts
    no maths, a ``<`` no HTML tag and a ``*`` no emphasis)."""
    return _PUNCTUATION.sub(r"\\\1", text)


@functools.lru_cache(maxsize=8)
def catalogue(style: Style, form: str) -> tuple[Words, Any]:
    """``say`` and ``t`` of the language catalogue, its plain text escaped for ``form``."""
    env = environment(style=style)
    if form in ("markdown", HTML):
        # An overlay with its own globals: the sheets' environment (cached and shared) is left as it is.
        # HTML: a page escapes each message whole (Page), so the plain text inside stays as it is.
        env = env.overlay(finalize=finalizer(markdown_text if form == "markdown" else str), cache_size=0)
        env.globals = dict(env.globals)
        env.globals["t"] = env.get_template(f"lang/{style.language}.tex.j2").module
        env.globals["say"] = Words(env, style.language)
    say: Words = env.globals["say"]  # type: ignore[assignment]  # set by derive.render.templates or above
    return say, env.globals["t"]


def _dollars(caller: Callable[[], str]) -> Markup:
    """Maths inside a title (``math()`` in the catalogue), as Markdown writes it."""
    return Markup("$" + str(caller()) + "$")


class Page:
    """The display being written: paragraphs of words and displays of maths, in one of ``FORMS``."""

    def __init__(self, form: str) -> None:
        self.form = form
        self.blocks: list[str] = []

    def heading(self, text: str) -> None:
        if self.form == HTML:
            self.blocks.append(f"<h4>{html.escape(str(text), quote=False)}</h4>")
            return
        self.blocks.append(f"#### {text}" if self.form == "markdown" else rf"\textbf{{{text}}}\par")

    def title(self, text: str) -> None:
        if self.form == HTML:
            self.blocks.append(f"<p><strong>{html.escape(str(text), quote=False)}</strong></p>")
            return
        self.blocks.append(f"**{text}**" if self.form == "markdown" else rf"\medskip\noindent\textbf{{{text}}}\par")

    def label(self, text: str) -> None:
        if self.form == HTML:
            self.blocks.append(f"<p><em>{html.escape(str(text), quote=False)}</em></p>")
            return
        self.blocks.append(f"*{text}*" if self.form == "markdown" else rf"\noindent\textit{{{text}}}\par")

    def line(self, text: str) -> None:
        if self.form == HTML:
            self.blocks.append(f"<p>{html.escape(str(text), quote=False)}</p>")
            return
        self.blocks.append(text if self.form == "markdown" else rf"\noindent {text}\par")

    def maths(self, body: str, environment: str = "aligned") -> None:
        """One display; no blank line inside (a blank line would end the maths in Markdown)."""
        inner = f"\\begin{{{environment}}}\n{body}\n\\end{{{environment}}}"
        if self.form == HTML:  # MathJax reads the page's text: & and < are entities in the HTML
            self.blocks.append(f"<p>\\[{html.escape(inner, quote=False)}\\]</p>")
            return
        self.blocks.append(f"$$\n{inner}\n$$" if self.form == "markdown" else f"\\[\n{inner}\n\\]")

    def text(self) -> str:
        return "\n\n".join(self.blocks) + "\n"


def _rows(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The rows of a worked line (:func:`line_context`): symbol & = formula = numbers = result."""
    return [f"{row['left']} &" + "".join(f" {rel} {tex}" for rel, tex in row["segments"]) for row in rows]


def _items(line: Iterable[dict[str, Any]]) -> str:
    return r",\quad ".join(f"{item['symbol']} {item.get('relation', '=')} {item['value']}" for item in line)


def _cell(cell: dict[str, Any], say: Words) -> str:
    if cell["word"]:
        return rf"\text{{{say('word', cell['word'], cell['arg'])}}}"
    return f"{cell['exact']}" + (rf"\; {cell['decimal']}" if cell["decimal"] else "")


def _step(page: Page, step: dict[str, Any], part: dict[str, Any], say: Words, t: Any) -> None:
    """One step of the template context as notebook maths; what a notebook cannot draw (a diagram,
    a plot) or what is words only (a finding) is left to the sheet."""
    kind = step["type"]
    if kind == "compute":
        if step["number"]:
            page.label(str(t.step_label(step["number"], part["question"]["of"], step["layer"])))
        rows = _rows(step["rows"])
        if step["general"]:
            substituted = f" = {step['substituted']}" if step["substituted"] else ""
            rows.insert(0, f"{step['symbol']} &= {step['general']}{substituted}")
        page.maths(" \\\\\n".join(rows))
    elif kind == "given":
        page.maths(f"{step['symbol']} = {step['value']}", "gathered")
    elif kind in ("values", "recall"):
        page.maths(",\\\\\n".join(_items(line) for line in step["lines"]), "gathered")
    elif kind == "identity":
        page.maths(step["latex"], "gathered")
    elif kind == "expanded":
        page.maths(f"{step['target']} = {step['formula']}", "gathered")
    elif kind == "chain":
        lines = [f"{step['target']} &= {step['lines'][0]}"] + [rf"&\quad \cdot {line}" for line in step["lines"][1:]]
        page.maths(" \\\\\n".join(lines))
    elif kind == "claim":
        page.maths(rf"{step['symbol']} = {step['computed']} \quad \checkmark", "gathered")
    elif kind == "algebra":
        rows = [f"{line['left']} &" + r" \\ &".join(f" = {r}" for r in line["right"]) for line in step["lines"]]
        page.maths(" \\\\\n".join(rows))
    elif kind == "limits":
        rows = [
            rf"{row['condition']} &\quad {row['limit']} {row['expression']} = {row['value']}" for row in step["rows"]
        ]
        page.maths(" \\\\\n".join(rows))
    elif kind == "table":
        columns = "l" + "r" * (len(step["header"]) - 1)
        lines = [" & ".join(step["header"]) + r" \\ \hline"]
        lines += [" & ".join(_cell(c, say) for c in row) + r" \\" for row in step["rows"]]
        page.maths(f"\\begin{{array}}{{{columns}}}\n" + "\n".join(lines) + "\n\\end{array}", "gathered")


def part_display(solved: PartSolution, form: str, style: Style | None = None) -> str | None:
    """A part's worked steps under its headings, as its sheet shows them (its spec's style, or the
    sheet's ``style`` a build chose); None for a part that knows no spec (made by hand)."""
    spec = solved.spec
    if spec is None:
        return None
    style = (style or Style.of(spec.sheet)).for_part(solved.part)
    return worked(part_context(solved, style, spec), style, form)


def worked(part: dict[str, Any], style: Style, form: str) -> str:
    """A part's worked steps under its headings from its template context (:func:`part_context`,
    printed in the part's ``style``), in ``form``: Markdown, LaTeX or HTML."""
    say, t = catalogue(style, form)
    page = Page(form)
    page.heading(str(t.part_heading(part)))
    # A title's maths (math() in the catalogue): $…$ in Markdown, the sheet's \(…\) in LaTeX.
    math = [_dollars] if form == "markdown" else []
    for section in part["sections"]:
        steps = Page(form)
        if section["key"] == "givens":
            steps.maths(",\\\\\n".join(_items(line) for line in section["lines"]), "gathered")
        else:
            for step in section["steps"]:
                _step(steps, step, part, say, t)
        if steps.blocks:  # a section of a diagram alone says nothing here
            # A section without a title of its own (a finding's) goes on under the one before.
            title = getattr(t, f"title_{section['key']}", None)
            if title is not None:
                page.title(str(title(section, part, *math)))
            page.blocks += steps.blocks
    return page.text()


def solution_display(solution: Solution, form: str) -> str:
    """A short overview: the sheet's title, each part's heading and how many values it shows, and the
    call that shows one part's worked steps (a whole solution's steps would fill pages)."""
    style = Style.of(solution.spec.sheet)
    t = catalogue(style, form)[1]
    plain = markdown_text if form == "markdown" else escape
    code = f"`{HINT}`" if form == "markdown" else rf"\texttt{{{escape(HINT)}}}"
    page = Page(form)
    page.heading(plain(solution.spec.sheet.title))
    items = []
    for solved in solution.parts:
        heading = t.part_heading({"number": solved.number, "title": solved.part.title})
        items.append(f"{heading}: {t.notebook_values(sum(1 for _ in solved.quantities()))}")
    if form == "markdown":
        page.blocks.append("\n".join(f"- {item}" for item in items))
    else:
        page.blocks.append("\\begin{itemize}\n" + "\n".join(rf"\item {item}" for item in items) + "\n\\end{itemize}")
    page.line(str(t.notebook_hint(Markup(code))))
    return page.text()


def quantity_display(quantity: Quantity, form: str) -> str:
    """symbol = formula = numbers substituted = value, the line a sheet writes for it (in derive's
    standard notation and four places: a quantity alone does not know its sheet)."""
    rows, _ = line_context(quantity, DEFAULT.printer())
    page = Page(form)
    page.maths(" \\\\\n".join(_rows(rows)))
    return page.text()


def display(value: object, form: str) -> str | None:
    """``value`` (a solution, a part or a quantity) as Jupyter shows it in ``form``."""
    if form not in FORMS:
        return None
    if isinstance(value, Solution):
        return solution_display(value, form)
    if isinstance(value, PartSolution):
        return part_display(value, form)
    if isinstance(value, Quantity):
        return quantity_display(value, form)
    return None


if display not in NOTEBOOK:  # a reload registers it once
    NOTEBOOK.append(display)
