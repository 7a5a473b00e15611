"""The notation a spec asks for: the names of the network's quantities (``[notation] z = "net"``),
scalar neuron style, the index order of weights and biases written as weights. Data only: the
printer (:mod:`derive.tex.printer`) decides from it how every name, index and transpose is written."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

NAMED: Mapping[str, str] = {
    "x": "x",
    "y": "y",
    "yhat": r"\hat{y}",
    "z": "z",
    "a": "a",
    "W": "W",
    "w": "w",
    "b": "b",
    "delta": r"\delta",
    "L": "L",
}
ERROR = "err"
"""The base of the error term's symbol, Err_j = −∂L/∂z_j (named by ``[notation] error_term``)."""
"""The quantities a spec may rename, with their default LaTeX."""

_GREEK_WORDS = """
alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho
sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega
"""
GREEK = frozenset(_GREEK_WORDS.split())
"""Names a spec may give as words ("theta"): they are written as the Greek letter."""
UNIT_LETTERS = ("h", "o")
"""The letters of the hidden and the output units in neuron style (no quantity may be named so)."""


def name_latex(name: str) -> str:
    """The LaTeX of a name as a spec gives it: h, net (upright), theta (θ), "hat o" (ô)."""
    hat, _, letters = name.rpartition(" ")
    text = rf"\{letters}" if letters in GREEK else letters if len(letters) == 1 else rf"\mathrm{{{letters}}}"
    return rf"\hat{{{text}}}" if hat else text


@dataclass(frozen=True)
class Notation:
    """How a sheet writes the network's quantities."""

    renamed: tuple[tuple[str, str], ...] = ()
    """(quantity, LaTeX) for the names the spec changes; the others are those of :data:`NAMED`."""
    neuron: bool = False
    """Scalar neuron style: hidden units h_1, h_2, …, outputs o_j, numbered weights w_1, w_2, …"""
    from_to: bool = False
    """Weights indexed from input to unit: w^{(l)}_{k,j} connects input k to unit j, so the sheet's
    W^{(l)} is the transpose of derive's (a row per input)."""
    bias_as_weight: bool = False
    """Each bias written as the weight on a constant input 1: b^{(l)}_j as w^{(l)}_{j,0}."""
    slopes: bool = False
    """The activation's derivative f'(z^{(l)}_j) = ∂a^{(l)}_j/∂z^{(l)}_j as its own line (and answer) before δ."""
    through: bool = False
    """Neuron style with the units numbered through the network, the inputs first (1 … n), then each
    layer's units (a data-mining textbook's units 4, 5, 6): w_{14} from unit 1 to unit 4, z_4, b_4."""
    per_output: bool = False
    """The loss split per output, L = Σ_j L_{o_j}, and each output's share ∂L_{o_j}/∂a_k of the gradient
    of a unit below the outputs (the step-by-step example's ∂E_{o1}/∂out_{h1})."""
    error: str = ""
    """The LaTeX name of the error term Err_j = −∂L/∂z_j, which the sheet then writes in place of δ
    (Err_j = f'(z_j)(y_j − ŷ_j) at the output); empty: δ_j = ∂L/∂z_j."""

    @functools.cached_property
    def names(self) -> dict[str, str]:
        """Every renameable quantity's LaTeX on this sheet."""
        return {**NAMED, **dict(self.renamed), ERROR: self.error}


STANDARD = Notation()
"""Matrices with layer superscripts, the standard names x, y, ŷ, z, a, W, w, b, δ, L."""
