"""The stages every build shares: the spec accepted and sized, the caches it may use, the exercise
and the solution sheet, the files made from the verified solution, and the warnings about the PDFs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from derive.budget import Budget
from derive.build.options import Built, Options
from derive.errors import SpecError
from derive.exercise import several
from derive.exercise.check import check, check_sheet, expect
from derive.exercise.exercises import Exercises, key_prefix
from derive.exercise.model import Spec
from derive.kinds import KINDS
from derive.maths.derivation import Derivation
from derive.maths.solve import Solve, solver
from derive.maths.steps import Solution
from derive.pdf.compile import Pdf
from derive.pdf.typeset import Typesetter
from derive.render import sealed
from derive.render.answers import answers, answers_csv, answers_json
from derive.render.checkpage import check_page
from derive.render.context import Context, sheet_context
from derive.render.fragments import fragments, value_macros
from derive.render.pieces import SolutionPieces
from derive.render.reproduce import Redone
from derive.render.several import Exercise
from derive.render.templates import render_exercise, render_solution
from derive.tex.style import Style
from derive.verify.gate import Report


def accepted(spec: object) -> Exercises:
    """A spec file read and validated, or a model built in Python validated as the reader would."""
    expect(spec, (Spec, Exercises, str, os.PathLike), "build_sheet: spec", "a derive.Spec or a spec file's path")
    if isinstance(spec, Exercises):
        return check_sheet(spec, "build_sheet: spec")
    if isinstance(spec, Spec):
        return Exercises.of(check(spec, "build_sheet: spec"))
    return several.load_sheet(spec, KINDS)  # type: ignore[arg-type]


def built_of_several(
    files: tuple[Path, ...],
    reports: Sequence[Report],
    solved: Sequence[Exercise],
    warnings: tuple[str, ...],
    contexts: Sequence[Context],
) -> Built:
    """What a build of several exercises (their sheets, or their exam) gives back: the gates' reports
    as one, the worked lines keyed by exercise (``contexts``: the marking scheme's for an exam), the
    first exercise's solution as ``solution`` and every one's as ``solutions``."""
    return Built(
        files,
        merged(reports),
        solved[0].solution,
        warnings,
        exercises_redone([e.number for e in solved], contexts),
        tuple(e.solution for e in solved),
    )


def merged(reports: Sequence[Report]) -> Report:
    """The gate's reports of a sheet's exercises as one: what was checked, and the largest differences."""
    return Report(
        sum(r.values for r in reports),
        sum(r.differences for r in reports),
        max(r.max_relative for r in reports),
        max(r.max_difference for r in reports),
    )


def exercises_redone(numbers: Sequence[int], contexts: Sequence[Context]) -> Redone:
    """The substituted lines of a sheet's exercises (their ``contexts``, numbered ``numbers``), and
    which do not redo, by keys led by their exercise (``e2.p3.L``)."""
    redone = [Redone.of(c["parts"]) for c in contexts]
    failed = tuple(key_prefix(n) + key for n, r in zip(numbers, redone, strict=True) for key in r.failed)
    return Redone(sum(r.lines for r in redone), failed)


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
    solved: Solution | None = None,
) -> tuple[Solution, str, Context]:
    """The solution sheet, its source and its template context: derived part by part while TeX
    typesets each finished part, or (with a user's templates, which may walk the parts more than
    once) derived whole, then rendered and compiled. Each part is a stage of the ``budget``;
    ``solved``: the parts derived already (a variant's, judged before it is built)."""
    logo_name = next(iter(logo), "")
    solve = budget.parts(solver(derivation) if solved is None else _given(solved))
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


def _given(solved: Solution) -> Solve:
    """Each part as ``solved`` has it."""
    parts = {id(done.part): done for done in solved.parts}
    return lambda part: parts[id(part)]


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
        f"{stem}-check.html": check_page(solution, style, document, options.templates, options.compiled).encode(),
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
