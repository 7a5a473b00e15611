"""User text: what can be typeset, and how it is escaped."""

from __future__ import annotations

import pytest

from derive.exercise.text import MAX_LENGTH, problem
from derive.tex.escape import escape


@pytest.mark.parametrize("text", ["Backprop", "Übungsblatt 3: Straße", "σ-Netze – Teil 2 …", "x" * MAX_LENGTH, ""])
def test_typesettable(text: str) -> None:
    assert problem(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a\u0007b", "a control character U+0007"),
        ("a\u202eb", "a control character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("\u0430", "a character U+0430 (CYRILLIC SMALL LETTER A)"),
        ("x" * (MAX_LENGTH + 1), "too long"),
    ],
)
def test_not_typesettable(text: str, reason: str) -> None:
    found = problem(text)
    assert found is not None and found.startswith(reason)


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("50% & $x_1$", r"50\% \& \$x\_1\$"),
        ("a^b~c", r"a\textasciicircum{}b\textasciitilde{}c"),
        (
            "``q'' <<g>> ,,",
            r"\textasciigrave{}\textasciigrave{}q\textquotesingle{}\textquotesingle{} {<}{<}g{>}{>} {,}{,}",
        ),
        ("σ-Netz", r"\ensuremath{\sigma}{-}Netz"),
        (r"\input{x}", r"\textbackslash{}input\{x\}"),
    ],
)
def test_escape(text: str, latex: str) -> None:
    assert escape(text) == latex


def test_long_words_get_break_points() -> None:
    assert escape("x" * 17).count(r"\allowbreak{}") == 2
    assert r"/\allowbreak{}" in escape("/very/long/path/to/a/file")
