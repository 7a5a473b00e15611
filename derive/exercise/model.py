"""The validated exercise: frozen records of the network, its layers, the samples, the parts and
the sheet, as the spec reader (:mod:`derive.exercise.reader`) makes them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import sympy as sp

from derive.catalog.activations import Activation
from derive.catalog.losses import Loss
from derive.catalog.optimizers import Optimizer
from derive.exercise.kind import PartKind, needed
from derive.exercise.notation import STANDARD, Notation
from derive.terms.rounding import Carry

LANGUAGES = {"en": ".", "de": ","}
"""The sheet languages (each has a catalogue ``templates/lang/<code>.tex.j2``) and their decimal marks."""
DECIMAL_MARKS = (".", ",")
PAPERS = ("a4", "letter")
"""The sheets' paper sizes: ISO A4 (595 × 842 pt) or US Letter (612 × 792 pt)."""
ENGINES = ("pdflatex", "lualatex", "xelatex")
"""The TeX engines that typeset the sheets (:mod:`derive.pdf.compile`); pdflatex is TeX Live's base."""
ONE = sp.Integer(1)
P = TypeVar("P")
Vector = tuple[sp.Expr, ...]
"""Given numbers: exact rationals, or real closed forms typed so ("sqrt(2)/2", see :attr:`Spec.closed_forms`)."""
Matrix = tuple[Vector, ...]


@dataclass(frozen=True)
class Layer:
    """A dense layer z = W a + b followed by its activation."""

    weights: Matrix
    bias: Vector
    activation: Activation
    has_bias: bool = True
    """False for ``bias = "none"``: z = W a (the bias is 0 and no parameter)."""
    shared_bias: bool = False
    """True for ``bias = { shared = v }``: one number b^{(l)} added to every unit."""
    reads: tuple[int, ...] = ()
    """What the layer reads, stacked in this order (0: the input x, k: layer k's output), when it is
    not just the layer below (skip connections); empty for the layer below."""

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.weights), len(self.weights[0])


@dataclass(frozen=True)
class Network:
    """Dense layers in order; layer 1 reads the input x."""

    inputs: int
    layers: tuple[Layer, ...]

    @property
    def outputs(self) -> int:
        return self.layers[-1].shape[0]

    def sources(self, layer: int) -> tuple[int, ...]:
        """What layer ``layer`` (1-based) reads, stacked: 0 for x, k for a^{(k)}."""
        return self.layers[layer - 1].reads or (layer - 1,)

    def width(self, source: int) -> int:
        """The length of x (source 0) or of a^{(k)}."""
        return self.inputs if source == 0 else self.layers[source - 1].shape[0]

    def columns(self, layer: int) -> dict[int, range]:
        """Per source of layer ``layer``, the columns of its W that multiply it (0-based)."""
        spans: dict[int, range] = {}
        start = 0
        for source in self.sources(layer):
            spans[source] = range(start, start + self.width(source))
            start += self.width(source)
        return spans

    def readers(self, source: int) -> tuple[int, ...]:
        """The layers that read x (source 0) or a^{(k)}, in order."""
        return tuple(l for l in range(source + 1, len(self.layers) + 1) if source in self.sources(l))

    @property
    def skips(self) -> bool:
        """Whether some layer reads more than (or other than) the layer just below it."""
        return any(layer.reads for layer in self.layers)

    def stacking(self) -> tuple[tuple[int, ...], ...]:
        """Every layer's sources where some layer has skip connections; empty where none has."""
        return tuple(self.sources(l) for l in range(1, len(self.layers) + 1)) if self.skips else ()

    def parameter_names(self) -> list[str]:
        """W1, b1, W2, … in order; a layer without a bias has no b."""
        return [f"{k}{l}" for l, layer in enumerate(self.layers, 1) for k in ("W", "b") if k == "W" or layer.has_bias]

    def with_activation(self, layer: int, activation: Activation) -> Network:
        """The same network with layer ``layer`` (1-based) using ``activation``."""
        layers = list(self.layers)
        layers[layer - 1] = replace(layers[layer - 1], activation=activation)
        return replace(self, layers=tuple(layers))

    def with_layer(self, after: int, layer: Layer) -> Network:
        """The same network with ``layer`` inserted after layer ``after`` (0: before layer 1)."""
        layers = list(self.layers)
        layers.insert(after, layer)
        return replace(self, layers=tuple(layers))


@dataclass(frozen=True)
class Sample:
    """One input x with its target y."""

    x: Vector
    y: Vector


@dataclass(frozen=True)
class Training:
    """How a part moves the parameters: the optimizer, its learning rate and hyperparameters, how many
    steps, on which parameters, and which entries stay put or move together."""

    optimizer: Optimizer
    learning_rate: sp.Expr
    hyper: tuple[tuple[str, sp.Expr], ...] = ()
    """The hyperparameters the spec sets (the optimizer's defaults for the others)."""
    steps: int = 1
    wrt: tuple[str, ...] = ()
    """The parameters it moves (W1, b1, …); empty: every parameter."""
    frozen: tuple[str, ...] = ()
    """Keys of the parameter entries an update leaves as they are (``w1[1,2]``, ``b2[1]``)."""
    tied: tuple[tuple[str, ...], ...] = ()
    """Groups of entry keys an update moves as one shared parameter (weight sharing)."""

    @property
    def hyperparameters(self) -> dict[str, sp.Expr]:
        """Every hyperparameter of the optimizer as used: its defaults unless the spec sets them."""
        return {**self.optimizer.hyper, **dict(self.hyper)}


@dataclass(frozen=True)
class Part(Generic[P]):
    """One numbered task of the sheet: its kind (the record of everything about it), the kind's own
    parameters, and what every kind may have: an input sample, a title, its own display settings."""

    number: int
    kind: PartKind[P]
    params: P
    sample: Sample | None = None
    sample_of: int | None = None
    """The earlier part whose sample this one uses, if it says so."""
    title: str = ""
    decimals: int | None = None
    """This part's places of decimals, if it sets its own."""
    exact: bool | None = None
    """Whether this part shows exact forms, if it says."""
    output: int | None = None
    """A part that differentiates an output ŷ_j (no loss; the seed is 1): its j."""
    points: sp.Rational | None = None
    """What the part is worth (a positive multiple of 1/2), or None where the sheet gives no points."""
    split: tuple[sp.Rational, ...] = ()
    """The points of each step the marking scheme marks, in order (empty: spread evenly)."""
    space: sp.Rational | None = None
    """The exam's answer space after the question, in centimetres (None: from the part's size)."""

    def network_and_loss(self, spec: Spec) -> tuple[Network, Loss]:
        """The network and loss the part works with: the spec's, or the changed ones its kind asks for."""
        return self.kind.variant(spec, self) if self.kind.variant is not None else (spec.net, spec.loss)


@dataclass(frozen=True)
class Label:
    """A variant's label, on every page of its sheets (:mod:`derive.variants` sets it; a spec has none)."""

    number: int
    code: str
    """The short code from which ``derive variants SPEC --seed S --only CODE`` makes the variant again."""
    qr: str = ""
    """What the QR code on its first page holds: that command (letters, digits, spaces and dashes);
    empty for none (``[variants] qr = true`` asks for it)."""


@dataclass(frozen=True)
class Sheet:
    """Title block and display settings of both sheets."""

    title: str = "Backpropagation"
    course: str = ""
    subtitle: str = ""
    author: str = ""
    date: str = ""
    number: str = ""
    """The sheet's number in the course ("3", "3b")."""
    decimals: int = 4
    """Digits of the decimals shown: places after the point, or significant figures (below)."""
    significant: bool = False
    """``significant = n`` in the spec: decimals keep n significant figures instead of n places."""
    exact: bool = True
    """Show exact forms beside the decimals (False: decimals only)."""
    rounding: str = "exact"
    """"exact": values are exact, decimals rounded for display only; "student": every computed value
    is rounded to ``decimals`` as it is computed and carried rounded (see :class:`Carry`)."""
    language: str = "en"
    decimal_mark: str = ""
    """"." or ","; empty means the language's own (a comma for German)."""
    paper: str = "a4"
    """The paper size, one of :data:`PAPERS`."""
    engine: str = "pdflatex"
    """The TeX engine that typesets the PDFs, one of :data:`ENGINES`."""
    logo: str = ""
    """Absolute path of an image for the title block, or empty (read by :func:`derive.exercise.logo.logo_file`)."""
    folder: str = ""
    """The spec file's folder, the logo's only source unless a build allows another; empty for a
    spec given as text (its logo needs a folder the build allows)."""
    notation: Notation = STANDARD
    """How the sheet writes the network's quantities: the defaults, or the spec's ``[notation]``."""
    typed_decimals: frozenset[sp.Rational] = frozenset()
    """The given numbers typed as decimals (0.01, "-0.2"; an optimizer's defaults): both sheets write
    them so, where a fraction typed "1/2" stays a fraction."""
    variant: Label | None = None
    """Which variant of the spec these sheets are (``derive variants``): None for the spec's own."""

    @property
    def carry(self) -> Carry | None:
        """The student policy's rounding, or None when values are carried exact."""
        return Carry(self.decimals, self.significant) if self.rounding == "student" else None


@dataclass(frozen=True)
class Exam:
    """The exam layout's settings (``[exam]``): its formula sheet, its time and its own instructions."""

    formula_sheet: bool = False
    """Whether the exam ends with the catalogue rules it uses (activations, the loss, the optimizers)."""
    duration: str = ""
    """The time allowed, as written ("90 minutes"); empty: not stated."""
    instructions: str = ""
    """A further instruction after derive's own (the aids allowed, say); empty: none."""


@dataclass(frozen=True)
class Spec:
    """A validated exercise: the network (None where no part works on one), the loss and the ordered parts."""

    name: str
    sheet: Sheet
    network: Network | None
    loss: Loss
    parts: tuple[Part[Any], ...]
    has_loss: bool = True
    """False when no part needs a loss (every part differentiates an output): the sheets show none."""
    closed_forms: tuple[tuple[sp.Expr, str], ...] = ()
    """The given numbers typed as closed forms ("sqrt(2)/2", "ln(2)") that are not rational, each with
    its text: the exact engine keeps the value, the float engine evaluates the text on its own."""
    exam: Exam = Exam()
    """The exam layout's settings (``derive exam``): the defaults unless the spec has ``[exam]``."""

    @property
    def net(self) -> Network:
        """The network, for the stages of a part that works on one (the reader and :func:`check` refuse
        such a part in a spec without one, so this never fails on a validated spec)."""
        return needed(self.network)
