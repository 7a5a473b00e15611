"""The whole pipeline in one function: spec → derivation → verification → LaTeX → PDF files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from derive import notebook  # noqa: F401  (registers the Jupyter display of solutions, parts and quantities)
from derive.budget import Budget, check_seconds
from derive.errors import SpecError
from derive.exercise import reader, several
from derive.exercise.check import check, expect
from derive.exercise.exercises import Exercises, key_prefix
from derive.exercise.logo import logo_file
from derive.exercise.model import ENGINES, LANGUAGES, PAPERS, Spec
from derive.kinds import KINDS
from derive.maths.derivation import Derivation
from derive.maths.solve import outline, solver
from derive.maths.steps import Solution
from derive.output import confined, write_all
from derive.pdf.compile import Pdf
from derive.pdf.formats import default_cache
from derive.pdf.typeset import Typesetter
from derive.render import sealed
from derive.render.answers import answers, answers_csv, answers_json
from derive.render.checkpage import check_page
from derive.render.context import Context, sheet_context
from derive.render.exam import exam_context, marking_context, render_document
from derive.render.fragments import fragments, value_macros
from derive.render.pieces import SolutionPieces
from derive.render.reproduce import Redone
from derive.render.several import Exercise, exercise_context, headed, render_several, several_outputs
from derive.render.templates import render_exercise, render_solution
from derive.tex.style import Style
from derive.verify.gate import Report, verify


@dataclass(frozen=True)
class Options:
    """How a sheet is built; passed explicitly, never global."""

    output_dir: Path = Path("output")
    decimals: int | None = None
    """Places of decimals on the sheets; None keeps the spec's ``sheet.decimals``."""
    pdf: bool = True
    """Compile the PDFs (the .tex and answers are written either way)."""
    timeout: float = 60.0
    """Seconds one pdflatex run may take."""
    templates: tuple[Path, ...] = ()
    """User template folders, searched before the built-in ones."""
    language: str | None = None
    """"en" or "de"; None keeps the spec's ``sheet.language``."""
    paper: str | None = None
    """"a4" or "letter"; None keeps the spec's ``sheet.paper``."""
    engine: str | None = None
    """"pdflatex", "lualatex" or "xelatex"; None keeps the spec's ``sheet.engine``."""
    formats: Path | None = field(default_factory=default_cache)
    """Folder of cached TeX formats of the preamble (:mod:`derive.pdf.formats`); None: no cache."""
    compiled: Path | None = field(default_factory=lambda: default_cache().parent / "templates")
    """Folder of compiled templates (Jinja's bytecode cache: a cold build skips compiling them);
    None: compile in every process."""
    max_seconds: float = 120.0
    """Seconds the derivation, the verification and the rendering may take together (waiting for TeX
    is bounded by ``timeout``); past them the build stops with a :class:`BudgetError` naming the part."""
    logo_from: tuple[Path, ...] = ()
    """Folders a logo may also come from, besides the spec file's own folder (and below): a spec
    given as text (:func:`parse_spec`) has no folder, so its logo needs one of these."""
    exam: bool = False
    """Build the exam and its marking scheme (``STEM-exam``, ``STEM-marking``: .tex and PDF) instead of
    the two sheets, as ``derive exam`` does (docs/exam.md); every part needs its points."""

    def __post_init__(self) -> None:
        # Checked and converted here, before any work: a str path is a path (not a folder per letter),
        # and a bad number is one ValueError naming the option, not a failure after the derivation.
        paths = {"output_dir": self.output_dir, "formats": self.formats, "compiled": self.compiled}
        for name, value in paths.items():
            if value is not None and not isinstance(value, str | os.PathLike):
                raise TypeError(f"{name}: expected a folder (str or Path), not {type(value).__name__}")
            object.__setattr__(self, name, None if value is None else Path(value))
        for name in ("templates", "logo_from"):
            object.__setattr__(self, name, folders(name, getattr(self, name)))
        for flag in ("pdf", "exam"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"{flag}: expected True or False, not {type(getattr(self, flag)).__name__}")
        if self.language is not None and self.language not in LANGUAGES:
            raise ValueError(f"language: expected one of {', '.join(LANGUAGES)}, found {self.language!r}")
        for name, valid in (("paper", PAPERS), ("engine", ENGINES)):
            if getattr(self, name) is not None and getattr(self, name) not in valid:
                raise ValueError(f"{name}: expected one of {', '.join(valid)}, found {getattr(self, name)!r}")
        if isinstance(self.timeout, bool):
            raise TypeError("timeout: expected seconds, not bool")
        object.__setattr__(self, "timeout", check_seconds("timeout", self.timeout))  # one LaTeX run: 1 s to an hour
        if self.decimals is not None and not (
            isinstance(self.decimals, int) and not isinstance(self.decimals, bool) and 0 <= self.decimals <= 12
        ):
            raise ValueError(f"decimals: expected a whole number from 0 to 12, found {self.decimals!r}")
        object.__setattr__(self, "max_seconds", check_seconds("max_seconds", self.max_seconds))


def folders(name: str, value: object) -> tuple[Path, ...]:
    """One folder (str or Path) or a sequence of them, as paths: a str is one folder, never one per letter."""
    items = (value,) if isinstance(value, str | os.PathLike) else value
    if not isinstance(items, Sequence) or not all(isinstance(item, str | os.PathLike) for item in items):
        raise TypeError(f"{name}: expected a folder (str or Path) or a sequence of them, not {type(value).__name__}")
    return tuple(Path(item) for item in items)


@dataclass(frozen=True)
class Built:
    """What a build wrote, and what the verification gate checked."""

    files: tuple[Path, ...]
    report: Report
    solution: Solution
    """The verified derivation the files were made from (look quantities up by answer key)."""
    warnings: tuple[str, ...] = field(default=())
    """What a reader of the PDFs would notice that did not stop the build: lines run into the margin;
    and a cache folder not used because other users could change it."""
    redone: Redone = field(default=Redone())
    """The solution sheet's substituted lines, and which of them redo from the numbers they show."""
    solutions: tuple[Solution, ...] = ()
    """Every exercise's verified derivation, in the sheet's order (``solution`` is the first's)."""


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; raises :class:`SpecError` naming the field on bad input."""
    return reader.load_spec(path, KINDS)


def parse_spec(text: str, *, name: str = "exercise", source: str = "spec") -> Spec:
    """Validate spec TOML ``text``; ``name`` becomes the output file stem (letters, digits, spaces and
    ``- _ . , + ( )``, never a path). A spec given as text has no folder: its logo needs
    :attr:`Options.logo_from`."""
    expect(text, str, "parse_spec: text", "the spec's TOML as a str")
    return reader.parse_spec(text, KINDS, name=name, source=source)


def load_sheet(path: str | Path) -> Exercises:
    """Read and validate a sheet spec file: several ``[[exercises]]`` (inline or included), or one
    exercise (today's spec) as a sheet of one; raises :class:`SpecError` naming the field (and the
    exercise: ``exercises[2].parts[3].x``) on bad input."""
    return several.load_sheet(path, KINDS)


def parse_sheet(
    text: str, *, name: str = "exercise", source: str = "spec", folder: str | Path | None = None
) -> Exercises:
    """Validate sheet TOML ``text`` as :func:`load_sheet` does a file; its includes are read from
    ``folder`` (none: a sheet given as text includes nothing)."""
    expect(text, str, "parse_sheet: text", "the spec's TOML as a str")
    where = None if folder is None else Path(folder).resolve()
    return several.parse_sheet(text, KINDS, name=name, source=source, folder=where)


def load_example() -> Spec:
    """The built-in example: the seed exercise sheet on backpropagation."""
    return reader.load_example(KINDS)


def build_sheet(spec: Spec | Exercises | str | Path, options: Options = Options()) -> Built:
    """Build the exercise sheet, the solution sheet, their .tex sources, the answers, the value macros
    and the fragments. TeX runs beside the Python work (the PDF stage overlaps them); nothing reaches
    the output folder unless the verification passed and every file is ready. A sheet of several
    exercises is built by :func:`build_exercises`; one exercise is built as it always was.

    The Python work runs within ``options.max_seconds`` (:class:`derive.budget.Budget`): its sections
    end before TeX's are cleaned up, so a stop cleans up TeX unhurried."""
    expect(options, Options, "build_sheet: options", "a derive.Options")
    if options.exam:
        return build_exam(spec, options)
    budget = Budget(options.max_seconds)
    with budget:
        sheet = accepted(spec)  # TOML (or a model built in Python) → validated model: a sheet of exercises
    if (alone := sheet.alone()) is None:
        return build_exercises(sheet, options, budget)
    with budget:
        spec = sized(alone, options)
        options, unshared = own_caches(options)  # no cache that other users can write
        style = Style.of(spec.sheet, options.decimals, options.language)  # places, language, notation
        logo = logo_file(spec, options.logo_from)
    engine = spec.sheet.engine  # the spec's, or the options' where they choose one (:func:`sized`)
    with Typesetter(options.pdf, options.timeout, logo, options.formats, engine) as tex:  # TeX beside the Python
        with budget:
            budget.enter("the exercise sheet")
            derivation = Derivation(spec)  # the exact derivation, part by part as the sheets need them
            sketch = outline(spec, derivation)  # givens and questions: all the exercise sheet needs
            exercise = exercise_sheet(sketch, style, options, logo)
            with budget.shield():  # a TeX run is started whole (its folder made and owned), or not at all
                tex.compile("exercise", exercise)  # TeX starts on it while the solution is derived
            solution, solution_tex, context = solution_sheet(derivation, sketch, style, options, logo, tex, budget)
            budget.enter("the verification")
            report = verify(solution)  # the gate, while TeX runs: float64 engine and finite differences
            budget.enter("the answers and fragments")
            texts = outputs(solution, style, options, context, {"exercise": exercise, "solution": solution_tex})
        pdfs = tex.pdfs(spec.name)  # → PDF (each LaTeX run bounded by options.timeout)
    files = write_all(options.output_dir, confined({**logo, **texts, **pdfs}), spec.name)  # all in place, or none
    tex.missing()  # PDFs asked for but no TeX: the rest is written, the exit status says so
    warnings = unshared + margin_warnings(pdfs)
    return Built(files, report, solution, warnings, Redone.of(context["parts"]), (solution,))


def build_exercises(sheet: Exercises, options: Options, budget: Budget) -> Built:
    """:func:`build_sheet` for a sheet of several exercises: each exercise derived and verified on its
    own (its Derivation, its gate), both sheets rendered with every exercise, "Exercise 2 (c)"; the
    answers keyed by exercise (``e2.p3.L``). The solution sheet is typeset once every part is derived."""
    with budget:
        specs = [sized(spec, options) for spec in sheet.exercises]
        head = headed(sized(replace(specs[0], sheet=sheet.sheet), options).sheet, specs[0])  # the title block's
        options, unshared = own_caches(options)
        style = Style.of(head.sheet, options.decimals, options.language)  # the sheet's words and places
        logo = logo_file(head, options.logo_from)
    logo_name = next(iter(logo), "")
    with Typesetter(options.pdf, options.timeout, logo, options.formats, head.sheet.engine) as tex:
        with budget:
            budget.enter("the exercise sheet")
            derivations = [Derivation(spec) for spec in specs]
            sketches = [
                Exercise(k, outline(spec, derivation), Style.of(spec.sheet, options.decimals, options.language))
                for k, (spec, derivation) in enumerate(zip(specs, derivations, strict=True), 1)
            ]
            contexts = [exercise_context(e, logo_name) for e in sketches]
            exercise = render_several("exercise", head, sketches, contexts, style, options.templates, options.compiled)
            with budget.shield():
                tex.compile("exercise", exercise)
            solved = []
            for sketch, derivation in zip(sketches, derivations, strict=True):
                parts = tuple(map(budget.parts(solver(derivation)), sketch.solution.spec.parts))
                found = sketch.solution
                solved.append(replace(sketch, solution=Solution(found.spec, found.givens, parts, found.diagram)))
            budget.enter("the solution sheet")
            contexts = [exercise_context(e, logo_name) for e in solved]
            solution = render_several("solution", head, solved, contexts, style, options.templates, options.compiled)
            with budget.shield():
                tex.compile("solution", solution)
            budget.enter("the verification")
            reports = [verify(e.solution) for e in solved]  # each exercise's gate
            budget.enter("the answers and fragments")
            sheets = {"exercise": exercise, "solution": solution}
            texts = several_outputs(
                head.name, head.sheet, solved, contexts, style, sheets, options.templates, options.compiled
            )
        pdfs = tex.pdfs(head.name)
    files = write_all(options.output_dir, confined({**logo, **texts, **pdfs}), head.name)
    tex.missing()
    report = Report(
        sum(r.values for r in reports),
        sum(r.differences for r in reports),
        max(r.max_relative for r in reports),
        max(r.max_difference for r in reports),
    )
    redone = [Redone.of(c["parts"]) for c in contexts]
    failed = tuple(key_prefix(e.number) + key for e, r in zip(solved, redone, strict=True) for key in r.failed)
    return Built(
        files,
        report,
        solved[0].solution,
        unshared + margin_warnings(pdfs),
        Redone(sum(r.lines for r in redone), failed),
        tuple(e.solution for e in solved),
    )


def build_exam(spec: Spec | Exercises | str | Path, options: Options) -> Built:
    """The exam and its marking scheme (:attr:`Options.exam`), both from the verified solution: the
    parts are derived and checked by the gate before either is rendered (the exam's answer space
    grows with what a part asks for). Only these four files are written (no manifest: a sheet build's
    files in the same folder stay)."""
    budget = Budget(options.max_seconds)
    with budget:
        sheet = accepted(spec)
        alone = sheet.alone()
        if alone is None:  # the exam of a sheet of several exercises is not made yet
            raise SpecError("exercises", "derive exam builds the exam of a sheet of one exercise")
        spec = sized(alone, options)
        if spec.parts[0].points is None:  # the reader has made sure that all parts have points, or none
            raise SpecError("parts[1].points", "missing: an exam needs the points of every part (docs/exam.md)")
        options, unshared = own_caches(options)
        style = Style.of(spec.sheet, options.decimals, options.language)
        logo = logo_file(spec, options.logo_from)
    with Typesetter(options.pdf, options.timeout, logo, options.formats, spec.sheet.engine) as tex:
        with budget:
            derivation = Derivation(spec)
            sketch = outline(spec, derivation)
            solve = budget.parts(solver(derivation))
            solution = Solution(spec, sketch.givens, tuple(map(solve, spec.parts)), sketch.diagram)
            budget.enter("the verification")
            report = verify(solution)  # nothing is rendered from a solution the gate has not passed
            name, texts, contexts = next(iter(logo), ""), {}, {}
            for kind, context in (("exam", exam_context), ("marking", marking_context)):
                budget.enter(f"the {kind}")
                contexts[kind] = context(solution, style, name)
                texts[kind] = render_document(
                    kind, contexts[kind], solution, style, options.templates, options.compiled
                )
                with budget.shield():
                    tex.compile(kind, texts[kind])
        pdfs = tex.pdfs(spec.name)
    sources = {f"{spec.name}-{kind}.tex": text.encode() for kind, text in texts.items()}
    files = write_all(options.output_dir, confined({**logo, **sources, **pdfs}))
    tex.missing()
    return Built(files, report, solution, unshared + margin_warnings(pdfs), Redone.of(contexts["marking"]["parts"]))


def accepted(spec: object) -> Exercises:
    """A spec file read and validated, or a model built in Python validated as the reader would."""
    expect(spec, (Spec, Exercises, str, os.PathLike), "build_sheet: spec", "a derive.Spec or a spec file's path")
    if isinstance(spec, Exercises):
        return replace(spec, exercises=tuple(check(s, "build_sheet: spec") for s in spec.exercises))
    if isinstance(spec, Spec):
        return Exercises.of(check(spec, "build_sheet: spec"))
    return load_sheet(spec)  # type: ignore[arg-type]


def margin_warnings(pdfs: dict[str, Pdf]) -> tuple[str, ...]:
    """A warning for each PDF with lines set wider than the page (a user's template, a huge value)."""
    return tuple(
        f"{name}: {len(wide)} lines run into the margin (up to {max(wide):.0f} pt)"
        if len(wide) > 1
        else f"{name}: 1 line runs into the margin (by {wide[0]:.0f} pt)"
        for name, pdf in pdfs.items()
        if (wide := pdf.margin())
    )


def own_caches(options: Options) -> tuple[Options, tuple[str, ...]]:
    """The options without the cache folders other users could change (what is loaded from a cache
    could change a sheet, or run code), and one warning naming them; the build goes on without."""
    folders = [folder for folder in (options.formats if options.pdf else None, options.compiled) if folder is not None]
    skipped, warning = sealed.untrusted(folders)
    if warning is None:
        return options, ()
    formats = None if options.formats in skipped else options.formats
    compiled = None if options.compiled in skipped else options.compiled
    return replace(options, formats=formats, compiled=compiled), (warning,)


def sized(spec: Spec, options: Options) -> Spec:
    """The spec as this build makes it: refused before any work when its network is too large for a
    readable sheet; on the paper and with the engine the options ask for; under the student policy,
    carrying the places the options ask for."""
    check_size(spec)
    chosen = {name: getattr(options, name) for name in ("paper", "engine") if getattr(options, name) is not None}
    if chosen:
        spec = replace(spec, sheet=replace(spec.sheet, **chosen))
    if spec.sheet.carry is not None and options.decimals is not None:
        # The student policy carries what the sheet shows: the places asked for are the ones rounded to.
        return replace(spec, sheet=replace(spec.sheet, decimals=options.decimals))
    return spec


def exercise_sheet(sketch: Solution, style: Style, options: Options, logo: dict[str, bytes]) -> str:
    """The exercise sheet's source, made from the outline (nothing is derived for it)."""
    context = sheet_context(sketch, style, logo=next(iter(logo), ""))
    return render_exercise(sketch, style, options.templates, context, options.compiled)


def solution_sheet(
    derivation: Derivation,
    sketch: Solution,
    style: Style,
    options: Options,
    logo: dict[str, bytes],
    tex: Typesetter,
    budget: Budget,
) -> tuple[Solution, str, Context]:
    """The solution sheet, its source and its template context: derived part by part while TeX
    typesets each finished part, or (with a user's templates, which may walk the parts more than
    once) derived whole, then rendered and compiled. Each part is a stage of the ``budget``."""
    logo_name = next(iter(logo), "")
    solve = budget.parts(solver(derivation))
    if options.templates:
        parts = tuple(map(solve, sketch.spec.parts))
        solution = Solution(sketch.spec, sketch.givens, parts, sketch.diagram)
        budget.enter("the solution sheet")
        context = sheet_context(solution, style, logo=logo_name)
        text = render_solution(solution, style, options.templates, context, options.compiled)
        with budget.shield():
            tex.compile("solution", text)
        return solution, text, context
    sink = budget.shielded(tex.stream("solution", len(sketch.parts) + 2))  # the head, each part, the tail
    pieces = SolutionPieces(sketch, style, logo_name, solve, sink, options.compiled)
    text = pieces.render()
    with budget.shield():
        tex.finish("solution", text)
    return pieces.solution, text, pieces.context


def outputs(
    solution: Solution, style: Style, options: Options, context: Context, sheets: dict[str, str]
) -> dict[str, bytes]:
    """Every file of a build but the PDFs: both sheets' sources, the answers (JSON, CSV), the value
    macros, the fragments and the student's self-check page, made from the same verified solution."""
    stem, places = solution.spec.name, style.places
    document = answers(solution, places)
    fragment_texts = fragments(solution, style, options.templates, context, options.compiled)
    return {
        **{f"{stem}-{name}.tex": text.encode() for name, text in sheets.items()},
        f"{stem}-answers.json": answers_json(solution, places, document).encode(),
        f"{stem}-answers.csv": answers_csv(solution, places, document).encode(),
        f"{stem}-values.tex": value_macros(document, style.decimal_mark).encode(),
        f"{stem}-check.html": check_page(solution, style, document, options.templates).encode(),
        **{f"{stem}-fragments/{name}": text.encode() for name, text in fragment_texts.items()},
    }


MAX_SHEET_PARAMETERS = 200
"""Largest network a sheet shows in full; the library (derive.solve) takes any size."""


def check_size(spec: Spec) -> None:
    """Refuse, before any work, a network too large for a readable sheet, naming the layer where its
    parameters pass the limit (a bias of "none" is no parameter; a shared bias is one)."""
    counts = [
        rows * cols + (rows if layer.has_bias and not layer.shared_bias else int(layer.has_bias))
        for layer in (spec.network.layers if spec.network is not None else ())
        for rows, cols in (layer.shape,)
    ]
    if sum(counts) > MAX_SHEET_PARAMETERS:
        passed = next(n for n in range(1, len(counts) + 1) if sum(counts[:n]) > MAX_SHEET_PARAMETERS)
        raise SpecError(
            f"network.layers[{passed}]",
            f"{sum(counts)} parameters are more than a readable sheet shows (at most {MAX_SHEET_PARAMETERS}); "
            "derive.solve() in Python derives and verifies networks of any size",
        )
