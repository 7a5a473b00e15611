"""Template context and Jinja2 LaTeX: steps become dictionaries, templates add prose and layout.

Templates never compute: every number and formula arrives here as finished LaTeX (a
:class:`Latex` string); any other text is user-supplied and is escaped on output.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import singledispatch
from pathlib import Path
from typing import Any

import jinja2
import sympy as sp
from markupsafe import Markup
from pylatex import Document, NoEscape, Package

from derive import latex, texformat
from derive.deriver import input_part, input_symbol, layer_formula, network_formula
from derive.diagram import diagram_context
from derive.formula import Apply, Derivative, Node, Quantity, Ref, Tensor
from derive.latex import Data, Latex
from derive.model import Network, Part, Spec
from derive.network import unit_symbol
from derive.notation import LOSS, OUTPUT, TARGET, Sym
from derive.steps import (
    Algebra,
    Cell,
    ChainRule,
    Claim,
    Compute,
    Diagram,
    Expanded,
    Finding,
    Given,
    Identity,
    Limits,
    PartSolution,
    Plot,
    Recall,
    Solution,
    Step,
    Table,
    Values,
    Word,
)
from derive.style import DEFAULT, Style, mark_decimals
from derive.text import escape
from derive.updates import param_symbol

LINE_WIDTH = 58
"""Printed characters of maths per line before a line of a derivation is broken."""

PACKAGES = ("amsmath", "amssymb", "booktabs")
PLOT_PREAMBLE = r"\usepackage{pgfplots}\pgfplotsset{compat=1.18}"
"""Loaded only by sheets with a plot: pgfplots is a quarter of a second of every compile."""


def _finalize(value: object, decimal_mark: str = ".") -> Markup:
    # Autoescape is on so that macro output comes back as Markup (already LaTeX); this finalize
    # replaces Jinja's HTML escaping by LaTeX escaping for every plain string, and gives every
    # piece of maths the sheet's decimal mark (the printer always writes a point).
    if isinstance(value, Markup):
        return value
    if isinstance(value, jinja2.Undefined):
        return Markup(str(value))  # StrictUndefined raises here, naming the missing variable
    if isinstance(value, Data):
        return Markup(value)
    if isinstance(value, Latex):
        return Markup(mark_decimals(value, decimal_mark))
    if isinstance(value, bool) or value is None:
        raise TypeError(f"a template printed {value!r}; templates print text, numbers or LaTeX only")
    if isinstance(value, int):
        return Markup(str(value))
    if isinstance(value, str):
        return Markup(escape(value))
    raise TypeError(f"a template printed a {type(value).__name__}; the context must hold finished LaTeX")


def template_dirs(extra: Sequence[Path] = ()) -> list[Path]:
    """Template folders searched in order: the user's first, then the built-in ones."""
    here = Path(__file__).resolve().parent
    builtin = here / "templates" if (here / "templates").is_dir() else here.parent / "templates"
    return [*extra, builtin]


def environment(extra: Sequence[Path] = (), style: Style = DEFAULT, compiled: Path | None = None) -> jinja2.Environment:
    """Jinja2 for LaTeX: ``<< >>``, ``<% %>``, ``<# #>`` delimiters, strict about undefined names.

    Every template sees the language catalogue of ``style`` as ``t`` (``t.question(part)``). One
    environment per template folders and style, so that a build compiles each template once (the
    exercise, the solution and the fragments share them; compiling was 0.15 s per environment);
    ``compiled``: a folder keeping the compiled templates for the next process (Jinja's bytecode
    cache, keyed by each template's source, so an edited template is compiled afresh).
    """
    return _environment(tuple(extra), style, compiled)


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's bytecode cache, where a folder that cannot be written or a damaged entry only means
    compiling again."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a damaged entry: compile the template instead
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            os.makedirs(self.directory, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:  # an unwritable cache: the next run compiles again
            pass


@functools.lru_cache(maxsize=16)
def _environment(extra: tuple[Path, ...], style: Style, compiled: Path | None) -> jinja2.Environment:
    env = jinja2.Environment(
        bytecode_cache=_CompiledTemplates(str(compiled)) if compiled is not None else None,
        loader=jinja2.FileSystemLoader([str(p) for p in template_dirs(extra)]),
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<<",
        variable_end_string=">>",
        comment_start_string="<#",
        comment_end_string="#>",
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: _finalize(value, style.decimal_mark),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["t"] = env.get_template(f"lang/{style.language}.tex.j2").module
    return env


@dataclass(frozen=True)
class Documents:
    """The LaTeX sources of both sheets."""

    exercise: str
    solution: str


def render(
    solution: Solution,
    places: int | None = None,
    extra_templates: Sequence[Path] = (),
    language: str | None = None,
) -> Documents:
    """Both sheets as complete LaTeX documents (of a solution that passed :func:`derive.verify`).

    ``places`` and ``language`` override the spec's ``sheet.decimals`` and ``sheet.language``.
    """
    style = Style.of(solution.spec.sheet, places, language)
    return Documents(
        exercise=render_exercise(solution, style, extra_templates),
        solution=render_solution(solution, style, extra_templates),
    )


Context = dict[str, Any]


def render_exercise(
    solution: Solution,
    style: Style,
    extra_templates: Sequence[Path] = (),
    context: Context | None = None,
    compiled: Path | None = None,
) -> str:
    """The exercise sheet: givens and questions (``context``: a :func:`sheet_context` already made;
    ``compiled``: see :func:`environment`)."""
    return _render_sheet("exercise", solution, style, extra_templates, context, compiled)


def render_solution(
    solution: Solution,
    style: Style,
    extra_templates: Sequence[Path] = (),
    context: Context | None = None,
    compiled: Path | None = None,
) -> str:
    """The worked solutions, ending with what the verification gate checks.

    It does not wait for the gate: the pipeline compiles it while the gate runs and writes
    nothing if the gate fails.
    """
    return _render_sheet("solution", solution, style, extra_templates, context, compiled)


def _render_sheet(
    kind: str,
    solution: Solution,
    style: Style,
    extra_templates: Sequence[Path],
    context: Context | None,
    compiled: Path | None = None,
) -> str:
    context = context or sheet_context(solution, style)
    env = environment(extra_templates, style, compiled)
    body = env.get_template(f"{kind}.tex.j2").render(context)
    plots = kind == "solution" and any(
        isinstance(s, Plot) for p in solution.parts for section in p.sections for s in section.steps
    )
    return wrap(kind, body, env, solution.spec, style, plots, bool(context["sheet"]["logo"]))


def wrap(kind: str, body: str, env: jinja2.Environment, spec: Spec, style: Style, plots: bool, logo: bool) -> str:
    """A sheet's body in its document, titled in the sheet's language (from the catalogue)."""
    label = str(env.globals["t"].sheet_label(kind))  # type: ignore[attr-defined]
    sheet = spec.sheet
    return document(
        body,
        plots=plots,
        metadata=(escape(sheet.title) + f" ({label})", escape(sheet.author)),
        style=style,
        diagram=True,
        logo=logo,
    )


def document(
    body: str,
    plots: bool = False,
    metadata: tuple[str, str] = ("", ""),
    style: Style = DEFAULT,
    diagram: bool = False,
    logo: bool = False,
) -> str:
    """Wrap a rendered body in the preamble, built with pylatex.

    ``\\deriveheading`` sets the headings inside a part: a subsection here; a lecturer's document
    that inputs a fragment may define it otherwise.
    """
    doc = Document(
        documentclass="article",
        document_options=["a4paper", "11pt"],
        lmodern=True,
        textcomp=False,
        page_numbers=False,
        geometry_options={"margin": "2.2cm"},
    )
    for name in PACKAGES:
        doc.packages.append(Package(name))
    doc.preamble.append(NoEscape(r"\setlength{\parindent}{0pt}\setlength{\parskip}{4pt plus 2pt}"))
    doc.preamble.append(NoEscape(r"\allowdisplaybreaks"))
    if logo:
        doc.packages.append(Package("graphicx"))
    if plots:
        doc.preamble.append(NoEscape(PLOT_PREAMBLE))
        if style.decimal_mark == ",":
            doc.preamble.append(NoEscape(r"\pgfplotsset{/pgf/number format/use comma}"))
    elif diagram:
        doc.packages.append(Package("tikz"))
    doc.preamble.append(NoEscape(r"\newcommand{\deriveheading}[1]{\subsection*{#1}}"))
    # hyperref last, as it asks: bookmarks per part, and the title and author in the PDF's metadata.
    title, author = metadata
    doc.preamble.append(NoEscape(r"\usepackage[hidelinks,bookmarksnumbered=false]{hyperref}"))
    # bookmark writes the outline in the same run: with hyperref alone the bookmarks need a
    # second pdflatex pass ("Rerun to get outlines right"), which doubled the solution's TeX time.
    doc.preamble.append(NoEscape(r"\usepackage{bookmark}"))
    doc.preamble.append(NoEscape(texformat.MARK))  # what follows differs between sheets
    doc.preamble.append(NoEscape(rf"\hypersetup{{pdftitle={{{title}}},pdfauthor={{{author}}},pdfcreator={{derive}}}}"))
    doc.append(NoEscape(r"\pagestyle{plain}"))
    doc.append(NoEscape(body))
    return str(doc.dumps()) + "\n"


def sheet_context(solution: Solution, style: Style, logo: str = "") -> dict[str, Any]:
    """Everything the templates may print, as finished LaTeX or plain text to be escaped.

    ``logo`` is the file name the sheets include for the spec's logo (copied beside them).
    """
    spec = solution.spec
    return {
        "sheet": {
            "title": spec.sheet.title,
            "course": spec.sheet.course,
            "subtitle": spec.sheet.subtitle,
            "author": spec.sheet.author,
            "date": spec.sheet.date,
            "number": spec.sheet.number,
            "logo": Latex(logo),
        },
        "language": style.language,
        "network": {
            **network_context(spec),
            "diagram": step_context(solution.diagram, style) if solution.diagram else None,
        },
        "givens": broken(step_context(g, style) for g in solution.givens),
        "loss": {"formula": Latex(spec.loss.formula), "prose": spec.loss.prose, "given": spec.has_loss},
        "decimals": style.places,
        "significant": getattr(style.places, "significant", False),
        "exact": style.exact,
        "parts": [part_context(p, style.for_part(p.part), spec.network) for p in solution.parts],
        "verification": {"checked": sum(1 for _ in solution.quantities())},
    }


def broken(givens: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The network's givens, each marked ``breaks`` where a new display line must start to fit."""
    marked: list[dict[str, Any]] = []
    used = 0
    for given in givens:
        size = latex.width(given["symbol"]) + latex.width(given["value"]) + 4
        breaks = bool(marked) and used + size > LINE_WIDTH
        used = size if breaks else used + size
        marked.append({**given, "breaks": breaks})
    return marked


def network_context(spec: Spec) -> dict[str, Any]:
    network = spec.network
    inner = network_formula(network)
    layers = [
        {
            "number": l,
            "units": layer.shape[0],
            "inputs": layer.shape[1],
            "activation": layer.activation.prose,
            "identity": Latex(layer.activation.identity),
            "definition": Latex(layer.activation.definition),
            "bias": layer.has_bias,
            "shared_bias": layer.shared_bias,
            # A skip connection: what the layer reads, stacked (empty for the layer below).
            "reads": Latex(", ".join(latex.symbol(input_part(network, k)) for k in layer.reads)),
            # What it reads, for running text: x, a^{(l-1)}, or its sources stacked written in a row.
            "input": Latex(
                r"\left[" + r";\ ".join(latex.symbol(input_part(network, k)) for k in layer.reads) + r"\right]"
            )
            if layer.reads
            else Latex(latex.symbol(input_symbol(network, l))),
        }
        for l, layer in enumerate(network.layers, 1)
    ]
    # With skip connections g(x) is written layer by layer: a^{(l)} = f(W^{(l)} [sources] + b^{(l)}).
    definitions = [
        {
            "symbol": Latex(latex.symbol(Sym("a", l))),
            "formula": Latex(latex.formula(layer_formula(network, l, Tensor(input_symbol(network, l))))),
        }
        for l in range(1, len(network.layers) if network.skips else 1)
    ]
    return {
        "definitions": definitions,
        "formula": Latex(latex.formula(inner)),
        "layers": layers,
        "inputs": network.inputs,
        "outputs": network.outputs,
    }


def biases(network: Network) -> str:
    """Whether "all", "some" or "none" of the layers add a bias (the forward pass's prose says so)."""
    have = [layer.has_bias for layer in network.layers]
    return "all" if all(have) else "some" if any(have) else "none"


def part_context(solved: PartSolution, style: Style, network: Network) -> dict[str, Any]:
    part = solved.part
    return {
        "number": part.number,
        "biases": biases(network),
        "skips": network.skips,
        "kind": part.kind,
        "decimals": style.places,
        "exact": style.exact,
        "title": part.title,
        "question": question_context(part, network),
        "plots": any(isinstance(s, Plot) for section in solved.sections for s in section.steps),
        "sections": [
            {"key": section.key, "label": section.label, "steps": [step_context(s, style) for s in section.steps]}
            for section in solved.sections
        ],
    }


def question_context(part: Part, network: Network) -> dict[str, Any]:
    """What the exercise sheet needs to ask a part: its givens as LaTeX."""

    def vector(values: Sequence[Any]) -> Latex:
        # In running text a column vector is written as a transposed row: (1, -1)^T.
        texts = [latex.inline(v) for v in values]
        if len(texts) == 1:
            return Latex(texts[0])
        return Latex(r"(" + ", ".join(texts) + r")^{\top}")

    names = part.wrt or ()
    sample = part.sample
    return {
        "x": vector(sample.x) if sample else Latex(""),
        "y": vector(sample.y) if sample else Latex(""),
        "sample_of": part.sample_of or 0,
        "claim": vector(part.claim) if part.claim else Latex(""),
        "learning_rate": Latex(latex.inline(part.learning_rate)) if part.learning_rate is not None else Latex(""),
        "wrt": [Latex(latex.symbol(param_symbol(n))) for n in names],
        "layer": part.layer or 0,
        "activation": Latex(part.activation.identity) if part.activation else Latex(""),
        "activation_prose": part.activation.prose if part.activation else "",
        "probabilities": Latex(", ".join(latex.terminating(p, 12) or latex.inline(p) for p in part.probabilities)),
        "rates": Latex(", ".join(latex.inline(r) for r in part.learning_rates)),
        "steps": part.steps,
        "layers": ", ".join(map(str, part.layers)),
        "layers_many": len(part.layers) > 1,
        "dead_x": vector(part.dead_x) if part.dead_x else Latex(""),
        "target": Latex(latex.inline(part.target)),
        "after": part.after or 0,
        "inserted_w": Latex(_matrix_of(part.inserted.weights)) if part.inserted else Latex(""),
        "inserted_b": vector(part.inserted.bias) if part.inserted else Latex(""),
        **_hyper_context(part),
        "optimizer": part.optimizer.prose if part.optimizer else "",
        "optimizer_formula": Latex(part.optimizer.formula) if part.optimizer else Latex(""),
        "hyper": Latex(_hyper_list(part)),
        "output": Latex(latex.symbol(OUTPUT)),
        "loss": Latex(latex.symbol(LOSS)),
        # A part differentiating an output ŷ_j (no loss) names it; empty for the loss.
        "of": Latex(latex.symbol(unit_symbol(network, len(network.layers), "a", part.output)) if part.output else ""),
        "target_symbol": Latex(latex.symbol(Sym(TARGET.base))),
        "outputs": network.outputs,
        "samples": [{"x": vector(s.x), "y": vector(s.y)} for s in part.samples],
        "mode": part.mode,
        "batch_mean": part.batch_mean,
    }


def _matrix_of(rows: Sequence[Sequence[Any]]) -> str:
    return latex.matrix([[latex.inline(v) for v in row] for row in rows])


def _hyper_value(value: sp.Rational) -> str:
    """A hyperparameter as the exercise states it: 0.9, and 10^{-8} rather than 0.00000001."""
    digits = len(str(value.q)) - 1
    if value.p == 1 and value.q == 10**digits and digits >= 4:
        return rf"10^{{-{digits}}}"
    return latex.terminating(value, 12) or latex.inline(value)


def _hyper_list(part: Part) -> str:
    """ "β = 0.9, ε = 10^{-8}": every hyperparameter of the part's optimizer, as used."""
    if part.optimizer is None:
        return ""
    values = {**part.optimizer.hyper, **dict(part.hyper)}
    return r",\ ".join(f"{part.optimizer.hyper_latex[name]} = {_hyper_value(value)}" for name, value in values.items())


def _hyper_context(part: Part) -> dict[str, Latex]:
    """β1, β2, ε of the part's optimizer (its defaults unless the spec sets them)."""
    values = {**part.optimizer.hyper, **dict(part.hyper)} if part.optimizer else {}
    return {name: Latex(_hyper_value(values[name]) if name in values else "") for name in ("beta1", "beta2", "epsilon")}


@singledispatch
def step_context(step: Step, style: Style) -> dict[str, Any]:
    """The template context of one step; each step type has its own template in ``steps/``."""
    raise TypeError(f"no renderer for step type {type(step).__name__}")


@step_context.register
def _(step: Diagram, style: Style) -> dict[str, Any]:
    return diagram_context(step, style)


@step_context.register
def _(step: Given, style: Style) -> dict[str, Any]:
    rows = [[latex.shown(q, style.places, style.exact) for q in row] for row in step.entries]
    return {"type": "given", "symbol": Latex(latex.symbol(step.symbol)), "value": Latex(latex.matrix(rows))}


@step_context.register
def _(step: Compute, style: Style) -> dict[str, Any]:
    general = substituted = None
    if step.general is not None and len(step.entries) > 1:
        general = Latex(latex.formula(step.general))
        text, approximated = latex.substituted(step.general, style.places, style.exact)
        # f and f' of a whole vector are shown entry by entry below, not as f(matrix).
        if not _applies(step.general) and not approximated and latex.width(text) <= LINE_WIDTH:
            substituted = Latex(text)
    return {
        "type": "compute",
        "number": step.number or 0,
        "symbol": Latex(latex.symbol(step.symbol)),
        "general": general,
        "substituted": substituted,
        "rows": [row for q in step.entries for row in line_context(q, style)],
    }


def _applies(node: Node) -> bool:
    return isinstance(node, Apply | Derivative) or any(_applies(child) for child in node.children())


def _is_copy(node: Node) -> bool:
    """A formula that only names another quantity (through at most an identity activation)."""
    return isinstance(node, Ref) or (isinstance(node, Apply) and node.function.call == "#" and _is_copy(node.arg))


def line_context(q: Quantity, style: Style) -> list[dict[str, Any]]:
    """One scalar as display rows: symbol = formula = numbers substituted = exact result ≈ decimal.

    When a substituted value had to be a decimal, the chain reads ≈ from there on and the exact
    result is restated on a row of its own, so no "=" ever joins a rounded and an exact value.
    """
    symbol_text = latex.symbol(q.symbol)
    result = latex.result(q, style.places, style.exact)
    chain: list[tuple[str, str]] = []
    restated: list[tuple[str, str]] = []
    if q.formula is not None and _is_copy(q.formula):
        # ŷ = z^{(2)}, ∂L/∂b = δ: nothing to substitute, the value follows directly.
        chain.append(("=", latex.formula(q.formula)))
        chain.extend(result)
    elif q.formula is not None:
        chain.append(("=", latex.formula(q.formula)))
        text, approximated = latex.substituted(q.formula, style.places, style.exact)
        if approximated:
            chain.append((r"\approx", text))
            if len(result) == 1 and result[0][0] == "=":
                restated = result  # an exact integer (ḡ = −1): it stands on a row of its own, with =
            else:
                chain.append((r"\approx", result[-1][1]))
                restated = result[:-1]
        else:
            chain.append(("=", text))
            chain.extend(result)
    else:
        chain.extend(result)
    rows = _wrap(symbol_text, _dedupe(symbol_text, chain))
    if restated:
        rows.extend(_wrap(symbol_text, restated))
    return rows


def _dedupe(first: str, chain: list[tuple[str, str]]) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    previous = first
    for relation, text in chain:
        if text != previous:
            shown.append((relation, text))
            previous = text
    return shown


def _wrap(left: str, chain: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Break a chain of relations into rows that fit the line width."""
    rows: list[dict[str, Any]] = [{"left": Latex(left), "segments": []}]
    used = latex.width(left)
    for relation, text in chain:
        size = latex.width(text) + 2
        if rows[-1]["segments"] and used + size > LINE_WIDTH:
            rows.append({"left": Latex(""), "segments": []})
            used = 4
        rows[-1]["segments"].append((Latex(relation), Latex(text)))
        used += size
    return rows


@step_context.register
def _(step: Recall, style: Style) -> dict[str, Any]:
    items = []
    printer = latex.DerivePrinter({"decimals": style.places, "exact": style.exact})
    for symbol, rows in step.items:
        texts = [[printer.value(q) for q in row] for row in rows]
        items.append({"symbol": Latex(latex.symbol(symbol)), "value": Latex(latex.matrix(texts))})
    # As many values per display line as fit; a long recall breaks into several lines.
    lines: list[list[dict[str, Any]]] = [[]]
    used = 0
    for item in items:
        size = latex.width(item["symbol"]) + latex.width(item["value"]) + 4
        if lines[-1] and used + size > LINE_WIDTH:
            lines.append([])
            used = 0
        lines[-1].append(item)
        used += size
    return {"type": "recall", "part": step.part, "entries": items, "lines": lines}


@step_context.register
def _(step: Claim, style: Style) -> dict[str, Any]:
    return {
        "type": "claim",
        "symbol": Latex(latex.symbol(step.quantity.symbol)),
        "claimed": Latex(latex.inline(step.claimed)),
        "computed": Latex(latex.inline(step.quantity.exact)),
    }


@step_context.register
def _(step: Identity, style: Style) -> dict[str, Any]:
    return {"type": "identity", "latex": Latex(step.latex), "prose": step.prose}


@step_context.register
def _(step: Expanded, style: Style) -> dict[str, Any]:
    return {
        "type": "expanded",
        "target": Latex(latex.symbol(step.target)),
        "formula": Latex(latex.formula(step.formula)),
    }


@step_context.register
def _(step: Values, style: Style) -> dict[str, Any]:
    printer = latex.DerivePrinter({"decimals": style.places, "exact": style.exact})
    rows = [[printer.value(q) for q in row] for row in step.entries]
    return {"type": "values", "symbol": Latex(latex.symbol(step.symbol)), "value": Latex(latex.matrix(rows))}


CELL_LIMIT = 36
"""Longest exact value (LaTeX characters) shown in a table cell; beside it always its decimal."""


def cell(value: Cell, style: Style, decimals_only: bool = False) -> dict[str, Any]:
    """A table cell: words, LaTeX as given, or a quantity's short exact form and its decimal."""
    blank = {"exact": Latex(""), "decimal": Latex(""), "word": "", "arg": ""}
    if isinstance(value, Word):
        return {**blank, "word": value.key, "arg": value.arg}
    if isinstance(value, str):
        return {**blank, "exact": Latex(value)}
    places = style.places
    if decimals_only or not style.exact:
        shown = str(value.exact) if value.exact.is_Integer else latex.decimal(value.approx, places)
        return {**blank, "exact": Latex(shown)}
    exact = latex.exact_text(value.exact, limit=CELL_LIMIT) if latex.is_exact(value.exact) else None
    decimal = latex.decimal(value.approx, places)
    if exact is not None and (value.exact.is_Integer or exact == decimal):
        return {**blank, "exact": Latex(exact)}
    relation = "=" if latex.terminating(value.exact, places) is not None else r"\approx"
    return {**blank, "exact": Latex(exact or ""), "decimal": Latex(f"{relation} {decimal}" if exact else decimal)}


@step_context.register
def _(step: Table, style: Style) -> dict[str, Any]:
    return {
        "type": "table",
        "key": step.key,
        "header": [Latex(h) for h in step.header],
        "rows": [[cell(c, style, step.decimals_only) for c in row] for row in step.rows],
    }


@step_context.register
def _(step: Plot, style: Style) -> dict[str, Any]:
    series = []
    for curve in step.series:
        points = " ".join(f"({float(x):.6g},{float(y.approx):.8g})" for x, y in curve.points)
        series.append({"label": Latex(curve.label), "points": Data(points)})
    return {
        "type": "plot",
        "key": step.key,
        "xlabel": Latex(step.xlabel),
        "ylabel": Latex(step.ylabel),
        "series": series,
        "log_y": step.log_y,
    }


@step_context.register
def _(step: Algebra, style: Style) -> dict[str, Any]:
    lines = [{"left": Latex(left), "right": [Latex(r) for r in rights]} for left, rights in step.lines]
    return {"type": "algebra", "key": step.key, "lines": lines}


@step_context.register
def _(step: Limits, style: Style) -> dict[str, Any]:
    rows = [
        {
            "case": row.case,
            "condition": Latex(row.condition),
            "expression": Latex(row.expression),
            "limit": Latex(rf"\lim_{{{row.variable} \to {row.point}^{{{row.side}}}}}"),
            "value": Latex(row.value),
        }
        for row in step.rows
    ]
    return {"type": "limits", "rows": rows}


@step_context.register
def _(step: Finding, style: Style) -> dict[str, Any]:
    return {"type": "finding", "key": step.key, "facts": {name: Latex(value) for name, value in step.facts}}


@step_context.register
def _(step: ChainRule, style: Style) -> dict[str, Any]:
    return {
        "type": "chain",
        "target": Latex(latex.symbol(step.target)),
        "product": Latex(r" \, ".join(latex.symbol(f) for f in step.factors)),
    }
