"""The exam and the marking scheme of a sheet of several exercises: one exam with every exercise
("Exercise 2 (c)"), one cover page and points table (a row per exercise, its total), one formula sheet,
and one marking scheme whose step points add up to each part's; read from the compiled PDFs."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

import derive
from derive.cli import main
from derive.exercise.exercises import letter
from derive.pipeline import Options, build_sheet, load_sheet, parse_sheet
from derive.render.answers import answers
from tests.test_cli import text_of

ROOT = Path(__file__).resolve().parent.parent
EXAM = ROOT / "examples" / "exam_three_exercises.toml"
INCLUDED = ROOT / "examples" / "exam_backprop.toml"
GATES = """
[[exercises]]
title = "Gates"

[[exercises.parts]]
kind = "circuit"
expression = "x*y"
values = { x = 2, y = 3 }
POINTS
"""


def decimal(points: object) -> Decimal:
    return Decimal(str(float(points)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def exam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exam")
    assert main(["exam", str(EXAM), "-o", str(out)]) == 0
    return out


def test_the_sheets_exam_is_the_sheets_and_the_included_files_gives_way() -> None:
    sheet = load_sheet(EXAM)
    assert sheet.exam.formula_sheet and sheet.exam.duration == "120 minutes"
    assert derive.load_spec(INCLUDED).exam.duration == "90 minutes"
    assert sheet.exercises[2].exam == derive.Spec.__dataclass_fields__["exam"].default  # the file's gives way


def test_one_exam_and_one_marking_scheme_are_written(exam: Path) -> None:
    names = sorted(p.name for p in exam.iterdir())
    assert names == [f"exam_three_exercises-{kind}.{ext}" for kind in ("exam", "marking") for ext in ("pdf", "tex")]


def test_the_cover_page_has_a_row_of_points_per_exercise_and_the_total(exam: Path) -> None:
    cover = text_of(exam / "exam_three_exercises-exam.pdf").split("\f")[0]
    sheet = load_sheet(EXAM)
    for field in ("Name:", "Student ID:", "Signature:", "Time allowed: 120 minutes", "Allowed aids:"):
        assert field in cover
    widest = max(len(spec.parts) for spec in sheet.exercises)
    header = re.search(r"Exercise((?:\s+\([a-z]+\))+)\s+Total", cover)
    assert header is not None and header.group(1).split() == [f"({letter(n)})" for n in range(1, widest + 1)]
    totals = []
    for number, spec in enumerate(sheet.exercises, 1):
        row = re.search(rf"^\s*{number}((?:\s+[\d.]+)+)\s*$", cover, re.M)
        assert row is not None, number
        shown = [Decimal(v) for v in row.group(1).split()]
        assert shown[:-1] == [decimal(p.points) for p in spec.parts]
        assert shown[-1] == sum(shown[:-1])  # the exercise's total
        totals.append(shown[-1])
    total = re.search(r"^\s*Total\s+([\d.]+)\s*$", cover, re.M)
    assert total is not None and Decimal(total.group(1)) == sum(totals) == 64
    assert cover.count("Scored") == len(sheet.exercises) + 1
    parts = sum(len(spec.parts) for spec in sheet.exercises)
    assert f"The exam has 3 exercises with {parts} parts, worth 64 points in total." in " ".join(cover.split())


def test_each_part_is_asked_by_exercise_and_letter_without_its_answers(exam: Path) -> None:
    text = text_of(exam / "exam_three_exercises-exam.pdf")
    pages = text.count("\f")
    for k in range(1, pages + 1):
        assert f"Page {k} of {pages}" in text
    sheet = load_sheet(EXAM)
    for number, spec in enumerate(sheet.exercises, 1):
        assert f"Exercise {number}: {spec.sheet.title}" in text
        for part in spec.parts:
            assert re.search(rf"Exercise {number} \({letter(part.number)}\)\s+\({float(part.points):g} points?\)", text)
        for q in answers(derive.solve(spec), 4)["quantities"]:
            if q["asked"] and len(q["decimal"]) > 5:  # the values a student gives: none is on the exam
                assert q["decimal"] not in text, (number, q["name"])
    assert "With the input and target of part (a)" in text  # a part refers to another by its letter
    assert "Forward pass" not in text and "Backpropagation step" not in text


def test_the_formula_sheet_has_every_exercises_rules_once(exam: Path) -> None:
    last = text_of(exam / "exam_three_exercises-exam.pdf").split("\f")[-2]
    assert "Formula sheet" in last
    for prose in ("the hyperbolic tangent", "the logistic sigmoid", "the rectified linear unit"):
        assert last.count(prose) == 1, prose
    assert "Optimizers" in last


def test_the_marking_scheme_splits_each_part_of_each_exercise_exactly(exam: Path) -> None:
    text = " ".join(text_of(exam / "exam_three_exercises-marking.pdf").split())
    sheet = load_sheet(EXAM)
    for number, spec in enumerate(sheet.exercises, 1):
        for part in spec.parts:
            label = f"Exercise {number} ({letter(part.number)})"
            body = text.split(f"{label} ({float(part.points):g} points)")[1]
            body, _, rest = body.partition(f"{label}: ")
            total = Decimal(rest.split(" point")[0])
            marks = [Decimal(m) for m in re.findall(r"\[([\d.]+) points?\]", body)]
            assert marks and sum(marks) == total == decimal(part.points), label
            if part.split:
                assert marks == [decimal(s) for s in part.split]
    assert "Exercise 3 (a): 6 points in total." in text


def test_the_build_verifies_every_exercise(tmp_path: Path) -> None:
    built = build_sheet(EXAM, Options(output_dir=tmp_path, pdf=False, exam=True))
    alone = [derive.verify(derive.solve(spec)).values for spec in load_sheet(EXAM).exercises]
    assert built.report.values == sum(alone) and len(built.solutions) == 3
    assert not built.redone.failed and built.redone.lines > 0


def test_in_german(tmp_path: Path) -> None:
    build_sheet(EXAM, Options(output_dir=tmp_path, pdf=False, exam=True, language="de"))
    exam = (tmp_path / "exam_three_exercises-exam.tex").read_text(encoding="utf-8")
    marking = (tmp_path / "exam_three_exercises-marking.tex").read_text(encoding="utf-8")
    assert "Die Klausur hat 3 Aufgaben mit 9 Teilaufgaben; zusammen gibt es 64 Punkte." in exam
    assert "Aufgabe 2 (b)" in exam and "Formelsammlung" in exam and "Erreicht" in exam
    assert "Aufgabe 2 (b): zusammen 14 Punkte." in marking


def test_an_exercise_without_points_is_refused_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "week.toml"
    spec.write_text(GATES.replace("POINTS", "points = 2") + GATES.replace("POINTS", ""), encoding="utf-8")
    assert main(["exam", str(spec), "-o", str(tmp_path / "out"), "--no-pdf"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.endswith(
        "exercises[2].parts[1].points: missing: an exam needs the points of every part of every exercise (docs/exam.md)"
    )
    assert "\n" not in error and not (tmp_path / "out").exists()


def test_a_split_that_does_not_fit_names_the_exercise(tmp_path: Path) -> None:
    text = GATES.replace("POINTS", "points = 2") + GATES.replace("POINTS", "points = 3\nsplit = [1, 1, 1]")
    with pytest.raises(derive.SpecError, match=r"exercises\[2\]\.parts\[1\]\.split: the marking scheme marks"):
        build_sheet(parse_sheet(text, name="week"), Options(output_dir=tmp_path, pdf=False, exam=True))
    assert not tmp_path.joinpath("week-exam.tex").exists()


def test_a_sheet_of_one_exercise_takes_the_sheets_exam(tmp_path: Path) -> None:
    text = '[exam]\nduration = "5 minutes"\nformula_sheet = true\n' + GATES.replace("POINTS", "points = 2")
    sheet = parse_sheet(text, name="one")
    assert sheet.alone() is not None and sheet.alone().exam == sheet.exam  # type: ignore[union-attr]
    build_sheet(sheet, Options(output_dir=tmp_path, pdf=False, exam=True))
    assert "Time allowed: 5 minutes" in (tmp_path / "one-exam.tex").read_text(encoding="utf-8")


def test_the_exercise_sheet_shows_the_points(tmp_path: Path) -> None:
    build_sheet(EXAM, Options(output_dir=tmp_path, pdf=False))
    exercise = (tmp_path / "exam_three_exercises-exercise.tex").read_text(encoding="utf-8")
    assert r"\emph{(14 points)}" in exercise and r"\textbf{Total}" in exercise and "Scored" not in exercise
