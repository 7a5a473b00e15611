"""The whole pipeline in one function: spec → derivation → verification → LaTeX → PDF files."""

from __future__ import annotations

import math
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from derive.errors import SpecError
from derive.exercise import reader
from derive.exercise.model import Spec
from derive.kinds import KINDS
from derive.maths.derivation import Derivation
from derive.maths.solve import outline, solver
from derive.maths.steps import Solution
from derive.pdf.compile import Pdf
from derive.pdf.formats import default_cache
from derive.pdf.typeset import Typesetter
from derive.render.answers import answers, answers_csv, answers_json
from derive.render.context import Context, sheet_context
from derive.render.fragments import fragments, value_macros
from derive.render.pieces import SolutionPieces
from derive.render.reproduce import Redone
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
    formats: Path | None = field(default_factory=default_cache)
    """Folder of cached TeX formats of the preamble (:mod:`derive.pdf.formats`); None: no cache."""
    compiled: Path | None = field(default_factory=lambda: default_cache().parent / "templates")
    """Folder of compiled templates (Jinja's bytecode cache: a cold build skips compiling them);
    None: compile in every process."""

    def __post_init__(self) -> None:
        # Checked and converted here, before any work: a str path is a path (not a folder per letter),
        # and a bad number is one ValueError naming the option, not a failure after the derivation.
        paths = {"output_dir": self.output_dir, "formats": self.formats, "compiled": self.compiled}
        for name, value in paths.items():
            if value is not None and not isinstance(value, str | os.PathLike):
                raise TypeError(f"{name}: expected a folder (str or Path), not {type(value).__name__}")
            object.__setattr__(self, name, None if value is None else Path(value))
        templates = self.templates
        folders = (templates,) if isinstance(templates, str | os.PathLike) else tuple(templates)
        object.__setattr__(self, "templates", tuple(Path(folder) for folder in folders))
        if not (isinstance(self.timeout, int | float) and math.isfinite(self.timeout)):
            raise ValueError(f"timeout: expected seconds from 1 to {MAX_TIMEOUT:g}, found {self.timeout!r}")
        if not 1 <= self.timeout <= MAX_TIMEOUT:
            raise ValueError(f"timeout: expected seconds from 1 to {MAX_TIMEOUT:g}, found {self.timeout:g}")
        if self.decimals is not None and not (isinstance(self.decimals, int) and 0 <= self.decimals <= 12):
            raise ValueError(f"decimals: expected a whole number from 0 to 12, found {self.decimals!r}")


MAX_TIMEOUT = 3600.0
"""Longest a single LaTeX run may be allowed (an hour; a sheet takes seconds)."""


@dataclass(frozen=True)
class Built:
    """What a build wrote, and what the verification gate checked."""

    files: tuple[Path, ...]
    report: Report
    solution: Solution
    """The verified derivation the files were made from (look quantities up by answer key)."""
    warnings: tuple[str, ...] = field(default=())
    """What a reader of the PDFs would notice that did not stop the build: lines run into the margin."""
    redone: Redone = field(default=Redone())
    """The solution sheet's substituted lines, and which of them redo from the numbers they show."""


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; raises :class:`SpecError` naming the field on bad input."""
    return reader.load_spec(path, KINDS)


def parse_spec(text: str, *, name: str = "exercise", source: str = "spec") -> Spec:
    """Validate spec TOML ``text``; ``name`` becomes the output file stem."""
    if not isinstance(text, str):
        raise TypeError(f"parse_spec: text must be the spec's TOML as a str, not {type(text).__name__}")
    return reader.parse_spec(text, KINDS, name=name, source=source)


def load_example() -> Spec:
    """The built-in example: the seed exercise sheet on backpropagation."""
    return reader.load_example(KINDS)


def build_sheet(spec: Spec | str | Path, options: Options = Options()) -> Built:
    """Build the exercise sheet, the solution sheet, their .tex sources, the answers, the value macros
    and the fragments. TeX runs beside the Python work (the PDF stage overlaps them); nothing reaches
    the output folder unless the verification passed and every file is ready."""
    spec = sized(spec if isinstance(spec, Spec) else load_spec(spec), options)  # TOML → validated model
    style = Style.of(spec.sheet, options.decimals, options.language)  # places, language, notation
    logo = logo_file(spec)
    derivation = Derivation(spec)  # the exact derivation, part by part as the sheets need them
    with Typesetter(options.pdf, options.timeout, logo, options.formats) as tex:  # TeX beside the Python
        sketch = outline(spec, derivation)  # givens and questions: all the exercise sheet needs
        exercise = exercise_sheet(sketch, style, options, logo)
        tex.compile("exercise", exercise)  # TeX starts on it while the solution is derived
        solution, solution_tex, context = solution_sheet(derivation, sketch, style, options, logo, tex)
        report = verify(solution)  # the gate, while TeX runs: float64 engine and finite differences
        texts = outputs(solution, style, options, context, {"exercise": exercise, "solution": solution_tex})
        pdfs = tex.pdfs(spec.name)  # → PDF
    files = write_all(options.output_dir, {**logo, **texts, **pdfs})  # all renamed into place, or none
    tex.missing()  # PDFs asked for but no TeX: the rest is written, the exit status says so
    return Built(files, report, solution, margin_warnings(pdfs), Redone.of(context["parts"]))


def margin_warnings(pdfs: dict[str, Pdf]) -> tuple[str, ...]:
    """A warning for each PDF with lines set wider than the page (a user's template, a huge value)."""
    return tuple(
        f"{name}: {len(wide)} lines run into the margin (up to {max(wide):.0f} pt)"
        if len(wide) > 1
        else f"{name}: 1 line runs into the margin (by {wide[0]:.0f} pt)"
        for name, pdf in pdfs.items()
        if (wide := pdf.margin())
    )


def sized(spec: Spec, options: Options) -> Spec:
    """The spec as this build makes it: refused before any work when its network is too large for a
    readable sheet; under the student policy, carrying the places the options ask for."""
    check_size(spec)
    if spec.sheet.carry is not None and options.decimals is not None:
        # The student policy carries what the sheet shows: the places asked for are the ones rounded to.
        return replace(spec, sheet=replace(spec.sheet, decimals=options.decimals))
    return spec


def exercise_sheet(sketch: Solution, style: Style, options: Options, logo: dict[str, bytes]) -> str:
    """The exercise sheet's source, made from the outline (nothing is derived for it)."""
    context = sheet_context(sketch, style, logo=next(iter(logo), ""))
    return render_exercise(sketch, style, options.templates, context, options.compiled)


def solution_sheet(
    derivation: Derivation, sketch: Solution, style: Style, options: Options, logo: dict[str, bytes], tex: Typesetter
) -> tuple[Solution, str, Context]:
    """The solution sheet, its source and its template context: derived part by part while TeX
    typesets each finished part, or (with a user's templates, which may walk the parts more than
    once) derived whole, then rendered and compiled."""
    logo_name = next(iter(logo), "")
    if options.templates:
        parts = tuple(map(solver(derivation), sketch.spec.parts))
        solution = Solution(sketch.spec, sketch.givens, parts, sketch.diagram)
        context = sheet_context(solution, style, logo=logo_name)
        text = render_solution(solution, style, options.templates, context, options.compiled)
        tex.compile("solution", text)
        return solution, text, context
    sink = tex.stream("solution", len(sketch.parts) + 2)  # the head, each part, the tail
    pieces = SolutionPieces(sketch, style, logo_name, solver(derivation), sink, options.compiled)
    text = pieces.render()
    tex.finish("solution", text)
    return pieces.solution, text, pieces.context


def outputs(
    solution: Solution, style: Style, options: Options, context: Context, sheets: dict[str, str]
) -> dict[str, bytes]:
    """Every file of a build but the PDFs: both sheets' sources, the answers (JSON, CSV), the value
    macros and the fragments, made from the same verified solution."""
    stem, places = solution.spec.name, style.places
    document = answers(solution, places)
    fragment_texts = fragments(solution, style, options.templates, context, options.compiled)
    return {
        **{f"{stem}-{name}.tex": text.encode() for name, text in sheets.items()},
        f"{stem}-answers.json": answers_json(solution, places, document).encode(),
        f"{stem}-answers.csv": answers_csv(solution, places, document).encode(),
        f"{stem}-values.tex": value_macros(document, style.decimal_mark).encode(),
        **{f"{stem}-fragments/{name}": text.encode() for name, text in fragment_texts.items()},
    }


def logo_file(spec: Spec) -> dict[str, bytes]:
    """The spec's logo under the name the sheets include it by (none: empty).

    The name is made of letters, digits and hyphens only, so TeX reads it as given.
    """
    if not spec.sheet.logo:
        return {}
    source = Path(spec.sheet.logo)
    try:
        data = source.read_bytes()
    except OSError as error:
        raise SpecError("sheet.logo", f"cannot read {source}: {error.strerror}") from None
    safe = re.sub(r"[^A-Za-z0-9-]", "-", spec.name)
    return {f"{safe}-logo{source.suffix.lower()}": data}


MAX_SHEET_PARAMETERS = 200
"""Largest network a sheet shows in full; the library (derive.solve) takes any size."""


def check_size(spec: Spec) -> None:
    """Refuse, before any work, a network too large for a readable sheet, naming the layer where its
    parameters pass the limit (a bias of "none" is no parameter; a shared bias is one)."""
    counts = [
        rows * cols + (rows if layer.has_bias and not layer.shared_bias else int(layer.has_bias))
        for layer in spec.network.layers
        for rows, cols in (layer.shape,)
    ]
    if sum(counts) > MAX_SHEET_PARAMETERS:
        passed = next(n for n in range(1, len(counts) + 1) if sum(counts[:n]) > MAX_SHEET_PARAMETERS)
        raise SpecError(
            f"network.layers[{passed}]",
            f"{sum(counts)} parameters are more than a readable sheet shows (at most {MAX_SHEET_PARAMETERS}); "
            "derive.solve() in Python derives and verifies networks of any size",
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_all(folder: Path, contents: dict[str, bytes]) -> tuple[Path, ...]:
    """Write every file to a temporary name in ``folder``, then rename all into place."""
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, data in contents.items():
            final = folder / name  # a name may lead into a subfolder (the fragments)
            final.parent.mkdir(parents=True, exist_ok=True)
            handle, staging = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(staging, 0o666 & ~_umask())
            staged.append((Path(staging), final))
        for temporary, final in staged:
            os.replace(temporary, final)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    return tuple(final for _, final in staged)
