"""Compiling LaTeX safely: a fresh temporary folder, no shell escape, paranoid file access, a timeout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from derive.errors import TexError, TexMissing

INSTALL_HINT = (
    "install TeX Live: sudo apt-get install latexmk texlive-latex-base texlive-latex-recommended "
    "texlive-latex-extra texlive-fonts-recommended lmodern"
)
MISSING_TEX = f"pdflatex not found; the .tex and answers files were written. To make the PDFs, {INSTALL_HINT}"
MAX_PASSES = 3
"""One pass unless the log asks for a rerun (cross-references); never more than this."""


def have_tex() -> bool:
    return shutil.which("pdflatex") is not None


def compile_pdf(source: str, timeout: float = 60.0, files: dict[str, bytes] | None = None) -> bytes:
    """Compile a LaTeX document and return the PDF's bytes; raise TexError with the log's lines.

    ``files`` are put beside the source (a logo the document includes), by name.
    """
    if not have_tex():
        raise TexMissing(MISSING_TEX)
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as folder:
        work = Path(folder)
        (work / "sheet.tex").write_text(source, encoding="utf-8")
        for name, data in (files or {}).items():
            (work / name).write_bytes(data)
        env = {
            **os.environ,
            "openin_any": "p",
            "openout_any": "p",
            "shell_escape": "f",
            "TEXMFOUTPUT": str(work),
            "max_print_line": "200",
        }
        command = [
            "pdflatex",
            "-no-shell-escape",
            "-interaction=nonstopmode",
            "-halt-on-error",
            "-file-line-error",
            "sheet.tex",
        ]
        for _ in range(MAX_PASSES):
            try:
                run = subprocess.run(
                    command, cwd=work, env=env, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
                )
            except subprocess.TimeoutExpired:
                raise TexError(f"pdflatex did not finish within {timeout:g} s") from None
            log = _read(work / "sheet.log")
            if run.returncode != 0 or not (work / "sheet.pdf").exists():
                raise TexError("LaTeX failed:\n" + log_excerpt(log or run.stdout.decode("utf-8", "replace")))
            if not re.search(r"Rerun to get|Label\(s\) may have changed", log):
                break
        return (work / "sheet.pdf").read_bytes()


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
