"""Sheets of several exercises: reading ([[exercises]], include), the refusals naming the exercise, the
sheets' "Exercise 2 (c)", the answers keyed by exercise, and one-exercise specs built as before."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

import derive
from derive.errors import SpecError
from derive.exercise.exercises import MAX_EXERCISES, letter
from derive.pipeline import Options, build_sheet, load_sheet, parse_sheet
from derive.render.answers import answers
from derive.schema import shipped
from tests.test_cli import text_of

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "sheet_three_exercises.toml"
INCLUDED = ROOT / "examples" / "optimizer_step_sgd_momentum.toml"
CIRCUIT = """
[[exercises]]
title = "Gates"

[[exercises.parts]]
kind = "circuit"
expression = "x*y"
values = { x = 2, y = 3 }
"""
NETWORK = """
[[exercises]]

[exercises.network]
inputs = 1

[[exercises.network.layers]]
weights = [[2]]
bias = [1]
activation = "sigmoid"

[exercises.loss]
name = "squared_error"

[[exercises.parts]]
kind = "forward"
x = [1]
y = 1
"""


def refusal(text: str, folder: Path | None = None) -> str:
    """The one-line message a sheet ``text`` is refused with."""
    with pytest.raises(SpecError) as caught:
        parse_sheet(text, name="bad", folder=folder)
    assert "\n" not in str(caught.value), str(caught.value)
    return str(caught.value)


def test_the_example_reads_as_three_exercises_one_included() -> None:
    sheet = load_sheet(EXAMPLE)
    assert sheet.name == "sheet_three_exercises" and len(sheet.exercises) == 3
    circuit, network, step = sheet.exercises
    assert circuit.network is None and network.network is not None and step.network is None
    assert [e.sheet.title for e in sheet.exercises] == [
        "A computational graph",
        "A small network",
        derive.load_spec(INCLUDED).sheet.title,  # an included exercise is titled by its file's [sheet]
    ]
    # Every exercise has the sheet's settings and title block, whatever its own file said.
    assert {(e.sheet.decimals, e.sheet.course, e.sheet.language) for e in sheet.exercises} == {
        (4, "Neural Networks", "en")
    }
    assert [p.kind.name for p in step.parts] == [p.kind.name for p in derive.load_spec(INCLUDED).parts]


def test_a_one_exercise_spec_is_a_sheet_of_one_built_as_before(tmp_path: Path) -> None:
    path = ROOT / "derive" / "examples" / "backprop.toml"
    sheet = load_sheet(path)
    assert len(sheet.exercises) == 1 and sheet.alone() is sheet.exercises[0]
    assert sheet.exercises[0].sheet == sheet.sheet == derive.load_spec(path).sheet
    from_sheet = build_sheet(sheet, Options(output_dir=tmp_path / "sheet", pdf=False, formats=None, compiled=None))
    from_spec = build_sheet(
        derive.load_spec(path), Options(output_dir=tmp_path / "spec", pdf=False, formats=None, compiled=None)
    )
    assert [p.name for p in from_sheet.files] == [p.name for p in from_spec.files]
    for a, b in zip(from_sheet.files, from_spec.files, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    keys = json.loads((tmp_path / "sheet" / "backprop-answers.json").read_text())
    assert "exercises" not in keys and all(q["name"].startswith(("p", "w", "b", "W")) for q in keys["quantities"])


def test_the_example_builds_verified_pdfs_numbered_by_exercise(tmp_path: Path) -> None:
    built = build_sheet(EXAMPLE, Options(output_dir=tmp_path))
    sheet = load_sheet(EXAMPLE)
    assert len(built.solutions) == 3 and built.warnings == ()
    assert built.redone.lines > 0 and built.redone.failed == ()
    # The gate checked each exercise: as many values as the three solutions have.
    assert built.report.values == sum(sum(1 for _ in s.quantities()) for s in built.solutions)
    assert built.report.differences > 0
    solution = text_of(tmp_path / "sheet_three_exercises-solution.pdf")
    exercise = text_of(tmp_path / "sheet_three_exercises-exercise.pdf")
    for text in (solution, exercise):
        assert sheet.sheet.title in text
        for k, spec in enumerate(sheet.exercises, 1):
            assert f"Exercise {k}: {spec.sheet.title}" in text
    for k, spec in enumerate(sheet.exercises, 1):
        for part in spec.parts:
            assert f"Exercise {k} ({letter(part.number)})" in solution
            assert f"({letter(part.number)})" in exercise
    assert "Part 1" not in solution  # the parts are lettered within their exercise
    assert "part (a)" in exercise  # exercise 2's gradients use the sample of its part (a)


def test_answer_keys_name_their_exercise_and_match_each_exercise_alone(tmp_path: Path) -> None:
    built = build_sheet(EXAMPLE, Options(output_dir=tmp_path, pdf=False, formats=None, compiled=None))
    document = json.loads((tmp_path / "sheet_three_exercises-answers.json").read_text())
    assert [e["number"] for e in document["exercises"]] == [1, 2, 3]
    # The answers schema takes it (its exercises, and each quantity's exercise), as does the spec schema the sheet.
    jsonschema.Draft7Validator(json.loads(shipped("answers"))).validate(document)
    jsonschema.Draft7Validator(json.loads(shipped("spec"))).validate(tomllib.loads(EXAMPLE.read_text()))
    quantities = document["quantities"]
    names = [q["name"] for q in quantities]
    ids = [q["id"] for q in quantities]
    assert len(set(names)) == len(names) and len(set(ids)) == len(ids)
    for q in quantities:
        assert q["name"].startswith(f"e{q['exercise']}.") and q["id"].startswith(f"e{q['exercise']}_")
        assert all(use.startswith(f"e{q['exercise']}.") for use in q["uses"])
    # The included exercise's answers are those of its file built alone, keys led by e3.
    alone = answers(derive.solve(derive.load_spec(INCLUDED)), 4)["quantities"]
    third = [q for q in quantities if q["exercise"] == 3]
    assert [q["name"] for q in third] == ["e3." + q["name"] for q in alone]
    assert [(q["exact"], q["decimal"], q["asked"]) for q in third] == [
        (q["exact"], q["decimal"], q["asked"]) for q in alone
    ]
    # The CSV has the same rows and the exercise as its last column; each value has one macro.
    rows = (tmp_path / "sheet_three_exercises-answers.csv").read_text().splitlines()
    assert rows[0].endswith(",exercise") and len(rows) == len(quantities) + 1
    macros = (tmp_path / "sheet_three_exercises-values.tex").read_text()
    defined = re.findall(r"\\@namedef\{derive@d@([^}]*)\}", macros)
    assert defined == names
    # Fragments and self-check pages per exercise.
    assert (tmp_path / "sheet_three_exercises-fragments" / "e2" / "network.tex").is_file()
    assert (tmp_path / "sheet_three_exercises-fragments" / "e3" / "part1-solution.tex").is_file()
    for k in (1, 2, 3):
        assert (tmp_path / f"sheet_three_exercises-e{k}-check.html").is_file()
    assert "p1.L" in {q.key for q in built.solutions[1].quantities()}  # each solution keeps its own keys


def test_a_sheet_in_german_says_aufgabe(tmp_path: Path) -> None:
    text = '[sheet]\ntitle = "Zwei"\nlanguage = "de"\n' + CIRCUIT + NETWORK
    build_sheet(parse_sheet(text, name="zwei"), Options(output_dir=tmp_path, pdf=False, formats=None, compiled=None))
    solution = (tmp_path / "zwei-solution.tex").read_text()
    assert "Aufgabe 1: Gates" in solution and "Aufgabe 2 (a)" in solution
    assert r"\pdfbookmark[1]{Aufgabe 2 (a)}" in solution


def test_each_exercise_has_its_own_notation() -> None:
    text = '[notation]\nz = "net"\n' + CIRCUIT + NETWORK + '\n[exercises.notation]\nz = "s"\n'
    first, second = parse_sheet(text).exercises
    assert dict(first.sheet.notation.renamed)["z"] == r"\mathrm{net}"
    assert dict(second.sheet.notation.renamed)["z"] == "s"


def test_errors_name_the_exercise_and_the_line() -> None:
    text = CIRCUIT + NETWORK.replace("x = [1]", "x = [1, 2]")
    message = refusal(text)
    line = text.splitlines().index("x = [1, 2]") + 1
    assert message.startswith(f"spec:{line}: exercises[2].parts[1].x: ")
    assert refusal(CIRCUIT.replace('title = "Gates"', "title = 3")).startswith("spec:3: exercises[1].title: ")
    assert "exercises[1].colour: unknown key" in refusal(
        CIRCUIT.replace("[[exercises.parts]]", 'colour = "red"\n[[exercises.parts]]')
    )
    assert "exercises[1].parts: missing" in refusal('[[exercises]]\ntitle = "Nothing"\n')
    assert "unknown key" in refusal(CIRCUIT + '\n[[parts]]\nkind = "forward"\n')
    too_many = CIRCUIT * (MAX_EXERCISES + 1)
    assert f"exercises[{MAX_EXERCISES + 1}]: at most {MAX_EXERCISES} exercises" in refusal(too_many)


def test_a_one_exercise_reader_sends_a_sheet_on(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"exercises: a sheet of several exercises: load it with load_sheet"):
        derive.parse_spec(CIRCUIT)


def test_includes_are_read_from_the_sheets_folder_only(tmp_path: Path) -> None:
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "step.toml").write_text(INCLUDED.read_text())
    (tmp_path / "outside.toml").write_text(INCLUDED.read_text())
    sheet = parse_sheet(CIRCUIT + '\n[[exercises]]\ninclude = "step.toml"\ntitle = "Own"\n', folder=folder)
    assert [e.sheet.title for e in sheet.exercises] == ["Gates", "Own"]
    assert "exercises[2].include: ../outside.toml is not in the sheet's folder" in refusal(
        CIRCUIT + '\n[[exercises]]\ninclude = "../outside.toml"\n', folder
    )
    assert "no folder to include from" in refusal('[[exercises]]\ninclude = "step.toml"\n')
    assert "no such file" in refusal('[[exercises]]\ninclude = "none.toml"\n', folder)
    assert "a .toml spec file" in refusal('[[exercises]]\ninclude = "step.txt"\n', folder)
    assert "only title may go beside" in refusal(
        '[[exercises]]\ninclude = "step.toml"\n[[exercises.parts]]\nkind = "forward"\n', folder
    )
    # No include of an include: an included file is one exercise.
    (folder / "sheet.toml").write_text(CIRCUIT)
    assert "an included file holds one exercise" in refusal('[[exercises]]\ninclude = "sheet.toml"\n', folder)
    # An error inside an included file names that file, its line and the exercise.
    broken = INCLUDED.read_text().replace("learning_rate = 0.1", "learning_rate = -0.1")
    (folder / "broken.toml").write_text(broken)
    line = broken.splitlines().index("learning_rate = -0.1") + 1
    message = refusal(CIRCUIT + '\n[[exercises]]\ninclude = "broken.toml"\n', folder)
    assert message.startswith(f"broken.toml:{line}: exercises[2].parts[1].learning_rate: ")


def test_a_sheet_file_includes_beside_itself(tmp_path: Path) -> None:
    (tmp_path / "step.toml").write_text(INCLUDED.read_text())
    (tmp_path / "week.toml").write_text(CIRCUIT + '\n[[exercises]]\ninclude = "step.toml"\n')
    built = build_sheet(
        tmp_path / "week.toml", Options(output_dir=tmp_path / "out", pdf=False, formats=None, compiled=None)
    )
    assert len(built.solutions) == 2
    assert (
        r"\section*{Exercise 2 (a): Step t = 2 with momentum}" in (tmp_path / "out" / "week-solution.tex").read_text()
    )


def _raised(sheet: object) -> str:
    with pytest.raises(SpecError) as caught:
        build_sheet(sheet, Options(pdf=False))  # type: ignore[arg-type]
    assert "\n" not in str(caught.value), str(caught.value)
    return str(caught.value)


def test_a_sheet_built_in_python_is_checked_as_a_sheet_file_is(tmp_path: Path) -> None:
    sheet = parse_sheet(CIRCUIT + NETWORK, name="two")
    # The sheet's own [exam] and title block, not only its exercises (an exam of it takes the sheet's).
    bad_exam = replace(sheet, exam=replace(sheet.exam, duration=90))
    assert _raised(bad_exam) == "spec: exam.duration: expected a string, found int 90"
    assert _raised(replace(sheet, name="a/b")).startswith("spec: name: 'a/b' cannot name the output files")
    assert _raised(replace(sheet, exercises=())) == "spec: exercises: expected at least one exercise, found none"
    # An exercise's own error names the exercise, as the reader's do.
    second = sheet.exercises[1]
    broken = replace(second, sheet=replace(second.sheet, title=3))
    assert _raised(replace(sheet, exercises=(sheet.exercises[0], broken))) == (
        "spec: exercises[2].sheet.title: expected a string, found int 3"
    )
    assert build_sheet(sheet, Options(output_dir=tmp_path, pdf=False)).report.values > 0
