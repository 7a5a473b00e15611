"""Reading one field of a spec: numbers, vectors, matrices, names from a catalogue; each bad value
is one SpecError naming the field and its TOML line."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

import sympy as sp

from derive.catalog.activations import ACTIVATIONS, Activation
from derive.catalog.losses import LOSSES, REDUCTIONS, Loss, averaged, custom_loss, summed
from derive.catalog.optimizers import OPTIMIZERS, Optimizer
from derive.catalog.parsing import FormulaError
from derive.errors import SpecError
from derive.exercise.closed import bounded, closed_form, is_closed
from derive.exercise.model import Matrix, Vector
from derive.exercise.shapes import Shape, choice
from derive.exercise.text import problem
from derive.terms.numbers import NumberError, parse_exact

MAX_WIDTH = 10_000
"""Most inputs of a network, units of a layer and entries of a list of numbers; a sheet shows 200
parameters, the library (derive.solve) derives wider networks."""
LOSS_KEYS: Mapping[str, Shape] = {
    "name": choice((*LOSSES, "custom"), 'the loss; "custom" takes a formula in yhat and y'),
    "reduction": choice(REDUCTIONS, 'how the outputs\' losses combine: "sum" (default) or "mean"'),
    "formula": Shape("text", 'a custom loss\'s formula of one output, in yhat and y, such as "(yhat - y)^2"'),
}
"""[loss]: every key, with what it takes."""


class FieldReader:
    """The parsed TOML's fields, read and checked one at a time; every error names its field and line."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source
        self.categorical = False
        """Whether the loss is categorical cross-entropy (its targets may be a class index)."""
        self.typed_decimals: set[sp.Rational] = set()
        """The numbers typed as decimals (0.01, not "1/100"): the sheets write them as typed."""
        self.typed_fractions: set[sp.Rational] = set()
        """The numbers typed as fractions ("1/2"): where one is typed both ways, it stays a fraction."""
        self.closed_forms: dict[sp.Expr, str] = {}
        """The irrational numbers typed as closed forms ("sqrt(2)/2"), with what was typed."""

    def fail(self, path: Sequence[str | int], message: str) -> SpecError:
        return SpecError(field_path(path), message, line=self.locate(path), source=self.source)

    def locate(self, path: Sequence[str | int]) -> int | None:
        """Best-effort TOML line of ``path``: the table header, then the key below it.

        The header is the names before the first number (``[[parts]]`` number 3 of
        ``parts[3].tied[1]``), the key the first name after it: an error inside an inline table
        or a list (``activation = { formula = ... }``, ``x = [...]``) is on its key's line. A
        path without a number is a ``[table]`` and a key in it.
        """
        names = [str(p).partition("[")[0] for p in path if isinstance(p, str)]  # "x[2]" is on x's line
        counts = [p for p in path if isinstance(p, int)]
        if counts:
            first = path.index(counts[0])
            header_names = names[: sum(1 for p in path[:first] if isinstance(p, str))]
            after = names[len(header_names) :]
            key = after[0] if after else None
        else:
            header_names, key = names[:-1], (names[-1] if names else None)
        header_name = ".".join(header_names)
        start = 0
        if header_name:
            wanted = counts[0] if counts else 1
            seen = 0
            pattern = re.compile(r"^\s*\[\[?\s*" + re.escape(header_name) + r"\s*\]\]?\s*(#.*)?$")
            for number, line in enumerate(self.lines):
                if pattern.match(line):
                    seen += 1
                    if seen == wanted:
                        start = number
                        break
            else:
                return None
            if key is None:
                return start + 1
        if key is None:
            return None
        key_pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        for number in range(start + (1 if header_name else 0), len(self.lines)):
            line = self.lines[number]
            if number > start and re.match(r"^\s*\[", line) and header_name:
                break
            if key_pattern.match(line):
                return number + 1
        return start + 1 if header_name else None

    def table(self, path: Sequence[str | int], value: object, allowed: Collection[str]) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a table, found {kind_of(value)}")
        for key in value:
            if key not in allowed:
                long = len(key) > 60  # a megabyte of key is neither a field name nor worth comparing
                hint = [] if long else difflib.get_close_matches(key, allowed, n=1)
                did_you_mean = f" (did you mean '{hint[0]}'?)" if hint else ""
                named = f"{key[:40]}…" if long else key
                raise self.fail([*path, named], f"unknown key{did_you_mean}; allowed here: {', '.join(allowed)}")
        return value

    def number(self, path: Sequence[str | int], value: object) -> sp.Expr:
        try:
            if isinstance(value, sp.Expr):  # a value read before, checked again (a rate of a sweep)
                return bounded(value, str(value))
            if isinstance(value, str) and is_closed(value):
                # "sqrt(2)/2": exact, and kept (with its text, which the float engine reads on its own)
                closed = closed_form(value)
                if not isinstance(closed, sp.Rational):
                    self.closed_forms.setdefault(closed, value.strip())
                return closed
            number = parse_exact(value)
        except NumberError as error:  # its size too: numbers.MAGNITUDE keeps them well inside float64
            raise self.fail(path, str(error)) from None
        if isinstance(value, str) and "/" in value:
            self.typed_fractions.add(number)
        elif isinstance(value, Decimal) or (isinstance(value, str) and any(c in value for c in ".eE")):
            self.typed_decimals.add(number)
        return number

    def vector(self, path: Sequence[str | int], value: object, *, scalar_ok: bool = False) -> Vector:
        if scalar_ok and not isinstance(value, list):
            return (self.number(path, value),)
        if not isinstance(value, list) or not value:
            raise self.fail(path, f"expected a non-empty list of numbers, found {kind_of(value)}")
        self.most(path, value, MAX_WIDTH, "numbers")
        return tuple(self.number([*path[:-1], f"{path[-1]}[{i}]"], v) for i, v in enumerate(value, 1))

    def matrix(self, path: Sequence[str | int], value: object) -> Matrix:
        if not isinstance(value, list) or not value or not all(isinstance(row, list) for row in value):
            raise self.fail(path, f"expected a matrix (a list of rows), found {kind_of(value)}")
        self.most(path, value, MAX_WIDTH, "rows")
        rows = tuple(self.vector([*path[:-1], f"{path[-1]}[{i}]"], row) for i, row in enumerate(value, 1))
        if len({len(row) for row in rows}) != 1:
            lengths = ", ".join(str(len(row)) for row in rows)
            raise self.fail(path, f"rows must have equal length, found row lengths {lengths}")
        return rows

    def most(self, path: Sequence[str | int], value: list[object], limit: int, what: str) -> None:
        """Refuse a list longer than ``limit`` before reading any of its items."""
        if len(value) > limit:
            raise self.fail(path, f"at most {limit} {what}; found {len(value)}")

    def integer(self, path: Sequence[str | int], value: object, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"expected a whole number from {low} to {high}, found {kind_of(value)}")
        if not low <= value <= high:
            raise self.fail(path, f"expected a whole number from {low} to {high}, found {value}")
        return value

    def text(self, path: Sequence[str | int], value: object) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, found {kind_of(value)}")
        trouble = problem(value)
        if trouble is not None:
            raise self.fail(path, trouble)
        return value

    def name(self, path: Sequence[str | int], value: object, catalogue: Mapping[str, object], what: str) -> str:
        if not isinstance(value, str) or value not in catalogue:
            found = shown(value) if isinstance(value, str) else kind_of(value)
            raise self.fail(path, f"unknown {what} {found}; valid: {', '.join(catalogue)}")
        return value

    def activation(self, path: Sequence[str | int], value: object) -> Activation:
        if isinstance(value, dict):
            given = dict(value)
            if "name" not in given:
                raise self.fail(path, "an activation table needs a 'name'")
            name = self.name([*path, "name"], given.pop("name"), ACTIVATIONS, "activation")
            entry = ACTIVATIONS[name]
            self.table(path, given, tuple(entry.params))
            for key in entry.formulas:
                if key not in given:
                    raise self.fail([*path, key], f"missing: a '{name}' activation needs a formula in z")
            params: dict[str, sp.Rational | str] = {
                k: self.formula_text([*path, k], v) if k in entry.formulas else self.number([*path, k], v)
                for k, v in given.items()
            }
            if name == "leaky_relu" and not 0 < params.get("slope", 1) < 1:  # type: ignore[operator]
                raise self.fail(
                    [*path, "slope"], f"a leaky ReLU's slope must lie strictly between 0 and 1; found {params['slope']}"
                )
            where = {"field": field_path([*path, "formula"])} if entry.formulas else {}  # named where it fails
            try:
                return entry.build(**{**entry.params, **params}, **where)
            except FormulaError as error:
                raise self.fail([*path, "formula"], str(error)) from None
        name = self.name(path, value, ACTIVATIONS, "activation")
        entry = ACTIVATIONS[name]
        if entry.formulas:
            raise self.fail(path, f'a \'{name}\' activation is a table: {{ name = "{name}", formula = "..." }}')
        return entry.build(**entry.params)

    def formula_text(self, path: Sequence[str | int], value: object) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a formula as a string, found {kind_of(value)}")
        return value

    def loss(self, value: object, outputs: int) -> Loss:
        table = self.table(["loss"], value, LOSS_KEYS)
        if "name" not in table:
            raise self.fail(["loss", "name"], f"missing; valid: {', '.join([*LOSSES, 'custom'])}")
        names = {**LOSSES, "custom": None}
        name = self.name(["loss", "name"], table["name"], names, "loss")
        if name == "custom":
            if "formula" not in table:
                raise self.fail(["loss", "formula"], "missing: a custom loss needs a formula in yhat and y")
            try:
                loss = custom_loss(self.formula_text(["loss", "formula"], table["formula"]))
            except FormulaError as error:
                raise self.fail(["loss", "formula"], str(error)) from None
        elif "formula" in table:
            raise self.fail(["loss", "formula"], f"only a custom loss takes a formula; '{name}' is built in")
        else:
            loss = LOSSES[name]
        reduction = self.name(
            ["loss", "reduction"], table.get("reduction", "sum"), dict.fromkeys(REDUCTIONS), "reduction"
        )
        return averaged(loss, outputs) if reduction == "mean" else summed(loss, outputs)

    def optimizer(self, path: list[str | int], value: object, default: str) -> tuple[Optimizer, dict[str, sp.Rational]]:
        """An optimizer by name, or a table with its name and any hyperparameters to override."""
        if not isinstance(value, dict):
            optimizer = OPTIMIZERS[self.name(path, value, OPTIMIZERS, "optimizer")]
            self.typed_decimals.update(optimizer.hyper.values())  # see below
            return optimizer, {}
        given = dict(value)
        name = self.name([*path, "name"], given.pop("name", default), OPTIMIZERS, "optimizer")
        optimizer = OPTIMIZERS[name]
        self.table(path, given, tuple(optimizer.hyper))
        hyper = {key: self.positive([*path, key], v) for key, v in given.items()}
        # The catalogue's defaults are decimals as an exercise states them (β_1 = 0.9, ε = 10^{-8}).
        self.typed_decimals.update(value for key, value in optimizer.hyper.items() if key not in hyper)
        for key in ("beta", "beta1", "beta2", "rho"):
            if key in hyper and not hyper[key] < 1:
                raise self.fail([*path, key], f"a decay rate below 1 is needed; found {hyper[key]}")
        return optimizer, hyper

    def boolean(self, path: Sequence[str | int], value: object) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"expected true or false, found {kind_of(value)}")
        return value

    def positive(self, path: Sequence[str | int], value: object) -> sp.Expr:
        number = self.number(path, value)
        if number == 0 and str(path[-1]).startswith("learning_rate"):
            raise self.fail(path, "a learning rate of 0 leaves every parameter unchanged; give a positive rate")
        if number <= 0:
            raise self.fail(path, f"expected a positive number, found {number}")
        return number


def field_path(path: Sequence[str | int]) -> str:
    text = ""
    for item in path:
        text += f"[{item}]" if isinstance(item, int) else (f".{item}" if text else item)
    return text


def kind_of(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, str):
        return f"the string {shown(value)}"
    return f"{type(value).__name__} {shown(value)}"


def shown(value: object) -> str:
    """``value`` as a message quotes it (a string in quotes), a long one cut short: a megabyte of
    text is no one-line message."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else f"{text[:50]}… ({len(text)} characters)"
