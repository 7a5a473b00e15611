"""A computational graph (a circuit of gates) from a formula as text, or from a single neuron.

The formula is read with the same whitelist walk and bounds as every formula of a spec
(:mod:`derive.catalog.parsing`), but kept as the student draws it: each operation one gate, in the
order written, a variable used twice one wire that fans out. A part without variables (2/3, 1 + 1)
is a constant, folded into its gate (×c, +c, the power n).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from derive.catalog.gates import GATES
from derive.catalog.parsing import MAX_DEPTH, MAX_LENGTH, MAX_POWER, FormulaError, parse_formula
from derive.terms.symbols import Sym

MAX_GATES = 30
"""Most gates in a circuit (a drawing on one page)."""
MAX_INPUTS = 12
"""Most variables of a circuit."""
NAME = re.compile(r"[A-Za-z][0-9]{0,2}")
"""A variable's name: a letter, optionally with an index of up to two digits (x, w0, x12)."""
RESERVED = ("e", "f", "q")
"""Letters a variable may not take: Euler's number, the output f and the intermediate wires q_k."""
FUNCTIONS = {"exp": "exp", "log": "log", "ln": "log", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu"}
"""The gates a formula calls by name with one argument (max and min take two)."""
OUTPUT = Sym("f")
"""The output of a circuit."""
WIRE = "q"
"""The letter of the wires between gates, q_1, q_2, …"""


@dataclass(frozen=True)
class Wire:
    """One wire of a circuit: a variable (``gate`` empty), or the output of a gate reading earlier wires."""

    name: str = ""
    """The variable's name as the spec writes it (x, w0); empty for a gate's output."""
    gate: str = ""
    args: tuple[int, ...] = ()
    constant: sp.Rational | None = None


@dataclass(frozen=True)
class Graph:
    """The wires in order: the variables first (as they first appear), then the gates in the order
    they compute (every gate after the wires it reads); the last wire is the output f."""

    wires: tuple[Wire, ...]

    @property
    def inputs(self) -> tuple[int, ...]:
        return tuple(i for i, w in enumerate(self.wires) if not w.gate)

    @property
    def gates(self) -> tuple[int, ...]:
        return tuple(i for i, w in enumerate(self.wires) if w.gate)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(w.name for w in self.wires if not w.gate)

    def readers(self, wire: int) -> tuple[tuple[int, int], ...]:
        """(gate, argument position) of every use of ``wire``: more than one where it fans out."""
        return tuple((g, k) for g in self.gates for k, a in enumerate(self.wires[g].args) if a == wire)


def variable(name: str) -> Sym:
    """A variable's symbol from its name in the spec: x, or w0 as w_0."""
    letter, digits = name[0], name[1:]
    return Sym(letter, None, (int(digits),)) if digits else Sym(letter)


def wire_symbols(graph: Graph) -> tuple[Sym, ...]:
    """Each wire's symbol: the variables by their names, the gates' outputs q_1, q_2, …, the last f
    (both engines name the quantities so, and the answers key them so)."""
    symbols: list[Sym] = []
    last = len(graph.wires) - 1
    count = 0
    for i, wire in enumerate(graph.wires):
        if not wire.gate:
            symbols.append(variable(wire.name))
        elif i == last:
            symbols.append(OUTPUT)
        else:
            count += 1
            symbols.append(Sym(WIRE, None, (count,)))
    return tuple(symbols)


class _Builder:
    def __init__(self, text: str, names: Sequence[str]) -> None:
        self.text = text
        self.allowed = names
        self.wires: list[Wire] = []
        self.variables: dict[str, int] = {}

    def gate(self, name: str, args: tuple[int, ...], constant: sp.Rational | None = None) -> int:
        if sum(1 for w in self.wires if w.gate) >= MAX_GATES:
            raise FormulaError(f"more than {MAX_GATES} gates: a circuit must fit on a page")
        self.wires.append(Wire("", name, args, constant))
        return len(self.wires) - 1

    def constant(self, node: ast.expr) -> sp.Rational | None:
        """The node's value if it has no variable (a rational number), else None."""
        if any(isinstance(n, ast.Name) and n.id in self.allowed for n in ast.walk(node)):
            return None
        source = ast.get_source_segment(self.text, node) or ""
        value = parse_formula(source, {})
        if not value.is_Rational:
            raise FormulaError(f"the constant {source!r} is not a rational number; a gate's constant must be")
        return value  # type: ignore[return-value]

    def build(self, node: ast.expr, depth: int) -> int:
        """The wire carrying ``node``'s value."""
        if depth > MAX_DEPTH:
            raise FormulaError(f"the formula is nested more than {MAX_DEPTH} levels deep")
        if self.constant(node) is not None:
            shown = ast.get_source_segment(self.text, node)
            raise FormulaError(f"{shown!r} alone is a constant: a circuit's constants go into a gate (×c, +c, ^n)")
        if isinstance(node, ast.Name):
            if node.id not in self.variables:
                self.wires.append(Wire(node.id))
                self.variables[node.id] = len(self.wires) - 1
            return self.variables[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.build(node.operand, depth + 1)
            return self.gate("negate", (inner,)) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        shown = ast.get_source_segment(self.text, node) or type(node).__name__
        raise FormulaError(f"not allowed in a circuit: {shown!r}")

    def binary(self, node: ast.BinOp, depth: int) -> int:
        left, right = self.constant(node.left), self.constant(node.right)
        op = node.op
        if isinstance(op, ast.Pow):
            if left is not None or right is None:
                raise FormulaError("a power's exponent must be a whole number (x^2, x^-1), not a variable")
            if not right.is_Integer or right == 0 or abs(right) > MAX_POWER:
                raise FormulaError(f"a power's exponent must be a whole number from -{MAX_POWER} to {MAX_POWER}, not 0")
            base = self.build(node.left, depth + 1)
            if right == 1:
                return base
            return self.gate("reciprocal", (base,)) if right == -1 else self.gate("power", (base,), right)
        if not isinstance(op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            raise FormulaError("only + - * / and powers join the terms of a circuit")
        if left is None and right is None:
            a, b = self.build(node.left, depth + 1), self.build(node.right, depth + 1)
            if isinstance(op, ast.Add):
                return self.gate("add", (a, b))
            if isinstance(op, ast.Sub):
                return self.gate("add", (a, self.gate("negate", (b,))))
            if isinstance(op, ast.Mult):
                return self.gate("multiply", (a, b))
            return self.gate("multiply", (a, self.gate("reciprocal", (b,))))
        if left is not None and right is not None:  # both constant: the whole node is (refused by build)
            raise FormulaError("a constant alone is no gate")
        if right is not None:  # wire op c
            wire = self.build(node.left, depth + 1)
            if isinstance(op, ast.Div) and right == 0:
                raise FormulaError("division by zero in the formula")
            c = {ast.Add: right, ast.Sub: -right, ast.Mult: right, ast.Div: 1 / right}[type(op)]
            return self.scaled(wire, c) if isinstance(op, ast.Mult | ast.Div) else self.shifted(wire, c)
        assert left is not None
        wire = self.build(node.right, depth + 1)
        if isinstance(op, ast.Add):
            return self.shifted(wire, left)
        if isinstance(op, ast.Sub):
            return self.shifted(self.gate("negate", (wire,)), left)
        if isinstance(op, ast.Mult):
            return self.scaled(wire, left)
        return self.scaled(self.gate("reciprocal", (wire,)), left)

    def scaled(self, wire: int, c: sp.Rational) -> int:
        if c == 1:
            return wire
        return self.gate("negate", (wire,)) if c == -1 else self.gate("scale", (wire,), c)

    def shifted(self, wire: int, c: sp.Rational) -> int:
        return wire if c == 0 else self.gate("shift", (wire,), c)

    def call(self, node: ast.Call, depth: int) -> int:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        allowed = [*FUNCTIONS, "max", "min"]
        if name not in allowed:
            shown = name or ast.get_source_segment(self.text, node.func) or "?"
            raise FormulaError(f"unknown gate {shown!r}; allowed: {', '.join(allowed)}")
        arity = 2 if name in ("max", "min") else 1
        if node.keywords or len(node.args) != arity:
            raise FormulaError(f"{name}() takes exactly {'two arguments' if arity == 2 else 'one argument'}")
        if arity == 1:
            return self.gate(FUNCTIONS[name], (self.build(node.args[0], depth + 1),))
        if any(self.constant(arg) is not None for arg in node.args):
            raise FormulaError(f"{name}() of a constant: write both arguments with variables (relu(x) for max(x, 0))")
        return self.gate(name, tuple(self.build(arg, depth + 1) for arg in node.args))


def check_name(name: str) -> None:
    """Refuse a variable name a circuit cannot use."""
    if not NAME.fullmatch(name):
        raise FormulaError(f"a variable's name is a letter with an optional number of up to two digits, not {name!r}")
    if name in RESERVED:
        raise FormulaError(f"{name!r} is taken (e is Euler's number, f the output, q the wires between gates)")


def parse_circuit(text: str, names: Sequence[str]) -> Graph:
    """The circuit of ``text`` over the variables ``names``; raises :class:`FormulaError` on anything else."""
    for name in names:
        check_name(name)
    if len(names) > MAX_INPUTS:
        raise FormulaError(f"at most {MAX_INPUTS} variables; found {len(names)}")
    if not text.strip():
        raise FormulaError("the formula is empty")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is longer than {MAX_LENGTH} characters")
    source = text.strip().replace("^", "**")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise FormulaError(f"not a formula: {error.msg} at column {error.offset}") from None
    for node in ast.walk(tree.body):
        if isinstance(node, ast.Name) and node.id not in names and not _called(tree.body, node):
            raise FormulaError(f"unknown name {node.id!r}; the variables given values are: {', '.join(names)}")
    builder = _Builder(source, names)
    output = builder.build(tree.body, 0)
    if not builder.wires[output].gate:
        raise FormulaError("the formula is a single variable: a circuit needs at least one gate")
    unused = [name for name in names if name not in builder.variables]
    if unused:
        raise FormulaError(f"the formula does not use {', '.join(unused)}")
    return _ordered(builder.wires)


def _called(tree: ast.expr, name: ast.Name) -> bool:
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(tree))


def _ordered(wires: list[Wire]) -> Graph:
    """The variables first, in the order they first appear, then the gates in the order they compute."""
    order = [i for i, w in enumerate(wires) if not w.gate] + [i for i, w in enumerate(wires) if w.gate]
    place = {old: new for new, old in enumerate(order)}
    moved = [wires[i] for i in order]
    return Graph(tuple(Wire(w.name, w.gate, tuple(place[a] for a in w.args), w.constant) for w in moved))


def neuron_circuit(
    inputs: int, activation: str, expanded: bool, bias: bool, first: int = 1
) -> tuple[Graph, tuple[str, ...]]:
    """The circuit of one neuron f = act(w_1 x_1 + … + w_n x_n + b): the products, the partial sums,
    then the activation as one gate, or a sigmoid as ×(−1), exp, +1, 1/x and tanh(s) = 2σ(2s) − 1
    as ×(−2), exp, +1, 1/x, ×2, +(−1). The names are w1, x1, w2, x2, …, b (the variables' order;
    ``first`` is the first index, 0 or 1)."""
    names: list[str] = []
    wires: list[Wire] = []
    for i in range(first, first + inputs):
        names += [f"w{i}", f"x{i}"]
    if bias:
        names.append("b")
    wires = [Wire(name) for name in names]

    def gate(name: str, args: tuple[int, ...], c: sp.Rational | None = None) -> int:
        wires.append(Wire("", name, args, c))
        return len(wires) - 1

    total = -1
    for i in range(inputs):
        product = gate("multiply", (2 * i, 2 * i + 1))
        total = product if total < 0 else gate("add", (total, product))
    if bias:
        total = gate("add", (total, 2 * inputs))
    if not expanded or activation == "relu":
        gate(activation, (total,))
    else:
        twice = activation == "tanh"
        inner = gate("scale", (total,), sp.Integer(-2)) if twice else gate("negate", (total,))
        reciprocal = gate("reciprocal", (gate("shift", (gate("exp", (inner,)),), sp.Integer(1)),))
        if twice:
            gate("shift", (gate("scale", (reciprocal,), sp.Integer(2)),), sp.Integer(-1))
    return Graph(tuple(wires)), tuple(names)


def evaluate_floats(graph: Graph, values: Mapping[int, float]) -> list[float]:
    """Every wire's value in floats (the variables' from ``values``), the float rules of the gates."""
    out: list[float] = []
    for i, wire in enumerate(graph.wires):
        if not wire.gate:
            out.append(values[i])
            continue
        c = float(wire.constant) if wire.constant is not None else 0.0
        out.append(GATES[wire.gate].floats([out[a] for a in wire.args], c))
    return out
