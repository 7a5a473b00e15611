"""The template context of a sheet: its network, givens and parts, every value as finished LaTeX."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeGuard

from derive.exercise.model import Network, Part, Sheet, Spec
from derive.maths.general import MAX_NESTED, input_part, input_symbol, layer_formula, network_formula, unit_formulas
from derive.maths.network import unit_symbol
from derive.maths.steps import Circuit, Expanded, Given, PartSolution, Plot, Section, Solution, Step
from derive.render.points import sheet_points, written
from derive.render.reproduce import Redone
from derive.render.step_context import LINE_WIDTH, display_lines, entries, step_context
from derive.terms.display import Join
from derive.terms.formula import Apply, Node, Product, Sum, Tensor
from derive.terms.symbols import LOSS, OUTPUT, TARGET, Sym
from derive.tex.decimals import significant
from derive.tex.layout import width
from derive.tex.printer import Latex, Printer
from derive.tex.style import Style

Context = dict[str, Any]


def sheet_context(solution: Solution, style: Style, logo: str = "") -> dict[str, Any]:
    """Everything the templates may print, as LaTeX written by the sheet's printer or plain text to
    be escaped.

    ``logo`` is the file name the sheets include for the spec's logo (copied beside them).
    """
    spec = solution.spec
    printer = style.printer(spec.network)
    parts = [part_context(p, style.for_part(p.part), spec) for p in solution.parts]
    redone = Redone.of(parts)
    return {
        "sheet": sheet_fields(spec.sheet, logo),
        "language": style.language,
        # None where no part works on a network (a circuit, an optimizer step on given gradients).
        "network": {
            **network_context(spec.network, spec, printer),
            "diagram": step_context(solution.diagram, printer) if solution.diagram else None,
        }
        if spec.network is not None
        else None,
        "givens": broken(step_context(e, printer) for g in solution.givens for e in entries(g, printer)),
        "loss": {
            "formula": Latex(printer.pattern(spec.loss.formula)),
            "prose": spec.loss.prose,
            "given": spec.has_loss,
        },
        "decimals": style.places,
        "significant": significant(style.places),
        "exact": style.exact,
        "student": spec.sheet.rounding == "student",
        "parts": parts,
        "points": sheet_points(spec, printer),  # the points table (None: no part has points)
        "verification": {
            "checked": sum(1 for _ in solution.quantities()),
            # Whether the sheet works out gradients (checked by finite differences) or only takes them as given.
            "differences": any(part.kind.differences for part in spec.parts),
            "lines": redone.lines,
            "redone": redone.redone,
        },
    }


def sheet_fields(sheet: Sheet, logo: str) -> dict[str, Any]:
    """The title block's fields: the sheet's texts, the logo's file name and a variant's label."""
    return {
        **{key: getattr(sheet, key) for key in ("title", "course", "subtitle", "author", "date", "number")},
        "logo": Latex(logo),
        # A variant's number and code (its page header says them too) and its QR code's text.
        "variant": (
            {"number": label.number, "code": label.code, "qr": Latex(label.qr)}
            if (label := sheet.variant) is not None
            else None
        ),
    }


def broken(givens: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The network's givens, each marked ``breaks`` where a new display line must start to fit."""
    lines = display_lines(list(givens))
    return [{**given, "breaks": i > 0 and j == 0} for i, line in enumerate(lines) for j, given in enumerate(line)]


def network_context(network: Network, spec: Spec, printer: Printer) -> dict[str, Any]:
    neurons = printer.look.neurons
    # A network deeper than MAX_NESTED layers is written layer by layer (its nested g(x) would run off the page).
    layered = network.skips or len(network.layers) > MAX_NESTED
    depth = len(network.layers)
    inner = layer_formula(network, depth, Tensor(input_symbol(network, depth))) if layered else network_formula(network)
    layers = [
        {
            "number": l,
            "W": Latex(printer.symbol(Sym("W", l))),
            "units": layer.shape[0],
            "inputs": layer.shape[1],
            "activation": layer.activation.prose,
            "identity": Latex(printer.pattern(layer.activation.identity)),
            "definition": Latex(printer.pattern(layer.activation.definition)),
            "bias": layer.has_bias,
            "shared_bias": layer.shared_bias,
            # A skip connection: what the layer reads, stacked (empty for the layer below).
            "reads": Latex(printer.show(Join(tuple(input_part(network, k) for k in layer.reads)))),
            # What it reads, for running text: x, a^{(l-1)}, or its sources stacked written in a row.
            "input": Latex(
                r"\left[" + printer.show(Join(tuple(input_part(network, k) for k in layer.reads), r";\ ")) + r"\right]"
            )
            if layer.reads
            else Latex(printer.symbol(input_symbol(network, l))),
        }
        for l, layer in enumerate(network.layers, 1)
    ]
    return {
        "definitions": definitions(network, printer) if layered else [],
        "runs": runs(layers),
        "formula": Latex(printer.formula(inner)),
        "layers": layers,
        "inputs": network.inputs,
        "outputs": network.outputs,
        # Each bias written as the weight w_{j,0} on a constant input 1 (only if some layer has one).
        "bias_as_weight": spec.sheet.notation.bias_as_weight and any(layer.has_bias for layer in network.layers),
        "from_to": spec.sheet.notation.from_to,
        # Neuron style: each unit's sum and activation in place of g(x) in matrices.
        "neuron": neurons is not None,
        "through": neurons is not None and neurons.through,  # the units numbered through the network
        "units": unit_rows(network, printer) if neurons is not None else [],
        "unit_names": (
            [Latex(printer.look.separator.join(neurons.units(l))) for l in range(1, neurons.depth + 1)]
            if neurons
            else []
        ),
    }


def runs(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The layers as the network block describes them: consecutive layers alike (units, inputs,
    activation, each its own bias, no skip connection), three or more, in one sentence, "Layers 2 to
    99 each have …"
    (``last`` the run's last layer; its first is ``layer``)."""

    def alike(a: dict[str, Any], b: dict[str, Any]) -> bool:
        keys = ("units", "inputs", "activation", "definition", "bias", "shared_bias", "reads")
        return all(a[k] == b[k] for k in keys) and a["bias"] and not a["shared_bias"] and not a["reads"]

    out: list[dict[str, Any]] = []
    for layer in layers:
        if out and alike(out[-1]["layer"], layer):
            out[-1]["last"] = layer["number"]
        else:
            out.append({"layer": layer, "last": layer["number"]})
    # Two alike layers are still described one by one; from three on, a run reads better.
    short = [layers[l - 1] for run in out if run["last"] - run["layer"]["number"] == 1 for l in (run["last"],)]
    return sorted(
        [run if run["last"] - run["layer"]["number"] != 1 else {**run, "last": run["layer"]["number"]} for run in out]
        + [{"layer": layer, "last": layer["number"]} for layer in short],
        key=lambda run: run["layer"]["number"],
    )


def definitions(network: Network, printer: Printer) -> list[dict[str, Any]]:
    """The hidden layers one by one, a^{(l)} = f(W^{(l)} [sources] + b^{(l)}); without skip connections
    a run of layers alike (activation, bias) is one line for every l of the run: a hundred sigmoid
    layers are a^{(1)} = σ(W^{(1)} x + b^{(1)}) and a^{(l)} = σ(W^{(l)} a^{(l-1)} + b^{(l)}), l = 2, …, 99."""
    runs: list[list[int]] = []
    for l in range(1, len(network.layers)):
        layer = network.layers[l - 1]
        previous = network.layers[l - 2] if l > 2 else None  # layer 1 reads x: a line of its own
        alike = previous is not None and (previous.activation, previous.has_bias) == (layer.activation, layer.has_bias)
        if alike and not network.skips:
            runs[-1].append(l)
        else:
            runs.append([l])
    rows = []
    for run in runs:
        first, last = run[0], run[-1]
        if first == last:
            symbol, formula = Sym("a", first), layer_formula(network, first, Tensor(input_symbol(network, first)))
            span = ""
        else:
            # The run's layers as one generic layer l: the same formula with the layer a letter.
            layer = network.layers[first - 1]
            linear: Node = Product((Tensor(Sym("W", "l")), Tensor(Sym("a", "l-1"))))
            symbol, formula = (
                Sym("a", "l"),
                Apply(layer.activation, Sum((linear, Tensor(Sym("b", "l")))) if layer.has_bias else linear),
            )
            span = rf"l = {first}, \dots, {last}" if last > first + 1 else rf"l = {first}, {last}"
        rows.append(
            {"symbol": Latex(printer.symbol(symbol)), "formula": Latex(printer.formula(formula)), "range": Latex(span)}
        )
    return rows


def unit_rows(network: Network, printer: Printer) -> list[dict[str, Any]]:
    """Neuron style's network, row by row: z_u = w x + … + b beside a_u = f(z_u); a long sum goes
    on in rows of its own."""
    rows: list[dict[str, Any]] = []
    for z, total, a, call in unit_formulas(network):
        terms = [printer.formula(t) for t in total.terms] if isinstance(total, Sum) else [printer.formula(total)]
        lines = [[terms[0]]]
        for term in terms[1:]:
            if width(" + ".join([*lines[-1], term])) > LINE_WIDTH - 16:
                lines.append([])
            lines[-1].append(term)
        for i, line in enumerate(lines):
            rows.append(
                {
                    "first": i == 0,
                    "z": Latex(printer.symbol(z)),
                    "sum": Latex(" + ".join(line)),
                    "a": Latex(printer.symbol(a)),
                    "call": Latex(printer.formula(call)),
                }
            )
    return rows


def biases(network: Network) -> str:
    """Whether "all", "some" or "none" of the layers add a bias (the forward pass's prose says so)."""
    have = [layer.has_bias for layer in network.layers]
    return "all" if all(have) else "some" if any(have) else "none"


def part_context(solved: PartSolution, style: Style, spec: Spec) -> dict[str, Any]:
    """A part, printed in its own style, its units numbered as in the network it works with."""
    part, network = solved.part, spec.network
    working = solved.network or network
    printer = style.printer(working)
    deep = working is not None and len(working.layers) > MAX_NESTED
    sections = [section_context(section, style, printer, deep) for section in solved.sections]
    return {
        "number": part.number,
        "biases": biases(network) if network is not None else "none",
        "skips": network is not None and network.skips,
        "kind": part.kind.name,
        "decimals": style.places,
        "significant": significant(style.places),
        "exact": style.exact,
        "title": part.title,
        "points": written(part.points, printer),  # None where the sheet gives no points
        # The question speaks of the given network, the working of the one the part works with.
        "question": question_context(part, network, printer if working is network else style.printer(network)),
        "neuron": style.neuron,
        "from_to": style.from_to,
        # The error term Err_j = −∂L/∂z_j in place of δ, and units numbered through the network.
        "error": bool(style.notation.error),
        "through": style.notation.through,
        "plots": any(isinstance(s, Plot) for section in solved.sections for s in section.steps),
        "sections": sections,
        # Each substituted line's answer key and whether its shown numbers give its shown result.
        "redone": [line for section in sections for step in section["steps"] for line in step.get("redone", ())],
    }


def section_context(section: Section, style: Style, printer: Printer, deep: bool = False) -> dict[str, Any]:
    """A section's steps, printed with its own numbering of the units where it has one; ``deep``: the
    network has more layers than g(x) is written nested in."""
    numbered = style.printer(section.numbering) if section.numbering else printer
    steps = [step_context(s, numbered) for s in shown(section.steps, style, numbered, deep)]
    return {
        "key": section.key,
        "label": section.label,
        # The givens section is one display line already (part.tex.j2), or as many as its givens need.
        "steps": steps if section.key == "givens" else grouped(steps),
        "lines": display_lines(steps) if section.key == "givens" else [],
    }


def grouped(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive givens (α, β_1, β_2, ε), and consecutive listed values, share display lines, as a
    sheet lists them, instead of a display each."""
    runs: list[list[dict[str, Any]]] = []
    for step in steps:
        if step["type"] in ("given", "values") and runs and runs[-1][-1]["type"] == step["type"]:
            runs[-1].append(step)
        else:
            runs.append([step])
    out = []
    for run in runs:
        if len(run) == 1:
            out.append(run[0])
            continue
        out.append({"type": "values", "lines": display_lines([item for s in run for item in _listed(s)])})
    return out


def _listed(step: dict[str, Any]) -> list[dict[str, Any]]:
    """A given's or listed values' items (symbol, relation, value), as a values step lists them."""
    if step["type"] == "given":
        return [{"symbol": step["symbol"], "relation": Latex("="), "value": step["value"]}]
    return [item for line in step["lines"] for item in line]


def shown(steps: Sequence[Step], style: Style, printer: Printer, deep: bool = False) -> list[Step]:
    """The steps a part shows: neuron style writes no matrices, so no matrix form of the chain rule,
    and a given matrix entry by entry; a given too large to be written as one matrix is listed entry
    by entry in any style. A deep network's chain rule is not written out in matrix form either: it
    nests a bracket per layer (the steps before it give the same, layer by layer)."""
    if deep:
        steps = [s for s in steps if not isinstance(s, Expanded)]
    if not style.neuron:
        return [entry for s in steps for entry in (entries(s, printer) if isinstance(s, Given) else [s])]
    return [entry for s in steps if not isinstance(s, Expanded) for entry in (s.one_by_one() if _parameter(s) else [s])]


def _parameter(step: Step) -> TypeGuard[Given]:
    """Whether a step states a given weight matrix or bias vector (an inserted layer's)."""
    return isinstance(step, Given) and isinstance(step.symbol, Sym) and step.symbol.base in ("W", "b")


def question_context(part: Part[Any], network: Network | None, printer: Printer) -> dict[str, Any]:
    """What the exercise sheet needs to ask a part: what every part may state (its sample, the
    names of the output, the loss and the target), and its kind's own givens, as LaTeX."""
    sample = part.sample
    asked = part.kind.ask(part, network, printer)
    return {
        "x": Latex(printer.vector(sample.x)) if sample else Latex(""),
        "y": Latex(printer.vector(sample.y)) if sample else Latex(""),
        "sample_of": part.sample_of or 0,
        "output": Latex(printer.symbol(OUTPUT)),
        "loss": Latex(printer.symbol(LOSS)),
        # A part differentiating an output ŷ_j (no loss) names it; empty for the loss.
        "of": Latex(
            printer.symbol(unit_symbol(network, len(network.layers), "a", part.output))
            if part.output and network is not None
            else ""
        ),
        "target_symbol": Latex(printer.symbol(Sym(TARGET.base))),
        "outputs": network.outputs if network is not None else 0,
        # A drawing among a kind's givens (a circuit) is drawn as its step is in the solution.
        **{name: step_context(v, printer) if isinstance(v, Circuit) else v for name, v in asked.items()},
    }
