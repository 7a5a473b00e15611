"""Drawing a variant's givens, and its short code: every choice comes from a hash of the seed, the
variant's number, the draw and the given, so a variant is the same whatever else is drawn, on any
machine and Python; the code names the variant and the draw, checked against the spec and the seed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from derive.exercise.variation import Variation, typed

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U, so a code read aloud or off paper is not misread."""
MAX_VARIANTS = 999
"""Most variants of a batch (the ids have three digits)."""
MAX_SEED = 2**32 - 1
_DRAWS = 10_000
"""Room for the draw in a code's number (at least :data:`derive.exercise.variation.MAX_DRAWS`)."""
_PAYLOAD = 5
_CHECK = 2


def pick(seed: int, number: int, draw: int, leaf: str, count: int) -> int:
    """An index below ``count`` for the given ``leaf`` (its spec path) of draw ``draw`` of variant ``number``."""
    digest = hashlib.sha256(f"derive-variants/{seed}/{number}/{draw}/{leaf}".encode()).digest()
    return int.from_bytes(digest, "big") % count  # 256 bits: the bias of the remainder is nil


def drawn(variation: Variation, seed: int, number: int, draw: int) -> dict[tuple[str | int, ...], object]:
    """Each varied number's location in the spec's tables, with the value drawn for it, as TOML gives it."""
    values: dict[tuple[str | int, ...], object] = {}
    for spec_range in variation.vary:
        for leaf, name in zip(spec_range.leaves, spec_range.names, strict=True):
            chosen = spec_range.values[pick(seed, number, draw, name, len(spec_range.values))]
            values[leaf] = typed(chosen, spec_range.decimal)
    return values


def fingerprint(text: str) -> str:
    """What a code is checked against: the spec's text (an edited spec makes other variants)."""
    return hashlib.sha256(text.encode()).hexdigest()


def _base32(value: int, width: int) -> str:
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(width)))


def _check(spec: str, seed: int, payload: str) -> str:
    digest = hashlib.sha256(f"{spec}/{seed}/{payload}".encode()).digest()
    return _base32(int.from_bytes(digest[:2], "big"), _CHECK)


def code(spec: str, seed: int, number: int, draw: int) -> str:
    """Variant ``number``'s short code, such as ``0G3ZA-K7``: the variant and its draw, and two
    characters that check them against the spec (its :func:`fingerprint`) and the seed."""
    payload = _base32(number * _DRAWS + draw, _PAYLOAD)
    return f"{payload}-{_check(spec, seed, payload)}"


def decode(text: str, spec: str, seed: int) -> tuple[int, int]:
    """The variant's number and draw a code names; a ValueError (one line) for a code that is not one
    of this spec with this seed."""
    cleaned = text.strip().upper().replace("O", "0").replace("I", "1").replace("L", "1")
    payload, dash, check = cleaned.partition("-")
    if not dash or len(payload) != _PAYLOAD or len(check) != _CHECK or any(c not in ALPHABET for c in payload + check):
        raise ValueError(f"{text!r} is not a variant code (five characters, a dash and two, such as 0G3ZA-K7)")
    if _check(spec, seed, payload) != check:
        raise ValueError(f"{text!r} is not a variant of this spec with seed {seed} (the spec changed, or another seed)")
    value = sum(ALPHABET.index(c) << (5 * i) for i, c in enumerate(reversed(payload)))
    number, draw = divmod(value, _DRAWS)
    if not 1 <= number <= MAX_VARIANTS:
        raise ValueError(f"{text!r} is not a variant code")
    return number, draw


def deal(students: list[str], count: int, seed: int) -> dict[str, int]:
    """Each student's variant: the students ordered by a hash of the seed and their id, then dealt
    variants 1, 2, …, ``count``, 1, 2, … in that order: every variant goes to the same number of
    students, give or take one, and the order of the roster file changes nothing."""
    order = sorted(students, key=lambda s: (hashlib.sha256(f"derive-roster/{seed}/{s}".encode()).digest(), s))
    return {student: position % count + 1 for position, student in enumerate(order)}


def label_id(number: int) -> str:
    """A variant's id in file names and the key: ``v007``."""
    return f"v{number:03d}"


def drawn_names(variation: Variation) -> list[str]:
    """Every varied given's spec path, in the order of ``vary`` (the key's columns)."""
    return [name for spec_range in variation.vary for name in spec_range.names]


def by_name(variation: Variation, values: Mapping[tuple[str | int, ...], object]) -> dict[str, object]:
    """The drawn values by the given's spec path."""
    return {
        name: values[leaf]
        for spec_range in variation.vary
        for leaf, name in zip(spec_range.leaves, spec_range.names, strict=True)
    }
