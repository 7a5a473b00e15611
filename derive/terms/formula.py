"""Formula trees: what a step shows is what it computes, exactly and to 40 digits at once.

A :class:`Quantity` is one named scalar of a solution. Its formula is a small tree over earlier
quantities (never one huge closed form), so the value stays exact and cheap however deep the
network is. The same tree is printed three ways by :mod:`derive.tex.printer`: in symbols, with the
numbers substituted, and as its result.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import mpmath
import sympy as sp
from sympy import Mul

from derive.errors import DegenerateError
from derive.terms.keys import ROOT, Scope, key
from derive.terms.rounding import Carry
from derive.terms.simplest import simplest
from derive.terms.symbols import Sym, Symbolic
from derive.terms.trees import has_symbol

DIGITS = 40
"""Working precision of the decimals carried beside every exact value."""

MP = mpmath.MPContext()
MP.dps = DIGITS + 5  # guard digits: the carried decimals are exact to DIGITS
Approx = Any
"""An mpmath number of the private context MP (5× faster than SymPy Floats for the same digits)."""


class Function(Protocol):
    """What a formula tree needs of an activation (:class:`derive.catalog.activations.Activation` is
    one): its rule and, for the printer, how f(#) and f'(#) are written."""

    @property
    def name(self) -> str: ...

    @property
    def rule(self) -> Callable[[sp.Expr], sp.Expr]: ...

    @property
    def call(self) -> str: ...

    @property
    def prime(self) -> str: ...

    @property
    def decimal(self) -> Callable[[Approx], Approx] | None:
        """The rule on carried decimals (:class:`derive.terms.decimal_rules.DecimalRule`), or None:
        the rule itself on a SymPy Float (a user's formula, with its domain checks)."""


def approximate(value: sp.Expr) -> Approx:
    """The carried decimal of a *small* exact value (givens and catalogue constants)."""
    if value.is_Rational:
        return MP.mpf(int(value.p)) / int(value.q)
    if not value.is_Float:
        value = value.evalf(DIGITS + 5)
    return MP.make_mpf(value._mpf_)


def as_float(x: Approx) -> sp.Float:
    """A carried decimal as a SymPy Float, to apply a SymPy rule (an activation) to it."""
    return sp.Float._new(x._mpf_, MP.prec)  # the same binary number, no decimal round trip


@functools.lru_cache(maxsize=1024)
def equal(a: sp.Expr, b: sp.Expr) -> bool:
    """Whether two expressions are equal, decided symbolically.

    The steps here are rational functions of p, y and e^{-z}: over one denominator their
    difference cancels to 0 exactly when they are equal. That costs a quarter of ``simplify``
    (which also imports SymPy's units the first time); ``simplify`` decides what it leaves.
    Kept: the cross-entropy part and the comparison with squared error check the same steps.
    """
    difference = a - b
    return sp.cancel(sp.together(difference)) == 0 or sp.simplify(difference) == 0


REPR_NODES, REPR_CHARS = 60, 80
"""Largest exact value a Quantity's repr shows (nodes, then characters); the formula it never shows."""

CLOSED_FORM_NODES = 150
"""A value whose closed form would have more nodes than this stands for itself by a symbol."""


@functools.lru_cache(maxsize=1 << 16)
def identifier(key: str) -> str:
    """A SymPy-parsable name for an answer key: ``p1.dL/dw1[2,1]`` → ``p1_dL_dw1_2_1``."""
    # Cached: the answers write each key's once, and once more for every formula that uses it.
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9]", "_", key)).strip("_")


def small(value: sp.Expr, limit: int) -> bool:
    """True when ``value`` has at most ``limit`` expression nodes, decided without walking a huge tree."""
    return nodes(value, limit) <= limit


class Undefined(ArithmeticError):
    """A formula has no real value here (a division by zero, the log of a negative number)."""


class TooLarge(Exception):
    """An exact value would cost more than it is worth: it stands for itself by a symbol."""


POWER_NODES = 60
"""Largest closed form raised to a power or put under a root (larger ones stand by a symbol)."""

NESTED_FUNCTIONS = 5
"""Deepest nesting of functions (e^{…e^{…}}) in a closed form an activation is applied to.

SymPy's automatic evaluation of 1/(1 + e^{-z}) decides signs numerically, and its cost doubles
with each exponential nested in z: a chain of 10 sigmoid layers took 48 s, 15 did not end. A
deeper value stands for itself by a symbol, so the cost of a chain grows linearly in its depth.
"""


def nesting(value: sp.Expr) -> int:
    """How many functions (exp, log, …) are nested inside each other in ``value`` at most."""
    memo: dict[sp.Basic, int] = {}

    def depth(node: sp.Basic) -> int:
        if node not in memo:
            inner = max((depth(arg) for arg in node.args), default=0)
            memo[node] = inner + isinstance(node, sp.Function)
        return memo[node]

    return depth(value)


NOTEBOOK: list[Callable[[object, str], str | None]] = []
"""The notebook display (:mod:`derive.notebook`), registered when it loads: it prints with the
templates' context, layers above the records it shows, so they reach it through this list."""


def notebook(value: object, form: str) -> str | None:
    """``value`` as Jupyter shows it, ``form`` "markdown" or "latex"; None where no display is loaded
    (IPython then shows the repr)."""
    return NOTEBOOK[-1](value, form) if NOTEBOOK else None


class Node:
    """A formula node. Subclasses evaluate exactly and approximately and list their references."""

    def exact(self) -> sp.Expr:
        raise TypeError(f"{type(self).__name__} is a display-only node and has no value")

    def approx(self) -> Approx:
        raise TypeError(f"{type(self).__name__} is a display-only node and has no value")

    def children(self) -> tuple[Node, ...]:
        return ()

    def closed(self, limit: int) -> sp.Expr | None:
        """The exact value, or None where it is no closed form of at most ``limit`` nodes (a sum
        decides that before it is built, where it can)."""
        value = self.exact()
        return value if small(value, limit) else None

    def refs(self) -> list[Quantity]:
        """The quantities the formula uses, left to right, as often as it uses them."""
        # One walk with a stack: nested generators cost a tenth of deriving an 8-8-8-1 network.
        found: list[Quantity] = []
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            if isinstance(node, Ref):
                found.append(node.q)
            else:
                stack.extend(reversed(node.children()))
        return found


@dataclass(frozen=True, eq=False)
class Quantity:
    """One named scalar: its symbol, exact value, 40-digit decimal, and the formula it came from."""

    symbol: Symbolic
    exact: sp.Expr
    approx: Approx
    formula: Node | None = None
    scope: Scope = ROOT
    """Where the quantity belongs: its part, and a step, sample or run within it."""
    carry: Carry | None = None
    """The student policy, when every value computed from this one is rounded (see :class:`Carry`)."""
    rounded: bool = False
    """Whether the value is its formula's, rounded by the policy (the sheet writes ≈)."""

    def __repr__(self) -> str:
        """Short, for a notebook or a debugger: the key, the exact value (cut when long), the decimal."""
        exact = str(self.exact) if small(self.exact, REPR_NODES) else "…"
        exact = exact if len(exact) <= REPR_CHARS else exact[: REPR_CHARS - 1] + "…"
        return f"Quantity({self.key} = {exact} ≈ {MP.nstr(self.approx, 8)})"

    def _repr_markdown_(self) -> str | None:
        """Jupyter: symbol = formula = numbers substituted = value, as the sheet's line has it."""
        return notebook(self, "markdown")

    def _repr_latex_(self) -> str | None:
        return notebook(self, "latex")

    @functools.cached_property
    def stands(self) -> bool:
        """Whether the exact value stands for itself by a symbol (or is built from one): no closed form."""
        return has_symbol(self.exact)

    @functools.cached_property
    def key(self) -> str:
        """Stable name in the answers, e.g. ``p1.z1[2]`` or ``dL/dw1[2,1]`` for a given."""
        return key(self.scope, self.symbol)

    @property
    def uses(self) -> tuple[str, ...]:
        """Keys of the quantities its formula refers to, in order, without repeats."""
        if self.formula is None:
            return ()
        return tuple(dict.fromkeys(q.key for q in self.formula.refs()))

    def givens(self) -> frozenset[str]:
        """Keys of the given quantities (no formula) it is worked out from, through every quantity
        between: which givens a variant's finding comes from, which a check page must state."""
        seen: set[str] = set()
        found: set[str] = set()
        pending: list[Quantity] = [self]
        while pending:
            item = pending.pop()
            if item.key not in seen:
                seen.add(item.key)
                if item.formula is None:
                    found.add(item.key)
                else:
                    pending.extend(item.formula.refs())
        return frozenset(found)

    @property
    def name(self) -> Sym:
        """The plain symbol of a quantity of the current parameters (never primed or a partial)."""
        if not isinstance(self.symbol, Sym):
            raise TypeError(f"{self.key} has no plain symbol")
        return self.symbol

    @classmethod
    def given(
        cls, symbol: Symbolic, value: sp.Expr | int | float, scope: Scope = ROOT, carry: Carry | None = None
    ) -> Quantity:
        """A given number; a Python int or float (from library code) is read exactly, 0.1 as 1/10.

        A given is used as it is given; with ``carry`` every value computed from it is rounded.
        """
        if isinstance(value, int | float):
            value = sp.Integer(value) if isinstance(value, int) else sp.Rational(repr(value))
        return cls(symbol, value, approximate(value), None, scope, carry)

    @classmethod
    def computed(cls, symbol: Symbolic, formula: Node, scope: Scope = ROOT) -> Quantity:
        try:
            return cls._computed(symbol, formula, scope)
        except (Undefined, ZeroDivisionError) as error:
            carry = carry_of(formula)
            # Rounded to few digits a probability becomes 0 or 1 (1 − p in a denominator, log p).
            hint = "" if carry is None else f" (rounded to {carry.describe()}; carry more digits)"
            raise DegenerateError(f"{key(scope, symbol)}: {error}{hint}") from None

    @classmethod
    def _computed(cls, symbol: Symbolic, formula: Node, scope: Scope) -> Quantity:
        approx = formula.approx()
        refs = tuple(dict.fromkeys(formula.refs()))
        carry = carry_among(refs)
        if carry is not None:
            # The student policy: the value is rounded as soon as it is computed, and carried so.
            try:
                exact: sp.Expr | None = formula.exact()
            except TooLarge:
                exact = None  # not a tie then: the decimal decides
            try:
                value = carry.round(exact, approx)
            except ValueError as error:
                raise DegenerateError(f"{key(scope, symbol)}: {error}") from None
            carried = approximate(value) if value.is_finite else approx  # ∞ (log 0) has no decimal
            return cls(symbol, value, carried, formula, scope, carry, value != exact)
        if any(q.exact.is_Float for q in refs):
            # Computed from decimals: there is no exact value, and evaluating twice is waste.
            return cls(symbol, as_float(approx), approx, formula, scope)
        standing = [q for q in refs if q.stands]
        try:
            # A closed form of more nodes would only grow from here (and SymPy's automatic
            # simplification with it): the value stands for itself by a symbol, and stays exact
            # through its formula. So does a value computed from one that stands for itself.
            exact = formula.closed(CLOSED_FORM_NODES) if not standing else _with_placeholders(formula, standing)
        except TooLarge:
            exact = None
        if exact is None or (standing and has_symbol(exact)):
            return cls(symbol, sp.Symbol(identifier(key(scope, symbol))), approx, formula, scope)
        # The shortest equal form a TA would write (-1, not -e^{a}/e^{a}): cheap, small values only.
        return cls(symbol, simplest(exact), approx, formula, scope)


_PLACEHOLDERS: ContextVar[Mapping[Quantity, sp.Expr] | None] = ContextVar("placeholders", default=None)
"""While a formula over values that stand for themselves is evaluated: the placeholder of each."""


@functools.cache
def _placeholder(index: int) -> sp.Dummy:
    return sp.Dummy(f"s{index}")


def _with_placeholders(formula: Node, standing: list[Quantity]) -> sp.Expr | None:
    """``formula``'s exact value with the same few placeholder symbols for the values that stand for
    themselves: whether anything but them remains (a product with 0, x - x) is decided as with their
    own symbols, but SymPy's cache knows these forms (1/(1 + e^{-s0}), s0 s1), and a fresh symbol's
    first sign questions cost a wide network's derivation most of its time."""
    token = _PLACEHOLDERS.set({q: _placeholder(i) for i, q in enumerate(standing)})
    try:
        return formula.closed(CLOSED_FORM_NODES)
    finally:
        _PLACEHOLDERS.reset(token)


def carry_of(formula: Node) -> Carry | None:
    """The student policy of the quantities ``formula`` uses (it came with the givens), or None."""
    return carry_among(formula.refs())


def carry_among(quantities: Iterable[Quantity]) -> Carry | None:
    """The student policy of the first of ``quantities`` that carries one, or None."""
    return next((q.carry for q in quantities if q.carry is not None), None)


CANCELLATION = MP.mpf(10) ** -(DIGITS // 2)
"""A sum far smaller than its terms (1 − σ(1000)) has lost digits; it is evaluated again exactly."""


def _unless_cancelled(node: Node, result: Approx, parts: list[Approx]) -> Approx:
    scale = max((abs(p) for p in parts), default=MP.zero)
    if not MP.isfinite(scale) or abs(result) > CANCELLATION * scale:
        return result
    try:
        value = node.exact()
    except TooLarge:
        return result  # no closed form to evaluate again: keep the (absolutely accurate) decimal
    if value == 0:
        return MP.zero
    if not small(value, 300):
        return result  # too large to evaluate again: keep the (absolutely accurate) decimal
    # SymPy's evalf raises its working precision until the digits are right, within a bound:
    # an exact zero that SymPy cannot see as zero would otherwise make it search forever.
    evaluated = value.evalf(DIGITS + 5, maxn=4 * MP.prec)
    if not evaluated.is_Number:
        # Within that bound SymPy could not fix a single digit: the value is zero to far beyond
        # the digits carried, so the decimal (accurate in absolute terms) stands.
        return result
    return approximate(evaluated)


def _kept(parts: list[sp.Expr], limit: int) -> bool:
    """Whether a sum of terms of these ``parts`` (see :func:`_parts`) certainly keeps more than
    ``limit`` nodes, or a symbol.

    SymPy's Add collects only terms of equal parts (2x + 3x); a part no other term has stays in the
    sum with every node it has, and every symbol.
    """
    counts: dict[sp.Expr, int] = {}
    for part in parts:
        counts[part] = counts.get(part, 0) + 1
    alone = [part for part, count in counts.items() if count == 1]
    total = 0
    for part in alone:
        total += nodes(part, limit)
        if total > limit:
            return True
    return any(has_symbol(part) for part in alone)


def _parts(term: Node) -> list[sp.Expr]:
    """The parts beyond their numeric coefficients of the terms that ``term``'s value brings to a
    sum; a rational times a closed form (w a, the terms of z = W a + b) is read off its factors."""
    if isinstance(term, Product) and len(term.factors) == 2 and all(isinstance(f, Ref) for f in term.factors):
        w, x = (f.exact() for f in term.factors)
        w, x = (x, w) if x.is_Rational else (w, x)
        # w x only merges w into x's coefficient, unless x is a sum (2(a + b) = 2a + 2b) or has
        # powers of numbers (2 · 2^{1/2}); a 0 is no term at all.
        if w.is_Rational and not (x.is_Number or x.is_Add or any(_number_power(f) for f in Mul.make_args(x))):
            return [] if w == 0 else [x.as_coeff_Mul()[1]]
    value = term.exact()
    return [
        t.as_coeff_Mul()[1] for t in (value.args if value.is_Add else (value,)) if not (t.is_Number or _number_power(t))
    ]


def _number_power(value: sp.Expr) -> bool:
    """A power of a number (2^{-1}, 2^{1/2}): a sum may make it a number, a product merge it."""
    return bool(value.is_Pow and value.base.is_Number)


def nodes(value: sp.Expr, limit: int) -> int:
    """The nodes of ``value`` (every node of ``sp.preorder_traversal``), counted up to just past
    ``limit``: a huge tree is never walked to its end."""
    count, stack = 0, [value]
    while stack and count <= limit:
        node = stack.pop()
        count += 1
        stack.extend(node.args)
    return count


@dataclass(frozen=True, eq=False)
class Ref(Node):
    """An earlier quantity: its symbol in the general formula, its value when substituted."""

    q: Quantity

    def exact(self) -> sp.Expr:
        placeholders = _PLACEHOLDERS.get()
        return self.q.exact if placeholders is None else placeholders.get(self.q, self.q.exact)

    def approx(self) -> Approx:
        return self.q.approx


@dataclass(frozen=True, eq=False)
class Num(Node):
    """A literal number of the formula itself (the 2 in 2(ŷ − y))."""

    value: sp.Rational

    def exact(self) -> sp.Expr:
        return self.value

    def approx(self) -> Approx:
        return approximate(self.value)


@dataclass(frozen=True, eq=False)
class Sum(Node):
    terms: tuple[Node, ...]

    def exact(self) -> sp.Expr:
        return sp.Add(*(t.exact() for t in self.terms))

    def closed(self, limit: int) -> sp.Expr | None:
        # Adding 32 long closed forms costs SymPy a millisecond, to find a sum too long to keep.
        if _kept([part for term in self.terms for part in _parts(term)], limit):
            return None
        value = sp.Add(*(t.exact() for t in self.terms))
        return value if small(value, limit) else None

    def approx(self) -> Approx:
        parts = [t.approx() for t in self.terms]
        return _unless_cancelled(self, MP.fsum(parts), parts)

    def children(self) -> tuple[Node, ...]:
        return self.terms


@dataclass(frozen=True, eq=False)
class Product(Node):
    factors: tuple[Node, ...]

    def exact(self) -> sp.Expr:
        values = [f.exact() for f in self.factors]
        # 0 · log 0 = 0: the cross-entropy term of the other class vanishes even where its log is -∞.
        # (A value equals 0 only as a number: asking a closed form == 0 first sympifies the 0.)
        return sp.Integer(0) if any(v.is_Number and v == 0 for v in values) else sp.Mul(*values)

    def approx(self) -> Approx:
        values = [f.approx() for f in self.factors]
        return MP.zero if any(v == 0 for v in values) else MP.fprod(values)

    def children(self) -> tuple[Node, ...]:
        return self.factors


@dataclass(frozen=True, eq=False)
class Difference(Node):
    left: Node
    right: Node

    def exact(self) -> sp.Expr:
        return self.left.exact() - self.right.exact()

    def approx(self) -> Approx:
        parts = [self.left.approx(), self.right.approx()]
        return _unless_cancelled(self, parts[0] - parts[1], parts)

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, eq=False)
class Power(Node):
    base: Node
    exponent: int

    def exact(self) -> sp.Expr:
        base = self.base.exact()
        if not small(base, POWER_NODES):
            # SymPy's automatic evaluation of a power of a long sum of exponentials and roots asks
            # sign questions that took 35 s for one 99-node gradient squared (Adam's g²).
            raise TooLarge
        return base**self.exponent

    def approx(self) -> Approx:
        return self.base.approx() ** self.exponent

    def children(self) -> tuple[Node, ...]:
        return (self.base,)


@dataclass(frozen=True, eq=False)
class Apply(Node):
    """An activation applied to its argument: σ(z)."""

    function: Function
    arg: Node

    def exact(self) -> sp.Expr:
        value = self.arg.exact()
        if self.function.name == "custom" and not small(value, POWER_NODES):
            raise TooLarge  # a user's f may square or root its argument: as for Power
        if nesting(value) >= NESTED_FUNCTIONS:
            raise TooLarge
        return self.function.rule(value)

    def approx(self) -> Approx:
        decimal = self.function.decimal
        if decimal is not None:
            return decimal(self.arg.approx())
        return approximate(self.function.rule(as_float(self.arg.approx())))

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True, eq=False)
class Quotient(Node):
    num: Node
    den: Node

    def exact(self) -> sp.Expr:
        den = self.den.exact()
        if den == 0:
            raise ZeroDivisionError(
                "division by zero: the formula's denominator is exactly 0, so the value is undefined"
            )
        return self.num.exact() / den

    def approx(self) -> Approx:
        den = self.den.approx()
        if den == 0:
            # The carried decimal is 0 to 45 digits; the exact denominator may still be a tiny
            # non-zero value (1 − σ(z) for a saturated σ), which no decimal here can divide by.
            raise ZeroDivisionError(
                f"division by zero: the formula's denominator is 0 to {DIGITS} digits (exactly, or a "
                "saturated activation), so the value cannot be evaluated"
            )
        return self.num.approx() / den

    def children(self) -> tuple[Node, ...]:
        return (self.num, self.den)


@dataclass(frozen=True, eq=False)
class Negate(Node):
    arg: Node

    def exact(self) -> sp.Expr:
        return -self.arg.exact()

    def approx(self) -> Approx:
        return -self.arg.approx()

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


def _negative(value: sp.Expr, node: Node) -> bool:
    """Whether ``value``, the exact value of ``node``, is negative: read from the node's carried
    decimal where that is clear of zero (SymPy's own test evaluates a closed form numerically, at
    forty times the cost: the norm of a gradient, a sum of squares, took 27 ms), else decided by SymPy."""
    if value.is_Number or has_symbol(value):  # a number's sign is known; p and y have none
        return bool(value.is_negative)
    decimal = node.approx()
    if MP.isfinite(decimal) and abs(decimal) > CANCELLATION:
        return bool(decimal < 0)  # a decimal carried to 40 digits has the sign of its value
    return bool(value.is_negative)


@dataclass(frozen=True, eq=False)
class Log(Node):
    """The natural logarithm."""

    arg: Node

    def exact(self) -> sp.Expr:
        value = self.arg.exact()
        if _negative(value, self.arg):
            raise Undefined(f"the logarithm of a negative number ({value}) is undefined; a probability is needed")
        return -sp.oo if value == 0 else sp.log(value)  # log 0 = -∞ (SymPy's own is complex ∞)

    def approx(self) -> Approx:
        value = self.arg.approx()
        if value < 0:
            raise Undefined(
                f"the logarithm of a negative number ({MP.nstr(value, 6)}) is undefined; a probability is needed"
            )
        return MP.ninf if value == 0 else MP.log(value)

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True, eq=False)
class Sqrt(Node):
    arg: Node

    def exact(self) -> sp.Expr:
        value = self.arg.exact()
        if not small(value, POWER_NODES):
            raise TooLarge  # as for Power: a root of a long closed form is not worth SymPy's time
        if _negative(value, self.arg):
            raise Undefined(f"the square root of a negative number ({value}) is undefined")
        return sp.sqrt(value)

    def approx(self) -> Approx:
        value = self.arg.approx()
        if value < 0:
            raise Undefined(f"the square root of a negative number ({MP.nstr(value, 6)}) is undefined")
        return MP.sqrt(value)

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True, eq=False)
class Slope(Node):
    """f'(arg) for an f whose derivative is a rule of its own (ReLU'(z) = 1 if z > 0, else 0)."""

    prime: str
    rule: Callable[[sp.Expr], sp.Expr]
    arg: Node

    def exact(self) -> sp.Expr:
        return self.rule(self.arg.exact())

    def approx(self) -> Approx:
        return approximate(self.rule(as_float(self.arg.approx())))

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True, eq=False)
class Rule(Node):
    """A user's formula applied to its arguments; ``latex`` shows #1, #2, … where they go."""

    latex: str
    rule: Callable[..., sp.Expr]
    args: tuple[Node, ...]

    def exact(self) -> sp.Expr:
        values = [a.exact() for a in self.args]
        if not all(small(v, POWER_NODES) for v in values):
            # A user's formula may square its arguments, (ŷ − y)^4: SymPy's automatic evaluation
            # of powers of long closed forms took minutes (see Power).
            raise TooLarge
        return self.rule(*values)

    def approx(self) -> Approx:
        return approximate(self.rule(*(as_float(a.approx()) for a in self.args)))

    def children(self) -> tuple[Node, ...]:
        return self.args


# Display-only nodes: the matrix form of a step, printed but never evaluated.


@dataclass(frozen=True, eq=False)
class Tensor(Node):
    """A whole vector or matrix (W^{(1)}, x, δ^{(2)}); substituted, it prints its entries."""

    symbol: Symbolic
    entries: tuple[tuple[Quantity, ...], ...] | None = None
    transpose: bool = False


@dataclass(frozen=True, eq=False)
class Hadamard(Node):
    """Entry-wise product ⊙."""

    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, eq=False)
class Derivative(Node):
    """f'(arg), as in σ'(z^{(1)}) of a matrix-form formula."""

    function: Function
    arg: Node

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True, eq=False)
class Chain(Node):
    """A chain-rule product of partials, printed as ∂a/∂b · ∂b/∂c · …"""

    factors: tuple[Symbolic, ...]


def ref(q: Quantity) -> Ref:
    return Ref(q)


def with_values(node: Node, values: Mapping[Quantity, sp.Expr]) -> Node:
    """``node`` with each quantity of ``values`` standing for the given value instead of its own: the
    formula a student evaluates with the numbers a line shows."""
    if isinstance(node, Ref):
        value = values.get(node.q)
        return node if value is None else Ref(Quantity.given(node.q.symbol, value, node.q.scope))
    changed: dict[str, Node | tuple[Node, ...]] = {}
    for item in dataclasses.fields(node):  # type: ignore[arg-type]
        field = getattr(node, item.name)
        if isinstance(field, Node):
            changed[item.name] = with_values(field, values)
        elif isinstance(field, tuple) and field and all(isinstance(f, Node) for f in field):
            changed[item.name] = tuple(with_values(f, values) for f in field)
    return dataclasses.replace(node, **changed) if changed else node  # type: ignore[type-var]
