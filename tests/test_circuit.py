"""The circuit kind: a computational graph of gates, forward and backward, against SymPy's own
differentiation of the same function, with its refusals, its words and its drawings."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import derive
from derive.catalog.circuits import MAX_GATES, parse_circuit
from derive.catalog.gates import GATES
from derive.errors import DegenerateError, DeriveError, SpecError
from derive.pipeline import Options, build_sheet
from tests.test_spec import refusal

EXAMPLES = Path(__file__).parent.parent / "examples"
CIRCUITS = sorted(EXAMPLES.glob("circuit_*.toml"))
SHEET = '[sheet]\ntitle = "Circuits"\n'


def circuit(expression: str, values: str, extra: str = "", sheet: str = SHEET) -> str:
    return f'{sheet}\n[[parts]]\nkind = "circuit"\nexpression = "{expression}"\nvalues = {values}\n{extra}'


def quantities(text: str) -> dict[str, sp.Expr]:
    return {q.key: q.exact for q in derive.solve(derive.parse_spec(text)).quantities()}


def answer_key(name: str) -> str:
    """A variable's symbol key as the answers write it: x, or w0 as w[0]."""
    return name[0] + (f"[{name[1:]}]" if name[1:] else "")


SYMPY_GATES = {
    "max": sp.Max,
    "min": sp.Min,
    "sigmoid": lambda t: 1 / (1 + sp.exp(-t)),
    "tanh": sp.tanh,
    "relu": lambda t: sp.Max(0, t),
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
}


def oracle(expression: str, values: dict[str, sp.Rational]) -> tuple[sp.Expr, dict[str, sp.Expr]]:
    """f and every ∂f/∂variable by SymPy's own differentiation of the formula (no gate involved)."""
    names = {name: sp.Symbol(name, real=True) for name in values}
    f = sp.sympify(expression.replace("^", "**"), locals={**SYMPY_GATES, **names})
    at = {names[n]: v for n, v in values.items()}
    return f.subs(at), {n: sp.diff(f, s).subs(at) for n, s in names.items()}


def same(a: sp.Expr, b: sp.Expr) -> bool:
    return abs(sp.N(a - b, 50)) < sp.Float(10) ** -40


CASES = [
    ("(x + y)*z", {"x": -2, "y": 5, "z": -4}),
    ("max(x, y)*z + w*v + x", {"x": 3, "y": 1, "z": 2, "w": -1, "v": 4}),
    ("(x + sigmoid(y)) / (sigmoid(x) + (x + y)^2)", {"x": 3, "y": -4}),
    ("min(x, y)^2/z - 3*x", {"x": "1/2", "y": 2, "z": 4}),
    ("exp(x*y) + log(y) - tanh(x) + relu(x - y)", {"x": "3/2", "y": "1/2"}),
    ("2/x + 3*x^-2 + x*x - (x + 1)", {"x": "5/4"}),
]


@pytest.mark.parametrize(("expression", "given"), CASES, ids=[c[0] for c in CASES])
def test_the_exact_gradients_are_sympys(expression: str, given: dict[str, object]) -> None:
    values = {n: sp.Rational(str(v)) for n, v in given.items()}
    text = ", ".join(f'{n} = "{v}"' for n, v in values.items())
    found = quantities(circuit(expression, "{ " + text + " }"))
    f, gradients = oracle(expression, values)
    assert same(found["p1.f"], f)
    for name, gradient in gradients.items():
        assert same(found[f"p1.df/d{answer_key(name)}"], gradient), name
    assert found["p1.df/df"] == 1


def test_the_lecture_neuron_expanded_and_as_one_gate_agree_with_sympy() -> None:
    spec = derive.load_spec(EXAMPLES / "circuit_neuron.toml")
    solution = derive.solve(spec)
    w0, x0, w1, x1, b = sp.symbols("w0 x0 w1 x1 b", real=True)
    f = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + b)))
    at = {w0: 2, x0: -1, w1: -3, x1: -2, b: -3}
    for number in (1, 2):
        assert same(solution[f"p{number}.f"].exact, f.subs(at))
        for s in (w0, x0, w1, x1, b):
            assert same(solution[f"p{number}.df/d{answer_key(str(s))}"].exact, sp.diff(f, s).subs(at))
    # Expanded, the sigmoid is four gates ×(−1), exp, +1, 1/x: more wires than as one σ gate.
    assert sum(1 for q in solution.part(1).quantities()) > sum(1 for q in solution.part(2).quantities())


def test_a_fan_out_sums_and_each_pattern_is_said_where_it_occurs(tmp_path: Path) -> None:
    built = build_sheet(EXAMPLES / "circuit_max_fan_out.toml", Options(output_dir=tmp_path, pdf=False))
    assert built.report.differences > 0
    tex = (tmp_path / "circuit_max_fan_out-solution.tex").read_text()
    assert "distributes" in tex and "swaps" in tex and "routes" in tex
    assert r"The wire \(x\) feeds 2 gates" in tex
    # ∂f/∂x is the sum of what its two gates send back: the max gate's 1 and the last add's 1.
    solution = derive.solve(derive.load_spec(EXAMPLES / "circuit_max_fan_out.toml"))
    gradient = solution["p1.df/dx"]
    assert gradient.uses == ("p1.df/dq[1]", "p1.df/df")
    assert gradient.exact == solution["p1.df/dq[1]"].exact + 1
    assert solution["p1.df/dy"].exact == 0  # max routes nothing to the smaller input


def test_the_drawings_show_what_each_sheet_asks(tmp_path: Path) -> None:
    text = circuit("(x + y)*z", "{ x = -2, y = 5, z = -4 }")
    build_sheet(derive.parse_spec(text), Options(output_dir=tmp_path, pdf=False))
    exercise = (tmp_path / "exercise-exercise.tex").read_text()
    solution = (tmp_path / "exercise-solution.tex").read_text()
    # The exercise shows the variables' values only; the solution every value and gradient.
    assert exercise.count(r"\begin{tikzpicture}") == 1
    assert r"node[value] {\(-2\)}" in exercise and r"node[gradient]" not in exercise
    assert r"node[value] {\(-12\)}" in solution and r"node[gradient] {\(3\)}" in solution
    plain = tmp_path / "plain"
    none = derive.parse_spec(circuit("(x + y)*z", "{ x = -2, y = 5, z = -4 }", 'drawing = "none"'))
    build_sheet(none, Options(output_dir=plain, pdf=False))
    assert r"\begin{tikzpicture}" not in (plain / "exercise-exercise.tex").read_text()


def test_a_german_sheet_says_it_in_german(tmp_path: Path) -> None:
    sheet = '[sheet]\ntitle = "Schaltungen"\nlanguage = "de"\n'
    spec = derive.parse_spec(circuit("max(x, y)*z", '{ x = "1.5", y = 2, z = -3 }', sheet=sheet))
    build_sheet(spec, Options(output_dir=tmp_path, pdf=False))
    tex = (tmp_path / "exercise-solution.tex").read_text()
    assert "leitet weiter" in tex and "vertauscht" in tex and "Rückwärtsdurchlauf" in tex


def test_student_rounding_rounds_every_wire() -> None:
    sheet = '[sheet]\ntitle = "Circuits"\ndecimals = 2\nrounding = "student"\n'
    text = f'{sheet}\n[[parts]]\nkind = "circuit"\nneuron = {{ w = [2, -3], x = [-1, -2], b = -3 }}\n'
    solution = derive.solve(derive.parse_spec(text))
    for q in solution.quantities():
        assert q.exact == sp.Rational(q.exact).limit_denominator(100) and (q.exact * 100).is_Integer, q


def test_the_answers_are_f_and_the_gradients_of_the_variables() -> None:
    solution = derive.solve(derive.parse_spec(circuit("(x + y)*z", "{ x = -2, y = 5, z = -4 }")))
    asked = solution.part(1).part.kind.asked(list(solution.part(1).quantities()))
    assert asked == {"p1.f", "p1.df/dx", "p1.df/dy", "p1.df/dz"}


def test_every_gate_is_in_the_catalogue_and_reachable_from_a_formula() -> None:
    graph = parse_circuit(
        "max(x, y) + min(x, y) - exp(x) + log(y) / x + 2*x + x^3 + sigmoid(x) + tanh(y) + relu(x) + 1", ["x", "y"]
    )
    used = {w.gate for w in graph.wires if w.gate}
    assert used == set(GATES)


@pytest.mark.parametrize(
    ("expression", "values", "extra", "message"),
    [
        ("(x + y)*z", "{ x = 1, y = 2 }", "", r"parts\[1\]\.expression: unknown name 'z'"),
        ("x*y", "{ x = 1, y = 2, z = 3 }", "", r"parts\[1\]\.expression: the formula does not use z"),
        ("x^y", "{ x = 1, y = 2 }", "", r"parts\[1\]\.expression: a power's exponent must be a whole number"),
        ("x^0.5", "{ x = 1 }", "", r"parts\[1\]\.expression: a power's exponent must be a whole number"),
        ("sin(x)", "{ x = 1 }", "", r"parts\[1\]\.expression: unknown gate 'sin'"),
        ("max(x)", "{ x = 1 }", "", r"parts\[1\]\.expression: max\(\) takes exactly two arguments"),
        ("x", "{ x = 1 }", "", r"parts\[1\]\.expression: the formula is a single variable"),
        ("f*x", "{ f = 1, x = 2 }", "", r"parts\[1\]\.values\.f: 'f' is taken"),
        ("xy*x", "{ xy = 1, x = 2 }", "", r"parts\[1\]\.values\.xy: a variable's name is a letter"),
        ("x*y", "{ x = 1, y = [2] }", "", r"parts\[1\]\.values\.y"),
        ("x*y", "{ x = 1, y = 2 }", 'drawing = "all"', r"parts\[1\]\.drawing: expected one of"),
        ("x*y", "{ x = 1, y = 2 }", 'activation_gates = "expanded"', r"parts\[1\]\.activation_gates: only a neuron"),
        ("x*y", "{ x = 1, y = 2 }", "x = [1]", r"parts\[1\]\.x: unknown key"),
        ("+".join(["x*x"] * 16), "{ x = 1 }", "", rf"parts\[1\]\.expression: more than {MAX_GATES} gates"),
    ],
)
def test_a_bad_circuit_is_refused_in_one_line(expression: str, values: str, extra: str, message: str) -> None:
    import re

    assert re.search(message, refusal(circuit(expression, values, extra)))


@pytest.mark.parametrize(
    ("neuron", "extra", "message"),
    [
        ("{ w = [1, 2], x = [1] }", "", r"parts\[1\]\.neuron\.x: as many inputs as weights"),
        ('{ w = [1], x = [1], activation = "softmax" }', "", r"parts\[1\]\.neuron\.activation: expected one of"),
        ('{ w = [1], x = [1], activation = "relu" }', 'activation_gates = "expanded"', r"ReLU is one gate already"),
        ("{ w = [1], x = [1], c = 2 }", "", r"parts\[1\]\.neuron\.c: unknown key"),
        ("{ w = [1, 2, 3, 4, 5, 6, 7], x = [1, 2, 3, 4, 5, 6, 7] }", "", r"parts\[1\]\.neuron\.w: at most 6"),
    ],
)
def test_a_bad_neuron_is_refused_in_one_line(neuron: str, extra: str, message: str) -> None:
    import re

    text = f'{SHEET}\n[[parts]]\nkind = "circuit"\nneuron = {neuron}\n{extra}'
    assert re.search(message, refusal(text))


def test_a_tie_at_a_max_gate_has_no_gradient() -> None:
    with pytest.raises(DegenerateError, match=r"p1\.q\[1\]: max\(2, 2\) of two equal values has no gradient"):
        derive.solve(derive.parse_spec(circuit("max(x, y)*z", "{ x = 2, y = 2, z = 1 }")))


def test_both_or_neither_form_is_refused() -> None:
    text = f'{SHEET}\n[[parts]]\nkind = "circuit"\n'
    assert "give either expression (with values) or neuron" in refusal(text)
    with pytest.raises(SpecError):
        derive.parse_spec(text + 'expression = "x*y"\nneuron = { w = [1], x = [1] }\n')


@pytest.mark.parametrize("path", CIRCUITS, ids=lambda p: p.stem)
def test_every_circuit_example_needs_no_network(path: Path) -> None:
    spec = derive.load_spec(path)
    assert spec.network is None and all(part.kind.name == "circuit" for part in spec.parts)


def test_the_float_twin_checks_every_wire_and_differences_every_gradient() -> None:
    from derive.verify.gate import verify

    spec = derive.load_spec(EXAMPLES / "circuit_add_multiply.toml")
    solution = derive.solve(spec)
    report = verify(solution)
    shown = list(solution.quantities())
    assert report.values == len(shown)
    # Every gradient but the seed ∂f/∂f = 1 is confirmed by central differences through the gates.
    gradients = [q for q in shown if q.key.split(".")[-1].startswith("df/d") and not q.key.endswith("df/df")]
    assert report.differences == len(gradients)


def test_at_a_relu_kink_the_gradient_is_zero_and_left_to_the_twin() -> None:
    from derive.verify.gate import verify

    solution = derive.solve(derive.parse_spec(circuit("relu(x - y)*z", "{ x = 1, y = 1, z = 2 }")))
    assert solution["p1.df/dx"].exact == 0 and solution["p1.df/dz"].exact == 0  # ReLU'(0) = 0, as PyTorch
    report = verify(solution)
    # Only z and the ReLU's output q_3 reach f without passing the kink: the wires before it have
    # one-sided slopes that differ, where finite differences cannot judge.
    assert report.differences == 2


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("x^-2 + y", r"p1\.q\[1\]: 1/0 is undefined"),
        ("y/x", r"p1\.q\[1\]: 1/0 is undefined"),
        ("log(x) + y", r"p1\.q\[1\]: the logarithm of 0 is undefined"),
        ("log(x - y) + y", r"p1\.q\[3\]: the logarithm of -1 is undefined"),
    ],
)
def test_a_gate_outside_its_domain_is_refused_in_one_line(expression: str, message: str) -> None:
    with pytest.raises(DegenerateError, match=message) as caught:
        derive.solve(derive.parse_spec(circuit(expression, "{ x = 0, y = 1 }")))
    assert "\n" not in str(caught.value)


def _formulas() -> st.SearchStrategy[str]:
    """Random formulas of every gate over x, y and z."""
    leaves = st.sampled_from(["x", "y", "z"])

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        unary = st.sampled_from(["exp", "log", "sigmoid", "tanh", "relu", "-"])
        binary = st.sampled_from(["+", "-", "*", "/", "max", "min"])
        constant = st.sampled_from(["2", "-3", "1/2"])
        return st.one_of(
            st.tuples(unary, inner).map(lambda t: f"-({t[1]})" if t[0] == "-" else f"{t[0]}({t[1]})"),
            st.tuples(binary, inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})" if t[0] in ("max", "min") else f"({t[1]}) {t[0]} ({t[2]})"
            ),
            st.tuples(inner, constant).map(lambda t: f"({t[0]}) * {t[1]}"),
            st.tuples(inner, st.sampled_from(["2", "3", "-1"])).map(lambda t: f"({t[0]})^{t[1]}"),
        )

    return st.recursive(leaves, grow, max_leaves=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(_formulas(), st.lists(st.sampled_from(["-2", "-1/2", "1/3", "1", "3/2", "2"]), min_size=3, max_size=3))
def test_any_formula_of_gates_is_worked_and_verified_or_refused_in_one_line(formula: str, values: list[str]) -> None:
    from derive.verify.gate import verify

    used = [name for name in ("x", "y", "z") if name in formula]
    assume(used and any(c in formula for c in "+-*/^(") and len(formula) <= 200)
    table = (
        "{ "
        + ", ".join(f'{name} = "{v}"' for name, v in zip(("x", "y", "z"), values, strict=True) if name in used)
        + " }"
    )
    try:
        solution = derive.solve(derive.parse_spec(circuit(formula, table)))
    except DeriveError as error:
        assert "\n" not in str(error)
        return
    verify(solution)  # the float twin and finite differences agree with every value
