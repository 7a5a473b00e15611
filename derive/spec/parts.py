"""Reading a spec's parts: the keys of each task kind, its sample, and the checks between parts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import sympy as sp

from derive.catalog.losses import REDUCTIONS
from derive.spec.fields import FieldReader, kind_of
from derive.spec.model import ONE, Layer, Network, Part, Sample, Vector

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


_PART_COMMON = ("kind", "title", "x", "y", "use_sample_of", "decimals", "exact")


class PartReader(FieldReader):
    """Reads ``[[parts]]``: every kind's keys, checked against the network and the earlier parts."""

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
        raise self.fail(path, f"{hint}expected one of {', '.join(repr(n) for n in names)}; found {kind_of(value)}")

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
                raise self.fail(where, f"expected a table {{ x = [...], y = [...] }}; found {kind_of(item)}")
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
