"""Activations as data: each record holds its exact rule, its float rule and its words.

The exact rule is SymPy (f, and f' as a formula tree in z and a = f(z), so the sheet prints what
the engine computes); the float rule is NumPy, written again from the textbook definition for the
verification gate; the words are a key of the language catalogues (``prose``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from derive.catalog.evaluation import at_point
from derive.catalog.parsing import differentiate, float_rules, parse_formula
from derive.terms.decimal_rules import DecimalRule
from derive.terms.formula import Apply, Approx, Difference, Node, Num, Power, Product, Slope

Array = np.ndarray
FloatFn = Callable[[Array], Array]
LEAKY_SLOPE = sp.Rational(1, 100)
"""PyTorch's default slope of a leaky ReLU."""
ZERO = sp.Integer(0)
ONE = Num(sp.Integer(1))


@dataclass(frozen=True)
class Floats:
    """f and f' in NumPy float arithmetic (f' is None for softmax: its δ goes through the Jacobian),
    and f' from the output a = f(z) where a student computes it so (σ' = a(1 − a), tanh' = 1 − a²)."""

    value: FloatFn
    slope: FloatFn | None
    slope_of_output: FloatFn | None = None

    def slope_as_worked(self, z: Array, a: Array, carried: bool) -> Array:
        """f' as the sheet works it out: under the student policy (``carried``) from the rounded
        value a where a student writes it so (σ' = a(1 − a)), else from z."""
        if carried and self.slope_of_output is not None:
            return self.slope_of_output(a)
        if self.slope is None:
            raise ValueError("softmax has no elementwise slope: its δ goes through the Jacobian")
        return self.slope(z)


@dataclass(frozen=True)
class Activation:
    """An activation f: its exact rule, f' as a formula in z and a = f(z), its float rule, its notation."""

    name: str
    rule: Callable[[sp.Expr], sp.Expr]
    derivative: Callable[[Node, Node], Node]
    floats: Floats
    call: str
    """LaTeX of f(#), where # stands for the argument."""
    prime: str
    """LaTeX of f'(#)."""
    identity: str
    """The derivative identity shown to students, in z."""
    prose: str
    """The key of its words in the language catalogues."""
    params: tuple[tuple[str, sp.Rational | str], ...] = ()
    definition: str = ""
    """f itself, for the exercise sheet, where f is not a standard function (without f')."""
    kink: bool = False
    """Whether f' jumps at z = 0 (one-sided slopes differ there, so finite differences cannot judge)."""
    decimal: Callable[[Approx], Approx] | None = None
    """f on the carried decimals, compiled from ``rule`` (a catalogue function); None for a user's
    formula, which keeps its bounded evaluation."""
    vector: bool = False
    """Whether f maps the whole layer (softmax): a_j depends on every z_k, so backpropagation goes
    through its Jacobian instead of an elementwise f' (``rule`` and ``derivative`` are then unused)."""


def _exp(x: sp.Expr) -> sp.Expr:
    """e^x, evaluated only for a number: on a closed form SymPy would first try to decide the sign
    of the whole argument numerically, which costs more than the rest of a deep derivation."""
    return sp.exp(x) if x.is_Number else sp.exp(x, evaluate=False)


def _sigmoid(z: sp.Expr) -> sp.Expr:
    base = 1 + _exp(-z)
    if base.is_Number:
        return 1 / base
    # What SymPy's 1/base would build: a sum of 1 and a power of e has no factor to take out. Built
    # directly, SymPy does not ask each term whether it is infinite first (a closed form's exponent
    # is evaluated to decide): that was a twentieth of a build.
    return sp.Pow(base, -1, evaluate=False)


def sigmoid_float(z: Array) -> Array:
    """σ in floats, stable for large |z|: never exponentiates a positive number."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _identity(z: sp.Expr) -> sp.Expr:
    return z


IDENTITY = Activation(
    name="identity",
    rule=_identity,
    decimal=DecimalRule(_identity),
    derivative=lambda z, a: Num(sp.Integer(1)),
    floats=Floats(lambda z: z, lambda z: np.ones_like(z)),
    call="#",
    prime="1",
    identity=(r"f(@z) = @z,\quad f'(@z) = 1"),
    prose="identity",
)

SIGMOID = Activation(
    name="sigmoid",
    rule=_sigmoid,
    decimal=DecimalRule(_sigmoid),
    # σ'(z) = σ(z)(1 − σ(z)) = a(1 − a): the form students use, in the value already computed.
    derivative=lambda z, a: Product((a, Difference(Num(sp.Integer(1)), a))),
    # σ'(z) as σ(z)σ(−z), not 1 − σ(z): that loses its digits as σ saturates.
    floats=Floats(sigmoid_float, lambda z: sigmoid_float(z) * sigmoid_float(-z), lambda a: a * (1.0 - a)),
    call=r"\sigma\left(#\right)",
    prime=r"\sigma'\left(#\right)",
    identity=(r"\sigma(@z) = \frac{1}{1 + e^{-@z}},\quad \sigma'(@z) = \sigma(@z)\bigl(1 - \sigma(@z)\bigr)"),
    prose="sigmoid",
)


def _relu(z: sp.Expr) -> sp.Expr:
    return sp.Max(sp.Integer(0), z)


def _relu_slope(z: sp.Expr) -> sp.Expr:
    # ReLU'(0) is undefined; like PyTorch we take 0 there, and the sheet says so.
    return sp.Piecewise((sp.Integer(1), z > 0), (sp.Integer(0), True))


RELU = Activation(
    name="relu",
    rule=_relu,
    decimal=DecimalRule(_relu),
    derivative=lambda z, a: Slope(r"\operatorname{ReLU}'\left(#\right)", _relu_slope, z),
    floats=Floats(lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    call=r"\operatorname{ReLU}\left(#\right)",
    prime=r"\operatorname{ReLU}'\left(#\right)",
    identity=(
        r"\operatorname{ReLU}(@z) = \max(0, @z),\quad \operatorname{ReLU}'(@z) = "
        r"\begin{cases} 1 & @z > 0 \\ 0 & @z \le 0 \end{cases}"
    ),
    prose="relu",
    kink=True,
)


def _tanh(z: sp.Expr) -> sp.Expr:
    return sp.tanh(z) if z.is_Number else sp.tanh(z, evaluate=False)


def _sech_squared(z: Array) -> Array:
    """sech² z = 4e^{−2|z|} / (1 + e^{−2|z|})²: no overflow of cosh, no 1 − tanh² cancellation."""
    e = np.exp(-2.0 * np.abs(z))
    return 4.0 * e / (1.0 + e) ** 2


TANH = Activation(
    name="tanh",
    rule=_tanh,
    decimal=DecimalRule(_tanh),
    # tanh'(z) = 1 − tanh²(z) = 1 − a², again in the value already computed.
    derivative=lambda z, a: Difference(ONE, Power(a, 2)),
    floats=Floats(np.tanh, _sech_squared, lambda a: 1.0 - a * a),
    call=r"\tanh\left(#\right)",
    prime=r"\tanh'\left(#\right)",
    identity=(r"\tanh(@z) = \frac{e^{@z} - e^{-@z}}{e^{@z} + e^{-@z}},\quad \tanh'(@z) = 1 - \tanh^2(@z)"),
    prose="tanh",
)


def _softplus(z: sp.Expr) -> sp.Expr:
    return sp.log(1 + _exp(z))


SOFTPLUS = Activation(
    name="softplus",
    rule=_softplus,
    decimal=DecimalRule(_softplus),
    derivative=lambda z, a: Apply(SIGMOID, z),
    floats=Floats(lambda z: np.logaddexp(0.0, z), sigmoid_float),
    call=r"\operatorname{softplus}\left(#\right)",
    prime=r"\operatorname{softplus}'\left(#\right)",
    identity=(
        r"\operatorname{softplus}(@z) = \log\left(1 + e^{@z}\right),\quad \operatorname{softplus}'(@z) = \sigma(@z)"
    ),
    prose="softplus",
)


def leaky_relu(slope: sp.Rational = LEAKY_SLOPE) -> Activation:
    """max(z, s·z) for a slope 0 < s < 1; like ReLU its slope at exactly 0 is taken from the left."""
    text = sp.latex(slope)
    s = float(slope)

    def rule(z: sp.Expr) -> sp.Expr:
        return sp.Piecewise((z, z > 0), (slope * z, True))

    return Activation(
        name="leaky_relu",
        rule=rule,
        decimal=DecimalRule(rule),
        derivative=lambda z, a: Slope(
            r"\operatorname{LReLU}'\left(#\right)", lambda v: sp.Piecewise((sp.Integer(1), v > 0), (slope, True)), z
        ),
        floats=Floats(lambda z: np.where(z > 0, z, s * z), lambda z: np.where(z > 0, 1.0, s)),
        call=r"\operatorname{LReLU}\left(#\right)",
        prime=r"\operatorname{LReLU}'\left(#\right)",
        identity=(
            rf"\operatorname{{LReLU}}(@z) = \begin{{cases}} @z & @z > 0 \\ {text}\, @z & @z \le 0 \end{{cases}},\quad "
            rf"\operatorname{{LReLU}}'(@z) = \begin{{cases}} 1 & @z > 0 \\ {text} & @z \le 0 \end{{cases}}"
        ),
        prose="leaky_relu",
        definition=(rf"\operatorname{{LReLU}}(@z) = \max({text}\, @z, @z)"),
        params=(("slope", slope),),
        kink=True,
    )


Z = sp.Symbol("z", real=True)
AT_Z = {Z: "@z"}
"""Prints z in a custom formula as the mark for the pre-activation's name (a Pattern's @z)."""


def custom(formula: str = "z", field: str = "") -> Activation:
    """f(z) given as a formula string (parsed safely); f' is derived by SymPy and shown. At a point
    where f or f' has no real value, or one too large, they raise Undefined naming ``field``."""
    rule = parse_formula(formula, {"z": Z})
    slope = differentiate(rule, Z)
    value, derivative = float_rules(formula, "z")
    at_z = at_point(rule, {"z": Z}, formula, field)
    slope_at = at_point(slope, {"z": Z}, f"d/dz {formula}", field)
    return Activation(
        name="custom",
        rule=at_z,
        derivative=lambda z, a: Slope(r"f'\left(#\right)", slope_at, z),
        floats=Floats(value, derivative),
        call=r"f\left(#\right)",
        prime=r"f'\left(#\right)",
        identity=(rf"f(@z) = {sp.latex(rule, symbol_names=AT_Z)},\quad f'(@z) = {sp.latex(slope, symbol_names=AT_Z)}"),
        prose="custom",
        definition=(rf"f(@z) = {sp.latex(rule, symbol_names=AT_Z)}"),
        params=(("formula", formula),),
    )


def constant(c: sp.Rational = ZERO) -> Activation:
    """The constant function f(z) = c; its derivative is 0 everywhere."""
    text = sp.latex(c)
    value = float(c)

    def rule(z: sp.Expr) -> sp.Expr:
        return c

    return Activation(
        name="constant",
        rule=rule,
        decimal=DecimalRule(rule),
        derivative=lambda z, a: Num(sp.Integer(0)),
        floats=Floats(lambda z: np.full_like(z, value), np.zeros_like),
        call=text,
        prime="0",
        identity=(rf"f(@z) = {text},\quad f'(@z) = 0"),
        prose="constant",
        params=(("c", c),),
    )


def _float_softmax(z: Array) -> Array:
    """e^{z_j} / Σ_k e^{z_k}, shifted by max z so that no exponential overflows."""
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


EXP = Activation(
    name="exp",
    rule=sp.exp,
    decimal=DecimalRule(sp.exp),
    derivative=lambda z, a: a,
    floats=Floats(np.exp, np.exp),
    call=r"e^{#}",
    prime=r"e^{#}",
    identity=r"\frac{d}{dz} e^{z} = e^{z}",
    prose="exp",
)
"""The exponential as a formula node (inside softmax); not an activation of the catalogue."""


def _whole_layer(*args: object) -> sp.Expr:
    raise TypeError("softmax maps the whole layer; it has no elementwise rule or derivative")


SOFTMAX = Activation(
    name="softmax",
    rule=_whole_layer,
    derivative=_whole_layer,  # type: ignore[arg-type]
    floats=Floats(_float_softmax, None),
    call=r"\operatorname{softmax}\left(#\right)",
    prime=r"\operatorname{softmax}'\left(#\right)",
    # [i = j] is 1 when i = j, else 0 (δ_ij would clash with the error signal δ).
    identity=(
        r"a_j = \frac{e^{z_j}}{\sum_k e^{z_k}},\quad \frac{\partial a_i}{\partial z_j} = a_i\bigl([i = j] - a_j\bigr)"
    ),
    prose="softmax",
    definition=r"a_j = e^{z_j} \big/ \textstyle\sum_k e^{z_k}",
    vector=True,
)


@dataclass(frozen=True)
class Entry:
    """A catalogue entry: the parameters it takes (with defaults) and how to build the record.

    Numeric parameters are read exactly; ``formulas`` name the parameters that are formula text.
    """

    build: Callable[..., Activation]
    params: Mapping[str, sp.Rational | str] = field(default_factory=dict)
    formulas: tuple[str, ...] = ()


ACTIVATIONS: Mapping[str, Entry] = {
    "identity": Entry(lambda: IDENTITY),
    "sigmoid": Entry(lambda: SIGMOID),
    "tanh": Entry(lambda: TANH),
    "relu": Entry(lambda: RELU),
    "leaky_relu": Entry(leaky_relu, {"slope": LEAKY_SLOPE}),
    "softplus": Entry(lambda: SOFTPLUS),
    "constant": Entry(constant, {"c": ZERO}),
    "custom": Entry(custom, {"formula": "z"}, formulas=("formula",)),
    "softmax": Entry(lambda: SOFTMAX),
}
