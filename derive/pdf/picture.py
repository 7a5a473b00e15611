"""A drawing as a picture for a web page: its standalone LaTeX compiled to PDF, the PDF's page made a
PNG by poppler's ``pdftoppm`` (a Moodle question embeds it; MathJax cannot draw TikZ)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from derive.errors import TexError, TexMissing
from derive.pdf import processes
from derive.pdf.compile import compile_pdf
from derive.pdf.processes import tex_environment

RASTER = "pdftoppm"
"""poppler's PDF rasterizer (Debian's poppler-utils), beside TeX Live on most machines that have it."""
DPI = 150
"""Dots per inch: the 14 cm drawing about 830 pixels wide, sharp on a screen, a few tens of KB."""


def have_raster() -> bool:
    return shutil.which(RASTER) is not None


def png(source: str, timeout: float = 60.0, engine: str = "pdflatex") -> bytes:
    """The PNG of a standalone LaTeX document's first page; :class:`TexMissing` without TeX or
    ``pdftoppm``, :class:`TexError` when either fails."""
    if not have_raster():
        raise TexMissing(f"{RASTER} not found (sudo apt-get install poppler-utils)")
    pdf = compile_pdf(source, timeout=timeout, engine=engine)
    with tempfile.TemporaryDirectory(prefix="derive-png-") as folder:
        work = Path(folder)
        (work / "drawing.pdf").write_bytes(pdf)
        command = [RASTER, "-png", "-r", str(DPI), "-singlefile", "drawing.pdf", "drawing"]
        try:
            run = processes.run(command, cwd=work, env=tex_environment(work), timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TexError(f"{RASTER} did not finish within {timeout:g} s") from None
        made = work / "drawing.png"
        if run.returncode != 0 or not made.exists():
            raise TexError(f"{RASTER} failed: {run.stderr.decode('utf-8', 'replace').strip()[:200]}")
        return made.read_bytes()
