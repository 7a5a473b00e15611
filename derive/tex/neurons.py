"""Scalar neuron notation's numbering: hidden units h_1, h_2, …, output units o_j, weights w_1, w_2, …

Many textbooks and worked examples write a network unit by unit: the hidden units h_1, h_2, …
(numbered through all hidden layers), the output units o_1, o_2, …, the weights numbered w_1, w_2, …
layer after layer, each layer's row by row (so w_1 and w_2 lead into h_1), and the biases b_1, b_2, …
in the same order (a bias shared by a layer is one number). With biases written as weights on a
constant input 1, each unit's bias is its first weight (a bias its layer shares: one weight, before
the layer's first unit). The printer (:mod:`derive.tex.printer`) asks this numbering for the name of
every entry it writes, so the derivation, the gate and the answer keys are those of matrices.

Numbered through the network (a data-mining textbook's way), the inputs are units 1 … n and each
layer's units follow the layer below's (4, 5, then 6 in a 3-2-1 network); a weight is named by the
two units it joins, from and to (w_{14}), a unit's bias by the unit (b_4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from derive.exercise.model import Network


@dataclass(frozen=True)
class Neurons:
    """The numbering of one network's units, weights and biases."""

    widths: tuple[int, ...]
    """Units of layers 1, 2, …"""
    fan_in: tuple[int, ...]
    """Values each layer reads (the columns of its weight matrix)."""
    biases: tuple[str, ...]
    """Per layer: "units" (one per unit), "shared" (one for the layer) or "none"."""
    as_weights: bool = False
    """Biases numbered with the weights, as the weights on a constant input 1."""
    through: bool = False
    """Units numbered through the network, the inputs first (w_{14}, z_4, b_4)."""

    @classmethod
    def of(cls, network: Network, as_weights: bool = False, through: bool = False) -> Neurons:
        return cls(
            tuple(layer.shape[0] for layer in network.layers),
            tuple(layer.shape[1] for layer in network.layers),
            tuple(
                "none" if not layer.has_bias else "shared" if layer.shared_bias else "units" for layer in network.layers
            ),
            as_weights,
            through,
        )

    def number(self, layer: int, j: int) -> int:
        """Unit ``j`` of ``layer`` numbered through the network (layer 0: the inputs, 1 … n)."""
        return j if layer == 0 else self.fan_in[0] + sum(self.widths[: layer - 1]) + j

    def weight_name(self, layer: int, j: int, k: int) -> str:
        """The subscript of w^{(layer)}_{j,k}: its number (5), or through the network the units it
        joins, from and to (14; 3,12 where a number has two digits)."""
        if not self.through:
            return str(self.weight(layer, j, k))
        ends = (self.number(layer - 1, k), self.number(layer, j))
        return ("" if max(ends) < 10 else ",").join(map(str, ends))

    @property
    def depth(self) -> int:
        return len(self.widths)

    def unit(self, layer: int, j: int) -> str:
        """The LaTeX name of unit ``j`` of ``layer``: h_{3} (hidden, numbered through all hidden
        layers) or o_{2}; h or o where the network has only one such unit; through the network, its
        number (4)."""
        if self.through:
            return str(self.number(layer, j))
        if layer == self.depth:
            return "o" if self.widths[-1] == 1 else f"o_{{{j}}}"
        hidden = sum(self.widths[:-1])
        return "h" if hidden == 1 else f"h_{{{sum(self.widths[: layer - 1]) + j}}}"

    def units(self, layer: int) -> list[str]:
        return [self.unit(layer, j) for j in range(1, self.widths[layer - 1] + 1)]

    def _unit_bias(self, layer: int) -> int:
        """1 where each unit of ``layer`` numbers its own bias among its weights, else 0."""
        return int(self.as_weights and self.biases[layer - 1] == "units")

    def _shared(self, layer: int) -> int:
        """1 where ``layer`` numbers the bias its units share among its weights, else 0."""
        return int(self.as_weights and self.biases[layer - 1] == "shared")

    def _size(self, layer: int) -> int:
        """How many numbers ``layer`` takes among the weights."""
        return self.widths[layer - 1] * (self.fan_in[layer - 1] + self._unit_bias(layer)) + self._shared(layer)

    def weight(self, layer: int, j: int, k: int) -> int:
        """The number of w^{(layer)}_{j,k}: layer after layer, each weight matrix row by row (k = 0: the
        unit's bias, where biases are weights)."""
        before = sum(self._size(l) for l in range(1, layer)) + self._shared(layer)
        row = self.fan_in[layer - 1] + self._unit_bias(layer)
        return before + (j - 1) * row + k + self._unit_bias(layer)

    def weights(self, layer: int) -> list[int]:
        """The numbers of the weights of ``layer`` (its weight matrix only), row by row."""
        return [
            self.weight(layer, j, k)
            for j in range(1, self.widths[layer - 1] + 1)
            for k in range(1, self.fan_in[layer - 1] + 1)
        ]

    def bias(self, layer: int, j: int) -> int | None:
        """The number of unit ``j``'s bias in ``layer`` (a shared bias has one number); None without.
        Where biases are weights, the number is that of the weight (w_n, not b_n); through the network,
        that of its unit."""
        kind = self.biases[layer - 1]
        if kind == "none":
            return None
        if self.through:
            return self.number(layer, j)
        if self.as_weights:
            if kind == "shared":
                return sum(self._size(l) for l in range(1, layer)) + 1
            return self.weight(layer, j, 0)
        # One number per bias parameter of the layers before: a unit's own, or a layer's shared one.
        sizes = [{"units": width, "shared": 1, "none": 0}[b] for width, b in zip(self.widths, self.biases, strict=True)]
        return sum(sizes[: layer - 1]) + (1 if kind == "shared" else j)
