"""Activations, losses and optimizers as data: one frozen record each, looked up by name.

Each record carries its exact SymPy rule, the derivative identity a student is shown, and the
derivative as a formula tree, so the sheet prints exactly what the engine computes. Adding an
entry is one record here, its float64 twin in :mod:`derive.verify.gate`, and a test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import sympy as sp

from derive.spec.user_formulas import parse_formula
from derive.terms.formula import (
    Apply,
    Difference,
    Log,
    Negate,
    Node,
    Num,
    Power,
    Product,
    Quotient,
    Rule,
    Slope,
    Sqrt,
    Sum,
)
from derive.tex.names import named, token

ONE_VALUE = sp.Integer(1)
LEAKY_SLOPE = sp.Rational(1, 100)
"""PyTorch's default slope of a leaky ReLU."""


@dataclass(frozen=True)
class Activation:
    """An activation f: its rule, f' as a formula in z and a = f(z), and its notation."""

    name: str
    rule: Callable[[sp.Expr], sp.Expr]
    derivative: Callable[[Node, Node], Node]
    call: str
    """LaTeX of f(#), where # stands for the argument."""
    prime: str
    """LaTeX of f'(#)."""
    identity: str
    """The derivative identity shown to students, in z."""
    prose: str
    params: tuple[tuple[str, sp.Rational | str], ...] = ()
    definition: str = ""
    """f itself, for the exercise sheet, where f is not a standard function (without f')."""
    kink: bool = False
    """Whether f' jumps at z = 0 (one-sided slopes differ there, so finite differences cannot judge)."""
    vector: bool = False
    """Whether f maps the whole layer (softmax): a_j depends on every z_k, so backpropagation goes
    through its Jacobian instead of an elementwise f' (``rule`` and ``derivative`` are then unused)."""


@dataclass(frozen=True)
class Loss:
    """A loss summed over the outputs: one term per output and its derivative in ŷ_j."""

    name: str
    term: Callable[[Node, Node], Node]
    gradient: Callable[[Node, Node], Node]
    formula: str
    """LaTeX of L for one output, in ŷ and y (written with derive.names tokens)."""
    identity: str
    """LaTeX of ∂L/∂ŷ for one output."""
    prose: str
    scale: sp.Rational = ONE_VALUE
    """1/n for the mean over n outputs; 1 for the sum."""
    params: tuple[tuple[str, str], ...] = ()


Stage = tuple[str, Callable[[Mapping[str, Node], int], Node]]
"""One named intermediate of an optimizer step and its formula, given the names so far and t."""


@dataclass(frozen=True)
class Optimizer:
    """An update θ → θ' in named stages (m, v, m̂, v̂, then ``theta``), with its hyperparameters.

    A stage's formula may use ``theta``, ``g`` (the gradient), ``alpha``, every hyperparameter,
    the previous step's state as ``<name>_prev`` (0 before the first step) and earlier stages.
    """

    name: str
    stages: tuple[Stage, ...]
    formula: str
    prose: str
    hyper: Mapping[str, sp.Rational] = field(default_factory=dict)
    state: tuple[str, ...] = ()
    """Stages carried from one step to the next."""
    hyper_latex: Mapping[str, str] = field(default_factory=dict)


ONE_ = Num(sp.Integer(1))


def _exp(x: sp.Expr) -> sp.Expr:
    """e^x, evaluated only for a number: on a closed form SymPy would first try to decide the sign
    of the whole argument numerically, which costs more than the rest of a deep derivation."""
    return sp.exp(x) if x.is_Number else sp.exp(x, evaluate=False)


def _sigmoid(z: sp.Expr) -> sp.Expr:
    return 1 / (1 + _exp(-z))


def _relu(z: sp.Expr) -> sp.Expr:
    return sp.Max(sp.Integer(0), z)


def _relu_slope(z: sp.Expr) -> sp.Expr:
    # ReLU'(0) is undefined; like PyTorch we take 0 there, and the sheet says so.
    return sp.Piecewise((sp.Integer(1), z > 0), (sp.Integer(0), True))


IDENTITY = Activation(
    name="identity",
    rule=lambda z: z,
    derivative=lambda z, a: Num(sp.Integer(1)),
    call="#",
    prime="1",
    identity=named(r"f(@z) = @z,\quad f'(@z) = 1"),
    prose="identity",
)

SIGMOID = Activation(
    name="sigmoid",
    rule=_sigmoid,
    # σ'(z) = σ(z)(1 − σ(z)) = a(1 − a): the form students use, in the value already computed.
    derivative=lambda z, a: Product((a, Difference(Num(sp.Integer(1)), a))),
    call=r"\sigma\left(#\right)",
    prime=r"\sigma'\left(#\right)",
    identity=named(r"\sigma(@z) = \frac{1}{1 + e^{-@z}},\quad \sigma'(@z) = \sigma(@z)\bigl(1 - \sigma(@z)\bigr)"),
    prose="sigmoid",
)


ZERO = sp.Integer(0)


RELU = Activation(
    name="relu",
    rule=_relu,
    derivative=lambda z, a: Slope(r"\operatorname{ReLU}'\left(#\right)", _relu_slope, z),
    call=r"\operatorname{ReLU}\left(#\right)",
    prime=r"\operatorname{ReLU}'\left(#\right)",
    identity=named(
        r"\operatorname{ReLU}(@z) = \max(0, @z),\quad \operatorname{ReLU}'(@z) = "
        r"\begin{cases} 1 & @z > 0 \\ 0 & @z \le 0 \end{cases}"
    ),
    prose="relu",
    kink=True,
)


def _tanh(z: sp.Expr) -> sp.Expr:
    return sp.tanh(z) if z.is_Number else sp.tanh(z, evaluate=False)


TANH = Activation(
    name="tanh",
    rule=_tanh,
    # tanh'(z) = 1 − tanh²(z) = 1 − a², again in the value already computed.
    derivative=lambda z, a: Difference(ONE_, Power(a, 2)),
    call=r"\tanh\left(#\right)",
    prime=r"\tanh'\left(#\right)",
    identity=named(r"\tanh(@z) = \frac{e^{@z} - e^{-@z}}{e^{@z} + e^{-@z}},\quad \tanh'(@z) = 1 - \tanh^2(@z)"),
    prose="tanh",
)


def _softplus(z: sp.Expr) -> sp.Expr:
    return sp.log(1 + _exp(z))


SOFTPLUS = Activation(
    name="softplus",
    rule=_softplus,
    derivative=lambda z, a: Apply(SIGMOID, z),
    call=r"\operatorname{softplus}\left(#\right)",
    prime=r"\operatorname{softplus}'\left(#\right)",
    identity=named(
        r"\operatorname{softplus}(@z) = \log\left(1 + e^{@z}\right),\quad \operatorname{softplus}'(@z) = \sigma(@z)"
    ),
    prose="softplus",
)


def leaky_relu(slope: sp.Rational = LEAKY_SLOPE) -> Activation:
    """max(z, s·z) for a slope 0 < s < 1; like ReLU its slope at exactly 0 is taken from the left."""
    text = sp.latex(slope)
    return Activation(
        name="leaky_relu",
        rule=lambda z: sp.Piecewise((z, z > 0), (slope * z, True)),
        derivative=lambda z, a: Slope(
            r"\operatorname{LReLU}'\left(#\right)", lambda v: sp.Piecewise((sp.Integer(1), v > 0), (slope, True)), z
        ),
        call=r"\operatorname{LReLU}\left(#\right)",
        prime=r"\operatorname{LReLU}'\left(#\right)",
        identity=named(
            rf"\operatorname{{LReLU}}(@z) = \begin{{cases}} @z & @z > 0 \\ {text}\, @z & @z \le 0 \end{{cases}},\quad "
            rf"\operatorname{{LReLU}}'(@z) = \begin{{cases}} 1 & @z > 0 \\ {text} & @z \le 0 \end{{cases}}"
        ),
        prose="leaky_relu",
        definition=named(rf"\operatorname{{LReLU}}(@z) = \max({text}\, @z, @z)"),
        params=(("slope", slope),),
        kink=True,
    )


Z = sp.Symbol("z", real=True)
AT_Z = {Z: "@z"}
"""Prints z in a custom formula as the mark for the pre-activation's name (see names.named)."""


def custom(formula: str = "z") -> Activation:
    """f(z) given as a formula string (parsed safely); f' is derived by SymPy and shown."""
    rule = parse_formula(formula, {"z": Z})
    slope = sp.diff(rule, Z)
    return Activation(
        name="custom",
        rule=lambda z: rule.xreplace({Z: z}),
        derivative=lambda z, a: Slope(r"f'\left(#\right)", lambda v: slope.xreplace({Z: v}), z),
        call=r"f\left(#\right)",
        prime=r"f'\left(#\right)",
        identity=named(
            rf"f(@z) = {sp.latex(rule, symbol_names=AT_Z)},\quad f'(@z) = {sp.latex(slope, symbol_names=AT_Z)}"
        ),
        prose="custom",
        definition=named(rf"f(@z) = {sp.latex(rule, symbol_names=AT_Z)}"),
        params=(("formula", formula),),
    )


def constant(c: sp.Rational = ZERO) -> Activation:
    """The constant function f(z) = c; its derivative is 0 everywhere."""
    text = sp.latex(c)
    return Activation(
        name="constant",
        rule=lambda z: c,
        derivative=lambda z, a: Num(sp.Integer(0)),
        call=text,
        prime="0",
        identity=named(rf"f(@z) = {text},\quad f'(@z) = 0"),
        prose="constant",
        params=(("c", c),),
    )


@dataclass(frozen=True)
class Entry:
    """A catalogue entry: the parameters it takes (with defaults) and how to build the record.

    Numeric parameters are read exactly; ``formulas`` name the parameters that are formula text.
    """

    build: Callable[..., Activation]
    params: Mapping[str, sp.Rational | str] = field(default_factory=dict)
    formulas: tuple[str, ...] = ()


EXP = Activation(
    name="exp",
    rule=sp.exp,
    derivative=lambda z, a: a,
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

SQUARED_ERROR = Loss(
    name="squared_error",
    term=lambda yhat, y: Power(Difference(yhat, y), 2),
    gradient=lambda yhat, y: Product((Num(sp.Integer(2)), Difference(yhat, y))),
    formula=named(r"(@yhat - @y)^2"),
    identity=named(r"\frac{\partial @L}{\partial @yhat} = 2(@yhat - @y)"),
    prose="squared_error",
)

BINARY_CROSS_ENTROPY = Loss(
    name="binary_cross_entropy",
    term=lambda p, y: Negate(Sum((Product((y, Log(p))), Product((Difference(ONE_, y), Log(Difference(ONE_, p))))))),
    gradient=lambda p, y: Difference(Quotient(Difference(ONE_, y), Difference(ONE_, p)), Quotient(y, p)),
    formula=named(r"-\bigl[@y \log @yhat + (1 - @y) \log(1 - @yhat)\bigr]"),
    identity=named(r"\frac{\partial @L}{\partial @yhat} = \frac{1 - @y}{1 - @yhat} - \frac{@y}{@yhat}"),
    prose="binary_cross_entropy",
)

HALF_SQUARED_ERROR = Loss(
    name="half_squared_error",
    term=lambda yhat, y: Product((Num(sp.Rational(1, 2)), Power(Difference(yhat, y), 2))),
    gradient=lambda yhat, y: Difference(yhat, y),
    formula=named(r"\tfrac{1}{2}(@yhat - @y)^2"),
    identity=named(r"\frac{\partial @L}{\partial @yhat} = @yhat - @y"),
    prose="half_squared_error",
)

# Named so that SymPy's canonical order prints ŷ before y: (ŷ - y)^2, not (-y + ŷ)^2.
YHAT, Y = sp.Symbol("a", real=True), sp.Symbol("b", real=True)


def custom_loss(formula: str) -> Loss:
    """ℓ(ŷ, y) given as a formula string (parsed safely); ∂ℓ/∂ŷ is derived by SymPy and shown."""
    rule = parse_formula(formula, {"yhat": YHAT, "y": Y})
    slope = sp.diff(rule, YHAT)
    placeholders = {YHAT: "#1", Y: "#2"}
    names = {YHAT: token("yhat"), Y: token("y")}

    def rule_at(yhat: sp.Expr, y: sp.Expr) -> sp.Expr:
        return rule.xreplace({YHAT: yhat, Y: y})

    def slope_at(yhat: sp.Expr, y: sp.Expr) -> sp.Expr:
        return slope.xreplace({YHAT: yhat, Y: y})

    return Loss(
        name="custom",
        term=lambda yhat, y: Rule(sp.latex(rule, symbol_names=placeholders), rule_at, (yhat, y)),
        gradient=lambda yhat, y: Rule(sp.latex(slope, symbol_names=placeholders), slope_at, (yhat, y)),
        formula=sp.latex(rule, symbol_names=names),
        identity=named(rf"\frac{{\partial @L}}{{\partial @yhat}} = {sp.latex(slope, symbol_names=names)}"),
        prose="custom_loss",
        params=(("formula", formula),),
    )


def averaged(loss: Loss, outputs: int) -> Loss:
    """The mean of ``loss`` over ``outputs`` outputs: each term and its derivative times 1/n."""
    if outputs == 1:
        return loss
    scale = sp.Rational(1, outputs)
    term_identity = loss.identity.replace(token("L"), r"\ell", 1)
    return replace(
        loss,
        term=lambda yhat, y: Product((Num(scale), loss.term(yhat, y))),
        gradient=lambda yhat, y: Product((Num(scale), loss.gradient(yhat, y))),
        formula=named(
            rf"\frac{{1}}{{{outputs}}} \sum_{{j=1}}^{{{outputs}}} \ell(@yhat_j, @y_j),"
            rf"\ \ell(@yhat, @y) = {loss.formula}"
        ),
        identity=named(
            rf"\frac{{\partial @L}}{{\partial @yhat_j}} = \frac{{1}}{{{outputs}}}"
            rf" \frac{{\partial \ell}}{{\partial @yhat_j}},\ {term_identity}"
        ),
        scale=scale,
    )


CATEGORICAL_CROSS_ENTROPY = Loss(
    name="categorical_cross_entropy",
    term=lambda p, y: Negate(Product((y, Log(p)))),
    gradient=lambda p, y: Negate(Quotient(y, p)),
    formula=named(r"-\sum_j @y_j \log @yhat_j"),
    identity=named(r"\frac{\partial @L}{\partial @yhat_j} = -\frac{@y_j}{@yhat_j}"),
    prose="categorical_cross_entropy",
)
"""Cross-entropy of a distribution ŷ (a softmax output) against targets y (one-hot or a class index)."""

LOSSES: Mapping[str, Loss] = {
    "squared_error": SQUARED_ERROR,
    "half_squared_error": HALF_SQUARED_ERROR,
    "binary_cross_entropy": BINARY_CROSS_ENTROPY,
    "categorical_cross_entropy": CATEGORICAL_CROSS_ENTROPY,
}
REDUCTIONS = ("sum", "mean")


def _decayed(rate: Node, previous: Node, value: Node) -> Node:
    """A running average: rate · previous + (1 − rate) · value (Adam's m and v, RMSProp's s)."""
    return Sum((Product((rate, previous)), Product((Difference(ONE_, rate), value))))


def _root_scaled(e: Mapping[str, Node], step: Node, second: Node) -> Node:
    """θ − α · step / (√second + ε), with ε outside the square root as PyTorch has it."""
    return Difference(e["theta"], Product((e["alpha"], Quotient(step, Sum((Sqrt(second), e["epsilon"]))))))


SGD = Optimizer(
    name="sgd",
    stages=(("theta", lambda e, t: Difference(e["theta"], Product((e["alpha"], e["g"])))),),
    formula=named(r"\theta' = \theta - \alpha \frac{\partial @L}{\partial \theta}"),
    prose="sgd",
)


ADAM = Optimizer(
    name="adam",
    stages=(
        ("m", lambda e, t: _decayed(e["beta1"], e["m_prev"], e["g"])),
        ("v", lambda e, t: _decayed(e["beta2"], e["v_prev"], Power(e["g"], 2))),
        ("mhat", lambda e, t: Quotient(e["m"], Difference(ONE_, Power(e["beta1"], t)))),
        ("vhat", lambda e, t: Quotient(e["v"], Difference(ONE_, Power(e["beta2"], t)))),
        ("theta", lambda e, t: _root_scaled(e, e["mhat"], e["vhat"])),
    ),
    formula=(
        r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, &"
        r" v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2,"
        r" \\ \hat{m}_t &= \frac{m_t}{1 - \beta_1^t}, & \hat{v}_t &= \frac{v_t}{1 - \beta_2^t}, \\"
        r" \theta_t &= \theta_{t-1} - \alpha \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \varepsilon} \end{aligned}"
    ),
    prose="adam",
    hyper={"beta1": sp.Rational(9, 10), "beta2": sp.Rational(999, 1000), "epsilon": sp.Rational(1, 10**8)},
    state=("m", "v"),
    hyper_latex={"beta1": r"\beta_1", "beta2": r"\beta_2", "epsilon": r"\varepsilon"},
)

MOMENTUM = Optimizer(
    name="momentum",
    # PyTorch's convention: the velocity sums gradients, v = βv + g (no 1 − β damping).
    stages=(
        ("v", lambda e, t: Sum((Product((e["beta"], e["v_prev"])), e["g"]))),
        ("theta", lambda e, t: Difference(e["theta"], Product((e["alpha"], e["v"])))),
    ),
    formula=r"v_t = \beta\, v_{t-1} + g_t,\qquad \theta_t = \theta_{t-1} - \alpha\, v_t",
    prose="momentum",
    hyper={"beta": sp.Rational(9, 10)},
    state=("v",),
    hyper_latex={"beta": r"\beta"},
)

MOMENTUM_EMA = replace(
    MOMENTUM,
    name="momentum_ema",
    # The averaging convention (Andrew Ng's course): v = βv + (1 − β)g, a running mean of gradients.
    stages=(
        ("v", lambda e, t: _decayed(e["beta"], e["v_prev"], e["g"])),
        MOMENTUM.stages[1],
    ),
    formula=r"v_t = \beta\, v_{t-1} + (1 - \beta)\, g_t,\qquad \theta_t = \theta_{t-1} - \alpha\, v_t",
    prose="momentum_ema",
)

NESTEROV = replace(
    MOMENTUM,
    name="nesterov",
    # PyTorch's form of Nesterov momentum: the step looks ahead along the new velocity.
    stages=(
        MOMENTUM.stages[0],
        (
            "theta",
            lambda e, t: Difference(e["theta"], Product((e["alpha"], Sum((e["g"], Product((e["beta"], e["v"]))))))),
        ),
    ),
    formula=r"v_t = \beta\, v_{t-1} + g_t,\qquad \theta_t = \theta_{t-1} - \alpha\,(g_t + \beta\, v_t)",
    prose="nesterov",
)

RMSPROP = Optimizer(
    name="rmsprop",
    stages=(
        ("s", lambda e, t: _decayed(e["rho"], e["s_prev"], Power(e["g"], 2))),
        ("theta", lambda e, t: _root_scaled(e, e["g"], e["s"])),
    ),
    formula=(
        r"s_t = \rho\, s_{t-1} + (1 - \rho)\, g_t^2,\qquad "
        r"\theta_t = \theta_{t-1} - \alpha \frac{g_t}{\sqrt{s_t} + \varepsilon}"
    ),
    prose="rmsprop",
    hyper={"rho": sp.Rational(99, 100), "epsilon": sp.Rational(1, 10**8)},
    state=("s",),
    hyper_latex={"rho": r"\rho", "epsilon": r"\varepsilon"},
)

OPTIMIZERS: Mapping[str, Optimizer] = {
    "sgd": SGD,
    "momentum": MOMENTUM,
    "momentum_ema": MOMENTUM_EMA,
    "nesterov": NESTEROV,
    "rmsprop": RMSPROP,
    "adam": ADAM,
}
