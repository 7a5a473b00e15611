"""Losses as data: each record holds one output's term and its derivative in ŷ (exact, as formula
trees), the same in NumPy floats for the verification gate, and its words."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from derive.catalog.evaluation import at_point
from derive.catalog.parsing import differentiate, float_rules, parse_formula
from derive.terms.formula import Difference, Log, Negate, Node, Num, Power, Product, Quotient, Rule, Sum

Array = np.ndarray
ONE = Num(sp.Integer(1))
UNIT = sp.Integer(1)


@dataclass(frozen=True)
class LossFloats:
    """L(ŷ, y) summed over the outputs and ∂L/∂ŷ, in NumPy floats."""

    value: Callable[[Array, Array], float]
    gradient: Callable[[Array, Array], Array]


@dataclass(frozen=True)
class Loss:
    """A loss summed over the outputs: one term per output and its derivative in ŷ_j."""

    name: str
    term: Callable[[Node, Node], Node]
    gradient: Callable[[Node, Node], Node]
    floats: LossFloats
    formula: str
    """LaTeX of L for one output, in ŷ and y: a pattern (@yhat, @y: the sheet's names)."""
    identity: str
    """LaTeX of ∂L/∂ŷ for one output."""
    prose: str
    """The key of its words in the language catalogues."""
    scale: sp.Rational = UNIT
    """1/n for the mean over n outputs; 1 for the sum."""
    sum_formula: str = ""
    """LaTeX of L summed over #n outputs j (@yhat_j, @y_j), for a network of several outputs; empty
    where ``formula`` is already a sum over the outputs (categorical cross-entropy)."""
    params: tuple[tuple[str, str], ...] = ()
    bounded: tuple[sp.Rational, sp.Rational] | None = None
    """The targets [lo, hi] for which the loss has a lower bound; outside them the spec is accepted
    and the sheet notes that it has none. None: bounded for every target."""

    def unbounded_for(self, targets: Sequence[sp.Expr]) -> bool:
        """Whether some target lies outside the range where the loss is bounded below."""
        if self.bounded is None:
            return False
        low, high = self.bounded
        return any(not low <= y <= high for y in targets)


def _cross_entropy(p: Array, y: Array) -> float:
    # Both terms in full for every target, as the exact rule has them (a real-valued target, or one
    # outside [0, 1], keeps both); 0·log 0 = 0 only where the factor y or 1 − y is exactly 0.
    with np.errstate(divide="ignore", invalid="ignore"):  # np.where evaluates both branches
        terms = np.where(y != 0, y * np.log(p), 0.0) + np.where(y != 1, (1 - y) * np.log1p(-p), 0.0)
    return float(-np.sum(terms))


def _cross_entropy_gradient(p: Array, y: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):  # p = 0 or 1: the exact engine reports it
        return (1 - y) / (1 - p) - y / p


def _categorical(p: Array, y: Array) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero target's term is 0, whatever p is
        return float(-np.sum(np.where(y != 0, y * np.log(p), 0.0)))


SQUARED_ERROR = Loss(
    name="squared_error",
    term=lambda yhat, y: Power(Difference(yhat, y), 2),
    gradient=lambda yhat, y: Product((Num(sp.Integer(2)), Difference(yhat, y))),
    floats=LossFloats(lambda yhat, y: float(np.sum((yhat - y) ** 2)), lambda yhat, y: 2.0 * (yhat - y)),
    formula=(r"(@yhat - @y)^2"),
    identity=(r"\frac{\partial @L}{\partial @yhat} = 2(@yhat - @y)"),
    prose="squared_error",
    sum_formula=r"\sum_{j=1}^{#n} (@yhat_j - @y_j)^2",
)

BINARY_CROSS_ENTROPY = Loss(
    name="binary_cross_entropy",
    term=lambda p, y: Negate(Sum((Product((y, Log(p))), Product((Difference(ONE, y), Log(Difference(ONE, p))))))),
    gradient=lambda p, y: Difference(Quotient(Difference(ONE, y), Difference(ONE, p)), Quotient(y, p)),
    floats=LossFloats(_cross_entropy, _cross_entropy_gradient),
    formula=(r"-\bigl[@y \log @yhat + (1 - @y) \log(1 - @yhat)\bigr]"),
    identity=(r"\frac{\partial @L}{\partial @yhat} = \frac{1 - @y}{1 - @yhat} - \frac{@y}{@yhat}"),
    prose="binary_cross_entropy",
    # y > 1: (y − 1) log(1 − p) → −∞ as p → 1; y < 0: −y log p → −∞ as p → 0.
    bounded=(sp.Integer(0), sp.Integer(1)),
    sum_formula=r"-\sum_{j=1}^{#n} \bigl[@y_j \log @yhat_j + (1 - @y_j) \log(1 - @yhat_j)\bigr]",
)

HALF_SQUARED_ERROR = Loss(
    name="half_squared_error",
    term=lambda yhat, y: Product((Num(sp.Rational(1, 2)), Power(Difference(yhat, y), 2))),
    gradient=lambda yhat, y: Difference(yhat, y),
    floats=LossFloats(lambda yhat, y: float(0.5 * np.sum((yhat - y) ** 2)), lambda yhat, y: yhat - y),
    formula=(r"\tfrac{1}{2}(@yhat - @y)^2"),
    identity=(r"\frac{\partial @L}{\partial @yhat} = @yhat - @y"),
    prose="half_squared_error",
    sum_formula=r"\tfrac{1}{2} \sum_{j=1}^{#n} (@yhat_j - @y_j)^2",
)

CATEGORICAL_CROSS_ENTROPY = Loss(
    name="categorical_cross_entropy",
    term=lambda p, y: Negate(Product((y, Log(p)))),
    gradient=lambda p, y: Negate(Quotient(y, p)),
    floats=LossFloats(_categorical, lambda p, y: -y / p),
    formula=(r"-\sum_j @y_j \log @yhat_j"),
    identity=(r"\frac{\partial @L}{\partial @yhat_j} = -\frac{@y_j}{@yhat_j}"),
    prose="categorical_cross_entropy",
)
"""Cross-entropy of a distribution ŷ (a softmax output) against targets y (one-hot or a class index)."""

# Named so that SymPy's canonical order prints ŷ before y: (ŷ - y)^2, not (-y + ŷ)^2.
YHAT, Y = sp.Symbol("a", real=True), sp.Symbol("b", real=True)


def custom_loss(formula: str, field: str = "loss.formula") -> Loss:
    """ℓ(ŷ, y) given as a formula string (parsed safely); ∂ℓ/∂ŷ is derived by SymPy and shown. At a
    point where ℓ or ∂ℓ/∂ŷ has no real value, or one too large, they raise Undefined naming ``field``."""
    variables = {"yhat": YHAT, "y": Y}
    rule = parse_formula(formula, variables)
    slope = differentiate(rule, YHAT)
    placeholders = {YHAT: "#1", Y: "#2"}
    names = {YHAT: "@yhat", Y: "@y"}  # marks the printer names (derive.terms.display.Pattern)
    term, derivative = float_rules(formula, "yhat", "y")

    rule_at = at_point(rule, variables, formula, field)
    slope_at = at_point(slope, variables, f"d/dyhat {formula}", field)

    return Loss(
        name="custom",
        term=lambda yhat, y: Rule(sp.latex(rule, symbol_names=placeholders), rule_at, (yhat, y)),
        gradient=lambda yhat, y: Rule(sp.latex(slope, symbol_names=placeholders), slope_at, (yhat, y)),
        floats=LossFloats(lambda yhat, y: float(np.sum(term(yhat, y))), derivative),
        formula=sp.latex(rule, symbol_names=names),
        identity=(rf"\frac{{\partial @L}}{{\partial @yhat}} = {sp.latex(slope, symbol_names=names)}"),
        prose="custom_loss",
        params=(("formula", formula),),
        sum_formula=rf"\sum_{{j=1}}^{{#n}} {sp.latex(rule, symbol_names={YHAT: '@yhat_j', Y: '@y_j'})}",
    )


def summed(loss: Loss, outputs: int) -> Loss:
    """``loss`` summed over ``outputs`` outputs, as the sheet writes it: with its sum (Σ_j ½(ŷ_j − y_j)²),
    not as one output's term."""
    if outputs == 1 or not loss.sum_formula:
        return loss
    return replace(loss, formula=loss.sum_formula.replace("#n", str(outputs)))


def averaged(loss: Loss, outputs: int) -> Loss:
    """The mean of ``loss`` over ``outputs`` outputs: each term and its derivative times 1/n."""
    if outputs == 1:
        return loss
    scale = sp.Rational(1, outputs)
    term_identity = loss.identity.replace("@L", r"\ell", 1)
    value, gradient, factor = loss.floats.value, loss.floats.gradient, 1.0 / outputs
    return replace(
        loss,
        term=lambda yhat, y: Product((Num(scale), loss.term(yhat, y))),
        gradient=lambda yhat, y: Product((Num(scale), loss.gradient(yhat, y))),
        floats=LossFloats(lambda yhat, y: factor * value(yhat, y), lambda yhat, y: factor * gradient(yhat, y)),
        formula=(
            rf"\frac{{1}}{{{outputs}}} \sum_{{j=1}}^{{{outputs}}} \ell(@yhat_j, @y_j),"
            rf"\ \ell(@yhat, @y) = {loss.formula}"
        ),
        identity=(
            rf"\frac{{\partial @L}}{{\partial @yhat_j}} = \frac{{1}}{{{outputs}}}"
            rf" \frac{{\partial \ell}}{{\partial @yhat_j}},\ {term_identity}"
        ),
        scale=scale,
    )


LOSSES: Mapping[str, Loss] = {
    "squared_error": SQUARED_ERROR,
    "half_squared_error": HALF_SQUARED_ERROR,
    "binary_cross_entropy": BINARY_CROSS_ENTROPY,
    "categorical_cross_entropy": CATEGORICAL_CROSS_ENTROPY,
}
REDUCTIONS = ("sum", "mean")
