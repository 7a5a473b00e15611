"""Points on the sheets: a part's points as written, and the points table with its total."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from derive.exercise.exercises import letter
from derive.exercise.marks import total
from derive.exercise.model import Spec
from derive.tex.printer import Latex, Printer

COLUMNS = 10
"""Parts per row of the points table (a row of ten and the total fit an A4 or Letter line)."""


def written(points: sp.Rational | None, printer: Printer) -> dict[str, Any] | None:
    """A number of points as the sheet writes it (4, 2.5 with its decimal mark) and whether it is
    one (the words say "1 point", "4 points"); None for no points."""
    if points is None:
        return None
    return {"value": Latex(printer.as_written(points)), "one": points == 1}


def points_table(columns: Sequence[tuple[str, sp.Rational]], printer: Printer) -> dict[str, Any] | None:
    """The points table: ``columns`` (a part's label, such as "3", and its points) in rows of
    :data:`COLUMNS`, the total at the end of the last; None where no part has points. (A sheet of
    several exercises has its own: :func:`exercises_points`.)"""
    if not columns:
        return None
    cells = [{"label": label, "points": written(points, printer), "total": False} for label, points in columns]
    cells.append({"label": "", "points": written(sp.Rational(sum(p for _, p in columns)), printer), "total": True})
    return {
        "rows": [cells[i : i + COLUMNS] for i in range(0, len(cells), COLUMNS)],
        "total": written(sp.Rational(sum(p for _, p in columns)), printer),
        "parts": len(columns),
    }


def sheet_points(spec: Spec, printer: Printer) -> dict[str, Any] | None:
    """The points table of one exercise's parts, labelled by their numbers."""
    if total(spec.parts) is None:
        return None
    return points_table([(str(p.number), p.points) for p in spec.parts if p.points is not None], printer)


def exercises_points(exercises: Sequence[tuple[int, Spec]], printer: Printer) -> dict[str, Any] | None:
    """The points table of a sheet of several exercises (``exercises``: each one's number and spec):
    ``letters`` (a column per part letter, as many as the longest exercise has parts), ``rows`` (each
    exercise's ``number``, its parts' points in ``cells``, None past its last part, and its ``total``),
    the sheet's ``total``, its ``parts`` and ``exercises`` counted; None unless every part of every
    exercise has points."""
    if any(total(spec.parts) is None for _, spec in exercises):
        return None
    width = max(len(spec.parts) for _, spec in exercises)
    rows = [
        {
            "exercise": number,
            "cells": [written(p.points, printer) for p in spec.parts] + [None] * (width - len(spec.parts)),
            "total": written(total(spec.parts), printer),
        }
        for number, spec in exercises
    ]
    return {
        "letters": [letter(n) for n in range(1, width + 1)],
        "rows": rows,
        "total": written(sp.Rational(sum(total(spec.parts) or 0 for _, spec in exercises)), printer),
        "parts": sum(len(spec.parts) for _, spec in exercises),
        "exercises": len(exercises),
    }
