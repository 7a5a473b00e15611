"""Points, the exam and its marking scheme: the spec's keys and their refusals, the split of a
part's points over its steps, and the PDFs read as a student and a marker read them."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.catalog.activations import ACTIVATIONS
from derive.catalog.optimizers import OPTIMIZERS
from derive.cli import main
from derive.errors import SpecError
from derive.pipeline import Options, build_sheet, parse_spec
from derive.render.answers import answers
from derive.render.exam import formula_sheet, marking_context, records
from derive.render.marking import evenly, marked_steps, split
from derive.tex.style import Style
from tests.sheets import single
from tests.test_cli import text_of

ROOT = Path(__file__).resolve().parent.parent
EXAM = ROOT / "examples" / "exam_backprop.toml"
SMALL = """
[sheet]
title = "Small"

[network]
inputs = 1

[[network.layers]]
weights = [[2]]
bias = [0]
activation = "sigmoid"

[loss]
name = "squared_error"

[[parts]]
kind = "forward"
x = [1]
y = 1
FIRST

[[parts]]
kind = "gradients"
use_sample_of = 1
SECOND
"""


def small(first: str = "points = 3", second: str = "points = 2.5", extra: str = "") -> str:
    return SMALL.replace("FIRST", first).replace("SECOND", second) + extra


def refusal(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, name="bad")
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_points_are_read_exactly_halves_allowed() -> None:
    spec = parse_spec(small(second='points = 2.5\nspace = "45mm"'))
    assert [p.points for p in spec.parts] == [3, sp.Rational(5, 2)]
    assert spec.parts[1].space == sp.Rational(9, 2)  # centimetres


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("points = 3", "", "parts[2].points: missing: part 1 has points, so every part needs them"),
        ("points = 2.25", "points = 1", "parts[1].points: points are whole or halves"),
        ("points = 0", "points = 1", "parts[1].points: expected a positive number of points up to 100"),
        ("points = 101", "points = 1", "parts[1].points: expected a positive number of points up to 100"),
        ('points = "3"', "points = 1", "parts[1].points: expected a number of points"),
        ("points = 3\nsplit = [1, 1]", "points = 1", "parts[1].split: the split adds up to 2, not to the part's 3"),
        ("split = [1]", "", "parts[1].split: a split divides the part's points: give points too"),
        ("points = 3\nsplit = [1, 1.75, 0.25]", "points = 1", "parts[1].split[2]: points are whole or halves"),
        ('points = 3\nspace = "30cm"', "points = 1", "parts[1].space: expected from 1cm to 20cm; found 30cm"),
        ('points = 3\nspace = "6 furlongs"', "points = 1", "parts[1].space: expected a length such as"),
    ],
)
def test_bad_points_are_refused_in_one_line(first: str, second: str, message: str) -> None:
    assert message in refusal(small(first, second))


def test_exam_table_is_checked() -> None:
    spec = parse_spec(small(extra='\n[exam]\nformula_sheet = true\nduration = "1 hour"\n'))
    assert spec.exam.formula_sheet and spec.exam.duration == "1 hour"
    assert "exam.formula: unknown key (did you mean 'formula_sheet'?)" in refusal(
        small(extra="\n[exam]\nformula = 1\n")
    )
    assert "exam.formula_sheet: expected true or false" in refusal(small(extra="\n[exam]\nformula_sheet = 1\n"))


@pytest.mark.parametrize("halves", range(1, 41))
@pytest.mark.parametrize("count", range(1, 13))
def test_evenly_adds_up_exactly_in_halves(halves: int, count: int) -> None:
    points = sp.Rational(halves, 2)
    shares = evenly(points, count)
    assert len(shares) == count and sum(shares) == points
    assert all((2 * s).q == 1 for s in shares)
    assert max(shares) - min(shares) <= sp.Rational(1, 2)  # as even as halves allow
    assert list(shares) == sorted(shares)  # the half points over go to the last steps


def test_marked_steps_first_show_every_asked_value() -> None:
    """Every value a part asks for is first shown in one of its marked steps, and each marked step shows one."""
    solution = derive.solve(derive.load_spec(EXAM))
    keys = solution.asked()
    for solved in solution.parts:
        steps = marked_steps(solved, keys[solved.number])
        assert steps, solved.part.kind.name
        assert len(split(solved.part, len(steps))) == len(steps)


def test_a_split_of_the_wrong_length_names_the_part_and_the_count(tmp_path: Path) -> None:
    text = small("points = 3\nsplit = [1, 2]", "points = 1")
    solution = derive.solve(parse_spec(text, name="s"))
    count = len(marked_steps(solution.parts[0], solution.asked()[1]))
    assert count == 3  # z, a = ŷ and L
    with pytest.raises(SpecError) as caught:
        build_sheet(parse_spec(text, name="s"), Options(output_dir=tmp_path, pdf=False, exam=True))
    assert f"parts[1].split: the marking scheme marks {count} steps of this part" in str(caught.value)
    assert str(caught.value).endswith("found 2 numbers")
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_an_exam_needs_points(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "plain.toml"
    spec.write_text(small("", ""), encoding="utf-8")
    assert main(["exam", str(spec), "-o", str(tmp_path / "out"), "--no-pdf"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("derive: error: ") and "\n" not in err
    assert err.endswith("parts[1].points: missing: an exam needs the points of every part (docs/exam.md)")
    assert not (tmp_path / "out").exists()


def test_the_formula_sheet_prints_the_catalogue_records_the_exam_uses() -> None:
    spec = derive.load_spec(EXAM)
    # The network's sigmoid and identity, ReLU (compare_activation), the loss, SGD (update) and Adam.
    assert sorted(record.name for record in records(spec)) == [
        "adam",
        "identity",
        "relu",
        "sgd",
        "sigmoid",
        "squared_error",
    ]
    printer = Style().printer(spec.network)
    groups = {g["key"]: g["rules"] for g in formula_sheet(spec, printer)}
    assert [rule["key"] for rule in groups["activations"]] == ["sigmoid", "identity", "relu"]
    assert [rule["key"] for rule in groups["loss"]] == ["squared_error"]
    assert [rule["key"] for rule in groups["optimizers"]] == ["sgd", "adam"]
    assert groups["optimizers"][1]["latex"] == printer.pattern(OPTIMIZERS["adam"].formula)
    assert groups["activations"][0]["latex"] == printer.pattern(ACTIVATIONS["sigmoid"].build().identity)


@pytest.fixture(scope="module")
def exam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exam")
    assert main(["exam", str(EXAM), "-o", str(out)]) == 0
    return out


def test_the_exam_writes_four_files_and_no_sheets(exam: Path) -> None:
    names = sorted(p.name for p in exam.iterdir())
    assert names == [f"exam_backprop-{kind}.{ext}" for kind in ("exam", "marking") for ext in ("pdf", "tex")]


def test_the_exam_cover_page_has_the_fields_the_instructions_and_the_points_table(exam: Path) -> None:
    text = text_of(exam / "exam_backprop-exam.pdf")
    cover = text.split("\f")[0]
    for field in ("Name:", "Student ID:", "Signature:", "Instructions", "Time allowed: 90 minutes"):
        assert field in cover
    assert "Allowed aids: a non-programmable calculator." in cover
    spec = derive.load_spec(EXAM)
    points = [p.points for p in spec.parts]
    row = re.search(r"Points((?:\s+[\d.]+)+)", cover)
    assert row is not None
    shown = [Decimal(v) for v in row.group(1).split()]
    assert shown[:-1] == [Decimal(str(float(p))) for p in points] and shown[-1] == sum(shown[:-1]) == 40
    assert "Scored" in cover
    assert f"The exam has {len(points)} parts, worth 40 points in total." in " ".join(cover.split())


def test_the_exam_asks_without_solving(exam: Path) -> None:
    text = text_of(exam / "exam_backprop-exam.pdf")
    pages = text.count("\f")
    for k in range(1, pages + 1):
        assert f"Page {k} of {pages}" in text
    solution = derive.solve(derive.load_spec(EXAM))
    document = answers(solution, 4)
    for q in document["quantities"]:
        if q["asked"] and len(q["decimal"]) > 5:  # the values a student gives: none is on the exam
            assert q["decimal"] not in text, q["name"]
    for heading in ("Forward pass", "Backpropagation step", "Given\n"):
        assert heading not in text
    for part in derive.load_spec(EXAM).parts:
        assert re.search(rf"Part {part.number}\s+\({float(part.points):g} points\)", text)
    assert "Formula sheet" in text.split("\f")[-2]  # the last page (the text ends with a form feed)


def test_the_marking_scheme_splits_each_part_exactly(exam: Path) -> None:
    """Read from the PDF: each part's step points add up to its total, which is the spec's points."""
    text = " ".join(text_of(exam / "exam_backprop-marking.pdf").split())
    spec = derive.load_spec(EXAM)
    for part in spec.parts:
        body = text.split(f"Part {part.number} ({float(part.points):g} points)")[1]
        body, _, rest = body.partition(f"Part {part.number}: ")
        total = Decimal(rest.split(" point")[0])
        marks = [Decimal(m) for m in re.findall(r"\[([\d.]+) points?\]", body)]
        assert marks and sum(marks) == total == Decimal(str(float(part.points))), part.number
        if part.split:
            assert marks == [Decimal(str(float(s))) for s in part.split]
    assert "0.9074" in text  # the worked solution is there (the loss of part 1)


def test_german_exam_and_points(tmp_path: Path) -> None:
    built = build_sheet(EXAM, Options(output_dir=tmp_path, pdf=False, exam=True, language="de"))
    assert built.report.values > 100
    exam = (tmp_path / "exam_backprop-exam.tex").read_text(encoding="utf-8")
    marking = (tmp_path / "exam_backprop-marking.tex").read_text(encoding="utf-8")
    for word in ("Matrikelnummer", "Unterschrift", "Hinweise", "Erreicht", "Formelsammlung", "(8{,}5 Punkte)"):
        assert word in exam, word
    assert r"Seite \thepage{} von \pageref{derive-last-page}" in exam
    assert "Bewertungsschema" in marking and "zusammen 6 Punkte." in marking


def test_the_answers_give_each_part_its_points(tmp_path: Path) -> None:
    build_sheet(EXAM, Options(output_dir=tmp_path, pdf=False))
    document = json.loads((tmp_path / "exam_backprop-answers.json").read_text(encoding="utf-8"))
    spec = derive.load_spec(EXAM)
    assert [p["points"] for p in document["parts"]] == [float(p.points) for p in spec.parts]  # type: ignore[arg-type]
    assert document["points"] == sum(p["points"] for p in document["parts"]) == 40
    for q in document["quantities"]:
        assert q["points"] == (None if q["part"] is None else document["parts"][q["part"] - 1]["points"])
    csv = (tmp_path / "exam_backprop-answers.csv").read_text(encoding="utf-8").splitlines()
    assert csv[0].endswith(",tolerance,points") and csv[-1].endswith(",9.5")
    exercise = (tmp_path / "exam_backprop-exercise.tex").read_text(encoding="utf-8")
    assert r"\emph{(8.5 points)}" in exercise and r"\textbf{Total}" in exercise


def test_a_sheet_without_points_has_no_points_table(tmp_path: Path) -> None:
    build_sheet(parse_spec(small("", ""), name="plain"), Options(output_dir=tmp_path, pdf=False))
    exercise = (tmp_path / "plain-exercise.tex").read_text(encoding="utf-8")
    assert "points)" not in exercise and "Total" not in exercise
    document = json.loads((tmp_path / "plain-answers.json").read_text(encoding="utf-8"))
    assert document["points"] is None and all(p["points"] is None for p in document["parts"])


EXAMPLES = single(sorted((ROOT / "examples").glob("*.toml")))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_kind_marks_its_steps_and_the_marks_add_up(path: Path) -> None:
    """Every example (each part given 2.5 points where it has none) in the marking scheme: each part
    has marked steps, and their points add up to the part's."""
    text = path.read_text(encoding="utf-8")
    if "points =" not in text:
        text = re.sub(r"^\[\[parts\]\][^\n]*$", lambda m: m.group(0) + "\npoints = 2.5", text, flags=re.M)
    spec = parse_spec(text, name=path.stem)
    solution = derive.solve(spec)
    context = marking_context(solution, Style.of(spec.sheet))
    for part, given in zip(context["parts"], spec.parts, strict=True):
        assert not part["unmarked"], (path.stem, part["number"])
        marks = [
            Decimal(str(step["marks"]["value"]).replace("{,}", "."))
            for section in part["sections"]
            for step in section["steps"]
            if step.get("marks")
        ]
        assert sum(marks) == Decimal(str(float(given.points))), (path.stem, part["number"], marks)  # type: ignore[arg-type]


def test_the_schema_takes_points_as_the_reader_does() -> None:
    import tomllib

    import jsonschema

    from derive.schema.generate import spec_schema

    validator = jsonschema.Draft7Validator(spec_schema())
    data = tomllib.loads(EXAM.read_text(encoding="utf-8"))
    assert list(validator.iter_errors(data)) == []
    for key, value in (("points", 2.25), ("points", 0), ("split", [4.25, 4.25]), ("space", "6 furlongs")):
        bad = tomllib.loads(EXAM.read_text(encoding="utf-8"))
        bad["parts"][4][key] = value
        assert list(validator.iter_errors(bad)), (key, value)
