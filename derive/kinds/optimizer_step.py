"""One optimizer step on given parameters and given gradients, with no network: the form of an
assignment's test case (W1, b1, W2, b2 and their gradients as matrices, the optimizer's state and the
step counter t given), worked out exactly tensor by tensor."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from derive.exercise.kind import PartKind, Table
from derive.exercise.model import Network, Part, Spec, Training
from derive.exercise.parts import PartReader
from derive.exercise.shapes import LEARNING_RATE, Shape, optimizer_key, whole
from derive.kinds.asking import KEPT, new_parameters, within
from derive.maths.derivation import Derivation
from derive.maths.network import Backward, Mat, Params, State, hyper_quantities, step
from derive.maths.steps import Identity, PartSolution, Section, Step
from derive.maths.updates import FULL_VALUES, flat, hyper_givens, initial_state, optimizer_steps, optimizer_table
from derive.terms.formula import Quantity
from derive.terms.keys import Scope, key, parameter, symbol_of
from derive.terms.rounding import Carry
from derive.terms.symbols import (
    LOSS,
    Partial,
    Stat,
    Sym,
    Symbolic,
    Updated,
)
from derive.tex.givens import hyper_list
from derive.tex.layout import matrix
from derive.tex.printer import Latex, Printer
from derive.verify.twins import Expected, hyper_of, record_hyper, rounding_of

MAX_TENSORS = 12
"""Most named parameters a part steps (W1, b1, …, W6, b6)."""
MAX_ENTRIES = 200
"""Most entries of all its parameters together (each is worked through every stage of the optimizer)."""
MAX_LAYER = 99
"""Highest layer number in a parameter's name (W99)."""
MAX_T = 100
"""Highest step counter t (Adam's bias corrections β^t are exact: a larger t writes long fractions)."""
NAME = re.compile(r"([Wb])([1-9][0-9]?)")
Rows = tuple[tuple[sp.Rational, ...], ...]
Tensors = tuple[tuple[str, Rows], ...]
"""Named tensors in the spec's order, each as rows (a bias as a column)."""


@dataclass(frozen=True)
class GivenStep:
    """The part's givens: the optimizer (learning rate, hyperparameters), the step counter t, the
    parameters θ_{t-1}, their gradients, and the optimizer's state after step t − 1 (missing: 0)."""

    training: Training
    t: int
    parameters: Tensors
    gradients: Tensors
    state: tuple[tuple[str, Tensors], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.parameters)

    def state_of(self, kept: str, name: str) -> Rows | None:
        """The given state ``kept`` (m, v, …) of parameter ``name``, or None where it is 0."""
        return dict(dict(self.state).get(kept, ())).get(name)


def read(
    reader: PartReader, path: list[str | int], table: Table, network: Network | None, earlier: list[Part[Any]]
) -> GivenStep:
    optimizer, chosen = reader.optimizer([*path, "optimizer"], table.get("optimizer", "sgd"), "sgd")
    rate = reader.positive([*path, "learning_rate"], table["learning_rate"])
    t = reader.integer([*path, "t"], table.get("t", 1), 1, MAX_T)
    parameters = _tensors(reader, [*path, "parameters"], table["parameters"], None)
    shapes = {name: (len(rows), len(rows[0])) for name, rows in parameters}
    if sum(rows * cols for rows, cols in shapes.values()) > MAX_ENTRIES:
        raise reader.fail([*path, "parameters"], f"at most {MAX_ENTRIES} entries in all")
    gradients = _tensors(reader, [*path, "gradients"], table["gradients"], shapes)
    for name in shapes:
        if name not in dict(gradients):
            raise reader.fail([*path, "gradients", name], "missing: every parameter needs its gradient")
    state: list[tuple[str, Tensors]] = []
    given = table.get("state", {})
    if not isinstance(given, dict):
        raise reader.fail([*path, "state"], "expected a table of the optimizer's state, e.g. { v = { W1 = [[...]] } }")
    if given and not optimizer.state:
        raise reader.fail([*path, "state"], f"{optimizer.name} keeps no state")
    for kept, tensors in given.items():
        if kept not in optimizer.state:
            raise reader.fail(
                [*path, "state", kept], f"not a state of {optimizer.name} (it keeps: {', '.join(optimizer.state)})"
            )
        if t == 1:
            raise reader.fail([*path, "state", kept], "the state before step t = 1 is 0: give t > 1 with a state")
        state.append((kept, _tensors(reader, [*path, "state", kept], tensors, shapes, partial=True)))
    training = Training(optimizer, rate, tuple(chosen.items()))
    return GivenStep(training, t, parameters, gradients, tuple(state))


def _tensors(
    reader: PartReader,
    path: list[str | int],
    value: object,
    shapes: Mapping[str, tuple[int, int]] | None,
    partial: bool = False,
) -> Tensors:
    """A table of named tensors: W<l> a matrix (a list of rows, one row, or one number), b<l> a vector
    (or one number); with ``shapes`` each must have the shape of the parameter of its name."""
    if not isinstance(value, dict) or not value:
        raise reader.fail(path, "expected a table of named tensors, e.g. { W1 = [[0.1, 0.2]], b1 = [0.0] }")
    if len(value) > MAX_TENSORS:
        raise reader.fail(path, f"at most {MAX_TENSORS} parameters; found {len(value)}")
    out: list[tuple[str, Rows]] = []
    for name, given in value.items():
        where = [*path, name]
        if shapes is not None and name not in shapes:
            raise reader.fail(where, f"no parameter of this name (the parameters are {', '.join(shapes)})")
        match = NAME.fullmatch(name)
        if match is None:
            raise reader.fail(where, f"a parameter is named W<layer> or b<layer> (W1, b1, …, W{MAX_LAYER})")
        rows = _rows(reader, where, given, match.group(1) == "W")
        if shapes is not None and (len(rows), len(rows[0])) != shapes[name]:
            wanted, found = shapes[name], (len(rows), len(rows[0]))
            raise reader.fail(where, f"shape {_shape(found)} but the parameter {name} is {_shape(wanted)}")
        out.append((name, rows))
    return tuple(out)


def _rows(reader: PartReader, path: list[str | int], value: object, weight: bool) -> Rows:
    """A weight as rows (one list: one row), a bias as a column; one number is a 1×1 tensor."""
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        if not weight:
            raise reader.fail(path, "a bias is a vector (a list of numbers) or one number, not a matrix")
        return reader.matrix(path, value)
    entries = reader.vector(path, value, scalar_ok=True)
    return (entries,) if weight else tuple((v,) for v in entries)


def _shape(shape: tuple[int, int]) -> str:
    return f"{shape[0]}×{shape[1]}"


def entry_symbol(name: str, rows: int, cols: int, i: int, j: int) -> Sym:
    """The symbol of entry (i, j) of parameter ``name``: w^{(l)}_{i,j}, or b^{(l)}_i (its index
    hidden for a bias of one entry), as the network's own parameters are named."""
    symbol = parameter(name)
    if symbol.base == "W":
        return Sym("w", symbol.layer, (i, j))
    return symbol_of("b", int(str(symbol.layer)), rows, i)


def _layout(given: GivenStep, make: Any) -> Params:
    """Quantities laid out as the engine's parameters (by layer number; a layer without the tensor
    has none), ``make(name, rows, cols, i, j)`` each."""
    layers = max(int(name[1:]) for name in given.names)
    found = dict(given.parameters)

    def tensor(name: str) -> Mat:
        rows = found.get(name, ())
        return tuple(
            tuple(make(name, len(rows), len(row), i, j) for j in range(1, len(row) + 1))
            for i, row in enumerate(rows, 1)
        )

    weights = tuple(tensor(f"W{l}") for l in range(1, layers + 1))
    biases = tuple(tuple(q for (q,) in tensor(f"b{l}")) for l in range(1, layers + 1))
    return Params(weights, biases)


def given_quantities(given: GivenStep, scope: Scope, carry: Carry | None) -> tuple[Params, Params, Backward, State]:
    """The entries' plain names (the engine keys a step by them), the given parameters θ_{t-1}, their
    gradients and the optimizer's state after step t − 1, as given quantities."""
    t = given.t
    values = dict(given.parameters)
    gradients = dict(given.gradients)

    def named(name: str, rows: int, cols: int, i: int, j: int) -> Quantity:
        return Quantity.given(entry_symbol(name, rows, cols, i, j), values[name][i - 1][j - 1], scope, carry)

    def theta(name: str, rows: int, cols: int, i: int, j: int) -> Quantity:
        symbol = entry_symbol(name, rows, cols, i, j)
        return Quantity.given(symbol if t == 1 else Updated(symbol, t - 1), values[name][i - 1][j - 1], scope, carry)

    def gradient(name: str, rows: int, cols: int, i: int, j: int) -> Quantity:
        symbol = Partial(LOSS, entry_symbol(name, rows, cols, i, j))
        return Quantity.given(symbol, gradients[name][i - 1][j - 1], scope, carry)

    origin = _layout(given, named)
    params = _layout(given, theta) if t > 1 else origin
    grads = Backward((), (), (), _layout(given, gradient))
    kept: dict[str, dict[str, Quantity]] = {}
    if t > 1:  # after step t − 1 every state is given: as the spec gives it, else 0
        for stat in given.training.optimizer.state:
            for name in given.names:
                rows = given.state_of(stat, name)
                for q, o in zip(flat(origin.tensor(name)), _flat_values(rows, origin.tensor(name)), strict=True):
                    symbol = Stat(stat, q.name, t - 1)
                    kept.setdefault(stat, {})[q.key] = Quantity.given(symbol, o, scope, carry)
    return origin, params, grads, State(t - 1, kept)


def _flat_values(rows: Rows | None, like: Mat) -> list[sp.Rational]:
    if rows is None:
        return [sp.Integer(0)] * len(flat(like))
    return [v for row in rows for v in row]


def state_givens(given: GivenStep, origin: Params, state: State) -> list[tuple[Symbolic, Mat]]:
    """Each state tensor after step t − 1 laid out as its parameter, for the question."""
    out: list[tuple[Symbolic, Mat]] = []
    for stat in given.training.optimizer.state if given.t > 1 else ():
        for name in given.names:
            rows = origin.tensor(name)
            out.append(
                (
                    Stat(stat, parameter(name), given.t - 1),
                    tuple(tuple(state.values[stat][q.key] for q in row) for row in rows),
                )
            )
    return out


def derive(d: Derivation, part: Part[GivenStep]) -> PartSolution:
    """The update rule and the hyperparameters, then per parameter tensor every stage of the step:
    each entry in full for a small tensor, one entry worked and a table of all for a larger one."""
    given = part.params
    training, scope = given.training, Scope.part(part.number)
    optimizer = training.optimizer
    origin, params, grads, state = given_quantities(given, scope, d.spec.sheet.carry)
    hyper = hyper_quantities(optimizer, training.learning_rate, scope, d.spec.sheet.carry, **dict(training.hyper))
    stepped = step(origin, params, grads, optimizer, hyper, state, given.names, scope)
    rule: tuple[Step, ...] = (Identity(optimizer.formula, optimizer.prose), *hyper_givens(hyper))
    sections = [Section("given_step_rule", rule, str(given.t))]
    for name in given.names:
        if len(optimizer.stages) * len(flat(params.tensor(name))) > FULL_VALUES:
            steps = optimizer_table(optimizer, hyper, params, grads, stepped, (name,), show_hyper=False, explained=True)
        else:
            steps = optimizer_steps(optimizer, hyper, params, grads, stepped, (name,), show_hyper=False)
        sections.append(Section("given_step", tuple(steps), name))
    return PartSolution(part, tuple(sections))


def twin(out: Expected, spec: Spec, part: Part[GivenStep]) -> None:
    """The step in floats, tensor by tensor, with the catalogue's float rule; the givens keyed as the
    exact engine keys them (the gate checks each)."""
    given = part.params
    training, t, scope = given.training, given.t, Scope.part(part.number)
    hyper = hyper_of(training)
    record_hyper(out, scope, hyper)
    r = rounding_of(spec)
    gradients = dict(given.gradients)
    for name, rows in given.parameters:
        theta = np.array(rows, dtype=float)
        g = np.array(gradients[name], dtype=float)
        previous = {}
        for stat in training.optimizer.state if t > 1 else ():
            kept = given.state_of(stat, name)
            previous[stat] = np.zeros_like(theta) if kept is None else np.array(kept, dtype=float)
        stages = training.optimizer.floats(theta, g, previous, t, hyper, r)
        for (i, j), value in np.ndenumerate(theta):
            symbol = entry_symbol(name, len(rows), len(rows[0]), i + 1, j + 1)
            out.values[key(scope, symbol if t == 1 else Updated(symbol, t - 1))] = float(value)
            out.values[key(scope, Partial(LOSS, symbol))] = float(g[i, j])
            for stat, values in previous.items():
                out.values[key(scope, Stat(stat, symbol, t - 1))] = float(values[i, j])
            for stage, values in stages.items():
                target = Updated(symbol, t) if stage == "theta" else Stat(stage, symbol, t)
                out.values[key(scope, target)] = float(values[i, j])


def ask(part: Part[GivenStep], network: Network | None, printer: Printer) -> Mapping[str, object]:
    """The optimizer, α and its hyperparameters, t, and every given tensor written as a matrix."""
    given = part.params
    training, t = given.training, given.t
    origin, params, grads, state = given_quantities(given, Scope.part(part.number), None)
    # A display line per parameter (θ and its gradient), then one per parameter with its state.
    lines: list[list[tuple[Symbolic, Mat]]] = []
    for name in given.names:
        symbol = parameter(name)
        theta = symbol if t == 1 else Updated(symbol, t - 1)
        lines.append([(theta, params.tensor(name)), (Partial(LOSS, symbol), grads.gradients.tensor(name))])
    kept = state_givens(given, origin, state)
    for name in given.names:
        line: list[tuple[Symbolic, Mat]] = [
            (symbol, rows) for symbol, rows in kept if isinstance(symbol, Stat) and symbol.of == parameter(name)
        ]
        if line:
            lines.append(line)
    return {
        "optimizer": training.optimizer.prose,
        "plain": training.optimizer.plain,
        "optimizer_formula": Latex(printer.pattern(training.optimizer.formula)),
        "learning_rate": Latex(printer.given(training.learning_rate)),
        "hyper": hyper_list(training, printer),
        "t": t,
        "kept": [Latex(printer.symbol(Sym(stat))) for stat in training.optimizer.state],
        "given_state": [stat for stat, _ in given.state],
        # m_0 = v_0 = 0: the state step t = 1 starts from (empty for plain gradient descent).
        "state": Latex(printer.show(initial_state(training.optimizer))) if training.optimizer.state else Latex(""),
        "lines": [[_given_tensor(printer, symbol, rows) for symbol, rows in line] for line in lines],
        # Each parameter's name as the sheet writes it, for the heading of its step.
        "symbols": {name: Latex(printer.symbol(parameter(name), oriented=True)) for name in given.names},
    }


def _given_tensor(printer: Printer, symbol: Symbolic, rows: Sequence[Sequence[Quantity]]) -> dict[str, Latex]:
    name, shown = printer.listing(symbol, rows)
    return {"symbol": Latex(name), "value": Latex(matrix([[printer.shown(q) for q in row] for row in shown]))}


TENSORS = "a table of named tensors: W1 = [[...]] a matrix, b1 = [...] a vector (or one number each)"


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """The new parameters and the new state of the step (not the given state, not m̂, v̂)."""
    return new_parameters(quantities) | {
        q.key
        for q in quantities
        if isinstance(q.symbol, Stat) and q.formula is not None and q.symbol.name in KEPT and not within(q)
    }


KIND = PartKind(
    name="optimizer_step",
    keys={
        "optimizer": optimizer_key("sgd"),
        "learning_rate": LEARNING_RATE,
        "t": whole(1, MAX_T, "the step counter t of the step taken (default 1; Adam's bias corrections use it)"),
        "parameters": Shape("tensors", f"the parameters θ_(t-1): {TENSORS}", 1, MAX_TENSORS),
        "gradients": Shape("tensors", "the gradient of each parameter, of its shape", 1, MAX_TENSORS),
        "state": Shape(
            "state",
            "the optimizer's state after step t − 1 by its name (m, v, s, r), each of the "
            "parameters' tensors (missing: 0)",
            1,
            MAX_TENSORS,
        ),
    },
    required=("learning_rate", "parameters", "gradients"),
    sample="none",
    student=True,
    read=read,
    derive=derive,
    twin=twin,
    ask=ask,
    asked=asked_keys,
    network=False,
    differences=False,
)
