"""Platforms and TeX: a build without named pipes, the paper size, the TeX engine."""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

import derive
from derive.cli import main
from derive.errors import SpecError, TexMissing
from derive.pdf import typeset
from derive.pdf.compile import ENGINE_PACKAGES, compile_pdf, missing_tex
from derive.pdf.typeset import Typesetter
from derive.pipeline import Options, build_sheet, parse_spec
from derive.render.document import MARK

ROOT = Path(__file__).parent.parent
SMALL = ROOT / "examples" / "input_gradients.toml"
GERMAN = ROOT / "examples" / "sheet_german.toml"
PRODUCERS = {"pdflatex": "pdfTeX", "lualatex": "LuaTeX", "xelatex": "xdvipdfmx"}
"""What each engine writes into a PDF's Producer field (pdfinfo)."""


def installed(engine: str) -> object:
    """``engine`` as a test parameter, skipped (saying why) where it is not installed: CI installs it
    (scripts/dev, TEX_PACKAGES)."""
    reason = f"{engine} not installed (sudo apt-get install {ENGINE_PACKAGES[engine]})"
    return pytest.param(engine, marks=pytest.mark.skipif(shutil.which(engine) is None, reason=reason))


def text_of(pdf: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def words(pdf: Path) -> Counter[str]:
    """The PDF's words (three letters or more) and decimals, counted. Another engine may extract a
    formula's pieces in another order (a superscript before its base), never other words or numbers."""
    return Counter(re.findall(r"[^\W\d_]{3,}|\d+[.,]\d+", text_of(pdf)))


def info(pdf: Path) -> dict[str, str]:
    lines = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in lines)}


def page_size(pdf: Path) -> tuple[int, int]:
    """The first page's width and height in pt, rounded."""
    found = re.match(r"([\d.]+) x ([\d.]+) pts", info(pdf)["Page size"])
    assert found is not None
    return round(float(found.group(1))), round(float(found.group(2)))


def with_sheet(path: Path, *lines: str) -> str:
    """The spec file's text with ``lines`` added to its [sheet] table."""
    return path.read_text(encoding="utf-8").replace("[sheet]", "\n".join(("[sheet]", *lines)), 1)


def refusal(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, name="bad")
    assert "\n" not in str(caught.value), str(caught.value)
    return str(caught.value)


# --- no named pipes -----------------------------------------------------------------------------


def cli(*args: str, python: str = "") -> subprocess.CompletedProcess[str]:
    """The command line in a fresh Python, after ``python`` (hiding os.mkfifo as Windows has none)."""
    code = f"{python}\nfrom derive.cli import run\nsys.argv = ['derive', *sys.argv[1:]]\nrun()"
    return subprocess.run([sys.executable, "-c", "import sys\n" + code, *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def streamed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small spec's sheets built as usual (the solution streamed to TeX through named pipes)."""
    out = tmp_path_factory.mktemp("streamed")
    result = cli("sheet", str(SMALL), "-o", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_without_mkfifo_the_command_makes_the_same_pdfs(streamed: Path, tmp_path: Path) -> None:
    result = cli("sheet", str(SMALL), "-o", str(tmp_path), python="import os\ndel os.mkfifo")
    assert result.returncode == 0, result.stderr  # was 70, "internal error", on Windows
    assert "warning" not in result.stderr and "Traceback" not in result.stderr and "error" not in result.stderr
    for sheet in ("exercise", "solution"):
        name = f"input_gradients-{sheet}.pdf"
        assert text_of(tmp_path / name, "-layout") == text_of(streamed / name, "-layout")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in streamed.iterdir())


def test_a_build_without_mkfifo_compiles_the_whole_solution(
    streamed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder
) -> None:
    compiled: list[str] = []

    def counting(source: str, *args: object) -> object:
        compiled.append(source)
        return compile_pdf(source, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(typeset, "compile_pdf", counting)
    monkeypatch.delattr(os, "mkfifo")
    built = build_sheet(SMALL, Options(output_dir=tmp_path))
    assert built.warnings == () and len(recwarn) == 0
    assert len(compiled) == 2 and all(r"\end{document}" in source for source in compiled)  # both sheets whole
    solution = "input_gradients-solution.pdf"
    assert text_of(tmp_path / solution, "-layout") == text_of(streamed / solution, "-layout")


@pytest.mark.parametrize("refused", [OSError(errno.EPERM, "Operation not permitted"), NotImplementedError()])
def test_a_file_system_that_refuses_pipes_gets_the_whole_file_compile(
    refused: BaseException, monkeypatch: pytest.MonkeyPatch, private_tmp: Path
) -> None:
    def mkfifo(path: object, *args: object) -> None:
        raise refused

    monkeypatch.setattr(os, "mkfifo", mkfifo)
    pieces = ["\\documentclass{article}\n" + MARK + "\n\\begin{document}\nHead.\n", "Part one.\n", "\\end{document}\n"]
    with Typesetter(True, 30.0, {}, None) as tex:
        piece = tex.stream("doc", len(pieces))
        for text in pieces:
            piece(text)
        tex.finish("doc", "".join(pieces))
    pdf = tex.pdfs("s")["s-doc.pdf"]
    (private_tmp / "s.pdf").write_bytes(pdf)
    assert " ".join(text_of(private_tmp / "s.pdf").split()) == "Head. Part one. 1"
    assert list(Path(tempfile.gettempdir()).glob("derive-tex-*")) == []  # the folder of the refused pipes too


# --- paper --------------------------------------------------------------------------------------


def test_the_paper_from_the_spec_or_the_options_sizes_the_pages(tmp_path: Path) -> None:
    spec = parse_spec(with_sheet(SMALL, 'paper = "letter"'), name="letter")
    assert spec.sheet.paper == "letter" and derive.load_spec(SMALL).sheet.paper == "a4"
    formats = tmp_path / "formats"
    letter = build_sheet(spec, Options(output_dir=tmp_path / "letter", formats=formats))
    a4 = build_sheet(spec, Options(output_dir=tmp_path / "a4", formats=formats, paper="a4"))  # the option wins
    for path in (p for p in letter.files if p.suffix == ".pdf"):
        assert page_size(path) == (612, 792)
    for path in (p for p in a4.files if p.suffix == ".pdf"):
        assert page_size(path) == (595, 842)
    assert len(list(formats.glob("derive-*.fmt"))) == 2  # the paper is part of the cached preamble
    assert words(tmp_path / "letter" / "letter-solution.pdf") == words(tmp_path / "a4" / "letter-solution.pdf")


def test_the_paper_on_the_command_line(tmp_path: Path) -> None:
    assert main(["sheet", str(SMALL), "-o", str(tmp_path), "--no-pdf", "--paper", "letter"]) == 0
    for sheet in ("exercise", "solution"):
        source = (tmp_path / f"input_gradients-{sheet}.tex").read_text(encoding="utf-8")
        assert source.startswith("\\documentclass[letterpaper,11pt]{article}")


def test_paper_and_engine_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert refusal(with_sheet(SMALL, 'paper = "A4"')).endswith(
        "sheet.paper: unknown paper 'A4' (did you mean 'a4'?); valid: a4, letter"
    )
    assert refusal(with_sheet(SMALL, 'paper = "a5"')).endswith("sheet.paper: unknown paper 'a5'; valid: a4, letter")
    assert refusal(with_sheet(SMALL, 'engine = "luatex"')).endswith(
        "sheet.engine: unknown engine 'luatex' (did you mean 'lualatex'?); valid: pdflatex, lualatex, xelatex"
    )
    assert "sheet.engine: unknown engine int 1;" in refusal(with_sheet(SMALL, "engine = 1"))
    assert "sheet.papersize: unknown key (did you mean 'paper'?)" in refusal(with_sheet(SMALL, 'papersize = "a4"'))
    with pytest.raises(ValueError, match=r"^paper: expected one of a4, letter, found 'A5'$"):
        Options(paper="A5")
    with pytest.raises(ValueError, match=r"^engine: expected one of pdflatex, lualatex, xelatex, found 'tex'$"):
        Options(engine="tex")
    spec = derive.load_spec(SMALL)
    with pytest.raises(SpecError, match=r"sheet\.engine: expected one of 'pdflatex', .*; found 'ms'"):
        build_sheet(replace(spec, sheet=replace(spec.sheet, engine="ms")), Options(output_dir=tmp_path, pdf=False))
    with pytest.raises(SystemExit):
        main(["sheet", str(SMALL), "--paper", "a5"])
    assert "--paper: invalid choice: 'a5'" in capsys.readouterr().err


# --- engines ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The German sheet built with pdflatex."""
    out = tmp_path_factory.mktemp("pdflatex")
    build_sheet(GERMAN, Options(output_dir=out))
    return out


@pytest.mark.parametrize("engine", [installed("lualatex"), installed("xelatex")])
def test_each_engine_sets_the_same_words_in_latin_modern(engine: str, german: Path, tmp_path: Path) -> None:
    spec = parse_spec(with_sheet(GERMAN, f'engine = "{engine}"'), name="sheet_german")
    built = build_sheet(spec, Options(output_dir=tmp_path, formats=tmp_path / "formats"))
    assert built.warnings == ()
    assert list((tmp_path / "formats").glob("*.fmt")) == []  # no format: see derive.pdf.compile.FORMAT_ENGINES
    source = (tmp_path / "sheet_german-solution.tex").read_text(encoding="utf-8")
    assert "fontenc" not in source and "inputenc" not in source and "{lmodern}" in source
    for sheet in ("exercise", "solution"):
        pdf = tmp_path / f"sheet_german-{sheet}.pdf"
        assert PRODUCERS[engine] in info(pdf)["Producer"]
        assert words(pdf) == words(german / pdf.name)
        assert "Rückwärtsrechnung" in words(pdf) and "für" in words(pdf)  # umlauts from the spec and the catalogue
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert "LMRoman" in fonts


@pytest.mark.parametrize("engine", [installed("lualatex")])
def test_the_engine_on_the_command_line(engine: str, tmp_path: Path) -> None:
    result = cli("sheet", str(SMALL), "-o", str(tmp_path / "o"), "--engine", engine)
    assert result.returncode == 0, result.stderr
    assert PRODUCERS[engine] in info(tmp_path / "o" / "input_gradients-solution.pdf")["Producer"]


def test_an_engine_not_installed_is_one_line_naming_it_and_its_package(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "derive", "sheet", str(SMALL), "-o", str(tmp_path / "o"), "--engine", "xelatex"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(empty)},
    )
    assert result.returncode == 5
    lines = result.stderr.splitlines()
    assert len([line for line in lines if line.startswith("derive: error:")]) == 1, result.stderr
    assert "xelatex not found" in result.stderr and "apt-get install texlive-xetex" in result.stderr
    assert (tmp_path / "o" / "input_gradients-solution.tex").exists()  # the rest is written, as without pdflatex


def test_the_missing_engine_error_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(TexMissing, match=r"^lualatex not found; .*\(sudo apt-get install texlive-luatex\)"):
        compile_pdf("\\documentclass{article}", engine="lualatex")
    with pytest.raises(TexMissing, match=r"^pdflatex not found; .*apt-get install latexmk texlive-latex-base"):
        compile_pdf("\\documentclass{article}")


# --- docs/tex.md --------------------------------------------------------------------------------

DOCS = (ROOT / "docs" / "tex.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCS, flags=re.S)


@pytest.mark.parametrize("engine", [installed("lualatex")])
def test_the_docs_blocks_run_as_pasted(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (toml,), (shell,), (python,) = blocks("toml"), blocks("sh"), blocks("python")
    spec = parse_spec(toml, name="letter")
    assert (spec.sheet.paper, spec.sheet.engine) == ("letter", engine)
    monkeypatch.chdir(tmp_path)
    command = shell.split()
    assert command[0] == "derive" and len(shell.strip().splitlines()) == 1
    result = subprocess.run([sys.executable, "-m", "derive", *command[1:]], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert PRODUCERS[engine] in info(tmp_path / "letter" / "backprop-solution.pdf")["Producer"]
    exec(compile(python, "docs/tex.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "['backprop-exercise.pdf', 'backprop-solution.pdf']"
    assert page_size(tmp_path / "letter" / "backprop-solution.pdf") == (612, 792)
    message = blocks("text")[0].strip()
    assert message == "derive: error: " + missing_tex("xelatex")
