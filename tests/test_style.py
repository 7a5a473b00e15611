"""Display settings: decimal marks, languages and per-part places and exact forms."""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

import derive
from derive.exercise.model import Sheet
from derive.terms.display import Join, Pattern, Rounded
from derive.terms.symbols import Sym
from derive.tex.style import Style

GERMAN = Style(decimal_mark=",", exact=False)


def test_a_decimal_comma_is_braced_and_list_commas_become_semicolons() -> None:
    printer = GERMAN.printer()
    assert printer.vector((sp.Rational(1, 2), sp.Rational(-5, 4))) == r"(0{,}5; -1{,}25)^{\top}"
    assert printer.decimal(0.00005, 4) == r"5{,}000 \cdot 10^{-5}"
    assert printer.show(Join((Rounded(0.5, 1), Sym("x", None, (1,))))) == "0{,}5; x_{1}"
    assert printer.show(Pattern(r"\max(0, @z)")) == r"\max(0; z)"  # a list in an authored pattern


def test_what_is_not_a_decimal_point_or_a_list_comma_stays() -> None:
    # An index w_{1,2}, a thin space "\, " and a full stop after maths are neither.
    printer = GERMAN.printer()
    assert printer.symbol(Sym("w", 1, (1, 2))) == "w^{(1)}_{1,2}"
    assert printer.show(Pattern(r"@w \, @a. \quad x_{1,1}")) == r"w \, a. \quad x_{1,1}"
    assert Style(exact=False).printer().vector((sp.Rational(1, 2), sp.Integer(1))) == "(0.5, 1)^{\\top}"


def test_a_language_brings_its_decimal_mark_unless_the_spec_sets_one() -> None:
    assert Style.of(Sheet()).decimal_mark == "."
    assert Style.of(Sheet(language="de")).decimal_mark == ","
    assert Style.of(Sheet(), language="de").decimal_mark == ","
    assert Style.of(Sheet(language="de", decimal_mark=".")).decimal_mark == "."
    assert Style.of(Sheet(language="de", decimal_mark="."), language="en").decimal_mark == "."
    assert Style.of(Sheet(decimals=6), places=2).places == 2


def test_a_part_may_set_its_own_places_and_exact_switch() -> None:
    spec = derive.load_example()
    style = Style.of(spec.sheet)
    part = replace(spec.parts[0], decimals=2, exact=False)
    assert style.for_part(part) == replace(style, places=2, exact=False)
    assert style.for_part(spec.parts[1]) == style
