"""The exam and its marking scheme, made from the verified solution: the exam's cover page, questions,
answer space and formula sheet, and the worked solution with each part's points over its steps."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from derive.catalog.activations import Activation
from derive.catalog.losses import Loss
from derive.catalog.optimizers import Optimizer
from derive.exercise.model import Spec
from derive.maths.steps import PartSolution, Plot, Solution
from derive.render.context import Context, sheet_context
from derive.render.marking import marked_part, space
from derive.render.reproduce import Redone
from derive.render.templates import environment, wrap
from derive.tex.printer import Latex, Printer
from derive.tex.style import Style

Record = Activation | Loss | Optimizer


def exam_context(solution: Solution, style: Style, logo: str = "") -> Context:
    """The exam's template context: the exercise sheet's (no working), each part's ``space`` (a TeX
    length), ``exam`` (its ``duration`` and ``instructions``) and ``formulas`` (the formula sheet's
    groups, empty without one)."""
    spec = solution.spec
    sketch = Solution(spec, solution.givens, tuple(PartSolution(p.part, ()) for p in solution.parts), solution.diagram)
    context = sheet_context(sketch, style, logo=logo)
    keys = solution.asked()
    for part, solved in zip(context["parts"], solution.parts, strict=True):
        part["space"] = Latex(space(solved.part, len(keys[solved.number])))
    context["exam"] = {"duration": spec.exam.duration, "instructions": spec.exam.instructions}
    context["formulas"] = formula_sheet(spec, style.printer(spec.network)) if spec.exam.formula_sheet else []
    return context


def marking_context(solution: Solution, style: Style, logo: str = "") -> Context:
    """The marking scheme's template context: the solution sheet's, each part's steps with their
    ``marks`` and the part's ``points`` (see :func:`derive.render.marking.marked_part`)."""
    spec = solution.spec
    sketch = Solution(spec, solution.givens, tuple(PartSolution(p.part, ()) for p in solution.parts), solution.diagram)
    context = sheet_context(sketch, style, logo=logo)
    keys = solution.asked()
    parts = [marked_part(p, style.for_part(p.part), spec, keys[p.number]) for p in solution.parts]
    redone = Redone.of(parts)
    context["parts"] = parts
    context["verification"] = {
        "checked": sum(1 for _ in solution.quantities()),
        "differences": any(part.kind.differences for part in spec.parts),
        "lines": redone.lines,
        "redone": redone.redone,
    }
    return context


def records(spec: Spec) -> list[Record]:
    """The catalogue records an exercise uses, each once, in the order it meets them: the network's
    activations, then each part's (a replaced or inserted activation, the network and loss it works
    with), the loss, and the optimizers its parts step with."""
    found: list[Record] = []
    sources: list[object] = [spec.network]
    for part in spec.parts:
        sources.append(part.params)
        if part.kind.network and part.kind.variant is not None:
            sources.extend(part.network_and_loss(spec))
    if spec.has_loss:
        sources.append(spec.loss)
    for record in _walk(sources, depth=0):
        if not any(_same(record, other) for other in found):
            found.append(record)
    return found


def _walk(value: object, depth: int) -> Iterator[Record]:
    """The records inside ``value``: a record itself, or inside a frozen record's fields, a tuple or a list."""
    if isinstance(value, Activation | Loss | Optimizer):
        yield value
    elif depth < 6 and dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _walk(getattr(value, item.name), depth + 1)
    elif depth < 6 and isinstance(value, tuple | list):
        for item in value:
            yield from _walk(item, depth + 1)


def _same(a: Record, b: Record) -> bool:
    """Whether two records state the same rule (a record made again from its parameters is a new object)."""
    return type(a) is type(b) and a.prose == b.prose and _rule(a) == _rule(b)


def _rule(record: Record) -> str:
    if isinstance(record, Activation):
        return record.identity
    if isinstance(record, Loss):
        return record.formula + record.identity
    return record.formula


def formula_sheet(spec: Spec, printer: Printer) -> list[dict[str, Any]]:
    """The formula sheet: the rules of the activations, the loss and the optimizers the exercise
    uses, each printed from its catalogue record by the sheet's printer, under its words' key."""
    used = records(spec)
    groups: list[dict[str, Any]] = []
    activations = [r for r in used if isinstance(r, Activation)]
    if activations:
        items = [
            {"group": "activation", "key": r.prose, "latex": Latex(printer.pattern(r.identity))} for r in activations
        ]
        groups.append({"key": "activations", "rules": items})
    losses = [r for r in used if isinstance(r, Loss)]
    if losses:
        items = [
            {
                "group": "",  # the heading says what it is
                "key": r.prose,
                "latex": Latex(printer.pattern(rf"@L(@yhat, @y) = {r.formula},\qquad {r.identity}")),
            }
            for r in losses
        ]
        groups.append({"key": "loss", "rules": items})
    optimizers = [r for r in used if isinstance(r, Optimizer)]
    if optimizers:
        items = [{"group": "optimizer", "key": r.prose, "latex": Latex(printer.pattern(r.formula))} for r in optimizers]
        groups.append({"key": "optimizers", "rules": items})
    return groups


def render_exam(
    solution: Solution, style: Style, extra: Sequence[Path] = (), logo: str = "", compiled: Path | None = None
) -> str:
    """The exam's LaTeX document (``exam.tex.j2``)."""
    return render_document("exam", exam_context(solution, style, logo), solution, style, extra, compiled)


def render_marking(
    solution: Solution, style: Style, extra: Sequence[Path] = (), logo: str = "", compiled: Path | None = None
) -> str:
    """The marking scheme's LaTeX document (``marking.tex.j2``)."""
    return render_document("marking", marking_context(solution, style, logo), solution, style, extra, compiled)


def render_document(
    kind: str,
    context: Context,
    solution: Solution,
    style: Style,
    extra: Sequence[Path] = (),
    compiled: Path | None = None,
) -> str:
    """The document ``kind`` ("exam" or "marking": its template ``<kind>.tex.j2``) of ``context``."""
    env = environment(extra, style, compiled)
    body = env.get_template(f"{kind}.tex.j2").render(context)
    plots = kind == "marking" and any(
        isinstance(s, Plot) for p in solution.parts for section in p.sections for s in section.steps
    )
    return wrap(kind, body, env, solution.spec, style, plots, bool(context["sheet"]["logo"]))
