"""[notation] error_term and style = "through": the data-mining textbook's backpropagation example
(Han, Kamber & Pei) in its own conventions, its numbers reproduced by an independent NumPy
computation and by PyTorch, and the one-line refusals of what the convention cannot write."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from derive.pipeline import Options, build_sheet, parse_spec
from tests.test_spec import refusal

EXAMPLE = Path(__file__).parent.parent / "examples" / "textbook_err_theta.toml"
W1 = np.array([[0.2, 0.4, -0.5], [-0.3, 0.1, 0.2]])  # into units 4 and 5 from units 1, 2, 3
B1 = np.array([-0.4, 0.2])  # θ_4, θ_5
W2 = np.array([[-0.3, -0.2]])  # into unit 6 from units 4 and 5
B2 = np.array([0.1])  # θ_6
X, T, RATE = np.array([1.0, 0.0, 1.0]), np.array([1.0]), 0.9


def sigmoid(v: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-v)))


def book(outputs: int | None = None, errors: int | None = None) -> dict[str, float]:
    """The book's tables 9.2 to 9.4 computed again: each output, error and new parameter, the outputs
    rounded to ``outputs`` places and the errors to ``errors`` before they are used (as the book's
    tables do), or not at all."""

    def r(v: np.ndarray, places: int | None) -> np.ndarray:
        return v if places is None else np.round(v, places)

    o45 = r(sigmoid(W1 @ X + B1), outputs)
    o6 = r(sigmoid(W2 @ o45 + B2), outputs)
    err6 = r(o6 * (1 - o6) * (T - o6), errors)  # Err_j = O_j(1 − O_j)(T_j − O_j)
    err45 = r(o45 * (1 - o45) * (W2.T @ err6), errors)  # Err_j = O_j(1 − O_j) Σ_k Err_k w_jk
    w2 = W2 + RATE * np.outer(err6, o45)  # w_ij += l · Err_j · O_i
    w1 = W1 + RATE * np.outer(err45, X)
    return {
        "O4": o45[0], "O5": o45[1], "O6": o6[0], "Err6": err6[0], "Err5": err45[1], "Err4": err45[0],
        "w46": w2[0, 0], "w56": w2[0, 1], "w14": w1[0, 0], "w15": w1[1, 0], "w24": w1[0, 1], "w25": w1[1, 1],
        "w34": w1[0, 2], "w35": w1[1, 2], "theta6": (B2 + RATE * err6)[0],
        "theta5": (B1 + RATE * err45)[1], "theta4": (B1 + RATE * err45)[0],
    }  # fmt: skip


KEYS = {  # the sheet's answer keys (those of the matrix notation) of the book's quantities
    "O4": "p1.a1[1]", "O5": "p1.a1[2]", "O6": "p1.yhat[1]", "Err6": "p2.err2[1]", "Err5": "p2.err1[2]",
    "Err4": "p2.err1[1]", "w46": "p2.w2_new[1,1]", "w56": "p2.w2_new[1,2]", "w14": "p2.w1_new[1,1]",
    "w15": "p2.w1_new[2,1]", "w24": "p2.w1_new[1,2]", "w25": "p2.w1_new[2,2]", "w34": "p2.w1_new[1,3]",
    "w35": "p2.w1_new[2,3]", "theta6": "p2.b2_new[1]", "theta5": "p2.b1_new[2]", "theta4": "p2.b1_new[1]",
}  # fmt: skip
TABLE = {  # the book's printed values (tables 9.2 to 9.4), to the places it prints
    "O4": 0.332, "O5": 0.525, "O6": 0.474, "Err6": 0.1311, "Err5": -0.0065, "Err4": -0.0087, "w46": -0.261,
    "w56": -0.138, "w14": 0.192, "w15": -0.306, "w24": 0.4, "w25": 0.1, "w34": -0.508, "w35": 0.194,
    "theta6": 0.218, "theta5": 0.194, "theta4": -0.408,
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    out = tmp_path_factory.mktemp("err")
    return build_sheet(parse_spec(EXAMPLE.read_text(), name="err"), Options(output_dir=out, pdf=False)), out


def test_the_sheet_gives_the_textbook_numbers(built: tuple[object, Path]) -> None:
    result, _ = built
    solution = result.solution  # type: ignore[attr-defined]
    exact = book()
    for name, key in KEYS.items():
        assert key in solution, key
        assert math.isclose(float(solution[key].approx), exact[name], rel_tol=1e-12, abs_tol=1e-15), name
    # The book's table is these values, each rounded to the places it prints, except where it
    # rounds before it goes on: O_6 to 0.474 gives Err_6 = 0.1311 (unrounded 0.13116 is 0.1312).
    rounded = book(outputs=3, errors=4)
    for name, printed in TABLE.items():
        places = len(str(printed).split(".")[1])
        assert round(exact[name], places) == printed or name == "Err6", name
    assert round(exact["Err6"], 4) == 0.1312 and round(float(rounded["Err6"]), 4) == TABLE["Err6"]


def test_the_sheet_writes_the_textbook_convention(built: tuple[object, Path]) -> None:
    _, out = built
    tex = (out / "err-solution.tex").read_text()
    assert r"\mathrm{Err}_{6} & = O_{6} \, \left(1 - O_{6}\right) \, \left(T_{6} - O_{6}\right)" in tex
    assert r"\mathrm{Err}_{4} & = O_{4} \, \left(1 - O_{4}\right) \, \mathrm{Err}_{6} \, w_{46}" in tex
    assert r"\frac{\partial E}{\partial w_{46}} & = -\mathrm{Err}_{6} \, O_{4}" in tex
    assert r"w'_{46} & = w_{46} + \alpha \, \mathrm{Err}_{6} \, O_{4}" in tex
    assert r"\theta'_{6} & = \theta_{6} + \alpha \, \mathrm{Err}_{6}" in tex
    assert r"\delta" not in tex and r"\theta =" not in tex
    question = (out / "err-exercise.tex").read_text()
    assert r"w_{ij} := w_{ij} + \alpha\, \mathrm{Err}_j\, O_i" in question and r"\partial \theta" not in question


def test_the_error_terms_are_minus_pytorchs_gradients_at_the_net_inputs(built: tuple[object, Path]) -> None:
    torch = pytest.importorskip("torch")
    solution = built[0].solution  # type: ignore[attr-defined]
    w1, b1, w2, b2 = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (W1, B1, W2, B2))
    net4 = w1 @ torch.tensor(X, dtype=torch.float64) + b1
    net4.retain_grad()
    net6 = w2 @ torch.sigmoid(net4) + b2
    net6.retain_grad()
    (0.5 * ((torch.tensor(T, dtype=torch.float64) - torch.sigmoid(net6)) ** 2).sum()).backward()
    assert net4.grad is not None and net6.grad is not None
    for key, grad in (("p2.err2[1]", net6.grad[0]), ("p2.err1[1]", net4.grad[0]), ("p2.err1[2]", net4.grad[1])):
        assert math.isclose(float(solution[key].approx), -float(grad), rel_tol=1e-9), key


def spec(notation: str, network: str = "") -> str:
    text = EXAMPLE.read_text()
    return text.replace("[notation]\n", f"[notation]\n{notation}", 1).replace("[network]\n", f"[network]\n{network}")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("activation_derivative = true\n", "notation.activation_derivative: not with error_term"),
        ("bias_as_weight = true\n", 'notation.bias_as_weight: not with style = "through"'),
        ('index_order = "from_to"\n', 'notation.index_order: not with style = "through"'),
        ('delta = "Err"\n', "error_term and delta would have the same name"),
    ],
)
def test_what_the_convention_cannot_write_is_one_line(edit: str, message: str) -> None:
    assert message in refusal(spec(edit))


def test_an_output_differentiated_without_the_loss_has_no_error_term() -> None:
    text = spec("") + '\n[[parts]]\nkind = "gradients"\nx = [1, 0, 1]\nof = "yhat"\n'
    assert refusal(text).endswith(
        "parts[3].of: the error term Err = -∂E/∂net is the loss's: with [notation] error_term differentiate the loss"
    )


def test_a_step_the_rule_does_not_write_keeps_theta_for_itself() -> None:
    text = EXAMPLE.read_text().replace("learning_rate = 0.9", 'learning_rate = 0.9\noptimizer = "adam"')
    assert "notation.b: 'theta' is taken: part 2 (update) writes a parameter" in refusal(text)


def test_the_student_policy_and_softmax_are_refused() -> None:
    student = EXAMPLE.read_text().replace("[sheet]\n", '[sheet]\nrounding = "student"\n', 1)
    assert 'notation.error_term: not with rounding = "student"' in refusal(student)
    softmax = spec("").replace('bias = [0.1]\nactivation = "sigmoid"', 'bias = [0.1]\nactivation = "softmax"')
    assert "notation.error_term: not with a softmax layer (layer 2)" in refusal(softmax)
    shared = spec("").replace("bias = [-0.4, 0.2]", "bias = { shared = 0.2 }")
    assert 'notation.style: layer 1 shares one bias: style = "through"' in refusal(shared)


def test_the_error_term_in_matrix_style_and_in_german(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace('style = "through"\n', "").replace("[sheet]\n", '[sheet]\nlanguage = "de"\n', 1)
    built = build_sheet(parse_spec(text, name="de"), Options(output_dir=tmp_path, pdf=False))
    assert math.isclose(float(built.solution["p2.err1[1]"].approx), book()["Err4"], rel_tol=1e-12)
    tex = (tmp_path / "de-solution.tex").read_text()
    assert r"\mathrm{Err}^{(1)}_{1}" in tex and "Fehlerterm" in tex
