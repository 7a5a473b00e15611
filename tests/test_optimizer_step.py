"""The optimizer_step kind: one optimizer step on given parameters, gradients and state, checked
against the update rules written out independently here (exact fractions, SymPy's square roots),
and its one-line refusals."""

from __future__ import annotations

import json
import tomllib
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.maths.steps import Table
from derive.pipeline import Options, build_sheet, parse_spec
from derive.terms.keys import Scope, key
from derive.terms.symbols import LOSS, Partial, Stat, Sym, Updated
from tests.test_spec import refusal

EXAMPLES = Path(__file__).parent.parent / "examples"


def spec_text(part: str) -> str:
    """A spec of one optimizer_step part: no [network], no [loss]."""
    return '[[parts]]\nkind = "optimizer_step"\n' + part


def entries(name: str, rows: list[list[Fraction]]) -> list[tuple[Sym, Fraction]]:
    """(symbol, value) of every entry of a given tensor, a bias given as a list of one-entry rows."""
    layer = int(name[1:])
    if name[0] == "W":
        return [(Sym("w", layer, (i, j)), v) for i, row in enumerate(rows, 1) for j, v in enumerate(row, 1)]
    return [(Sym("b", layer, (i,)), row[0]) for i, row in enumerate(rows, 1)]


def as_rows(value: object) -> list[list[Fraction]]:
    """A TOML tensor as rows of exact fractions (a bias or a number as a column)."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return [[Fraction(str(v)) for v in row] for row in value]
    if isinstance(value, list):
        return [[Fraction(str(v))] for v in value]
    return [[Fraction(str(value))]]


def test_momentum_example_is_the_rule_in_exact_fractions() -> None:
    """v_t = β v_{t-1} + g, θ_t = θ_{t-1} − α v_t, entry by entry, equal to the exact values."""
    path = EXAMPLES / "optimizer_step_sgd_momentum.toml"
    given = tomllib.loads(path.read_text())["parts"][0]
    solution = derive.solve(derive.load_spec(path))
    alpha, beta, t = Fraction(str(given["learning_rate"])), Fraction(str(given["optimizer"]["beta"])), given["t"]
    scope = Scope.part(1)
    for name, value in given["parameters"].items():
        thetas = entries(name, as_rows(value))
        grads = dict(entries(name, as_rows(given["gradients"][name])))
        velocity = dict(entries(name, as_rows(given["state"]["v"][name])))
        for symbol, theta in thetas:
            v = beta * velocity[symbol] + grads[symbol]
            new = theta - alpha * v
            assert solution[key(scope, Stat("v", symbol, t))].exact == sp.Rational(v.numerator, v.denominator)
            assert solution[key(scope, Updated(symbol, t))].exact == sp.Rational(new.numerator, new.denominator)


def test_adam_example_is_the_rule_with_exact_roots() -> None:
    """Adam's m, v (fractions), bias corrections with the given t, and θ_t with √v̂ kept exact."""
    path = EXAMPLES / "optimizer_step_adam.toml"
    given = tomllib.loads(path.read_text())["parts"][0]
    solution = derive.solve(derive.load_spec(path))
    alpha, t = sp.Rational(str(given["learning_rate"])), given["t"]
    b1, b2, eps = sp.Rational(9, 10), sp.Rational(999, 1000), sp.Rational(1, 10**8)
    scope = Scope.part(1)
    for name, value in given["parameters"].items():
        grads = dict(entries(name, as_rows(given["gradients"][name])))
        ms = dict(entries(name, as_rows(given["state"]["m"][name])))
        vs = dict(entries(name, as_rows(given["state"]["v"][name])))
        for symbol, theta in entries(name, as_rows(value)):
            g = sp.Rational(str(grads[symbol]))
            m = b1 * sp.Rational(str(ms[symbol])) + (1 - b1) * g
            v = b2 * sp.Rational(str(vs[symbol])) + (1 - b2) * g**2
            new = sp.Rational(str(theta)) - alpha * (m / (1 - b1**t)) / (sp.sqrt(v / (1 - b2**t)) + eps)
            assert solution[key(scope, Stat("m", symbol, t))].exact == m
            assert solution[key(scope, Stat("v", symbol, t))].exact == v
            exact = solution[key(scope, Updated(symbol, t))].exact
            assert sp.simplify(exact - new) == 0
            # A root of a rational that is no square stays a closed form.
            assert g == 0 or (exact.has(sp.Pow) and not exact.is_Rational)


def test_absent_state_is_zero_and_the_answers_are_the_new_state_and_parameters(tmp_path: Path) -> None:
    spec = parse_spec(
        spec_text(
            'optimizer = "rmsprop"\nlearning_rate = "1/10"\nt = 2\n'
            "parameters = { b2 = [1, 2], W3 = 3 }\ngradients = { b2 = [4, 0], W3 = -1 }\n"
            "state = { s = { W3 = 0.5 } }\n"
        ),
        name="rms",
    )
    built = build_sheet(spec, Options(output_dir=tmp_path, pdf=False))
    solution = built.solution
    rho = sp.Rational(99, 100)
    scope = Scope.part(1)
    # b2 has no given state: s_1 = 0, so s_2 = (1 − ρ) g².
    for index, (theta, g) in enumerate(((1, 4), (2, 0)), 1):
        symbol = Sym("b", 2, (index,))
        assert solution[key(scope, Stat("s", symbol, 1))].exact == 0
        s = (1 - rho) * g**2
        assert solution[key(scope, Stat("s", symbol, 2))].exact == s
        new = theta - sp.Rational(1, 10) * g / (sp.sqrt(s) + sp.Rational(1, 10**8))
        assert sp.simplify(solution[key(scope, Updated(symbol, 2))].exact - new) == 0
    w = Sym("w", 3, (1, 1))
    assert solution[key(scope, Stat("s", w, 2))].exact == rho * sp.Rational(1, 2) + (1 - rho)
    answers = json.loads((tmp_path / "rms-answers.json").read_text())
    asked = {q["name"] for q in answers["quantities"] if q["asked"]}
    assert asked == {
        key(scope, Updated(Sym("b", 2, (1,)), 2)),
        key(scope, Updated(Sym("b", 2, (2,)), 2)),
        key(scope, Updated(w, 2)),
        key(scope, Stat("s", Sym("b", 2, (1,)), 2)),
        key(scope, Stat("s", Sym("b", 2, (2,)), 2)),
        key(scope, Stat("s", w, 2)),
    }
    tex = (tmp_path / "rms-exercise.tex").read_text()
    assert "t = 2" in tex and "s_{1}" in tex


def test_a_large_tensor_is_one_entry_worked_and_a_table() -> None:
    rows = ", ".join("[" + ", ".join(str(i + j) for j in range(4)) + "]" for i in range(4))
    spec = parse_spec(
        spec_text(
            f'optimizer = "adam"\nlearning_rate = 0.1\nparameters = {{ W1 = [{rows}] }}\n'
            f"gradients = {{ W1 = [{rows}] }}\n"
        ),
        name="big",
    )
    solution = derive.solve(spec)
    steps = [s for section in solution.part(1).sections for s in section.steps]
    table = next(s for s in steps if isinstance(s, Table))
    assert len(table.rows) == 16
    # t = 1 from a zero state: Adam's first step moves each entry with a non-zero gradient by about α.
    for i in range(1, 5):
        for j in range(1, 5):
            g = i + j - 2
            new = solution[key(Scope.part(1), Updated(Sym("w", 1, (i, j)), 1))]
            moved = float(new.approx) - g
            assert moved == pytest.approx(-0.1 if g else 0.0, abs=1e-6)
            assert solution[key(Scope.part(1), Partial(LOSS, Sym("w", 1, (i, j))))].exact == g


@pytest.mark.parametrize(
    ("part", "field", "says"),
    [
        ("parameters = { W1 = [[1, 2]] }\ngradients = { W1 = [[1, 2, 3]] }", "gradients.W1", "shape 1×3"),
        ("parameters = { W1 = [[1, 2]] }\ngradients = { b1 = [1] }", "gradients.b1", "no parameter of this name"),
        ("parameters = { W1 = [[1, 2]], b1 = 1 }\ngradients = { W1 = [[1, 2]] }", "gradients.b1", "missing"),
        ("parameters = { V1 = 1 }\ngradients = { V1 = 1 }", "parameters.V1", "W<layer> or b<layer>"),
        ("parameters = { b1 = [[1]] }\ngradients = { b1 = [[1]] }", "parameters.b1", "a bias is a vector"),
        ("parameters = { W1 = [[1, 2], [3]] }\ngradients = { W1 = 1 }", "parameters.W1", "equal length"),
        ("parameters = { W1 = 1 }\ngradients = { W1 = 1 }\nstate = { v = { W1 = 1 } }", "state", "sgd keeps no state"),
        (
            'optimizer = "adam"\nt = 2\nparameters = { W1 = 1 }\ngradients = { W1 = 1 }\nstate = { s = { W1 = 1 } }',
            "state.s",
            "not a state of adam",
        ),
        (
            'optimizer = "momentum"\nparameters = { W1 = 1 }\ngradients = { W1 = 1 }\nstate = { v = { W1 = 1 } }',
            "state.v",
            "t > 1",
        ),
        ("t = 0\nparameters = { W1 = 1 }\ngradients = { W1 = 1 }", "t", "from 1 to 100"),
        (
            "parameters = { " + ", ".join(f"b{l} = 1" for l in range(1, 14)) + " }\ngradients = { b1 = 1 }",
            "parameters",
            "at most 12 parameters",
        ),
        (
            "parameters = { W1 = ["
            + ", ".join(["[" + ", ".join(["1"] * 15) + "]"] * 14)
            + "] }\ngradients = { W1 = 1 }",
            "parameters",
            "at most 200 entries",
        ),
    ],
)
def test_bad_givens_are_refused_in_one_line_naming_the_field(part: str, field: str, says: str) -> None:
    message = refusal(spec_text("learning_rate = 0.1\n" + part))
    assert f"parts[1].{field}" in message and says in message, message


def test_a_sheet_with_a_network_takes_an_optimizer_step_part_too(tmp_path: Path) -> None:
    """Beside parts that work on the network: the step's parameters are its own (keyed in its part)."""
    text = (EXAMPLES / "batch_gradients_only.toml").read_text() + (
        '\n[[parts]]\nkind = "optimizer_step"\nlearning_rate = "1/2"\n'
        "parameters = { W1 = [[1, 2]] }\ngradients = { W1 = [[-1, 1]] }\n"
    )
    built = build_sheet(parse_spec(text, name="mixed"), Options(output_dir=tmp_path, pdf=False))
    assert built.solution["w1[1,1]"].exact == 1  # the network's own
    assert built.solution["p2." + Updated(Sym("w", 1, (1, 2)), 1).key].exact == sp.Rational(3, 2)
    assert built.solution["p2." + Updated(Sym("w", 1, (1, 1)), 1).key].exact == sp.Rational(3, 2)


def test_a_sheet_of_given_gradients_claims_no_finite_differences(tmp_path: Path) -> None:
    """Its gradients are given, not worked out: the sheet and the command line do not say they were
    checked by finite differences (a sheet that works gradients out does)."""
    import subprocess
    import sys

    spec = EXAMPLES / "optimizer_step_adam.toml"
    run = subprocess.run(
        [sys.executable, "-m", "derive", "sheet", str(spec), "-o", str(tmp_path), "--no-pdf"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "verified " in run.stderr and "finite differences" not in run.stderr
    solution = (tmp_path / "optimizer_step_adam-solution.tex").read_text(encoding="utf-8")
    assert "independent float64 computation before the sheet" in solution
    assert "finite differences" not in solution
    build_sheet(derive.load_example(), Options(output_dir=tmp_path / "network", pdf=False))
    worked = (tmp_path / "network" / "backprop-solution.tex").read_text(encoding="utf-8")
    assert "every gradient against central finite differences" in worked
