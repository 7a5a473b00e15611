"""Display settings: decimal marks, languages and per-part places and exact forms."""

from __future__ import annotations

from dataclasses import replace

import derive
from derive.spec.model import Sheet
from derive.tex.style import Style, mark_decimals


def test_a_decimal_comma_is_braced_and_list_commas_become_semicolons() -> None:
    assert mark_decimals(r"(0.5, -1.25)^{\top}", ",") == r"(0{,}5; -1{,}25)^{\top}"
    assert mark_decimals(r"0.5 \cdot 10^{-3}", ",") == r"0{,}5 \cdot 10^{-3}"


def test_what_is_not_a_decimal_point_or_a_list_comma_stays() -> None:
    # An index w_{1,2}, a thin space "\, " and a full stop after maths are neither.
    text = r"w^{(1)}_{1,2} \, a. \quad x_{1,1}"
    assert mark_decimals(text, ",") == text
    assert mark_decimals("(0.5, 1)", ".") == "(0.5, 1)"


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
