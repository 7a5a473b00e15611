"""How the printer names things: the sheet's names, neuron style's numbering, index order and
biases as weights, decided from the structure of each symbol (w^{(2)}_{1,2}, w_6, z_{h_2}, W^{(1)\top})."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from sympy.printing.latex import LatexPrinter

from derive.exercise.notation import ERROR, NAMED, STANDARD, Notation
from derive.terms.symbols import (
    OUTPUT_LOSS,
    STATS,
    Block,
    LossSlope,
    Mean,
    Norm,
    Partial,
    Stacked,
    Stat,
    StepSize,
    Sym,
    Tied,
    Updated,
)
from derive.tex.neurons import Neurons

BASES = {  # LaTeX of symbol bases that are not one of the network's quantities (exercise.notation.NAMED)
    "alpha": r"\alpha",
    "beta1": r"\beta_1",
    "beta2": r"\beta_2",
    "beta": r"\beta",
    "rho": r"\rho",
    "epsilon": r"\varepsilon",
    "p": "p",
}
NEURON_BASES = ("W", "w", "b", "z", "a", "delta", ERROR, "yhat", "y")
"""The quantities neuron style writes unit by unit."""


@dataclass(frozen=True)
class Look:
    """What a printer writes with: the notation, the numbering of neuron style's units, the decimal
    mark, and how values show (places, exact forms)."""

    notation: Notation = STANDARD
    neurons: Neurons | None = None
    mark: str = "."
    places: int = 4
    exact: bool = True
    typed_decimals: frozenset[Any] = frozenset()
    """Given numbers the spec typed as decimals: written so (0.01), not as fractions (1/100)."""

    @property
    def separator(self) -> str:
        """What separates list items: ", ", or "; " beside a decimal comma (German texts)."""
        return "; " if self.mark == "," else ", "


class NamingPrinter(LatexPrinter):
    """The names of derive's symbols in one sheet's look (the base of :class:`~derive.tex.printer.Printer`).

    Settings (besides LatexPrinter's): ``look`` (:class:`Look`), ``oriented`` writes weight-shaped
    tensors as the sheet's own matrices.
    """

    printmethod = "_latex"  # SymPy atoms such as oo print themselves through it
    _default_settings: ClassVar[dict[str, Any]] = {
        **LatexPrinter._default_settings,
        "look": Look(),
        "oriented": False,
    }

    kept: ClassVar[tuple[str, ...]] = ()
    """Settings that :meth:`but` keeps unless told otherwise."""

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.look: Look = self._settings["look"]

    def emptyPrinter(self, expr: object) -> str:
        raise TypeError(f"the printer cannot print {type(expr).__name__}: {expr!r}")

    def but(self, **settings: Any) -> Self:
        """A printer of the same kind and look with other settings (``oriented``, ``substitute``)."""
        kept = {key: self._settings[key] for key in self.kept}
        return type(self)({"look": self.look, **kept, **settings})

    # --- names ------------------------------------------------------------------------------

    def name(self, base: str) -> str:
        """The sheet's LaTeX for the quantity ``base`` (x, yhat, z, …), or a standard symbol's."""
        if base in NAMED or base == ERROR:
            return self.look.notation.names[base]
        return BASES.get(base, base)

    def _print_Sym(self, s: Sym, prime: int = 0, transpose: bool = False, sheet_order: bool = True) -> str:
        notation = self.look.notation
        # Written as the sheet's own matrix, a weight matrix is the transpose of derive's.
        oriented = self._settings["oriented"] and notation.from_to and s.base == "W"
        sup = [] if s.layer is None else [f"({s.layer})"]
        if transpose != oriented:
            sup.append(r"\top")
        if prime > 3:
            sup.insert(0, f"[{prime}]")  # w^{[4](1)}: one superscript (two would be a TeX error)
        primes = "'" * prime if prime <= 3 else ""  # w'^{(1)}_{2,1}: TeX merges the prime into the superscript
        index = s.index if s.index and not s.hide_index else ()
        if s.base == OUTPUT_LOSS:
            return self._output_loss(s, primes, sup)
        if notation.neuron:
            unit = self._neuron(s, primes, sup, index)
            if unit is not None:
                return unit
        base = s.base
        if notation.from_to and sheet_order:
            if base == "W" and sup and not index:  # indexed from input to unit: W^{(l)} is derive's W^{(l)⊤}
                sup = [part for part in sup if part != r"\top"] if r"\top" in sup else [*sup, r"\top"]
            if base == "w" and len(index) == 2:
                index = (index[1], index[0])
        if notation.bias_as_weight and base == "b":
            # b^{(l)}_j is the weight w^{(l)}_{j,0} on a constant input 1; the vector b^{(l)} its column w_{·,0}.
            unit_index = str(index[0]) if index else r"\cdot"
            pair = (0, unit_index) if notation.from_to else (unit_index, 0)
            return self._write("w", primes, sup, ",".join(map(str, pair)))
        return self._write(base, primes, sup, ",".join(map(str, index)) if index else None)

    def _output_loss(self, s: Sym, primes: str, sup: Sequence[str]) -> str:
        """Output j's share of the loss: the loss's name with the output unit (E_{o_1}) in neuron
        style, else ℓ_j as the catalogue writes one output's loss (ℓ alone: any output's)."""
        neurons = self.look.neurons
        if not s.index:
            return self._write("L", primes, sup, "o" if neurons is not None and not neurons.through else None)
        j = s.index[0]
        if neurons is not None and isinstance(j, int):
            return self._write("L", primes, sup, neurons.unit(neurons.depth, j))
        return r"\ell" + primes + (f"^{{{''.join(sup)}}}" if sup else "") + f"_{{{j}}}"

    def _write(self, base: str, primes: str, sup: Sequence[str], sub: str | None) -> str:
        text = self.name(base) + primes + (f"^{{{''.join(sup)}}}" if sup else "")
        return text + (f"_{{{sub}}}" if sub is not None else "")

    def _neuron(self, s: Sym, primes: str, sup: list[str], index: tuple[int | str, ...]) -> str | None:
        """An entry in neuron style (w_6, z_{h_2}, a_{o_1}), or None for what it writes as matrices do
        (a whole vector, a generic entry w_{j,k})."""
        neurons = self.look.neurons
        base = s.base
        if base not in NEURON_BASES:
            return None
        if not isinstance(s.layer, int):
            if base == "W" and s.layer == "l" and sup == ["(l)"] and not index:
                return self.name("w") + primes  # ‖∂L/∂W^{(l)}‖ of any layer: ‖∂L/∂w‖
            if base not in ("yhat", "y"):
                return None
        if neurons is None:
            return None
        numbers = tuple(i for i in index if isinstance(i, int)) if index else None
        if numbers is not None and len(numbers) != len(index):
            numbers = None
        if base in ("yhat", "y"):
            # The output ŷ_j is the activation of output unit o_j; its target is y_{o_j}. Through the
            # network a single output is a unit with a number too (O_6, T_6).
            if neurons.through and numbers is None and s.index:
                numbers = (1,)
            if numbers is None or len(numbers) != 1 or (neurons.widths[-1] == 1 and not neurons.through):
                return None
            return self._write("a" if base == "yhat" else "y", primes, sup, neurons.unit(neurons.depth, numbers[0]))
        assert isinstance(s.layer, int)
        layer = s.layer
        if not 1 <= layer <= neurons.depth:
            return None
        rest = [part for part in sup if part != f"({layer})"]
        single = neurons.widths[layer - 1] == 1
        if base == "W":
            # A layer's weights as a whole (a row of a table of norms): the numbered weights listed.
            if index or rest:
                return None
            subscripts = [
                neurons.weight_name(layer, j, k)
                for j in range(1, neurons.widths[layer - 1] + 1)
                for k in range(1, neurons.fan_in[layer - 1] + 1)
            ]
            names = [self._write("w", primes, [], n) for n in subscripts]
            if len(names) == 1:
                return names[0]
            contiguous = not neurons.through and neurons.weights(layer) == list(
                range(neurons.weights(layer)[0], neurons.weights(layer)[-1] + 1)
            )
            shown = names if len(names) <= 3 or not contiguous else [names[0], r"\ldots", names[-1]]
            return rf"\left({self.look.separator.join(shown)}\right)"
        if base == "w":
            return (
                None
                if numbers is None or len(numbers) != 2
                else self._write("w", primes, rest, neurons.weight_name(layer, *numbers))
            )
        if numbers is None and (single or (base == "b" and neurons.biases[layer - 1] == "shared")):
            numbers = (1,)
        if base == "b" and numbers is None and not index and not rest:
            # A layer's biases as a whole (∂L/∂b^{(1)} in a table of norms): the numbered biases listed.
            biases = [neurons.bias(layer, j) for j in range(1, neurons.widths[layer - 1] + 1)]
            letter = "w" if neurons.as_weights else "b"
            listed = [self._write(letter, primes, [], str(n)) for n in biases if n is not None]
            return rf"\left({self.look.separator.join(listed)}\right)" if listed else None
        if numbers is None or len(numbers) != 1:
            return None
        if base == "b":
            number = neurons.bias(layer, numbers[0])
            return (
                None if number is None else self._write("w" if neurons.as_weights else "b", primes, rest, str(number))
            )
        return self._write(base, primes, rest, neurons.unit(layer, numbers[0]))

    def _print_Updated(self, u: Updated, transpose: bool = False, sheet_order: bool = True) -> str:
        return self._print_Sym(u.of, prime=u.times, transpose=transpose, sheet_order=sheet_order)

    def _print_Stat(self, s: Stat) -> str:
        name = STATS.get(s.name, s.name)
        return rf"{name}_{{{s.t}}}\left[{self._print(s.of)}\right]"

    def _print_Partial(self, p: Partial) -> str:
        return rf"\frac{{\partial {self._print(p.num)}}}{{\partial {self._print(p.den)}}}"

    def _print_Mean(self, s: Mean) -> str:
        return rf"\bar{{g}}^{{({s.layer})}}"

    def _print_Stacked(self, s: Stacked) -> str:
        stacked = r" \\ ".join(self.but(oriented=False)._print(n) for n in s.parts)
        return rf"\begin{{bmatrix}} {stacked} \end{{bmatrix}}"

    def _print_Block(self, s: Block) -> str:
        # The columns of W^{(l)} that multiply one source; indexed from input to unit, its rows.
        plain_matrix = self.but(oriented=False)
        if isinstance(s.matrix, Sym):
            matrix = plain_matrix._print_Sym(s.matrix, sheet_order=False)
        elif isinstance(s.matrix, Updated):
            matrix = plain_matrix._print_Updated(s.matrix, sheet_order=False)
        else:
            matrix = plain_matrix._print(s.matrix)
        return f"{matrix}_{{{plain_matrix._print(s.source)}}}"

    def _print_Tied(self, s: Tied) -> str:
        return rf"\theta_{{{s.group}}}"

    def _print_Norm(self, s: Norm) -> str:
        return rf"\left\lVert {self.but(oriented=True)._print(s.of)} \right\rVert"  # a norm of the sheet's matrix

    def _print_StepSize(self, s: StepSize) -> str:
        return r"-\alpha g" if s.method == "sgd" else r"\Delta\theta"

    def _print_LossSlope(self, s: LossSlope) -> str:
        dz = self._print(Partial(Sym("L"), Sym("z")))
        return rf"{dz}\big|_{{\text{{{s.loss.upper()}}}}}"
