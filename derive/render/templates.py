"""Jinja2 LaTeX of both sheets: the environment, the rendering, and the document around it.

Templates never compute: every number and formula arrives in the context (:mod:`derive.render.context`)
as finished LaTeX (a :class:`Latex` string); any other text is user-supplied and is escaped on
output.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from derive.exercise.model import Spec
from derive.exercise.notation import ERROR, NAMED
from derive.maths.steps import (
    Plot,
    Solution,
)
from derive.render import sealed
from derive.render.context import Context, sheet_context
from derive.render.document import document
from derive.terms.symbols import Sym
from derive.tex.escape import escape
from derive.tex.printer import Latex
from derive.tex.style import DEFAULT, Style


def finalizer(escape_text: Callable[[str], str]) -> Callable[[object], Markup]:
    """What a template prints, made text: ``escape_text`` for a plain string (LaTeX escaping on the
    sheets, Markdown's in a notebook), finished LaTeX as it is."""

    def finalize(value: object) -> Markup:
        # Autoescape is on so that macro output comes back as Markup (already LaTeX); this finalize
        # replaces Jinja's HTML escaping for every plain string. Maths arrives as LaTeX the sheet's
        # printer wrote (names, notation and decimal mark decided there).
        if isinstance(value, Markup):
            return value
        if isinstance(value, jinja2.Undefined):
            return Markup(str(value))  # StrictUndefined raises here, naming the missing variable
        if isinstance(value, Latex):
            return Markup(value)
        if isinstance(value, bool) or value is None:
            raise TypeError(f"a template printed {value!r}; templates print text, numbers or LaTeX only")
        if isinstance(value, int):
            return Markup(str(value))
        if isinstance(value, str):
            return Markup(escape_text(value))
        raise TypeError(f"a template printed a {type(value).__name__}; the context must hold finished LaTeX")

    return finalize


_finalize = finalizer(escape)


def template_dirs(extra: Sequence[Path] = ()) -> list[Path]:
    """Template folders searched in order: the user's first, then the built-in ones."""
    package = Path(__file__).resolve().parent.parent  # an installed wheel has derive/templates
    builtin = package / "templates" if (package / "templates").is_dir() else package.parent / "templates"
    return [*extra, builtin]


def environment(extra: Sequence[Path] = (), style: Style = DEFAULT, compiled: Path | None = None) -> jinja2.Environment:
    """Jinja2 for LaTeX: ``<< >>``, ``<% %>``, ``<# #>`` delimiters, strict about undefined names.

    Every template sees the language catalogue of ``style`` as ``t`` (``t.question(part)``). One
    environment per template folders and style, so that a build compiles each template once (the
    exercise, the solution and the fragments share them; compiling was 0.15 s per environment);
    ``compiled``: a folder keeping the compiled templates for the next process (Jinja's bytecode
    cache, keyed by each template's source, so an edited template is compiled afresh; sealed, so
    that only this user's derive's entries are loaded).
    """
    return _environment(tuple(extra), style, compiled)


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept for the next process, sealed (:mod:`derive.render.sealed`): Jinja's
    bytecode is Python code (pickle and marshal), so an entry is loaded only if this user's derive
    wrote it; a planted, damaged or foreign entry, or a folder that cannot be used, only means
    compiling again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = sealed.read(self.folder / f"template-{bucket.key}.cache")
        if data is None:
            return
        try:
            bucket.bytecode_from_string(data)  # sealed by this user's derive; another Python's is reset
        except Exception:  # a format Jinja no longer reads: compile the template instead
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        sealed.write(self.folder / f"template-{bucket.key}.cache", bucket.bytecode_to_string())


@functools.lru_cache(maxsize=16)
def _environment(extra: tuple[Path, ...], style: Style, compiled: Path | None) -> jinja2.Environment:
    env = jinja2.Environment(
        bytecode_cache=CompiledTemplates(compiled) if compiled is not None else None,
        loader=jinja2.FileSystemLoader([str(p) for p in template_dirs(extra)]),
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<<",
        variable_end_string=">>",
        comment_start_string="<#",
        comment_end_string="#>",
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["sym"] = names(style)
    env.globals["say"] = Words(env, style.language)
    env.globals["t"] = env.get_template(f"lang/{style.language}.tex.j2").module
    return env


def names(style: Style) -> dict[str, Latex]:
    """The prose's symbols, printed in the sheet's notation: << sym.z >> is its name for z, and
    sym.Wl, sym.WT, sym.wjk, sym.wj0 are W^{(l)}, W^⊤, w^{(l)}_{j,k} and w^{(l)}_{j,0} in derive's own
    convention (to unit j from input k), written as the sheet writes them."""
    printer = style.printer()
    generic = {
        "Wl": Sym("W", "l"),
        "wjk": Sym("w", "l", ("j", "k")),
        "wj0": Sym("w", "l", ("j", 0)),
    }
    return {
        # A bias written as a weight is w_{·,0} here too (sym.b^{(l)} in prose).
        **{base: Latex(printer.symbol(Sym(base))) for base in NAMED},
        **{key: Latex(printer.symbol(symbol)) for key, symbol in generic.items()},
        "WT": Latex(printer._print_Sym(Sym("W"), transpose=True)),
        "err": Latex(printer.symbol(Sym(ERROR))),  # the error term's name ([notation] error_term)
    }


class Words:
    """``say(group, key, *args)`` in a template: the message ``<group>_<key>`` of the sheet's language
    catalogue (``lang/<code>.tex.j2``), called with ``args``. Messages are looked up by key, so a
    heading, a question or a catalogue record's words are one macro each; a key the catalogue lacks
    stops the build, naming it."""

    def __init__(self, env: jinja2.Environment, language: str) -> None:
        self.env, self.language = env, language

    def __call__(self, group: str, key: object, *args: object) -> Markup:
        name = f"{group}_{key}"
        message = getattr(self.env.globals["t"], name, None)
        if message is None:
            raise jinja2.TemplateError(
                f"the {self.language} words (lang/{self.language}.tex.j2) have no message {name}"
            )
        return Markup(message(*args))


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
    """Both sheets as complete LaTeX documents (of a solution that passed :func:`derive.verify.gate`).

    ``places`` and ``language`` override the spec's ``sheet.decimals`` and ``sheet.language``.
    """
    style = Style.of(solution.spec.sheet, places, language)
    return Documents(
        exercise=render_exercise(solution, style, extra_templates),
        solution=render_solution(solution, style, extra_templates),
    )


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
    label = str(env.globals["say"]("sheet_label", kind))  # type: ignore[operator]
    sheet = spec.sheet
    variant = sheet.variant
    header = str(env.globals["say"]("variants", "page", variant.number, variant.code)) if variant else ""  # type: ignore[operator]
    return document(
        body,
        plots=plots,
        metadata=(escape(sheet.title) + f" ({label})", escape(sheet.author)),
        style=style,
        diagram=True,
        logo=logo,
        paper=sheet.paper,
        engine=sheet.engine,
        header=header,
        qr=bool(variant and variant.qr),
    )
