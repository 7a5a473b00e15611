"""Squared error against cross-entropy for a sigmoid output: ∂L/∂z under both, derived and
compared across predictions, and which loss suits which task."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from derive.catalog.activations import SIGMOID
from derive.catalog.losses import BINARY_CROSS_ENTROPY, SQUARED_ERROR
from derive.exercise.kind import PartKind, asks_network, reads_network
from derive.exercise.kind import Table as SpecTable
from derive.exercise.letters import probability
from derive.exercise.model import ONE, Network, Part, Spec
from derive.exercise.parts import PartReader
from derive.exercise.shapes import Shape
from derive.kinds.cross_entropy import SIGMOID_PRODUCT
from derive.maths.derivation import Derivation
from derive.maths.steps import Algebra, Compute, Finding, PartSolution, Section, Step, Table
from derive.maths.symbolic import bce, checked
from derive.terms.display import AsWritten, Expression, P, Pattern, Rounded, Y, Z
from derive.terms.formula import Difference, Num, Product, Quantity, Ref
from derive.terms.keys import Scope, key
from derive.terms.symbols import (
    LOSS,
    TARGET,
    LossSlope,
    Partial,
    Sym,
)
from derive.tex.givens import numbers
from derive.tex.printer import Latex, Printer
from derive.verify.closed import given_float
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


def _algebra() -> Algebra:
    """Both paths by the chain rule, ∂L/∂p first, then through p = σ(z); every equality checked."""
    sigma = SIGMOID.rule(Z)
    squared = SQUARED_ERROR.term(Num(P), Num(Y)).exact()
    mse_p, mse_z = sp.diff(squared, P), 2 * (P - Y) * P * (1 - P)
    checked(mse_p, 2 * (P - Y))
    checked(sp.diff(sigma, Z), sigma * (1 - sigma))
    checked(mse_p * P * (1 - P), mse_z)
    checked(sp.diff(SQUARED_ERROR.term(Num(sigma), Num(Y)).exact(), Z), mse_z.subs(P, sigma))
    ce_p = -Y / P + (1 - Y) / (1 - P)
    spread = -Y * (1 - P) + (1 - Y) * P
    checked(sp.diff(bce(P, Y), P), ce_p)
    checked(ce_p * P * (1 - P), spread, P - Y)
    checked(sp.diff(bce(sigma, Y), Z), sigma - Y)
    d_p, d_p_z = Partial(LOSS, Sym("p")), Partial(Sym("p"), Sym("z"))
    d_mse, d_ce = Pattern(r"#1\Big|_{\text{MSE}}", (d_p,)), Pattern(r"#1\Big|_{\text{CE}}", (d_p,))
    return Algebra(
        "mse_vs_ce",
        (
            (d_p_z, (Pattern(r"\sigma'(@z)"), SIGMOID_PRODUCT, "p(1 - p)")),
            (d_mse, (Expression(mse_p), Pattern("2(p - @y)"))),
            (
                Pattern(r"#1\Big|_{\text{MSE}}", (Partial(LOSS, Sym("z")),)),
                (Pattern(r"#1 \, #2", (d_mse, d_p_z)), Pattern(r"2(p - @y) \cdot p(1 - p)")),
            ),
            (d_ce, (Expression(ce_p),)),
            (
                Pattern(r"#1\Big|_{\text{CE}}", (Partial(LOSS, Sym("z")),)),
                (
                    Pattern(r"#1 \, #2", (d_ce, d_p_z)),
                    Pattern(r"\left(#1\right) p(1 - p)", (Expression(ce_p),)),
                    Expression(spread),
                    Expression(P - Y),
                ),
            ),
        ),
    )


def _worked(p: sp.Rational, y: sp.Rational, scope: Scope) -> tuple[Quantity, Quantity, Quantity, Quantity, Quantity]:
    """The chain-rule product at one prediction with the sheet's numbers: ∂p/∂z, ∂L/∂p under each
    loss (scoped by the loss), and their products (the table's entries for this p)."""
    given_p, given_y = Quantity.given(Sym("p"), p, scope), Quantity.given(TARGET, y, scope)
    slope = Quantity.computed(
        Partial(Sym("p"), Sym("z")), Product((Ref(given_p), Difference(Num(sp.Integer(1)), Ref(given_p)))), scope
    )
    d_p = Partial(LOSS, Sym("p"))
    mse_p = Quantity.computed(d_p, SQUARED_ERROR.gradient(Ref(given_p), Ref(given_y)), scope.tag("mse"))
    ce_p = Quantity.computed(d_p, BINARY_CROSS_ENTROPY.gradient(Ref(given_p), Ref(given_y)), scope.tag("ce"))
    mse = Quantity.computed(LossSlope("mse", p), Product((Ref(mse_p), Ref(slope))), scope)
    ce = Quantity.computed(LossSlope("ce", p), Product((Ref(ce_p), Ref(slope))), scope)
    return slope, mse_p, mse, ce_p, ce


def derive(d: Derivation, part: Part[LossComparison]) -> PartSolution:
    scope = Scope.part(part.number)
    y = part.params.target
    # The most wrong prediction (the largest |p − y|, the CE gradient) is worked through with its
    # numbers; its table row is those products, the other rows are computed directly.
    p_worst = max(part.params.probabilities, key=lambda p: abs(p - y))
    slope, mse_p, mse, ce_p, ce = _worked(p_worst, y, scope)
    rows = []
    for p in part.params.probabilities:
        if p == p_worst:
            rows.append((AsWritten(p), mse, ce))
            continue
        factors = (Num(sp.Integer(2)), Difference(Num(p), Num(y)), Num(p), Difference(Num(sp.Integer(1)), Num(p)))
        row_mse = Quantity.computed(LossSlope("mse", p), Product(factors), scope)
        rows.append((AsWritten(p), row_mse, Quantity.computed(LossSlope("ce", p), Difference(Num(p), Num(y)), scope)))
    header = ("p", Pattern(r"\text{MSE: } 2(p - @y)\,p(1 - p)"), Pattern(r"\text{CE: } p - @y"))
    facts = (
        ("y", str(y)),
        ("p", AsWritten(p_worst)),
        ("mse", Rounded(mse.approx, 6)),
        ("ce", Rounded(ce.approx, 6)),
        ("ratio", Rounded(abs(ce.approx / mse.approx), 1)),
    )
    worked: tuple[Step, ...] = (
        Finding("mse_vs_ce_at", (("p", AsWritten(p_worst)), ("y", str(y)))),
        Compute(slope.symbol, None, (slope,)),
        Finding("mse_vs_ce_loss", (("loss", "mse"),)),
        *(Compute(q.symbol, None, (q,)) for q in (mse_p, mse)),
        Finding("mse_vs_ce_loss", (("loss", "ce"),)),
        *(Compute(q.symbol, None, (q,)) for q in (ce_p, ce)),
    )
    return PartSolution(
        part,
        (
            Section("mse_vs_ce_derivation", (_algebra(),)),
            Section("mse_vs_ce_worked", worked),
            Section("mse_vs_ce_table", (Table("mse_vs_ce", header, tuple(rows)), Finding("vanishing", facts))),
        ),
    )


def twin(out: Expected, spec: Spec, part: Part[LossComparison]) -> None:
    scope, y = Scope.part(part.number), given_float(part.params.target)
    for p_exact in part.params.probabilities:
        p = float(p_exact)
        out.values[key(scope, LossSlope("mse", p_exact))] = 2 * (p - y) * p * (1 - p)
        out.values[key(scope, LossSlope("ce", p_exact))] = p - y
    # The worked prediction: the most wrong one, its factors from the catalogue's float rules.
    worst = max(part.params.probabilities, key=lambda p: abs(given_float(p) - y))
    prediction, target = np.array([given_float(worst)]), np.array([y])
    out.values[key(scope, Sym("p"))] = float(worst)
    out.values[key(scope, TARGET)] = y
    out.values[key(scope, Partial(Sym("p"), Sym("z")))] = float(worst) * (1 - float(worst))
    d_p = Partial(LOSS, Sym("p"))
    out.values[key(scope.tag("mse"), d_p)] = float(SQUARED_ERROR.floats.gradient(prediction, target)[0])
    out.values[key(scope.tag("ce"), d_p)] = float(BINARY_CROSS_ENTROPY.floats.gradient(prediction, target)[0])


def ask(part: Part[LossComparison], network: Network, printer: Printer) -> Mapping[str, object]:
    return {
        "probabilities": numbers(part.params.probabilities, printer),
        "target": Latex(printer.inline(part.params.target)),
    }


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """∂L/∂z under both losses at every p."""
    return {q.key for q in quantities if isinstance(q.symbol, LossSlope)}


KIND = PartKind(
    name="mse_vs_ce",
    keys={
        "p": Shape("numbers", "the probabilities p compared, each between 0 and 1"),
        "target": Shape("number", "the class label y: 0 or 1"),
    },
    required=(),
    sample="none",
    student=False,
    read=reads_network(read),
    derive=derive,
    twin=twin,
    ask=asks_network(ask),
    asked=asked_keys,
    one_output=True,
    letters=probability,
)
