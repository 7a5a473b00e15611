"""How a sheet shows its numbers and words: places, exact forms, language and decimal mark."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from derive.terms.symbols import Symbolic
from derive.tex.names import STANDARD, Names
from derive.tex.neurons import Neurons
from derive.tex.printer import weight_shaped

if TYPE_CHECKING:
    from derive.spec.model import Part, Sheet

LANGUAGES = {"en": ".", "de": ","}
"""The sheet languages (each has a catalogue ``templates/lang/<code>.tex.j2``) and their decimal marks."""
DECIMAL_MARKS = (".", ",")


@dataclass(frozen=True)
class Style:
    """Display settings of a sheet or one part; the values behind them are always exact."""

    places: int = 4
    """Places of decimals shown (significant figures where it is a significant ``latex.Digits``)."""
    exact: bool = True
    """Show exact forms (fractions, closed forms) beside the decimals; False shows decimals only."""
    language: str = "en"
    decimal_mark: str = "."
    names: Names = STANDARD
    """The names of the network's quantities (a spec's ``[notation]``)."""

    @property
    def neurons(self) -> Neurons | None:
        """The neuron notation's numbering (``[notation] style = "neuron"``), or None for matrices."""
        return self.names.neurons

    @property
    def from_to(self) -> bool:
        """Whether weights are indexed from input to unit (the sheet's W is derive's transposed)."""
        return self.names.from_to

    @classmethod
    def of(cls, sheet: Sheet, places: int | None = None, language: str | None = None) -> Style:
        """The sheet's style; ``places`` and ``language`` override the spec's (a CLI option, say).

        A language chosen here brings its own decimal mark unless the spec set one.
        """
        lang = language or sheet.language
        from derive.tex.printer import Digits  # latex imports this module's users; imported late

        return cls(
            # A student-rounded sheet shows the digits it carries, whatever the caller asks for.
            places=Digits(sheet.decimals, sheet.significant) if places is None or sheet.carry else places,
            exact=sheet.exact,
            language=lang,
            decimal_mark=sheet.decimal_mark or LANGUAGES[lang],
            names=sheet.names,
        )

    def for_part(self, part: Part[Any]) -> Style:
        """A part's own places and exact switch, where its spec sets them."""
        return replace(
            self,
            places=self.places if part.decimals is None else part.decimals,
            exact=self.exact if part.exact is None else part.exact,
        )


_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_LIST_COMMA = re.compile(r"(?<!\\),(?= )")  # not the thin space "\\, "


def mark_decimals(latex: str, mark: str) -> str:
    """Maths with ``mark`` as its decimal mark: 0{,}5 (braced, so TeX adds no space after it).

    With a decimal comma, the commas that separate list items become semicolons, (1{,}5; 2),
    as German texts write them; the maths printer writes a list comma as ", " and a decimal
    point only between digits, so both are found without parsing.
    """
    if mark == ".":
        return latex
    return _DECIMAL_POINT.sub("{,}", _LIST_COMMA.sub(";", latex))


def flipped(symbol: Symbolic, style: Style) -> bool:
    """Whether a listed matrix is shown transposed, as the sheet's W (indexed from input to unit)."""
    return style.from_to and weight_shaped(symbol)


def oriented(rows: Sequence[Sequence[Any]], flip: bool) -> Sequence[Sequence[Any]]:
    """A matrix's rows, or its columns where ``flip`` shows it transposed."""
    return tuple(zip(*rows, strict=True)) if flip else rows


DEFAULT = Style()
"""English, four places, exact forms shown."""
