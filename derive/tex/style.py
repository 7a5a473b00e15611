"""How a sheet shows its numbers and words: places, exact forms, language, decimal mark, notation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from derive.exercise.model import LANGUAGES
from derive.exercise.notation import STANDARD, Notation
from derive.tex.decimals import Digits
from derive.tex.naming import Look
from derive.tex.neurons import Neurons
from derive.tex.printer import Printer

if TYPE_CHECKING:
    from derive.exercise.model import Network, Part, Sheet


@dataclass(frozen=True)
class Style:
    """Display settings of a sheet or one part; the values behind them are always exact."""

    places: int = 4
    """Places of decimals shown (significant figures where it is a significant :class:`Digits`)."""
    exact: bool = True
    """Show exact forms (fractions, closed forms) beside the decimals; False shows decimals only."""
    language: str = "en"
    decimal_mark: str = "."
    notation: Notation = STANDARD
    """How the network's quantities are written (a spec's ``[notation]``)."""
    typed_decimals: frozenset[Any] = frozenset()
    """Given numbers the spec typed as decimals (see :attr:`~derive.exercise.model.Sheet.typed_decimals`)."""

    @property
    def neuron(self) -> bool:
        """Whether the sheet writes the network unit by unit (``[notation] style = "neuron"``)."""
        return self.notation.neuron

    @property
    def from_to(self) -> bool:
        """Whether weights are indexed from input to unit (the sheet's W is derive's transposed)."""
        return self.notation.from_to

    def printer(self, network: Network | None = None) -> Printer:
        """The printer of this style, numbering ``network``'s units where the notation is neuron style."""
        notation = self.notation
        numbered = notation.neuron and network is not None
        neurons = Neurons.of(network, notation.bias_as_weight, notation.through) if numbered and network else None
        look = Look(self.notation, neurons, self.decimal_mark, self.places, self.exact, self.typed_decimals)
        return Printer({"look": look})

    @classmethod
    def of(cls, sheet: Sheet, places: int | None = None, language: str | None = None) -> Style:
        """The sheet's style; ``places`` and ``language`` override the spec's (a CLI option, say).

        A language chosen here brings its own decimal mark unless the spec set one.
        """
        lang = language or sheet.language
        return cls(
            # A student-rounded sheet shows the digits it carries, whatever the caller asks for.
            places=Digits(sheet.decimals, sheet.significant) if places is None or sheet.carry else places,
            exact=sheet.exact,
            language=lang,
            decimal_mark=sheet.decimal_mark or LANGUAGES[lang],
            notation=sheet.notation,
            typed_decimals=sheet.typed_decimals,
        )

    def for_part(self, part: Part[Any]) -> Style:
        """A part's own places and exact switch, where its spec sets them."""
        return replace(
            self,
            places=self.places if part.decimals is None else part.decimals,
            exact=self.exact if part.exact is None else part.exact,
        )


DEFAULT = Style()
"""English, four places, exact forms shown."""
