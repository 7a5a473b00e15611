"""Laying maths out on a page: matrices, and how wide a line of maths prints (to break long lines)."""

from __future__ import annotations

import re
from collections.abc import Sequence


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
    # A matrix is as wide as its widest row, plus its brackets.
    text = _MATRIX.sub(lambda m: "x" * (2 + max(width(row) for row in m.group(1).split(r"\\"))), latex)
    while True:
        folded = _FRAC.sub(lambda m: "x" * max(len(m.group(1)), len(m.group(2))), text)
        if folded == text:
            break
        text = folded
    text = _COMMAND.sub("x", text)
    text = re.sub(r"\\[a-zA-Z]+", "x", text)
    text = re.sub(r"[{}^_ ]", "", text)
    return len(text)
