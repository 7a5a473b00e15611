"""The library's own functions at the public boundary: each checks its arguments, then calls its stage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from derive.errors import SpecError
from derive.exercise import reader
from derive.exercise.check import check as _check
from derive.exercise.check import expect
from derive.exercise.fields import field_path
from derive.exercise.model import LANGUAGES, Spec
from derive.kinds import KINDS
from derive.maths.solve import derive as _derive
from derive.maths.steps import Solution
from derive.pipeline import folders
from derive.render.templates import Documents
from derive.render.templates import render as _render
from derive.verify.gate import Report
from derive.verify.gate import verify as _verify


def spec_from_dict(data: Mapping[str, object], name: str = "exercise") -> Spec:
    """A spec built in Python from plain values: ``data`` has the structure of the spec's TOML (the
    dict ``tomllib`` reads from a spec file) and is validated by the same reader, so a mistake is one
    SpecError naming the field. A float is read as typed (0.1 is exactly 1/10, as in TOML), a
    ``fractions.Fraction`` as "p/q"; tuples are lists. ``name`` is the output file stem."""
    expect(data, Mapping, "spec_from_dict: data", "a dict of the spec's tables, as tomllib reads a spec file")
    expect(name, str, "spec_from_dict: name", "a str")
    plain = _plain(data, [], 0)
    assert isinstance(plain, dict)  # a Mapping stays a dict
    return reader.read_data(plain, KINDS, name=name)


NESTING = 8
"""Deepest nesting of tables and lists a spec has room for (a part's activation table is 4 deep)."""


def _plain(value: object, path: list[str | int], depth: int) -> object:
    """``value`` as tomllib gives the same TOML: dicts, lists, ints, Decimals, strings, booleans."""
    if depth > NESTING:
        raise SpecError(field_path(path), f"nested deeper than a spec is (at most {NESTING} tables and lists)")
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise SpecError(field_path(path), f"keys are strings, found {type(key).__name__} {key!r}")
        return {key: _plain(item, [*path, key], depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        last = path[-1] if path else ""
        # Entries are named as the reader names them: weights[2] (the TOML's arrays of tables: parts[2]).
        return [_plain(item, [*path[:-1], f"{last}[{i}]"], depth + 1) for i, item in enumerate(value, 1)]
    if isinstance(value, float):
        return Decimal(repr(value))  # as typed: repr is the shortest decimal that reads back as the float
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    return value


def check(spec: Spec) -> Spec:
    """``spec`` validated as a spec file is (a model built or changed in Python): one SpecError naming
    the field, or the spec with its numbers exact (ints, Fractions, "1/2" become SymPy rationals)."""
    return _check(spec, "check: spec")


def solve(spec: Spec) -> Solution:
    """Derive every part of ``spec`` exactly and pass it through the verification gate; a model built
    or changed in Python is validated first, as a spec file is (:func:`check`)."""
    solution = _derive(_check(spec, "solve: spec"))
    _verify(solution)
    return solution


def verify(solution: Solution) -> Report:
    """Check every quantity of ``solution`` against the independent float64 engine and finite
    differences; raise :class:`VerificationError` on the first mismatches."""
    expect(solution, Solution, "verify: solution", "a derive.Solution (from derive.solve)")
    return _verify(solution)


def render(
    solution: Solution, places: int | None = None, extra_templates: Sequence[Path] = (), language: str | None = None
) -> Documents:
    """Both sheets as complete LaTeX documents; ``places`` and ``language`` override the spec's
    ``sheet.decimals`` and ``sheet.language``, ``extra_templates`` are folders searched first."""
    expect(solution, Solution, "render: solution", "a derive.Solution (from derive.solve)")
    if places is not None:
        expect(places, int, "render: places", "a whole number from 0 to 12 or None")
        if not 0 <= places <= 12:
            raise ValueError(f"render: places must be a whole number from 0 to 12, not {places}")
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"render: language must be one of {', '.join(LANGUAGES)} or None, not {language!r}")
    return _render(solution, places, folders("render: extra_templates", extra_templates), language)
