"""The template context of a sheet: its network, givens and parts, every value as finished LaTeX."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from derive.maths.general import input_part, input_symbol, layer_formula, network_formula, unit_formulas
from derive.maths.network import unit_symbol
from derive.maths.steps import Expanded, PartSolution, Plot, Solution, Step
from derive.render.step_context import LINE_WIDTH, display_lines, entries, step_context
from derive.spec.model import Network, Part, Spec
from derive.terms.formula import Sum, Tensor
from derive.terms.symbols import LOSS, OUTPUT, TARGET, Sym
from derive.tex import printer as latex
from derive.tex.givens import vector
from derive.tex.printer import Latex
from derive.tex.style import DEFAULT, Style

Context = dict[str, Any]


def sheet_context(solution: Solution, style: Style, logo: str = "") -> dict[str, Any]:
    """Everything the templates may print, as finished LaTeX or plain text to be escaped.

    ``logo`` is the file name the sheets include for the spec's logo (copied beside them).
    """
    spec = solution.spec
    return {
        "sheet": {
            "title": spec.sheet.title,
            "course": spec.sheet.course,
            "subtitle": spec.sheet.subtitle,
            "author": spec.sheet.author,
            "date": spec.sheet.date,
            "number": spec.sheet.number,
            "logo": Latex(logo),
        },
        "language": style.language,
        "network": {
            **network_context(spec, style),
            "diagram": step_context(solution.diagram, style) if solution.diagram else None,
        },
        "givens": broken((step_context(e, style) for g in solution.givens for e in entries(g, style)), style),
        "loss": {"formula": Latex(spec.loss.formula), "prose": spec.loss.prose, "given": spec.has_loss},
        "decimals": style.places,
        "significant": latex.significant(style.places),
        "exact": style.exact,
        "student": spec.sheet.rounding == "student",
        "parts": [part_context(p, style.for_part(p.part), spec.network) for p in solution.parts],
        "verification": {"checked": sum(1 for _ in solution.quantities())},
    }


def broken(givens: Iterable[dict[str, Any]], style: Style) -> list[dict[str, Any]]:
    """The network's givens, each marked ``breaks`` where a new display line must start to fit."""
    lines = display_lines(list(givens), style)
    return [{**given, "breaks": i > 0 and j == 0} for i, line in enumerate(lines) for j, given in enumerate(line)]


def network_context(spec: Spec, style: Style) -> dict[str, Any]:
    network = spec.network
    neurons = style.neurons
    inner = network_formula(network)
    layers = [
        {
            "number": l,
            "W": Latex(latex.symbol(Sym("W", l))),
            "units": layer.shape[0],
            "inputs": layer.shape[1],
            "activation": layer.activation.prose,
            "identity": Latex(layer.activation.identity),
            "definition": Latex(layer.activation.definition),
            "bias": layer.has_bias,
            "shared_bias": layer.shared_bias,
            # A skip connection: what the layer reads, stacked (empty for the layer below).
            "reads": Latex(", ".join(latex.symbol(input_part(network, k)) for k in layer.reads)),
            # What it reads, for running text: x, a^{(l-1)}, or its sources stacked written in a row.
            "input": Latex(
                r"\left[" + r";\ ".join(latex.symbol(input_part(network, k)) for k in layer.reads) + r"\right]"
            )
            if layer.reads
            else Latex(latex.symbol(input_symbol(network, l))),
        }
        for l, layer in enumerate(network.layers, 1)
    ]
    # With skip connections g(x) is written layer by layer: a^{(l)} = f(W^{(l)} [sources] + b^{(l)}).
    definitions = [
        {
            "symbol": Latex(latex.symbol(Sym("a", l))),
            "formula": Latex(latex.formula(layer_formula(network, l, Tensor(input_symbol(network, l))))),
        }
        for l in range(1, len(network.layers) if network.skips else 1)
    ]
    return {
        "definitions": definitions,
        "formula": Latex(latex.formula(inner)),
        "layers": layers,
        "inputs": network.inputs,
        "outputs": network.outputs,
        # Each bias written as the weight w_{j,0} on a constant input 1 (only if some layer has one).
        "bias_as_weight": spec.sheet.names.bias_as_weight and any(layer.has_bias for layer in network.layers),
        "from_to": style.from_to,
        # Neuron notation: each unit's sum and activation in place of g(x) in matrices.
        "neuron": neurons is not None,
        "units": unit_rows(network, style) if neurons is not None else [],
        "unit_names": [Latex(", ".join(neurons.units(l))) for l in range(1, neurons.depth + 1)] if neurons else [],
    }


def unit_rows(network: Network, style: Style) -> list[dict[str, Any]]:
    """Neuron notation's network, row by row: z_u = w x + … + b beside a_u = f(z_u); a long sum
    goes on in rows of its own."""
    rows: list[dict[str, Any]] = []
    for z, total, a, call in unit_formulas(network):
        terms = [latex.formula(t) for t in total.terms] if isinstance(total, Sum) else [latex.formula(total)]
        lines = [[terms[0]]]
        for term in terms[1:]:
            if latex.width(" + ".join([*lines[-1], term]), style.names) > LINE_WIDTH - 16:
                lines.append([])
            lines[-1].append(term)
        for i, line in enumerate(lines):
            rows.append(
                {
                    "first": i == 0,
                    "z": Latex(latex.symbol(z)),
                    "sum": Latex(" + ".join(line)),
                    "a": Latex(latex.symbol(a)),
                    "call": Latex(call),
                }
            )
    return rows


def biases(network: Network) -> str:
    """Whether "all", "some" or "none" of the layers add a bias (the forward pass's prose says so)."""
    have = [layer.has_bias for layer in network.layers]
    return "all" if all(have) else "some" if any(have) else "none"


def part_context(solved: PartSolution, style: Style, network: Network) -> dict[str, Any]:
    part = solved.part
    return {
        "number": part.number,
        "biases": biases(network),
        "skips": network.skips,
        "kind": part.kind.name,
        "decimals": style.places,
        "exact": style.exact,
        "title": part.title,
        "question": question_context(part, network, style),
        "neuron": style.neurons is not None,
        "from_to": style.from_to,
        "plots": any(isinstance(s, Plot) for section in solved.sections for s in section.steps),
        "sections": [
            {
                "key": section.key,
                "label": section.label,
                "steps": [step_context(s, style) for s in shown(section.steps, style)],
            }
            for section in solved.sections
        ],
    }


def shown(steps: Sequence[Step], style: Style) -> list[Step]:
    """The steps a part shows: neuron notation writes no matrices, so no matrix form of the chain rule."""
    if style.neurons is None:
        return list(steps)
    return [s for s in steps if not isinstance(s, Expanded)]


def question_context(part: Part[Any], network: Network, style: Style = DEFAULT) -> dict[str, Any]:
    """What the exercise sheet needs to ask a part: what every part may state (its sample, the
    names of the output, the loss and the target), and its kind's own givens, as LaTeX."""
    sample = part.sample
    return {
        "x": vector(sample.x, style.exact) if sample else Latex(""),
        "y": vector(sample.y, style.exact) if sample else Latex(""),
        "sample_of": part.sample_of or 0,
        "output": Latex(latex.symbol(OUTPUT)),
        "loss": Latex(latex.symbol(LOSS)),
        # A part differentiating an output ŷ_j (no loss) names it; empty for the loss.
        "of": Latex(latex.symbol(unit_symbol(network, len(network.layers), "a", part.output)) if part.output else ""),
        "target_symbol": Latex(latex.symbol(Sym(TARGET.base))),
        "outputs": network.outputs,
        **part.kind.ask(part, network, style),
    }
