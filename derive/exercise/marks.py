"""Reading what a part is worth and how an exam lays it out: ``points``, ``split`` and ``space`` of a
part, the ``[exam]`` table, and the rule that points are given for every part or for none."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

import sympy as sp

from derive.errors import SpecError
from derive.exercise.fields import kind_of, shown
from derive.exercise.model import Exam, Part
from derive.exercise.shapes import Shape
from derive.exercise.text import problem

MAX_POINTS = 100
"""Most points one part is worth (a sheet of 30 parts: 3000)."""
MAX_SPLIT = 100
"""Most numbers in a part's ``split`` (the steps a marker gives points for)."""
SPACE_CM = (sp.Integer(1), sp.Integer(20))
"""The answer space a part may ask for, in centimetres: a line at least, a page's text at most."""
UNITS = {"cm": sp.Integer(1), "mm": sp.Rational(1, 10), "in": sp.Rational(254, 100)}
LENGTH = re.compile(r"\s*(\d{1,3}(?:\.\d{1,2})?)\s*(cm|mm|in)\s*")
PART_KEYS: Mapping[str, Shape] = {
    "points": Shape("points", "what the part is worth: a positive number, halves allowed", high=MAX_POINTS),
    "split": Shape("splits", "the points of each step the marking scheme marks, in order", high=MAX_SPLIT),
    "space": Shape("length", 'the exam\'s answer space after the question, such as "6cm" (1cm to 20cm)'),
}
"""The keys every part may have for points and the exam (beside :data:`derive.exercise.parts.COMMON`)."""
EXAM_KEYS: Mapping[str, Shape] = {
    "formula_sheet": Shape("flag", "end the exam with the rules it uses: activations, the loss, the optimizers"),
    "duration": Shape("text", 'the time allowed, as written ("90 minutes")'),
    "instructions": Shape("text", "one more instruction on the cover page (the aids allowed, say)"),
}
"""[exam]: every key, with what it takes."""


Fail = Callable[[Sequence[str | int], str], SpecError]
"""A one-line SpecError naming a field: a reader's ``fail``, or :mod:`derive.exercise.check`'s."""


class Failing(Protocol):
    """What a reader offers here: a one-line SpecError naming a field (and its TOML line)."""

    def fail(self, path: Sequence[str | int], message: str) -> SpecError: ...

    def table(self, path: Sequence[str | int], value: object, allowed: Any) -> dict[str, object]: ...

    def text(self, path: Sequence[str | int], value: object) -> str: ...

    def boolean(self, path: Sequence[str | int], value: object) -> bool: ...


def halves(reader: Failing, path: Sequence[str | int], value: object, least: int) -> sp.Rational:
    """A number of points: a TOML integer or decimal, a multiple of 1/2, from ``least`` to :data:`MAX_POINTS`."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise reader.fail(path, f"expected a number of points, such as 4 or 2.5; found {kind_of(value)}")
    if not (value.is_finite() if isinstance(value, Decimal) else True) or not least <= value <= MAX_POINTS:
        low = "0" if least == 0 else "a positive number"
        raise reader.fail(path, f"expected {low} of points up to {MAX_POINTS}; found {value}")
    number = sp.Rational(str(value))
    if (2 * number).q != 1 or (least and number == 0):
        raise reader.fail(path, f"points are whole or halves (4, 2.5); found {value}")
    return number


def read_part(reader: Failing, path: list[str | int], table: Mapping[str, object]) -> dict[str, Any]:
    """A part's ``points``, ``split`` and ``space``, as the :class:`Part` fields of those names."""
    fields: dict[str, Any] = {}
    if "points" in table:
        fields["points"] = halves(reader, [*path, "points"], table["points"], 1)
    if "split" in table:
        raw = table["split"]
        if "points" not in table:
            raise reader.fail([*path, "split"], "a split divides the part's points: give points too")
        if not isinstance(raw, list) or not raw:
            raise reader.fail([*path, "split"], f"expected a list of points per marked step; found {kind_of(raw)}")
        if len(raw) > MAX_SPLIT:
            raise reader.fail([*path, "split"], f"at most {MAX_SPLIT} steps; found {len(raw)}")
        split = tuple(halves(reader, [*path, f"split[{i}]"], v, 0) for i, v in enumerate(raw, 1))
        if sum(split) != fields["points"]:
            total, points = sum(split), fields["points"]
            raise reader.fail([*path, "split"], f"the split adds up to {total}, not to the part's {points} points")
        fields["split"] = split
    if "space" in table:
        fields["space"] = length(reader, [*path, "space"], table["space"])
    return fields


def length(reader: Failing, path: Sequence[str | int], value: object) -> sp.Rational:
    """A length such as "6cm", "45mm" or "2.5in", in centimetres, within :data:`SPACE_CM`."""
    match = LENGTH.fullmatch(value) if isinstance(value, str) else None
    if match is None or not isinstance(value, str):
        found = shown(value) if isinstance(value, str) else kind_of(value)
        raise reader.fail(path, f'expected a length such as "6cm", "45mm" or "2.5in"; found {found}')
    cm = sp.Rational(match.group(1)) * UNITS[match.group(2)]
    low, high = SPACE_CM
    if not low <= cm <= high:
        raise reader.fail(path, f"expected from {low}cm to {high}cm; found {value.strip()}")
    return cm


def every_or_none(fail: Fail, parts: Sequence[Part[Any]]) -> None:
    """Points are given for every part or for none: a part left out would count 0 without saying so."""
    given = [p.number for p in parts if p.points is not None]
    if given and len(given) < len(parts):
        missing = next(p.number for p in parts if p.points is None)
        raise fail(["parts", missing, "points"], f"missing: part {given[0]} has points, so every part needs them")


def check_part(fail: Fail, path: list[str | int], part: Part[Any]) -> None:
    """A part's points, split and space as the reader makes them, for a model built in Python."""

    def number(where: list[str | int], value: object, least: int) -> sp.Rational:
        if not isinstance(value, sp.Rational) or not least <= value <= MAX_POINTS or (2 * value).q != 1:
            raise fail(where, f"expected points from {least} to {MAX_POINTS}, whole or halves; found {kind_of(value)}")
        if least and value == 0:
            raise fail(where, "expected a positive number of points; found 0")
        return value

    if part.points is not None:
        number([*path, "points"], part.points, 1)
    if not isinstance(part.split, tuple) or len(part.split) > MAX_SPLIT:
        raise fail([*path, "split"], f"expected a tuple of at most {MAX_SPLIT} points; found {kind_of(part.split)}")
    if part.split:
        split = [number([*path, f"split[{i}]"], v, 0) for i, v in enumerate(part.split, 1)]
        if part.points is None or sum(split) != part.points:
            raise fail([*path, "split"], f"the split adds up to {sum(split)}, not to the part's points ({part.points})")
    low, high = SPACE_CM
    if part.space is not None and not (isinstance(part.space, sp.Rational) and low <= part.space <= high):
        raise fail([*path, "space"], f"expected centimetres from {low} to {high}; found {kind_of(part.space)}")


def check_exam(fail: Fail, exam: object) -> None:
    """``[exam]`` as the reader makes it, for a model built in Python."""
    if not isinstance(exam, Exam):
        raise fail(["exam"], f"expected a derive.exercise.model.Exam, found {kind_of(exam)}")
    if not isinstance(exam.formula_sheet, bool):
        raise fail(["exam", "formula_sheet"], f"expected true or false, found {kind_of(exam.formula_sheet)}")
    for key in ("duration", "instructions"):
        value = getattr(exam, key)
        if not isinstance(value, str):
            raise fail(["exam", key], f"expected a string, found {kind_of(value)}")
        if (trouble := problem(value)) is not None:
            raise fail(["exam", key], trouble)


def read_exam(reader: Failing, value: object) -> Exam:
    """``[exam]``: the formula sheet, the time allowed and a further instruction."""
    table = reader.table(["exam"], value, EXAM_KEYS)
    return Exam(
        formula_sheet=reader.boolean(["exam", "formula_sheet"], table.get("formula_sheet", False)),
        duration=reader.text(["exam", "duration"], table["duration"]) if "duration" in table else "",
        instructions=reader.text(["exam", "instructions"], table["instructions"]) if "instructions" in table else "",
    )


def total(parts: Sequence[Part[Any]]) -> sp.Rational | None:
    """The points of ``parts`` together; None where none has points."""
    given = [p.points for p in parts if p.points is not None]
    return sp.Rational(sum(given)) if given else None
