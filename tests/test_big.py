"""Every spec inside the documented limits builds, PDFs included: layers wider than amsmath's 10
matrix columns, a hundred layers deep, and the shapes at the 200-parameter limit (the whole family
only under the long fuzz profile, ``DERIVE_FUZZ_EXAMPLES`` ≥ 5000: each is a TeX build)."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import derive
from derive.build.stages import MAX_SHEET_PARAMETERS
from derive.maths.general import chain_rule
from derive.maths.steps import ChainRule
from derive.render.context import MAX_NESTED, network_context, sheet_context
from derive.render.diagram import MAX_DRAWN_LAYERS, shown_columns
from derive.render.step_context import CONTINUED, LINE_WIDTH, MAX_CHAIN, step_context
from derive.tex.layout import MAX_COLUMNS, MAX_ROWS, bracketed, whole, width
from derive.tex.style import Style

LONG = int(os.environ.get("DERIVE_FUZZ_EXAMPLES", "500")) >= 5000


def numbers(count: int, start: int) -> list[str]:
    """``count`` distinct decimals from 0.``start`` on, each one a reader can find in the PDF's text
    (0.101, 0.102, …, 0.109, 0.111: no trailing zero, which the sheet would not print)."""
    return [f"0.{m:03d}" for m in range(start, 1000) if m % 10][:count]


def shape(
    widths: list[int],
    activations: list[str],
    loss: str = "squared_error",
    bias: str = "vector",
    parts: str = "sample",
) -> str:
    """A spec of dense layers of these widths (inputs first), every weight a distinct decimal; its
    parts forward, gradients and a step (``parts="batch"``: a batch of 8 samples instead)."""
    lines = ['[sheet]\ntitle = "Shape"\ndecimals = 4\n', f"[network]\ninputs = {widths[0]}\n"]
    start = 101
    for l in range(1, len(widths)):
        units, inputs = widths[l], widths[l - 1]
        values = numbers(units * inputs, start)
        start = int(values[-1][2:]) + 1
        rows = ", ".join("[" + ", ".join(values[j * inputs : (j + 1) * inputs]) + "]" for j in range(units))
        given = '"none"' if bias == "none" else "[" + ", ".join(["0"] * units) + "]"
        lines.append(f'[[network.layers]]\nweights = [{rows}]\nbias = {given}\nactivation = "{activations[l - 1]}"\n')
    lines.append(f'[loss]\nname = "{loss}"\n')
    outputs = widths[-1]

    def sample(n: int) -> str:
        x = "[" + ", ".join(str((k + n) % 3 - 1) for k in range(widths[0])) + "]"
        y = "1" if loss == "categorical_cross_entropy" else "[" + ", ".join(["1"] + ["0"] * (outputs - 1)) + "]"
        return f"x = {x}\ny = {y}"

    if parts == "batch":
        samples = ", ".join("{ " + sample(n).replace("\n", ", ") + " }" for n in range(8))
        lines.append(f'[[parts]]\nkind = "batch"\nsamples = [{samples}]\nlearning_rate = "1/10"\n')
    else:
        lines.append(f'[[parts]]\nkind = "forward"\n{sample(0)}\n')
        lines.append('[[parts]]\nkind = "gradients"\nuse_sample_of = 1\n')
        lines.append('[[parts]]\nkind = "update"\nuse_sample_of = 1\nlearning_rate = "1/10"\n')
    return "\n".join(lines)


def deep(depth: int) -> str:
    """``depth`` layers of one unit: sigmoid hidden layers, an identity output."""
    return shape([1] * (depth + 1), ["sigmoid"] * (depth - 1) + ["identity"])


def build(text: str, folder: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The CLI's full build (PDFs included), bounded: a hang fails the test instead of stalling it."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "s.toml"
    spec.write_text(text)
    out = folder / "out"
    run = subprocess.run(
        [sys.executable, "-m", "derive", "sheet", str(spec), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return run, out


def text_of(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return unicodedata.normalize("NFC", out)


def assert_built(run: subprocess.CompletedProcess[str], out: Path) -> None:
    """Exit 0, both PDFs, and no line in the margin (derive warns of any over 1 pt)."""
    assert run.returncode == 0, run.stderr
    assert "warning" not in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert (out / "s-exercise.pdf").is_file() and (out / "s-solution.pdf").is_file()


def pmatrix_columns(tex: str) -> list[int]:
    """The columns of every matrix a .tex writes whole."""
    bodies = re.findall(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}", tex)
    return [max(row.count("&") + 1 for row in body.split(r"\\")) for body in bodies]


# --- fast: what the sheet's layout decides, without TeX ---------------------------------------


def test_a_long_sum_in_one_bracket_may_break_inside_it() -> None:
    assert bracketed(r"\frac{1}{8} \cdot \left(a + \left(-b\right) + c\right)") == (
        r"\frac{1}{8} \cdot ",
        r"a + \left(-b\right) + c",
    )
    assert bracketed(r"\left(a\right) + \left(b\right)") is None  # a sum: it breaks between its terms
    assert bracketed("x") is None


def test_a_softmax_of_twelve_classes_breaks_inside_its_denominator() -> None:
    spec = derive.parse_spec(shape([2, 12], ["softmax"], loss="categorical_cross_entropy"))
    context = sheet_context(derive.solve(spec), Style.of(spec.sheet))
    steps = [s for section in context["parts"][0]["sections"] for s in section["steps"] if s["type"] == "compute"]
    rows = [row for step in steps for row in step["rows"]]
    first = next(i for i, row in enumerate(rows) if str(row["left"]) == r"\hat{y}_{1}")
    # ŷ_1 = e^{z_1} / (e^{z_1} + … + e^{z_6} and on the next line + e^{z_7} + … + e^{z_12}).
    opening = str(rows[first]["segments"][0][1])
    going_on = str(rows[first + 1]["segments"][0][1])
    assert opening.startswith(r"e^{z^{(1)}_{1}} \big/ \left(e^{z^{(1)}_{1}} + ") and opening.endswith(r"\right.")
    assert going_on.startswith(r"\left. {} + ") and going_on.endswith(r"e^{z^{(1)}_{12}} \right)")
    assert all(width(str(text)) <= LINE_WIDTH + CONTINUED for row in rows for _, text in row["segments"])


def test_a_matrix_too_wide_or_too_long_is_not_written_whole() -> None:
    assert whole([["1"] * MAX_COLUMNS] * MAX_ROWS)
    assert not whole([["1"] * (MAX_COLUMNS + 1)])
    assert not whole([["1"]] * (MAX_ROWS + 1))
    # A line around such a matrix is never built: it counts as wider than any line.
    row = r"\begin{pmatrix} " + " & ".join(["1"] * 12) + r" \end{pmatrix}"
    assert width(row) > 200


def test_a_wide_layer_is_listed_entry_by_entry() -> None:
    spec = derive.parse_spec(shape([12, 1], ["sigmoid"]))
    context = sheet_context(derive.solve(spec), Style.of(spec.sheet))
    symbols = [str(g["symbol"]) for g in context["givens"]]
    # The weights one by one (w^{(1)}_{1,1} … w^{(1)}_{1,12}), then the bias (one number).
    assert symbols[:12] == [f"w^{{(1)}}_{{1,{k}}}" for k in range(1, 13)]
    assert [str(g["value"]) for g in context["givens"][:12]] == numbers(12, 101)
    assert all(columns <= MAX_COLUMNS for columns in pmatrix_columns(str(context)))


def test_a_small_matrix_of_closed_forms_recalled_as_decimals_stays_one_matrix() -> None:
    # The merge found it: a recalled 2×2 gradient of tanh closed forms was measured by its long exact
    # entries, though a listing prints their decimals, and came out entry by entry.
    from derive.exercise.reader import example_path

    spec = derive.load_spec(example_path().parent.parent.parent / "examples" / "activation_tanh.toml")
    solution = derive.render(derive.solve(spec), 4).solution
    recalled = solution[solution.index(r"\section*{Part 3}") :]
    assert re.search(r"\\frac\{\\partial L\}\{\\partial W\^\{\(1\)\}\} \\approx \\begin\{pmatrix\}", recalled)
    assert r"\partial w^{(1)}_{1,1}} \approx -0.0420" not in recalled


def test_a_deep_network_is_written_layer_by_layer_with_one_line_for_its_alike_layers() -> None:
    depth = 100
    spec = derive.parse_spec(deep(depth))
    context = network_context(spec.net, spec, Style.of(spec.sheet).printer(spec.network))
    assert depth > MAX_NESTED
    assert [str(d["range"]) for d in context["definitions"]] == ["", rf"l = 2, \dots, {depth - 1}"]
    assert str(context["formula"]) == rf"W^{{({depth})}} \, a^{{({depth - 1})}} + b^{{({depth})}}"
    assert [(r["layer"]["number"], r["last"]) for r in context["runs"]] == [(1, depth - 1), (depth, depth)]


def test_a_deep_chain_rule_keeps_its_last_factors() -> None:
    spec = derive.parse_spec(deep(30))
    rule = chain_rule(spec.network, 1, "w")
    assert len(rule.factors) > MAX_CHAIN
    shown = step_context(ChainRule(rule.target, rule.factors), Style.of(spec.sheet).printer(spec.network))
    factors = str(shown["product"]).split(r" \, ")
    assert len(factors) == MAX_CHAIN - 1
    # ∂L/∂ŷ ∂ŷ/∂z^{(30)} … ∂z^{(3)}/∂a^{(2)} multiply to ∂L/∂z^{(3)}: the chain goes on from there.
    assert factors[0] == r"\frac{\partial L}{\partial z^{(3)}}"
    assert factors[-1] == r"\frac{\partial z^{(1)}}{\partial w^{(1)}_{j,k}}"


def test_a_deep_drawing_leaves_out_the_middle_layers() -> None:
    assert shown_columns(MAX_DRAWN_LAYERS + 1) == list(range(MAX_DRAWN_LAYERS + 1))
    depth = 40
    spec = derive.parse_spec(deep(depth))
    context = sheet_context(derive.solve(spec), Style.of(spec.sheet))["network"]["diagram"]
    across = [n for n in context["nodes"] if n.get("across")]
    assert len(across) == 1
    drawn = {str(n["id"]).split("-")[0] for n in context["nodes"] if not n.get("across")}
    assert int(across[0]["more"]) == depth + 1 - len(drawn)  # every column is drawn or counted
    assert drawn == {"n0", "n1", "n2", "n3", f"n{depth - 1}", f"n{depth}"}


# --- slow: the sheets compiled, read as a student reads them ----------------------------------


def test_a_layer_of_twelve_inputs_builds_and_shows_every_weight(tmp_path: Path) -> None:
    run, out = build(shape([12, 1], ["sigmoid"]), tmp_path)
    assert_built(run, out)
    exercise = text_of(out / "s-exercise.pdf")
    for value in numbers(12, 101):
        assert value in exercise
    solution = (out / "s-solution.tex").read_text()
    assert all(columns <= MAX_COLUMNS for columns in pmatrix_columns(solution))


def test_a_hundred_layers_build(tmp_path: Path) -> None:
    depth = 100
    run, out = build(deep(depth), tmp_path)
    assert_built(run, out)
    # The output against an independent float forward pass of the chain.
    weights = [float(v) for v in numbers(depth, 101)]
    a = 0.0 - 1.0  # x = (0 + 0) % 3 - 1
    for w in weights[:-1]:
        a = 1 / (1 + math.exp(-w * a))
    yhat = weights[-1] * a
    quantities = {q["name"]: q for q in json.loads((out / "s-answers.json").read_text())["quantities"]}
    assert math.isclose(quantities["p1.yhat[1]"]["float"], yhat, rel_tol=1e-12)
    exercise = text_of(out / "s-exercise.pdf")
    assert f"Layers 1 to {depth - 1} each have 1 unit" in exercise
    assert f"{depth + 1 - 6} more layers" in exercise


SHAPES = {
    "199 inputs to 1 unit": shape([199, 1], ["identity"]),
    "1 input to 99 units": shape([1, 99], ["identity"]),
    "14 by 13 without bias": shape([14, 13], ["sigmoid"], bias="none"),
    "14 hidden units": shape([1, 14, 1], ["sigmoid", "identity"]),
    "12 by 12 hidden": shape([12, 12, 1], ["sigmoid", "identity"]),
    "deep and wide": shape([12, 6, *[1] * 15], ["sigmoid"] * 15 + ["identity"]),
    "25 layers": deep(25),
    "50 layers": deep(50),
    "a batch of 8 through 20 layers": shape([1] * 21, ["sigmoid"] * 19 + ["identity"], parts="batch"),
    "a batch of 8 through 12 inputs": shape([12, 1], ["sigmoid"], parts="batch"),
    "12 softmax classes": shape([2, 12], ["softmax"], loss="categorical_cross_entropy"),
}


@pytest.mark.skipif(not LONG, reason="the long fuzz profile: DERIVE_FUZZ_EXAMPLES >= 5000")
@pytest.mark.parametrize("name", SHAPES)
def test_limit_shapes_build(name: str, tmp_path: Path) -> None:
    text = SHAPES[name]
    spec = derive.parse_spec(text)
    count = sum(len(layer.weights) * len(layer.weights[0]) + len(layer.weights) for layer in spec.network.layers)
    assert count <= MAX_SHEET_PARAMETERS
    run, out = build(text, tmp_path)
    assert_built(run, out)
    exercise = text_of(out / "s-exercise.pdf")
    weights = [float(v) for layer in spec.network.layers for row in layer.weights for v in row]
    missing = [w for w in weights if f"{w:.3f}" not in exercise]
    assert not missing


def kinds(depth: int) -> str:
    """A deep chain with the parts that rework the network: an activation replaced, a layer
    inserted near the top, and ReLU against the sigmoid (every ReLU unit dead at x = -1: positive
    weights, no bias, so the last layer has no gradient to compare with)."""
    return (
        deep(depth)
        + '\n[[parts]]\nkind = "replace_activation"\nuse_sample_of = 1\nlayer = 2\nactivation = "tanh"\n'
        + 'learning_rate = "1/10"\n'
        + f'\n[[parts]]\nkind = "extra_layer"\nuse_sample_of = 1\nafter = {depth - 1}\nweights = [[2]]\nbias = [0]\n'
        + '\n[[parts]]\nkind = "compare_activation"\nuse_sample_of = 1\nactivation = "relu"\n'
    )


def test_the_parts_that_rework_a_deep_network_render(tmp_path: Path) -> None:
    depth = 12
    built = derive.build_sheet(derive.parse_spec(kinds(depth)), derive.Options(output_dir=tmp_path, pdf=False))
    assert not built.warnings
    solution = next(tmp_path.glob("*-solution.tex")).read_text()
    # The deeper network nested from its new layer up, at most four layers of it, on a^{(l-1)} below.
    new, total = depth, depth + 1
    bottom = total - 4 + 1
    assert rf"\hat{{y}} = W^{{({total})}} \, " in solution
    assert rf"W^{{({bottom})}} \, a^{{({bottom - 1})}} + b^{{({bottom})}}" in solution
    assert rf"W^{{({bottom - 1})}} \, " not in solution.split("the network now computes")[1].split(r"\]")[0]
    assert new >= bottom


@pytest.mark.skipif(not LONG, reason="the long fuzz profile: DERIVE_FUZZ_EXAMPLES >= 5000")
def test_the_parts_that_rework_a_99_layer_network_build(tmp_path: Path) -> None:
    run, out = build(kinds(99), tmp_path)
    assert_built(run, out)


@pytest.mark.skipif(not LONG, reason="the long fuzz profile: DERIVE_FUZZ_EXAMPLES >= 5000")
def test_no_recursion_grows_with_depth(tmp_path: Path) -> None:
    """99 layers and the parts that rework them, derived and rendered with a quarter of Python's
    default recursion limit: nothing recurses once per layer (formula trees, printer, templates)."""
    spec = derive.parse_spec(kinds(99))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)
    try:
        built = derive.build_sheet(spec, derive.Options(output_dir=tmp_path, pdf=False))
    finally:
        sys.setrecursionlimit(limit)
    assert not built.warnings
