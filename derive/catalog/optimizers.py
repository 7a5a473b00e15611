"""Optimizers as data: each record holds its update in named stages (exact, as formula trees), the
same step in NumPy floats for the verification gate, its hyperparameters and its words."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import sympy as sp

from derive.terms.formula import Difference, Node, Num, Power, Product, Quotient, Sqrt, Sum

Array = np.ndarray
Rounder = Callable[[Array], Array]
"""What the float step does to every value it computes: nothing, or the student policy's rounding."""
Stage = tuple[str, Callable[[Mapping[str, Node], int], Node]]
"""One named intermediate of an optimizer step and its formula, given the names so far and t."""
FloatStep = Callable[[Array, Array, Mapping[str, Array], int, Mapping[str, float], Rounder], dict[str, Array]]
"""One step in floats: (θ, g, the previous state, t, the hyperparameters with ``alpha``, the rounding
of each stage) → every stage's values."""
ONE = Num(sp.Integer(1))


@dataclass(frozen=True)
class Optimizer:
    """An update θ → θ' in named stages (m, v, m̂, v̂, then ``theta``), with its hyperparameters.

    A stage's formula may use ``theta``, ``g`` (the gradient), ``alpha``, every hyperparameter,
    the previous step's state as ``<name>_prev`` (0 before the first step) and earlier stages.
    """

    name: str
    stages: tuple[Stage, ...]
    floats: FloatStep
    formula: str
    prose: str
    """The key of its words in the language catalogues (``optimizer_<prose>``, ``identity_<prose>``,
    ``steps_note_<prose>``)."""
    label: str
    """Its name in a table or heading ("Adam"): a proper name, the same in every language."""
    hyper: Mapping[str, sp.Rational] = field(default_factory=dict)
    state: tuple[str, ...] = ()
    """Stages carried from one step to the next."""
    hyper_latex: Mapping[str, str] = field(default_factory=dict)
    plain: bool = False
    """Whether it is plain gradient descent (its rule is short enough to state inline in a question)."""
    first_step: str = ""
    """The catalogues' message that explains its first step next to SGD's (``finding_<first_step>``);
    empty: the step is compared by its ratio to SGD's."""


def _decayed(rate: Node, previous: Node, value: Node) -> Node:
    """A running average: rate · previous + (1 − rate) · value (Adam's m and v, RMSProp's s)."""
    return Sum((Product((rate, previous)), Product((Difference(ONE, rate), value))))


def _root_scaled(e: Mapping[str, Node], step: Node, second: Node) -> Node:
    """θ − α · step / (√second + ε), with ε outside the square root as PyTorch has it."""
    return Difference(e["theta"], Product((e["alpha"], Quotient(step, Sum((Sqrt(second), e["epsilon"]))))))


def _previous(state: Mapping[str, Array], name: str, g: Array) -> Array:
    return state.get(name, np.zeros_like(g))


def _sgd(
    theta: Array, g: Array, state: Mapping[str, Array], t: int, h: Mapping[str, float], r: Rounder
) -> dict[str, Array]:
    return {"theta": r(theta - h["alpha"] * g)}


SGD = Optimizer(
    name="sgd",
    stages=(("theta", lambda e, t: Difference(e["theta"], Product((e["alpha"], e["g"])))),),
    floats=_sgd,
    formula=(r"\theta' = \theta - \alpha \frac{\partial @L}{\partial \theta}"),
    prose="sgd",
    label="SGD",
    plain=True,
)


def _adam(
    theta: Array, g: Array, state: Mapping[str, Array], t: int, h: Mapping[str, float], r: Rounder
) -> dict[str, Array]:
    m = r(h["beta1"] * _previous(state, "m", g) + (1 - h["beta1"]) * g)
    v = r(h["beta2"] * _previous(state, "v", g) + (1 - h["beta2"]) * g * g)
    mhat = r(m / (1 - h["beta1"] ** t))
    vhat = r(v / (1 - h["beta2"] ** t))
    return {
        "m": m,
        "v": v,
        "mhat": mhat,
        "vhat": vhat,
        "theta": r(theta - h["alpha"] * mhat / (np.sqrt(vhat) + h["epsilon"])),
    }


ADAM = Optimizer(
    name="adam",
    stages=(
        ("m", lambda e, t: _decayed(e["beta1"], e["m_prev"], e["g"])),
        ("v", lambda e, t: _decayed(e["beta2"], e["v_prev"], Power(e["g"], 2))),
        ("mhat", lambda e, t: Quotient(e["m"], Difference(ONE, Power(e["beta1"], t)))),
        ("vhat", lambda e, t: Quotient(e["v"], Difference(ONE, Power(e["beta2"], t)))),
        ("theta", lambda e, t: _root_scaled(e, e["mhat"], e["vhat"])),
    ),
    floats=_adam,
    formula=(
        r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, &"
        r" v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2,"
        r" \\ \hat{m}_t &= \frac{m_t}{1 - \beta_1^t}, & \hat{v}_t &= \frac{v_t}{1 - \beta_2^t}, \\"
        r" \theta_t &= \theta_{t-1} - \alpha \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \varepsilon} \end{aligned}"
    ),
    prose="adam",
    label="Adam",
    hyper={"beta1": sp.Rational(9, 10), "beta2": sp.Rational(999, 1000), "epsilon": sp.Rational(1, 10**8)},
    state=("m", "v"),
    hyper_latex={"beta1": r"\beta_1", "beta2": r"\beta_2", "epsilon": r"\varepsilon"},
    first_step="adam_scale",
)


def _momentum(
    theta: Array, g: Array, state: Mapping[str, Array], t: int, h: Mapping[str, float], r: Rounder
) -> dict[str, Array]:
    v = r(h["beta"] * _previous(state, "v", g) + g)
    return {"v": v, "theta": r(theta - h["alpha"] * v)}


MOMENTUM = Optimizer(
    name="momentum",
    # PyTorch's convention: the velocity sums gradients, v = βv + g (no 1 − β damping).
    stages=(
        ("v", lambda e, t: Sum((Product((e["beta"], e["v_prev"])), e["g"]))),
        ("theta", lambda e, t: Difference(e["theta"], Product((e["alpha"], e["v"])))),
    ),
    floats=_momentum,
    formula=r"v_t = \beta\, v_{t-1} + g_t,\qquad \theta_t = \theta_{t-1} - \alpha\, v_t",
    prose="momentum",
    label="Momentum",
    hyper={"beta": sp.Rational(9, 10)},
    state=("v",),
    hyper_latex={"beta": r"\beta"},
)


def _momentum_ema(
    theta: Array, g: Array, state: Mapping[str, Array], t: int, h: Mapping[str, float], r: Rounder
) -> dict[str, Array]:
    v = r(h["beta"] * _previous(state, "v", g) + (1 - h["beta"]) * g)
    return {"v": v, "theta": r(theta - h["alpha"] * v)}


MOMENTUM_EMA = replace(
    MOMENTUM,
    name="momentum_ema",
    # The averaging convention (Andrew Ng's course): v = βv + (1 − β)g, a running mean of gradients.
    stages=(
        ("v", lambda e, t: _decayed(e["beta"], e["v_prev"], e["g"])),
        MOMENTUM.stages[1],
    ),
    floats=_momentum_ema,
    formula=r"v_t = \beta\, v_{t-1} + (1 - \beta)\, g_t,\qquad \theta_t = \theta_{t-1} - \alpha\, v_t",
    prose="momentum_ema",
    label="Momentum (EMA)",
)


def _nesterov(
    theta: Array, g: Array, state: Mapping[str, Array], t: int, h: Mapping[str, float], r: Rounder
) -> dict[str, Array]:
    v = r(h["beta"] * _previous(state, "v", g) + g)
    return {"v": v, "theta": r(theta - h["alpha"] * (g + h["beta"] * v))}


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
    floats=_nesterov,
    formula=r"v_t = \beta\, v_{t-1} + g_t,\qquad \theta_t = \theta_{t-1} - \alpha\,(g_t + \beta\, v_t)",
    prose="nesterov",
    label="Nesterov",
)


def _rmsprop(
    theta: Array, g: Array, state: Mapping[str, Array], t: int, h: Mapping[str, float], r: Rounder
) -> dict[str, Array]:
    s = r(h["rho"] * _previous(state, "s", g) + (1 - h["rho"]) * g * g)
    return {"s": s, "theta": r(theta - h["alpha"] * g / (np.sqrt(s) + h["epsilon"]))}


RMSPROP = Optimizer(
    name="rmsprop",
    stages=(
        ("s", lambda e, t: _decayed(e["rho"], e["s_prev"], Power(e["g"], 2))),
        ("theta", lambda e, t: _root_scaled(e, e["g"], e["s"])),
    ),
    floats=_rmsprop,
    formula=(
        r"s_t = \rho\, s_{t-1} + (1 - \rho)\, g_t^2,\qquad "
        r"\theta_t = \theta_{t-1} - \alpha \frac{g_t}{\sqrt{s_t} + \varepsilon}"
    ),
    prose="rmsprop",
    label="RMSProp",
    hyper={"rho": sp.Rational(99, 100), "epsilon": sp.Rational(1, 10**8)},
    state=("s",),
    hyper_latex={"rho": r"\rho", "epsilon": r"\varepsilon"},
)


def _adagrad(
    theta: Array, g: Array, state: Mapping[str, Array], t: int, h: Mapping[str, float], r: Rounder
) -> dict[str, Array]:
    total = r(_previous(state, "r", g) + g * g)
    return {"r": total, "theta": r(theta - h["alpha"] * g / (np.sqrt(total) + h["epsilon"]))}


ADAGRAD = Optimizer(
    name="adagrad",
    # Every entry's own learning rate shrinks with the sum r of its squared gradients so far (PyTorch's
    # Adagrad with no learning-rate decay and r_0 = 0; ε outside the square root).
    stages=(
        ("r", lambda e, t: Sum((e["r_prev"], Power(e["g"], 2)))),
        ("theta", lambda e, t: _root_scaled(e, e["g"], e["r"])),
    ),
    floats=_adagrad,
    formula=(
        r"r_t = r_{t-1} + g_t^2,\qquad "
        r"\theta_t = \theta_{t-1} - \alpha \frac{g_t}{\sqrt{r_t} + \varepsilon}"
    ),
    prose="adagrad",
    label="AdaGrad",
    hyper={"epsilon": sp.Rational(1, 10**10)},
    state=("r",),
    hyper_latex={"epsilon": r"\varepsilon"},
)

OPTIMIZERS: Mapping[str, Optimizer] = {
    "sgd": SGD,
    "momentum": MOMENTUM,
    "momentum_ema": MOMENTUM_EMA,
    "nesterov": NESTEROV,
    "rmsprop": RMSPROP,
    "adam": ADAM,
    "adagrad": ADAGRAD,
}
