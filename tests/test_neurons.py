"""Scalar neuron notation: the numbering of units, weights and biases, the printer naming each entry
by it, and whole sheets in it (the same numbers as the matrix notation's)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.catalog.activations import SIGMOID
from derive.exercise.model import Layer, Network
from derive.exercise.notation import Notation
from derive.pipeline import Options, build_sheet
from derive.terms.symbols import LOSS, Partial, Sym, Updated
from derive.tex.naming import Look
from derive.tex.neurons import Neurons
from derive.tex.printer import Printer
from tests.sheets import single
from tests.test_cli import text_of
from tests.test_spec import refusal

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "notation_neuron.toml"
MATRIX_TWIN = ROOT / "examples" / "notation_custom_names.toml"
"""The same network, loss and parts in matrix notation."""
LAYER_SUPERSCRIPT = re.compile(r"(?<!\\bar\{g\})\^\{(\[\d+\])?\(\d+\)")
"""A layer superscript, as matrix notation writes it (ḡ^{(l)}, softmax's per-layer sum, keeps its)."""


def network(*shapes: tuple[int, int, str]) -> Network:
    """Layers of (units, inputs, bias kind) with zero weights: only the shapes matter here."""
    zero = sp.Integer(0)
    layers = tuple(
        Layer(
            ((zero,) * inputs,) * units,
            (zero,) * units,
            SIGMOID,
            has_bias=kind != "none",
            shared_bias=kind == "shared",
        )
        for units, inputs, kind in shapes
    )
    return Network(shapes[0][1], layers)


def test_weights_are_numbered_layer_by_layer_row_by_row() -> None:
    n = Neurons.of(network((2, 2, "shared"), (2, 2, "shared")))
    # The well-known example: w1, w2 into h1; w3, w4 into h2; w5 … w8 likewise into o1, o2.
    numbers = [n.weight(l, j, k) for l in (1, 2) for j in (1, 2) for k in (1, 2)]
    assert numbers == list(range(1, 9))
    assert (n.bias(1, 1), n.bias(1, 2), n.bias(2, 2)) == (1, 1, 2)
    assert n.units(1) == ["h_{1}", "h_{2}"] and n.units(2) == ["o_{1}", "o_{2}"]


def test_hidden_units_are_numbered_through_all_hidden_layers_and_biases_in_order() -> None:
    n = Neurons.of(network((3, 2, "units"), (2, 3, "none"), (1, 2, "shared")))
    assert n.units(1) == ["h_{1}", "h_{2}", "h_{3}"] and n.units(2) == ["h_{4}", "h_{5}"] and n.units(3) == ["o"]
    assert list(n.weights(1)) == [1, 2, 3, 4, 5, 6] and list(n.weights(2)) == [7, 8, 9, 10, 11, 12]
    assert n.weight(3, 1, 2) == 14
    assert [n.bias(1, j) for j in (1, 2, 3)] == [1, 2, 3]
    assert n.bias(2, 1) is None and n.bias(3, 1) == 4
    assert Neurons.of(network((1, 2, "units"), (1, 1, "units"))).units(1) == ["h"]


def test_the_printer_names_each_entry_by_its_number_and_keeps_whole_tensors() -> None:
    net = network((2, 2, "shared"), (2, 2, "units"))
    printer = Printer({"look": Look(Notation(neuron=True), Neurons.of(net))})
    cases = {
        Sym("w", 2, (1, 2)): "w_{6}",
        Updated(Sym("w", 1, (2, 1))): "w'_{3}",
        Updated(Sym("w", 2, (2, 2)), 4): "w^{[4]}_{8}",  # the fourth step's value
        Sym("b", 1): "b_{1}",  # shared by layer 1
        Sym("b", 2, (2,)): "b_{3}",
        Sym("z", 1, (2,)): "z_{h_{2}}",
        Sym("delta", 2, (1,)): r"\delta_{o_{1}}",
        Sym("yhat", None, (2,)): "a_{o_{2}}",  # the output is output unit o_2's activation
        Sym("y", None, (1,)): "y_{o_{1}}",
        Partial(LOSS, Sym("a", 1, (1,))): r"\frac{\partial L}{\partial a_{h_{1}}}",
        Sym("W", 1): r"\left(w_{1}, \ldots, w_{4}\right)",
        Sym("b", 2): r"\left(b_{2}, b_{3}\right)",  # a layer's weights or biases as a whole: listed
        # A whole vector of values, a generic entry, a transposed matrix: as matrices write them.
        Sym("z", 1): "z^{(1)}",
        Sym("w", 2, ("j", "k")): "w^{(2)}_{j,k}",
        Sym("yhat"): r"\hat{y}",
    }
    for symbol, written in cases.items():
        assert printer.symbol(symbol) == written, symbol
    assert printer._print_Sym(Sym("W", 2), transpose=True) == r"W^{(2)\top}"
    single = Neurons.of(network((2, 2, "shared"), (1, 2, "shared")))
    alone = Printer({"look": Look(Notation(neuron=True), single)})
    assert alone.symbol(Sym("z", 2)) == "z_{o}"  # one output unit: its index is hidden


def test_biases_as_weights_are_numbered_with_each_units_weights() -> None:
    # Each unit's bias is its first weight (the weight on the constant input 1); a shared bias is one
    # weight, numbered before its layer's first unit.
    n = Neurons.of(network((2, 2, "units"), (1, 2, "shared")), as_weights=True)
    assert [n.bias(1, 1), n.weight(1, 1, 1), n.weight(1, 1, 2), n.bias(1, 2), n.weight(1, 2, 1)] == [1, 2, 3, 4, 5]
    assert (n.bias(2, 1), n.weight(2, 1, 1), n.weight(2, 1, 2)) == (7, 8, 9)
    printer = Printer({"look": Look(Notation(neuron=True, bias_as_weight=True), n)})
    assert printer.symbol(Sym("b", 1, (2,))) == "w_{4}" and printer.symbol(Sym("b", 2)) == "w_{7}"
    assert printer.symbol(Sym("W", 1)) == "w_{2}, w_{3}, w_{5}, w_{6}".join([r"\left(", r"\right)"])


@pytest.fixture(scope="module")
def sheets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    neuron, matrix = tmp_path_factory.mktemp("neuron"), tmp_path_factory.mktemp("matrix")
    build_sheet(derive.load_spec(EXAMPLE), Options(output_dir=neuron))
    build_sheet(derive.load_spec(MATRIX_TWIN), Options(output_dir=matrix, pdf=False))
    return neuron, matrix


def test_both_notations_show_the_same_numbers(sheets: tuple[Path, Path]) -> None:
    neuron, matrix = sheets
    ours = json.loads((neuron / "notation_neuron-answers.json").read_text())
    theirs = json.loads((matrix / "notation_custom_names-answers.json").read_text())
    values = {q["name"]: (q["exact"], q["decimal"]) for q in ours["quantities"]}
    assert values == {q["name"]: (q["exact"], q["decimal"]) for q in theirs["quantities"]}
    symbols = {q["name"]: q["symbol"] for q in ours["quantities"]}
    assert symbols["p2.dL/dw2[1,1]"] == r"\frac{\partial E}{\partial w_{5}}"
    assert symbols["p1.z1[2]"] == r"\mathrm{net}_{h_{2}}"
    assert symbols["p3.w1_new[2,2]"] == "w'_{4}"


def test_a_sheet_in_neuron_notation_reads_unit_by_unit(sheets: tuple[Path, Path]) -> None:
    neuron, _ = sheets
    tex = (neuron / "notation_neuron-solution.tex").read_text()
    body = tex[tex.index(r"\begin{document}") :]
    assert not LAYER_SUPERSCRIPT.search(body), LAYER_SUPERSCRIPT.search(body)
    assert r"\begin{pmatrix}" not in body.split(r"\section*{Part 1}")[0]  # the parameters one by one
    assert r"\mathrm{net}_{h_{1}} &= w_{1} \, i_{1} + w_{2} \, i_{2} + b_{1}" in body  # the network block
    # Step 3 of the output layer, as on the board: ∂E/∂w5 = δ_o1 out_h1.
    assert r"\frac{\partial E}{\partial w_{5}} & = \delta_{o_{1}} \, \mathrm{out}_{h_{1}}" in body
    assert r"shown for \(w_{5}\)" in body  # the chain rule for the layer's first weight
    assert r"w'_{1} & = w_{1} - \alpha \, \frac{\partial E}{\partial w_{1}}" in body
    assert "Written out in matrix form" not in body
    text = " ".join(text_of(neuron / "notation_neuron-solution.pdf").split())
    assert "Unit by unit" in text and "shown for w5" in text
    exercise = (neuron / "notation_neuron-exercise.tex").read_text()
    assert r"every unit's net input \(\mathrm{net}_u\)" in exercise and "w_{8} = " in exercise


@pytest.mark.parametrize("path", single(sorted((ROOT / "examples").glob("*.toml"))), ids=lambda p: p.stem)
def test_every_example_reads_in_neuron_notation(path: Path) -> None:
    text = path.read_text()
    if 'yhat = "o"' in text or "index_order" in text:
        pytest.skip("a notation neuron style refuses (tested below)")
    if "style = " not in text:
        text = (
            text.replace("[notation]\n", '[notation]\nstyle = "neuron"\n')
            if "[notation]" in text
            else (text + '\n[notation]\nstyle = "neuron"\n')
        )
    if "[network]" not in text:  # a sheet of circuits or given gradients: no units to number
        with pytest.raises(derive.SpecError, match="neuron style numbers a network's units: the spec has no"):
            derive.parse_spec(text, name=path.stem)
        return
    spec = derive.parse_spec(text, name=path.stem)
    documents = derive.render(derive.solve(spec))
    for document in (documents.solution, documents.exercise):
        body = document[document.index(r"\begin{document}") :]
        assert not LAYER_SUPERSCRIPT.search(body), LAYER_SUPERSCRIPT.search(body)


def test_german_sheets_in_neuron_notation_compile(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "sheet_german.toml").read_text() + '\n[notation]\nstyle = "neuron"\n'
    spec = derive.parse_spec(text, name="neuronen")
    build_sheet(spec, Options(output_dir=tmp_path))
    text = " ".join(text_of(tmp_path / "neuronen-solution.pdf").split())
    assert "Neuron für Neuron" in text and "hier für" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('style = "neuron"\nx = "h"\n', "notation.x: 'h' is taken"),
        ('style = "neuron"\nyhat = "o"\n', "notation.yhat: 'o' is taken"),
        ('style = "neurons"\n', "notation.style: unknown notation style 'neurons'"),
    ],
)
def test_what_neuron_notation_refuses_is_one_line(change: str, message: str) -> None:
    assert message in refusal(f"[notation]\n{change}" + Path(derive.exercise.reader.example_path()).read_text())


def test_neuron_style_with_biases_as_weights_and_an_inserted_layer(tmp_path: Path) -> None:
    """Refused while notation was rewritten after printing; now the printer numbers what it writes."""
    text = (ROOT / "examples" / "bias_as_weight.toml").read_text()
    text = text.replace("[notation]\n", '[notation]\nstyle = "neuron"\n')
    spec = derive.parse_spec(text, name="neuron_bias")
    build_sheet(spec, Options(output_dir=tmp_path))
    tex = (tmp_path / "neuron_bias-solution.tex").read_text()
    assert "b_{" not in tex and "w_{1} = " in tex  # the first unit's bias is the first weight
    pdf = " ".join(text_of(tmp_path / "neuron_bias-solution.pdf").split())
    assert "before its other weights" in pdf
    seed = '[notation]\nstyle = "neuron"\n' + Path(derive.exercise.reader.example_path()).read_text()
    documents = derive.render(derive.solve(derive.parse_spec(seed, name="seed")))
    extra = documents.solution.split(r"\section*{Part 12")[1]
    # The deeper network's units: two hidden layers of two, h_1 … h_4, before the output o.
    assert "z_{h_{3}}" in extra and "z_{h_{4}}" in extra and not LAYER_SUPERSCRIPT.search(extra)
