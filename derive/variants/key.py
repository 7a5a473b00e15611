"""The one key of a batch of variants (CSV: a row per variant; LaTeX: a table per part) and the
roster's mapping of students to variants."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

from derive.errors import SpecError
from derive.exercise.text import problem
from derive.render.document import document
from derive.render.templates import environment
from derive.tex.escape import escape
from derive.tex.printer import Latex
from derive.tex.style import Style
from derive.variants import draw
from derive.variants.batch import Batch, Outcome

REASON_ORDER = ("zero_gradient", "dead_relu", "saturated", "digits", "size", "claim", "lost", "duplicate", "refused")
COLUMNS_PER_TABLE = 5
"""Answers side by side in one table of the key's PDF (a part with more gets several tables)."""
ROWS_PER_TABLE = 40
"""Variants in one table (more: the table goes on below, its head repeated)."""
MAX_STUDENTS = 10_000
MAX_STUDENT_ID = 100


def asked(batch: Batch, outcome: Outcome) -> list[dict[str, Any]]:
    """The quantities a variant's parts ask for (its answer key), from its answers file."""
    name = batch.drawer.name(outcome.number)
    document = json.loads(outcome.files[f"{name}-answers.json"])
    return [q for q in document["quantities"] if q["asked"]]


def rejected_text(outcome: Outcome) -> str:
    counts = Counter(r.reason for r in outcome.rejected)
    return "; ".join(f"{reason}: {counts[reason]}" for reason in REASON_ORDER if counts[reason])


def key_csv(batch: Batch) -> str:
    """A row per variant: its id and code, its draws and why the rejected ones were, each drawn given
    (as the spec types it) and each asked answer (the decimal its sheet shows)."""
    rows = {o.number: {q["name"]: q["decimal"] for q in asked(batch, o)} for o in batch.outcomes}
    answers = list(dict.fromkeys(name for row in rows.values() for name in row))
    givens = draw.drawn_names(batch.drawer.variation)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["variant", "code", "draws", "rejected", *givens, *answers])
    for o in batch.outcomes:
        assert o.draw is not None
        values = draw.by_name(
            batch.drawer.variation, draw.drawn(batch.drawer.variation, batch.plan.seed, o.number, o.draw)
        )
        code = batch.drawer.label(o.number, o.draw).code
        cells = [draw.label_id(o.number), code, len(o.rejected) + 1, rejected_text(o)]
        cells += [str(values[name]) for name in givens]
        cells += [rows[o.number].get(name, "") for name in answers]
        writer.writerow(cells)
    return buffer.getvalue()


def key_tex(batch: Batch, style: Style, templates: tuple[Path, ...] = (), compiled: Path | None = None) -> str:
    """The key as a LaTeX document: how the variants were drawn, why draws were rejected, and for
    each part tables of its asked answers, a row per variant."""
    printer = style.printer()
    answers = {o.number: asked(batch, o) for o in batch.outcomes}
    parts: dict[int, list[str]] = {}
    for quantities in answers.values():
        for q in quantities:
            names = parts.setdefault(q["part"], [])
            if q["name"] not in names:
                names.append(q["name"])
    codes = {o.number: batch.drawer.label(o.number, o.draw or 0).code for o in batch.outcomes}
    tables = []
    for part, names in sorted(parts.items()):
        for start in range(0, len(names), COLUMNS_PER_TABLE):
            columns = names[start : start + COLUMNS_PER_TABLE]
            rows = []
            for number, quantities in answers.items():
                found = {q["name"]: q["decimal"] for q in quantities}
                cells = [Latex(f"\\({printer.number(found[n])}\\)") if n in found else "" for n in columns]
                rows.append({"id": draw.label_id(number), "code": codes[number], "cells": cells})
            for first in range(0, len(rows), ROWS_PER_TABLE):
                tables.append(
                    {
                        "part": part,
                        "columns": [Latex(escape(n)) for n in columns],
                        "rows": rows[first : first + ROWS_PER_TABLE],
                    }
                )
    counts = batch.rejected
    context = {
        "title": _title(batch),
        "count": len(batch.outcomes),
        "seed": batch.plan.seed,
        "draws": batch.draws,
        "rejected": [{"reason": reason, "count": counts[reason]} for reason in REASON_ORDER if counts[reason]],
        "tables": tables,
    }
    env = environment(templates, style, compiled)
    body = env.get_template("variants-key.tex.j2").render(context)
    label = str(env.globals["t"].variants_key_title())  # type: ignore[attr-defined]
    return document(body, metadata=(escape(_title(batch)) + f" ({label})", ""), style=style)


def _title(batch: Batch) -> str:
    return str(batch.drawer.root.get("sheet", {}).get("title", "")) or batch.plan.stem


def read_roster(path: Path) -> list[str]:
    """The student ids of a roster file, one a line (blank lines and lines starting with # left out);
    a SpecError naming the line for an id that is too long, not printable, or there twice."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise SpecError("", f"cannot read the roster: {reason}", source=str(path)) from None
    students: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        student = line.strip()
        if not student or student.startswith("#"):
            continue
        if len(student) > MAX_STUDENT_ID:
            raise SpecError("", f"a student id has at most {MAX_STUDENT_ID} characters", line=number, source=str(path))
        trouble = problem(student)
        if trouble is not None:
            raise SpecError("", f"student id: {trouble}", line=number, source=str(path))
        if student in students:
            raise SpecError(
                "", f"{student!r} is listed twice (also on line {students[student]})", line=number, source=str(path)
            )
        students[student] = number
        if len(students) > MAX_STUDENTS:
            raise SpecError("", f"at most {MAX_STUDENTS} students", line=number, source=str(path))
    if not students:
        raise SpecError("", "the roster lists no student (one id a line)", source=str(path))
    return list(students)


def roster_csv(batch: Batch, students: list[str]) -> str:
    """Each student (in the roster's order) with their variant's id and code."""
    dealt = draw.deal(students, len(batch.outcomes), batch.plan.seed)
    codes = {o.number: batch.drawer.label(o.number, o.draw or 0).code for o in batch.outcomes}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "variant", "code"])
    for student in students:
        number = dealt[student]
        writer.writerow([_cell(student), draw.label_id(number), codes[number]])
    return buffer.getvalue()


def _cell(text: str) -> str:
    """A spreadsheet cell that stays text: a leading = + - @ would start a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
