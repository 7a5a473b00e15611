"""Reading a spec's parts: what every kind has (its kind, title, sample and display settings), the
readers the kinds share (a training setup, probabilities, a batch), and the checks between parts.
Each kind reads its own keys (``PartKind.read`` in :mod:`derive.kinds`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp

from derive.catalog.losses import REDUCTIONS
from derive.exercise.fields import FieldReader, kind_of, shown
from derive.exercise.kind import PartKind, without_network
from derive.exercise.marks import PART_KEYS, read_part
from derive.exercise.model import ONE, Network, Part, Sample, Training, Vector
from derive.exercise.shapes import Shape, whole

MAX_PARTS = 30
"""Most parts a sheet has (the built-in example, a long sheet, has 12)."""
COMMON: Mapping[str, Shape] = {
    "kind": Shape("text", "what the part asks: one of the part kinds"),  # the schema lists them
    "title": Shape("text", "the part's own heading"),
    "x": Shape("numbers", "the input vector"),
    "y": Shape("numbers_or_number", "the target (a class index for categorical cross-entropy)"),
    "use_sample_of": whole(1, MAX_PARTS - 1, "take x and y from an earlier part, by its number"),
    "decimals": whole(0, 12, "this part's places after the point"),
    "exact": Shape("flag", "show exact forms in this part"),
    **PART_KEYS,
}
"""The keys every part may have besides its kind's own (:attr:`PartKind.keys`)."""
NETLESS_COMMON: Mapping[str, Shape] = {k: COMMON[k] for k in ("kind", "title", "decimals", "exact", *PART_KEYS)}
"""The common keys of a part that works on no network (no input sample: that belongs to a network)."""
DEFAULT_PROBABILITIES = ("0.01", "0.1", "0.5", "0.9", "0.99")
BATCH_MODES = ("batch", "per_sample")
"""A batch part's modes: one step with the batch gradient, or one step per sample in order."""
MAX_BATCH = 8
MAX_STEPS = 5
"""Most optimizer steps an update part shows in full."""
MAX_RATES = 6
"""Most learning rates a learning_rates part compares (each is a run of up to 200 steps)."""
MAX_NAMES = 200
"""Most entries in a part's list of parameters (wrt, frozen, tied, layers): a sheet has 200."""
LIST_LIMITS = {
    "learning_rates": (MAX_RATES, "learning rates"),
    "p": (12, "probabilities"),
    "samples": (MAX_BATCH, "samples"),
    "wrt": (MAX_NAMES, "names"),
    "frozen": (MAX_NAMES, "entries"),
    "tied": (MAX_NAMES, "groups"),
    "layers": (MAX_NAMES, "layer numbers"),
}
"""The longest list each part key takes, checked before the part's kind reads a single item."""


class PartReader(FieldReader):
    """Reads ``[[parts]]``: every part's common keys, then its kind's own, checked against the network
    and the earlier parts."""

    def part(
        self,
        number: int,
        value: object,
        network: Network | None,
        earlier: list[Part[Any]],
        kinds: Mapping[str, PartKind[Any]],
    ) -> Part[Any]:
        path: list[str | int] = ["parts", number]
        if not isinstance(value, dict) or "kind" not in value:
            raise self.fail([*path, "kind"], f"missing; valid kinds: {', '.join(kinds)}")
        kind = kinds[self.name([*path, "kind"], value["kind"], kinds, "part kind")]
        if not kind.network:
            return self.netless(number, path, value, kind, earlier)
        if network is None:
            raise self.fail([*path, "kind"], without_network(kind))
        table = self.table(path, value, (*COMMON, *kind.keys))
        for key in kind.required:
            if key not in table:
                raise self.fail([*path, key], f"missing: a part of kind '{kind.name}' needs it")
        output = self.objective([*path, "of"], table["of"], network) if "of" in table else None
        title = self.text([*path, "title"], table["title"]) if "title" in table else ""
        decimals = self.integer([*path, "decimals"], table["decimals"], 0, 12) if "decimals" in table else None
        exact = self.boolean([*path, "exact"], table["exact"]) if "exact" in table else None
        given = {"x", "y", "use_sample_of"} & set(table)
        sample: Sample | None = None
        sample_of: int | None = None
        if kind.sample == "none" or (kind.sample == "optional" and not given):
            for key in ("x", "y", "use_sample_of"):
                if key in table:
                    raise self.fail([*path, key], f"a part of kind '{kind.name}' takes no input sample")
        else:
            sample, sample_of = self.sample(path, table, network, earlier, target=output is None)
        if kind.one_output and network.outputs != 1:
            raise self.fail([*path, "kind"], f"a part of kind '{kind.name}' needs a network with one output")
        for key, (limit, what) in LIST_LIMITS.items():
            if isinstance(table.get(key), list):
                self.most([*path, key], table[key], limit, what)  # type: ignore[arg-type]
        params = kind.read(self, path, table, network, earlier)
        marks = read_part(self, path, table)
        return Part(number, kind, params, sample, sample_of, title, decimals, exact, output, **marks)

    def netless(
        self,
        number: int,
        path: list[str | int],
        value: dict[str, object],
        kind: PartKind[Any],
        earlier: list[Part[Any]],
    ) -> Part[Any]:
        """A part of a kind that works on no network: its title and display settings, and its kind's own
        keys (no input sample, no output to differentiate: those belong to a network)."""
        table = self.table(path, value, (*NETLESS_COMMON, *kind.keys))
        for key in kind.required:
            if key not in table:
                raise self.fail([*path, key], f"missing: a part of kind '{kind.name}' needs it")
        title = self.text([*path, "title"], table["title"]) if "title" in table else ""
        decimals = self.integer([*path, "decimals"], table["decimals"], 0, 12) if "decimals" in table else None
        exact = self.boolean([*path, "exact"], table["exact"]) if "exact" in table else None
        for key, (limit, what) in LIST_LIMITS.items():
            if isinstance(table.get(key), list):
                self.most([*path, key], table[key], limit, what)  # type: ignore[arg-type]
        params = kind.read(self, path, table, None, earlier)
        return Part(number, kind, params, title=title, decimals=decimals, exact=exact, **read_part(self, path, table))

    def training(
        self,
        path: list[str | int],
        table: dict[str, object],
        network: Network,
        default: str = "sgd",
        steps: int = 1,
        hyper: tuple[tuple[str, sp.Rational], ...] = (),
    ) -> Training:
        """The optimizer (a name, or a table overriding its hyperparameters), the parameters it moves
        (``wrt``), its learning rate and ``steps`` steps; the spec's own ``hyper`` come first."""
        wrt = self.wrt([*path, "wrt"], table["wrt"], network) if "wrt" in table else ()
        optimizer, chosen = self.optimizer([*path, "optimizer"], table.get("optimizer", default), default)
        rate = self.positive([*path, "learning_rate"], table["learning_rate"])
        return Training(optimizer, rate, (*hyper, *chosen.items()), steps, wrt)

    def probabilities(self, path: list[str | int], table: dict[str, object]) -> tuple[sp.Rational, ...]:
        """``p``: probabilities strictly between 0 and 1 (a spread of them by default)."""
        values = self.vector([*path, "p"], table.get("p", list(DEFAULT_PROBABILITIES)))
        for i, p in enumerate(values, 1):
            if not 0 < p < 1:
                raise self.fail([*path, f"p[{i}]"], f"a probability strictly between 0 and 1 is needed; found {p}")
        return values

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
        raise self.fail(path, f"{hint}expected one of {', '.join(repr(n) for n in names)}; found {kind_of(value)}")

    def sample(
        self,
        path: list[str | int],
        table: dict[str, object],
        network: Network,
        earlier: list[Part[Any]],
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

    def batch(
        self, path: list[str | int], table: dict[str, object], network: Network
    ) -> tuple[tuple[Sample, ...], str, bool]:
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
                raise self.fail(where, f"expected a table {{ x = [...], y = [...] }}; found {kind_of(item)}")
            self.table(where, item, ("x", "y"))
            samples.append(self.sample(where, item, network, [])[0])
        mode = self.name([*path, "mode"], table.get("mode", "batch"), dict.fromkeys(BATCH_MODES), "batch mode")
        combine = table.get("batch_reduction", "mean")
        reduction = self.name([*path, "batch_reduction"], combine, dict.fromkeys(REDUCTIONS), "batch reduction")
        return tuple(samples), mode, reduction == "mean"

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
            tensor = re.fullmatch(r"([Wb])(\d{1,4})", name) if isinstance(name, str) else None
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
                    path, f"unknown parameter or entry {shown(item)}: give W1 or b1 ..., or an entry such as {keys[0]}"
                )
        return tuple(k for k in keys if k in chosen)

    def tied(
        self, path: list[str | int], value: object, network: Network, frozen: Sequence[str], wrt: Sequence[str]
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
        for g, group in enumerate(value, 1):
            where = [*path, g]
            if not isinstance(group, list) or len(group) < 2:
                raise self.fail(where, "a group ties at least two entries: " + shape)
            self.most(where, group, MAX_NAMES, "entries in a group")
            for item in group:
                if not isinstance(item, str):
                    raise self.fail(where, f"expected entries such as {next(iter(given))}; found {kind_of(item)}")
            keys = [item.replace(" ", "") for item in group]
            for key in keys:
                if key not in given:
                    raise self.fail(where, f"unknown entry {shown(key)}: give entries such as {next(iter(given))}")
                if key in seen:
                    raise self.fail(where, f"{key} is tied twice: an entry belongs to one group")
                if key in frozen:
                    raise self.fail(where, f"{key} is both frozen and tied: choose one")
                tensor = key[0].upper() + key[1 : key.index("[")] if key[0] == "w" else key.split("[")[0]
                if wrt and tensor not in wrt:
                    raise self.fail(where, f"{key} is tied but {tensor} is not updated: add {tensor} to wrt")
                seen.add(key)
            values = {given[k] for k in keys}
            if len(values) > 1:
                found = ", ".join(f"{k} = {given[k]}" for k in keys)
                raise self.fail(where, f"tied entries share one value and must start equal; found {found}")
            groups.append(tuple(keys))
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
                raise self.fail(path, f"unknown parameter {shown(item)}; valid: {', '.join(names)}")
        return tuple(n for n in names if n in value)
