"""German and English sheets from the catalogues, per-part display settings, a logo, user templates."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest

import derive
from derive.errors import SpecError
from derive.exercise.model import LANGUAGES
from derive.exercise.reader import example_path
from derive.pipeline import Options, build_sheet, parse_spec
from derive.render.templates import template_dirs
from derive.tex.decimals import decimal
from tests.test_cli import run, text_of

EXAMPLE = example_path().read_text(encoding="utf-8")
LANG = template_dirs()[-1] / "lang"


def _macros(path: Path) -> set[str]:
    return set(re.findall(r"<% macro (\w+)\(", path.read_text(encoding="utf-8")))


def test_every_language_has_a_catalogue_with_every_entry() -> None:
    assert {p.stem.split(".")[0] for p in LANG.glob("*.tex.j2")} == set(LANGUAGES)
    english = _macros(LANG / "en.tex.j2")
    assert len(english) > 25
    for language in LANGUAGES:
        assert _macros(LANG / f"{language}.tex.j2") == english, language


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, derive.Built]:
    out = tmp_path_factory.mktemp("de")
    return out, build_sheet(derive.load_example(), Options(output_dir=out, language="de"))


def test_a_german_sheet_has_german_headings_and_decimal_commas(german: tuple[Path, derive.Built]) -> None:
    out, built = german
    solution = text_of(out / "backprop-solution.pdf")
    exercise = text_of(out / "backprop-exercise.pdf")
    for heading in ("Lösungen", "Das Netz", "Aufgabe 1", "Vorwärtsdurchlauf", "Rückwärtsdurchlauf (Kettenregel)"):
        assert heading in solution, heading
    for heading in ("Übungsblatt", "Aufgaben", "Berechnen Sie"):
        assert heading in exercise, heading
    for english in ("Forward pass", "Part 1", "Solutions", "The network"):
        assert english not in solution, english
    loss = decimal(built.solution["p1.L"].approx, 4)
    assert "." in loss and loss.replace(".", ",") in solution
    assert loss not in solution
    # The machine-readable answers keep the decimal point.
    assert f'"decimal": "{loss}"' in (out / "backprop-answers.json").read_text(encoding="utf-8")
    macros = (out / "backprop-values.tex").read_text(encoding="utf-8")
    assert "{derive@d@p1.L}{\\ensuremath{" + loss.replace(".", "{,}") + "}}" in macros


def test_the_cli_language_option_overrides_the_spec(tmp_path: Path) -> None:
    result = run("example", "-o", str(tmp_path), "--no-pdf", "--language", "de")
    assert result.returncode == 0, result.stderr
    tex = (tmp_path / "backprop-solution.tex").read_text(encoding="utf-8")
    assert "Vorwärtsdurchlauf" in tex and "0{,}5" in tex
    assert run("example", "-o", str(tmp_path), "--language", "fr").returncode == 2


def test_a_part_shows_its_own_places_and_decimals_only() -> None:
    text = EXAMPLE.replace('kind = "forward"', 'kind = "forward"\nexact = false', 1)
    text = text.replace('kind = "show_that"', 'kind = "show_that"\ndecimals = 2', 1)
    spec = parse_spec(text)
    assert (spec.parts[0].exact, spec.parts[2].decimals) == (False, 2)
    solution = derive.solve(spec)
    tex = derive.render(solution).solution
    parts = re.split(r"\\section\*\{Part \d+", tex)
    # Part 1 shows decimals only: σ(3) as 0.9526, no fraction anywhere in its working.
    working = parts[1].split(r"\deriveheading{Forward pass}")[1]
    assert r"\frac" not in working and r"e^{" not in working
    assert decimal(solution["p1.a1[2]"].approx, 4) in working
    # Part 2 keeps the sheet's settings; part 3 shows two places.
    assert r"\frac{1}{1 + e^{-2}}" in parts[2]
    assert decimal(solution["p3.L"].approx, 2) in parts[3]
    assert decimal(solution["p2.a1[1]"].approx, 4) in parts[2]


def _png(path: Path) -> None:
    """A 1×1 green PNG, written by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\xc0\x00"))
        + chunk(b"IEND", b"")
    )


def test_a_logo_from_the_spec_goes_on_both_sheets(tmp_path: Path) -> None:
    _png(tmp_path / "crest.png")
    spec_file = tmp_path / "my sheet.toml"
    spec_file.write_text(EXAMPLE.replace("decimals = 4", 'decimals = 4\nlogo = "crest.png"', 1), encoding="utf-8")
    built = build_sheet(spec_file, Options(output_dir=tmp_path / "out"))
    names = {p.name for p in built.files}
    assert "my-sheet-logo.png" in names and "my sheet-solution.pdf" in names
    tex = (tmp_path / "out" / "my sheet-exercise.tex").read_text(encoding="utf-8")
    assert r"\includegraphics[height=1.4cm,width=4cm,keepaspectratio]{my-sheet-logo.png}" in tex


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"crest.gif"', "sheet.logo: a logo must be one of .pdf, .png, .jpg, .jpeg"),
        ("3", "sheet.logo: expected a string"),
    ],
)
def test_a_bad_logo_is_one_clear_error(value: str, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        parse_spec(EXAMPLE.replace("decimals = 4", f"decimals = 4\nlogo = {value}", 1))


def test_a_user_template_replaces_one_part_only(tmp_path: Path) -> None:
    (tmp_path / "part4.tex.j2").write_text(
        "Our own working of part << part.number >>, in << part.sections | length >> sections.\n", encoding="utf-8"
    )
    tex = derive.render(derive.solve(derive.load_example()), extra_templates=[tmp_path]).solution
    assert tex.count("Our own working of part") == 1
    part4 = tex.split(r"\section*{Part 4}")[1].split(r"\section*{Part 5")[0]
    assert "Our own working of part 4, in" in part4 and r"\deriveheading" not in part4
    assert r"\deriveheading{Backward pass (chain rule)}" in tex.split(r"\section*{Part 5")[1]
