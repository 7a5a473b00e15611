"""The build of a sheet of several exercises: each exercise derived and verified on its own, both
sheets and the answers holding every exercise ("Exercise 2 (c)", keys ``e2.p3.L``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from derive.budget import Budget
from derive.build.options import Built, Options
from derive.build.stages import built_of_several, margin_warnings, own_caches, sized
from derive.exercise.exercises import Exercises
from derive.exercise.logo import logo_file
from derive.maths.derivation import Derivation
from derive.maths.solve import outline, solver
from derive.maths.steps import Solution
from derive.output import confined, write_all
from derive.pdf.typeset import Typesetter
from derive.render.several import Exercise, exercise_context, headed, render_several, several_outputs
from derive.render.several_pieces import SeveralPieces
from derive.tex.style import Style
from derive.verify.gate import verify


def _solver(derivations: dict[int, Derivation], budget: Budget) -> Callable[[Exercise], Exercise]:
    """Work out an exercise's outline: its parts derived, each a stage of the ``budget``."""

    def solve(sketch: Exercise) -> Exercise:
        found = sketch.solution
        parts = tuple(map(budget.parts(solver(derivations[sketch.number])), found.spec.parts))
        return replace(sketch, solution=Solution(found.spec, found.givens, parts, found.diagram))

    return solve


def build_exercises(sheet: Exercises, options: Options, budget: Budget) -> Built:
    """:func:`build_sheet` for a sheet of several exercises: each exercise derived and verified on its
    own (its Derivation, its gate), both sheets rendered with every exercise, "Exercise 2 (c)"; the
    answers keyed by exercise (``e2.p3.L``). TeX typesets each exercise's solutions while the next is derived."""
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
            solve = _solver(dict(zip((e.number for e in sketches), derivations, strict=True)), budget)
            if options.templates:  # a user's templates may walk the exercises more than once: whole
                solved = [solve(sketch) for sketch in sketches]
                budget.enter("the solution sheet")
                contexts = [exercise_context(e, logo_name) for e in solved]
                solution = render_several(
                    "solution", head, solved, contexts, style, options.templates, options.compiled
                )
                with budget.shield():
                    tex.compile("solution", solution)
            else:  # TeX typesets each exercise while the next is derived
                sink = budget.shielded(tex.stream("solution", len(sketches) + 2))  # head, exercises, tail
                pieces = SeveralPieces(head, sketches, style, logo_name, solve, sink, options.compiled)
                solution = pieces.render()
                with budget.shield():
                    tex.finish("solution", solution)
                solved, contexts = pieces.solved, pieces.contexts
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
    return built_of_several(files, reports, solved, unshared + margin_warnings(pdfs), contexts)
