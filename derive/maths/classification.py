"""Cross-entropy in classification (part 7) and MSE against cross-entropy for a sigmoid output."""

from __future__ import annotations

import sympy as sp

from derive.catalog.activations import SIGMOID
from derive.catalog.losses import BINARY_CROSS_ENTROPY, SQUARED_ERROR
from derive.errors import VerificationError
from derive.maths.derivation import Deriver
from derive.maths.general import column
from derive.maths.network import backward
from derive.maths.steps import (
    Algebra,
    Compute,
    Finding,
    Identity,
    Limit,
    Limits,
    PartSolution,
    Plot,
    Section,
    Series,
    Step,
    Table,
)
from derive.spec.model import Part
from derive.terms.formula import Derivative, Difference, Hadamard, Num, Product, Quantity, Ref, Tensor, equal
from derive.terms.keys import Scope
from derive.terms.symbols import LOSS, OUTPUT, TARGET, LossAt, LossSlope, Partial, PredictionError, Sym
from derive.tex import printer as latex
from derive.tex.names import named, token

P, Y, Z = sp.symbols("p y z", real=True)
PLOT_POINTS = 40
"""The plot of L(p) uses p = k/40 for k = 1, …, 39."""


def bce(p: sp.Expr, y: sp.Expr) -> sp.Expr:
    """The catalogue's cross-entropy as a SymPy expression, so the algebra derives the rule in use."""
    return BINARY_CROSS_ENTROPY.term(Num(p), Num(y)).exact()


def tex(expr: sp.Expr) -> str:
    """An expression in p, y and z, with y and z in the sheet's names."""
    return latex.DerivePrinter({"symbol_names": {Y: token("y"), Z: token("z")}})._print(expr)


def checked(*chain: sp.Expr) -> None:
    """Raise unless every expression of the chain equals the first (SymPy, symbolically)."""
    for later in chain[1:]:
        if not equal(chain[0], later):
            raise VerificationError(f"symbolic step does not hold: {chain[0]} = {later}")


def shown_number(p: sp.Expr) -> str:
    """A probability as a student writes it: 0.01 rather than 1/100."""
    return latex.terminating(p, 12) or latex.inline(p)


def bce_value(p: sp.Expr, y: int, scope: Scope) -> Quantity:
    return Quantity.computed(LossAt(p, y), BINARY_CROSS_ENTROPY.term(Num(p), Num(sp.Integer(y))), scope)


def cross_entropy_part(d: Deriver, part: Part) -> PartSolution:
    scope = Scope.part(part.number)
    loss = BINARY_CROSS_ENTROPY
    definition = named("@L(p, @y) = ") + loss.formula.replace(token("yhat"), "p")
    sections = [
        Section("ce_definition", (Identity(definition, "ce_definition"),)),
        Section("ce_cases", (Limits(tuple(_limits())),)),
    ]
    rows = tuple((shown_number(p), bce_value(p, 1, scope), bce_value(p, 0, scope)) for p in part.probabilities)
    header = ("p", named(r"@L(p, 1) = -\log p"), named(r"@L(p, 0) = -\log(1 - p)"))
    grid = [sp.Rational(k, PLOT_POINTS) for k in range(1, PLOT_POINTS)]
    series = tuple(
        Series(named(rf"@y = {y}"), tuple((p, bce_value(p, y, scope.tag("plot"))) for p in grid)) for y in (1, 0)
    )
    sections.append(
        Section("ce_table", (Table("ce_table", header, rows), Plot("ce_plot", "p", named(r"@L(p, @y)"), series)))
    )
    sections.append(Section("ce_gradient", (_gradient_algebra(),)))
    if part.sample is not None:
        sections.extend(_applied(d, part))
    return PartSolution(part, tuple(sections), network_changed=part.sample is not None)


def _limits() -> list[Limit]:
    rows = []
    for y in (1, 0):
        expr = bce(P, sp.Integer(y))
        for case, point in (("best", y), ("worst", 1 - y)):
            side = "-" if point == 1 else "+"
            value = sp.limit(expr, P, point, dir=side)
            rows.append(Limit(case, named(f"@y = {y}"), tex(expr), "p", str(point), side, tex(value)))
    return rows


SIGMOID_PRODUCT = named(r"\sigma(@z)\bigl(1 - \sigma(@z)\bigr)")


def _gradient_algebra() -> Algebra:
    """∂L/∂p, then with p = σ(z) the chain rule down to ∂L/∂z = p − y, every equality checked."""
    loss = bce(P, Y)
    d_p = -Y / P + (1 - Y) / (1 - P)
    checked(sp.diff(loss, P), d_p)
    sigma = SIGMOID.rule(Z)
    checked(sp.diff(sigma, Z), sigma * (1 - sigma))
    product = d_p * P * (1 - P)
    spread = -Y * (1 - P) + (1 - Y) * P
    checked(product, spread, P - Y)
    checked(sp.diff(bce(sigma, Y), Z), sigma - Y)
    partial = latex.symbol
    return Algebra(
        "ce_gradient",
        (
            (partial(Partial(LOSS, Sym("p"))), (tex(d_p),)),
            (
                partial(Partial(Sym("p"), Sym("z"))),
                (named(r"\sigma'(@z)"), SIGMOID_PRODUCT, "p(1 - p)"),
            ),
            (
                partial(Partial(LOSS, Sym("z"))),
                (
                    rf"{partial(Partial(LOSS, Sym('p')))} \, {partial(Partial(Sym('p'), Sym('z')))}",
                    rf"\left({tex(d_p)}\right) p(1 - p)",
                    tex(spread),
                    tex(P - Y),
                ),
            ),
        ),
    )


def _applied(d: Deriver, part: Part) -> list[Section]:
    """The classification view of the spec's network: a sigmoid on the output, cross-entropy loss."""
    network, loss = d.variant(part)
    sections, fwd = d.sample_and_forward(network, loss, part, recall=False)
    scope = Scope.part(part.number)
    bwd = backward(network, d.params, fwd, loss, scope)
    depth = len(network.layers)
    yhat, target = Tensor(OUTPUT, column(fwd.output)), Tensor(Sym(TARGET.base), column(fwd.targets))
    d_out = Tensor(Partial(LOSS, OUTPUT), column(bwd.output))

    steps: list[Step] = [
        Identity(loss.identity, loss.prose),
        Identity(SIGMOID.identity, SIGMOID.prose),
        Compute(d_out.symbol, loss.gradient(yhat, target), bwd.output, 1, (len(bwd.output), 1)),
        Compute(
            Sym("delta", depth),
            Hadamard(d_out, Derivative(SIGMOID, Tensor(Sym("z", depth), column(fwd.z[-1])))),
            bwd.delta[-1],
            2,
            (len(bwd.delta[-1]), 1),
        ),
    ]
    for q, p, y in zip(bwd.delta[-1], fwd.output, fwd.targets, strict=True):
        shortcut = Quantity.computed(PredictionError(), Difference(Ref(p), Ref(y)), scope)
        difference = q.exact - shortcut.exact
        if not equal(q.exact, shortcut.exact) if difference.is_number else abs(q.approx - shortcut.approx) > 1e-30:
            raise VerificationError(f"{q.key}: δ of a sigmoid output under cross-entropy is not p − y")
        steps.append(Compute(shortcut.symbol, None, (shortcut,)))
        steps.append(Finding("ce_shortcut", (("delta", latex.symbol(q.symbol)),)))
    sections.append(Section("ce_applied_gradient", tuple(steps)))
    return [Section("ce_applied", ()), *sections]


def mse_vs_ce_part(d: Deriver, part: Part) -> PartSolution:
    scope = Scope.part(part.number)
    y = part.target
    sigma = SIGMOID.rule(Z)
    mse_z = 2 * (sigma - Y) * sigma * (1 - sigma)
    checked(sp.diff(SQUARED_ERROR.term(Num(sigma), Num(Y)).exact(), Z), mse_z)
    checked(sp.diff(bce(sigma, Y), Z), sigma - Y)
    dz = latex.symbol(Partial(LOSS, Sym("z")))
    algebra = Algebra(
        "mse_vs_ce",
        (
            (rf"{dz}\Big|_{{\text{{MSE}}}}", (named(r"2(p - @y) \cdot p(1 - p)"),)),
            (rf"{dz}\Big|_{{\text{{CE}}}}", (named("p - @y"),)),
        ),
    )
    rows = []
    for p in part.probabilities:
        mse = Quantity.computed(
            LossSlope("mse", p),
            Product((Num(sp.Integer(2)), Difference(Num(p), Num(y)), Num(p), Difference(Num(sp.Integer(1)), Num(p)))),
            scope,
        )
        ce = Quantity.computed(LossSlope("ce", p), Difference(Num(p), Num(y)), scope)
        rows.append((shown_number(p), mse, ce))
    header = ("p", named(r"\text{MSE: } 2(p - @y)\,p(1 - p)"), named(r"\text{CE: } p - @y"))
    worst = max(rows, key=lambda row: abs(float(row[2].approx)))
    facts = (
        ("y", str(y)),
        ("p", worst[0]),
        ("mse", latex.decimal(worst[1].approx, 6)),
        ("ce", latex.decimal(worst[2].approx, 6)),
        ("ratio", latex.decimal(abs(worst[2].approx / worst[1].approx), 1)),
    )
    return PartSolution(
        part,
        (
            Section("mse_vs_ce_derivation", (algebra,)),
            Section("mse_vs_ce_table", (Table("mse_vs_ce", header, tuple(rows)), Finding("vanishing", facts))),
        ),
    )
