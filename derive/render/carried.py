"""Error carried forward: every asked value checked against what its formula gives from the student's
own earlier values, by one float evaluator of the formula trees (the check page's JavaScript is
printed from the same trees by :class:`JsPrinter`).

A :class:`Program` lists every quantity of a solution in the sheet's order (each formula uses only
earlier ones): a given keeps its value; an asked quantity the student entered takes the student's
value; any other is its formula evaluated over the values before it. An entered value is *right*
within the sheet's tolerance of the sheet's value, *carried* within the tolerance of the value its
formula gives from the student's values (widened by how far the student's own rounding of those
moves it), else *wrong*.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.printing.jscode import JavascriptCodePrinter

from derive.maths.steps import Solution
from derive.render.answers import answers
from derive.terms.formula import (
    Apply,
    Difference,
    Log,
    Negate,
    Node,
    Num,
    Power,
    Product,
    Quantity,
    Quotient,
    Ref,
    Rule,
    Slope,
    Sqrt,
    Sum,
)
from derive.terms.rounding import Carry

RIGHT, CARRIED, WRONG, MISSING = "right", "carried", "wrong", "missing"
"""The marks of an asked value (``missing``: nothing entered)."""
SLACK = 1e-9
"""Relative slack on every tolerance: a value exactly half a unit off is still the shown decimal."""


@dataclass(frozen=True)
class Cell:
    """One quantity of the program: its formula over earlier cells (None: a given), the sheet's value,
    whether a part asks for it and how close an answer must be."""

    key: str
    quantity: Quantity
    formula: Node | None
    value: float
    asked: bool
    part: int | None
    tolerance: float | None
    carry: Carry | None
    """The student policy: a computed value is rounded so as soon as it is computed."""


@dataclass(frozen=True)
class Mark:
    """What the check says of one asked value."""

    key: str
    status: str
    entered: float | None
    expected: float
    """The value its formula gives from the student's earlier values."""
    value: float
    """The sheet's value."""


@dataclass(frozen=True)
class Program:
    """Every quantity of a solution as a cell, in the sheet's order."""

    cells: tuple[Cell, ...]

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {cell.key: i for i, cell in enumerate(self.cells)}

    @property
    def asked(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.asked]

    @classmethod
    def of(cls, solution: Solution, places: int, document: dict[str, Any] | None = None) -> Program:
        """The program of ``solution``; ``document``: its :func:`answers` (the asked keys and tolerances)."""
        rows = {row["name"]: row for row in (document or answers(solution, places))["quantities"]}
        cells = []
        for q in solution.quantities():
            row = rows[q.key]
            computed = q.formula is not None
            cells.append(
                Cell(
                    key=q.key,
                    quantity=q,
                    formula=q.formula,
                    value=float(q.approx),
                    asked=bool(row["asked"]),
                    part=row["part"],
                    tolerance=row["tolerance"],
                    carry=q.carry if computed else None,
                )
            )
        return cls(tuple(cells))

    def run(self, entered: Mapping[str, float]) -> tuple[list[float], list[float]]:
        """Every cell's value with the student's ``entered`` values standing for theirs, and every
        cell's formula evaluated over those values (a given: its value), in one pass."""
        env: list[float] = []
        expected: list[float] = []
        for cell in self.cells:
            value = cell.value if cell.formula is None else rounded(evaluate(cell.formula, env, self.index), cell.carry)
            expected.append(value)
            env.append(entered[cell.key] if cell.asked and cell.key in entered else value)
        return env, expected

    def mark(self, entered: Mapping[str, float]) -> list[Mark]:
        """Every asked value marked right, carried or wrong (or missing), in the sheet's order."""
        expected = self.run(entered)[1]
        spread = [0.0] * len(self.cells)
        for key, number in entered.items():
            # How far the student's own rounding of an entered value moves what follows from it.
            i = self.index[key]
            width = self.cells[i].tolerance or 0.0
            if not width:
                continue
            moved = self.run({**entered, key: number + width})[1]
            for j in range(i + 1, len(self.cells)):
                change = abs(moved[j] - expected[j])
                spread[j] += change if math.isfinite(change) else 0.0
        marks = []
        for cell in self.asked:
            i = self.index[cell.key]
            given = entered.get(cell.key)
            if given is None:
                status = MISSING
            elif close(given, cell.value, cell.tolerance, 0.0):
                status = RIGHT
            elif close(given, expected[i], cell.tolerance, spread[i]):
                status = CARRIED
            else:
                status = WRONG
            marks.append(Mark(cell.key, status, given, expected[i], cell.value))
        return marks


def close(number: float, target: float, tolerance: float | None, spread: float) -> bool:
    """Whether ``number`` is ``target`` within the sheet's tolerance (and ``spread`` more)."""
    if not math.isfinite(target):
        return number == target
    allowed = (tolerance or 0.0) + spread
    return abs(number - target) <= allowed * (1 + SLACK) + SLACK * abs(target)


def rounded(value: float, carry: Carry | None) -> float:
    """``value`` rounded half up as the student policy rounds it (the page's ``roundHalfUp``)."""
    if carry is None or not math.isfinite(value) or value == 0:
        return value
    digits = carry.digits - 1 - math.floor(math.log10(abs(value))) if carry.significant else carry.digits
    scale = 10.0**digits
    return math.copysign(math.floor(abs(value) * scale + 0.5 + 1e-9) / scale, value)


# --- the Python evaluator -------------------------------------------------------------------


def evaluate(node: Node, env: Sequence[float], index: Mapping[str, int]) -> float:
    """A formula tree in float arithmetic, its references read from ``env`` (by ``index`` of their
    keys); IEEE results where Python raises (1/0 = ∞, log 0 = −∞), as JavaScript gives them."""
    if isinstance(node, Ref):
        where = index.get(node.q.key)
        return float(node.q.approx) if where is None else env[where]
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Sum):
        return math.fsum(evaluate(t, env, index) for t in node.terms) if node.terms else 0.0
    if isinstance(node, Product):
        result = 1.0
        for factor in node.factors:
            result *= evaluate(factor, env, index)
        return result
    if isinstance(node, Difference):
        return evaluate(node.left, env, index) - evaluate(node.right, env, index)
    if isinstance(node, Negate):
        return -evaluate(node.arg, env, index)
    if isinstance(node, Power):
        return _power(evaluate(node.base, env, index), node.exponent)
    if isinstance(node, Quotient):
        return _divide(evaluate(node.num, env, index), evaluate(node.den, env, index))
    if isinstance(node, Log):
        return _log(evaluate(node.arg, env, index))
    if isinstance(node, Sqrt):
        value = evaluate(node.arg, env, index)
        return math.sqrt(value) if value >= 0 else math.nan
    if isinstance(node, Apply):
        return _call(node.function.rule, 1)(evaluate(node.arg, env, index))
    if isinstance(node, Slope):
        return _call(node.rule, 1)(evaluate(node.arg, env, index))
    if isinstance(node, Rule):
        return _call(node.rule, len(node.args))(*(evaluate(a, env, index) for a in node.args))
    raise TypeError(f"no value for formula node {type(node).__name__}")


def _power(base: float, exponent: int) -> float:
    try:
        return float(base**exponent)
    except (OverflowError, ZeroDivisionError):
        return math.inf


def _divide(num: float, den: float) -> float:
    if den != 0:
        return num / den
    return math.nan if num == 0 or math.isnan(num) else math.copysign(math.inf, num) * math.copysign(1.0, den)


def _log(value: float) -> float:
    return -math.inf if value == 0 else math.log(value) if value > 0 else math.nan


def _exp(value: float) -> float:
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


FLOAT_FUNCTIONS: dict[str, Callable[..., float]] = {"exp": _exp, "log": _log}
"""JavaScript's Math.exp and Math.log where Python's raise (e^{1000}, log 0)."""


@functools.cache
def _call(rule: Callable[..., sp.Expr], arity: int) -> Callable[..., float]:
    """A catalogue's (or a user's) exact rule as a float function, made once per rule."""
    names = _arguments(arity)
    function = sp.lambdify(names, rule(*names), modules=[FLOAT_FUNCTIONS, "math"])

    def call(*args: float) -> float:
        try:
            return float(function(*args))
        except (OverflowError, ZeroDivisionError, ValueError):
            return math.nan

    return call


def _arguments(arity: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"x{i}", real=True) for i in range(arity))


NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
"""A decimal (with a point), or one in scientific notation: what each side of a fraction may be."""


def parse_number(text: str, mark: str) -> float | None:
    """A student's number: a decimal with the sheet's decimal ``mark`` (either mark where ``mark`` is
    empty), an integer, a fraction p/q of them, or scientific notation; None for anything else. The
    page's ``parseNumber`` is the same rule in JavaScript."""
    text = text.strip().replace("\u2212", "-")
    other = {".": ",", ",": "."}.get(mark)
    if other is not None and other in text:
        return None
    parts = text.replace(",", ".").split("/")
    if len(parts) > 2 or not all(NUMBER.match(part) for part in parts):
        return None
    numbers = [float(part) for part in parts]
    if len(numbers) == 2:
        return numbers[0] / numbers[1] if numbers[1] != 0 else None
    return numbers[0]


# --- the JavaScript printer -----------------------------------------------------------------


class JsPrinter(JavascriptCodePrinter):
    """Formula trees as JavaScript expressions over the page's array ``v`` of values (a reference to
    cell i is ``v[i]``); a catalogue's or a user's rule becomes one function ``f0``, ``f1``, … printed
    from its SymPy form, which :attr:`functions` collects."""

    def __init__(self, index: Mapping[str, int]) -> None:
        super().__init__({"strict": True})
        self.index = index
        self.functions: dict[Callable[..., sp.Expr], tuple[str, str]] = {}
        """Each rule: its function's name and its definition."""

    def formula(self, node: Node) -> str:
        return str(self._print(node))

    def _print_Ref(self, node: Ref) -> str:
        where = self.index.get(node.q.key)
        return f"v[{where}]" if where is not None else _js_number(float(node.q.approx))

    def _print_Num(self, node: Num) -> str:
        value = node.value
        return f"({value.p}/{value.q})" if value.q != 1 else f"({value.p})"

    def _print_Sum(self, node: Sum) -> str:
        return "(" + " + ".join(self.formula(t) for t in node.terms) + ")" if node.terms else "0"

    def _print_Product(self, node: Product) -> str:
        return "(" + " * ".join(self.formula(f) for f in node.factors) + ")" if node.factors else "1"

    def _print_Difference(self, node: Difference) -> str:
        return f"({self.formula(node.left)} - {self.formula(node.right)})"

    def _print_Negate(self, node: Negate) -> str:
        return f"(-{self.formula(node.arg)})"

    def _print_Power(self, node: Power) -> str:
        return f"Math.pow({self.formula(node.base)}, {node.exponent})"

    def _print_Quotient(self, node: Quotient) -> str:
        return f"({self.formula(node.num)} / {self.formula(node.den)})"

    def _print_Log(self, node: Log) -> str:
        return f"Math.log({self.formula(node.arg)})"

    def _print_Sqrt(self, node: Sqrt) -> str:
        return f"Math.sqrt({self.formula(node.arg)})"

    def _print_Apply(self, node: Apply) -> str:
        return f"{self.function(node.function.rule, 1)}({self.formula(node.arg)})"

    def _print_Slope(self, node: Slope) -> str:
        return f"{self.function(node.rule, 1)}({self.formula(node.arg)})"

    def _print_Rule(self, node: Rule) -> str:
        args = ", ".join(self.formula(a) for a in node.args)
        return f"{self.function(node.rule, len(node.args))}({args})"

    def function(self, rule: Callable[..., sp.Expr], arity: int) -> str:
        """The name of ``rule``'s JavaScript function, printed the first time it is used."""
        if rule not in self.functions:
            names = _arguments(arity)
            body = JavascriptCodePrinter({"strict": True}).doprint(rule(*names))
            name = f"f{len(self.functions)}"
            params = ", ".join(str(n) for n in names)
            self.functions[rule] = (name, f"function {name}({params}) {{ return {' '.join(body.split())}; }}")
        return self.functions[rule][0]


def _js_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def javascript(program: Program) -> tuple[list[str | None], list[str]]:
    """Each cell's formula as a JavaScript expression over ``v`` (None for a given), and the
    functions they call."""
    printer = JsPrinter(program.index)
    formulas = [None if cell.formula is None else printer.formula(cell.formula) for cell in program.cells]
    return formulas, [definition for _, definition in printer.functions.values()]


MAX_ANSWER_BYTES = 1 << 20
"""Largest answers file ``derive check`` reads (a sheet's answers are a few kilobytes)."""
MAX_ANSWER_ROWS = 10_000
"""Most rows it reads (a readable sheet asks for a few hundred values)."""


def read_entered(text: str, program: Program, mark: str = "") -> dict[str, float]:
    """A student's values from CSV ``text``: an answer key and a value per row (a first row whose
    value is no number is a header; rows with no value are skipped); a ValueError naming the row for
    an unknown key or a value that is no number (``mark``: the decimal mark required, either where empty)."""
    if len(text.encode()) > MAX_ANSWER_BYTES:
        raise ValueError(f"more than {MAX_ANSWER_BYTES // 1024} KiB: not a sheet's answers")
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > MAX_ANSWER_ROWS:
        raise ValueError(f"{len(rows)} rows are more than {MAX_ANSWER_ROWS}: not a sheet's answers")
    entered: dict[str, float] = {}
    for line, row in enumerate(rows, 1):
        cells = [cell.strip() for cell in row]
        if len(cells) < 2 or not cells[0] or not cells[1]:
            continue  # an empty row, or a key without a value: not answered
        if line == 1 and parse_number(cells[1], mark) is None:
            continue  # the header
        key, value = cells[0], cells[1]
        if key not in program.index:
            hint = "a key with a comma is quoted in CSV" if "[" in key and "]" not in key else "see its answers file"
            raise ValueError(f"row {line}: {key!r} is no answer key of this sheet ({hint})")
        if not program.cells[program.index[key]].asked:
            raise ValueError(f"row {line}: {key} is not asked for on this sheet")
        number = parse_number(value, mark)
        if number is None:
            raise ValueError(f"row {line}: {key}: {value!r} is not a number (a decimal such as 0.25, or 3/4)")
        if key in entered:
            raise ValueError(f"row {line}: {key} is given twice")
        entered[key] = number
    return entered
