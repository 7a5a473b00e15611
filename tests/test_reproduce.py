"""Every worked line redoes: its shown numbers, put into its shown formula with a calculator, give its
shown result at the shown precision (derive.render.reproduce)."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.maths.steps import Compute, Solution
from derive.render.reproduce import Redone, redoes, worked
from derive.render.step_context import line_context
from derive.render.templates import environment
from derive.terms.formula import Quantity, Ref, Sum, approximate
from derive.terms.symbols import Sym
from derive.tex.decimals import decimal, shown
from derive.tex.style import Style
from tests.sheets import single


def calculator(latex: str) -> Fraction | float:
    """What a student types into a calculator for a substituted line: the line's LaTeX read as Python
    arithmetic (independent of derive's formula trees), exact in fractions as far as it goes (a tie
    such as 0.30775 stays a tie). Raises ValueError for what it cannot read."""
    text = latex.replace(r"\left(", "(").replace(r"\right)", ")").replace(r"\cdot", "*").replace("{,}", ".")
    for _ in range(8):  # nested fractions and roots, innermost first
        text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", text)
        text = re.sub(r"\\sqrt\{([^{}]*)\}", r"((\1)**0.5)", text)
        text = re.sub(r"e\^\{([^{}]*)\}", r"(2.718281828459045**(\1))", text)
        text = re.sub(r"\^\{([^{}]*)\}", r"**(\1)", text)
        text = re.sub(r"\^(\d)", r"**\1", text)
    if not re.fullmatch(r"[\d\s.+\-*/()]*", text):
        raise ValueError(f"not arithmetic: {text}")
    text = re.sub(r"([\d)])\s*\(", r"\1*(", text)  # 4 (1 + e) is a product
    text = re.sub(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d.])", r'F("\1")', text)  # every number exact
    return eval(text, {"F": Fraction})  # type: ignore[no-any-return]


def number(latex: str) -> Decimal:
    """A shown result as the number it is (0.1692, 1.234 \\cdot 10^{-5}, 0{,}5)."""
    text = latex.replace("{,}", ".").strip()
    match = re.fullmatch(r"(-?[\d.]+) \\cdot 10\^\{(-?\d+)\}", text)
    return Decimal(match[1]).scaleb(int(match[2])) if match else Decimal(text)


def worked_lines(solution: Solution) -> list[tuple[str, list[str]]]:
    """Every worked line of the solution: its numbers substituted, and the results it shows after them."""
    style = Style.of(solution.spec.sheet)
    lines = []
    for part in solution.parts:
        printer = style.for_part(part.part).printer(part.network or solution.spec.network)
        for section in part.sections:
            for step in section.steps:
                if not isinstance(step, Compute):
                    continue
                for q in step.entries:
                    rows, redone = line_context(q, printer)
                    texts: list[str] = []
                    for relation, text in (segment for row in rows for segment in row["segments"]):
                        if relation == r"\quad":  # a long sum going on in the next row
                            texts[-1] += " " + str(text).removeprefix("{} ")
                        else:
                            texts.append(str(text))
                    if redone is not None and len(texts) > 2:
                        lines.append((texts[1], texts[2:]))
    return lines


def redo(numbers: str, results: list[str]) -> bool | None:
    """Whether a calculator redoes the line: its value rounds (half up, as on paper) to the shown
    decimal, or equals the shown exact result; None where the calculator cannot read the line (σ(…))."""
    try:
        value = calculator(numbers)
    except ValueError:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else None
    for result in reversed(results):
        try:
            shown_result = number(result)
        except ArithmeticError:
            continue
        places = -int(shown_result.as_tuple().exponent)
        if exact is None:  # a float (an e^{…} in the line): within half a unit, up to its own rounding
            return abs(Decimal(repr(value)) - shown_result) <= Decimal(5).scaleb(-places - 1) + Decimal("1e-12")
        return exact.quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_UP") == shown_result
    try:
        return math.isclose(value, calculator(results[-1]), rel_tol=1e-9, abs_tol=1e-12)
    except ValueError:
        return None


EXAMPLES = [Path(__file__).parent.parent / "derive" / "examples" / "backprop.toml"]
EXAMPLES += single(sorted((Path(__file__).parent.parent / "examples").glob("*.toml")))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_worked_line_redoes_on_a_calculator(path: Path) -> None:
    solution = derive.solve(derive.load_spec(path))
    redone = [(numbers, results, redo(numbers, results)) for numbers, results in worked_lines(solution)]
    failed = [f"{numbers} → {results}" for numbers, results, ok in redone if ok is False]
    assert not failed
    assert any(ok for _, _, ok in redone)  # σ(…) and log(…) lines aside, the calculator reads them


def test_a_line_that_needs_guard_digits_gets_them(example: Solution) -> None:
    # Part 12's deeper network: 1 · 0.3887 + (−1) · 0.8104 + 1/2 gives 0.0783, not the 0.0784 it shows.
    q = example["p12.z3[1]"]
    printer = Style.of(example.spec.sheet).printer(example.parts[11].network)
    bare = printer.substitution(q.formula)
    assert bare.approximated and not redoes(q, bare, 4)
    line = worked(q, printer)
    assert line.redoes
    result = number(decimal(q.approx, 4))
    assert round(float(calculator(line.substitution.text)), 4) == float(result)
    assert abs(float(calculator(bare.text)) - float(result)) > 5e-5


def test_the_numbers_recorded_are_the_numbers_written(example: Solution) -> None:
    q = example["p12.z3[1]"]
    line = worked(q, Style.of(example.spec.sheet).printer(example.parts[11].network)).substitution
    written = sorted(Decimal(n) for n in re.findall(r"\d+\.\d+", line.text))
    # A quantity written as a decimal is recorded as that decimal, not as its exact value.
    decimals = [v for quantity, v in line.values.items() if v != quantity.exact]
    recorded = sorted(abs(Decimal(int(v.p)) / Decimal(int(v.q))) for v in decimals)
    assert len(recorded) == 2
    assert written == recorded


def test_a_line_whose_result_does_not_follow_from_its_numbers_is_counted_as_failed() -> None:
    a = Quantity.given(Sym("a", 1, (1,)), sp.Rational(1, 3))
    # A value that claims to be a + a but is not: no number of digits makes its line redo.
    wrong = Quantity(Sym("z", 2, (1,)), sp.Rational(1), approximate(sp.Rational(1)), Sum((Ref(a), Ref(a))))
    line = worked(wrong, Style.of(derive.load_example().sheet).printer())
    assert not line.redoes
    counted = Redone.of([{"redone": [("p1.z2[1]", line.redoes), ("p1.z1[1]", True)]}])
    assert (counted.lines, counted.redone, counted.failed) == (2, 1, ("p1.z2[1]",))
    assert str(counted) == "1 of 2 worked lines redo from the numbers they show"


def test_under_the_student_policy_every_line_redoes_by_the_policy(tmp_path: Path) -> None:
    spec = derive.load_spec(Path(__file__).parent.parent / "examples" / "rounding_student.toml")
    built = derive.build_sheet(spec, derive.Options(output_dir=tmp_path, pdf=False))
    assert built.redone.lines > 20 and built.redone.failed == ()


def test_a_small_value_shows_three_significant_figures_unless_it_is_exact() -> None:
    assert decimal(0.000338, 4) == "0.000338"
    assert decimal(-0.001, 4) == "-0.0010"  # exact within the places: no digits added
    assert decimal(0.0474, 4) == "0.0474"
    assert decimal(0.0474, 2) == "0.05"  # two places show at most what they can
    for value in (0.000338, 0.5, 1.2345e-7, 98765432.1, -0.00456):
        for guard in (0, 1, 3):
            text = decimal(value, 4, guard)
            assert number(text) == shown(value, 4, guard)
            assert math.isclose(float(number(text)), value, rel_tol=10 ** -(2 + guard))


def test_the_solution_sheet_says_its_lines_redo_only_when_they_all_do(tmp_path: Path) -> None:
    built = derive.build_sheet(derive.load_example(), derive.Options(output_dir=tmp_path, pdf=False))
    tex = (tmp_path / "backprop-solution.tex").read_text()
    assert f"Each of its {built.redone.lines} worked lines gives its result again" in tex
    words = environment((), Style.of(built.solution.spec.sheet)).get_template("lang/en.tex.j2").module
    assert "worked lines" not in str(words.verification(888, 10, 9))  # type: ignore[attr-defined]
