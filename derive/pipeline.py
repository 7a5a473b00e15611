"""The whole pipeline in one function: spec → derivation → verification → LaTeX → PDF files."""

from __future__ import annotations

import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from derive.errors import SpecError, TexMissing
from derive.kinds import KINDS
from derive.maths.derivation import Derivation
from derive.maths.solve import derive, outline, solver
from derive.maths.steps import Solution
from derive.pdf.compile import MISSING_TEX, compile_pdf, have_tex
from derive.pdf.formats import default_cache
from derive.pdf.stream import StreamedPdf
from derive.render.answers import answers, answers_csv, answers_json
from derive.render.context import sheet_context
from derive.render.fragments import fragments, value_macros
from derive.render.pieces import SolutionPieces
from derive.render.templates import render_exercise, render_solution
from derive.spec import reader
from derive.spec.model import Spec
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


@dataclass(frozen=True)
class Built:
    """What a build wrote, and what the verification gate checked."""

    files: tuple[Path, ...]
    report: Report
    solution: Solution
    """The verified derivation the files were made from (look quantities up by answer key)."""
    warnings: tuple[str, ...] = field(default=())


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; raises :class:`SpecError` naming the field on bad input."""
    return reader.load_spec(path, KINDS)


def parse_spec(text: str, *, name: str = "exercise", source: str = "spec") -> Spec:
    """Validate spec TOML ``text``; ``name`` becomes the output file stem."""
    return reader.parse_spec(text, KINDS, name=name, source=source)


def load_example() -> Spec:
    """The built-in example: the seed exercise sheet on backpropagation."""
    return reader.load_example(KINDS)


def build_sheet(spec: Spec | str | Path, options: Options = Options()) -> Built:
    """Build the exercise sheet, the solution sheet, their .tex sources and the answers JSON.

    TeX runs beside the Python work: both sheets compile while the solution is verified and the
    answers are written. Nothing reaches the output folder unless the verification passed and
    every file is ready.
    """
    spec = spec if isinstance(spec, Spec) else load_spec(spec)  # TOML → validated model
    check_size(spec)
    decimals = options.decimals
    if spec.sheet.carry is not None and decimals is not None:
        # The student policy carries what the sheet shows: the places asked for are the ones rounded to.
        spec = replace(spec, sheet=replace(spec.sheet, decimals=decimals))
        decimals = None
    style = Style.of(spec.sheet, decimals, options.language)
    stem, places = spec.name, style.places
    logo = logo_file(spec)
    logo_name = next(iter(logo), "")
    compile_now = options.pdf and have_tex()
    with ThreadPoolExecutor(max_workers=2) as pool:
        deriver = Derivation(spec)
        # The exercise sheet needs no derivation: its TeX runs while the solution is derived.
        sketch = outline(spec, deriver)
        outline_context = sheet_context(sketch, style, logo=logo_name)
        exercise = render_exercise(sketch, style, options.templates, outline_context, options.compiled)
        pdfs = [pool.submit(compile_pdf, exercise, options.timeout, logo, options.formats)] if compile_now else []
        stream: StreamedPdf | None = None
        try:
            if options.templates:
                # A user's solution template may walk the parts more than once: derive, then render.
                solution = derive(spec)  # exact derivation: parts → typed steps
                context = sheet_context(solution, style, logo=logo_name)  # template context → Jinja2 LaTeX
                solution_tex = render_solution(solution, style, options.templates, context, options.compiled)
                if compile_now:
                    pdfs.append(pool.submit(compile_pdf, solution_tex, options.timeout, logo, options.formats))
            else:
                # Derive part by part (exact derivation: parts → typed steps → Jinja2 LaTeX) while TeX
                # typesets each finished part of the solution sheet.
                def typeset(piece: str) -> None:
                    nonlocal stream
                    if stream is not None:
                        stream.part(piece)
                    elif compile_now:  # the head: TeX starts on it while part 1 is derived
                        stream = StreamedPdf(piece, len(spec.parts) + 1, options.timeout, logo, options.formats)

                pieces = SolutionPieces(sketch, style, logo_name, solver(deriver), typeset, options.compiled)
                solution_tex = pieces.render()
                solution, context = pieces.solution, pieces.context
                if stream is not None:
                    pdfs.append(pool.submit(finished, stream, solution_tex, options, logo))
            report = verify(solution)  # the gate, while TeX runs: float64 engine and finite differences
            document = answers(solution, places)
            texts = {
                **logo,
                f"{stem}-exercise.tex": exercise.encode(),
                f"{stem}-solution.tex": solution_tex.encode(),
                f"{stem}-answers.json": answers_json(solution, places, document).encode(),
                f"{stem}-answers.csv": answers_csv(solution, places, document).encode(),
                f"{stem}-values.tex": value_macros(document, style.decimal_mark).encode(),
                **{
                    f"{stem}-fragments/{name}": text.encode()
                    for name, text in fragments(solution, style, options.templates, context, options.compiled).items()
                },
            }
            if pdfs:  # → PDF
                texts[f"{stem}-exercise.pdf"], texts[f"{stem}-solution.pdf"] = (pdf.result() for pdf in pdfs)
        except BaseException:
            for pdf in pdfs:
                pdf.cancel()
            if stream is not None:
                stream.abandon()
            raise
    files = write_all(options.output_dir, texts)  # every file renamed into place only when all are ready
    if options.pdf and not compile_now:
        raise TexMissing(MISSING_TEX)
    return Built(files, report, solution)


def finished(stream: StreamedPdf, source: str, options: Options, files: dict[str, bytes]) -> bytes:
    """The streamed run's PDF, or (when it stopped: an error, a rerun) the whole source compiled."""
    return stream.finish() or compile_pdf(source, options.timeout, files, options.formats)


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
    """Refuse, before any work, a network too large for a readable sheet."""
    count = sum(rows * cols + rows for rows, cols in (layer.shape for layer in spec.network.layers))
    if count > MAX_SHEET_PARAMETERS:
        raise SpecError(
            "network",
            f"{count} parameters are more than a readable sheet shows (at most {MAX_SHEET_PARAMETERS}); "
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
