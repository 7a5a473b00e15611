"""The template context of a sheet: its network, givens and parts, every value as finished LaTeX."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sympy as sp

from derive.maths.general import input_part, input_symbol, layer_formula, network_formula, unit_formulas
from derive.maths.network import unit_symbol
from derive.maths.steps import Expanded, PartSolution, Plot, Solution, Step
from derive.maths.updates import param_symbol
from derive.render.step_context import LINE_WIDTH, display_lines, entries, flipped, oriented, step_context
from derive.spec.model import Network, Part, Spec
from derive.terms.formula import Sum, Tensor
from derive.terms.keys import symbol_of
from derive.terms.symbols import LOSS, OUTPUT, TARGET, Sym, Symbolic
from derive.tex import printer as latex
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
        "kind": part.kind,
        "decimals": style.places,
        "exact": style.exact,
        "title": part.title,
        "question": question_context(part, network, style.exact, style),
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


def question_context(part: Part, network: Network, exact: bool = True, style: Style = DEFAULT) -> dict[str, Any]:
    """What the exercise sheet needs to ask a part: its givens as LaTeX (decimals unless ``exact``)."""

    def vector(values: Sequence[Any]) -> Latex:
        # In running text a column vector is written as a transposed row: (1, -1)^T.
        texts = [latex.given(v, exact) for v in values]
        if len(texts) == 1:
            return Latex(texts[0])
        return Latex(r"(" + ", ".join(texts) + r")^{\top}")

    names = part.wrt or ()
    sample = part.sample
    return {
        "x": vector(sample.x) if sample else Latex(""),
        "y": vector(sample.y) if sample else Latex(""),
        "sample_of": part.sample_of or 0,
        "claim": vector(part.claim) if part.claim else Latex(""),
        "learning_rate": Latex(latex.given(part.learning_rate, exact)) if part.learning_rate is not None else Latex(""),
        "wrt": [Latex(latex.symbol(s, flipped(s, style))) for n in names for s in wrt_symbols(n, network, style)],
        "layer": part.layer or 0,
        "activation": Latex(part.activation.identity) if part.activation else Latex(""),
        "activation_prose": part.activation.prose if part.activation else "",
        "probabilities": Latex(", ".join(latex.terminating(p, 12) or latex.inline(p) for p in part.probabilities)),
        "rates": Latex(", ".join(latex.inline(r) for r in part.learning_rates)),
        "steps": part.steps,
        "layers": ", ".join(map(str, part.layers)),
        "layers_many": len(part.layers) > 1,
        "dead_x": vector(part.dead_x) if part.dead_x else Latex(""),
        "target": Latex(latex.inline(part.target)),
        "after": part.after or 0,
        # Indexed from input to unit, the sheet's W is the transpose of the spec's rows per unit.
        "inserted_w": Latex(_matrix_of(oriented(part.inserted.weights, style.from_to))) if part.inserted else Latex(""),
        "inserted_symbol": Latex(latex.symbol(Sym("W"), style.from_to)),
        "inserted_b": vector(part.inserted.bias) if part.inserted else Latex(""),
        **_hyper_context(part),
        "optimizer": part.optimizer.prose if part.optimizer else "",
        "optimizer_formula": Latex(part.optimizer.formula) if part.optimizer else Latex(""),
        "hyper": Latex(_hyper_list(part)),
        "output": Latex(latex.symbol(OUTPUT)),
        "loss": Latex(latex.symbol(LOSS)),
        # A part differentiating an output ŷ_j (no loss) names it; empty for the loss.
        "of": Latex(latex.symbol(unit_symbol(network, len(network.layers), "a", part.output)) if part.output else ""),
        "target_symbol": Latex(latex.symbol(Sym(TARGET.base))),
        "outputs": network.outputs,
        "samples": [{"x": vector(s.x), "y": vector(s.y)} for s in part.samples],
        "mode": part.mode,
        "batch_mean": part.batch_mean,
    }


def wrt_symbols(name: str, network: Network, style: Style) -> list[Symbolic]:
    """A parameter a part asks about: W^{(l)} whole, or in neuron notation each of its entries."""
    symbol = param_symbol(name)
    if style.neurons is None or name == "x":
        return [symbol]
    layer = network.layers[symbol.layer - 1]  # type: ignore[operator]
    units, inputs = layer.shape
    if symbol.base == "W":
        return [Sym("w", symbol.layer, (j, k)) for j in range(1, units + 1) for k in range(1, inputs + 1)]
    if layer.shared_bias:
        return [symbol]
    return [symbol_of("b", symbol.layer, units, j) for j in range(1, units + 1)]


def _matrix_of(rows: Sequence[Sequence[Any]]) -> str:
    return latex.matrix([[latex.inline(v) for v in row] for row in rows])


def _hyper_value(value: sp.Rational) -> str:
    """A hyperparameter as the exercise states it: 0.9, and 10^{-8} rather than 0.00000001."""
    digits = len(str(value.q)) - 1
    if value.p == 1 and value.q == 10**digits and digits >= 4:
        return rf"10^{{-{digits}}}"
    return latex.terminating(value, 12) or latex.inline(value)


def _hyper_list(part: Part) -> str:
    """ "β = 0.9, ε = 10^{-8}": every hyperparameter of the part's optimizer, as used."""
    if part.optimizer is None:
        return ""
    values = {**part.optimizer.hyper, **dict(part.hyper)}
    return r",\ ".join(f"{part.optimizer.hyper_latex[name]} = {_hyper_value(value)}" for name, value in values.items())


def _hyper_context(part: Part) -> dict[str, Latex]:
    """β1, β2, ε of the part's optimizer (its defaults unless the spec sets them)."""
    values = {**part.optimizer.hyper, **dict(part.hyper)} if part.optimizer else {}
    return {name: Latex(_hyper_value(values[name]) if name in values else "") for name in ("beta1", "beta2", "epsilon")}
