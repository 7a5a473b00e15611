"""Compiling while deriving: the pieces make the same sheet, and a failure anywhere leaves nothing behind."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

import derive
from derive.errors import SpecError
from derive.exercise.reader import example_path
from derive.maths.derivation import Derivation
from derive.maths.solve import outline, solver
from derive.maths.steps import Solution
from derive.pdf.stream import StreamedPdf
from derive.pipeline import Options, build_sheet
from derive.render.document import MARK
from derive.render.pieces import SolutionPieces
from derive.render.several import Exercise, exercise_context, headed, render_several
from derive.render.several_pieces import SeveralPieces
from derive.render.templates import render_solution
from derive.tex.style import Style
from tests.conftest import tex_running_in
from tests.sheets import single

EXAMPLES = single(sorted((Path(__file__).parent.parent / "examples").glob("*.toml")))
HEAD = "\\documentclass{article}\n" + MARK + "\n\\begin{document}\nHead.\n"


def leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("derive-tex-*")}


@pytest.mark.parametrize("path", [*EXAMPLES[:3], *(p for p in EXAMPLES if "batch" in p.stem)], ids=lambda p: p.stem)
def test_the_pieces_join_to_the_rendered_solution(path: Path) -> None:
    spec = derive.load_spec(path)
    style = Style.of(spec.sheet, None, None)
    deriver = Derivation(spec)
    texts: list[str] = []
    rendered = SolutionPieces(outline(spec, deriver), style, "", solver(deriver), texts.append).render()
    assert len(texts) == len(spec.parts) + 2
    assert "".join(texts) == rendered == render_solution(derive.solve(spec), style)
    for number, text in enumerate(texts[1:-1], 1):  # each piece is its part, from its heading on
        assert text.lstrip().startswith(r"\section*{Part " + str(number))


@pytest.mark.parametrize("name", ["sheet_three_exercises", "exam_three_exercises"])
def test_the_pieces_of_several_exercises_join_to_the_rendered_solution(name: str) -> None:
    sheet = derive.load_sheet(Path(__file__).parent.parent / "examples" / f"{name}.toml")
    head = headed(sheet.sheet, sheet.exercises[0])
    style = Style.of(head.sheet, None, None)
    derivations = [Derivation(spec) for spec in sheet.exercises]
    sketches = [
        Exercise(k, outline(spec, d), Style.of(spec.sheet, None, None))
        for k, (spec, d) in enumerate(zip(sheet.exercises, derivations, strict=True), 1)
    ]

    def solve(sketch: Exercise) -> Exercise:
        found = sketch.solution
        parts = tuple(map(solver(derivations[sketch.number - 1]), found.spec.parts))
        return replace(sketch, solution=Solution(found.spec, found.givens, parts, found.diagram))

    texts: list[str] = []
    rendered = SeveralPieces(head, sketches, style, "", solve, texts.append).render()
    solved = [solve(sketch) for sketch in sketches]
    whole = render_several("solution", head, solved, [exercise_context(e) for e in solved], style)
    assert len(texts) == len(sheet.exercises) + 2
    assert "".join(texts) == rendered == whole
    for number, text in enumerate(texts[1:-1], 1):  # each piece is its exercise, from its heading on
        assert text.lstrip().startswith(r"\section*{") and f"{{exercise{number}}}" in text.split("\n", 1)[0]


def test_a_streamed_run_typesets_the_parts_as_they_come(tmp_path: Path) -> None:
    stream = StreamedPdf(HEAD, 3, 30.0, {}, tmp_path / "formats")
    stream.part("Part one $x^2$.\n")
    stream.part("Part two.\n")
    stream.part("\\end{document}\n")
    pdf = stream.finish()
    assert pdf is not None and pdf.startswith(b"%PDF")
    (tmp_path / "s.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "s.pdf", "-"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert "Head. Part one x2 . Part two." in " ".join(text.split())


def test_a_tex_error_in_a_part_ends_the_stream_without_a_trace(tmp_path: Path, private_tmp: Path) -> None:
    before = leftovers()
    stream = StreamedPdf(HEAD, 3, 30.0, {}, None)
    stream.part("Fine.\n")
    stream.part("\\undefinedmacro\n")
    stream.part("\\end{document}\n")
    assert stream.finish() is None  # the caller compiles the whole source and reports its errors
    assert leftovers() <= before


def test_a_failed_derivation_stops_tex_and_writes_nothing(tmp_path: Path, private_tmp: Path) -> None:
    before = leftovers()
    spec_text = example_path().read_text(encoding="utf-8")  # the example, with a false claim in part 2
    broken = spec_text.replace('yhat = "1/2"', 'yhat = "1/3"', 1)
    assert broken != spec_text
    with pytest.raises(SpecError, match="is false"):
        build_sheet(derive.parse_spec(broken, name="broken"), Options(output_dir=tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    assert leftovers() <= before
    assert not tex_running_in(private_tmp)


def test_tex_does_not_outlive_a_killed_derive_by_more_than_its_bound(tmp_path: Path, private_tmp: Path) -> None:
    # Killed by a signal, derive cleans nothing up: the TeX waiting at a pipe must still end.
    import os
    import signal
    import sys
    import time

    # A streamed TeX, started under `timeout` (stream.LIFETIME × 1 s here) in the private TMPDIR.
    run = subprocess.Popen(
        [sys.executable, "-m", "derive", "example", "-o", str(tmp_path / "o"), "--timeout", "1", "--no-format-cache"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def running(command_has: bytes = b"pdflatex") -> bool:
        return tex_running_in(private_tmp, command_has)

    streamed = b"timeout\x00-k"  # the streamed run's bound: `timeout -k 5 10 pdflatex ...`
    deadline = time.monotonic() + 60
    while not running(streamed) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running(streamed), "the solution's TeX should be waiting for parts while derive derives"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 30
    while running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not running()
