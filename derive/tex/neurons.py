"""Scalar neuron notation: numbered weights w_1, w_2, … and per-unit names z_{h_1}, a_{o_2}.

Many textbooks and worked examples write a network unit by unit: the hidden units h_1, h_2, …
(numbered through all hidden layers), the output units o_1, o_2, …, the weights numbered w_1, w_2, …
layer after layer, each layer's row by row (so w_1 and w_2 lead into h_1), and the biases b_1, b_2, …
in the same order (a bias shared by a layer is one number). The printer keeps writing the matrix
notation's entries (``\\drvname{w}^{(2)}_{1,2}``); :meth:`Neurons.rewrite` turns each entry into its
number or unit, so the derivation, the gate and the answer keys are those of the matrix notation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from derive.spec.model import Network

UNIT_LETTERS = ("h", "o")
"""The letters of the hidden and the output units (a spec may not give a quantity these names)."""

_ENTRY = re.compile(r"\\drvname\{(W|w|b|z|a|delta|yhat|y)\}('*)(?:\^\{([^{}]*)\})?(?:_\{([^{}]*)\})?")
"""An entry as the printer writes it: the token, primes, the superscript (layer, step, ⊤), the index."""
_LAYER = re.compile(r"\((\d+)\)")


@dataclass(frozen=True)
class Neurons:
    """The numbering of one network's units, weights and biases."""

    widths: tuple[int, ...]
    """Units of layers 1, 2, …"""
    fan_in: tuple[int, ...]
    """Values each layer reads (the columns of its weight matrix)."""
    biases: tuple[str, ...]
    """Per layer: "units" (one per unit), "shared" (one for the layer) or "none"."""

    @classmethod
    def of(cls, network: Network) -> Neurons:
        return cls(
            tuple(layer.shape[0] for layer in network.layers),
            tuple(layer.shape[1] for layer in network.layers),
            tuple(
                "none" if not layer.has_bias else "shared" if layer.shared_bias else "units" for layer in network.layers
            ),
        )

    @property
    def depth(self) -> int:
        return len(self.widths)

    def unit(self, layer: int, j: int) -> str:
        """The LaTeX name of unit ``j`` of ``layer``: h_{3} (hidden, numbered through all hidden
        layers) or o_{2}; h or o where the network has only one such unit."""
        if layer == self.depth:
            return "o" if self.widths[-1] == 1 else f"o_{{{j}}}"
        hidden = sum(self.widths[:-1])
        return "h" if hidden == 1 else f"h_{{{sum(self.widths[: layer - 1]) + j}}}"

    def units(self, layer: int) -> list[str]:
        return [self.unit(layer, j) for j in range(1, self.widths[layer - 1] + 1)]

    def weight(self, layer: int, j: int, k: int) -> int:
        """The number of w^{(layer)}_{j,k}: layer after layer, each weight matrix row by row."""
        before = sum(w * f for w, f in zip(self.widths[: layer - 1], self.fan_in[: layer - 1], strict=True))
        return before + (j - 1) * self.fan_in[layer - 1] + k

    def weights(self, layer: int) -> range:
        """The numbers of the weights of ``layer``."""
        first = self.weight(layer, 1, 1)
        return range(first, first + self.widths[layer - 1] * self.fan_in[layer - 1])

    def bias(self, layer: int, j: int) -> int | None:
        """The number of unit ``j``'s bias in ``layer`` (a shared bias has one number); None without."""
        kind = self.biases[layer - 1]
        if kind == "none":
            return None
        # One number per bias parameter of the layers before: a unit's own, or a layer's shared one.
        sizes = [{"units": width, "shared": 1, "none": 0}[b] for width, b in zip(self.widths, self.biases, strict=True)]
        return sum(sizes[: layer - 1]) + (1 if kind == "shared" else j)

    def rewrite(self, text: str) -> str:
        """``text`` with every numbered entry in neuron notation (tokens stay tokens: the sheet's
        names are given afterwards). A whole vector or matrix, or a generic entry (w_{j,k}), stays."""
        return _ENTRY.sub(self._entry, text)

    def _entry(self, match: re.Match[str]) -> str:
        base, primes, sup, index = match.group(1), match.group(2), match.group(3), match.group(4)
        layer_match = _LAYER.search(sup or "")
        numbers = tuple(int(i) for i in index.split(",")) if index and re.fullmatch(r"\d+(,\d+)*", index) else None
        if base in ("yhat", "y"):
            # The output ŷ_j is the activation of output unit o_j; its target is y_{o_j}.
            if numbers is None or len(numbers) != 1 or self.widths[-1] == 1:
                return match.group(0)
            name = "a" if base == "yhat" else "y"
            return _write(name, primes, sup or "", self.unit(self.depth, numbers[0]))
        if layer_match is None:
            if base == "W" and sup == "(l)" and not index:
                return rf"\drvname{{w}}{primes}"  # ‖∂L/∂W^{(l)}‖ of any layer: ‖∂L/∂w‖
            return match.group(0)
        layer = int(layer_match.group(1))
        if not 1 <= layer <= self.depth:
            return match.group(0)
        rest = (sup or "").replace(layer_match.group(0), "", 1)
        single = self.widths[layer - 1] == 1
        if base == "W":
            # A layer's weights as a whole (a row of a table of norms): the numbered weights listed.
            if index or rest:
                return match.group(0)
            numbers = tuple(self.weights(layer))
            names = [_write("w", primes, "", str(n)) for n in numbers]
            if len(names) == 1:
                return names[0]
            inner = ", ".join(names) if len(names) <= 3 else rf"{names[0]}, \ldots, {names[-1]}"
            return rf"\left({inner}\right)"
        if base == "w":
            if numbers is None or len(numbers) != 2:
                return match.group(0)
            return _write("w", primes, rest, str(self.weight(layer, *numbers)))
        if base == "b":
            if numbers is None and (self.biases[layer - 1] == "shared" or single):
                numbers = (1,)
            number = self.bias(layer, numbers[0]) if numbers is not None and len(numbers) == 1 else None
            return match.group(0) if number is None else _write("b", primes, rest, str(number))
        if numbers is None and single:
            numbers = (1,)
        if numbers is None or len(numbers) != 1:
            return match.group(0)
        return _write(base, primes, rest, self.unit(layer, numbers[0]))


def _write(base: str, primes: str, sup: str, sub: str) -> str:
    return rf"\drvname{{{base}}}{primes}" + (f"^{{{sup}}}" if sup else "") + f"_{{{sub}}}"
