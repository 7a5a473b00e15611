"""A spec model checked as the reader checks a TOML spec: for a model built or changed in Python
(``dataclasses.replace``), and as a safety net at the end of the reader; one SpecError naming the field."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sympy as sp

from derive.catalog.activations import Activation
from derive.catalog.losses import Loss
from derive.errors import SpecError
from derive.exercise.closed import bounded, closed_form, is_closed
from derive.exercise.exercises import Exercises
from derive.exercise.fields import field_path, kind_of
from derive.exercise.kind import PartKind, without_network
from derive.exercise.marks import check_exam, check_part, every_or_none
from derive.exercise.model import (
    DECIMAL_MARKS,
    ENGINES,
    LANGUAGES,
    PAPERS,
    Layer,
    Network,
    Part,
    Sample,
    Sheet,
    Spec,
    Vector,
)
from derive.exercise.notation import Notation
from derive.exercise.text import problem
from derive.terms.numbers import NumberError, parse_exact, within_limits
from derive.terms.rounding import POLICIES

Path = Sequence[str | int]

NAME = re.compile(r"\w[\w .,+()-]{0,99}")
"""A spec's name, the stem of every output file: letters and digits (any script), spaces and a little
punctuation, no path separator and no leading dot or space, so that no output leaves its folder."""
_SHEET_TEXT = ("title", "course", "subtitle", "author", "date", "number")


def expect(value: object, types: type | tuple[type, ...], where: str, wanted: str) -> None:
    """A TypeError naming the argument ``where`` (``"solve: spec"``) unless ``value`` is of ``types``."""
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise TypeError(f"{where} must be {wanted}, not bool")
    if not isinstance(value, types):
        raise TypeError(f"{where} must be {wanted}, not {type(value).__name__}")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the output files' stem, or None when it can."""
    if NAME.fullmatch(name):
        return None
    return (
        f"{name!r} cannot name the output files: use letters, digits, spaces and - _ . , + ( ) "
        "(a letter or digit first), at most 100 characters"
    )


def check(spec: Spec, where: str = "spec") -> Spec:
    """``spec`` checked field by field as the reader checks a spec file, its numbers made exact SymPy
    rationals (a model built in Python may give ints, Fractions or strings such as "1/2"); raises
    TypeError when it is no :class:`Spec` (``where`` names the argument) and SpecError naming the field."""
    expect(spec, Spec, where, "a derive.Spec (from load_spec, parse_spec or load_example)")
    _name(spec.name)
    sheet = _sheet(spec.sheet)
    network = _network(spec.network) if spec.network is not None else None  # None: no part works on one
    if not isinstance(spec.loss, Loss):
        raise _fail(["loss"], f"expected a derive.catalog.losses.Loss, found {kind_of(spec.loss)}")
    parts = _parts(spec, network)
    check_exam(_fail, spec.exam)
    if not isinstance(spec.has_loss, bool):
        raise _fail(["has_loss"], f"expected true or false, found {kind_of(spec.has_loss)}")
    if not spec.has_loss and (needy := [p.number for p in parts if p.output is None and p.kind.network]):
        raise _fail(["loss"], f"missing: part {needy[0]} needs a loss (only parts with an output `of` do without)")
    if network is spec.network and _same(parts, spec.parts):
        return spec  # nothing to make exact: the very same model (what the reader made)
    return replace(spec, sheet=sheet, network=network, parts=parts)


def check_sheet(sheet: Exercises, where: str = "spec") -> Exercises:
    """A sheet of several exercises built in Python, checked as the reader checks a sheet file: its
    name, title block and ``[exam]``, then each exercise (an error names it: ``exercises[2].parts[3].x``)."""
    expect(sheet, Exercises, where, "a derive.Exercises (from load_sheet or parse_sheet) or a derive.Spec")
    _name(sheet.name)
    title_block = _sheet(sheet.sheet)
    check_exam(_fail, sheet.exam)
    if not isinstance(sheet.exercises, tuple):
        raise _fail(["exercises"], f"expected a tuple of derive.Spec, found {kind_of(sheet.exercises)}")
    if not sheet.exercises:
        raise _fail(["exercises"], "expected at least one exercise, found none")
    exercises = []
    for number, spec in enumerate(sheet.exercises, 1):
        try:
            exercises.append(check(spec, f"{where}: exercises[{number}]"))
        except SpecError as error:
            field = f"exercises[{number}]" + (f".{error.field}" if error.field else "")
            raise SpecError(field, error.message, line=error.line, source=error.source) from None
    return replace(sheet, sheet=title_block, exercises=tuple(exercises))


def _name(name: object) -> None:
    """The name of a spec or a sheet: a string that can name the output files."""
    if not isinstance(name, str):
        raise _fail(["name"], f"expected a string, found {kind_of(name)}")
    if (trouble := name_problem(name)) is not None:
        raise _fail(["name"], trouble)


def _fail(path: Path, message: str) -> SpecError:
    return SpecError(field_path(path), message)


def _exact(path: Path, value: object) -> sp.Expr:
    """An exact number, as the reader takes it; a float (0.1 is not 1/10) or a SymPy Float is refused.
    A real closed form (sympy.sqrt(2)/2, or "sqrt(2)/2" as text) is taken as the reader takes one."""
    if isinstance(value, sp.Rational):
        number = value
    elif isinstance(value, Fraction):
        number = sp.Rational(value.numerator, value.denominator)
    elif isinstance(value, sp.Expr) and not isinstance(value, sp.Float):
        try:
            return bounded(value, str(value))
        except NumberError as error:
            raise _fail(path, str(error)) from None
    elif isinstance(value, int | str | Decimal):
        try:
            if isinstance(value, str) and is_closed(value):
                return closed_form(value)
            number = parse_exact(value)
        except NumberError as error:
            raise _fail(path, str(error)) from None
    else:
        raise _fail(
            path,
            "expected an exact number (an int, a Fraction, a sympy.Rational, a real SymPy closed form or a string "
            f'such as "1/2" or "sqrt(2)/2"); found {kind_of(value)}',
        )
    try:
        return within_limits(number)
    except NumberError as error:
        raise _fail(path, str(error)) from None


def _vector(path: Path, value: object, length: int, what: str) -> Vector:
    """``length`` exact numbers; ``what`` says why that many (a shape mismatch names it)."""
    if not isinstance(value, tuple | list):
        raise _fail(path, f"expected a tuple of numbers, found {kind_of(value)}")
    if len(value) != length:
        raise _fail(path, f"shape mismatch: {what}; found {len(value)}")
    return tuple(_exact([*path[:-1], f"{path[-1]}[{i}]"], v) for i, v in enumerate(value, 1))


def _same(new: object, old: object) -> bool:
    """Whether ``new`` is ``old`` entry for entry (nothing was made exact on the way)."""
    if isinstance(new, tuple) and isinstance(old, tuple) and len(new) == len(old):
        return all(_same(a, b) for a, b in zip(new, old, strict=True))
    return new is old


def _whole(path: Path, value: object, low: int, high: int, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        found = value if isinstance(value, int) and not isinstance(value, bool) else kind_of(value)
        raise _fail(path, f"expected a whole number from {low} to {high}, found {found}")


def _flag(path: Path, value: object, optional: bool = False) -> None:
    if not (isinstance(value, bool) or (optional and value is None)):
        raise _fail(path, f"expected true or false, found {kind_of(value)}")


def _sheet(sheet: object) -> Sheet:
    if not isinstance(sheet, Sheet):
        raise _fail(["sheet"], f"expected a derive.exercise.model.Sheet, found {kind_of(sheet)}")
    for key in (*_SHEET_TEXT, "logo", "folder"):
        value = getattr(sheet, key)
        if not isinstance(value, str):
            raise _fail(["sheet", key], f"expected a string, found {kind_of(value)}")
        if key in _SHEET_TEXT and (trouble := problem(value)) is not None:
            raise _fail(["sheet", key], trouble)
    _flag(["sheet", "significant"], sheet.significant)
    _whole(["sheet", "decimals"], sheet.decimals, int(sheet.significant), 12)
    _flag(["sheet", "exact"], sheet.exact)
    choices = {
        "rounding": POLICIES,
        "language": tuple(LANGUAGES),
        "decimal_mark": ("", *DECIMAL_MARKS),
        "paper": PAPERS,
        "engine": ENGINES,
    }
    for key, valid in choices.items():
        if getattr(sheet, key) not in valid:
            found = getattr(sheet, key)
            raise _fail(["sheet", key], f"expected one of {', '.join(map(repr, valid))}; found {found!r}")
    if sheet.rounding == "student" and sheet.exact:
        raise _fail(["sheet", "exact"], 'rounding = "student" carries decimals: there are no exact forms to show')
    if sheet.logo and not os.path.isabs(sheet.logo):
        raise _fail(["sheet", "logo"], f"expected an absolute path (the reader makes it so); found {sheet.logo!r}")
    if not isinstance(sheet.notation, Notation):
        raise _fail(["notation"], f"expected a derive.exercise.notation.Notation, found {kind_of(sheet.notation)}")
    return sheet


def _network(network: object) -> Network:
    if not isinstance(network, Network):
        raise _fail(["network"], f"expected a derive.exercise.model.Network, found {kind_of(network)}")
    _whole(["network", "inputs"], network.inputs, 1, 10_000)
    if not isinstance(network.layers, tuple | list) or not network.layers:
        raise _fail(["network", "layers"], f"expected a non-empty tuple of layers, found {kind_of(network.layers)}")
    layers: list[Layer] = []
    for number, layer in enumerate(network.layers, 1):
        layers.append(_layer(["network", "layers", number], layer, number, network.inputs, layers))
    checked = Network(network.inputs, tuple(layers))
    for k in range(1, len(layers)):
        if not checked.readers(k):
            raise _fail(
                ["network", "layers", k + 1], f"layer {k}'s output is read by no later layer: add {k} to a reads"
            )
    return network if _same(checked.layers, network.layers) else checked


def _layer(path: list[str | int], layer: object, number: int, inputs: int, below: Sequence[Layer]) -> Layer:
    if not isinstance(layer, Layer):
        raise _fail(path, f"expected a derive.exercise.model.Layer, found {kind_of(layer)}")
    reads = layer.reads
    if not isinstance(reads, tuple | list) or any(
        isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < number for k in reads
    ):
        raise _fail([*path, "reads"], f"expected 0 (the input x) or layers from 1 to {number - 1}; found {reads!r}")
    if len(set(reads)) != len(reads):
        raise _fail([*path, "reads"], f"a source is read twice in {reads!r}")
    sources = tuple(reads) or (number - 1,)
    width = sum(inputs if k == 0 else below[k - 1].shape[0] for k in sources)
    weights = layer.weights
    if not isinstance(weights, tuple | list) or not weights or not all(isinstance(r, tuple | list) for r in weights):
        raise _fail([*path, "weights"], f"expected a matrix (a tuple of rows), found {kind_of(weights)}")
    reading = f"layer {number} reads {width} values, so W needs {width} columns"
    rows = tuple(_vector([*path, f"weights[{j}]"], row, width, reading) for j, row in enumerate(weights, 1))
    for flag in ("has_bias", "shared_bias"):
        _flag([*path, flag], getattr(layer, flag))
    bias = _vector([*path, "bias"], layer.bias, len(rows), f"W is {len(rows)}x{width}, so b needs {len(rows)} entries")
    if layer.shared_bias and len(set(bias)) > 1:
        raise _fail([*path, "bias"], "a shared bias is one number for every unit; found different ones")
    if not layer.has_bias and any(bias):
        raise _fail([*path, "bias"], "a layer without a bias (has_bias false) adds 0 to every unit")
    if not isinstance(layer.activation, Activation):
        raise _fail([*path, "activation"], f"expected a derive.catalog Activation, found {kind_of(layer.activation)}")
    if _same(rows, layer.weights) and _same(bias, layer.bias) and isinstance(reads, tuple):
        return layer
    return replace(layer, weights=rows, bias=bias, reads=tuple(reads))


def _parts(spec: Spec, network: Network | None) -> tuple[Part[Any], ...]:
    if not isinstance(spec.parts, tuple | list) or not spec.parts:
        raise _fail(["parts"], f"expected a non-empty tuple of parts, found {kind_of(spec.parts)}")
    parts: list[Part[Any]] = []
    for number, part in enumerate(spec.parts, 1):
        parts.append(_part(["parts", number], part, number, spec, network, parts))
    every_or_none(_fail, parts)
    return tuple(parts)


def _part(
    path: list[str | int], part: object, number: int, spec: Spec, network: Network | None, earlier: list[Part[Any]]
) -> Part[Any]:
    if not isinstance(part, Part):
        raise _fail(path, f"expected a derive.exercise.model.Part, found {kind_of(part)}")
    if part.number != number:
        raise _fail([*path, "number"], f"parts are numbered 1, 2, … in order: expected {number}, found {part.number!r}")
    kind = part.kind
    if not isinstance(kind, PartKind):
        raise _fail([*path, "kind"], f"expected a part kind (derive.kinds.KINDS), found {kind_of(kind)}")
    if not isinstance(part.title, str):
        raise _fail([*path, "title"], f"expected a string, found {kind_of(part.title)}")
    if (trouble := problem(part.title)) is not None:
        raise _fail([*path, "title"], trouble)
    _whole([*path, "decimals"], part.decimals, 0, 12, optional=True)
    _flag([*path, "exact"], part.exact, optional=True)
    check_part(_fail, path, part)
    if not kind.network:  # its own parameters only: no sample, no output of a network
        for key, value in (("x", part.sample), ("use_sample_of", part.sample_of), ("of", part.output)):
            if value is not None:
                raise _fail([*path, key], f"a part of kind '{kind.name}' works on no network and takes no {key}")
        return part
    if network is None:
        raise _fail([*path, "kind"], without_network(kind))
    _whole([*path, "of"], part.output, 1, network.outputs, optional=True)
    if kind.one_output and network.outputs != 1:
        raise _fail([*path, "kind"], f"a part of kind '{kind.name}' needs a network with one output")
    if spec.sheet.rounding == "student":
        if not kind.student:
            raise _fail([*path, "kind"], f'a part of kind "{kind.name}" needs exact values, not rounding = "student"')
        for key in ("decimals", "exact"):
            if getattr(part, key) is not None:
                raise _fail([*path, key], 'with rounding = "student" every part carries the sheet\'s decimals')
    sample = _sample(path, part, kind, spec, network, earlier)
    return part if sample is part.sample else replace(part, sample=sample)


def _sample(
    path: list[str | int], part: Part[Any], kind: PartKind[Any], spec: Spec, network: Network, earlier: list[Part[Any]]
) -> Sample | None:
    """The part's input sample, checked against the network and the part it says it shares one with."""
    sample, shared = part.sample, part.sample_of
    if kind.sample == "none" and (sample is not None or shared is not None):
        raise _fail([*path, "x"], f"a part of kind '{kind.name}' takes no input sample")
    if shared is not None:
        if not earlier:
            raise _fail([*path, "use_sample_of"], "part 1 has no earlier part to take its sample from")
        _whole([*path, "use_sample_of"], shared, 1, len(earlier))
        if earlier[shared - 1].sample is None:
            raise _fail([*path, "use_sample_of"], f"part {shared} has no input sample to share")
        if sample != earlier[shared - 1].sample:
            raise _fail([*path, "use_sample_of"], f"the part's sample is not part {shared}'s, which it says it uses")
    if sample is None:
        if kind.sample == "required":
            raise _fail([*path, "x"], f"missing: a part of kind '{kind.name}' needs an input sample")
        return None
    if not isinstance(sample, Sample):
        raise _fail([*path, "x"], f"expected a derive.exercise.model.Sample, found {kind_of(sample)}")
    x = _vector([*path, "x"], sample.x, network.inputs, f"the network takes {network.inputs} inputs")
    if part.output is not None and not sample.y:
        return sample if _same(x, sample.x) else Sample(x, ())
    if part.output is not None and shared is None:  # a shared sample may bring a y it does not use
        raise _fail([*path, "y"], "a part that differentiates an output (of) has no loss and takes no y")
    y = _vector([*path, "y"], sample.y, network.outputs, f"the network has {network.outputs} outputs")
    if spec.loss.name == "categorical_cross_entropy" and (any(v < 0 for v in y) or sum(y) != 1):
        raise _fail(
            [*path, "y"], f"targets for cross-entropy are a distribution (≥ 0, summing to 1); found sum {sum(y)}"
        )
    return sample if _same((x, y), (sample.x, sample.y)) else Sample(x, y)
