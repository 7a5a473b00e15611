"""What a part kind is: one record of everything derive needs to know about it, from its keys in the
spec to its question on the sheet. Each kind is one module of :mod:`derive.kinds` exporting one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from derive.exercise.letters import every
from derive.exercise.shapes import Shape

if TYPE_CHECKING:  # the types of the stages a kind takes part in (none of them is imported at run time)
    from derive.catalog.losses import Loss
    from derive.exercise.model import Network, Part, Spec
    from derive.exercise.notation import Notation
    from derive.exercise.parts import PartReader
    from derive.maths.derivation import Derivation
    from derive.maths.steps import PartSolution
    from derive.terms.formula import Quantity
    from derive.tex.printer import Printer
    from derive.verify.twins import Expected

P = TypeVar("P")
"""A kind's own parameters: a frozen record its module defines (the learning rate, the probabilities, …)."""
SampleUse = Literal["required", "optional", "none"]
Table = dict[str, object]


@dataclass(frozen=True)
class PartKind(Generic[P]):
    """A part kind: its keys in the spec, how it reads them, derives, is checked and is asked.

    ``read`` gets the reader (for its field readers and one-line errors), the part's path in the
    spec, its table, the network and the parts before it, and returns the kind's parameters.
    ``derive`` works the part out exactly, ``twin`` computes again in floats every value it shows
    (keyed alike, from the spec model, the catalogue and the keys only), ``ask`` gives the question's
    parameters (maths printed for the sheet) to its message ``question_<name>`` in the language
    catalogues.
    """

    name: str
    keys: Mapping[str, Shape]
    """The keys it takes besides the common ones (kind, title, x, y, use_sample_of, decimals, exact),
    each with what it takes (:mod:`derive.schema` writes them for editors)."""
    required: tuple[str, ...]
    sample: SampleUse
    """Whether a part of this kind has an input sample: always, when given, or never."""
    student: bool
    """Whether it works under the student rounding policy (a statement about exact values does not)."""
    read: Callable[[PartReader, list[str | int], Table, Network | None, list[Part[Any]]], P]
    derive: Callable[[Derivation, Part[P]], PartSolution]
    twin: Callable[[Expected, Spec, Part[P]], None]
    ask: Callable[[Part[P], Network | None, Printer], Mapping[str, object]]
    asked: Callable[[list[Quantity]], set[str]]
    """The answer key: the keys of the quantities a part's question asks for, among those the part
    shows (its outputs, gradients, new parameters; not the values on the way, nor the givens)."""
    variant: Callable[[Spec, Part[P]], tuple[Network, Loss]] | None = None
    """The network and loss the part works with, where they are not the spec's."""
    plots: Callable[[P], bool] = lambda params: False
    """Whether a part with these parameters has a plot in its solution (the sheet then loads pgfplots,
    decided before the part is derived, so that TeX can start on the sheet's head)."""
    one_output: bool = False
    """Whether it needs a network with a single output."""
    differences: bool = True
    """Whether the gradients it shows are worked out (and so checked by finite differences); False
    for a kind whose gradients are all given (an optimizer step on given gradients)."""
    network: bool = True
    """Whether it works on the spec's network. A kind that does not (a circuit, an optimizer step on
    given gradients) gets None for it, and a spec of only such parts needs no ``[network]``."""
    letters: Callable[[P, Notation], Mapping[str, str]] = every
    """The letters θ, t, s, p a part with these parameters writes for something else on a sheet of the
    notation, each with what it writes (:mod:`derive.exercise.letters`); a quantity the spec names so
    elsewhere is refused there. Default: all four (a kind that does not say)."""


def needed(network: Network | None) -> Network:
    """``network``, where a part works on one (see :attr:`PartKind.network`): the reader refuses
    such a part in a spec without a network, so None here is derive's own error."""
    if network is None:
        raise ValueError("this part works on a network, and the spec has none")
    return network


def without_network(kind: PartKind[Any]) -> str:
    """The refusal of a part that works on a network in a spec without one."""
    return f"a part of kind '{kind.name}' works on a network: the spec needs a [network] section"


def reads_network(
    read: Callable[[PartReader, list[str | int], Table, Network, list[Part[Any]]], P],
) -> Callable[[PartReader, list[str | int], Table, Network | None, list[Part[Any]]], P]:
    """A kind's reader of a part that works on the network, as :class:`PartKind` takes it."""

    def reading(
        reader: PartReader, path: list[str | int], table: Table, network: Network | None, earlier: list[Part[Any]]
    ) -> P:
        return read(reader, path, table, needed(network), earlier)

    return reading


def asks_network(
    ask: Callable[[Part[P], Network, Printer], Mapping[str, object]],
) -> Callable[[Part[P], Network | None, Printer], Mapping[str, object]]:
    """A kind's question words of a part that works on the network, as :class:`PartKind` takes them."""

    def asking(part: Part[P], network: Network | None, printer: Printer) -> Mapping[str, object]:
        return ask(part, needed(network), printer)

    return asking


@dataclass(frozen=True)
class Nothing:
    """The parameters of a kind that has no keys of its own."""


def read_nothing(
    reader: PartReader, path: list[str | int], table: Table, network: Network | None, earlier: list[Part[Any]]
) -> Nothing:
    return Nothing()


def ask_nothing(part: Part[Any], network: Network | None, printer: Printer) -> Mapping[str, object]:
    return {}
