"""A Moodle quiz's responses report (Results → Responses → Download, CSV) read back into answer keys,
one attempt per row, for ``derive check``.

The report has a column "Response N" per question slot N (and, as the teacher chooses, "Question N"
with the question's text and "Right answer N"). A Cloze question's response is its blanks' in order,
``part 1: 0.5; part 2: 3``. The question in a slot is found by the name derive writes at the end of
its text (:func:`derive.moodle.cloze.question_name`, in the "Question N" column), else by its right
answers, else slot N is the N-th part's question, as ``derive moodle`` writes them.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from derive.render.carried import MAX_ANSWER_BYTES, MAX_ANSWER_ROWS, parse_number

RESPONSE = ("Response", "Antwort")
"""The words of a response column's header, "Response 3", in Moodle's English and German."""
QUESTION = ("Question", "Frage")
RIGHT = ("Right answer", "Richtige Antwort")
NAMES = ("First name", "Vorname", "Surname", "Last name", "Nachname", "Email address", "E-Mail-Adresse")
"""The columns that say whose attempt a row is, as far as the export has them."""
_HEADER = re.compile(r"^(.*\S)\s+(\d+)$")
_PART = re.compile(r"(?:^|;\s*)[^\s;:]+ (\d+):\s?")
"""Where a blank's response begins in a Cloze response: "part 2: " (the word is the site's language)."""


@dataclass(frozen=True)
class Attempt:
    """One row of the export: whose it is, and the values it gives by answer key."""

    row: int
    """The row's number among the export's attempts, from 1 (``derive check --row N``)."""
    student: str
    entered: dict[str, float]
    skipped: tuple[str, ...] = ()
    """What could not be read (a slot of another quiz, a response that is no number)."""


def is_responses(text: str) -> bool:
    """Whether CSV ``text`` is a Moodle responses export: a header with a "Response N" column."""
    first = next(csv.reader(io.StringIO(text)), [])
    return any(_column(cell, RESPONSE) is not None for cell in first)


def _column(header: str, words: Sequence[str]) -> int | None:
    match = _HEADER.match(header.strip())
    return int(match.group(2)) if match and match.group(1) in words else None


def blanks_of(response: str) -> list[str]:
    """The blanks' responses of a Cloze response, in order ("" where a blank was left empty)."""
    pieces = _PART.split(response.strip())
    if len(pieces) < 3:
        return []
    found: dict[int, str] = {}
    for number, value in zip(pieces[1::2], pieces[2::2], strict=True):
        found[int(number)] = value.strip()
    return [found.get(i, "") for i in range(1, max(found) + 1)]


def read_attempts(
    text: str, layout: Mapping[str, Sequence[str]], answers: Mapping[str, tuple[float, float]], mark: str = ""
) -> list[Attempt]:
    """Every attempt of a responses export; ``layout`` is each question's answer keys by name (parts
    first, in order: :func:`derive.moodle.cloze.layout`), ``answers`` each key's answer and tolerance.
    A ValueError names what is wrong with the file as a whole."""
    if len(text.encode()) > MAX_ANSWER_BYTES:
        raise ValueError(f"more than {MAX_ANSWER_BYTES // 1024} KiB: not one quiz's responses")
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > MAX_ANSWER_ROWS:
        raise ValueError(f"{len(rows)} rows are more than {MAX_ANSWER_ROWS}")
    if not rows:
        raise ValueError("empty: no header row")
    header = [cell.strip() for cell in rows[0]]
    slots: dict[int, dict[str, int]] = {}
    for i, cell in enumerate(header):
        for role, words in (("response", RESPONSE), ("question", QUESTION), ("right", RIGHT)):
            number = _column(cell, words)
            if number is not None:
                slots.setdefault(number, {})[role] = i
    if not any("response" in roles for roles in slots.values()):
        raise ValueError('no "Response 1" column: download the quiz\'s Responses report as CSV')
    people = [i for i, cell in enumerate(header) if cell in NAMES]
    parts = list(layout)[:-1]  # the parts' questions; the last holds every part (a variant's)
    attempts: list[Attempt] = []
    for line, row in enumerate(rows[1:], 1):
        cells = [cell.strip() for cell in row] + [""] * max(0, len(header) - len(row))
        if not any(cells[roles["response"]] for roles in slots.values() if "response" in roles):
            continue  # a row without responses (the report's average row, an empty line)
        student = " ".join(cells[i] for i in people if cells[i]) or f"row {line + 1}"
        entered: dict[str, float] = {}
        skipped: list[str] = []
        for number in sorted(slots):
            roles = slots[number]
            if "response" not in roles:
                continue
            name = _which(number, roles, cells, layout, answers, parts, mark)
            if name is None:
                skipped.append(f"question {number}: not a question of this spec")
                continue
            for key, value in zip(layout[name], blanks_of(cells[roles["response"]]), strict=False):
                parsed = parse_number(value, mark) if value else None
                if value and parsed is None:
                    skipped.append(f"{key}: {value!r} is not a number")
                elif parsed is not None:
                    entered[key] = parsed
        attempts.append(Attempt(len(attempts) + 1, student, entered, tuple(skipped)))
    return attempts


def _which(
    number: int,
    roles: Mapping[str, int],
    cells: Sequence[str],
    layout: Mapping[str, Sequence[str]],
    answers: Mapping[str, tuple[float, float]],
    parts: Sequence[str],
    mark: str,
) -> str | None:
    """The question in slot ``number`` of one attempt: by its name in its text, by its right answers,
    or by its place."""
    if "question" in roles and cells[roles["question"]]:
        named = [name for name in layout if name in cells[roles["question"]]]
        return max(named, key=len) if named else None
    if "right" in roles and cells[roles["right"]]:
        right = [parse_number(value, mark) for value in blanks_of(cells[roles["right"]])]
        for name, keys in layout.items():
            if len(keys) == len(right) and all(
                value is not None and math.isclose(value, answers[key][0], abs_tol=answers[key][1])
                for key, value in zip(keys, right, strict=True)
            ):
                return name
        return None
    return parts[number - 1] if number <= len(parts) else None
