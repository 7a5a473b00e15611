"""An independent oracle for the built-in example: the composed network in SymPy, differentiated
with ``sympy.diff``. This is the slow, obvious method the engine deliberately does not use."""

from __future__ import annotations

import sympy as sp

W1 = sp.Matrix([[1, -1], [2, 1]])
B1 = sp.Matrix([0, 0])
W2 = sp.Matrix([[1, -1]])
B2 = sp.Matrix([sp.Rational(1, 2)])
Y = 1

w = sp.symbols("w11 w12 w21 w22")
b = sp.symbols("b1 b2")
v = sp.symbols("v1 v2")
c = sp.Symbol("c")
PARAMS = (*w, *b, *v, c)


def sigma(z: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-z))


def loss(x: tuple[int, int], act=sigma) -> sp.Expr:
    """L(θ) for input x as one composed expression in the parameter symbols."""
    h1 = act(w[0] * x[0] + w[1] * x[1] + b[0])
    h2 = act(w[2] * x[0] + w[3] * x[1] + b[1])
    yhat = v[0] * h1 + v[1] * h2 + c
    return (yhat - Y) ** 2


def output(x: tuple[int, int], values: dict, act=sigma) -> sp.Expr:
    h1 = act(values[w[0]] * x[0] + values[w[1]] * x[1] + values[b[0]])
    h2 = act(values[w[2]] * x[0] + values[w[3]] * x[1] + values[b[1]])
    return values[v[0]] * h1 + values[v[1]] * h2 + values[c]


def start() -> dict:
    return dict(zip(PARAMS, [*W1, *B1, *W2, *B2], strict=True))


# The answer key of each oracle parameter symbol.
KEYS = {
    w[0]: "w1[1,1]", w[1]: "w1[1,2]", w[2]: "w1[2,1]", w[3]: "w1[2,2]",
    b[0]: "b1[1]", b[1]: "b1[2]", v[0]: "w2[1,1]", v[1]: "w2[1,2]", c: "b2[1]",
}  # fmt: skip


def gradients(x: tuple[int, int], values: dict, act=sigma) -> dict:
    composed = loss(x, act)
    return {KEYS[p]: sp.simplify(sp.diff(composed, p).xreplace(values)) for p in PARAMS}


def same(a: sp.Expr, b: sp.Expr) -> bool:
    """Exact equality of two small closed forms."""
    return sp.simplify(sp.nsimplify(a - b) if (a - b).is_Rational else a - b) == 0


# --- a float64 oracle for runs of optimizer steps, written out by hand -------------------------

import numpy as np  # noqa: E402


def float_loss_and_grads(
    params: dict, x: tuple[float, float], y: float = 1.0, act: str = "sigmoid"
) -> tuple[float, dict]:
    """The 2-2-1 network by hand: L and ∂L/∂θ for every parameter (keys as in KEYS)."""
    f = (lambda z: 1 / (1 + np.exp(-z))) if act == "sigmoid" else (lambda z: np.maximum(z, 0.0))
    df = (lambda z: f(z) * (1 - f(z))) if act == "sigmoid" else (lambda z: float(z > 0))
    z1 = params["w1[1,1]"] * x[0] + params["w1[1,2]"] * x[1] + params["b1[1]"]
    z2 = params["w1[2,1]"] * x[0] + params["w1[2,2]"] * x[1] + params["b1[2]"]
    h1, h2 = f(z1), f(z2)
    yhat = params["w2[1,1]"] * h1 + params["w2[1,2]"] * h2 + params["b2[1]"]
    g = 2 * (yhat - y)
    d1, d2 = g * params["w2[1,1]"] * df(z1), g * params["w2[1,2]"] * df(z2)
    grads = {
        "w1[1,1]": d1 * x[0], "w1[1,2]": d1 * x[1], "w1[2,1]": d2 * x[0], "w1[2,2]": d2 * x[1],
        "b1[1]": d1, "b1[2]": d2, "w2[1,1]": g * h1, "w2[1,2]": g * h2, "b2[1]": g,
    }  # fmt: skip
    return float((yhat - y) ** 2), grads


def float_start() -> dict:
    return {KEYS[p]: float(v) for p, v in start().items()}
