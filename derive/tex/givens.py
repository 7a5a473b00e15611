"""How a question states its givens in running text: hyperparameters as an exercise writes them and
the parameters it asks about, in the sheet's notation."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from derive.exercise.model import Network, Training
from derive.terms.display import AsWritten, Join
from derive.terms.keys import parameter, symbol_of
from derive.terms.symbols import Sym, Symbolic
from derive.tex.printer import Latex, Printer


def numbers(values: Sequence[sp.Expr], printer: Printer) -> Latex:
    """Given numbers listed as the exercise writes them: 0, 2, -0.5 ("; " beside a decimal comma)."""
    return Latex(printer.show(Join(tuple(AsWritten(v) for v in values))))


def hypers(training: Training, printer: Printer) -> list[Latex]:
    """Every hyperparameter of the optimizer as used, each on its own: β_1 = 0.9."""
    optimizer = training.optimizer
    return [
        Latex(f"{optimizer.hyper_latex[name]} = {printer.given(value)}")
        for name, value in training.hyperparameters.items()
    ]


def hyper_list(training: Training, printer: Printer) -> Latex:
    """ "β = 0.9, ε = 10^{-8}": every hyperparameter of the optimizer, as used."""
    return Latex(r",\ ".join(hypers(training, printer)))


def wrt(names: Sequence[str], network: Network, printer: Printer) -> list[Latex]:
    """The parameters a part asks about, as the sheet names them (its own matrices)."""
    neuron = printer.look.notation.neuron
    return [Latex(printer.symbol(s, oriented=True)) for n in names for s in wrt_symbols(n, network, neuron)]


def wrt_symbols(name: str, network: Network, neuron: bool) -> list[Symbolic]:
    """A parameter a part asks about: W^{(l)} whole, or in neuron style each of its entries."""
    symbol = parameter(name)
    if not neuron or name == "x":
        return [symbol]
    assert isinstance(symbol.layer, int)
    layer = network.layers[symbol.layer - 1]
    units, inputs = layer.shape
    if symbol.base == "W":
        return [Sym("w", symbol.layer, (j, k)) for j in range(1, units + 1) for k in range(1, inputs + 1)]
    if layer.shared_bias:
        return [symbol]
    return [symbol_of("b", symbol.layer, units, j) for j in range(1, units + 1)]
