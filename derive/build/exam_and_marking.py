"""The build of an exam and its marking scheme, both rendered from the verified solution."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from derive.budget import Budget
from derive.build.options import Built, Options
from derive.build.stages import accepted, built_of_several, margin_warnings, own_caches, sized
from derive.errors import SpecError
from derive.exercise.exercises import Exercises
from derive.exercise.logo import logo_file
from derive.exercise.model import Spec
from derive.maths.solve import derive
from derive.output import confined, write_all
from derive.pdf.typeset import Typesetter
from derive.render.exam import exam_context, marking_context, render_document
from derive.render.reproduce import Redone
from derive.render.several import Exercise, headed
from derive.render.several_exam import several_exam
from derive.tex.style import Style
from derive.verify.gate import verify


def build_exam(spec: Spec | Exercises | str | Path, options: Options) -> Built:
    """The exam and its marking scheme (:attr:`Options.exam`), both from the verified solution: the
    parts are derived and checked by the gate before either is rendered (the exam's answer space
    grows with what a part asks for). Only these four files are written (no manifest: a sheet build's
    files in the same folder stay)."""
    budget = Budget(options.max_seconds)
    with budget:
        sheet = accepted(spec)
    # Outside the budget's section: the exam of several exercises enters its own sections (entered
    # inside this one, the alarm it restored on leaving was this section's, left running after the build).
    if (alone := sheet.alone()) is None:
        return exam_of_several(sheet, options, budget)
    with budget:
        spec = sized(alone, options)
        if spec.parts[0].points is None:  # the reader has made sure that all parts have points, or none
            raise SpecError("parts[1].points", "missing: an exam needs the points of every part (docs/exam.md)")
        options, unshared = own_caches(options)
        style = Style.of(spec.sheet, options.decimals, options.language)
        logo = logo_file(spec, options.logo_from)
    with Typesetter(options.pdf, options.timeout, logo, options.formats, spec.sheet.engine) as tex:
        with budget:
            solution = derive(spec, budget.parts)
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


def exam_of_several(sheet: Exercises, options: Options, budget: Budget) -> Built:
    """:func:`build_exam` for a sheet of several exercises: each exercise derived and verified on its
    own, then one exam (every exercise's parts, "Exercise 2 (c)", one cover page, points table and
    formula sheet) and one marking scheme."""
    with budget:
        specs = [sized(spec, options) for spec in sheet.exercises]
        for number, spec in enumerate(specs, 1):
            if spec.parts[0].points is None:  # each exercise's parts all have points, or none
                raise SpecError(
                    f"exercises[{number}].parts[1].points",
                    "missing: an exam needs the points of every part of every exercise (docs/exam.md)",
                )
        head = headed(sized(replace(specs[0], sheet=sheet.sheet), options).sheet, specs[0])  # the title block's
        options, unshared = own_caches(options)
        style = Style.of(head.sheet, options.decimals, options.language)
        logo = logo_file(head, options.logo_from)
    with Typesetter(options.pdf, options.timeout, logo, options.formats, head.sheet.engine) as tex:
        with budget:
            solved = []
            for number, spec in enumerate(specs, 1):
                own = Style.of(spec.sheet, options.decimals, options.language)
                solved.append(Exercise(number, derive(spec, budget.parts), own))
            budget.enter("the verification")
            reports = [verify(e.solution) for e in solved]  # each exercise's gate, before anything is rendered
            name, texts = next(iter(logo), ""), {}
            for kind in ("exam", "marking"):
                budget.enter(f"the {kind}")
                texts[kind], contexts = several_exam(
                    kind, head, solved, style, sheet.exam, name, options.templates, options.compiled
                )
                with budget.shield():
                    tex.compile(kind, texts[kind])
        pdfs = tex.pdfs(head.name)
    sources = {f"{head.name}-{kind}.tex": text.encode() for kind, text in texts.items()}
    files = write_all(options.output_dir, confined({**logo, **sources, **pdfs}))
    tex.missing()
    return built_of_several(files, reports, solved, unshared + margin_warnings(pdfs), contexts)
