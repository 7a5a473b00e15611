"""The shortest of a few equal forms of a small closed form, as a TA writes it: -1, not -e^{a}/e^{a}.

SymPy's automatic evaluation leaves products that cancel (e^{a} e^{-a} with a sum for a, (-1 - u)/(1 + u))
and fractions inside fractions. ``simplify`` would find the short forms, but it costs tens of
milliseconds a value and breaks down on larger ones (engine notes). Most values of a sheet are
rational functions of powers of e with rational exponents (sigmoids and softmaxes of fractions):
those are worked out as one fraction in t = e^{1/L} over the rationals, where cancelling is cheap
polynomial arithmetic, and the shortest of its forms is kept. Values with e raised to a closed form
only get their powers of e merged.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import PolyElement, ring

from derive.terms.remembered import RememberedLatex
from derive.terms.trees import has_symbol

SMALLEST = 12
"""Values of fewer nodes are left as they are: there is nothing to shorten by much."""
LARGEST = 100
"""Values of more nodes are left as they are: they are not printed in full anyway."""
SHORTER = 2 / 3
"""A form replaces the value only when its LaTeX is at most this share of the value's."""
DEGREE = 24
"""Highest power of t = e^{1/L} worked with (e^{1/400} would make polynomials of degree 400)."""

_RING, _T = ring("t", QQ)
_LATEX = RememberedLatex({"order": "none"})  # terms as they stand: ordering them costs 5x the print


class _NotRational(Exception):
    """The value is not a rational function of e^{1/L} of a small degree."""


def size(value: sp.Expr, limit: int | None = None) -> int:
    """How long an expression is to read: its nodes, a number counting its digits (1/100000000 is
    longer than 1/2); counted up to past ``limit``."""
    count = 0
    for node in sp.preorder_traversal(value):
        count += _digits(node) if node.is_Rational else 1
        if limit is not None and count > limit:
            break  # a huge tree is never walked to its end
    return count


def _digits(number: sp.Rational) -> int:
    return len(str(abs(number.p))) + (len(str(number.q)) if number.q != 1 else 0)


@functools.lru_cache(maxsize=4096)
def simplest(value: sp.Expr) -> sp.Expr:
    """``value`` in the shortest form found: ``value`` itself unless one is clearly shorter."""
    if value.is_Rational or value.is_Float or has_symbol(value):
        return value
    nodes = size(value, LARGEST)
    if not SMALLEST <= nodes <= LARGEST:
        return value
    exponents = _exponents(value)
    if not exponents:
        return value
    if all(x.is_Rational for x in exponents):
        fraction = _fraction(value, exponents)
        if fraction is None:
            return value
        return _shorter(value, nodes, _forms(*fraction, nodes))
    # e raised to closed forms (a sigmoid's output in a softmax): SymPy leaves e^{a} e^{-a} for a
    # sum a until the powers are merged; merging is worth its cost only where two of them meet in
    # one product (e^{a} in 1/(1 + e^{a}) and e^{-a} in another sum never merge).
    if not any(_meet(node) for node in sp.preorder_traversal(value) if node.is_Mul):
        return value
    merged = sp.powsimp(value)
    return _shorter(value, nodes, [merged])


def _meet(product: sp.Mul) -> bool:
    """Whether two powers of e in ``product`` merge into e raised to a shorter exponent."""
    closed = [x.args[0] for x in product.args if isinstance(x, sp.exp)]
    return any((a + b).is_Number or (a - b).is_Number for a, b in itertools.combinations(closed, 2))


def one_fraction(value: sp.Expr) -> sp.Expr | None:
    """``value`` over one reduced denominator in t = e^{1/L}, in the shortest of its forms (the
    form ``simplify`` finds for a sigmoid's output, at a hundredth of its cost and without the
    units module it imports the first time), or None where ``value`` is no such fraction."""
    exponents = _exponents(value)
    if has_symbol(value) or not all(x.is_Rational for x in exponents):
        return None
    fraction = _fraction(value, exponents)
    return None if fraction is None else min(_forms(*fraction, math.inf), key=size)


def _exponents(value: sp.Expr) -> list[sp.Expr]:
    """The exponents of the powers of e in ``value``."""
    return [p.args[0] for p in value.atoms(sp.exp)] + ([sp.Integer(1)] if value.has(sp.E) else [])


def _fraction(value: sp.Expr, exponents: list[sp.Expr]) -> tuple[PolyElement, PolyElement, sp.Expr] | None:
    """``value`` as a reduced fraction p/q in t = e^{1/L} (the rational ``exponents`` decide L), and
    t; None where the degree would pass :data:`DEGREE` or ``value`` is no rational function of t."""
    denominator = math.lcm(*(int(x.q) for x in exponents))
    if max((abs(x) for x in exponents), default=0) * denominator > DEGREE:
        return None
    try:
        numerator, below = _in_t(value, denominator)
    except _NotRational:
        return None
    return (*numerator.cancel(below), sp.exp(sp.Rational(1, denominator)))


def _shorter(value: sp.Expr, nodes: int, candidates: list[sp.Expr]) -> sp.Expr:
    """The shortest candidate where it is clearly shorter to read than ``value`` (of ``nodes``
    nodes), else ``value``: the form the formula gave (e^{z_1} over the sum of the e^{z_k} for a
    softmax) is the one a student recognises, and worth a few more symbols."""
    if not candidates:  # no form can be as short (the polynomials' terms told): nothing to print
        return value
    best = min(candidates, key=size)
    if size(best) > nodes:  # more symbols: no shorter to read
        return value
    # Fractions and brackets make a form long to read more than its nodes do: its LaTeX decides
    # (SymPy's, as a measure only: the sheet's printer writes the value).
    return best if len(_LATEX.doprint(best)) <= SHORTER * len(_LATEX.doprint(value)) else value


def _in_t(value: sp.Expr, denominator: int) -> tuple[PolyElement, PolyElement]:
    """``value`` as a fraction p/q of polynomials in t = e^{1/denominator} (not yet reduced: one
    cancellation at the end costs less than one at every step)."""
    if value.is_Rational:
        return _RING(QQ(int(value.p), int(value.q))), _RING.one
    if value is sp.E:
        return _T**denominator, _RING.one
    if isinstance(value, sp.exp):
        k = int(value.args[0] * denominator)
        return (_T**k, _RING.one) if k >= 0 else (_RING.one, _T**-k)
    if value.is_Add or value.is_Mul:
        p, q = _in_t(value.args[0], denominator)
        for arg in value.args[1:]:
            r, s = _in_t(arg, denominator)
            p, q = (p * s + r * q, q * s) if value.is_Add else (p * r, q * s)
        return p, q
    if value.is_Pow and value.exp.is_Integer:
        (p, q), n = _in_t(value.base, denominator), int(value.exp)
        if n >= 0:
            return p**n, q**n
        if not p:
            raise _NotRational  # 1/0: not for this module to judge
        return q**-n, p**-n
    raise _NotRational


def _forms(numerator: PolyElement, denominator: PolyElement, t: sp.Expr, nodes: float) -> list[sp.Expr]:
    """Equal forms of a reduced fraction p/q in t that may have fewer than ``nodes`` nodes: p/q
    expanded, p/q as products of their repeated factors ((1 + e^{1/4})^2), and for a single term q
    the sum p/q term by term (-1 - e^{-2} rather than -(1 + e^{2})/e^{2})."""
    # The fewest nodes each form can have is known from the polynomials: most values of a sheet
    # are no longer once over a common denominator, and are never built as SymPy expressions.
    tops, bottoms = numerator.sqf_list(), denominator.sqf_list()
    forms: list[sp.Expr] = []
    if _least(numerator) + _least(denominator) <= nodes:
        quotient = numerator.as_expr(t) / denominator.as_expr(t)  # t^k is built as e^{k/L} at once
        forms.append(quotient)
        if len(denominator.terms()) == 1:
            forms.append(sp.expand(quotient))
    if _least_factored(tops) + _least_factored(bottoms) <= nodes:
        forms.append(_factored(tops, t) / _factored(bottoms, t))
    return forms


def _least(polynomial: PolyElement) -> int:
    """Fewest nodes a polynomial in t = e^{1/L} is written with, term by term: t^k is e^{k/L} (2)."""
    terms = polynomial.terms()
    count = sum((2 if k else 0) + (_digits(QQ.to_sympy(c)) if k == 0 or abs(c) != 1 else 0) for (k,), c in terms)
    return count + (len(terms) > 1)


Factors = tuple[Any, list[tuple[PolyElement, int]]]
"""A polynomial as its constant and its square-free factors with their powers."""


def _least_factored(factors: Factors) -> int:
    constant, powers = factors
    return _digits(QQ.to_sympy(constant)) + sum(_least(f) + (2 if m > 1 else 0) for f, m in powers)


def _factored(factors: Factors, t: sp.Expr) -> sp.Expr:
    # Square-free factors only: splitting 1 + t^3 into (1 + t)(1 - t + t^2) never shortens it.
    constant, powers = factors
    return sp.Mul(QQ.to_sympy(constant), *(f.as_expr(t) ** m for f, m in powers))
