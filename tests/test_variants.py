"""Per-student variants (derive variants): [variants] read and refused in one line, the same seed
giving the same bytes, every variant verified against an independent oracle, bad draws rejected and
counted, the key's rows equal to the variants' answers, the roster's mapping, --only."""

from __future__ import annotations

import csv
import io
import json
import math
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from derive.errors import SpecError
from derive.pipeline import Options, parse_spec
from derive.variants import draw as drawing
from derive.variants import folder_of, make_one, make_variants
from tests.test_cli import text_of

NEURON = """\
# One sigmoid unit: a forward pass and its gradients.
[sheet]
title = "One neuron"

[network]
inputs = 2

[[network.layers]]
weights = [[1, -1]]
bias = [0]
activation = "sigmoid"

[loss]
name = "squared_error"

[[parts]]
kind = "forward"
x = [1, 2]
y = 1

[[parts]]
kind = "gradients"
use_sample_of = 1
"""
VARY = """
[variants.vary]
"network.layers[1].weights" = { from = -2, to = 2, step = "1/2", exclude = [0] }
"parts[1].x" = { values = [-1, 1, 2] }
"""


def spec_file(folder: Path, text: str, name: str = "neuron") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(text: str) -> str:
    """The one-line message ``text`` is refused with."""
    with pytest.raises(SpecError) as caught:
        parse_spec(text, name="bad", source="bad.toml")
    assert "\n" not in str(caught.value), str(caught.value)
    return str(caught.value)


def key_rows(folder: Path, stem: str = "neuron") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / f"{stem}-variants-key.csv").read_text(encoding="utf-8"))))


def answers_of(folder: Path, stem: str, variant: str) -> list[dict[str, object]]:
    path = folder / f"{stem}-variants-{variant}" / f"{stem}-{variant}-answers.json"
    quantities: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))["quantities"]
    return quantities


@pytest.mark.parametrize(
    ("vary", "field", "message"),
    [
        ('"sheet.decimals" = { values = [1] }', 'variants.vary."sheet.decimals"', "only the givens"),
        ('"parts[9].x" = { values = [1] }', 'variants.vary."parts[9].x"', "the spec has no 'parts[9]'"),
        ('"parts[1].z" = { values = [1] }', 'variants.vary."parts[1].z"', "only the givens"),
        (
            '"network.layers[1].weights[1][3]" = { values = [1] }',
            "",
            "the spec has no 'network.layers[1].weights[1][3]'",
        ),
        ('"parts[2].use_sample_of" = { values = [1] }', "", "is not a given number that can vary"),
        ('"parts[1].x" = { from = 2, to = 1 }', 'variants.vary."parts[1].x".to', "ends below its start"),
        ('"parts[1].x" = { from = 0, to = 1, step = 0 }', ".step", "expected a positive step"),
        ('"parts[1].x" = { from = 0, to = 100, step = "1/100" }', ".step", "at most 1000 values"),
        ('"parts[1].x" = { values = [1], exclude = [1] }', ".exclude", "nothing is left to draw"),
        ('"parts[1].x" = { values = [1], from = 1 }', ".from", "not both"),
        ('"parts[1].x" = { values = ["sqrt(2)"] }', ".values[1]", "a varied value is a rational number"),
        ('"parts[1].x" = { to = 1 }', ".from", "missing"),
        ('"parts[1].x" = { values = [1], by = 2 }', ".by", "unknown key"),
        ('"parts[1].x" = { values = [1] }\n"parts[1].x[2]" = { values = [2] }', "", "is varied twice"),
    ],
)
def test_a_bad_variants_section_is_one_line_naming_the_field(vary: str, field: str, message: str) -> None:
    found = refusal(NEURON + "\n[variants.vary]\n" + vary + "\n")
    assert field in found and message in found, found


def test_the_good_budget_is_checked() -> None:
    assert "unknown check 'dead'" in refusal(NEURON + VARY + '\n[variants.good]\nallow = ["dead"]\n')
    assert "variants.good.max_draws" in refusal(NEURON + VARY + "\n[variants.good]\nmax_draws = 0\n")
    assert "variants.good.saturation" in refusal(NEURON + VARY + "\n[variants.good]\nsaturation = -1\n")
    assert "variants.vary: missing" in refusal(NEURON + "\n[variants]\ngood = { saturation = 3 }\n")
    parse_spec(NEURON + VARY + "\n[variants.good]\nmax_digits = 8\nmin_gradient = 0.001\n")  # a good one reads


def test_codes_decode_and_refuse_another_spec_or_seed() -> None:
    spec = drawing.fingerprint(NEURON)
    for number, draw in ((1, 0), (7, 12), (999, 9999)):
        code = drawing.code(spec, 2026, number, draw)
        assert drawing.decode(code, spec, 2026) == (number, draw)
        assert drawing.decode(code.lower().replace("0", "o"), spec, 2026) == (number, draw)  # read off paper
    code = drawing.code(spec, 2026, 3, 1)
    with pytest.raises(ValueError, match="not a variant of this spec with seed 2027"):
        drawing.decode(code, spec, 2027)
    with pytest.raises(ValueError, match="not a variant of this spec"):
        drawing.decode(code, drawing.fingerprint(NEURON + "\n"), 2026)


def test_the_roster_is_dealt_evenly_whatever_its_order() -> None:
    students = [f"s{i:02d}" for i in range(11)]
    dealt = drawing.deal(students, 4, 2026)
    assert sorted(dealt) == sorted(students)
    counts = [list(dealt.values()).count(v) for v in range(1, 5)]
    assert sorted(counts) == [2, 3, 3, 3]
    shuffled = students[:]
    random.Random(1).shuffle(shuffled)
    assert drawing.deal(shuffled, 4, 2026) == dealt
    assert drawing.deal(students, 4, 2027) != dealt


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four variants of the one-neuron spec (no PDFs), with a roster of seven students."""
    folder = tmp_path_factory.mktemp("variants")
    spec = spec_file(folder, NEURON + VARY)
    roster = folder / "students.txt"
    roster.write_text("# week 3\nana\nben\n\ncem\ndia\neve\nfay\ngus\n", encoding="utf-8")
    made = make_variants(spec, 4, 2026, Options(output_dir=folder / "out", pdf=False), roster=roster, jobs=2)
    assert len(made.batch.outcomes) == 4
    return folder


def test_every_variant_is_verified_against_a_float_oracle(batch: Path) -> None:
    rows = key_rows(batch / "out")
    assert [row["variant"] for row in rows] == ["v001", "v002", "v003", "v004"]
    for row in rows:
        w = [float(Fraction(row[f"network.layers[1].weights[1][{k}]"])) for k in (1, 2)]
        x = [float(Fraction(row[f"parts[1].x[{k}]"])) for k in (1, 2)]
        z = w[0] * x[0] + w[1] * x[1]
        a = 1 / (1 + math.exp(-z))
        expected = {
            "p1.z1[1]": z,
            "p1.yhat[1]": a,
            "p1.L": (a - 1) ** 2,
            "p2.dL/dw1[1,1]": 2 * (a - 1) * a * (1 - a) * x[0],
            "p2.dL/dw1[1,2]": 2 * (a - 1) * a * (1 - a) * x[1],
            "p2.dL/db1[1]": 2 * (a - 1) * a * (1 - a),
        }
        found = {q["name"]: q["float"] for q in answers_of(batch / "out", "neuron", row["variant"])}
        for key, value in expected.items():
            assert found[key] == pytest.approx(value, rel=1e-12, abs=1e-12), (row["variant"], key)
        assert abs(z) <= 4  # the default saturation budget


def test_the_key_rows_are_the_variants_answers(batch: Path) -> None:
    for row in key_rows(batch / "out"):
        asked = {q["name"]: q["decimal"] for q in answers_of(batch / "out", "neuron", row["variant"]) if q["asked"]}
        assert asked and {name: row[name] for name in asked} == asked
        solution = batch / "out" / f"neuron-variants-{row['variant']}" / f"neuron-{row['variant']}-solution.tex"
        text = solution.read_text(encoding="utf-8")
        code = row["code"].replace("-", "{-}")
        label = f"Variant {int(row['variant'][1:])} \\textperiodcentered{{}} code \\texttt{{{code}}}"
        assert label in text  # the page header: on every page
        assert "qrcode" not in text  # no QR code unless [variants] asks for one


def test_the_moodle_file_has_one_question_per_variant_with_its_answers(batch: Path) -> None:
    import re
    import xml.etree.ElementTree as ET

    from tests.test_moodle import BLANK

    quiz = ET.parse(batch / "out" / "neuron-variants-moodle.xml").getroot()
    category, *questions = quiz.findall("question")
    assert category.get("type") == "category" and "neuron variants" in (category.findtext("category/text") or "")
    assert [q.findtext("name/text") for q in questions] == [f"neuron-v00{k}" for k in (1, 2, 3, 4)]
    for number, question in enumerate(questions, 1):
        blanks = [answer for _, answer, _ in BLANK.findall(question.findtext("questiontext/text") or "")]
        asked = [q["decimal"] for q in answers_of(batch / "out", "neuron", f"v00{number}") if q["asked"]]
        assert [float(b) for b in blanks] == [float(re.sub(r"[^0-9.eE+-]", "", a)) for a in asked]


def test_the_roster_maps_each_student_to_a_variant(batch: Path) -> None:
    rows = list(csv.reader(io.StringIO((batch / "out" / "neuron-variants-roster.csv").read_text(encoding="utf-8"))))
    assert rows[0] == ["student", "variant", "code"]
    students = [row[0] for row in rows[1:]]
    assert students == ["ana", "ben", "cem", "dia", "eve", "fay", "gus"]
    codes = {row["variant"]: row["code"] for row in key_rows(batch / "out")}
    dealt = drawing.deal(students, 4, 2026)
    for student, variant, code in rows[1:]:
        assert variant == drawing.label_id(dealt[student]) and codes[variant] == code


def test_only_makes_one_variant_again_byte_for_byte(batch: Path, tmp_path: Path) -> None:
    row = key_rows(batch / "out")[2]
    made = make_one(batch / "neuron.toml", row["code"], 2026, Options(output_dir=tmp_path, pdf=False))
    assert made.files
    for path in made.files:
        assert path.read_bytes() == (batch / "out" / path.relative_to(tmp_path)).read_bytes(), path


def test_the_same_seed_gives_the_same_bytes_pdfs_included(tmp_path: Path) -> None:
    spec = spec_file(tmp_path, NEURON + "\n[variants]\nqr = true\n" + VARY)
    first = make_variants(spec, 2, 7, Options(output_dir=tmp_path / "a"), jobs=2)
    second = make_variants(spec, 2, 7, Options(output_dir=tmp_path / "b"), jobs=1)
    names = sorted(str(p.relative_to(tmp_path / "a")) for p in first.files)
    assert names == sorted(str(p.relative_to(tmp_path / "b")) for p in second.files)
    assert any(name.endswith("-exercise.pdf") for name in names) and "neuron-variants-key.pdf" in names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    exercise = text_of(tmp_path / "a" / folder_of("neuron", 2) / "neuron-v002-exercise.pdf")
    code = key_rows(tmp_path / "a")[1]["code"]
    assert "Variant 2" in exercise and code in exercise  # on every page: the page header
    source = (tmp_path / "a" / folder_of("neuron", 2) / "neuron-v002-exercise.tex").read_text(encoding="utf-8")
    assert f"\\qrcode[height=1.4cm]{{derive variants --seed 7 --only {code}}}" in source
    assert "One neuron" in text_of(tmp_path / "a" / "neuron-variants-key.pdf")


SATURATING = (
    NEURON
    + """
[variants.vary]
"network.layers[1].weights" = { values = ["1/2", 3, 4, 5, 6, 7, 8] }
"parts[1].x" = { values = [1, 2] }
"""
)


def test_draws_that_saturate_are_rejected_and_counted(tmp_path: Path) -> None:
    spec = spec_file(tmp_path, SATURATING, "steep")
    made = make_variants(spec, 2, 3, Options(output_dir=tmp_path / "out", pdf=False), jobs=1)
    rejected = made.batch.rejected
    assert rejected["saturated"] > 0
    rows = key_rows(tmp_path / "out", "steep")
    assert sum(int(row["draws"]) for row in rows) == made.batch.draws == 2 + sum(rejected.values())
    for row in rows:
        z = sum(
            float(Fraction(row[f"network.layers[1].weights[1][{k}]"])) * float(Fraction(row[f"parts[1].x[{k}]"]))
            for k in (1, 2)
        )
        assert abs(z) <= 4
    assert "saturated: " in "".join(row["rejected"] for row in rows)
    key = (tmp_path / "out" / "steep-variants-key.tex").read_text(encoding="utf-8")
    assert f"{rejected['saturated']} with a saturated sigmoid or tanh unit" in key


def test_a_range_with_no_good_instance_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    text = NEURON + '\n[variants.vary]\n"network.layers[1].weights" = { values = [5, 6] }\n'
    text += '"parts[1].x" = { values = [1, 2] }\n\n[variants.good]\nmax_draws = 5\n'
    spec = spec_file(tmp_path, text.replace("x = [1, 2]", "x = [1, 1]"), "hopeless")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "derive", "variants", str(spec), "-n", "2", "--seed", "1", "-o", str(out), "--no-pdf"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("derive: error:")]
    assert len(errors) == 1
    assert 'variants.vary."network.layers[1].weights"' in errors[0]
    assert "no good instance of variant 1 in 5 draws" in errors[0] and "saturated" in errors[0]
    assert not out.exists()


def test_a_show_that_claim_is_made_again_for_each_variant(tmp_path: Path) -> None:
    text = NEURON.replace(
        'kind = "gradients"\nuse_sample_of = 1', 'kind = "show_that"\nx = [0, 0]\ny = 1\nyhat = "1/2"'
    )
    text = text.replace('activation = "sigmoid"', 'activation = "identity"').replace("bias = [0]", 'bias = ["1/2"]')
    text += '\n[variants.vary]\n"network.layers[1].bias" = { values = ["-1/2", "1/4", 1, 2] }\n'
    spec = spec_file(tmp_path, text, "claim")
    made = make_variants(spec, 3, 5, Options(output_dir=tmp_path / "out", pdf=False), jobs=1)
    claims = set()
    for row in key_rows(tmp_path / "out", "claim"):
        bias = row["network.layers[1].bias[1]"]
        exercise = tmp_path / "out" / f"claim-variants-{row['variant']}" / f"claim-{row['variant']}-exercise.tex"
        found = next(q for q in answers_of(tmp_path / "out", "claim", row["variant"]) if q["name"] == "p2.yhat[1]")
        assert found["exact"] == bias  # ŷ = b at x = 0: the claim is the variant's own
        claims.add(bias)
        assert "Show that" in exercise.read_text(encoding="utf-8")
    assert len(claims) == 3  # two variants with the same answers: the later one is drawn again
    assert made.batch.rejected["duplicate"] == made.batch.draws - 3


TWO_LAYERS = """\
[network]
inputs = 1

[[network.layers]]
weights = [[1]]
bias = [0]
activation = "identity"

[[network.layers]]
weights = [[W2]]
bias = [0]
activation = "identity"

[loss]
name = "squared_error"

[[parts]]
kind = "forward"
x = [X1]
y = 1

[[parts]]
kind = "gradients"
use_sample_of = 1

[[parts]]
kind = "forward"
x = [1]
y = 1
"""


def judged(text: str, base: str) -> tuple[str, str] | None:
    """The rejection of instance ``text`` where the spec's own instance is ``base`` (None: a good one)."""
    from derive.exercise.variation import Good
    from derive.variants.batch import derive_exactly
    from derive.variants.judge import allowed, findings, rejection, required

    own = findings(derive_exactly(parse_spec(base)), Good())
    found = rejection(findings(derive_exactly(parse_spec(text)), Good()), allowed(own), Good(), required(own))
    return None if found is None else (found.check, found.where)


def test_a_zero_gradient_the_spec_shows_is_allowed_for_its_tensor_only() -> None:
    # The spec's own x = 0 gives W1 and W2 gradients of 0 in part 2 (a1 = 0: allowed there); a variant
    # whose output is its target (L = 0) has every gradient 0, the biases' too: rejected for b2's.
    base = TWO_LAYERS.replace("W2", "2").replace("X1", "0")
    assert judged(base, base) is None
    assert judged(TWO_LAYERS.replace("W2", "3").replace("X1", "0"), base) is None
    assert judged(TWO_LAYERS.replace("W2", "1").replace("X1", "1"), base) == ("zero_gradient", "p2.b2")


def test_a_part_asked_of_an_earlier_parts_input_is_rejected() -> None:
    base = TWO_LAYERS.replace("W2", "2").replace("X1", "2")
    assert judged(TWO_LAYERS.replace("W2", "2").replace("X1", "1"), base) == ("same_sample", "p3")
