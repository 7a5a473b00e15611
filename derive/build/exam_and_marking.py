"""The build of an exam and its marking scheme, both rendered from the verified solution."""

from __future__ import annotations

from pathlib import Path

from derive.budget import Budget
from derive.build.options import Built, Options
from derive.build.stages import accepted, margin_warnings, own_caches, sized
from derive.errors import SpecError
from derive.exercise.exercises import Exercises
from derive.exercise.logo import logo_file
from derive.exercise.model import Spec
from derive.maths.derivation import Derivation
from derive.maths.solve import outline, solver
from derive.maths.steps import Solution
from derive.output import confined, write_all
from derive.pdf.typeset import Typesetter
from derive.render.exam import exam_context, marking_context, render_document
from derive.render.reproduce import Redone
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
