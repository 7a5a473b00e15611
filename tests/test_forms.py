"""Forms a TA would write: closed forms as short as SymPy's simplify makes them, sums with their signs,
the loss summed over its outputs, one title, and no target named twice."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.exercise.model import Spec
from derive.exercise.reader import example_path
from derive.maths.steps import Solution
from derive.pipeline import Options, build_sheet
from derive.terms.symbols import Mean
from derive.tex.printer import exact_text, is_exact
from tests.sheets import single

FOLDER = Path(__file__).parent.parent / "examples"
EXAMPLES = [*single(sorted(FOLDER.glob("*.toml"))), example_path()]

SOFTMAX_AFTER_SIGMOID = """
[network]
inputs = 1

[[network.layers]]
weights = [[1]]
bias = [0]
activation = "sigmoid"

[[network.layers]]
weights = [[1], [0]]
bias = ["1/2", 0]
activation = "softmax"

[loss]
name = "categorical_cross_entropy"

[[parts]]
kind = "gradients"
x = [1]
y = 1
"""
"""A softmax over e raised to sigmoids: ḡ = ŷ_1 ∂L/∂ŷ_1 is e^{a} e^{-a} with a sum a, exactly -1."""


def sheets(spec: Spec | Path, folder: Path) -> dict[str, str]:
    built = build_sheet(spec, Options(output_dir=folder, pdf=False))
    name = built.solution.spec.name
    return {kind: (folder / f"{name}-{kind}.tex").read_text(encoding="utf-8") for kind in ("exercise", "solution")}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_no_printed_closed_form_is_twice_as_long_as_simplify_makes_it(path: Path) -> None:
    # Measured in the LaTeX the sheet prints (what a student reads and copies): a count of SymPy's
    # operations would miss the brackets, fraction bars and long numbers that make a form long.
    solution = derive.solve(derive.load_spec(path))
    seen: set[sp.Expr] = set()
    for q in solution.quantities():
        value = q.exact
        if value in seen:  # δ and ∂L/∂b, a value and its copy in the next part: simplified once
            continue
        seen.add(value)
        text = exact_text(value) if is_exact(value) and not value.is_Rational else None
        if text is None or len(text) < 16:  # a rational, a decimal, or too short to halve
            continue
        simplest = exact_text(sp.simplify(value)) or ""
        assert not simplest or 2 * len(simplest) > len(text), f"{q.key}: {text} is {simplest}"


def test_a_value_that_is_minus_one_prints_as_minus_one(tmp_path: Path) -> None:
    spec = derive.parse_spec(SOFTMAX_AFTER_SIGMOID, name="softmax")
    solution: Solution = derive.solve(spec)
    (mean,) = (q for q in solution.quantities() if isinstance(q.symbol, Mean))
    assert mean.exact == -1 and mean.exact.is_Integer
    assert r"\bar{g}^{(2)} & = -1" in sheets(spec, tmp_path)["solution"]


def test_a_sum_writes_a_negated_term_with_its_sign(tmp_path: Path) -> None:
    solution = sheets(FOLDER / "softmax_cross_entropy.toml", tmp_path)["solution"]
    assert r"L & = -y_{1} \, \log\left(\hat{y}_{1}\right) - y_{2} \, \log\left(\hat{y}_{2}\right) - y_{3}" in solution
    assert r"+ -" not in solution


def test_the_title_block_names_the_sheet_once(tmp_path: Path) -> None:
    exercise = sheets(example_path(), tmp_path)["exercise"]
    title_block = exercise[exercise.index(r"\begin{center}") : exercise.index(r"\end{center}")]
    assert title_block.lower().count("exercise sheet") == 1


def test_a_loss_sums_over_several_outputs_and_names_the_target_once(tmp_path: Path) -> None:
    # notation_custom_names: two outputs o_1, o_2, the target written "target", ½ squared error.
    exercise = sheets(FOLDER / "notation_custom_names.toml", tmp_path)["exercise"]
    assert r"E(o, \mathrm{target}) = \tfrac{1}{2} \sum_{j=1}^{2} (o_j - \mathrm{target}_j)^2" in exercise
    assert r"target \(\mathrm{target}\)" not in exercise


def test_a_loss_of_one_output_has_no_sum(tmp_path: Path) -> None:
    exercise = sheets(FOLDER / "loss_half_squared_error.toml", tmp_path)["exercise"]
    assert r"L(\hat{y}, y) = \tfrac{1}{2}(\hat{y} - y)^2" in exercise


TYPED = """
[network]
inputs = 2

[[network.layers]]
weights = [[0.01, -0.2], ["3/4", 1]]
bias = [0, "-2/5"]
activation = "sigmoid"

[[network.layers]]
weights = [[1, -1]]
bias = [0.25]
activation = "identity"

[loss]
name = "squared_error"

[[parts]]
kind = "update"
x = [0.5, "-3/4"]
y = 0.6
optimizer = { name = "adam", beta1 = "9/10" }
learning_rate = 0.01
"""
"""Givens typed as decimals (0.01, -0.2 and 0.25 in the network, 0.5 and 0.6 in the sample, the rate
0.01), as fractions ("3/4", "-2/5", "-3/4", β_1 = "9/10"), and Adam's defaults β_2 and ε left out."""


def test_givens_print_as_typed_on_both_sheets(tmp_path: Path) -> None:
    spec = derive.parse_spec(TYPED, name="typed")
    for kind, text in sheets(spec, tmp_path).items():
        matrix = r"W^{(1)} = \begin{pmatrix} 0.01 & -0.2 \\ \frac{3}{4} & 1 \end{pmatrix}"
        assert matrix in text, kind
        assert r"b^{(1)} = \begin{pmatrix} 0 \\ - \frac{2}{5} \end{pmatrix}" in text, kind
        assert r"b^{(2)} = 0.25" in text, kind
        # the sample and the rate, in the question (the solution repeats it)
        assert r"x = (0.5, - 3 / 4)^{\top}" in text and r"y = 0.6" in text, kind
        assert r"\alpha = 0.01" in text, kind
        # Adam's hyperparameters, one form on both sheets: as typed, the catalogue's as decimals
        assert r"\beta_2 = 0.999" in text and r"\varepsilon = 10^{-8}" in text, kind
    solution = (tmp_path / "typed-solution.tex").read_text(encoding="utf-8")
    assert r"\frac{1}{100000000}" not in solution and r"\frac{999}{1000}" not in solution
    assert r"\beta_1 = \frac{9}{10}" in solution  # typed as a fraction: the same form, displayed
    assert r"0.01 \cdot 0.5 + \left(-0.2\right) \cdot \left(- \frac{3}{4}\right)" in solution  # substituted as typed


def test_one_form_per_hyperparameter_in_the_adam_example(tmp_path: Path) -> None:
    texts = sheets(FOLDER / "optimizer_adam.toml", tmp_path)
    for text in texts.values():
        assert r"\varepsilon = 10^{-8}" in text and r"\beta_1 = 0.9" in text
        assert r"\frac{1}{100000000}" not in text and r"\frac{9}{10}" not in text


@pytest.mark.parametrize("z", ["1/2", "-3/4", "5/7", "2", "-1/12"])
@pytest.mark.parametrize("y", [0, 1])
def test_a_sigmoid_output_minus_its_target_is_brought_to_one_fraction_no_longer_than_simplify_makes_it(
    z: str, y: int
) -> None:
    # The cross-entropy part's p − y at a sample (SymPy's simplify is the oracle, and costs 100 times more).
    from derive.terms.simplest import one_fraction, size

    value = 1 / (1 + sp.exp(-sp.Rational(z))) - y
    form = one_fraction(value)
    assert form is not None and sp.simplify(form - value) == 0
    assert size(form) <= size(sp.simplify(value)) and sp.together(form) == form  # one fraction, no shorter one


def test_a_value_that_is_no_fraction_in_a_power_of_e_is_left_to_simplify() -> None:
    from derive.terms.simplest import one_fraction

    z = 1 / (1 + sp.exp(-sp.Rational(1, 3)))  # e raised to a sigmoid's output: not rational in any e^{1/L}
    assert one_fraction(1 / (1 + sp.exp(-z))) is None
    assert one_fraction(sp.exp(sp.Rational(100))) is None  # degree 100: past what is worked with
    assert one_fraction(sp.sqrt(2) + 1) is None


def test_a_sum_of_sigmoids_no_form_can_shorten_is_kept_without_printing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # z of a wide layer's unit: eight sigmoids over one denominator would be a degree-60 polynomial;
    # the polynomials' terms rule every form out, so the value stands and no LaTeX is made to compare.
    from derive.terms import simplest

    weights = [-7, 3, -2, 3, 6, 3, 6, 9]
    value = sp.Add(*(sp.Rational(w, 10) / (1 + sp.exp(-sp.Rational(k, 10))) for k, w in enumerate(weights, 1)))

    def refused(expr: sp.Expr) -> str:
        raise AssertionError("printed")

    monkeypatch.setattr(simplest._LATEX, "doprint", refused)
    assert simplest.simplest.__wrapped__(value) is value
