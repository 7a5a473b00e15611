"""A sheet of several exercises: the sheet's settings and its exercises in order, each a whole :class:`Spec`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from derive.exercise.model import Exam, Sheet, Spec

MAX_EXERCISES = 12
"""Most exercises a sheet holds (a semester's longest sheet has five or six)."""


@dataclass(frozen=True)
class Exercises:
    """A sheet: its title block and settings, and its exercises in order.

    Each exercise is a validated :class:`Spec` of its own (network or none, loss, parts), derived and
    verified on its own; its ``sheet`` is the sheet's settings with the exercise's title (empty for
    none) and notation. A spec of one exercise (today's format) is a sheet of one exercise."""

    name: str
    sheet: Sheet
    exercises: tuple[Spec, ...]
    exam: Exam = field(default_factory=Exam)
    """The sheet's ``[exam]`` (``derive exam``): an exam of every exercise has the sheet's settings."""

    @classmethod
    def of(cls, spec: Spec) -> Exercises:
        """A one-exercise spec as a sheet of one exercise."""
        return cls(spec.name, spec.sheet, (spec,), spec.exam)

    def alone(self) -> Spec | None:
        """The one exercise under the sheet's title block (built as a one-exercise sheet always was), or
        None when there are several."""
        if len(self.exercises) != 1:
            return None
        spec = self.exercises[0]
        if spec.exam != self.exam:  # a sheet's one [[exercises]] entry: the [exam] is the sheet's
            spec = replace(spec, exam=self.exam)
        return (
            spec
            if spec.sheet.title == self.sheet.title
            else replace(spec, sheet=replace(spec.sheet, title=self.sheet.title))
        )


def letter(number: int) -> str:
    """A part's letter: 1 → a, 26 → z, 27 → aa (a sheet has at most 30 parts per exercise)."""
    text = ""
    while number:
        number, rest = divmod(number - 1, 26)
        text = chr(ord("a") + rest) + text
    return text


def key_prefix(exercise: int) -> str:
    """What an answer key of exercise ``exercise`` (1-based) of a sheet of several begins with: ``e2.``."""
    return f"e{exercise}."
