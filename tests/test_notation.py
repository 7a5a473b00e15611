"""A sheet's own names for the network's quantities: the spec's [notation], and the printer writing them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import derive
from derive.errors import SpecError
from derive.exercise.notation import NAMED, Notation, name_latex
from derive.pipeline import Options, build_sheet
from derive.terms.display import Pattern
from derive.terms.symbols import LOSS, OUTPUT, Partial, Sym, Updated
from derive.tex.naming import Look
from derive.tex.printer import Printer
from tests.test_cli import text_of
from tests.test_spec import refusal

EXAMPLE = Path(__file__).parent.parent / "examples" / "notation_custom_names.toml"


def test_the_printer_writes_the_standard_names_or_the_sheets() -> None:
    pattern = Pattern(r"\frac{\partial @L}{\partial @yhat} = 2(@yhat - @y), @z^{(1)}, @W^{(2)}")
    standard, mine = Printer(), Printer({"look": Look(Notation((("L", "E"), ("z", r"\mathrm{net}"))))})
    assert standard.show(pattern) == r"\frac{\partial L}{\partial \hat{y}} = 2(\hat{y} - y), z^{(1)}, W^{(2)}"
    assert mine.show(pattern) == r"\frac{\partial E}{\partial \hat{y}} = 2(\hat{y} - y), \mathrm{net}^{(1)}, W^{(2)}"
    # The same names where the printer writes a symbol from its structure.
    assert mine.symbol(Partial(LOSS, Sym("z", 1, (2,)))) == r"\frac{\partial E}{\partial \mathrm{net}^{(1)}_{2}}"
    assert mine.symbol(OUTPUT) == r"\hat{y}"
    # A mark is never followed by a letter (a pattern writes "@delta x": \deltax would be one command).
    assert standard.show(Pattern("@delta x, @deltax")) == r"\delta x, @deltax"
    assert standard.show(Pattern("@yhat_j @a")) == r"\hat{y}_j a"
    assert set(NAMED) == {"x", "y", "yhat", "z", "a", "W", "w", "b", "delta", "L"}


def test_names_are_written_as_a_teacher_writes_them() -> None:
    assert name_latex("h") == "h"
    assert name_latex("net") == r"\mathrm{net}"
    assert name_latex("theta") == r"\theta"
    assert name_latex("hat o") == r"\hat{o}"


def test_the_standard_names_written_out_change_nothing() -> None:
    spec = derive.load_example()
    text = Path(derive.exercise.reader.example_path()).read_text()
    standard = "[notation]\n" + "".join(f'{base} = "{name}"\n' for base, name in {"z": "z", "a": "a", "W": "W"}.items())
    again = derive.parse_spec(standard + text, name=spec.name)
    assert derive.render(derive.solve(again), 4) == derive.render(derive.solve(spec), 4)


def test_a_sheet_in_its_own_names(tmp_path: Path) -> None:
    spec = derive.load_spec(EXAMPLE)
    build_sheet(spec, Options(output_dir=tmp_path))
    tex = (tmp_path / f"{spec.name}-solution.tex").read_text()
    for standard in (r"z\^\{\(", r"a\^\{\(", r"\\hat\{y\}", r"\\partial L\b", r"\(x\)"):
        assert not re.search(r"(?<![A-Za-z\\])" + standard, tex), standard  # not in \delta^{(l)}
    assert r"\mathrm{net}^{(1)}_{1}" in tex and r"\mathrm{out}^{(1)}_{2}" in tex
    assert r"\frac{\partial E}{\partial o_{1}}" in tex
    assert r"\sigma(\mathrm{net})" in tex  # the catalogue's identities speak the same names
    solution = " ".join(text_of(tmp_path / f"{spec.name}-solution.pdf").split())
    assert "net" in solution and "out" in solution
    exercise = (tmp_path / f"{spec.name}-exercise.tex").read_text()
    assert r"\mathrm{net}^{(l)}" in exercise
    document = json.loads((tmp_path / f"{spec.name}-answers.json").read_text())
    entry = next(e for e in document["quantities"] if e["name"] == "p1.z1[1]")  # the keys stay
    assert entry["symbol"] == r"\mathrm{net}^{(1)}_{1}"
    fragment = (tmp_path / f"{spec.name}-fragments" / "part1-solution.tex").read_text()
    assert r"\mathrm{net}" in fragment


def test_a_notebook_shows_the_sheets_names() -> None:
    solution = derive.solve(derive.load_spec(EXAMPLE))
    shown = solution.part(1)._repr_latex_()  # a whole solution shows an overview of its parts
    assert r"\mathrm{out}" in shown


@pytest.mark.parametrize(
    ("notation", "message"),
    [
        ('zz = "net"', "notation.zz: unknown key"),
        ('z = "n@t"', "notation.z: expected a name of letters, as h, net, theta or \"hat o\"; found 'n@t'"),
        ("z = 3", "notation.z: expected a name of letters"),
        ('z = "e"', "notation.z: 'e' is taken: the sheet writes Euler's number with it"),
        ('a = "z"', "notation.a: a and z would have the same name"),
        ('z = "h"\na = "h"', "would have the same name"),
    ],
)
def test_a_bad_name_is_one_line(notation: str, message: str) -> None:
    assert message in refusal(f"[notation]\n{notation}\n" + Path(derive.exercise.reader.example_path()).read_text())


def test_every_renameable_quantity_has_a_standard_name() -> None:
    for base, standard in NAMED.items():
        assert Printer().name(base) == standard


def test_a_bias_written_as_the_weight_on_a_constant_input() -> None:
    printer = Printer({"look": Look(Notation(bias_as_weight=True))})
    assert printer.symbol(Sym("b", 1, (2,))) == "w^{(1)}_{2,0}"
    assert printer.symbol(Sym("b", 1)) == r"w^{(1)}_{\cdot,0}"  # the vector: column 0 of W
    assert printer.symbol(Updated(Sym("b", 2, (1,)), 2)) == "w''^{(2)}_{1,0}"
    renamed = Printer({"look": Look(Notation((("w", "v"),), bias_as_weight=True))})
    assert renamed.symbol(Sym("b", 1, (2,))) == "v^{(1)}_{2,0}"
    from_to = Printer({"look": Look(Notation(from_to=True, bias_as_weight=True))})
    assert from_to.symbol(Sym("b", 1, (2,))) == "w^{(1)}_{0,2}"  # row 0 of the sheet's W


def test_a_sheet_with_biases_as_weights(tmp_path: Path) -> None:
    spec = derive.load_spec(EXAMPLE.parent / "bias_as_weight.toml")
    build_sheet(spec, Options(output_dir=tmp_path, pdf=False))
    tex = (tmp_path / f"{spec.name}-solution.tex").read_text()
    assert not re.search(r"(?<![A-Za-z\\])b\^\{\(", tex)
    assert r"\frac{\partial L}{\partial w^{(1)}_{1,0}}" in tex
    assert r"a^{(l-1)}_0 = 1" in tex  # the sheet says what the weight multiplies
    document = json.loads((tmp_path / f"{spec.name}-answers.json").read_text())
    entry = next(e for e in document["quantities"] if e["name"] == "p1.dL/db1[1]")  # the key stays
    assert entry["symbol"] == r"\frac{\partial L}{\partial w^{(1)}_{1,0}}"


def test_bias_as_weight_is_a_yes_or_no() -> None:
    text = "[notation]\nbias_as_weight = 1\n" + Path(derive.exercise.reader.example_path()).read_text()
    with pytest.raises(SpecError, match=r"notation\.bias_as_weight: expected true or false"):
        derive.parse_spec(text, name="names")
