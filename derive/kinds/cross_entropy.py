"""Cross-entropy in classification: its best and worst cases as limits, a table and a plot of
L(p, y), ∂L/∂z = p − y derived step by step, and (with a sample) applied to the network with a
sigmoid on its output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from derive.catalog.activations import SIGMOID
from derive.catalog.losses import BINARY_CROSS_ENTROPY, Loss
from derive.errors import VerificationError
from derive.exercise.kind import PartKind, asks_network, reads_network
from derive.exercise.kind import Table as SpecTable
from derive.exercise.letters import probability
from derive.exercise.model import Network, Part, Spec
from derive.exercise.parts import PartReader
from derive.exercise.shapes import Shape
from derive.kinds.asking import named, within
from derive.maths.derivation import Derivation
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
from derive.maths.symbolic import bce, checked
from derive.terms.display import AsWritten, Expression, P, Pattern, Y, Z
from derive.terms.formula import Derivative, Difference, Hadamard, Num, Quantity, Ref, Tensor, equal, small
from derive.terms.keys import Scope, key
from derive.terms.simplest import one_fraction
from derive.terms.symbols import (
    LOSS,
    OUTPUT,
    TARGET,
    LossAt,
    Partial,
    PredictionError,
    Sym,
)
from derive.tex.givens import numbers
from derive.tex.printer import Printer
from derive.verify.closed import given_float
from derive.verify.floats import FloatNet
from derive.verify.twins import Expected, forward_values, gradient_values, sample_of

PLOT_POINTS = 40
"""The plot of L(p) uses p = k/40 for k = 1, …, 39."""


@dataclass(frozen=True)
class CrossEntropy:
    probabilities: tuple[sp.Rational, ...]
    """The predictions its table shows."""


def read(
    reader: PartReader, path: list[str | int], table: SpecTable, network: Network, earlier: list[Part[Any]]
) -> CrossEntropy:
    return CrossEntropy(reader.probabilities(path, table))


def variant(spec: Spec, part: Part[CrossEntropy]) -> tuple[Network, Loss]:
    """The classification view: the output goes through a sigmoid, the loss is cross-entropy."""
    return spec.net.with_activation(len(spec.net.layers), SIGMOID), BINARY_CROSS_ENTROPY


def bce_value(p: sp.Expr, y: int, scope: Scope) -> Quantity:
    return Quantity.computed(LossAt(p, y), BINARY_CROSS_ENTROPY.term(Num(p), Num(sp.Integer(y))), scope)


def derive(d: Derivation, part: Part[CrossEntropy]) -> PartSolution:
    scope = Scope.part(part.number)
    loss = BINARY_CROSS_ENTROPY
    definition = "@L(p, @y) = " + loss.formula.replace("@yhat", "p")  # the loss's own pattern, in p
    sections = [
        Section("ce_definition", (Identity(definition, "ce_definition"),)),
        Section("ce_cases", (Limits(tuple(_limits())),)),
    ]
    rows = tuple((AsWritten(p), bce_value(p, 1, scope), bce_value(p, 0, scope)) for p in part.params.probabilities)
    header = ("p", Pattern(r"@L(p, 1) = -\log p"), Pattern(r"@L(p, 0) = -\log(1 - p)"))
    grid = [sp.Rational(k, PLOT_POINTS) for k in range(1, PLOT_POINTS)]
    series = tuple(
        Series(Pattern(f"@y = {y}"), tuple((p, bce_value(p, y, scope.tag("plot"))) for p in grid)) for y in (1, 0)
    )
    sections.append(
        Section("ce_table", (Table("ce_table", header, rows), Plot("ce_plot", "p", Pattern("@L(p, @y)"), series)))
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
            rows.append(Limit(case, Pattern(f"@y = {y}"), Expression(expr), "p", str(point), side, Expression(value)))
    return rows


SIGMOID_PRODUCT = Pattern(r"\sigma(@z)\bigl(1 - \sigma(@z)\bigr)")


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
    d_loss_p, d_p_z = Partial(LOSS, Sym("p")), Partial(Sym("p"), Sym("z"))
    return Algebra(
        "ce_gradient",
        (
            (d_loss_p, (Expression(d_p),)),
            (d_p_z, (Pattern(r"\sigma'(@z)"), SIGMOID_PRODUCT, "p(1 - p)")),
            (
                Partial(LOSS, Sym("z")),
                (
                    Pattern(r"#1 \, #2", (d_loss_p, d_p_z)),
                    Pattern(r"\left(#1\right) p(1 - p)", (Expression(d_p),)),
                    Expression(spread),
                    Expression(P - Y),
                ),
            ),
        ),
    )


def _applied(d: Derivation, part: Part[CrossEntropy]) -> list[Section]:
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
        simplified = _simplified(q, shortcut)
        if simplified is not None:
            steps.extend((Finding("ce_simplified", ()), simplified))
        steps.append(Finding("ce_shortcut", (("delta", q.symbol),)))
    sections.append(Section("ce_applied_gradient", tuple(steps)))
    return [Section("ce_applied", ()), *sections]


SIMPLIFY_NODES = 60
"""Largest closed form the sheet simplifies by SymPy (larger ones: the general derivation stands)."""


def _simplified(delta: Quantity, shortcut: Quantity) -> Algebra | None:
    """δ and ŷ − y at the sample, each brought by SymPy to the same simplest form: equal exactly.

    δ goes through one common denominator first (where that differs from both ends), so the
    cancellation a student does by hand is a line of its own.
    """
    exact = (delta.exact, shortcut.exact)
    if any(value.free_symbols or not value.is_number or not small(value, SIMPLIFY_NODES) for value in exact):
        return None  # a value that stands by a symbol, or too large a form to simplify here
    # Over one denominator in e^{1/L} where ŷ is a sigmoid of a fraction; SymPy's simplify otherwise.
    common = one_fraction(shortcut.exact)
    if common is None:
        common = sp.simplify(shortcut.exact)
    checked(common, *exact)
    lines = []
    for q, via in ((delta, sp.together(delta.exact)), (shortcut, None)):
        chain = [q.exact]
        for form in (via, common):
            if form is not None and not any(form == shown for shown in chain):
                checked(q.exact, form)
                chain.append(form)
        lines.append((q.symbol, tuple(Expression(form) for form in chain)))
    return Algebra("ce_simplified", tuple(lines))


def twin(out: Expected, spec: Spec, part: Part[CrossEntropy]) -> None:
    scope = Scope.part(part.number)
    value = BINARY_CROSS_ENTROPY.floats.value
    grid = [sp.Rational(k, PLOT_POINTS) for k in range(1, PLOT_POINTS)]
    for where, points in ((scope, part.params.probabilities), (scope.tag("plot"), grid)):
        for exact in points:
            p = given_float(exact)
            for y in (1, 0):
                out.values[key(where, LossAt(exact, y))] = value(np.array([p]), np.array([float(y)]))
    if part.sample is not None:
        network, loss = part.network_and_loss(spec)
        net = FloatNet.of(network)
        x, y_true = sample_of(part)
        out.vector(scope, "x", x)
        out.vector(scope, "y", y_true)
        forward_values(out, network, net, x, y_true, loss, scope)
        gradient_values(out, network, net, x, y_true, loss, scope)
        out.values[key(scope, PredictionError())] = float(net.forward(x)[1][-1][0] - y_true[0])


def ask(part: Part[CrossEntropy], network: Network, printer: Printer) -> Mapping[str, object]:
    return {"probabilities": numbers(part.params.probabilities, printer)}


def asked_keys(quantities: list[Quantity]) -> set[str]:
    """The table of L(p, y), and for the network p, the loss and its gradient p − y at the output."""
    return {
        q.key
        for q in quantities
        if (isinstance(q.symbol, LossAt) and "plot" not in within(q))
        or (not within(q) and (named(q, OUTPUT.base, "L") or isinstance(q.symbol, PredictionError)))
    }


KIND = PartKind(
    name="cross_entropy",
    keys={"p": Shape("numbers", "the probabilities p of class 1 to tabulate, each between 0 and 1")},
    required=(),
    sample="optional",
    student=False,
    read=reads_network(read),
    derive=derive,
    twin=twin,
    ask=asks_network(ask),
    asked=asked_keys,
    variant=variant,
    plots=lambda params: True,
    one_output=True,
    letters=probability,
)
