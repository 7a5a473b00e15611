"""User text written into LaTeX so that it prints literally: specials escaped, ligatures broken, Greek as maths."""

from __future__ import annotations

from pylatex.utils import escape_latex

from derive.exercise.text import GREEK

LITERAL = {"`": r"\textasciigrave{}", "'": r"\textquotesingle{}", "<": "{<}", ">": "{>}", ",": "{,}"}
"""Characters T1 fonts would curl or join (`` → “, << → «, ,, → „), kept as typed."""
BREAK_AFTER = ("/", "=", "_", ".", ";", ":", ")", "]", "|")
"""Inside a long word a line may break after these (and after a backslash)."""
LONG_WORD = 16


def escape(text: str) -> str:
    """``text`` as LaTeX that prints it literally: specials escaped, ligatures broken, Greek as maths.

    A long word without spaces (a path, a command) gets break points after punctuation and every
    eighth character, so it cannot run off the page.
    """
    words = []
    for word in text.split(" "):
        pieces = []
        for index, char in enumerate(word):
            if char in GREEK:
                piece = rf"\ensuremath{{\{GREEK[char]}}}"
            elif char in LITERAL:
                piece = LITERAL[char]
            else:
                piece = escape_latex(char).replace(r"\^{}", r"\textasciicircum{}")
            if len(word) > LONG_WORD and (char == "\\" or char in BREAK_AFTER or index % 8 == 7):
                piece += r"\allowbreak{}"
            pieces.append(piece)
        words.append("".join(pieces))
    return " ".join(words)
