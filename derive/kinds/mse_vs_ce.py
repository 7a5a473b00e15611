"""Squared error against cross-entropy for a sigmoid output: ∂L/∂z under both, derived and
compared across predictions, and which loss suits which task."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from derive.catalog.activations import SIGMOID
from derive.catalog.losses import SQUARED_ERROR
from derive.exercise.kind import PartKind
from derive.exercise.kind import Table as SpecTable
from derive.exercise.model import ONE, Network, Part, Spec
from derive.exercise.parts import PartReader
from derive.maths.derivation import Derivation
from derive.maths.steps import Algebra, Finding, PartSolution, Section, Table
from derive.maths.symbolic import bce, checked
from derive.terms.display import AsWritten, Pattern, Rounded, Y, Z
from derive.terms.formula import Difference, Num, Product, Quantity
from derive.terms.keys import Scope, key
from derive.terms.symbols import LOSS, LossSlope, Partial, Sym
from derive.tex.givens import numbers
from derive.tex.printer import Latex, Printer
from derive.verify.twins import Expected


@dataclass(frozen=True)
class LossComparison:
    probabilities: tuple[sp.Rational, ...]
    target: sp.Rational = ONE
    """The class label (0 or 1) both gradients are taken for."""


def read(
    reader: PartReader, path: list[str | int], table: SpecTable, network: Network, earlier: list[Part[Any]]
) -> LossComparison:
    probabilities = reader.probabilities(path, table)
    if "target" not in table:
        return LossComparison(probabilities)
    target = reader.number([*path, "target"], table["target"])
    if target not in (0, 1):
        raise reader.fail([*path, "target"], f"a class label 0 or 1 is needed; found {target}")
    return LossComparison(probabilities, target)


def derive(d: Derivation, part: Part[LossComparison]) -> PartSolution:
    scope = Scope.part(part.number)
    y = part.params.target
    sigma = SIGMOID.rule(Z)
    mse_z = 2 * (sigma - Y) * sigma * (1 - sigma)
    checked(sp.diff(SQUARED_ERROR.term(Num(sigma), Num(Y)).exact(), Z), mse_z)
    checked(sp.diff(bce(sigma, Y), Z), sigma - Y)
    dz = (Partial(LOSS, Sym("z")),)
    algebra = Algebra(
        "mse_vs_ce",
        (
            (Pattern(r"#1\Big|_{\text{MSE}}", dz), (Pattern(r"2(p - @y) \cdot p(1 - p)"),)),
            (Pattern(r"#1\Big|_{\text{CE}}", dz), (Pattern("p - @y"),)),
        ),
    )
    rows = []
    for p in part.params.probabilities:
        mse = Quantity.computed(
            LossSlope("mse", p),
            Product((Num(sp.Integer(2)), Difference(Num(p), Num(y)), Num(p), Difference(Num(sp.Integer(1)), Num(p)))),
            scope,
        )
        ce = Quantity.computed(LossSlope("ce", p), Difference(Num(p), Num(y)), scope)
        rows.append((AsWritten(p), mse, ce))
    header = ("p", Pattern(r"\text{MSE: } 2(p - @y)\,p(1 - p)"), Pattern(r"\text{CE: } p - @y"))
    worst = max(rows, key=lambda row: abs(float(row[2].approx)))
    facts = (
        ("y", str(y)),
        ("p", worst[0]),
        ("mse", Rounded(worst[1].approx, 6)),
        ("ce", Rounded(worst[2].approx, 6)),
        ("ratio", Rounded(abs(worst[2].approx / worst[1].approx), 1)),
    )
    return PartSolution(
        part,
        (
            Section("mse_vs_ce_derivation", (algebra,)),
            Section("mse_vs_ce_table", (Table("mse_vs_ce", header, tuple(rows)), Finding("vanishing", facts))),
        ),
    )


def twin(out: Expected, spec: Spec, part: Part[LossComparison]) -> None:
    scope, y = Scope.part(part.number), float(part.params.target)
    for p_exact in part.params.probabilities:
        p = float(p_exact)
        out.values[key(scope, LossSlope("mse", p_exact))] = 2 * (p - y) * p * (1 - p)
        out.values[key(scope, LossSlope("ce", p_exact))] = p - y


def ask(part: Part[LossComparison], network: Network, printer: Printer) -> Mapping[str, object]:
    return {
        "probabilities": numbers(part.params.probabilities, printer),
        "target": Latex(printer.inline(part.params.target)),
    }


KIND = PartKind(
    name="mse_vs_ce",
    keys=("p", "target"),
    required=(),
    sample="none",
    student=False,
    read=read,
    derive=derive,
    twin=twin,
    ask=ask,
    one_output=True,
)
