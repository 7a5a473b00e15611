"""The library's public boundary: a wrong type is a TypeError naming the argument, a bad value one
line naming the field; a model built or changed in Python is checked as a spec file is; no name
leaves the output folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

import derive
from derive.exercise.model import Spec
from derive.output import confined
from derive.tex.decimals import decimal

EXAMPLE = derive.load_example()
NAME_RULE = "cannot name the output files: use letters, digits, spaces and - _ . , + ( ) (a letter or digit first), "
NAME_RULE += "at most 100 characters"
EXACT = 'expected an exact number (an int, a Fraction, a sympy.Rational or a string such as "1/2")'


def raised(call: Callable[[], object], kind: type[Exception] = derive.SpecError) -> str:
    """The one-line message ``call`` fails with, as an exception of ``kind``."""
    with pytest.raises(kind) as caught:
        call()
    assert type(caught.value) is kind and "\n" not in str(caught.value)
    return str(caught.value)


def layer(number: int, **changes: Any) -> Spec:
    """The example with layer ``number`` (from 1) changed."""
    layers = list(EXAMPLE.network.layers)
    layers[number - 1] = replace(layers[number - 1], **changes)
    return replace(EXAMPLE, network=replace(EXAMPLE.network, layers=tuple(layers)))


def part(which: int, **changes: Any) -> Spec:
    """The example with part ``which`` changed."""
    parts = list(EXAMPLE.parts)
    parts[which - 1] = replace(parts[which - 1], **changes)
    return replace(EXAMPLE, parts=tuple(parts))


# Wrong types at the boundary: a TypeError naming the function and the argument.


@pytest.mark.parametrize(("text", "kind"), [(None, "NoneType"), (b"[sheet]", "bytes"), ({"sheet": {}}, "dict")])
def test_parse_spec_of_no_text(text: object, kind: str) -> None:
    message = raised(lambda: derive.parse_spec(text), TypeError)  # type: ignore[arg-type]
    assert message == f"parse_spec: text must be the spec's TOML as a str, not {kind}"


def test_parse_spec_name_and_source_are_text() -> None:
    assert raised(lambda: derive.parse_spec("", name=3), TypeError) == "parse_spec: name must be a str, not int"  # type: ignore[arg-type]
    assert raised(lambda: derive.parse_spec("", source=None), TypeError) == (  # type: ignore[arg-type]
        "parse_spec: source must be a str, not NoneType"
    )


def test_load_spec_of_no_path() -> None:
    message = raised(lambda: derive.load_spec(123), TypeError)  # type: ignore[arg-type]
    assert message == "load_spec: path must be a file path (str or Path), not int"


def test_build_sheet_of_no_spec_or_no_options() -> None:
    message = raised(lambda: derive.build_sheet(42), TypeError)  # type: ignore[arg-type]
    assert message == "build_sheet: spec must be a derive.Spec or a spec file's path, not int"
    message = raised(lambda: derive.build_sheet(EXAMPLE, options="x"), TypeError)  # type: ignore[arg-type]
    assert message == "build_sheet: options must be a derive.Options, not str"


def test_solve_check_verify_and_render_of_the_wrong_thing(example: derive.Solution) -> None:
    expected = "must be a derive.Spec (from load_spec, parse_spec or load_example), not str"
    assert raised(lambda: derive.solve("not a spec"), TypeError) == f"solve: spec {expected}"  # type: ignore[arg-type]
    assert raised(lambda: derive.check("not a spec"), TypeError) == f"check: spec {expected}"  # type: ignore[arg-type]
    assert raised(lambda: derive.verify(3), TypeError) == (  # type: ignore[arg-type]
        "verify: solution must be a derive.Solution (from derive.solve), not int"
    )
    assert raised(lambda: derive.render(EXAMPLE), TypeError) == (  # type: ignore[arg-type]
        "render: solution must be a derive.Solution (from derive.solve), not Spec"
    )
    assert raised(lambda: derive.render(example, places=True), TypeError) == (
        "render: places must be a whole number from 0 to 12 or None, not bool"
    )
    assert raised(lambda: derive.render(example, places=13), ValueError) == (
        "render: places must be a whole number from 0 to 12, not 13"
    )
    assert raised(lambda: derive.render(example, language="fr"), ValueError) == (
        "render: language must be one of en, de or None, not 'fr'"
    )
    assert raised(lambda: derive.render(example, extra_templates=123), TypeError) == (  # type: ignore[arg-type]
        "render: extra_templates: expected a folder (str or Path) or a sequence of them, not int"
    )


@pytest.mark.parametrize(
    ("options", "kind", "message"),
    [
        ({"templates": 123}, TypeError, "templates: expected a folder (str or Path) or a sequence of them, not int"),
        ({"templates": [1]}, TypeError, "templates: expected a folder (str or Path) or a sequence of them, not list"),
        ({"logo_from": 5}, TypeError, "logo_from: expected a folder (str or Path) or a sequence of them, not int"),
        ({"pdf": "yes"}, TypeError, "pdf: expected True or False, not str"),
        ({"language": "fr"}, ValueError, "language: expected one of en, de, found 'fr'"),
        ({"decimals": True}, ValueError, "decimals: expected a whole number from 0 to 12, found True"),
        ({"timeout": True}, TypeError, "timeout: expected seconds, not bool"),
    ],
)
def test_options_are_checked_when_made(options: dict[str, Any], kind: type[Exception], message: str) -> None:
    assert raised(lambda: derive.Options(**options), kind) == message


def test_options_take_one_folder_as_a_str() -> None:
    options = derive.Options(templates="mine", logo_from="logos")
    assert (options.templates, options.logo_from) == ((Path("mine"),), (Path("logos"),))


# Names: the stem of every output file, never a path.


@pytest.mark.parametrize("name", ["../x", "a/b", "a\\b", "", ".hidden", " lead", "x" * 101, "tab\tname", "semi;colon"])
def test_a_name_that_could_leave_the_output_folder_is_refused(name: str) -> None:
    assert raised(lambda: derive.parse_spec("", name=name)) == f"spec: name: {name!r} {NAME_RULE}"


@pytest.mark.parametrize("name", ["sheet", "my sheet", "Übung 3 (Lösung)", "week_2.v1", "3b", "x" * 100])
def test_a_name_of_letters_digits_and_spaces_is_taken(name: str) -> None:
    assert derive.check(replace(EXAMPLE, name=name)).name == name


def test_a_spec_file_whose_name_cannot_name_the_outputs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sheet;3.toml"
    path.write_text("", encoding="utf-8")
    assert raised(lambda: derive.load_spec(path)) == f"{path}: 'sheet;3' {NAME_RULE}; rename the spec file"


def test_a_model_renamed_out_of_the_output_folder_writes_nothing(tmp_path: Path) -> None:
    options = derive.Options(output_dir=tmp_path / "out", pdf=False)
    message = raised(lambda: derive.build_sheet(replace(EXAMPLE, name="../escaped"), options))
    assert message == f"spec: name: '../escaped' {NAME_RULE}"
    assert list(tmp_path.iterdir()) == []


def test_the_files_written_are_checked_again() -> None:
    assert raised(lambda: confined({"x.tex": b"", "../x.tex": b""})) == (
        "spec: name: '../x.tex' would be written outside the output folder"
    )
    assert raised(lambda: confined({"/tmp/x.tex": b""})) == (
        "spec: name: '/tmp/x.tex' would be written outside the output folder"
    )


# A model built or changed in Python is checked as the reader checks a spec file.


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            layer(1, weights=((1, -1), (2,))),
            "network.layers[1].weights[2]: shape mismatch: layer 1 reads 2 values, so W needs 2 columns; found 1",
        ),
        (
            layer(1, weights=((1, -1, 3), (2, 1, 3))),
            "network.layers[1].weights[1]: shape mismatch: layer 1 reads 2 values, so W needs 2 columns; found 3",
        ),
        (layer(1, weights=()), "network.layers[1].weights: expected a matrix (a tuple of rows), found tuple ()"),
        (
            layer(2, weights=((1, -1, 0),)),
            "network.layers[2].weights[1]: shape mismatch: layer 2 reads 2 values, so W needs 2 columns; found 3",
        ),
        (layer(1, bias=(0,)), "network.layers[1].bias: shape mismatch: W is 2x2, so b needs 2 entries; found 1"),
        (layer(1, weights=((0.5, -1), (2, 1))), f"network.layers[1].weights[1][1]: {EXACT}; found float 0.5"),
        (
            layer(1, weights=((sp.Float(0.5), -1), (2, 1))),
            f"network.layers[1].weights[1][1]: {EXACT}; found Float 0.500000000000000",
        ),
        (layer(1, weights=((sp.sqrt(2), -1), (2, 1))), f"network.layers[1].weights[1][1]: {EXACT}; found Pow sqrt(2)"),
        (
            layer(1, weights=((True, -1), (2, 1))),
            "network.layers[1].weights[1][1]: expected a number, found a boolean (true)",
        ),
        (layer(1, weights=(("1/0", -1), (2, 1))), "network.layers[1].weights[1][1]: zero denominator in '1/0'"),
        (
            layer(1, bias=(sp.Integer(10) ** 31, 0)),
            f"network.layers[1].bias[1]: {10**31} is out of range: numbers are 0 or from 10^-30 to 10^30 in size",
        ),
        (
            layer(1, bias=(Fraction(1, 10**13), 0)),
            "network.layers[1].bias[1]: the denominator of 1/10000000000000 is beyond 10^12",
        ),
        (
            layer(1, activation="sigmoid"),
            "network.layers[1].activation: expected a derive.catalog Activation, found the string 'sigmoid'",
        ),
        (layer(1, reads=(2,)), "network.layers[1].reads: expected 0 (the input x) or layers from 1 to 0; found (2,)"),
        (
            layer(1, has_bias=False, bias=(1, 0)),
            "network.layers[1].bias: a layer without a bias (has_bias false) adds 0 to every unit",
        ),
        (
            replace(EXAMPLE, network=replace(EXAMPLE.network, layers=())),
            "network.layers: expected a non-empty tuple of layers, found tuple ()",
        ),
        (
            replace(EXAMPLE, network=replace(EXAMPLE.network, inputs=3)),
            "network.layers[1].weights[1]: shape mismatch: layer 1 reads 3 values, so W needs 3 columns; found 2",
        ),
        (
            part(1, sample=replace(EXAMPLE.parts[0].sample, x=(1,))),
            "parts[1].x: shape mismatch: the network takes 2 inputs; found 1",
        ),
        (
            part(1, sample=replace(EXAMPLE.parts[0].sample, y=(1, 0))),
            "parts[1].y: shape mismatch: the network has 1 outputs; found 2",
        ),
        (part(4, sample_of=20), "parts[4].use_sample_of: expected a whole number from 1 to 3, found 20"),
        (part(4, sample=None), "parts[4].use_sample_of: the part's sample is not part 3's, which it says it uses"),
        (part(12, sample_of=11), "parts[12].use_sample_of: part 11 has no input sample to share"),
        (part(1, sample=None), "parts[1].x: missing: a part of kind 'forward' needs an input sample"),
        (part(1, sample_of=1), "parts[1].use_sample_of: part 1 has no earlier part to take its sample from"),
        (part(11, sample=EXAMPLE.parts[0].sample), "parts[11].x: a part of kind 'mse_vs_ce' takes no input sample"),
        (part(2, number=7), "parts[2].number: parts are numbered 1, 2, … in order: expected 2, found 7"),
        (part(2, decimals=13), "parts[2].decimals: expected a whole number from 0 to 12, found 13"),
        (
            part(2, title="a\x00b"),
            "parts[2].title: a control character U+0000 (unnamed) cannot be typeset; "
            "use Latin letters (accents included), Greek letters or common punctuation",
        ),
        (replace(EXAMPLE, parts=()), "parts: expected a non-empty tuple of parts, found tuple ()"),
        (
            replace(EXAMPLE, network=None),
            "parts[1].kind: a part of kind 'forward' works on a network: the spec needs a [network] section",
        ),
        (
            replace(EXAMPLE, loss="squared_error"),
            "loss: expected a derive.catalog.losses.Loss, found the string 'squared_error'",
        ),
        (
            replace(EXAMPLE, sheet=replace(EXAMPLE.sheet, decimals=13)),
            "sheet.decimals: expected a whole number from 0 to 12, found 13",
        ),
        (
            replace(EXAMPLE, sheet=replace(EXAMPLE.sheet, language="fr")),
            "sheet.language: expected one of 'en', 'de'; found 'fr'",
        ),
        (
            replace(EXAMPLE, sheet=replace(EXAMPLE.sheet, logo="crest.png")),
            "sheet.logo: expected an absolute path (the reader makes it so); found 'crest.png'",
        ),
        (replace(EXAMPLE, sheet=None), "sheet: expected a derive.exercise.model.Sheet, found NoneType None"),
    ],
)
def test_a_model_built_in_python_is_checked_as_a_spec_file(spec: Spec, message: str) -> None:
    assert raised(lambda: derive.solve(spec)) == f"spec: {message}"
    assert raised(lambda: derive.check(spec)) == f"spec: {message}"


def test_a_model_with_python_numbers_is_made_exact() -> None:
    """ints, Fractions and strings such as "1/2" are what the reader makes of a TOML spec: exact rationals."""
    given = layer(1, weights=((2, "-1"), (Fraction(4, 2), 1)), bias=("0", 0))  # w^(1)_{1,1}: 1 → 2
    checked = derive.check(given)
    two, one = sp.Integer(2), sp.Integer(1)
    assert checked.network.layers[0].weights == ((two, -one), (two, one))
    assert all(isinstance(w, sp.Integer) for row in checked.network.layers[0].weights for w in row)
    assert all(isinstance(b, sp.Integer) for b in checked.network.layers[0].bias)
    typed = layer(1, weights=((two, -one), (two, one)), bias=(sp.Integer(0), sp.Integer(0)))
    assert derive.check(typed) is typed  # already exact: the very same model
    solution, reference = derive.solve(given), derive.solve(typed)
    for key in ("p1.L", "p4.dL/dw1[1,1]", "p5.w2_new[1,1]"):
        assert solution[key].exact == reference[key].exact
        assert decimal(solution[key].approx, 6) == decimal(reference[key].approx, 6)


def test_a_spec_from_the_reader_passes_the_check_unchanged() -> None:
    assert derive.check(EXAMPLE) is EXAMPLE
