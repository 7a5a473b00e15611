"""Laying maths out on a page: matrices, and how wide a line of maths prints (to break long lines)."""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_COLUMNS = 8
"""Most columns a matrix is written with: a wider one is listed entry by entry (w_{1,1} = …, …), as
a lecturer would, instead of a row that runs off the page (or into amsmath's 10-column limit)."""
MAX_ROWS = 12
"""Most rows a matrix is written with: a longer one (a vector of 60 entries) is listed entry by entry."""
AMSMATH_COLUMNS = 10
"""Columns amsmath's matrices take unless its MaxMatrixCols says more. Every matrix builds an array
preamble of that many columns, at a cost that grows faster than the count: allowing 200 made the
built-in solution's TeX run 3.5 times as long (2.7 s against 0.8 s), so a document allows more only
when it has a wider matrix (:func:`matrix_columns`)."""


def whole(rows: Sequence[Sequence[object]]) -> bool:
    """Whether a matrix of these rows is written whole: it fits the page as one matrix."""
    return len(rows) <= MAX_ROWS and all(len(row) <= MAX_COLUMNS for row in rows)


def matrix(rows: Sequence[Sequence[str]]) -> str:
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    body = r" \\ ".join(" & ".join(row) for row in rows)
    return rf"\begin{{pmatrix}} {body} \end{{pmatrix}}"


_COMMAND = re.compile(r"\\(left|right|bigl|bigr|cdot|odot|partial|quad|,|;)")
_FRAC = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")
_MATRIX = re.compile(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}")


def width(latex: str) -> int:
    """Rough printed width of a LaTeX math string, in characters, to decide line breaks (it measures,
    it never changes what is printed)."""
    # A matrix is as wide as its widest row, plus its brackets; one with more columns than a matrix is
    # written with (or more rows) counts as too wide for any line, so no line is built around it.
    text = _MATRIX.sub(lambda m: "x" * _matrix_width(m.group(1)), latex)
    while True:
        folded = _FRAC.sub(lambda m: "x" * max(len(m.group(1)), len(m.group(2))), text)
        if folded == text:
            break
        text = folded
    text = _COMMAND.sub("x", text)
    text = re.sub(r"\\[a-zA-Z]+", "x", text)
    text = re.sub(r"[{}^_ ]", "", text)
    return len(text)


def matrix_columns(latex: str) -> str:
    """The line that lets amsmath set the widest matrix of ``latex`` (a user template's, or a listed
    parameter's), or "" when amsmath's own limit is enough. It reads the LaTeX, never changes it."""
    rows = (row for found in _ANY_MATRIX.finditer(latex) for row in found.group(2).split(r"\\"))
    widest = max((len(row.split("&")) for row in rows), default=0)
    return rf"\setcounter{{MaxMatrixCols}}{{{widest}}}" if widest > AMSMATH_COLUMNS else ""


_ANY_MATRIX = re.compile(r"\\begin\{([pbBvV]?matrix)\}(.*?)\\end\{\1\}", re.DOTALL)


def _matrix_width(body: str) -> int:
    rows = body.split(r"\\")
    if not whole([row.split("&") for row in rows]):
        return 10 * MAX_COLUMNS * MAX_ROWS
    return 2 + max(width(row) for row in rows)


_OPEN = (r"\left", r"\begin")
_CLOSE = (r"\right", r"\end")


def terms(latex: str) -> list[str]:
    """The top-level terms of a printed sum (the first, then each later one with its sign "+ …" or
    "- …"): where a line too long for the page may break. Whatever is bracketed, braced or inside
    an environment stays whole; it splits, it never changes what is printed."""
    pieces: list[str] = []
    depth = start = i = 0
    while i < len(latex):
        if latex[i] == "\\":
            name = next((m for m in (*_OPEN, *_CLOSE) if latex.startswith(m, i)), None)
            if name is not None and not latex[i + len(name) : i + len(name) + 1].isalpha():
                depth += 1 if name in _OPEN else -1
                i += len(name)
                continue
            i += 2  # an escaped character (\{, \\) or the first letter of a command
            continue
        if latex[i] == "{":
            depth += 1
        elif latex[i] == "}":
            depth -= 1
        elif depth == 0 and latex.startswith((" + ", " - "), i) and latex[start:i].strip():
            pieces.append(latex[start:i])
            start = i + 1
            i += 2
        i += 1
    pieces.append(latex[start:])
    return pieces


def bracketed(latex: str) -> tuple[str, str] | None:
    r"""A product ending in one bracket, ``prefix \left( inner \right)``, split into its prefix and
    what the bracket holds (a long sum inside may then go on over several lines); None otherwise."""
    if not latex.endswith(r"\right)"):
        return None
    depth = 0
    i = 0
    opened = None
    while i < len(latex):
        if latex.startswith(r"\left", i) and not latex[i + 5 : i + 6].isalpha():
            if depth == 0 and latex.startswith(r"\left(", i):
                opened = i
            depth += 1
            i += 5
            continue
        if latex.startswith(r"\right", i) and not latex[i + 6 : i + 7].isalpha():
            depth -= 1
            if depth == 0 and i == len(latex) - len(r"\right)"):
                assert opened is not None
                prefix = latex[:opened]
                # A product: no sum before the bracket (its terms would break the line there).
                return (prefix, latex[opened + len(r"\left(") : i]) if len(terms(prefix + "x")) == 1 else None
            i += 6
            continue
        i += 2 if latex[i] == "\\" else 1
    return None
