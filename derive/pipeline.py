"""The whole pipeline in one function: spec → derivation → verification → LaTeX → PDF files."""

from __future__ import annotations

from pathlib import Path

from derive import notebook  # noqa: F401  (registers the Jupyter display of solutions, parts and quantities)
from derive.budget import Budget
from derive.build.exam_and_marking import build_exam
from derive.build.options import Built, Options, folders
from derive.build.several_exercises import build_exercises
from derive.build.stages import (
    accepted,
    exercise_sheet,
    margin_warnings,
    outputs,
    own_caches,
    sized,
    solution_sheet,
)
from derive.exercise import reader, several
from derive.exercise.check import expect
from derive.exercise.exercises import Exercises
from derive.exercise.logo import logo_file
from derive.exercise.model import Spec
from derive.kinds import KINDS
from derive.maths.derivation import Derivation
from derive.maths.solve import outline
from derive.maths.steps import Solution
from derive.output import confined, write_all
from derive.pdf.typeset import Typesetter
from derive.render.reproduce import Redone
from derive.tex.style import Style
from derive.verify.gate import verify

__all__ = [
    "Built",
    "Options",
    "build_sheet",
    "folders",
    "load_example",
    "load_sheet",
    "load_spec",
    "parse_sheet",
    "parse_spec",
]


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


def build_sheet(
    spec: Spec | Exercises | str | Path, options: Options = Options(), *, solved: Solution | None = None
) -> Built:
    """Build the exercise sheet, the solution sheet, their .tex sources, the answers, the value macros
    and the fragments. TeX runs beside the Python work (the PDF stage overlaps them); nothing reaches
    the output folder unless the verification passed and every file is ready. A sheet of several
    exercises is built by :func:`build_exercises`; one exercise is built as it always was.

    ``solved``: what :func:`derive.solve` made of this very ``spec`` object; its parts are built as
    they are instead of derived again (the verification still checks them). Options that change what
    is derived (``decimals``) make a new spec: then the parts are derived as always.

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
            done = solved if solved is not None and solved.spec is spec else None  # (not a copy)
            solution, solution_tex, context = solution_sheet(
                derivation, sketch, style, options, logo, tex, budget, done
            )
            budget.enter("the verification")
            report = verify(solution)  # the gate, while TeX runs: float64 engine and finite differences
            budget.enter("the answers and fragments")
            texts = outputs(solution, style, options, context, {"exercise": exercise, "solution": solution_tex})
        pdfs = tex.pdfs(spec.name)  # → PDF (each LaTeX run bounded by options.timeout)
    files = write_all(options.output_dir, confined({**logo, **texts, **pdfs}), spec.name)  # all in place, or none
    tex.missing()  # PDFs asked for but no TeX: the rest is written, the exit status says so
    warnings = unshared + margin_warnings(pdfs)
    return Built(files, report, solution, warnings, Redone.of(context["parts"]), (solution,), context)
