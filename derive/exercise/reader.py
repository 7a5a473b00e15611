"""The exercise spec: TOML in, a validated frozen model out, or one SpecError naming the field."""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import sympy as sp

from derive.catalog.losses import LOSSES
from derive.errors import SpecError
from derive.exercise.check import check, expect, name_problem
from derive.exercise.fields import MAX_WIDTH, kind_of, shown
from derive.exercise.kind import PartKind
from derive.exercise.letters import SHARED, clashes
from derive.exercise.marks import every_or_none, read_exam
from derive.exercise.model import DECIMAL_MARKS, ENGINES, LANGUAGES, PAPERS, Layer, Network, Part, Sheet, Spec
from derive.exercise.notation import NAMED, UNIT_LETTERS, Notation, name_latex
from derive.exercise.parts import MAX_PARTS, PartReader
from derive.exercise.shapes import Shape, choice, whole
from derive.exercise.variation import read_variation
from derive.terms.numbers import MAX_DIGITS
from derive.terms.rounding import POLICIES

Kinds = Mapping[str, PartKind[Any]]
"""The part kinds a spec may use, by name (:data:`derive.kinds.KINDS`)."""


MAX_SPEC_BYTES = 1_000_000
"""Largest spec file read (the longest example has 2 KB)."""
MAX_LAYERS = 200
"""Most layers a network has: 200 layers of one unit without a bias are a sheet's 200 parameters."""
MAX_NESTING = 50
"""Where a TOML spec nested deeper than tomllib's recursion allows is reported: the first line at
which arrays and inline tables are open this many levels deep (a spec needs 3)."""


def load_spec(path: str | Path, kinds: Kinds) -> Spec:
    """Read and validate a spec file (its parts of the ``kinds`` given); raises :class:`SpecError`
    naming the field on bad input."""
    text, folder = read_file(path)
    path = Path(path)
    return parse_spec(text, kinds, name=path.stem, source=str(path), folder=folder)


def read_file(path: str | Path) -> tuple[str, Path]:
    """A spec file's text and its folder (resolved), read only if it is a regular file of bounded size
    whose stem can name the output files; raises :class:`SpecError` otherwise."""
    expect(path, (str, os.PathLike), "load_spec: path", "a file path (str or Path)")
    path = Path(path)
    if (trouble := name_problem(path.stem)) is not None:  # checked before reading: the stem names the outputs
        raise SpecError("", f"{trouble}; rename the spec file", source=str(path))
    try:
        # A FIFO would block and /dev/zero never end: only a regular file of bounded size is read.
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise SpecError("", "cannot read the spec: it is not a regular file", source=str(path))
        if info.st_size > MAX_SPEC_BYTES:
            size = f"the spec has {info.st_size} bytes, more than a spec has (at most {MAX_SPEC_BYTES})"
            raise SpecError("", size, source=str(path))
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors) is no statement
        folder = path.resolve().parent  # where the spec lives: its logo comes from there
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise SpecError("", f"cannot read the spec: {reason}", source=str(path)) from None
    return text, folder


def example_path() -> Path:
    """Path of the built-in example spec (the seed sheet) shipped inside the package."""
    return Path(str(resources.files("derive") / "examples" / "backprop.toml"))


def load_example(kinds: Kinds) -> Spec:
    """The built-in example: the seed exercise sheet on backpropagation."""
    return load_spec(example_path(), kinds)


def parse_spec(
    text: str, kinds: Kinds, *, name: str = "exercise", source: str = "spec", folder: Path | None = None
) -> Spec:
    """Validate spec TOML ``text`` (its parts of the ``kinds`` given); ``name`` becomes the output file stem,
    ``folder`` is the spec file's folder (none for a spec given as text: see :attr:`Sheet.folder`)."""
    for argument, value in (("text", text), ("name", name), ("source", source)):
        expect(value, str, f"parse_spec: {argument}", "a str")
    if (trouble := name_problem(name)) is not None:
        # The name is the stem of every output file: a path in it would write outside the output folder.
        raise SpecError("name", trouble, source=source)
    data = toml_data(text, source)
    return _Reader(text, source, folder).spec(data, name, kinds)


def toml_data(text: str, source: str) -> dict[str, Any]:
    """The tables of spec TOML ``text``, or one SpecError giving the line of a syntax error."""
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"), parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        line = int(match.group(1)) if match else None
        raise SpecError("", f"TOML syntax error: {message}", line=line, source=source) from None
    except RecursionError:  # tomllib reads nested arrays and tables by recursion
        where = _deep_line(text)
        raise SpecError(
            "", "arrays or inline tables nested too deeply (a spec needs 3 levels)", line=where, source=source
        ) from None
    except ValueError as error:  # tomllib builds every integer: int() refuses one of more than 4300 digits
        long = re.search(r"\d[\d_]{4000,}", text)
        line = text.count("\n", 0, long.start()) + 1 if long else None
        digits = f"a whole number of thousands of digits; numbers have at most {MAX_DIGITS} digits"
        message = digits if long else str(error)
        raise SpecError("", message.splitlines()[0], line=line, source=source) from None
    return data


def _deep_line(text: str) -> int | None:
    """The first line where brackets and braces are open more than :data:`MAX_NESTING` deep (a
    bracket inside a string counts too: this only places the message)."""
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        for char in line:
            depth += (char in "[{") - (char in "]}")
            if depth > MAX_NESTING:
                return number
    return None


def read_data(
    data: dict[str, object], kinds: Kinds, *, name: str = "exercise", source: str = "spec", folder: Path | None = None
) -> Spec:
    """Validate a spec given as the tables its TOML would be read into (what ``tomllib`` returns);
    every error names the field, as for a spec file (without a line: there is no text). ``folder``:
    the spec file's, where the tables came from one (a variant's: its logo comes from there)."""
    if (trouble := name_problem(name)) is not None:
        raise SpecError("name", trouble, source=source)
    return _Reader("", source, folder).spec(data, name, kinds)


ROOT_KEYS = ("sheet", "notation", "network", "loss", "parts", "exam", "variants")
"""The spec's tables: [sheet], [notation], [network] (its [[network.layers]]), [loss], [[parts]], [exam],
[variants] (what varies from student to student: :mod:`derive.exercise.variation`)."""
LOGO_TYPES = (".pdf", ".png", ".jpg", ".jpeg")
SHEET_KEYS: Mapping[str, Shape] = {
    "title": Shape("text", "the sheet's title"),
    "course": Shape("text", "the course, above the title"),
    "subtitle": Shape("text", "a line below the title"),
    "author": Shape("text", "who set the sheet"),
    "date": Shape("text", "the date, as written"),
    "number": Shape("text", "the sheet's number, as written"),
    "decimals": whole(0, 12, "places after the point (default 4)"),
    "significant": whole(1, 12, "significant figures instead of places"),
    "exact": Shape("flag", "show exact forms beside the decimals (default true)"),
    "rounding": choice(POLICIES, '"exact" (default), or "student": every value rounded as computed'),
    "language": choice(tuple(LANGUAGES), 'the sheet\'s language: "en" or "de"'),
    "decimal_mark": choice(DECIMAL_MARKS, "the decimal mark (default: the language's)"),
    "paper": choice(PAPERS, 'the paper size: "a4" (default) or "letter"'),
    "engine": choice(ENGINES, 'the TeX engine: "pdflatex" (default), "lualatex" or "xelatex"'),
    "logo": Shape("logo", f"an image ({', '.join(LOGO_TYPES)}) beside the title, relative to the spec"),
}
"""[sheet]: every key, with what it takes (:mod:`derive.schema` writes them for editors)."""
_SHEET_TEXT = tuple(key for key, shape in SHEET_KEYS.items() if shape.tag == "text")
NETWORK_KEYS: Mapping[str, Shape] = {
    "inputs": whole(1, MAX_WIDTH, "how many inputs x has (default: layer 1's columns)"),
    "layers": Shape("tables", "[[network.layers]] tables, from the input to the output: LAYER_KEYS"),
}
LAYER_KEYS: Mapping[str, Shape] = {
    "weights": Shape("matrix", "W: a row per unit, a column per input"),
    "bias": Shape("bias", 'b: a number per unit, one number, "none", or { shared = number }'),
    "activation": Shape("activation", "the activation, or a table { name = ..., its parameters }"),
    "reads": Shape("reads", 'what the layer reads, stacked: "x" and earlier layers (default: the one below)'),
}
_LAYER_KEYS = ("weights", "bias", "activation")
"""The keys every layer has (``reads`` is optional)."""
_NAME = re.compile(r"(hat )?[A-Za-z]{1,8}")
STYLES = {"matrix": None, "neuron": None, "through": None}
"""The notations: matrices with layer superscripts, numbered weights and named units, or the units
numbered through the network (inputs first) with each weight named by the two units it joins."""
ORDERS = {"to_from": None, "from_to": None}
"""w^{(l)}_{j,k}: to unit j from input k (W a row per unit), or from input j to unit k (a row per input)."""
NOTATION_KEYS: Mapping[str, Shape] = {
    **{
        base: Shape("name", f'the name written for {base}: letters, such as net or theta, or "hat o"') for base in NAMED
    },
    "bias_as_weight": Shape("flag", "write each bias as a weight w_{j,0} on a constant input 1"),
    "activation_derivative": Shape("flag", "the activation's derivative da/dz = f'(z) as its own line and answer"),
    "loss_per_output": Shape("flag", "the loss split per output, L = sum of L_o, and each output's share dL_o/da"),
    "error_term": Shape("name", 'the error term Err_j = -dL/dz_j written in place of delta_j, e.g. "Err"'),
    "style": choice(tuple(STYLES), '"matrix" (W^{(l)}, default), "neuron" (w_1, w_2, …) or "through" (w_14, z_4)'),
    "index_order": choice(tuple(ORDERS), '"to_from" (w_{j,k} to unit j from input k, default) or "from_to"'),
}
_TAKEN = {
    "e": "Euler's number",
    "f": "the activation",
    "g": "a gradient in the update rules",
    "m": "Adam's first moment",
    "v": "the velocity and Adam's second moment",
    "alpha": "the learning rate",
    "beta": "a decay rate",
    "rho": "RMSProp's decay rate",
    "epsilon": "Adam's epsilon",
    "varepsilon": "Adam's epsilon",
    "sigma": "the sigmoid",
    "ell": "one output's loss",
}
"""Letters every sheet may write for something else: a quantity named so would be ambiguous (θ, t, s
and p are refused only where a part writes them: :mod:`derive.exercise.letters`)."""


class _Reader(PartReader):
    """Walks the parsed TOML, validating as it goes; every error names its field and line."""

    def __init__(self, text: str, source: str, folder: Path | None) -> None:
        super().__init__(text, source)
        self.folder = folder
        self.shared: list[tuple[str, str]] = []
        """(quantity, name) of the names that take a letter only some parts write (θ, t, s, p)."""

    def spec(self, data: dict[str, object], name: str, kinds: Kinds) -> Spec:
        if "exercises" in data:  # a sheet of several exercises is read a level above (exercise.several)
            raise self.fail(
                ["exercises"], "a sheet of several exercises: load it with load_sheet (derive sheet builds it)"
            )
        root = self.table([], data, ROOT_KEYS)
        if "parts" not in root:
            raise self.fail(["parts"], "missing: the spec needs a [parts] section")
        sheet = self.sheet(root.get("sheet", {}))
        if "notation" in root:
            sheet = replace(sheet, notation=self.notation(root["notation"]))
            if sheet.notation.slopes and sheet.rounding == "student":
                raise self.fail(
                    ["notation", "activation_derivative"],
                    'not with rounding = "student": the float engine rounds δ = ∂L/∂a · f\'(z) as one value',
                )
            if sheet.notation.per_output and sheet.rounding == "student":
                raise self.fail(
                    ["notation", "loss_per_output"],
                    'not with rounding = "student": the float engine rounds the loss and ∂L/∂a as one value each',
                )
            if sheet.notation.error and sheet.rounding == "student":
                raise self.fail(
                    ["notation", "error_term"],
                    'not with rounding = "student": the float engine rounds δ = ∂L/∂a · f\'(z), not the error term',
                )
        # No [network] where no part works on one (a circuit; an optimizer step on given gradients):
        # a part that does says so when it is read.
        network = self.network(root["network"]) if "network" in root else None
        if network is not None:
            self.notation_fits(sheet.notation, network)
        elif sheet.notation.neuron:
            raise self.fail(["notation", "style"], "neuron style numbers a network's units: the spec has no [network]")
        if "loss" in root and network is None:
            raise self.fail(["loss"], "a loss is taken of a network's output: the spec needs a [network] section")
        # Without [loss] only parts that differentiate an output (of = "yhat") can be asked;
        # the stand-in below is never shown or used.
        loss = LOSSES["squared_error"]
        if network is not None and "loss" in root:
            loss = self.loss(root["loss"], network.outputs)
        if sheet.notation.per_output and network is not None:
            if network.outputs < 2:
                raise self.fail(["notation", "loss_per_output"], "the network has one output: its loss is not split")
            if loss.scale != 1:
                raise self.fail(
                    ["notation", "loss_per_output"], "the loss is a mean over the outputs: split only a sum (E = Σ E_o)"
                )
        self.categorical = loss.name == "categorical_cross_entropy"
        if self.categorical and network is not None and not network.layers[-1].activation.vector:
            raise self.fail(
                ["loss", "name"], "categorical cross-entropy needs a softmax output layer (a distribution ŷ)"
            )
        raw_parts = root["parts"]
        if not isinstance(raw_parts, list) or not raw_parts:
            raise self.fail(["parts"], f"expected one or more [[parts]] tables, found {kind_of(raw_parts)}")
        if len(raw_parts) > MAX_PARTS:
            raise self.fail(["parts", MAX_PARTS + 1], f"at most {MAX_PARTS} parts; found {len(raw_parts)}")
        parts: list[Part[Any]] = []
        for number, raw in enumerate(raw_parts, 1):
            parts.append(self.part(number, raw, network, parts, kinds))
            if sheet.notation.error and parts[-1].output is not None:
                raise self.fail(
                    ["parts", number, "of"],
                    "the error term Err = -∂E/∂net is the loss's: with [notation] error_term differentiate the loss",
                )
        if sheet.rounding == "student":
            self.student(parts, kinds)
        if "loss" not in root:
            for part in parts:
                if part.output is None and part.kind.network:
                    raise self.fail(
                        ["loss"],
                        f"missing: part {part.number} ({part.kind.name}) needs a [loss] section "
                        '(only gradients parts with of = "yhat" do without)',
                    )
        self.shared_letters(parts, sheet.notation)
        every_or_none(self.fail, parts)
        if "variants" in root:  # checked here as every section is; derive variants draws from it
            read_variation(self, root["variants"], root, kinds)
        sheet = replace(sheet, typed_decimals=frozenset(self.typed_decimals - self.typed_fractions))
        spec = Spec(
            name=name,
            sheet=sheet,
            network=network,
            loss=loss,
            parts=tuple(parts),
            has_loss="loss" in root,
            closed_forms=tuple(self.closed_forms.items()),
        )
        if "exam" in root:
            spec = replace(spec, exam=read_exam(self, root["exam"]))
        return check(spec)  # what the model promises, as for a model built in Python (a safety net here)

    def sheet(self, value: object) -> Sheet:
        table = self.table(["sheet"], value, SHEET_KEYS)
        fields: dict[str, object] = {k: self.text(["sheet", k], table[k]) for k in _SHEET_TEXT if k in table}
        if "decimals" in table:
            fields["decimals"] = self.integer(["sheet", "decimals"], table["decimals"], 0, 12)
        if "significant" in table:
            if "decimals" in table:
                raise self.fail(["sheet", "significant"], "give decimals (places) or significant (figures), not both")
            fields["decimals"] = self.integer(["sheet", "significant"], table["significant"], 1, 12)
            fields["significant"] = True
        if "exact" in table:
            fields["exact"] = self.boolean(["sheet", "exact"], table["exact"])
        if "rounding" in table:
            policies = dict.fromkeys(POLICIES)
            fields["rounding"] = self.name(["sheet", "rounding"], table["rounding"], policies, "rounding policy")
            if fields["rounding"] == "student":
                if fields.get("exact"):
                    raise self.fail(
                        ["sheet", "exact"], 'rounding = "student" carries decimals: there are no exact forms to show'
                    )
                fields["exact"] = False
        if "language" in table:
            fields["language"] = self.name(["sheet", "language"], table["language"], LANGUAGES, "language")
        if "decimal_mark" in table:
            mark = table["decimal_mark"]
            if mark not in DECIMAL_MARKS:
                raise self.fail(["sheet", "decimal_mark"], f'expected "." or ","; found {shown(mark)}')
            fields["decimal_mark"] = mark
        for key, valid in (("paper", PAPERS), ("engine", ENGINES)):
            if key in table:
                fields[key] = self.choice(["sheet", key], table[key], valid)
        if "logo" in table:
            fields["logo"] = self.logo(["sheet", "logo"], table["logo"])
        return Sheet(**fields, folder=str(self.folder or ""))  # type: ignore[arg-type]

    def notation(self, value: object) -> Notation:
        """``[notation]``: the sheet's own names for the network's quantities (z = "net", a = "out"),
        ``bias_as_weight``: each bias written as the weight w_{j,0} on a constant input 1,
        ``style``: "matrix" (W^{(l)}, z^{(l)}_j) or "neuron" (w_1, w_2, …; z_{h_1}), and
        ``index_order``: "to_from" (w_{j,k} from input k to unit j) or "from_to"."""
        table = self.table(["notation"], value, NOTATION_KEYS)
        as_weight = self.boolean(["notation", "bias_as_weight"], table.pop("bias_as_weight", False))
        slopes = self.boolean(["notation", "activation_derivative"], table.pop("activation_derivative", False))
        per_output = self.boolean(["notation", "loss_per_output"], table.pop("loss_per_output", False))
        style = self.name(["notation", "style"], table.pop("style", "matrix"), STYLES, "notation style")
        order = self.name(["notation", "index_order"], table.pop("index_order", "to_from"), ORDERS, "index order")
        if style != "matrix" and order == "from_to":
            numbered = "each weight has one number there (w_1, w_2, …)" if style == "neuron" else "w_14 is from 1 to 4"
            raise self.fail(
                ["notation", "index_order"], f'not with style = "{style}": {numbered}, no index pair to order'
            )
        if style == "through" and as_weight:
            raise self.fail(
                ["notation", "bias_as_weight"], 'not with style = "through": each bias is named by its unit there (b_4)'
            )
        renamed = []
        for base, name in table.items():
            path = ["notation", base]
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                found = shown(name) if isinstance(name, str) else kind_of(name)
                raise self.fail(path, f'expected a name of letters, as h, net, theta or "hat o"; found {found}')
            letters = name.rpartition(" ")[2]
            if letters in _TAKEN:
                raise self.fail(path, f"{name!r} is taken: the sheet writes {_TAKEN[letters]} with it")
            if style == "neuron" and letters in UNIT_LETTERS:
                raise self.fail(path, f'{name!r} is taken: with style = "neuron" it names the hidden or output units')
            if letters in SHARED:
                self.shared.append((base, name))  # free unless a part writes it (checked once the parts are read)
            renamed.append((base, name_latex(name)))
        error = dict(renamed).pop("error_term", "")
        if error and slopes:
            raise self.fail(
                ["notation", "activation_derivative"],
                "not with error_term: the error term is written with f'(z) in it, as the textbooks that use it do",
            )
        notation = Notation(
            tuple(item for item in renamed if item[0] != "error_term"),
            style != "matrix",
            order == "from_to",
            as_weight,
            slopes,
            through=style == "through",
            per_output=per_output,
            error=error,
        )
        written: dict[str, str] = {}
        for base in (*NAMED, *(("error_term",) if error else ())):
            other = written.setdefault(notation.names[base] if base in NAMED else error, base)
            if other != base:
                where = base if base in table else other
                raise self.fail(["notation", where], f"{base} and {other} would have the same name")
        return notation

    def notation_fits(self, notation: Notation, network: Network) -> None:
        """The notations that need a network of some shape: units numbered through the network need
        one path from the input up and a bias per unit; the error term needs scalar slopes f'(z)."""
        for number, layer in enumerate(network.layers, 1):
            if notation.through and layer.reads:
                raise self.fail(
                    ["notation", "style"],
                    f'not with skip connections (layer {number} reads {len(layer.reads)} sources): style = "through" '
                    "numbers each layer's units after the one below",
                )
            if notation.through and layer.shared_bias:
                raise self.fail(
                    ["notation", "style"],
                    f'layer {number} shares one bias: style = "through" names each bias by its unit (b_4)',
                )
            if notation.per_output and layer.reads:
                raise self.fail(
                    ["notation", "loss_per_output"],
                    f"not with skip connections (layer {number}): the shares are those of the layer below the outputs",
                )
            if notation.per_output and layer.activation.vector:
                raise self.fail(
                    ["notation", "loss_per_output"],
                    f"not with a softmax layer (layer {number}): every output's share depends on every unit",
                )
            if notation.error and layer.activation.vector:
                raise self.fail(
                    ["notation", "error_term"],
                    f"not with a softmax layer (layer {number}): its error goes through the Jacobian, not f'(z)",
                )

    def shared_letters(self, parts: Sequence[Part[Any]], notation: Notation) -> None:
        """A quantity named θ, t, s or p where a part writes that letter for something else: one line
        naming both."""
        for base, name in self.shared:
            clash = clashes(parts, name.rpartition(" ")[2], notation)
            if clash is not None:
                number, kind, what = clash
                raise self.fail(["notation", base], f"{name!r} is taken: part {number} ({kind}) writes {what} with it")

    def student(self, parts: Sequence[Part[Any]], kinds: Kinds) -> None:
        """The student policy rounds the numeric kinds; the others are statements about exact values."""
        for part in parts:
            path: list[str | int] = ["parts", part.number]
            if not part.kind.student:
                raise self.fail(
                    [*path, "kind"],
                    f'a part of kind "{part.kind.name}" needs exact values; with rounding = "student" the kinds are '
                    + ", ".join(name for name, kind in kinds.items() if kind.student),
                )
            for key in ("decimals", "exact"):
                if getattr(part, key) is not None:
                    raise self.fail([*path, key], 'with rounding = "student" every part carries the sheet\'s decimals')

    def choice(self, path: Sequence[str | int], value: object, valid: Sequence[str]) -> str:
        """One of ``valid`` (``paper``, ``engine``); a near miss ("A4", "luatex") is named in the error."""
        if isinstance(value, str) and value in valid:
            return value
        found = repr(value) if isinstance(value, str) else kind_of(value)
        hint = difflib.get_close_matches(value.lower(), valid, n=1) if isinstance(value, str) else []
        did_you_mean = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise self.fail(path, f"unknown {path[-1]} {found}{did_you_mean}; valid: {', '.join(valid)}")

    def logo(self, path: Sequence[str | int], value: object) -> str:
        """An image file's absolute path, relative to the spec's folder (or the working folder for a spec
        in text). The file is read, and checked, only when a sheet is built (:func:`derive.exercise.logo.logo_file`)."""
        name = self.text(path, value)
        if not name or Path(name).suffix.lower() not in LOGO_TYPES:
            raise self.fail(path, f"a logo must be one of {', '.join(LOGO_TYPES)}; found {name!r}")
        return str((self.folder or Path.cwd()) / name)  # symlinks resolved when read, where the folder is checked

    def network(self, value: object) -> Network:
        table = self.table(["network"], value, NETWORK_KEYS)
        raw_layers = table.get("layers")
        if not isinstance(raw_layers, list) or not raw_layers:
            raise self.fail(["network", "layers"], "expected one or more [[network.layers]] tables")
        if len(raw_layers) > MAX_LAYERS:
            raise self.fail(
                ["network", "layers", MAX_LAYERS + 1], f"at most {MAX_LAYERS} layers; found {len(raw_layers)}"
            )
        layers: list[Layer] = []
        width: int | None = None
        if "inputs" in table:
            width = self.integer(["network", "inputs"], table["inputs"], 1, MAX_WIDTH)
        inputs = width
        for number, raw in enumerate(raw_layers, 1):
            path: list[str | int] = ["network", "layers", number]
            layer_table = self.table(path, raw, LAYER_KEYS)
            for key in _LAYER_KEYS:
                if key not in layer_table:
                    raise self.fail([*path, key], "missing")
            weights = self.matrix([*path, "weights"], layer_table["weights"])
            rows, cols = len(weights), len(weights[0])
            reads: tuple[int, ...] = ()
            if "reads" in layer_table:
                if inputs is None:  # x's width is known from [network] inputs or layer 1
                    inputs = width = cols if number == 1 else None
                assert inputs is not None
                reads, width = self.reads([*path, "reads"], layer_table["reads"], number, inputs, layers)
            if width is not None and cols != width:
                source = "the input x" if number == 1 else f"layer {number - 1}'s {width} outputs"
                if reads:
                    source = " and ".join("x" if k == 0 else f"a{k}" for k in reads) + f" stacked ({width} values)"
                raise self.fail(
                    [*path, "weights"],
                    f"shape mismatch: layer {number} reads {source}, so W needs {width} columns; found {rows}x{cols}",
                )
            has_bias = layer_table["bias"] != "none"
            if (
                isinstance(layer_table["bias"], str)
                and has_bias
                and not re.fullmatch(r"[-+0-9./eE ]+", layer_table["bias"])
            ):
                found = layer_table["bias"]
                raise self.fail(
                    [*path, "bias"], f'expected numbers, or "none" for a layer without a bias; found {shown(found)}'
                )
            shared = isinstance(layer_table["bias"], dict)
            if shared:  # one number b^{(l)} for every unit
                given = self.table([*path, "bias"], layer_table["bias"], ("shared",))
                if "shared" not in given:
                    raise self.fail([*path, "bias", "shared"], "missing: the one bias every unit adds")
                bias = (self.number([*path, "bias", "shared"], given["shared"]),) * rows
            elif has_bias:
                bias = self.vector([*path, "bias"], layer_table["bias"], scalar_ok=True)
            else:  # z = W a: a bias of 0 that is not a parameter
                bias = tuple(sp.Integer(0) for _ in range(rows))
            if len(bias) != rows:
                raise self.fail(
                    [*path, "bias"], f"shape mismatch: W is {rows}x{cols}, so b needs {rows} entries; found {len(bias)}"
                )
            activation = self.activation([*path, "activation"], layer_table["activation"])
            layers.append(Layer(weights, bias, activation, has_bias, shared, reads))
            if inputs is None:
                inputs = cols
            width = rows
        assert inputs is not None
        network = Network(inputs=inputs, layers=tuple(layers))
        for k in range(1, len(layers)):
            if not network.readers(k):
                raise self.fail(
                    ["network", "layers", k + 1], f"layer {k}'s output is read by no later layer: add {k} to a reads"
                )
        return network

    def reads(
        self, path: list[str | int], value: object, number: int, inputs: int, below: Sequence[Layer]
    ) -> tuple[tuple[int, ...], int]:
        """A layer's sources (0 or "x" for the input, k for layer k's output) and their stacked width;
        empty when it reads just the layer below."""
        shape = f'expected a list of what layer {number} reads, such as ["x", {number - 1}]'
        if not isinstance(value, list) or not value:
            raise self.fail(path, shape)
        sources: list[int] = []
        for item in value:
            source = 0 if item == "x" else item
            if isinstance(source, bool) or not isinstance(source, int) or not 0 <= source < number:
                raise self.fail(path, f'{shape}: each is "x" or a layer from 1 to {number - 1}; found {shown(item)}')
            if source in sources:
                raise self.fail(path, f"{shown(item)} is read twice")
            sources.append(source)
        width = sum(inputs if k == 0 else below[k - 1].shape[0] for k in sources)
        return (() if sources == [number - 1] else tuple(sources)), width
