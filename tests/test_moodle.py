"""Moodle XML (``derive moodle``) and Moodle's responses export in ``derive check``: the XML parsed back,
every blank's answer and tolerance against the answers file, the Cloze syntax as Moodle's own parser
reads it, and responses in the report's documented layout marked as the CSV of keys is."""

from __future__ import annotations

import base64
import csv
import io
import re
import shutil
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import derive
from derive.cli import main
from derive.maths.steps import Solution
from derive.moodle.cloze import blanks, layout
from derive.moodle.drawing import network_picture
from derive.moodle.quiz import moodle_quiz, moodle_variants
from derive.moodle.responses import blanks_of, is_responses
from derive.render.answers import answers
from derive.tex.style import Style

EXAMPLE = Path(__file__).resolve().parent.parent / "derive" / "examples" / "backprop.toml"

# Moodle's own Cloze grammar (question/type/multianswer/questiontype.php), for NUMERICAL blanks.
NUMBER = r"-?(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+)(?:[eE][-+]?[0-9]+)?"
BLANK = re.compile(r"\{([0-9]*):(?:NUMERICAL|NM):=(" + NUMBER + r"):(" + NUMBER + r")\}")
START = re.compile(r"\{[0-9]*:")
"""Where Moodle's parser sees a blank begin (its ANSWER_START_REGEX, any type)."""


def questions(xml: str) -> list[ET.Element]:
    root = ET.fromstring(xml)
    assert root.tag == "quiz"
    return root.findall("question")


def text_of(question: ET.Element, tag: str) -> str:
    element = question.find(f"{tag}/text")
    assert element is not None and element.text is not None
    return element.text


def cloze_blanks(html: str) -> list[tuple[str, str]]:
    """Every blank of a Cloze text as (answer, tolerance); every place a blank could begin is one."""
    found = [(m.group(2), m.group(3)) for m in BLANK.finditer(html)]
    assert len(START.findall(html)) == len(found), "text that Moodle would read as a broken blank"
    return found


@pytest.fixture(scope="module")
def quiz(example: Solution, example_answers: dict[str, Any]) -> str:
    return moodle_quiz(example, Style.of(example.spec.sheet), document=example_answers)


def test_every_asked_value_is_a_blank_with_the_answers_files_value_and_tolerance(
    quiz: str, example: Solution, example_answers: dict[str, Any]
) -> None:
    rows = {row["name"]: row for row in example_answers["quantities"]}
    asked = [row["name"] for row in example_answers["quantities"] if row["asked"]]
    found = questions(quiz)
    assert found[0].get("type") == "category"
    assert text_of(found[0], "category") == "$course$/top/backprop"
    keys: list[str] = []
    by_name = layout(example, Style.of(example.spec.sheet))
    for question in found[1:]:
        assert question.get("type") == "multianswer"
        name = text_of(question, "name")
        text = text_of(question, "questiontext")
        assert name in text  # the name the responses export is matched by
        part_keys = by_name[name]
        assert len(cloze_blanks(text)) == len(part_keys)
        for key, (answer, tolerance) in zip(part_keys, cloze_blanks(text), strict=True):
            row = rows[key]
            assert row["part"] == int(name.rsplit("p", 1)[1])
            assert float(tolerance) == row["tolerance"]
            # The answer is the decimal the sheet prints (round trip), within the tolerance of the value.
            assert abs(float(answer) - row["float"]) <= row["tolerance"] * (1 + 1e-9)
            if "cdot" not in row["decimal"]:
                assert Decimal(answer) == Decimal(row["decimal"])
        keys += part_keys
    assert keys == [key for key in asked if rows[key]["tolerance"] is not None]


def test_the_maths_is_tex_for_mathjax_and_the_feedback_is_the_worked_solution(quiz: str) -> None:
    question = questions(quiz)[1]
    text, feedback = text_of(question, "questiontext"), text_of(question, "generalfeedback")
    assert r"\(x = (1, 1)^{\top}\)" in text  # the question's maths as the sheet's printer writes it
    assert r"\(\hat{y} =\)" in text
    assert "&amp;" in text  # a matrix's & is an entity in HTML; MathJax reads the character
    assert r"\sigma\left(3\right) = \frac{1}{1 + e^{-3}} \approx 0.9526" in feedback
    assert "\\begin{aligned}" in feedback and "tikzpicture" not in feedback


def test_user_text_is_escaped_and_opens_no_blank(tmp_path: Path) -> None:
    hostile = "A & B <script>x</script> {1:NUMERICAL:=5:1} \\ ~ # / }"
    literal = hostile.replace("\\", "\\\\")  # a TOML basic string: the backslash escaped
    spec_text = EXAMPLE.read_text(encoding="utf-8").replace('"Backpropagation by hand"', f'"{literal}"', 1)
    spec = derive.parse_spec(spec_text, name="hostile")
    assert spec.sheet.title == hostile
    solution = derive.solve(spec)
    style = Style.of(spec.sheet)
    xml = moodle_quiz(solution, style)
    first = questions(xml)[1]
    text = text_of(first, "questiontext")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "A &amp; B" in text
    assert len(cloze_blanks(text)) == len(blanks(solution, style)[1])  # the title's {1:…} is inert
    assert "&#123;1:NUMERICAL:=5:1}" in text


def test_variants_are_one_question_each_in_one_category() -> None:
    base = EXAMPLE.read_text(encoding="utf-8")
    other = base.replace("x = [1, 1]", "x = [2, 1]", 1)  # part 1's input: a second variant
    assert other != base, "the example's part 1 changed: update this test"
    first = derive.solve(derive.parse_spec(base, name="backprop v1"))
    second = derive.solve(derive.parse_spec(other, name="backprop v2"))
    xml = moodle_variants([first, second], "sheet 3/variants")
    found = questions(xml)
    assert [q.get("type") for q in found] == ["category", "multianswer", "multianswer"]
    assert text_of(found[0], "category") == "$course$/top/sheet 3//variants"
    for question, solution in zip(found[1:], (first, second), strict=True):
        style = Style.of(solution.spec.sheet)
        assert text_of(question, "name") == solution.spec.name
        expected = [b for part in blanks(solution, style).values() for b in part]
        got = cloze_blanks(text_of(question, "questiontext"))
        assert got == [(b.answer, b.tolerance) for b in expected]
        document = answers(solution, style.places)
        floats = {row["name"]: row["float"] for row in document["quantities"]}
        for blank in expected:
            assert abs(float(blank.answer) - floats[blank.key]) <= float(blank.tolerance) * (1 + 1e-9)
    # The two variants differ where their inputs do: in part 1.
    assert cloze_blanks(text_of(found[1], "questiontext")) != cloze_blanks(text_of(found[2], "questiontext"))
    with pytest.raises(ValueError, match="same spec name"):
        moodle_variants([first, first], "x")


@pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("pdftoppm") is None, reason="no TeX or pdftoppm")
def test_the_network_drawing_is_a_png_in_the_question(example: Solution) -> None:
    style = Style.of(example.spec.sheet)
    picture, warning = network_picture(example, style)
    assert warning is None and picture is not None and picture.startswith(b"\x89PNG\r\n\x1a\n")
    question = questions(moodle_quiz(example, style, picture))[1]
    file = question.find("questiontext/file")
    assert file is not None and file.get("encoding") == "base64" and file.get("name") == "backprop-network.png"
    assert base64.b64decode(file.text or "") == picture
    assert '<img src="@@PLUGINFILE@@/backprop-network.png"' in text_of(question, "questiontext")


def test_without_the_drawing_tools_the_questions_have_no_picture(
    example: Solution, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    picture, warning = network_picture(example, Style.of(example.spec.sheet))
    assert picture is None and warning is not None and "left out" in warning
    question = questions(moodle_quiz(example, Style.of(example.spec.sheet), picture))[1]
    assert question.find("questiontext/file") is None and "<img" not in text_of(question, "questiontext")


def test_the_command_writes_the_xml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["moodle", str(EXAMPLE), "-o", str(tmp_path), "--no-drawing"]) == 0
    written = tmp_path / "backprop-moodle.xml"
    assert capsys.readouterr().out.strip() == str(written)
    assert len(questions(written.read_text(encoding="utf-8"))) == 1 + 12


# --- responses -------------------------------------------------------------------------------


def export(rows: list[list[str]], slots: int, question: bool = False, right: bool = False) -> str:
    """A responses report download as Moodle writes it: the user columns, the attempt's times and
    grade, then per slot "Question N", "Response N", "Right answer N" as chosen."""
    header = ["Surname", "First name", "Email address", "State", "Started on", "Completed", "Time taken", "Grade/13.00"]
    for n in range(1, slots + 1):
        header += ([f"Question {n}"] if question else []) + [f"Response {n}"] + ([f"Right answer {n}"] if right else [])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()  # Moodle's CSV download begins with a byte order mark


def response(values: list[str]) -> str:
    return "; ".join(f"part {i}: {value}" for i, value in enumerate(values, 1))


def test_a_cloze_response_splits_into_its_blanks() -> None:
    assert blanks_of("part 1: 0.5; part 2: ; part 3: 1,25") == ["0.5", "", "1,25"]
    assert blanks_of("Teil 1: 3; Teil 2: -0.1") == ["3", "-0.1"]
    assert blanks_of("-") == []


def test_check_marks_each_attempt_of_a_responses_export(
    example: Solution, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    style = Style.of(example.spec.sheet)
    names = layout(example, style)
    parts = list(names)[:-1]
    found = blanks(example, style)
    right = [response([b.answer for b in found[int(name.rsplit("p", 1)[1])]]) for name in parts]
    user = ["Doe", "Jane", "jane@example.org", "Finished", "1 May", "1 May", "10 mins", "13.00"]
    slipped = list(right)
    first = [b.answer for b in found[1]]
    first[0] = "0.5"  # z1[1] is 0: a slip, and a1[1] given as σ(0.5), right from it
    first[2] = "0.6225"
    slipped[0] = response(first)
    other = ["Roe", "Rick", "rick@example.org", "Finished", "1 May", "1 May", "12 mins", "11.00"]
    text = export([user + right, other + slipped], len(parts))
    assert is_responses(text.lstrip("\ufeff"))
    path = tmp_path / "responses.csv"
    path.write_text(text, encoding="utf-8")
    assert main(["check", str(EXAMPLE), str(path), "--row", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("== 1: Doe Jane jane@example.org\n") and "wrong" not in out
    assert main(["check", str(EXAMPLE), str(path), "--row", "2"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"p1\.z1\[1\]\s+wrong", out) and re.search(r"p1\.a1\[1\]\s+carried", out)
    assert "first wrong: p1.z1[1]" in out
    assert main(["check", str(EXAMPLE), str(path)]) == 1  # both attempts: one is not all right
    out = capsys.readouterr().out
    assert out.count("== ") == 2


def test_the_question_in_a_slot_is_found_by_its_name_or_its_right_answers(
    example: Solution, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A random question puts any question in any slot: the export's question text names it."""
    style = Style.of(example.spec.sheet)
    found = blanks(example, style)
    user = ["Doe", "Jane", "jane@example.org", "Finished", "1 May", "1 May", "10 mins", "2.00"]
    # Slot 1 holds part 2's question, slot 2 part 1's: found by the name at the end of the text.
    two, one = (response([b.answer for b in found[n]]) for n in (2, 1))
    named = export([[*user, "… backprop p2", two, "… backprop p1", one]], 2, question=True)
    (tmp_path / "named.csv").write_text(named, encoding="utf-8")
    assert main(["check", str(EXAMPLE), str(tmp_path / "named.csv")]) == 1  # the other parts are missing
    out = capsys.readouterr().out
    assert re.search(r"p2\.\S+\s+right", out) and re.search(r"p1\.L\s+right", out) and "wrong" not in out
    # Without the question's text, its right answers say which it is.
    by_right = export([[*user, two, two, one, one]], 2, right=True)
    (tmp_path / "right.csv").write_text(by_right, encoding="utf-8")
    assert main(["check", str(EXAMPLE), str(tmp_path / "right.csv")]) == 1
    assert capsys.readouterr().out == out


def test_a_bad_row_number_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "responses.csv"
    path.write_text(export([["Doe", "Jane", "j@x", "Finished", "", "", "", "", "part 1: 0"]], 1), encoding="utf-8")
    assert main(["check", str(EXAMPLE), str(path), "--row", "5"]) == 2
    assert capsys.readouterr().err.strip().endswith("--row 5: the export has 1 attempts")
