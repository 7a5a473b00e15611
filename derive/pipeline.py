"""The whole pipeline in one function: spec → derivation → verification → LaTeX → PDF files."""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from derive.answers import answers_json
from derive.derivation import derive
from derive.errors import TexMissing
from derive.pdf import MISSING_TEX, compile_pdf, have_tex
from derive.render import render
from derive.spec import Spec, load_spec
from derive.verify import Report, verify


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


@dataclass(frozen=True)
class Built:
    """What a build wrote, and what the verification gate checked."""

    files: tuple[Path, ...]
    report: Report
    warnings: tuple[str, ...] = field(default=())


def build_sheet(spec: Spec | str | Path, options: Options = Options()) -> Built:
    """Build the exercise sheet, the solution sheet, their .tex sources and the answers JSON."""
    spec = spec if isinstance(spec, Spec) else load_spec(spec)  # TOML → validated model
    places = spec.sheet.decimals if options.decimals is None else options.decimals
    solution = derive(spec)  # exact derivation: parts → typed steps
    report = verify(solution)  # the gate: float64 engine and finite differences
    documents = render(solution, report, places, options.templates)  # template context → Jinja2 LaTeX
    stem = spec.name
    texts = {
        f"{stem}-exercise.tex": documents.exercise.encode(),
        f"{stem}-solution.tex": documents.solution.encode(),
        f"{stem}-answers.json": answers_json(solution, places).encode(),
    }
    if options.pdf and have_tex():  # LaTeX → PDF, both sheets at once
        with ThreadPoolExecutor(max_workers=2) as pool:
            pdfs = list(pool.map(lambda s: compile_pdf(s, options.timeout), [documents.exercise, documents.solution]))
        texts[f"{stem}-exercise.pdf"], texts[f"{stem}-solution.pdf"] = pdfs
    files = write_all(options.output_dir, texts)  # every file renamed into place only when all are ready
    if options.pdf and not have_tex():
        raise TexMissing(MISSING_TEX)
    return Built(files, report)


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
            handle, staging = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(staging, 0o666 & ~_umask())
            staged.append((Path(staging), folder / name))
        for temporary, final in staged:
            os.replace(temporary, final)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    return tuple(final for _, final in staged)
