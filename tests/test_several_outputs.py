"""A sheet of several exercises across the other outputs: derive watch following the files a sheet
includes, derive example --toml of a sheet that includes files, Moodle's questions named by exercise,
derive check of keys ``e2.p3.…``, and one self-check page with a section per exercise."""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import derive as package
from derive.cli import main
from derive.exercise.exercises import letter
from derive.moodle.quiz import moodle_exercises
from derive.pipeline import Options, build_sheet, load_sheet
from derive.render.several import Exercise
from derive.tex.style import Style
from tests.test_moodle import cloze_blanks, export, questions, response, text_of
from tests.test_watch import Watching, watching  # noqa: F401  (the fixture that ends every watcher)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHEET = EXAMPLES / "sheet_three_exercises.toml"
INCLUDED = EXAMPLES / "optimizer_step_sgd_momentum.toml"


def derive(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_a_save_of_an_included_file_rebuilds(tmp_path: Path, watching: list[Watching]) -> None:  # noqa: F811
    sheet = tmp_path / "week.toml"
    sheet.write_text(SHEET.read_text(encoding="utf-8"), encoding="utf-8")
    included = tmp_path / INCLUDED.name
    text = INCLUDED.read_text(encoding="utf-8")
    included.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    run = Watching(str(sheet), "-o", str(out), "--no-pdf")
    watching.append(run)
    assert run.next_line("derive: watching ") == (
        f"derive: watching {sheet} (1 included file); a save rebuilds, Ctrl-C stops"
    )
    assert "learning_rate = 0.1\n" in text
    included.write_text(text.replace("learning_rate = 0.1\n", "learning_rate = 0.2\n"), encoding="utf-8")
    line = run.next_line("derive: ")
    assert " changed (e3.p1." in line and ".tex and answers rebuilt in " in line  # the values it changed
    broken = text.replace("learning_rate = 0.1\n", "learning_rate = -1\n")
    included.write_text(broken, encoding="utf-8")  # a mistake in the included file: the last output stays
    assert "exercises[3].parts[1].learning_rate" in run.next_line("derive: error: ")
    run.next_line("derive: the last good output stays in ")
    included.write_text(text, encoding="utf-8")  # mended: watched still, rebuilt
    assert "rebuilt in " in run.next_line("derive: ")
    status, said = run.stop(signal.SIGTERM)
    assert status == 143 and said == ["derive: stopped by SIGTERM; the files were written"]


def test_example_toml_of_a_sheet_says_how_to_get_its_included_files(tmp_path: Path) -> None:
    printed = derive("example", "sheet_three_exercises", "--toml")
    assert printed.returncode == 0 and printed.stdout == SHEET.read_text(encoding="utf-8")
    get = f"derive example {INCLUDED.stem} --toml > {INCLUDED.name}"
    assert (
        printed.stderr == f"derive: sheet_three_exercises includes {INCLUDED.name}; save it beside the sheet: {get}\n"
    )
    (tmp_path / "week.toml").write_text(printed.stdout, encoding="utf-8")
    assert "no such file" in derive("sheet", "week.toml", "--no-pdf", cwd=tmp_path).stderr
    saved = derive(*get.split()[1:-2], cwd=tmp_path)  # the command it names, as a shell would run it
    (tmp_path / INCLUDED.name).write_text(saved.stdout, encoding="utf-8")
    built = derive("sheet", "week.toml", "--no-pdf", "-o", "out", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "out" / "week-answers.json").is_file()
    assert derive("example", "--toml").stderr == ""  # a spec of one exercise includes nothing


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The example sheet's answers (as its build writes them) and its Moodle XML (without drawings)."""
    out = tmp_path_factory.mktemp("sheet")
    build_sheet(SHEET, Options(output_dir=out, pdf=False))
    assert main(["moodle", str(SHEET), "-o", str(out), "--no-drawing"]) == 0
    return out, json.loads((out / f"{SHEET.stem}-answers.json").read_text(encoding="utf-8"))


def test_moodle_has_a_question_per_part_named_by_its_exercise(built: tuple[Path, dict[str, Any]]) -> None:
    out, document = built
    rows = {row["name"]: row for row in document["quantities"]}
    found = questions((out / f"{SHEET.stem}-moodle.xml").read_text(encoding="utf-8"))
    assert text_of(found[0], "category") == f"$course$/top/{SHEET.stem}"
    sheet = load_sheet(SHEET)
    names = [
        f"{SHEET.stem} e{number} p{part.number}"
        for number, spec in enumerate(sheet.exercises, 1)
        for part in spec.parts
    ]
    assert [text_of(q, "name") for q in found[1:]] == names
    keys: list[str] = []
    for question in found[1:]:
        name, text = text_of(question, "name"), text_of(question, "questiontext")
        exercise, part = (int(word[1:]) for word in name.split()[1:])
        title = sheet.exercises[exercise - 1].sheet.title
        assert f"<h3>Exercise {exercise}: {title}</h3>" in text and f"Exercise {exercise} ({letter(part)})" in text
        assert sheet.sheet.title in text
        own = [
            row["name"]
            for row in document["quantities"]
            if row["asked"] and row["exercise"] == exercise and row["part"] == part
        ]
        assert len(cloze_blanks(text)) == len(own)
        for key, (answer, tolerance) in zip(own, cloze_blanks(text), strict=True):
            assert float(tolerance) == rows[key]["tolerance"]
            assert Decimal(answer) == Decimal(rows[key]["decimal"])
        keys += own
    assert keys == [row["name"] for row in document["quantities"] if row["asked"]]


def test_each_exercises_drawing_is_in_its_own_questions() -> None:
    sheet = load_sheet(SHEET)
    exercises = [Exercise(k, package.solve(spec), Style.of(spec.sheet)) for k, spec in enumerate(sheet.exercises, 1)]
    pictures = [b"\x89PNG one" if e.solution.spec.network else None for e in exercises]
    found = questions(moodle_exercises(SHEET.stem, sheet.sheet.title, exercises, pictures))
    for question in found[1:]:
        exercise = int(text_of(question, "name").split()[1][1:])
        files = question.findall("questiontext/file")
        if pictures[exercise - 1] is None:
            assert files == [] and "@@PLUGINFILE@@" not in text_of(question, "questiontext")
        else:
            assert [f.get("name") for f in files] == [f"{SHEET.stem}-e{exercise}-network.png"]
            assert f"@@PLUGINFILE@@/{SHEET.stem}-e{exercise}-network.png" in text_of(question, "questiontext")


def values_file(path: Path, document: dict[str, Any], change: dict[str, str]) -> Path:
    """The asked values of the answers as a student's CSV, those in ``change`` given otherwise."""
    rows = [(row["name"], change.get(row["name"], row["decimal"])) for row in document["quantities"] if row["asked"]]
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def test_check_marks_keys_led_by_their_exercise(
    built: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, document = built
    assert main(["check", str(SHEET), str(values_file(tmp_path / "right.csv", document, {}))]) == 0
    out = capsys.readouterr().out
    asked = [row["name"] for row in document["quantities"] if row["asked"]]
    assert [line.split()[0] for line in out.splitlines()] == asked and "wrong" not in out
    # z1[1] of exercise 2 given wrong: a1[1] = ReLU of it is carried, the rest of exercise 3 stays right.
    rows = {row["name"]: row for row in document["quantities"]}
    wrong = {"e2.p1.z1[1]": "2", "e2.p1.a1[1]": "2"}
    assert rows["e2.p1.z1[1]"]["decimal"] != "2.0000"
    assert main(["check", str(SHEET), str(values_file(tmp_path / "slip.csv", document, wrong))]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^e2\.p1\.z1\[1\]\s+wrong", out, re.M) and re.search(r"^e2\.p1\.a1\[1\]\s+carried", out, re.M)
    assert all(re.search(rf"^{re.escape(key)}\s+right", out, re.M) for key in asked if key.startswith(("e1.", "e3.")))
    assert "first wrong: e2.p1.z1[1]: z^{(1)}_{1} = " in out


def test_check_refuses_a_key_without_its_exercise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = tmp_path / "values.csv"
    values.write_text("p1.f,-12\n", encoding="utf-8")
    assert main(["check", str(SHEET), str(values)]) == 2
    assert capsys.readouterr().err == (
        f"derive: error: {values}: row 1: 'p1.f' is no answer key of this sheet (see its answers file)\n"
    )


def test_check_reads_a_moodle_export_of_a_sheet_of_several(
    built: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, document = built
    found = questions((out / f"{SHEET.stem}-moodle.xml").read_text(encoding="utf-8"))[1:]
    right = [response([answer for answer, _ in cloze_blanks(text_of(q, "questiontext"))]) for q in found]
    user = ["Doe", "Jane", "jane@example.org", "Finished", "1 May", "1 May", "10 mins", "13.00"]
    names = [text_of(q, "name") for q in found]
    cells = [value for name, answer in zip(names, right, strict=True) for value in (name, answer)]
    path = tmp_path / "responses.csv"
    path.write_text(export([user + cells], len(found), question=True), encoding="utf-8")
    assert main(["check", str(SHEET), str(path)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("== 1: Doe Jane jane@example.org\n") and "wrong" not in said
    assert said.count(" right") == sum(1 for row in document["quantities"] if row["asked"])
