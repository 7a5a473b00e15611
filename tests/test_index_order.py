"""Weights indexed from input to unit (``index_order = "from_to"``): the sheet's W is derive's
transposed, every W is written with that in mind, every entry's indices swap, the numbers stay."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import derive
from derive.exercise.notation import Notation
from derive.pipeline import Options, build_sheet
from derive.terms.formula import Product, Tensor
from derive.terms.symbols import LOSS, Block, Partial, Stat, Sym, Updated, weight_shaped
from derive.tex.layout import matrix
from derive.tex.naming import Look
from derive.tex.printer import Printer, exact_text
from derive.tex.style import Style
from tests.sheets import single
from tests.test_cli import text_of
from tests.test_spec import refusal

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "index_order_from_to.toml"
FROM_TO = Printer({"look": Look(Notation(from_to=True))})


def test_every_w_is_transposed_and_every_entry_swapped() -> None:
    cases = {
        Product((Tensor(Sym("W", 1)), Tensor(Sym("x")))): r"W^{(1)\top} \, x",  # z = Wᵀx: a row per input
        Product((Tensor(Sym("W", 2), transpose=True), Tensor(Sym("delta", 2)))): r"W^{(2)} \, \delta^{(2)}",  # step 5
        Tensor(Updated(Sym("W", 1), 4)): r"W^{[4](1)\top}",
        Updated(Sym("w", 2, (1, 2))): "w'^{(2)}_{2,1}",  # to unit 1 from input 2 = from input 2 to unit 1
        Sym("w", "l", ("j", "k")): "w^{(l)}_{k,j}",
        # A block of W's columns that step 5 transposes is a block of the sheet's rows.
        Tensor(Block(Sym("W", 3), Sym("a", 1)), transpose=True): "W^{(3)}_{a^{(1)}}",
        Sym("W"): "W",  # the name alone, with no layer: nothing to transpose
    }
    for node, written in cases.items():
        assert FROM_TO.formula(node) == written, node
    both = Printer({"look": Look(Notation(from_to=True, bias_as_weight=True))})
    assert (both.symbol(Sym("b", 1, (2,))), both.symbol(Sym("b", 1))) == ("w^{(1)}_{0,2}", r"w^{(1)}_{0,\cdot}")


def test_weight_shaped_symbols_are_those_a_listing_shows_transposed() -> None:
    W = Sym("W", 1)
    for symbol in (W, Updated(W), Partial(LOSS, W), Stat("m", W, 1)):
        assert weight_shaped(symbol)
        # The sheet's own W, as the sheet lists it: what the standard order writes for derive's.
        assert FROM_TO.symbol(symbol, oriented=True) == Printer().symbol(symbol)
        assert FROM_TO.symbol(symbol) != Printer().symbol(symbol)
    for symbol in (Sym("b", 1), Sym("a", 1), Partial(LOSS, Sym("a", 1)), Sym("w", 1, (1, 2))):
        assert not weight_shaped(symbol)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    ours, standard = tmp_path_factory.mktemp("from_to"), tmp_path_factory.mktemp("to_from")
    build_sheet(derive.load_spec(EXAMPLE), Options(output_dir=ours))
    text = EXAMPLE.read_text().replace('index_order = "from_to"', "")
    build_sheet(derive.parse_spec(text, name="index_order_from_to"), Options(output_dir=standard, pdf=False))
    return ours, standard


def test_the_numbers_and_keys_are_the_standard_orders(built: tuple[Path, Path]) -> None:
    ours, standard = built
    mine = json.loads((ours / "index_order_from_to-answers.json").read_text())["quantities"]
    theirs = json.loads((standard / "index_order_from_to-answers.json").read_text())["quantities"]
    assert [(q["name"], q["exact"]) for q in mine] == [(q["name"], q["exact"]) for q in theirs]
    symbols = {q["name"]: q["symbol"] for q in mine}
    assert symbols["w1[1,2]"] == "w^{(1)}_{2,1}"  # the spec's row 1, column 2: from input 2 to unit 1
    assert symbols["p2.dL/dw2[1,2]"] == r"\frac{\partial L}{\partial w^{(2)}_{2,1}}"


def _line(tex: str, start: str) -> str:
    return next(line for line in tex.splitlines() if line.startswith(start))


def test_the_sheet_reads_in_its_convention(built: tuple[Path, Path]) -> None:
    ours, _ = built
    tex = (ours / "index_order_from_to-solution.tex").read_text()
    body = tex[tex.index(r"\begin{document}") :]
    assert r"g(x) = W^{(2)\top} \, \sigma\left(W^{(1)\top} \, x + b^{(1)}\right) + b^{(2)}" in body
    # The given W^{(1)} is the spec's weights transposed: a row per input.
    spec = derive.load_spec(EXAMPLE)
    printer = Style.of(spec.sheet).printer()  # a weight typed as a decimal (0.5) is written as typed
    columns = zip(*spec.network.layers[0].weights, strict=True)
    rows = [[printer.written(v) or exact_text(v) or "" for v in column] for column in columns]
    assert f"W^{{(1)}} = {matrix(rows)}" in body
    # z_j sums w_{k,j} x_k: the first index is the input.
    assert _line(body, "z^{(1)}_{1} & = ").startswith(
        r"z^{(1)}_{1} & = w^{(1)}_{1,1} \, x_{1} + w^{(1)}_{2,1} \, x_{2}"
    )
    assert r"\frac{\partial L}{\partial W^{(2)}} &= a^{(1)} \, \delta^{(2)\top}" in body  # a δᵀ, not δ aᵀ
    assert r"\frac{\partial L}{\partial a^{(1)}} &= W^{(2)} \, \delta^{(2)}" in body  # step 5: W δ
    assert r"\frac{\partial L}{\partial W^{(1)}} = x \, \left(W^{(2)} \, " in body  # the written-out chain
    assert r"W'^{(1)} &= W^{(1)} - \alpha \, \frac{\partial L}{\partial W^{(1)}}" in body
    # The updated entries are listed row by row of the sheet's W.
    order = re.findall(r"^w'\^\{\(1\)\}_\{(\d,\d)\} & = w", body, flags=re.M)
    assert order == ["1,1", "1,2", "2,1", "2,2"]
    text = " ".join(text_of(ours / "index_order_from_to-solution.pdf").split())
    assert "The weights are indexed from input" in text and "connects input i to unit j" in text


@pytest.mark.parametrize("path", single(sorted((ROOT / "examples").glob("*.toml"))), ids=lambda p: p.stem)
def test_every_example_reads_with_weights_from_input_to_unit(path: Path) -> None:
    text = path.read_text()
    if 'style = "neuron"' in text or 'style = "through"' in text or "index_order" in text:
        pytest.skip("numbered weights have no index order; or already from_to")
    text = (
        text.replace("[notation]\n", '[notation]\nindex_order = "from_to"\n')
        if "[notation]" in text
        else text + '\n[notation]\nindex_order = "from_to"\n'
    )
    documents = derive.render(derive.solve(derive.parse_spec(text, name=path.stem)))
    for document in (documents.solution, documents.exercise):
        assert not re.search(r"\^\{[^{}]*\}(\^|')", document)  # no double superscript


@pytest.mark.parametrize("name", ["skip_connections", "bias_as_weight", "sheet_german"])
def test_sheets_with_weights_from_input_to_unit_compile(name: str, tmp_path: Path) -> None:
    text = (ROOT / "examples" / f"{name}.toml").read_text()
    text = (
        text.replace("[notation]\n", '[notation]\nindex_order = "from_to"\n')
        if "[notation]" in text
        else text + '\n[notation]\nindex_order = "from_to"\n'
    )
    build_sheet(derive.parse_spec(text, name=name), Options(output_dir=tmp_path))
    solution = " ".join(text_of(tmp_path / f"{name}-solution.pdf").split())
    assert ("connects input i to unit j" in solution) or ("verbindet Eingang i mit Neuron j" in solution)


@pytest.mark.parametrize(
    ("notation", "message"),
    [
        (
            'style = "neuron"\nindex_order = "from_to"\n',
            'notation.index_order: not with style = "neuron": each weight has one number there',
        ),
        ('index_order = "ij"\n', "notation.index_order: unknown index order 'ij'; valid: to_from, from_to"),
    ],
)
def test_what_index_order_refuses_is_one_line(notation: str, message: str) -> None:
    network_and_parts = "[network]" + EXAMPLE.read_text().split("[network]", 1)[1]
    assert message in refusal(f"[notation]\n{notation}{network_and_parts}")
