"""The exercise spec: TOML in, a validated frozen model out, or one SpecError naming the field."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path

import sympy as sp

from derive.catalog import (
    ACTIVATIONS,
    LOSSES,
    OPTIMIZERS,
    REDUCTIONS,
    Activation,
    Loss,
    Optimizer,
    averaged,
    custom_loss,
)
from derive.errors import SpecError
from derive.model import ONE, Layer, Matrix, Network, Part, Sample, Sheet, Spec, Vector
from derive.numbers import NumberError, parse_exact
from derive.parse import FormulaError
from derive.style import DECIMAL_MARKS, LANGUAGES
from derive.text import problem

LARGEST = sp.Integer(10) ** 300
"""Numbers beyond float64's range could not be verified independently."""

KINDS: Mapping[str, tuple[str, ...]] = {
    "forward": (),
    "show_that": ("yhat",),
    "gradients": ("wrt", "of"),
    "update": ("optimizer", "learning_rate", "wrt", "steps", "frozen", "tied"),
    "replace_activation": ("layer", "activation", "optimizer", "learning_rate"),
    "cross_entropy": ("p",),
    "learning_rates": ("learning_rates", "steps", "exact_steps", "optimizer"),
    "compare_activation": ("activation", "layers", "dead_x"),
    "compare_optimizer": ("optimizer", "learning_rate", "steps", "beta1", "beta2", "epsilon"),
    "mse_vs_ce": ("p", "target"),
    "extra_layer": ("after", "weights", "bias", "activation"),
    "batch": ("samples", "mode", "batch_reduction", "optimizer", "learning_rate", "wrt"),
}
"""Each task kind and the keys it takes besides ``kind``, ``title``, ``x``, ``y``, ``use_sample_of``."""

_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "show_that": ("yhat",),
    "update": ("learning_rate",),
    "replace_activation": ("layer", "activation", "learning_rate"),
    "learning_rates": ("learning_rates",),
    "compare_activation": ("activation",),
    "compare_optimizer": ("learning_rate",),
    "extra_layer": ("weights", "bias"),
    "batch": ("samples", "learning_rate"),
}
_NO_SAMPLE = ("mse_vs_ce", "batch")
"""Kinds that use no input at all."""
_OPTIONAL_SAMPLE = ("cross_entropy",)
"""Kinds whose sample is optional (without one, the part is about the loss alone)."""
DEFAULT_PROBABILITIES = ("0.01", "0.1", "0.5", "0.9", "0.99")
BATCH_MODES = ("batch", "per_sample")
"""A batch part's modes: one step with the batch gradient, or one step per sample in order."""
MAX_BATCH = 8


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; raises :class:`SpecError` naming the field on bad input."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise SpecError("", f"cannot read the spec: {reason}", source=str(path)) from None
    return parse_spec(text, name=path.stem, source=str(path))


def example_path() -> Path:
    """Path of the built-in example spec (the seed sheet) shipped inside the package."""
    return Path(str(resources.files("derive") / "examples" / "backprop.toml"))


def load_example() -> Spec:
    """The built-in example: the seed exercise sheet on backpropagation."""
    return load_spec(example_path())


def parse_spec(text: str, *, name: str = "exercise", source: str = "spec") -> Spec:
    """Validate spec TOML ``text``; ``name`` becomes the output file stem."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        line = int(match.group(1)) if match else None
        raise SpecError("", f"TOML syntax error: {message}", line=line, source=source) from None
    return _Reader(text, source).spec(data, name)


_ROOT_KEYS = ("sheet", "network", "loss", "parts")
_SHEET_KEYS = (
    "title",
    "course",
    "subtitle",
    "author",
    "date",
    "number",
    "decimals",
    "significant",
    "exact",
    "language",
    "decimal_mark",
    "logo",
)
_SHEET_TEXT = ("title", "course", "subtitle", "author", "date", "number")
_NETWORK_KEYS = ("inputs", "layers")
_LAYER_KEYS = ("weights", "bias", "activation")
_LAYER_OPTIONAL = ("reads",)
_PART_COMMON = ("kind", "title", "x", "y", "use_sample_of", "decimals", "exact")
LOGO_TYPES = (".pdf", ".png", ".jpg", ".jpeg")


class _Reader:
    """Walks the parsed TOML, validating as it goes; every error names its field and line."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source
        self.categorical = False
        """Whether the loss is categorical cross-entropy (its targets may be a class index)."""

    def fail(self, path: Sequence[str | int], message: str) -> SpecError:
        return SpecError(_field(path), message, line=self.locate(path), source=self.source)

    def locate(self, path: Sequence[str | int]) -> int | None:
        """Best-effort TOML line of ``path``: the table header, then the key below it."""
        tables = [str(p) for p in path if isinstance(p, str)]
        counts = [p for p in path if isinstance(p, int)]
        key = tables[-1] if path and isinstance(path[-1], str) else None
        header_name = ".".join(tables[:-1] if key else tables)
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

    def table(self, path: Sequence[str | int], value: object, allowed: Sequence[str]) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a table, found {_kind(value)}")
        for key in value:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                did_you_mean = f" (did you mean '{hint[0]}'?)" if hint else ""
                raise self.fail([*path, key], f"unknown key{did_you_mean}; allowed here: {', '.join(allowed)}")
        return value

    def number(self, path: Sequence[str | int], value: object) -> sp.Rational:
        try:
            number = parse_exact(value)
        except NumberError as error:
            raise self.fail(path, str(error)) from None
        if abs(number) > LARGEST:
            raise self.fail(path, "a number beyond ±10^300 cannot be checked against float64; use a smaller one")
        return number

    def vector(self, path: Sequence[str | int], value: object, *, scalar_ok: bool = False) -> Vector:
        if scalar_ok and not isinstance(value, list):
            return (self.number(path, value),)
        if not isinstance(value, list) or not value:
            raise self.fail(path, f"expected a non-empty list of numbers, found {_kind(value)}")
        return tuple(self.number([*path[:-1], f"{path[-1]}[{i}]"], v) for i, v in enumerate(value, 1))

    def matrix(self, path: Sequence[str | int], value: object) -> Matrix:
        if not isinstance(value, list) or not value or not all(isinstance(row, list) for row in value):
            raise self.fail(path, f"expected a matrix (a list of rows), found {_kind(value)}")
        rows = tuple(self.vector([*path[:-1], f"{path[-1]}[{i}]"], row) for i, row in enumerate(value, 1))
        if len({len(row) for row in rows}) != 1:
            lengths = ", ".join(str(len(row)) for row in rows)
            raise self.fail(path, f"rows must have equal length, found row lengths {lengths}")
        return rows

    def integer(self, path: Sequence[str | int], value: object, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"expected a whole number from {low} to {high}, found {_kind(value)}")
        if not low <= value <= high:
            raise self.fail(path, f"expected a whole number from {low} to {high}, found {value}")
        return value

    def text(self, path: Sequence[str | int], value: object) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, found {_kind(value)}")
        trouble = problem(value)
        if trouble is not None:
            raise self.fail(path, trouble)
        return value

    def name(self, path: Sequence[str | int], value: object, catalogue: Mapping[str, object], what: str) -> str:
        if not isinstance(value, str) or value not in catalogue:
            found = repr(value) if isinstance(value, str) else _kind(value)
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
            try:
                return entry.build(**{**entry.params, **params})
            except FormulaError as error:
                raise self.fail([*path, "formula"], str(error)) from None
        name = self.name(path, value, ACTIVATIONS, "activation")
        entry = ACTIVATIONS[name]
        if entry.formulas:
            raise self.fail(path, f'a \'{name}\' activation is a table: {{ name = "{name}", formula = "..." }}')
        return entry.build(**entry.params)

    def formula_text(self, path: Sequence[str | int], value: object) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a formula as a string, found {_kind(value)}")
        return value

    def loss(self, value: object, outputs: int) -> Loss:
        table = self.table(["loss"], value, ("name", "reduction", "formula"))
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
        return averaged(loss, outputs) if reduction == "mean" else loss

    def optimizer(self, path: list[str | int], value: object, default: str) -> tuple[Optimizer, dict[str, sp.Rational]]:
        """An optimizer by name, or a table with its name and any hyperparameters to override."""
        if not isinstance(value, dict):
            return OPTIMIZERS[self.name(path, value, OPTIMIZERS, "optimizer")], {}
        given = dict(value)
        name = self.name([*path, "name"], given.pop("name", default), OPTIMIZERS, "optimizer")
        optimizer = OPTIMIZERS[name]
        self.table(path, given, tuple(optimizer.hyper))
        hyper = {key: self.positive([*path, key], v) for key, v in given.items()}
        for key in ("beta", "beta1", "beta2", "rho"):
            if key in hyper and not hyper[key] < 1:
                raise self.fail([*path, key], f"a decay rate below 1 is needed; found {hyper[key]}")
        return optimizer, hyper

    def spec(self, data: dict[str, object], name: str) -> Spec:
        root = self.table([], data, _ROOT_KEYS)
        for key in ("network", "parts"):
            if key not in root:
                raise self.fail([key], f"missing: the spec needs a [{key}] section")
        sheet = self.sheet(root.get("sheet", {}))
        network = self.network(root["network"])
        # Without [loss] only parts that differentiate an output (of = "yhat") can be asked;
        # the stand-in below is never shown or used.
        loss = self.loss(root["loss"], network.outputs) if "loss" in root else LOSSES["squared_error"]
        self.categorical = loss.name == "categorical_cross_entropy"
        if self.categorical and not network.layers[-1].activation.vector:
            raise self.fail(
                ["loss", "name"], "categorical cross-entropy needs a softmax output layer (a distribution ŷ)"
            )
        raw_parts = root["parts"]
        if not isinstance(raw_parts, list) or not raw_parts:
            raise self.fail(["parts"], f"expected one or more [[parts]] tables, found {_kind(raw_parts)}")
        parts: list[Part] = []
        for number, raw in enumerate(raw_parts, 1):
            parts.append(self.part(number, raw, network, parts))
        if "loss" not in root:
            for part in parts:
                if part.output is None:
                    raise self.fail(
                        ["loss"],
                        f"missing: part {part.number} ({part.kind}) needs a [loss] section "
                        '(only gradients parts with of = "yhat" do without)',
                    )
        return Spec(name=name, sheet=sheet, network=network, loss=loss, parts=tuple(parts), has_loss="loss" in root)

    def sheet(self, value: object) -> Sheet:
        table = self.table(["sheet"], value, _SHEET_KEYS)
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
        if "language" in table:
            fields["language"] = self.name(["sheet", "language"], table["language"], LANGUAGES, "language")
        if "decimal_mark" in table:
            mark = table["decimal_mark"]
            if mark not in DECIMAL_MARKS:
                raise self.fail(["sheet", "decimal_mark"], f'expected "." or ","; found {mark!r}')
            fields["decimal_mark"] = mark
        if "logo" in table:
            fields["logo"] = self.logo(["sheet", "logo"], table["logo"])
        return Sheet(**fields)  # type: ignore[arg-type]

    def boolean(self, path: Sequence[str | int], value: object) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"expected true or false, found {_kind(value)}")
        return value

    def logo(self, path: Sequence[str | int], value: object) -> str:
        """An image file, relative to the spec's folder (or the working folder for a spec in text)."""
        name = self.text(path, value)
        base = Path(self.source).parent if Path(self.source).is_file() else Path.cwd()
        file = (base / name).resolve()
        if file.suffix.lower() not in LOGO_TYPES:
            raise self.fail(path, f"a logo must be one of {', '.join(LOGO_TYPES)}; found {name!r}")
        if not file.is_file():
            raise self.fail(path, f"no such file: {file}")
        return str(file)

    def network(self, value: object) -> Network:
        table = self.table(["network"], value, _NETWORK_KEYS)
        raw_layers = table.get("layers")
        if not isinstance(raw_layers, list) or not raw_layers:
            raise self.fail(["network", "layers"], "expected one or more [[network.layers]] tables")
        layers: list[Layer] = []
        width: int | None = None
        if "inputs" in table:
            width = self.integer(["network", "inputs"], table["inputs"], 1, 10_000)
        inputs = width
        for number, raw in enumerate(raw_layers, 1):
            path: list[str | int] = ["network", "layers", number]
            layer_table = self.table(path, raw, _LAYER_KEYS + _LAYER_OPTIONAL)
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
                    [*path, "bias"], f'expected numbers, or "none" for a layer without a bias; found {found!r}'
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
                raise self.fail(path, f'{shape}: each is "x" or a layer from 1 to {number - 1}; found {item!r}')
            if source in sources:
                raise self.fail(path, f"{item!r} is read twice")
            sources.append(source)
        width = sum(inputs if k == 0 else below[k - 1].shape[0] for k in sources)
        return (() if sources == [number - 1] else tuple(sources)), width

    def part(self, number: int, value: object, network: Network, earlier: list[Part]) -> Part:
        path: list[str | int] = ["parts", number]
        if not isinstance(value, dict) or "kind" not in value:
            raise self.fail([*path, "kind"], f"missing; valid kinds: {', '.join(KINDS)}")
        kind = self.name([*path, "kind"], value["kind"], KINDS, "part kind")
        table = self.table(path, value, _PART_COMMON + KINDS[kind])
        for key in _REQUIRED.get(kind, ()):
            if key not in table:
                raise self.fail([*path, key], f"missing: a '{kind}' part needs it")
        fields: dict[str, object] = {"number": number, "kind": kind}
        if "of" in table:
            fields["output"] = self.objective([*path, "of"], table["of"], network)
        if "title" in table:
            fields["title"] = self.text([*path, "title"], table["title"])
        if "decimals" in table:
            fields["decimals"] = self.integer([*path, "decimals"], table["decimals"], 0, 12)
        if "exact" in table:
            fields["exact"] = self.boolean([*path, "exact"], table["exact"])
        if kind in _NO_SAMPLE or (kind in _OPTIONAL_SAMPLE and not {"x", "y", "use_sample_of"} & set(table)):
            for key in ("x", "y", "use_sample_of"):
                if key in table:
                    raise self.fail([*path, key], f"a '{kind}' part takes no input sample")
            fields["sample"], fields["sample_of"] = None, None
        else:
            fields["sample"], fields["sample_of"] = self.sample(
                path, table, network, earlier, target=fields.get("output") is None
            )
        fields.update(self.extended(path, kind, table, network))
        if "yhat" in table:
            claim = self.vector([*path, "yhat"], table["yhat"], scalar_ok=True)
            if len(claim) != network.outputs:
                raise self.fail(
                    [*path, "yhat"], f"the network has {network.outputs} outputs; found {len(claim)} values"
                )
            fields["claim"] = claim
        if "wrt" in table:
            fields["wrt"] = self.wrt([*path, "wrt"], table["wrt"], network, inputs=kind == "gradients")
        if kind in ("update", "replace_activation", "learning_rates", "compare_optimizer", "batch"):
            default = "adam" if kind == "compare_optimizer" else "sgd"
            optimizer, hyper = self.optimizer([*path, "optimizer"], table.get("optimizer", default), default)
            fields["optimizer"] = optimizer
            fields["hyper"] = (*tuple(fields.get("hyper", ())), *hyper.items())  # type: ignore[arg-type]
        if kind == "batch":
            fields.update(self.batch(path, table, network))
        if kind == "update":
            fields["steps"] = self.integer([*path, "steps"], table.get("steps", 1), 1, 5)
            if "frozen" in table:
                fields["frozen"] = self.frozen([*path, "frozen"], table["frozen"], network)
            if "tied" in table:
                fields["tied"] = self.tied([*path, "tied"], table["tied"], network, fields)
        if "learning_rate" in table:
            fields["learning_rate"] = self.positive([*path, "learning_rate"], table["learning_rate"])
        if "layer" in table:
            fields["layer"] = self.integer([*path, "layer"], table["layer"], 1, len(network.layers))
        if "activation" in table and kind != "extra_layer":
            fields["activation"] = self.activation([*path, "activation"], table["activation"])
            if fields["activation"].vector:  # type: ignore[attr-defined]
                raise self.fail(
                    [*path, "activation"], "softmax maps a whole layer: give it in [network], not as a replacement"
                )
        return Part(**fields)  # type: ignore[arg-type]

    def objective(self, path: list[str | int], value: object, network: Network) -> int | None:
        """What a gradients part differentiates: the loss ("L", the default) or an output ŷ_j (its j)."""
        outputs = network.outputs
        names = ["L", "yhat"] if outputs == 1 else ["L", *(f"yhat[{j}]" for j in range(1, outputs + 1))]
        name = value.replace(" ", "") if isinstance(value, str) else value
        if name == "L":
            return None
        if name == "yhat" and outputs == 1:
            return 1
        if isinstance(name, str) and name in names:
            return int(name[5:-1])
        hint = f"the network has {outputs} outputs: name one; " if name == "yhat" else ""
        raise self.fail(path, f"{hint}expected one of {', '.join(repr(n) for n in names)}; found {_kind(value)}")

    def sample(
        self,
        path: list[str | int],
        table: dict[str, object],
        network: Network,
        earlier: list[Part],
        target: bool = True,
    ) -> tuple[Sample, int | None]:
        """x and y (y only when ``target``: a part differentiating an output needs none)."""
        if "use_sample_of" in table:
            for key in ("x", "y"):
                if key in table:
                    raise self.fail([*path, key], "give either x and y or use_sample_of, not both")
            number = len(earlier) + 1
            if number == 1:
                raise self.fail([*path, "use_sample_of"], "part 1 has no earlier part to take its sample from")
            other = self.integer([*path, "use_sample_of"], table["use_sample_of"], 1, number - 1)
            sample = earlier[other - 1].sample
            if sample is None:
                raise self.fail([*path, "use_sample_of"], f"part {other} has no input sample to share")
            if target and not sample.y:
                raise self.fail(
                    [*path, "use_sample_of"], f"part {other} has no target y to share (it differentiates an output)"
                )
            return sample, other
        for key, what in (("x", "the input vector"), ("y", "the target ŷ is compared with")):
            if key not in table and (target or key == "x"):
                raise self.fail([*path, key], f"missing: {what} (or use_sample_of = an earlier part)")
        x = self.vector([*path, "x"], table["x"])
        if len(x) != network.inputs:
            raise self.fail([*path, "x"], f"shape mismatch: the network takes {network.inputs} inputs; found {len(x)}")
        if not target:
            if "y" in table:
                raise self.fail([*path, "y"], "a part that differentiates an output (of) has no loss and takes no y")
            return Sample(x, ()), None
        y = self.vector([*path, "y"], table["y"], scalar_ok=True)
        if self.categorical:
            y = self.categories([*path, "y"], y, network.outputs)
        if len(y) != network.outputs:
            raise self.fail([*path, "y"], f"shape mismatch: the network has {network.outputs} outputs; found {len(y)}")
        return Sample(x, y), None

    def batch(self, path: list[str | int], table: dict[str, object], network: Network) -> dict[str, object]:
        """A batch part's samples (tables of x and y), its mode and how the batch loss combines them."""
        raw = table["samples"]
        if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_BATCH:
            raise self.fail(
                [*path, "samples"], f"expected a list of 2 to {MAX_BATCH} tables {{ x = [...], y = [...] }}"
            )
        samples = []
        for n, item in enumerate(raw, 1):
            where: list[str | int] = [*path, "samples", n]
            if not isinstance(item, dict):
                raise self.fail(where, f"expected a table {{ x = [...], y = [...] }}; found {_kind(item)}")
            self.table(where, item, ("x", "y"))
            samples.append(self.sample(where, item, network, [])[0])
        mode = self.name([*path, "mode"], table.get("mode", "batch"), dict.fromkeys(BATCH_MODES), "batch mode")
        combine = table.get("batch_reduction", "mean")
        reduction = self.name([*path, "batch_reduction"], combine, dict.fromkeys(REDUCTIONS), "batch reduction")
        return {"samples": tuple(samples), "mode": mode, "batch_mean": reduction == "mean"}

    def categories(self, path: Sequence[str | int], y: Vector, outputs: int) -> Vector:
        """Targets of categorical cross-entropy: a class index (1 to n) becomes one-hot; a list must
        be a distribution (non-negative, summing to 1)."""
        if len(y) == 1 and outputs > 1:
            index = y[0]
            if not (index.is_Integer and 1 <= index <= outputs):
                raise self.fail(path, f"a class index from 1 to {outputs} (or {outputs} probabilities); found {index}")
            return tuple(ONE if k == index else sp.Integer(0) for k in range(1, outputs + 1))
        if len(y) == outputs and (any(v < 0 for v in y) or sum(y) != 1):
            raise self.fail(
                path, f"targets for cross-entropy are a distribution (≥ 0, summing to 1); found sum {sum(y)}"
            )
        return y

    def positive(self, path: Sequence[str | int], value: object) -> sp.Rational:
        number = self.number(path, value)
        if number == 0 and str(path[-1]).startswith("learning_rate"):
            raise self.fail(path, "a learning rate of 0 leaves every parameter unchanged; give a positive rate")
        if number <= 0:
            raise self.fail(path, f"expected a positive number, found {number}")
        return number

    def extended(
        self, path: list[str | int], kind: str, table: dict[str, object], network: Network
    ) -> dict[str, object]:
        """The keys of the cross-entropy, experiment and comparison kinds."""
        fields: dict[str, object] = {}
        depth = len(network.layers)
        if kind in ("cross_entropy", "mse_vs_ce"):
            raw = table.get("p", list(DEFAULT_PROBABILITIES))
            values = self.vector([*path, "p"], raw)
            for i, p in enumerate(values, 1):
                if not 0 < p < 1:
                    raise self.fail([*path, f"p[{i}]"], f"a probability strictly between 0 and 1 is needed; found {p}")
            fields["probabilities"] = values
        if kind in ("cross_entropy", "mse_vs_ce", "compare_activation", "extra_layer") and network.outputs != 1:
            raise self.fail([*path, "kind"], f"a '{kind}' part needs a network with one output")
        if kind == "mse_vs_ce" and "target" in table:
            target = self.number([*path, "target"], table["target"])
            if target not in (0, 1):
                raise self.fail([*path, "target"], f"a class label 0 or 1 is needed; found {target}")
            fields["target"] = target
        if kind == "learning_rates":
            rates = self.vector([*path, "learning_rates"], table["learning_rates"])
            for i, rate in enumerate(rates, 1):
                self.positive([*path, f"learning_rates[{i}]"], str(rate))
            fields["learning_rates"] = rates
            fields["steps"] = steps = self.integer([*path, "steps"], table.get("steps", 20), 1, 200)
            exact = table.get("exact_steps", 2)
            fields["exact_steps"] = self.integer([*path, "exact_steps"], exact, 0, min(3, steps))
        if kind == "compare_optimizer":
            fields["steps"] = self.integer([*path, "steps"], table.get("steps", 2), 1, 3)
            fields["hyper"] = tuple(
                (key, self.positive([*path, key], table[key])) for key in ("beta1", "beta2", "epsilon") if key in table
            )
        if kind == "compare_activation":
            raw_layers = table.get("layers", list(range(1, depth)))
            if not isinstance(raw_layers, list) or not raw_layers:
                raise self.fail([*path, "layers"], "expected a list of layer numbers")
            fields["layers"] = tuple(self.integer([*path, "layers"], l, 1, depth) for l in raw_layers)
            if "dead_x" in table:
                dead = self.vector([*path, "dead_x"], table["dead_x"])
                if len(dead) != network.inputs:
                    raise self.fail([*path, "dead_x"], f"the network takes {network.inputs} inputs; found {len(dead)}")
                fields["dead_x"] = dead
        if kind == "extra_layer" and network.skips:
            raise self.fail([*path, "kind"], "an 'extra_layer' part needs a network without skip connections (reads)")
        if kind == "extra_layer":
            after = self.integer([*path, "after"], table.get("after", depth - 1), 0, depth - 1)
            width = network.inputs if after == 0 else network.layers[after - 1].shape[0]
            weights = self.matrix([*path, "weights"], table["weights"])
            if (len(weights), len(weights[0])) != (width, width):
                raise self.fail(
                    [*path, "weights"],
                    f"shape mismatch: inserted after layer {after}, the new layer reads {width} values and must give "
                    f"{width} so that layer {after + 1} still fits, so W needs {width}x{width}; "
                    f"found {len(weights)}x{len(weights[0])}",
                )
            bias = self.vector([*path, "bias"], table["bias"], scalar_ok=True)
            if len(bias) != width:
                raise self.fail([*path, "bias"], f"shape mismatch: b needs {width} entries; found {len(bias)}")
            activation = self.activation([*path, "activation"], table.get("activation", "sigmoid"))
            if activation.vector:
                raise self.fail([*path, "activation"], "an inserted layer cannot be softmax: give it in [network]")
            fields["after"], fields["inserted"] = after, Layer(weights, bias, activation)
        return fields

    def frozen(self, path: list[str | int], value: object, network: Network) -> tuple[str, ...]:
        """Whole tensors (W1, b2) or single entries (w1[1,2], b2[1]), as the entries' keys."""
        keys: list[str] = []
        for l, layer in enumerate(network.layers, 1):
            rows, cols = layer.shape
            keys += [f"w{l}[{j},{k}]" for j in range(1, rows + 1) for k in range(1, cols + 1)]
            if layer.shared_bias:
                keys.append(f"b{l}")
            elif layer.has_bias:
                keys += [f"b{l}[{j}]" for j in range(1, rows + 1)]
        if not isinstance(value, list) or not value:
            raise self.fail(path, 'expected a list of tensors or entries, such as ["W1", "w2[1,1]", "b2[1]"]')
        chosen: set[str] = set()
        for item in value:
            name = item.replace(" ", "") if isinstance(item, str) else item
            tensor = re.fullmatch(r"([Wb])(\d+)", name) if isinstance(name, str) else None
            if tensor is not None and 1 <= int(tensor.group(2)) <= len(network.layers):
                if tensor.group(1) == "b" and not network.layers[int(tensor.group(2)) - 1].has_bias:
                    raise self.fail(
                        path, f'layer {tensor.group(2)} has no bias (bias = "none"): {name} is no parameter'
                    )
                prefix = f"{tensor.group(1).lower()}{tensor.group(2)}"
                chosen.update(k for k in keys if k == prefix or k.startswith(prefix + "["))
            elif name in keys:
                chosen.add(str(name))
            else:
                raise self.fail(
                    path, f"unknown parameter or entry {item!r}: give W1 or b1 ..., or an entry such as {keys[0]}"
                )
        return tuple(k for k in keys if k in chosen)

    def tied(
        self, path: list[str | int], value: object, network: Network, fields: Mapping[str, object]
    ) -> tuple[tuple[str, ...], ...]:
        """Groups of entries sharing one value, such as [["w1[1,1]", "w2[1,2]"]]: checked to start equal."""
        given: dict[str, sp.Rational] = {}
        for l, layer in enumerate(network.layers, 1):
            given.update({f"w{l}[{j},{k}]": w for j, row in enumerate(layer.weights, 1) for k, w in enumerate(row, 1)})
            if layer.shared_bias:
                given[f"b{l}"] = layer.bias[0]
            elif layer.has_bias:
                given.update({f"b{l}[{j}]": b for j, b in enumerate(layer.bias, 1)})
        shape = 'expected a list of groups of entries, such as [["w1[1,1]", "w2[1,2]"]]'
        if not isinstance(value, list) or not value:
            raise self.fail(path, shape)
        groups: list[tuple[str, ...]] = []
        seen: set[str] = set()
        frozen = set(fields.get("frozen", ()))  # type: ignore[call-overload]
        wrt = fields.get("wrt") or ()
        for g, group in enumerate(value, 1):
            where = [*path, g]
            if not isinstance(group, list) or len(group) < 2:
                raise self.fail(where, "a group ties at least two entries: " + shape)
            keys = [item.replace(" ", "") if isinstance(item, str) else item for item in group]
            for key in keys:
                if key not in given:
                    raise self.fail(where, f"unknown entry {key!r}: give entries such as {next(iter(given))}")
                if key in seen:
                    raise self.fail(where, f"{key} is tied twice: an entry belongs to one group")
                if key in frozen:
                    raise self.fail(where, f"{key} is both frozen and tied: choose one")
                tensor = key[0].upper() + key[1 : key.index("[")] if key[0] == "w" else key.split("[")[0]
                if wrt and tensor not in wrt:  # type: ignore[operator]
                    raise self.fail(where, f"{key} is tied but {tensor} is not updated: add {tensor} to wrt")
                seen.add(key)
            values = {given[k] for k in keys}
            if len(values) > 1:
                found = ", ".join(f"{k} = {given[k]}" for k in keys)
                raise self.fail(where, f"tied entries share one value and must start equal; found {found}")
            groups.append(tuple(keys))  # type: ignore[arg-type]
        return tuple(groups)

    def wrt(self, path: list[str | int], value: object, network: Network, inputs: bool = False) -> tuple[str, ...]:
        """Parameter names (W1, b1, ...), and with ``inputs`` the input x, in the network's order."""
        names = network.parameter_names()
        if inputs:
            names.append("x")
        if not isinstance(value, list) or not value:
            raise self.fail(path, f"expected a list of parameter names from {', '.join(names)}")
        for item in value:
            if item not in names:
                raise self.fail(path, f"unknown parameter {item!r}; valid: {', '.join(names)}")
        return tuple(n for n in names if n in value)


def _field(path: Sequence[str | int]) -> str:
    text = ""
    for item in path:
        text += f"[{item}]" if isinstance(item, int) else (f".{item}" if text else item)
    return text


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{type(value).__name__} {value}"
