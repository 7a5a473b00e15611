"""An activation's values and slopes: f(z) and f'(z) at given points, each worked out as a student
would (σ'(z) through σ(z) itself), checked against the float rule and finite differences."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from derive.catalog.activations import Activation
from derive.exercise.kind import PartKind, asks_network, reads_network
from derive.exercise.kind import Table as SpecTable
from derive.exercise.letters import none
from derive.exercise.model import Network, Part, Spec
from derive.exercise.parts import PartReader
from derive.exercise.shapes import Shape
from derive.kinds.asking import named
from derive.maths.derivation import Derivation
from derive.maths.steps import Compute, Identity, PartSolution, Section
from derive.terms.formula import Apply, Quantity, Ref
from derive.terms.keys import Scope, key, symbol_of
from derive.terms.symbols import Partial, Sym
from derive.tex.givens import numbers
from derive.tex.printer import Latex, Printer
from derive.verify.closed import given_float
from derive.verify.floats import central_difference, unrounded
from derive.verify.twins import Expected, rounding_of

MAX_POINTS = 12
"""Most points a part evaluates (one line each on the sheet)."""


@dataclass(frozen=True)
class Points:
    activation: Activation
    points: tuple[sp.Rational, ...]


def read(
    reader: PartReader, path: list[str | int], table: SpecTable, network: Network, earlier: list[Part[Any]]
) -> Points:
    activation = reader.activation([*path, "activation"], table.get("activation", "sigmoid"))
    if activation.vector:
        raise reader.fail([*path, "activation"], "softmax maps a whole layer: it has no value at a single point")
    points = reader.vector([*path, "z"], table["z"], scalar_ok=True)
    if len(points) > MAX_POINTS:
        raise reader.fail([*path, "z"], f"at most {MAX_POINTS} points; found {len(points)}")
    return Points(activation, points)


def _symbols(count: int, i: int) -> tuple[Sym, Sym]:
    """z_i and a_i (no index for a single point)."""
    return symbol_of("z", None, count, i), symbol_of("a", None, count, i)


def derive(d: Derivation, part: Part[Points]) -> PartSolution:
    act, count = part.params.activation, len(part.params.points)
    scope = Scope.part(part.number)
    values, slopes = [], []
    for i, point in enumerate(part.params.points, 1):
        z_symbol, a_symbol = _symbols(count, i)
        z = Quantity.given(z_symbol, point, scope, d.spec.sheet.carry)
        a = Quantity.computed(a_symbol, Apply(act, Ref(z)), scope)
        values.append(a)
        # f'(z) as the catalogue writes it: through the value itself where it can (σ' = a(1 − a)).
        slopes.append(Quantity.computed(Partial(a_symbol, z_symbol), act.derivative(Ref(z), Ref(a)), scope))
    steps = (
        Identity(act.identity, act.prose),
        Compute(Sym("a"), None, tuple(values), shape=(count, 1)),
        Compute(Partial(Sym("a"), Sym("z")), None, tuple(slopes), shape=(count, 1)),
    )
    return PartSolution(part, (Section("activation_values", steps),))


def twin(out: Expected, spec: Spec, part: Part[Points]) -> None:
    act, count = part.params.activation, len(part.params.points)
    scope, r = Scope.part(part.number), rounding_of(spec)
    carried = r is not unrounded
    for i, point in enumerate(part.params.points, 1):
        z_symbol, a_symbol = _symbols(count, i)
        slope_key = key(scope, Partial(a_symbol, z_symbol))
        z = np.array([given_float(point)])
        a = r(act.floats.value(z))
        out.values[key(scope, z_symbol)] = float(z[0])
        out.values[key(scope, a_symbol)] = float(a[0])
        out.values[slope_key] = float(r(act.floats.slope_as_worked(z, a, carried))[0])
        if not (act.kink and point == 0):  # at a kink the one-sided slopes differ
            out.differences[slope_key] = central_difference(_nudged(act.floats.value, float(z[0])), float(z[0]))
            if carried:
                out.unrounded[slope_key] = float(act.floats.slope_as_worked(z, a, False)[0])


def _nudged(rule: Callable[[np.ndarray], np.ndarray], point: float) -> Callable[[float], float]:
    """The rule at point + h, as central_difference asks for it."""
    return lambda h: float(rule(np.array([point + h]))[0])


def ask(part: Part[Points], network: Network, printer: Printer) -> Mapping[str, object]:
    act = part.params.activation
    return {
        "activation": Latex(printer.pattern(act.identity)),
        "activation_prose": act.prose,
        "points": numbers(part.params.points, printer),
        "many": len(part.params.points) > 1,
    }


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """a = f(z) and the slope f'(z) at every point."""
    return {q.key for q in quantities if named(q, "a") or isinstance(q.symbol, Partial)}


KIND = PartKind(
    name="activation_values",
    keys={
        "activation": Shape("scalar_activation", 'the activation (default "sigmoid"); not softmax'),
        "z": Shape("numbers_or_number", f"the points z, at most {MAX_POINTS}"),
    },
    required=("z",),
    sample="none",
    student=True,
    read=reads_network(read),
    derive=derive,
    twin=twin,
    ask=asks_network(ask),
    asked=asked_keys,
    letters=none,
)
