"""Compiling LaTeX safely: a fresh temporary folder, no shell escape, paranoid file access, a timeout."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from derive.errors import TexError, TexMissing
from derive.pdf import early, processes
from derive.pdf.formats import Format, forget, format_for, split
from derive.pdf.processes import ENGINE_OPTIONS, tex_environment

INSTALL_HINT = (
    "install TeX Live: sudo apt-get install latexmk texlive-latex-base texlive-latex-recommended "
    "texlive-latex-extra texlive-fonts-recommended lmodern"
)
MISSING_TEX = f"pdflatex not found; the .tex and answers files were written. To make the PDFs, {INSTALL_HINT}"
ENGINE_PACKAGES = {"lualatex": "texlive-luatex", "xelatex": "texlive-xetex"}
"""The Debian package that adds each engine but pdflatex to TeX Live (lualatex's font loader is in texlive-luatex)."""
FORMAT_ENGINES = ("pdflatex",)
"""The engines whose preamble is cached as a format (:mod:`derive.pdf.formats`): xelatex cannot dump
a format with OpenType fonts loaded, and a lualatex format loses the Lua state that pgfplots and the
font loader keep (its sheets failed at the first plot), so those two compile the whole source."""
MAX_PASSES = 3
"""One pass unless the log asks for a rerun (cross-references); never more than this."""


class Pdf(bytes):
    """A PDF's bytes, and the lines its LaTeX run set too wide for the page (Overfull \\hbox, in pt)."""

    overfull: tuple[float, ...]

    @classmethod
    def of(cls, data: bytes, log: str) -> Pdf:
        pdf = cls(data)
        pdf.overfull = tuple(float(pt) for pt in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log))
        return pdf

    def margin(self, tolerance: float = 1.0) -> tuple[float, ...]:
        """The overfull lines wider than ``tolerance`` pt: what a reader sees run into the margin."""
        return tuple(pt for pt in self.overfull if pt > tolerance)


def rerun_asked(log: str) -> bool:
    """Whether a run's log asks for another pass (cross-references, outlines)."""
    return re.search(r"Rerun to get|Label\(s\) may have changed", log) is not None


def have_tex(engine: str = "pdflatex") -> bool:
    return shutil.which(engine) is not None


def missing_tex(engine: str) -> str:
    """What to say when ``engine`` is not installed: the build wrote the rest, and how to install it."""
    if engine not in ENGINE_PACKAGES:
        return MISSING_TEX
    return (
        f"{engine} not found; the .tex and answers files were written. To make the PDFs with {engine}, "
        f'install it (sudo apt-get install {ENGINE_PACKAGES[engine]}) or choose engine = "pdflatex"'
    )


class TexTimeout(TexError):
    """TeX ran past its time limit (a second try would too)."""


def compile_pdf(
    source: str,
    timeout: float = 60.0,
    files: dict[str, bytes] | None = None,
    formats: Path | None = None,
    engine: str = "pdflatex",
) -> Pdf:
    """Compile a LaTeX document and return the PDF; raise TexError with the log's lines.

    ``files`` are put beside the source (a logo the document includes), by name. ``formats`` is
    the folder of cached preamble formats (:mod:`derive.pdf.formats`); None compiles the whole
    source every time. A sheet that fails with its cached format is compiled in full, so errors
    are always reported from the whole source. ``engine`` is pdflatex, lualatex or xelatex.
    """
    if not have_tex(engine):
        raise TexMissing(missing_tex(engine))
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as folder:
        work = Path(folder)
        for name, data in (files or {}).items():
            (work / name).write_bytes(data)
        env = tex_environment(work)
        body, extra, fmt, started = with_format(source, work, env, timeout, formats, engine)
        if started is not None:
            if pdf := _started_pass(started, body, files or {}, timeout, engine):
                return pdf
            assert fmt is not None  # an early TeX is only ever taken for a format
            fmt.place(work)  # it failed: compile here as always, to report errors from this run
        if fmt is not None:
            (work / "sheet.tex").write_text(body, encoding="utf-8")
            try:
                return _passes(work, extra, env, timeout, engine)
            except TexTimeout:
                raise
            except TexError:
                for made in work.glob("sheet.*"):
                    made.unlink()
        (work / "sheet.tex").write_text(source, encoding="utf-8")
        pdf = _passes(work, [], env, timeout, engine)
        if fmt is not None:  # the whole source compiled where the format failed: distrust the format
            forget(fmt)
        return pdf


def _started_pass(started: early.Early, body: str, files: dict[str, bytes], timeout: float, engine: str) -> Pdf | None:
    """The PDF of ``body`` (the text after the preamble) from ``started``, a TeX that loaded its format
    before the imports ended (:mod:`derive.pdf.early`), with more passes if the log asks; None where
    it fails in any way (the caller then compiles as always, and reports errors from there)."""
    work, process = started.work, started.process
    try:
        for name, data in files.items():
            (work / name).write_bytes(data)
        processes.runs().adopt(process)  # the build's from here: stopping the build kills it
        if not early.feed(work / "sheet.tex", body.encode("utf-8"), process):
            return None
        process.wait(timeout)
        log = _read(work / "sheet.log")
        if process.returncode != 0 or not (work / "sheet.pdf").exists():
            return None
        if rerun_asked(log):  # cross-references: the next passes read the source as a file
            (work / "sheet.tex").unlink()
            (work / "sheet.tex").write_text(body, encoding="utf-8")
            return _passes(work, ["-fmt=derive"], tex_environment(work), timeout, engine)
        return Pdf.of((work / "sheet.pdf").read_bytes(), log)
    except (OSError, TexError, subprocess.TimeoutExpired):
        return None
    finally:
        started.end()


def with_format(
    source: str, work: Path, env: dict[str, str], timeout: float, formats: Path | None, engine: str = "pdflatex"
) -> tuple[str, list[str], Format | None, early.Early | None]:
    """What ``engine`` compiles in ``work``: the text after the shared preamble, the option that loads
    its cached format and the format; without one, the whole source. The format is copied into
    ``work``, unless a TeX started before the imports has it loaded (:mod:`derive.pdf.early`): that
    run is returned last, the caller's to adopt (else None)."""
    pieces = split(source) if formats is not None and engine in FORMAT_ENGINES else None
    fmt = format_for(pieces[0], formats, env, timeout) if pieces and formats is not None else None
    if pieces is None or fmt is None:
        return source, [], None, None
    started = early.take(fmt.path)
    if started is None:
        fmt.place(work)
    return pieces[1], ["-fmt=derive"], fmt, started


def _passes(work: Path, extra: list[str], env: dict[str, str], timeout: float, engine: str) -> Pdf:
    """Run ``engine`` on ``work/sheet.tex``: once, or again while the log asks for a rerun."""
    command = [engine, *extra, *ENGINE_OPTIONS, "sheet.tex"]
    for _ in range(MAX_PASSES):
        try:
            run = processes.run(command, cwd=work, env=env, timeout=timeout)  # killed with its build
        except subprocess.TimeoutExpired:
            raise TexTimeout(f"{engine} did not finish within {timeout:g} s") from None
        log = _read(work / "sheet.log")
        if run.returncode != 0 or not (work / "sheet.pdf").exists():
            raise TexError("LaTeX failed:\n" + log_excerpt(log or run.stdout.decode("utf-8", "replace")))
        if not rerun_asked(log):
            break
    return Pdf.of((work / "sheet.pdf").read_bytes(), log)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def log_excerpt(log: str, context: int = 3) -> str:
    """The error lines of a TeX log (``!`` or ``file:line:`` lines) with a little context."""
    lines = log.splitlines()
    picked: list[str] = []
    for number, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^[^:\s]+\.tex:\d+:", line):
            picked.extend(lines[number : number + context])
    return "\n".join(picked[: 4 * context]) or "\n".join(lines[-12:])
