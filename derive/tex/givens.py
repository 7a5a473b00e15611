"""How a question states its givens in running text: vectors as transposed rows, hyperparameters as
an exercise writes them, the parameters it asks about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from derive.spec.model import Network, Training
from derive.terms.keys import parameter, symbol_of
from derive.terms.symbols import Sym, Symbolic
from derive.tex import printer as latex
from derive.tex.printer import Latex
from derive.tex.style import Style, flipped


def vector(values: Sequence[Any], exact: bool) -> Latex:
    """A vector in running text, as a transposed row: (1, -1)^T (decimals unless ``exact``)."""
    texts = [latex.given(v, exact) for v in values]
    if len(texts) == 1:
        return Latex(texts[0])
    return Latex(r"(" + ", ".join(texts) + r")^{\top}")


def matrix(rows: Sequence[Sequence[Any]]) -> Latex:
    return Latex(latex.matrix([[latex.inline(v) for v in row] for row in rows]))


def hyper_value(value: sp.Rational) -> str:
    """A hyperparameter as the exercise states it: 0.9, and 10^{-8} rather than 0.00000001."""
    digits = len(str(value.q)) - 1
    if value.p == 1 and value.q == 10**digits and digits >= 4:
        return rf"10^{{-{digits}}}"
    return latex.terminating(value, 12) or latex.inline(value)


def hyper_list(training: Training) -> Latex:
    """ "β = 0.9, ε = 10^{-8}": every hyperparameter of the optimizer, as used."""
    return Latex(
        r",\ ".join(
            f"{training.optimizer.hyper_latex[name]} = {hyper_value(value)}"
            for name, value in training.hyperparameters.items()
        )
    )


def wrt(names: Sequence[str], network: Network, style: Style) -> list[Latex]:
    """The parameters a part asks about, as the sheet names them."""
    return [Latex(latex.symbol(s, flipped(s, style))) for n in names for s in wrt_symbols(n, network, style)]


def wrt_symbols(name: str, network: Network, style: Style) -> list[Symbolic]:
    """A parameter a part asks about: W^{(l)} whole, or in neuron notation each of its entries."""
    symbol = parameter(name)
    if style.neurons is None or name == "x":
        return [symbol]
    assert symbol.layer is not None
    layer = network.layers[symbol.layer - 1]
    units, inputs = layer.shape
    if symbol.base == "W":
        return [Sym("w", symbol.layer, (j, k)) for j in range(1, units + 1) for k in range(1, inputs + 1)]
    if layer.shared_bias:
        return [symbol]
    return [symbol_of("b", symbol.layer, units, j) for j in range(1, units + 1)]
