"""Givens typed as closed forms ("sqrt(2)/2", "1 + sin(pi/3)", "ln(2)"): read by the bounded formula
parser into exact SymPy numbers, refused when not real, not finite, out of range or too long to print."""

from __future__ import annotations

import re

import sympy as sp

from derive.catalog.parsing import CONSTANTS, FUNCTIONS, FormulaError, parse_formula
from derive.terms.numbers import _NUMBER, MAGNITUDE, NumberError, within_limits

MAX_LENGTH = 60
"""Most characters of a closed form typed as a given: a hand exercise writes "1 + sin(pi/3)"."""
MAX_NODES = 24
"""Most nodes of a given's exact form as SymPy keeps it (√2/2 has 5, 1 + √3/2 has 8): every step
that substitutes the given prints it, so it stays a short closed form, not a paragraph."""

NOT_A_FORM = ("unknown name", "unknown function", "not a formula", "not allowed", "only numbers", "the formula is")
"""The parser's messages about what is typed, not about its value (which is "undefined", "no real value", …)."""
CLOSED = re.compile(r"[a-z(]")
"""What sets a closed form apart from a mistyped number ("1/2x" is a mistake; "ln(2)" a closed form)."""
_SIGNS = r"[-+*/^(). 0-9]"
_WORDS = "|".join(sorted((*FUNCTIONS, *CONSTANTS), key=len, reverse=True))
PATTERN = rf"^{_SIGNS}*({_WORDS}|\(){_SIGNS}*(({_WORDS}){_SIGNS}*)*$"
"""A closed form's words and signs, for the JSON Schema ("one" is none; the reader checks the rest)."""


def is_closed(text: str) -> bool:
    """Whether ``text`` is typed as a closed form (a function, a constant or brackets), not as a number
    ("3e-2" and "inf" are read, or refused, as numbers)."""
    if _NUMBER.match(text) or text.strip().lower().lstrip("+-") in ("inf", "infinity", "nan"):
        return False
    return CLOSED.search(text) is not None


def closed_form(text: str) -> sp.Expr:
    """The exact value of ``text``: a real, finite number in SymPy's own form (sin(π/3) is √3/2), or a
    :class:`NumberError` saying what is wrong with it."""
    if len(text) > MAX_LENGTH:
        raise NumberError(f"a closed form of at most {MAX_LENGTH} characters; found {len(text)}")
    try:
        value = parse_formula(text, {})
    except FormulaError as error:
        message = str(error)
        if message.startswith(NOT_A_FORM):  # "one", "1/2x": a mistyped number more likely than a formula
            raise NumberError(
                f'expected a number such as 2, "1/2", "0.15" or "sqrt(2)/2", found {text.strip()!r} ({message})'
            ) from None
        shown = repr(text.strip())
        raise NumberError(
            f"the closed form {message}" if message.startswith(shown) else f"the closed form {shown}: {message}"
        ) from None
    value = bounded(value, repr(text.strip()))
    return within_limits(value) if isinstance(value, sp.Rational) else value  # cos(pi/3) is 1/2


def bounded(value: sp.Expr, shown: str) -> sp.Expr:
    """``value`` if it is a real, finite number of the numbers' range whose form is short enough to
    print; ``shown`` names it in the message."""
    if value.free_symbols or not value.is_number:
        raise NumberError(f"{shown} is not a number")
    if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or value.is_finite is False:
        raise NumberError(f"{shown} is not finite")
    if value.has(sp.I) or value.is_real is False:
        raise NumberError(f"{shown} has no real value")
    if value.has(sp.Float):
        raise NumberError(f"{shown} is a binary float; give it exactly")
    nodes = sum(1 for _ in sp.preorder_traversal(value))
    if nodes > MAX_NODES:
        raise NumberError(f"{shown} is {nodes} terms long in its exact form; at most {MAX_NODES} are printed")
    size = abs(value.evalf(20))
    if value != 0 and not sp.Integer(10) ** -MAGNITUDE <= size <= sp.Integer(10) ** MAGNITUDE:
        raise NumberError(f"{shown} is out of range: numbers are 0 or from 10^-{MAGNITUDE} to 10^{MAGNITUDE} in size")
    return value
