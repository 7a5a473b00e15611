"""Notation: one SymPy LatexPrinter subclass prints symbols, formulas, substitutions and numbers.

Formulas are printed three ways from the same tree: in symbols, with the numbers substituted
(negative numbers in brackets, the formula's own order kept), and as exact results. SymPy's own
printing is used only for evaluated exact values.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal
from typing import Any, ClassVar

import sympy as sp
from sympy.printing.latex import LatexPrinter

from derive.terms.formula import (
    Apply,
    Chain,
    Derivative,
    Difference,
    Hadamard,
    Log,
    Negate,
    Node,
    Num,
    Power,
    Product,
    Quantity,
    Quotient,
    Ref,
    Rule,
    Slope,
    Sqrt,
    Sum,
    Tensor,
    small,
)
from derive.terms.rounding import rounded_decimal
from derive.terms.symbols import (
    Block,
    LossAt,
    LossSlope,
    Mean,
    Norm,
    Partial,
    PredictionError,
    Stacked,
    Stat,
    StepSize,
    Sym,
    Symbolic,
    Tied,
    Updated,
)
from derive.tex.names import NAMED, STANDARD, Names, named, token


class Latex(str):
    """A string that already is LaTeX (made by the printer); every other string gets escaped."""


class Data(Latex):
    """LaTeX that is data for a package (plot coordinates): printed as is, decimal points kept."""


BASES = {  # LaTeX of symbol bases that are not a plain letter (the network's own: derive.names)
    "alpha": r"\alpha",
    "beta1": r"\beta_1",
    "beta2": r"\beta_2",
    "beta": r"\beta",
    "rho": r"\rho",
    "epsilon": r"\varepsilon",
    "p": "p",
}
STATS = {"mhat": r"\hat{m}", "vhat": r"\hat{v}"}
"""LaTeX of optimizer state names that are not a plain letter."""

EXACT_LIMIT = 160
"""Longest exact closed form (LaTeX characters) shown on the sheet; longer ones show decimals."""
SUBSTITUTE_LIMIT = 48
"""Longest exact value substituted into a formula; longer ones are substituted as decimals."""

_ATOM, _PRODUCT, _HADAMARD, _SUM, _NEGATIVE = 4, 3, 2, 1, 0
"""Binding strength: a child binding less tightly than its context gets brackets."""


class DerivePrinter(LatexPrinter):
    """LaTeX for derive's symbols, formula trees and exact values.

    Settings (besides LatexPrinter's): ``substitute`` prints references as their values,
    ``decimals`` is the number of places of decimals, ``exact`` False substitutes decimals only.
    """

    printmethod = "_latex"  # SymPy atoms such as oo print themselves through it
    _default_settings: ClassVar[dict[str, Any]] = {
        **LatexPrinter._default_settings,
        "order": "none",  # see _print_Add
        "substitute": False,
        "decimals": 4,
        "exact": True,
        "flip": False,  # print every W as its transpose (see weight_shaped)
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.approximated = False
        """Set when a substitution fell back to a decimal, so the line must read ≈."""

    def emptyPrinter(self, expr: object) -> str:
        raise TypeError(f"DerivePrinter cannot print {type(expr).__name__}: {expr!r}")

    # --- symbols ----------------------------------------------------------------------------

    def _print_Sym(self, s: Sym, prime: int = 0, transpose: bool = False) -> str:
        # The network's quantities are written as tokens that each output names (derive.names).
        base = token(s.base) if s.base in NAMED else BASES.get(s.base, s.base)
        if self._settings["flip"] and s.base == "W":
            transpose = not transpose
        sup = [] if s.layer is None else [f"({s.layer})"]
        if transpose:
            sup.append(r"\top")
        if prime > 3:
            sup.insert(0, f"[{prime}]")  # w^{[4](1)}: one superscript (two would be a TeX error)
        elif prime:
            # w'^{(1)}_{2,1}: TeX merges the prime into the superscript, the index stays under w.
            base += "'" * prime
        text = base + (f"^{{{''.join(sup)}}}" if sup else "")
        if s.index and not s.hide_index:
            text += "_{" + ",".join(str(i) for i in s.index) + "}"
        return text

    def _print_Updated(self, u: Updated, transpose: bool = False) -> str:
        return self._print_Sym(u.of, prime=u.times, transpose=transpose)

    def _print_Stat(self, s: Stat) -> str:
        name = STATS.get(s.name, s.name)
        return rf"{name}_{{{s.t}}}\left[{self._print(s.of)}\right]"

    def _print_Mean(self, s: Mean) -> str:
        return rf"\bar{{g}}^{{({s.layer})}}"

    def _print_Stacked(self, s: Stacked) -> str:
        stacked = r" \\ ".join(symbol(n) for n in s.parts)
        return rf"\begin{{bmatrix}} {stacked} \end{{bmatrix}}"

    def _print_Block(self, s: Block) -> str:
        return f"{symbol(s.matrix)}_{{{symbol(s.source)}}}"

    def _print_Tied(self, s: Tied) -> str:
        return rf"\theta_{{{s.group}}}"

    def _print_LossAt(self, s: LossAt) -> str:
        shown = terminating(s.p, 12) or inline(s.p)  # 0.01 rather than 1/100, as a student writes it
        return named(rf"@L\left({shown}, {s.y}\right)")

    def _print_Norm(self, s: Norm) -> str:
        return rf"\left\lVert {symbol(s.of, s.sheet)} \right\rVert"

    def _print_StepSize(self, s: StepSize) -> str:
        return r"-\alpha g" if s.method == "sgd" else r"\Delta\theta"

    def _print_PredictionError(self, s: PredictionError) -> str:
        return named("@yhat - @y")

    def _print_LossSlope(self, s: LossSlope) -> str:
        dz = self._print(Partial(Sym("L"), Sym("z")))
        return rf"{dz}\big|_{{\text{{{s.loss.upper()}}}}}"

    def _print_Partial(self, p: Partial) -> str:
        return rf"\frac{{\partial {self._print(p.num)}}}{{\partial {self._print(p.den)}}}"

    # --- formula nodes ----------------------------------------------------------------------

    def _print_Ref(self, node: Ref) -> str:
        if not self._settings["substitute"]:
            return self._print(node.q.symbol)
        return self.value(node.q)

    def _print_Num(self, node: Num) -> str:
        return self._print(node.value)

    def _print_Sum(self, node: Sum) -> str:
        return " + ".join(self._child(t, _SUM) for t in node.terms)

    def _print_Difference(self, node: Difference) -> str:
        return f"{self._child(node.left, _SUM)} - {self._child(node.right, _PRODUCT)}"

    def _print_Product(self, node: Product) -> str:
        # Symbols are juxtaposed (δ a); a number after the first factor gets a dot (∂L/∂ŷ · 1).
        substitute = self._settings["substitute"]
        text = ""
        for i, factor in enumerate(node.factors):
            if i:
                text += r" \cdot " if substitute or isinstance(factor, Num) else r" \, "
            text += self._child(factor, _PRODUCT)
        return text

    def _print_Hadamard(self, node: Hadamard) -> str:
        return rf"{self._child(node.left, _HADAMARD)} \odot {self._child(node.right, _HADAMARD)}"

    def _print_Power(self, node: Power) -> str:
        base = self._child(node.base, _ATOM)
        if (r"\frac" in base or "^" in base) and not base.startswith(r"\left("):
            # (∂L/∂w)^2, not ∂L/∂w^2; (a^{(1)}_1)^2, not a double superscript.
            base = rf"\left({base}\right)"
        return f"{base}^{{{node.exponent}}}"

    def _print_Quotient(self, node: Quotient) -> str:
        return rf"\frac{{{self._print(node.num)}}}{{{self._print(node.den)}}}"

    def _print_Negate(self, node: Negate) -> str:
        return f"-{self._child(node.arg, _PRODUCT)}"

    def _print_Log(self, node: Log) -> str:
        return rf"\log\left({self._print(node.arg)}\right)"

    def _print_Sqrt(self, node: Sqrt) -> str:
        return rf"\sqrt{{{self._print(node.arg)}}}"

    def _print_Slope(self, node: Slope) -> str:
        return node.prime.replace("#", self._print(node.arg))

    def _print_Rule(self, node: Rule) -> str:
        text = node.latex
        # Highest placeholder first, so that #1 does not eat the start of #12.
        for i in range(len(node.args), 0, -1):
            text = text.replace(f"#{i}", self._child(node.args[i - 1], _ATOM))
        return text

    def _print_Apply(self, node: Apply) -> str:
        return node.function.call.replace("#", self._print(node.arg))

    def _print_Derivative(self, node: Derivative) -> str:  # type: ignore[override]
        return node.function.prime.replace("#", self._print(node.arg))

    def _print_Chain(self, node: Chain) -> str:
        return r" \, ".join(self._print(f) for f in node.factors)

    def _print_Tensor(self, node: Tensor) -> str:
        if not self._settings["substitute"] or node.entries is None:
            symbol = node.symbol
            if isinstance(symbol, Sym):
                return self._print_Sym(symbol, transpose=node.transpose)
            if isinstance(symbol, Updated):
                return self._print_Updated(symbol, transpose=node.transpose)
            text = self._print(symbol)
            return rf"\left({text}\right)^{{\top}}" if node.transpose else text
        rows = node.entries
        # A flipped weight-shaped tensor is shown as the transpose, so its entries are, too.
        if node.transpose != (self._settings["flip"] and weight_shaped(node.symbol)):
            rows = tuple(zip(*rows, strict=True))
        if len(rows) == 1 and len(rows[0]) == 1:
            return self.value(rows[0][0])
        body = r" \\ ".join(" & ".join(self.value(q) for q in row) for row in rows)
        return rf"\begin{{pmatrix}} {body} \end{{pmatrix}}"

    def _child(self, node: Node, context: int) -> str:
        text = self._print(node)
        if self._precedence(node) < context:
            return rf"\left({text}\right)"
        return text

    def _precedence(self, node: Node) -> int:
        if isinstance(node, Sum | Difference | Negate):
            return _SUM
        if isinstance(node, Hadamard):
            return _HADAMARD  # (W^T δ ⊙ σ'(z)) x^T: a Hadamard product inside a matrix product is bracketed
        if isinstance(node, Product):
            return _PRODUCT
        if isinstance(node, Num):
            return _NEGATIVE if node.value < 0 else _ATOM
        if self._settings["substitute"]:
            if isinstance(node, Ref):
                return self.value_precedence(node.q)
            if (
                isinstance(node, Tensor)
                and node.entries is not None
                and len(node.entries) == 1
                and len(node.entries[0]) == 1
            ):
                return self.value_precedence(node.entries[0][0])
        return _ATOM

    # --- values -----------------------------------------------------------------------------

    def value(self, q: Quantity) -> str:
        """A quantity's value as substituted into a formula: exact when short, else a decimal."""
        if not self._settings["exact"]:
            text = _decimals_only(q, self._settings["decimals"])
            if text is None:
                self.approximated = True
                return decimal(q.approx, self._settings["decimals"])
            return text
        text = exact_text(q.exact, self, SUBSTITUTE_LIMIT) if is_exact(q.exact) else None
        if text is None:
            self.approximated = True
            return decimal(q.approx, self._settings["decimals"])
        return text

    def value_precedence(self, q: Quantity) -> int:
        text = self.value(q)
        if text.startswith("-"):
            return _NEGATIVE
        # A compound value (1 - 1/(1+e^{-3})) is bracketed wherever it is substituted.
        return _NEGATIVE if q.exact.is_Add and exact_text(q.exact, self, SUBSTITUTE_LIMIT) is not None else _ATOM

    # --- SymPy values in teaching order -----------------------------------------------------

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        # Numbers first (1 + e^{-3}, 1 - σ), the rest in SymPy's canonical order of arguments:
        # LatexPrinter's own ordering evaluates every term numerically and costs more than the print.
        terms = list(expr.args)
        terms.sort(key=lambda t: 0 if t.is_Number else 1)
        tex = ""
        for i, term in enumerate(terms):
            if i > 0:
                if term.could_extract_minus_sign():
                    tex += " - "
                    term = -term
                else:
                    tex += " + "
            term_tex = self._print(term)
            if self._needs_add_brackets(term):
                term_tex = rf"\left({term_tex}\right)"
            tex += term_tex
        return tex

    def _print_ExpBase(self, expr: sp.Expr, exp: str | None = None) -> str:
        # e^{-1/8} rather than e^{- \frac{1}{8}}: a short fraction in an exponent reads better inline.
        power = expr.args[0]
        text = f"{power.p}/{power.q}" if power.is_Rational and not power.is_Integer else self._print(power)
        return self._do_exponent(rf"e^{{{text}}}", exp)


def exact_text(value: sp.Expr, printer: DerivePrinter | None = None, limit: int = EXACT_LIMIT) -> str | None:
    """The LaTeX of an exact value, or None when it is longer than ``limit`` characters.

    The size is bounded before printing (a node count), so a huge closed form is never printed.
    """
    if printer is None:
        return _exact_text(value, limit)  # the sheet, the answers and the drawings print the same values
    if not small(value, limit) or not is_exact(value):
        return None
    text = (printer or DerivePrinter())._print(value)
    return text if len(text) <= limit else None


@functools.lru_cache(maxsize=8192)
def _exact_text(value: sp.Expr, limit: int) -> str | None:
    return exact_text(value, DerivePrinter(), limit)


def inline(value: sp.Expr) -> str:
    """An exact value for running text: short fractions folded (1/2), as a student writes inline."""
    return exact_text(value, DerivePrinter({"fold_short_frac": True})) or str(value)


class Digits(int):
    """How many digits a decimal shows: places after the point, or with ``significant`` significant
    figures. An ``int`` (the places) wherever a count of places is expected."""

    significant: bool

    def __new__(cls, count: int, significant: bool = False) -> Digits:
        digits = super().__new__(cls, count)
        digits.significant = significant
        return digits

    def __repr__(self) -> str:
        return f"Digits({int(self)}, significant={self.significant})"

    def __str__(self) -> str:  # the count, as templates print it
        return str(int(self))


def significant(places: int) -> bool:
    """Whether a count of digits means significant figures (a significant :class:`Digits`)."""
    return getattr(places, "significant", False)


def decimal(value: sp.Float | float, places: int = 4) -> str:
    """A decimal rounded half up to ``places`` (or to that many significant figures when ``places``
    is a significant :class:`Digits`); tiny and huge values in scientific notation."""
    if not math.isfinite(float(value)):
        return r"\infty" if float(value) > 0 else r"-\infty"
    number = Decimal(str(sp.Float(value, 40)))
    if significant(places):
        return _significant(number, int(places))
    if number != 0 and not Decimal(10) ** -places <= abs(number) < Decimal(10) ** 6:
        mantissa, exponent = f"{number:.{max(places - 1, 1)}e}".split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
    rounded = rounded_decimal(number, places)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:f}"


def _significant(number: Decimal, figures: int) -> str:
    """``number`` rounded half up to ``figures`` significant figures: 0.01235, 1.235, 123500."""
    if number == 0:
        return "0"
    rounded = rounded_decimal(number, figures, significant=True)
    if not Decimal("1e-4") <= abs(rounded) < Decimal(10) ** 6:
        mantissa, exponent = f"{rounded:.{max(figures - 1, 0)}e}".split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
    return f"{rounded:f}"


def terminating(value: sp.Expr, places: int) -> str | None:
    """The exact decimal of a rational with at most ``places`` digits after the point, else None.

    Worked in integers: a fraction terminates when its denominator is 2^i 5^j, after max(i, j)
    digits; Decimal's 28-digit context would round a long numerator instead.
    """
    if not value.is_Rational:
        return None
    p, q = int(value.p), int(value.q)
    twos = fives = 0
    while q % 2 == 0:
        q, twos = q // 2, twos + 1
    while q % 5 == 0:
        q, fives = q // 5, fives + 1
    digits = max(twos, fives)
    if q != 1 or digits > places:
        return None
    scaled = abs(p) * 10**digits // int(value.q)
    whole, fraction = divmod(scaled, 10**digits)
    text = f"{whole}.{fraction:0{digits}d}".rstrip("0").rstrip(".") if digits else str(whole)
    return f"-{text}" if p < 0 else text


def weight_shaped(s: Symbolic) -> bool:
    """Whether ``s`` has a weight matrix's shape: W^{(l)}, W'^{(l)}, ∂L/∂W^{(l)}.

    A sheet that indexes weights from input to unit (``index_order = "from_to"``) means by W^{(l)}
    the transpose of the matrix derive computes with; its listings of such values print them with
    ``flip`` (label and entries transposed), and every other W gets a ⊤ added or removed when the
    sheet is named (:meth:`derive.tex.names.Names.expand`), so both read in the sheet's convention.
    """
    if isinstance(s, Updated | Stat):
        s = s.of
    if isinstance(s, Partial):
        s = s.den
    return isinstance(s, Sym) and s.base == "W"


def symbol(s: Symbolic, flip: bool = False) -> str:
    """The LaTeX of a symbol (``flip``: every W as its transpose)."""
    return DerivePrinter({"flip": flip})._print(s)


def formula(node: Node, flip: bool = False) -> str:
    """A formula in symbols."""
    return DerivePrinter({"flip": flip})._print(node)


def substituted(node: Node, places: int, exact: bool = True, flip: bool = False) -> tuple[str, bool]:
    """A formula with every reference replaced by its value; True when a decimal was used."""
    printer = DerivePrinter({"substitute": True, "decimals": places, "exact": exact, "flip": flip})
    text = printer._print(node)
    return text, printer.approximated


def is_exact(value: sp.Expr) -> bool:
    """Whether ``value`` is a closed form: not a decimal-only value, not a symbol for a long one."""
    return not value.has(sp.Float) and not value.free_symbols


def _plain(value: sp.Expr, places: int) -> str | None:
    """An integer, or a decimal that is exact within ``places``: what a decimals-only sheet may write with =."""
    if value.is_Integer:
        return str(value)
    if significant(places):
        # 0.001235 has 4 significant figures in 6 places: it is exact to 4 figures.
        text = terminating(value, 60)
        figures = None if text is None else text.lstrip("-").replace(".", "").lstrip("0")
        return text if figures is not None and len(figures) <= places else None
    return terminating(value, places)


def shown(q: Quantity, places: int, exact: bool = True) -> str:
    """A given value: its exact form (or its decimal when long), or with ``exact`` False a decimal only."""
    text = exact_text(q.exact) if exact else _decimals_only(q, places)
    return text or decimal(q.approx, places)


def carried(q: Quantity, places: int) -> str | None:
    """Under the student policy: a computed value with every place it carries (0.0300, not 0.03),
    a given with all of its own (0.123456 stays so); None for any other value."""
    if q.carry is None:
        return None
    return decimal(q.approx, places) if q.formula is not None else terminating(q.exact, 12)


def _decimals_only(q: Quantity, places: int) -> str | None:
    """What a decimals-only sheet writes for ``q`` with =: the student policy's carried text, or the
    value itself where it is exact within ``places``; None where it must be rounded for display."""
    return carried(q, places) or _plain(q.exact, places)


def given(value: sp.Expr, exact: bool = True) -> str:
    """A given number in running text: as a fraction (1/20) on an exact sheet, as the decimal it
    is (0.05) on a decimals-only one, and as a fraction there too when it has no finite decimal."""
    return (None if exact else terminating(value, 12)) or inline(value)


def result(q: Quantity, places: int, exact: bool = True) -> list[tuple[str, str]]:
    """The result segments of a quantity: [("=", exact), ("=" or "≈", decimal)].

    With ``exact`` False only the decimal: [("=", decimal)] when it is exact, else [("≈", decimal)];
    a value the student policy rounded reads ≈ too.
    """
    value = q.exact
    if not exact:
        text = _decimals_only(q, places)
        if q.rounded:  # the student policy rounded it: ≈ the value carried from here on
            return [(r"\approx", text or decimal(q.approx, places))]
        return [("=", text)] if text is not None else [(r"\approx", decimal(q.approx, places))]
    if not is_exact(value):
        return [(r"\approx", decimal(q.approx, places))]
    if value.is_Integer:
        return [("=", str(value))]
    text = exact_text(value)
    exact_decimal = terminating(value, places)
    if text is None:
        return [(r"\approx", decimal(q.approx, places))]
    if exact_decimal is not None:
        return [("=", text), ("=", exact_decimal)]
    return [("=", text), (r"\approx", decimal(q.approx, places))]


def matrix(rows: list[list[str]]) -> str:
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    body = r" \\ ".join(" & ".join(row) for row in rows)
    return rf"\begin{{pmatrix}} {body} \end{{pmatrix}}"


_COMMAND = re.compile(r"\\(left|right|bigl|bigr|cdot|odot|partial|quad|,|;)")
_FRAC = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")


_MATRIX = re.compile(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}")


def width(latex: str, names: Names = STANDARD) -> int:
    """Rough printed width of a LaTeX math string, in characters, to decide line breaks (its
    quantities' names as ``names`` writes them)."""
    latex = names.expand(latex)
    # A matrix is as wide as its widest row, plus its brackets.
    text = _MATRIX.sub(lambda m: "x" * (2 + max(width(row) for row in m.group(1).split(r"\\"))), latex)
    while True:
        folded = _FRAC.sub(lambda m: "x" * max(len(m.group(1)), len(m.group(2))), text)
        if folded == text:
            break
        text = folded
    text = _COMMAND.sub("x", text)
    text = re.sub(r"\\[a-zA-Z]+", "x", text)
    text = re.sub(r"[{}^_ ]", "", text)
    return len(text)
