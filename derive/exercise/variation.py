"""A spec's ``[variants]``: which givens vary (by their spec path, as errors name them) over which exact
values, and what a good instance is; read and checked like every other section, one SpecError naming
the field. Drawing and judging the instances is :mod:`derive.variants`' work."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sympy as sp

from derive.exercise.fields import FieldReader, kind_of, shown
from derive.exercise.kind import PartKind
from derive.exercise.parts import COMMON
from derive.exercise.shapes import Shape, whole
from derive.terms.numbers import NumberError, parse_exact

MAX_VARIED = 50
"""Most entries of ``vary`` (each a given, a vector or a matrix of them)."""
MAX_CHOICES = 1000
"""Most values one range or value set has."""
MAX_EXCLUDED = 100
MAX_DRAWS = 10_000
CHECKS = ("zero_gradient", "dead_relu", "saturated", "digits", "size", "same_sample")
"""The degeneracies a drawn instance is rejected for, unless ``good.allow`` lets them through: a
parameter tensor whose whole gradient is 0, a ReLU unit with z ≤ 0, a sigmoid or tanh unit with |z|
past the budget, an asked value with too many digits or too large, a part asked of the same input
and target as an earlier part of its kind. (A draw is also rejected where a
"show that" claim, made again for it, is no short number, where the spec refuses its numbers, and
where its answers are an earlier variant's.)"""
VARIED_TAGS = frozenset(
    {"number", "positive", "numbers", "numbers_or_number", "matrix", "bias", "activation", "optimizer"}
    | {"values", "tensors", "state", "neuron", "samples"}
)
"""The shapes of the keys whose numbers are givens (a whole number such as ``steps`` is structure)."""
STRUCTURE = frozenset({"index_from"})
"""Numbers inside a varied table that are structure, not givens."""
_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[1-9][0-9]{0,4}\])*)")

RANGE_KEYS: Mapping[str, Shape] = {
    "from": Shape("number", "the smallest value of a range"),
    "to": Shape("number", "the largest value of a range"),
    "step": Shape("positive", "the range's step (default 1): values from, from + step, … up to to"),
    "values": Shape("numbers", "the values to draw from, instead of a range"),
    "exclude": Shape("numbers", "values never drawn (such as 0)"),
}
"""One entry of ``vary``: a range with a step, or a value set; each drawn value exact."""
GOOD_KEYS: Mapping[str, Shape] = {
    "saturation": Shape("positive", "a sigmoid or tanh unit with |z| above this is saturated (default 4)"),
    "min_gradient": Shape("number", "a tensor's gradient no larger than this in every entry counts as 0 (default 0)"),
    "max_digits": whole(1, 40, "most digits of an asked value's numbers, numerator and denominator (default 6)"),
    "max_value": Shape("positive", "largest size of an asked value (default 1000)"),
    "max_draws": whole(1, MAX_DRAWS, "draws per variant before the batch stops with an error (default 100)"),
    "allow": Shape("choices", "degeneracies allowed everywhere", choices=CHECKS),
}
"""``[variants.good]``: the good-instance budget."""
VARIANTS_KEYS: Mapping[str, Shape] = {
    "vary": Shape("ranges", 'the givens that vary, by spec path ("parts[1].x"), each a range or value set'),
    "good": Shape("tables", "the good-instance budget: GOOD_KEYS"),
    "qr": Shape("flag", "a QR code of the command that makes a variant again on its first page (default false)"),
}
"""``[variants]``: every key, with what it takes (:mod:`derive.schema` writes them for editors)."""


@dataclass(frozen=True)
class Range:
    """One varied entry of ``vary``: its spec path, the exact values drawn from, and whether they
    are written as decimals (the range was typed so) or as fractions."""

    path: str
    values: tuple[sp.Rational, ...]
    decimal: bool
    leaves: tuple[tuple[str | int, ...], ...]
    """Where its numbers lie in the spec's tables (keys and 0-based list indices), one each drawn."""
    names: tuple[str, ...]
    """Each leaf's own spec path (``network.layers[1].weights[2][1]``)."""


SATURATION = sp.Integer(4)
ZERO = sp.Integer(0)
MAX_VALUE = sp.Integer(1000)


@dataclass(frozen=True)
class Good:
    """What a good instance is: the budget of ``[variants.good]``."""

    saturation: sp.Rational = SATURATION
    min_gradient: sp.Rational = ZERO
    max_digits: int = 6
    max_value: sp.Rational = MAX_VALUE
    max_draws: int = 100
    allow: tuple[str, ...] = ()


@dataclass(frozen=True)
class Variation:
    """A spec's ``[variants]``: what varies and what a good instance is."""

    vary: tuple[Range, ...]
    good: Good
    qr: bool = False
    """Whether a variant's first page has a QR code (TeX computes it: a quarter of a second a sheet)."""


def read_variation(
    reader: FieldReader, value: object, root: Mapping[str, object], kinds: Mapping[str, PartKind[Any]]
) -> Variation:
    """``[variants]`` checked against the spec's own tables ``root``: every path names numbers that are
    givens, every range has a value to draw."""
    table = reader.table(["variants"], value, VARIANTS_KEYS)
    if "vary" not in table:
        raise reader.fail(["variants", "vary"], 'missing: the givens that vary, such as "parts[1].x" = { ... }')
    vary = table["vary"]
    if not isinstance(vary, dict):
        raise reader.fail(["variants", "vary"], f"expected a table of spec paths, found {kind_of(vary)}")
    if not vary:
        raise reader.fail(["variants", "vary"], "expected one or more givens that vary; found none")
    if len(vary) > MAX_VARIED:
        raise reader.fail(["variants", "vary"], f"at most {MAX_VARIED} givens vary; found {len(vary)}")
    ranges = [_range(reader, path, spec_range, root, kinds) for path, spec_range in vary.items()]
    seen: dict[str, str] = {}
    for r in ranges:
        for name in r.names:
            if name in seen:
                raise reader.fail(
                    ["variants", "vary", f'"{r.path}"'], f"{name} is varied twice (also by {shown(seen[name])})"
                )
            seen[name] = r.path
    good = _good(reader, table.get("good", {}))
    qr = reader.boolean(["variants", "qr"], table["qr"]) if "qr" in table else False
    return Variation(tuple(ranges), good, qr)


def _range(
    reader: FieldReader,
    path: str,
    value: object,
    root: Mapping[str, object],
    kinds: Mapping[str, PartKind[Any]],
) -> Range:
    where: list[str | int] = ["variants", "vary", f'"{path}"']
    leaves, names = _leaves(reader, where, path, root, kinds)
    table = reader.table(where, value, RANGE_KEYS)
    typed = [table[k] for k in ("from", "to", "step") if k in table] + list(_listed(table.get("values")))
    decimal = any(isinstance(v, Decimal) or (isinstance(v, str) and "." in v) for v in typed)
    if "values" in table:
        for key in ("from", "to", "step"):
            if key in table:
                raise reader.fail([*where, key], "give values, or a range from … to …, not both")
        listed = table["values"]
        if not isinstance(listed, list) or not listed:
            raise reader.fail([*where, "values"], f"expected a non-empty list of numbers, found {kind_of(listed)}")
        reader.most([*where, "values"], listed, MAX_CHOICES, "values")
        values = [_rational(reader, [*where, f"values[{i}]"], v) for i, v in enumerate(listed, 1)]
    else:
        for key in ("from", "to"):
            if key not in table:
                raise reader.fail([*where, key], "missing: a range needs from and to (or give values = [...])")
        low = _rational(reader, [*where, "from"], table["from"])
        high = _rational(reader, [*where, "to"], table["to"])
        step = _rational(reader, [*where, "step"], table.get("step", 1))
        if step <= 0:
            raise reader.fail([*where, "step"], f"expected a positive step, found {step}")
        if high < low:
            raise reader.fail([*where, "to"], f"the range ends below its start ({high} < {low})")
        count = int(sp.floor((high - low) / step)) + 1
        if count > MAX_CHOICES:
            raise reader.fail([*where, "step"], f"at most {MAX_CHOICES} values in a range; this one has {count}")
        values = [low + k * step for k in range(count)]
    excluded: set[sp.Rational] = set()
    if "exclude" in table:
        listed = table["exclude"]
        if not isinstance(listed, list) or not listed:
            raise reader.fail([*where, "exclude"], f"expected a non-empty list of numbers, found {kind_of(listed)}")
        reader.most([*where, "exclude"], listed, MAX_EXCLUDED, "values")
        excluded = {_rational(reader, [*where, f"exclude[{i}]"], v) for i, v in enumerate(listed, 1)}
    kept = tuple(v for v in values if v not in excluded)
    if not kept:
        raise reader.fail([*where, "exclude"], "excludes every value: nothing is left to draw")
    return Range(path, kept, decimal, tuple(leaves), tuple(names))


def _listed(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _rational(reader: FieldReader, where: list[str | int], value: object) -> sp.Rational:
    try:
        return parse_exact(value)
    except NumberError as error:
        raise reader.fail(where, f"{error} (a varied value is a rational number)") from None


def _leaves(
    reader: FieldReader,
    where: list[str | int],
    path: str,
    root: Mapping[str, object],
    kinds: Mapping[str, PartKind[Any]],
) -> tuple[list[tuple[str | int, ...]], list[str]]:
    """The numbers ``path`` names in the spec's tables (each leaf's location and its own path):
    one given, or every number of a vector, matrix or table of givens."""
    segments = path.split(".")
    steps: list[str | int] = []
    for segment in segments:
        match = _SEGMENT.fullmatch(segment.strip())
        if match is None:
            raise reader.fail(where, f'expected a spec path such as "network.layers[1].weights"; found {shown(path)}')
        steps.append(match.group(1))
        steps += [int(i) - 1 for i in re.findall(r"\[(\d+)\]", match.group(2))]
    shape = _shape(steps, root, kinds)
    if shape is None:
        raise reader.fail(
            where, "only the givens of network.layers[n] and parts[n] vary (weights, biases, x, y, rates, …)"
        )
    if shape.tag not in VARIED_TAGS or any(s in STRUCTURE for s in steps if isinstance(s, str)):
        raise reader.fail(where, f"{shown(path)} is not a given number that can vary (it takes {shape.doc})")
    node: object = root
    walked: list[str | int] = []
    for step in steps:
        found_dict = isinstance(step, str) and isinstance(node, dict) and step in node
        if found_dict or (isinstance(step, int) and isinstance(node, list) and step < len(node)):
            node = node[step]  # type: ignore[index]
        else:
            found = _spec_path(walked)
            raise reader.fail(
                where,
                f"the spec has no {shown(_spec_path([*walked, step]))}"
                + (f" ({found} has no such entry)" if found else ""),
            )
        walked.append(step)
    leaves: list[tuple[str | int, ...]] = []
    _collect(node, tuple(steps), leaves)
    if not leaves:
        raise reader.fail(where, f"{shown(path)} holds no number to vary")
    for leaf in leaves:
        number = _at(root, leaf)
        try:
            parse_exact(number)
        except NumberError:
            raise reader.fail(
                where, f"{_spec_path(list(leaf))} is {shown(number)}, not a rational number that can vary"
            ) from None
    return leaves, [_spec_path(list(leaf)) for leaf in leaves]


def _shape(steps: list[str | int], root: Mapping[str, object], kinds: Mapping[str, PartKind[Any]]) -> Shape | None:
    """The shape of the key a path leads into: a layer's key, or a part's (its kind's own or a common one)."""
    from derive.exercise.reader import LAYER_KEYS  # the reader reads [variants]: imported when it does

    if len(steps) >= 4 and steps[:2] == ["network", "layers"] and isinstance(steps[2], int):
        return LAYER_KEYS.get(str(steps[3]))
    if len(steps) >= 3 and steps[0] == "parts" and isinstance(steps[1], int) and isinstance(steps[2], str):
        parts = root.get("parts")
        part = parts[steps[1]] if isinstance(parts, list) and steps[1] < len(parts) else None
        kind = kinds.get(str(part.get("kind"))) if isinstance(part, dict) else None
        own = kind.keys if kind is not None else {}
        return own.get(steps[2]) or COMMON.get(steps[2])
    return None


def _collect(node: object, at: tuple[str | int, ...], leaves: list[tuple[str | int, ...]]) -> None:
    if isinstance(node, dict):
        for key, item in node.items():
            if key not in STRUCTURE and key != "name":
                _collect(item, (*at, key), leaves)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _collect(item, (*at, i), leaves)
    elif isinstance(node, int | Decimal | str) and not isinstance(node, bool):
        leaves.append(at)


def _at(root: object, leaf: tuple[str | int, ...]) -> object:
    node = root
    for step in leaf:
        node = node[step]  # type: ignore[index]
    return node


def _spec_path(steps: list[str | int]) -> str:
    """Keys and 0-based indices as errors name the field: ``network.layers[1].weights[2][1]``."""
    text = ""
    for step in steps:
        text += f"[{step + 1}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def _good(reader: FieldReader, value: object) -> Good:
    where: list[str | int] = ["variants", "good"]
    table = reader.table(where, value, GOOD_KEYS)
    fields: dict[str, Any] = {}
    for key in ("saturation", "max_value"):
        if key in table:
            fields[key] = reader.positive([*where, key], table[key])
            if not fields[key].is_Rational:
                raise reader.fail([*where, key], f"expected a rational number, found {table[key]}")
    if "min_gradient" in table:
        fields["min_gradient"] = _rational(reader, [*where, "min_gradient"], table["min_gradient"])
        if fields["min_gradient"] < 0:
            raise reader.fail([*where, "min_gradient"], f"expected 0 or more, found {fields['min_gradient']}")
    if "max_digits" in table:
        fields["max_digits"] = reader.integer([*where, "max_digits"], table["max_digits"], 1, 40)
    if "max_draws" in table:
        fields["max_draws"] = reader.integer([*where, "max_draws"], table["max_draws"], 1, MAX_DRAWS)
    if "allow" in table:
        allowed = table["allow"]
        if not isinstance(allowed, list):
            raise reader.fail(
                [*where, "allow"], f"expected a list of checks ({', '.join(CHECKS)}), found {kind_of(allowed)}"
            )
        for item in allowed:
            if item not in CHECKS:
                found = shown(item) if isinstance(item, str) else kind_of(item)
                raise reader.fail([*where, "allow"], f"unknown check {found}; valid: {', '.join(CHECKS)}")
        fields["allow"] = tuple(dict.fromkeys(allowed))  # type: ignore[arg-type]
    return Good(**fields)


def drawn_data(root: Mapping[str, object], values: Mapping[tuple[str | int, ...], object]) -> dict[str, Any]:
    """The spec's tables with each leaf of ``values`` set (as TOML would give it) and no ``[variants]``."""
    data = copy.deepcopy(dict(root))
    data.pop("variants", None)
    for leaf, value in values.items():
        node: Any = data
        for step in leaf[:-1]:
            node = node[step]
        node[leaf[-1]] = value
    return data


def typed(value: sp.Rational, decimal: bool) -> int | Decimal | str:
    """``value`` as a spec types it: a whole number, a decimal where the range was typed so and the
    value has a short decimal, else "p/q"."""
    if value.is_Integer:
        return int(value)
    q = int(value.q)
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    if decimal and q == 1:
        return Decimal(int(value.p)) / Decimal(int(value.q))  # exact: the denominator divides a power of 10
    return f"{value.p}/{value.q}"
