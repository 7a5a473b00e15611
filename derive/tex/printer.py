"""The one printer: a SymPy LatexPrinter subclass that writes symbols, formula trees, values and the
displays of a step in a sheet's notation (names, neuron numbering, index order, biases as weights)
and with its decimal mark, each decided from the structure of what it prints.

Formulas are printed three ways from the same tree: in symbols, with the numbers substituted
(negative numbers in brackets, the formula's own order kept), and as exact results. SymPy's own
printing is used only for evaluated exact values.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp
from sympy.printing.latex import LatexPrinter

from derive.terms.display import AsWritten, Exact, Expression, Join, Oriented, Pattern, Rounded, Y, Z
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
from derive.terms.remembered import remembered
from derive.terms.symbols import (
    Block,
    LossAt,
    PredictionError,
    Sym,
    Symbolic,
    Updated,
    weight_shaped,
)
from derive.terms.trees import has_symbol
from derive.tex.decimals import decimal, decimals_only, hyperparameter, shown, terminating
from derive.tex.naming import NamingPrinter


class Latex(str):
    """A string that already is LaTeX (made by the printer); every other string gets escaped."""


@dataclass(frozen=True)
class Substitution:
    """A formula printed with its numbers: the LaTeX, whether a decimal stood in for an exact value
    (the line reads ≈), and the number each quantity was written as."""

    text: str
    approximated: bool
    values: dict[Quantity, sp.Expr]


class Data(Latex):
    """LaTeX that is data for a package (plot coordinates): printed as is, decimal points kept."""


EXACT_LIMIT = 160
"""Longest exact closed form (LaTeX characters) shown on the sheet; longer ones show decimals."""
TYPED_DIGITS = 300
"""Places of a decimal typed in a spec (finite by construction: it is written as typed)."""
SUBSTITUTE_LIMIT = 48
"""Longest exact value substituted into a formula; longer ones are substituted as decimals."""

_ATOM, _PRODUCT, _HADAMARD, _SUM, _NEGATIVE = 4, 3, 2, 1, 0
"""Binding strength: a child binding less tightly than its context gets brackets."""
ATOM = _ATOM
"""The strongest binding (a symbol, a bracketed term): what a printer that writes a value as one
item (the self-check page's slot for a student's number) returns as its precedence."""
_MARK = re.compile(r"@(yhat|delta|err|[xyzawWbL])(?![A-Za-z])")
"""A mark for a quantity's name in an authored pattern: @z, @yhat (never followed by a letter)."""
_LIST = re.compile(r"(?<!\\), ")
"""A list's ", " in an authored pattern (not the thin space "\\, ")."""


class Printer(NamingPrinter):
    """LaTeX for derive's symbols, formula trees, values and displays, in one sheet's look.

    Settings (besides those of :class:`~derive.tex.naming.NamingPrinter`): ``substitute`` prints
    references as their values.
    """

    _default_settings: ClassVar[dict[str, Any]] = {
        **NamingPrinter._default_settings,
        "order": "none",  # see _print_Add
        "substitute": False,
        "guard": 0,  # digits beyond the look's that a decimal substituted into a formula gets
        # A fraction over a sum written a / (b + c + …): a line too wide for the page may then break
        # inside the bracket (softmax's e^{z_j} over twelve terms), where a \frac cannot break.
        "slashed": False,
    }
    kept = ("substitute", "guard", "slashed")  # a substituted formula stays substituted inside a re-oriented part

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.parts: dict[sp.Basic, str] | None = None
        """While an exact value is printed: the LaTeX of the SymPy subexpressions printed before."""
        self.approximated = False
        """Set when a substitution fell back to a decimal, so the line must read ≈."""
        self.substitutes: dict[Quantity, sp.Expr] = {}
        """The number each substituted quantity was written as: its exact value, or the decimal shown."""

    def _print(self, expr: Any, **kwargs: Any) -> str:
        if self.parts is None:
            return str(super()._print(expr, **kwargs))
        return remembered(self.parts, expr, kwargs, super()._print)

    @functools.cached_property
    def exact_kind(self) -> tuple[Any, ...] | None:
        """What the LaTeX of an exact SymPy value depends on, to look printed values up by: the
        printer's class and SymPy's settings. Not derive's own (the look, ``substitute``, …: they
        decide names, references and decimals, and an exact value has none). None when a setting
        cannot be a key: such a printer prints every time."""
        sympy_settings = tuple(
            (name, frozenset(value.items()) if isinstance(value, dict) else value)
            for name, value in self._settings.items()
            if name in LatexPrinter._default_settings
        )
        try:
            hash(sympy_settings)
        except TypeError:
            return None
        return (type(self), sympy_settings)

    def _print_log(self, expr: sp.log, exp: str | None = None) -> str:
        """The logarithm of a number as a textbook writes it: log 2, log 3/2 (a given typed "ln(2)");
        of anything longer, or of a variable, in brackets as SymPy writes it."""
        if exp is not None or not expr.args[0].is_Rational:
            return str(super()._print_log(expr, exp))
        return rf"\log {{{self._print(expr.args[0])}}}"

    # --- displays ---------------------------------------------------------------------------

    def _print_LossAt(self, s: LossAt) -> str:
        return self.pattern(r"@L\left(#1, #2\right)", (AsWritten(s.p), str(s.y)))

    def _print_PredictionError(self, s: PredictionError) -> str:
        return self.pattern("@yhat - @y")

    def pattern(self, text: str, args: Sequence[Any] = ()) -> str:
        """An authored pattern with the sheet's names for its @-marks, ``args`` for #1, #2, … and its
        list separator (see :class:`~derive.terms.display.Pattern`)."""

        text = _MARK.sub(lambda match: self.name(match.group(1)), text)
        if self.look.mark == ",":
            text = _LIST.sub("; ", text)
        return _filled(text, [self.show(arg) for arg in args])

    def _print_Pattern(self, p: Pattern) -> str:
        return self.pattern(p.text, p.args)

    def _print_Exact(self, e: Exact) -> str:
        return self.inline(e.value)

    def _print_AsWritten(self, e: AsWritten) -> str:
        return self.as_written(e.value)

    def _print_Rounded(self, r: Rounded) -> str:
        return self.decimal(r.value, r.places)

    def _print_Join(self, j: Join) -> str:
        separator = self.look.separator if j.separator == ", " else j.separator
        return separator.join(self.show(item) for item in j.items)

    def _print_Expression(self, e: Expression) -> str:
        return Printer({"look": self.look, "symbol_names": {Y: self.name("y"), Z: self.name("z")}})._print(e.expr)

    def _print_Oriented(self, o: Oriented) -> str:
        return self.but(oriented=True)._print(o.of)

    def show(self, shown: Any) -> str:
        """Anything a step shows: a symbol, a formula node, a display record, or plain text as is."""
        if isinstance(shown, str):
            return shown
        if isinstance(shown, Quantity):
            return self.decimal(shown.approx)
        return str(self._print(shown))

    # --- formula nodes ----------------------------------------------------------------------

    def _print_Ref(self, node: Ref) -> str:
        if not self._settings["substitute"]:
            return self._print(node.q.symbol)
        return self.value(node.q)

    def _print_Num(self, node: Num) -> str:
        return self._print(node.value)

    def _print_Sum(self, node: Sum) -> str:
        # A negated term is written with its sign, a - b, as a student writes it (not a + -b).
        text = self._child(node.terms[0], _SUM)
        for term in node.terms[1:]:
            if isinstance(term, Negate):
                text += f" - {self._child(term.arg, _PRODUCT)}"
            else:
                text += f" + {self._child(term, _SUM)}"
        return text

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
        layered = not self._settings["substitute"] and _layered(node.base)
        if (r"\frac" in base or "^" in base or layered) and not base.startswith(r"\left("):
            # (∂L/∂w)^2, not ∂L/∂w^2; (a^{(1)}_1)^2, not a double superscript; (a_{h_1})^2 likewise.
            base = rf"\left({base}\right)"
        return f"{base}^{{{node.exponent}}}"

    def _print_Quotient(self, node: Quotient) -> str:
        if self._settings["slashed"] and isinstance(node.den, Sum):
            return rf"{self._child(node.num, _PRODUCT)} \big/ \left({self._print(node.den)}\right)"
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
        return _filled(node.latex, [self._child(arg, _ATOM) for arg in node.args])

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
            # Indexed from input to unit, a block of W's columns transposed is a block of its rows.
            transposed = node.transpose != (isinstance(symbol, Block) and self.look.notation.from_to)
            return rf"\left({text}\right)^{{\top}}" if transposed else text
        rows = node.entries
        # Written as the sheet's own matrix, a weight-shaped tensor's entries are transposed too.
        if node.transpose != self.orients(node.symbol):
            rows = tuple(zip(*rows, strict=True))
        if len(rows) == 1 and len(rows[0]) == 1:
            return self.value(rows[0][0])
        body = r" \\ ".join(" & ".join(self.value(q) for q in row) for row in rows)
        return rf"\begin{{pmatrix}} {body} \end{{pmatrix}}"

    def orients(self, symbol: Symbolic) -> bool:
        """Whether this printer writes ``symbol``'s entries transposed: a weight-shaped quantity as the
        sheet's own matrix, where weights are indexed from input to unit."""
        return self._settings["oriented"] and self.look.notation.from_to and weight_shaped(symbol)

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
        """A quantity's value as substituted into a formula: exact when short, else a decimal (with the
        printer's guard digits beyond the look's places)."""
        if (typed := self.typed(q)) is not None:
            self.substitutes[q] = q.exact
            return typed  # a given typed as a decimal is substituted as typed: its exact value
        look = self.look
        text = (
            self.number(decimals_only(q, look.places))
            if not look.exact
            else exact_text(q.exact, self, SUBSTITUTE_LIMIT)
            if is_exact(q.exact)
            else None
        )
        if text is not None:
            self.substitutes[q] = q.exact
            return text
        self.approximated = True
        guard = self._settings["guard"]
        written = shown(q.approx, look.places, guard)
        if written is not None:  # a power of ten beyond any calculator is not substituted: none redoes it
            self.substitutes[q] = sp.Rational(str(written))
        return self.decimal(q.approx, guard=guard)

    def value_precedence(self, q: Quantity) -> int:
        text = self.value(q)
        if text.startswith("-"):
            return _NEGATIVE
        # A compound value (1 - 1/(1+e^{-3})) is bracketed wherever it is substituted.
        return _NEGATIVE if q.exact.is_Add and exact_text(q.exact, self, SUBSTITUTE_LIMIT) is not None else _ATOM

    def number(self, text: str | None) -> str | None:
        """A decimal this module wrote with a point, with the sheet's decimal mark: 0{,}5 (braced, so
        TeX adds no space after the comma)."""
        return text if text is None or self.look.mark == "." else text.replace(".", "{,}")

    def decimal(self, value: Any, places: int | None = None, guard: int = 0) -> str:
        """A decimal rounded half up to ``places`` (default: the look's) and ``guard`` digits more, with
        the sheet's mark."""
        return str(self.number(decimal(value, self.look.places if places is None else places, guard)))

    def inline(self, value: sp.Expr) -> str:
        """An exact value for running text: short fractions folded (1/2), as a student writes inline."""
        return exact_text(value, self.but(fold_short_frac=True)) or str(value)

    def typed(self, q: Quantity) -> str | None:
        """A given quantity the spec typed as a decimal, as typed (None for any other)."""
        return self.written(q.exact) if q.formula is None else None

    def written(self, value: sp.Expr) -> str | None:
        """A given number the spec typed as a decimal, as typed: 0.01 (not 1/100), -0.2, and a small
        power of ten as 10^{-8}; None for any other number (a fraction typed "1/2" stays one)."""
        if not isinstance(value, sp.Rational) or value not in self.look.typed_decimals:
            return None
        return hyperparameter(value) or self.number(terminating(value, TYPED_DIGITS))

    def as_written(self, value: sp.Expr) -> str:
        """A given number as an exercise writes it: 0.01 rather than 1/100 where its decimal is finite."""
        return self.number(terminating(value, 12)) or self.inline(value)

    def given(self, value: sp.Expr) -> str:
        """A given number in running text: as a fraction (1/20) on an exact sheet, as the decimal it
        is (0.05) on a decimals-only one, and as a fraction there too when it has no finite decimal."""
        if (typed := self.written(value)) is not None:
            return typed
        return (None if self.look.exact else self.number(terminating(value, 12))) or self.inline(value)

    def shown(self, q: Quantity) -> str:
        """A given value: as typed where the spec typed a decimal, else its exact form (or its decimal
        when long), or on a decimals-only sheet a decimal."""
        if (typed := self.typed(q)) is not None:
            return typed
        text = exact_text(q.exact) if self.look.exact else self.number(decimals_only(q, self.look.places))
        return text or self.decimal(q.approx)

    def result(self, q: Quantity) -> list[tuple[str, str]]:
        """The result segments of a quantity: [("=", exact), ("=" or "≈", decimal)].

        On a decimals-only sheet only the decimal: [("=", decimal)] when it is exact, else
        [("≈", decimal)]; a value the student policy rounded reads ≈ too.
        """
        value, places = q.exact, self.look.places
        if not self.look.exact:
            text = self.number(decimals_only(q, places))
            if q.rounded:  # the student policy rounded it: ≈ the value carried from here on
                return [(r"\approx", text or self.decimal(q.approx))]
            return [("=", text)] if text is not None else [(r"\approx", self.decimal(q.approx))]
        if not is_exact(value):
            return [(r"\approx", self.decimal(q.approx))]
        if value.is_Integer:
            return [("=", str(value))]
        text = exact_text(value)
        exact_decimal = self.number(terminating(value, places))
        if text is None:
            return [(r"\approx", self.decimal(q.approx))]
        if exact_decimal is not None:
            return [("=", text), ("=", exact_decimal)]
        return [("=", text), (r"\approx", self.decimal(q.approx))]

    def substituted(self, node: Node, oriented: bool = False) -> tuple[str, bool]:
        """A formula with every reference replaced by its value; True when a decimal was used."""
        substitution = self.substitution(node, oriented)
        return substitution.text, substitution.approximated

    def substitution(self, node: Node, oriented: bool = False) -> Substitution:
        """A formula with every reference replaced by its value, and the numbers it was written with."""
        printer = self.but(substitute=True, oriented=oriented)
        text = printer._print(node)
        return Substitution(text, printer.approximated, printer.substitutes)

    def formula(self, node: Node, oriented: bool = False) -> str:
        """A formula (or a symbol) in symbols; ``oriented``: weight-shaped tensors as the sheet's matrices."""
        return str(self.but(substitute=False, oriented=oriented)._print(node))

    def symbol(self, s: Symbolic, oriented: bool = False) -> str:
        return self.formula(s, oriented)  # type: ignore[arg-type]

    def listing(self, symbol: Symbolic, rows: Sequence[Sequence[Any]]) -> tuple[str, Sequence[Sequence[Any]]]:
        """A listed matrix of values as the sheet writes it: its symbol, and its rows (the transpose's
        where the sheet indexes weights from input to unit)."""
        flip = self.but(oriented=True).orients(symbol)
        return self.symbol(symbol, oriented=flip), (tuple(zip(*rows, strict=True)) if flip else rows)

    def vector(self, values: Sequence[Any]) -> str:
        """A vector in running text, as a transposed row: (1, -1)^T (decimals unless exact)."""
        texts = [self.given(v) for v in values]
        if len(texts) == 1:
            return texts[0]
        return r"(" + self.look.separator.join(texts) + r")^{\top}"

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


def _filled(text: str, args: Sequence[str]) -> str:
    """``text`` with ``args`` for its placeholders #1, #2, …"""
    for i in range(len(args), 0, -1):  # highest first, so that #1 does not eat the start of #12
        text = text.replace(f"#{i}", args[i - 1])
    return text


def _layered(node: Node) -> bool:
    """Whether a formula node names a quantity of a layer (z^{(1)}_j, a_{h_1}): squared, it is bracketed."""
    symbol = node.q.symbol if isinstance(node, Ref) else node.symbol if isinstance(node, Tensor) else None
    if isinstance(symbol, Updated):
        symbol = symbol.of
    return isinstance(symbol, Sym) and symbol.layer is not None


def exact_text(value: sp.Expr, printer: Printer | None = None, limit: int = EXACT_LIMIT) -> str | None:
    """The LaTeX of an exact value, or None when it is longer than ``limit`` characters.

    The size is bounded before printing (a node count), so a huge closed form is never printed.
    """
    if printer is None:
        return _exact_text(value, limit)  # the sheet, the answers and the drawings print the same values
    if not small(value, limit) or not is_exact(value):
        return None  # decided before the value is hashed: a huge closed form is never walked whole
    if printer.exact_kind is None:
        return _printed(value, printer, limit)
    # A sheet prints each value many times (its own line, each line it is substituted into, the
    # answers: a fifth of a variant's build went into printing values printed before), and its
    # values share most of their parts: each subexpression, the value itself among them, is printed
    # once per kind of printer.
    return _printed(value, printer, limit, _PARTS.setdefault(printer.exact_kind, {}))


_PARTS: dict[tuple[Any, ...], dict[sp.Basic, str]] = {}
"""For each kind of printer, the LaTeX of the values it printed and of their subexpressions (as many
as :data:`derive.terms.remembered.KEPT`: the memory of a watched sheet stays bounded)."""


def _printed(value: sp.Expr, printer: Printer, limit: int, parts: dict[sp.Basic, str] | None = None) -> str | None:
    printer.parts = parts
    try:
        text = printer._print(value)
    finally:
        printer.parts = None
    return text if len(text) <= limit else None


@functools.lru_cache(maxsize=8192)
def _exact_text(value: sp.Expr, limit: int) -> str | None:
    return exact_text(value, Printer(), limit)


def is_exact(value: sp.Expr) -> bool:
    """Whether ``value`` is a closed form: not a decimal-only value, not a symbol for a long one."""
    return not has_symbol(value, floats=True)
