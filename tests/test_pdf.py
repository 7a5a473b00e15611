"""Compiling: one pass, clear errors with the log's lines, no shell escape, no reading outside files."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.build.stages import margin_warnings
from derive.errors import TexError
from derive.pdf.compile import compile_pdf, log_excerpt

DOC = "\\documentclass{article}\n\\begin{document}\n%s\n\\end{document}\n"


def test_a_document_compiles_to_pdf() -> None:
    assert compile_pdf(DOC % "Hello").startswith(b"%PDF")


def test_a_pdf_knows_the_lines_that_run_into_the_margin() -> None:
    pdf = compile_pdf(DOC % "\\noindent\\hbox to 1.5\\textwidth{wide}\\par\\noindent\\hbox to 1.001\\textwidth{x}")
    wide = pdf.margin()
    assert len(wide) == 1 and 0.49 * 345 < wide[0] < 0.51 * 345  # half of article's 345 pt text width
    assert len(pdf.overfull) == 2  # the 0.3 pt one is in the log, but no reader would see it
    assert margin_warnings({"s-solution.pdf": pdf}) == (
        f"s-solution.pdf: 1 line runs into the margin (by {wide[0]:.0f} pt)",
    )
    assert margin_warnings({"s-solution.pdf": compile_pdf(DOC % "Hello")}) == ()


def test_a_latex_error_shows_the_offending_line() -> None:
    with pytest.raises(TexError) as caught:
        compile_pdf(DOC % "\\undefinedmacro")
    assert "Undefined control sequence" in str(caught.value)
    assert "sheet.tex:3:" in str(caught.value)


def test_shell_escape_is_disabled(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    compile_pdf(DOC % f"\\immediate\\write18{{touch {marker}}}ok")
    assert not marker.exists()


def test_files_outside_the_folder_are_not_read() -> None:
    with pytest.raises(TexError):
        compile_pdf(DOC % "\\input{/etc/hostname}")


def test_a_runaway_document_times_out() -> None:
    with pytest.raises(TexError, match="did not finish within 2 s"):
        compile_pdf(DOC % "\\def\\spin{\\spin}\\spin", timeout=2)


def test_log_excerpt_picks_error_lines() -> None:
    log = "noise\n./sheet.tex:7: Undefined control sequence.\nl.7 \\foo\n\nmore\n! Emergency stop.\n"
    excerpt = log_excerpt(log)
    assert "sheet.tex:7: Undefined control sequence." in excerpt and "! Emergency stop." in excerpt


def test_the_solution_sheet_needs_one_pass_and_still_has_a_bookmark_per_part(tmp_path: Path) -> None:
    import re
    import subprocess
    import zlib

    import derive

    solution = derive.solve(derive.load_example())
    (tmp_path / "s.tex").write_text(derive.render(solution).solution, encoding="utf-8")
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "s.tex"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    log = (tmp_path / "s.log").read_text(encoding="utf-8", errors="replace")
    # Nothing asks for a second run (compile_pdf would make one): the bookmarks are written at once.
    assert not re.search(r"Rerun to get|Label\(s\) may have changed", log)
    data = (tmp_path / "s.pdf").read_bytes()
    streams = [m.group(1) for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S)]
    decoded = b"".join(zlib.decompress(s) for s in streams if s[:1] == b"x")
    outline = re.search(rb"/Type /Outlines\s*/First \d+ 0 R\s*/Last \d+ 0 R\s*/Count (\d+)", decoded)
    assert outline is not None and int(outline.group(1)) == len(solution.parts)
