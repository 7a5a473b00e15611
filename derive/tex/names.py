"""The names a sheet gives the network's quantities (x, y, ŷ, z, a, W, w, b, δ, L).

Everything that writes one of them (the printer, the catalogue's rules, the templates' prose)
writes a token, ``\\drvname{z}``; each output expands the tokens with its sheet's names. So a
spec's own names (``[notation] z = "net"``) need no printer, rule or template of their own, and the
answer keys (``p1.z1[2]``) never change.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from derive.tex.neurons import Neurons

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
"""The quantities a spec may rename, with their default LaTeX."""

_GREEK_WORDS = """
alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho
sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega
"""
GREEK = frozenset(_GREEK_WORDS.split())
"""Names a spec may give as words ("theta"): they are written as the Greek letter."""

_TOKEN = re.compile(r"\\drvname\{(\w+)\}([A-Za-z]?)")
_BIAS = re.compile(r"\\drvname\{b\}('*)(\^\{[^{}]*\})?(?:_\{([^{}]*)\})?")
"""A bias as the printer writes it: primes, the superscript (layer, step, ⊤) and the index."""
_MATRIX = re.compile(r"\\drvname\{W\}('*)\^\{([^{}]*)\}(?!_)")
_BLOCK = re.compile(r"\\left\((\\drvname\{W\}'*\^\{[^{}]*\}_\{(?:[^{}]|\{[^{}]*\})*\})\\right\)\^\{\\top\}")
_PAIR = re.compile(r"\\drvname\{w\}('*)(\^\{[^{}]*\})?_\{([^{},]*),([^{},]*)\}")
"""A weight matrix (with its superscript) and a weight entry (two indices) as the printer writes them;
a token alone (the templates' << sym.W >>, followed by their own text) is not touched. A block of
columns of W that step 5 transposes, (W^{(l)}_{a})^⊤, is the block of rows of the sheet's W."""


def token(base: str) -> str:
    """What the printer and the prose write for the quantity ``base`` (a key of :data:`NAMED`)."""
    if base not in NAMED:
        raise KeyError(f"{base!r} is not a renameable quantity")
    return rf"\drvname{{{base}}}"


_MARK = re.compile(r"@(yhat|delta|[xyzawWbL])(?![A-Za-z])")


def named(text: str) -> str:
    """LaTeX written with ``@z``, ``@yhat``, ``@L`` … for the renameable quantities, as tokens:
    ``named(r"(@yhat - @y)^2")`` is the squared error in whatever names the sheet gives ŷ and y."""
    return _MARK.sub(lambda match: token(match.group(1)), text)


def name_latex(name: str) -> str:
    """The LaTeX of a name as a spec gives it: h, net (upright), theta (θ), "hat o" (ô)."""
    hat, _, letters = name.rpartition(" ")
    text = rf"\{letters}" if letters in GREEK else letters if len(letters) == 1 else rf"\mathrm{{{letters}}}"
    return rf"\hat{{{text}}}" if hat else text


@dataclass(frozen=True)
class Names:
    """The sheet's names: the defaults of :data:`NAMED`, with ``renamed`` (base, LaTeX) replacing some."""

    renamed: tuple[tuple[str, str], ...] = ()
    bias_as_weight: bool = False
    """Write each bias as the weight on a constant input 1: b^{(l)}_j as w^{(l)}_{j,0}."""
    neurons: Neurons | None = None
    """Scalar neuron notation (``style = "neuron"``): entries as numbered weights and named units."""
    from_to: bool = False
    """Index weights from input to unit (``index_order = "from_to"``): w^{(l)}_{k,j} connects input k to
    unit j, so the sheet's W^{(l)} is the transpose of derive's (a row per input): every W the printer
    writes gets a ⊤ added or removed, and every entry's two indices swap."""

    @functools.cached_property
    def table(self) -> dict[str, str]:
        """Every renameable quantity's LaTeX on this sheet (made once: every output expands with it)."""
        return {**NAMED, **dict(self.renamed)}

    def latex(self, base: str) -> str:
        return self.table[base]

    def expand(self, text: str) -> str:
        """``text`` with every token replaced by the sheet's name for it."""
        if r"\drvname" not in text:
            return text
        table = self.table
        if self.neurons is not None:
            text = self.neurons.rewrite(text)
        if self.from_to:
            text = _PAIR.sub(_swapped, _MATRIX.sub(_transposed, _BLOCK.sub(r"\1", text)))
        if self.bias_as_weight:
            text = _BIAS.sub(lambda m: self._as_weight(m, table["w"], self.from_to), text)

        def name(match: re.Match[str]) -> str:
            value, after = table[match.group(1)], match.group(2)
            # \delta followed by a letter would make one command (\deltax): a space keeps them apart.
            return value + (" " if after and value[-1].isalpha() and value.startswith("\\") else "") + after

        return _TOKEN.sub(name, text)

    @staticmethod
    def _as_weight(match: re.Match[str], weight: str, from_to: bool = False) -> str:
        # b'^{(1)}_{2} → w'^{(1)}_{2,0}; the vector b^{(1)} → w^{(1)}_{·,0}, column 0 of the weights
        # (indexed from input to unit: w^{(1)}_{0,2}, row 0).
        primes, sup, index = match.group(1), match.group(2) or "", match.group(3)
        unit = r"\cdot" if index is None else index
        return weight + primes + sup + (f"_{{0,{unit}}}" if from_to else f"_{{{unit},0}}")


def _transposed(match: re.Match[str]) -> str:
    """W^{(l)} as W^{(l)⊤} and W^{(l)⊤} as W^{(l)}."""
    primes, sup = match.group(1), match.group(2)
    sup = sup.replace(r"\top", "") if r"\top" in sup else sup + r"\top"
    return r"\drvname{W}" + primes + (f"^{{{sup}}}" if sup else "")


def _swapped(match: re.Match[str]) -> str:
    """w^{(l)}_{j,k} as w^{(l)}_{k,j}."""
    return rf"\drvname{{w}}{match.group(1)}{match.group(2) or ''}_{{{match.group(4)},{match.group(3)}}}"


STANDARD = Names()
"""The standard names: x, y, ŷ, z, a, W, w, b, δ, L."""
