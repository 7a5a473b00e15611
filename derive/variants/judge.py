"""Whether a drawn instance is a good exercise: the degeneracies found in its exact solution (a zero
gradient, a dead ReLU, a saturated unit, an asked value too large or with too many digits), each
where it lies, so that what the spec's own instance already shows (the part asks for it) is allowed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import sympy as sp

from derive.exercise.model import Spec
from derive.exercise.variation import Good
from derive.maths.steps import Solution
from derive.terms.formula import Apply, Quantity, small
from derive.terms.symbols import Partial, Sym

SATURATING = ("sigmoid", "tanh")
"""Activations whose slope vanishes for large |z|."""
DEAD = ("relu",)
"""Activations whose slope is 0 for every z ≤ 0."""
EXACT_NODES = 400
"""Largest exact value whose numbers are counted (a longer one is shown as a decimal)."""
_COUNTED = re.compile(r"(t|s|run)\d+")
"""Scope steps that number repetitions (a step, a sample, a run): a finding anywhere in them is one place."""


@dataclass(frozen=True)
class Finding:
    """One degeneracy: its check (:data:`derive.exercise.variation.CHECKS`), where it lies (the part and
    its tags, such as ``p9.dead``) and the quantity that shows it."""

    check: str
    where: str
    key: str
    uses: frozenset[str] = frozenset()
    """The given quantities (parameters, inputs) it is computed from: which varied givens caused it."""


def place(q: Quantity) -> str:
    """Where ``q`` lies, steps, samples and runs left out: ``p8`` for ``p8.run2.t5.z1[1]``."""
    return ".".join(step for step in q.scope.path if not _COUNTED.fullmatch(step))


def asked(solution: Solution) -> set[str]:
    """The keys of the quantities the parts ask for (the answer key), as the answers file marks them."""
    return set().union(*solution.asked().values())


def digits(value: sp.Expr) -> int:
    """The digits of a value's numbers, numerator and denominator, at most: 37/64 has 4, e^{-3/2} 2."""
    numbers = [value] if value.is_Rational else list(value.atoms(sp.Rational))
    return max((len(str(abs(int(r.p)))) + (len(str(int(r.q))) if r.q != 1 else 0) for r in numbers), default=0)


def givens(q: Quantity) -> frozenset[str]:
    """The keys of the given quantities ``q`` is computed from (walking its formulas down)."""
    return q.givens()


def findings(solution: Solution, good: Good) -> list[Finding]:
    """Every degeneracy of ``solution`` under the budget ``good``, in the sheet's order."""
    found: list[Finding] = []
    wanted = asked(solution)
    gradients: dict[tuple[str, str, object], list[Quantity]] = {}
    for q in solution.quantities():
        if q.scope.number is None:
            continue  # the given parameters themselves
        formula = q.formula
        if isinstance(formula, Apply):
            name = formula.function.name
            z = formula.arg.approx()
            if name in SATURATING and abs(z) > good.saturation:
                found.append(Finding("saturated", place(q), q.key, givens(q)))
            elif name in DEAD and z <= 0:
                found.append(Finding("dead_relu", place(q), q.key, givens(q)))
        symbol = q.symbol
        if (
            isinstance(symbol, Partial)
            and symbol.num.base == "L"
            and isinstance(symbol.den, Sym)
            and symbol.den.base in ("w", "b")
        ):
            gradients.setdefault((str(q.scope), symbol.den.base, symbol.den.layer), []).append(q)
        if q.key in wanted and not q.stands:
            if abs(q.approx) > good.max_value:
                found.append(Finding("size", place(q), q.key, givens(q)))
            elif small(q.exact, EXACT_NODES) and digits(q.exact) > good.max_digits:
                found.append(Finding("digits", place(q), q.key, givens(q)))
    for (_, base, layer), entries in gradients.items():
        if all(abs(q.approx) <= good.min_gradient for q in entries):
            # Where: the part and the tensor (the spec's own 0 for W1 allows that one, not W2's too).
            where = f"{place(entries[0])}.{base}{layer}"
            found.append(Finding("zero_gradient", where, entries[0].key, givens(entries[0])))
    found.extend(same_samples(solution))
    return found


def same_samples(solution: Solution) -> list[Finding]:
    """A part asked of the very input and target an earlier part of its kind gives (not by
    use_sample_of, where it is the point): the sheet would ask the same question twice."""
    found: list[Finding] = []
    first: dict[tuple[str, object], int] = {}
    for part in solution.spec.parts:
        if part.sample is None or part.sample_of is not None:
            continue
        earlier = first.setdefault((part.kind.name, part.sample), part.number)
        if earlier != part.number:
            found.append(Finding("same_sample", f"p{part.number}", f"p{part.number}"))
    return found


def allowed(base: Iterable[Finding]) -> frozenset[tuple[str, str]]:
    """What a variant may show: the degeneracies of the spec's own instance, where they lie (a part
    whose numbers the author chose so asks for it); ``good.allow`` lets a check through everywhere."""
    return frozenset((f.check, f.where) for f in base)


def required(base: Iterable[Finding]) -> frozenset[tuple[str, str]]:
    """What a variant must still show: a dead unit where the part shows one (``dead_x``)."""
    return frozenset((f.check, f.where) for f in base if shows(f) and f.check == "dead_relu")


def rejection(
    found: list[Finding], allow: frozenset[tuple[str, str]], good: Good, need: frozenset[tuple[str, str]] = frozenset()
) -> Finding | None:
    """The first degeneracy that makes an instance a bad exercise (or a degeneracy the part shows
    that it no longer has: reason ``lost``), or None for a good one."""
    have = {(f.check, f.where) for f in found}
    for check, where in sorted(need - have):
        return Finding("lost", where, f"{where} ({check})")
    return next((f for f in found if not (f.check in good.allow or (f.check, f.where) in allow or shows(f))), None)


def shows(finding: Finding) -> bool:
    """Whether the finding lies where a part shows a degeneracy on purpose (the input at which a ReLU
    unit is dead: its gradients of 0 are the point)."""
    return "dead" in finding.where.split(".")[1:]


def claim_value(values: Iterable[sp.Expr], good: Good) -> tuple[sp.Rational, ...] | None:
    """A "show that" claim made again for a variant: its output, where each value is a short exact
    number (a rational within the digit budget); None where it is not (the instance is rejected)."""
    claim = tuple(values)
    if all(isinstance(v, sp.Rational) and digits(v) <= good.max_digits for v in claim):
        return claim  # type: ignore[return-value]
    return None


def sources(spec: Spec, keys: Iterable[str]) -> set[str]:
    """The spec paths (without entry indices) of the givens named by answer keys: ``w1[2,1]`` is
    ``network.layers[1].weights``, ``p4.x[1]`` the x of the part whose sample part 4 uses."""
    paths: set[str] = set()
    for key in keys:
        match = re.fullmatch(r"(?:p(\d+)\.)?([A-Za-z]+?)(\d*)(?:\[.*\])?", key)
        if match is None:
            continue
        part, base, layer = match.groups()
        if part is None and base in ("w", "b") and layer:
            paths.add(f"network.layers[{layer}].{'weights' if base == 'w' else 'bias'}")
        elif part is not None and base in ("x", "y") and not layer:
            number = int(part)
            owner = spec.parts[number - 1].sample_of if 0 < number <= len(spec.parts) else None
            paths.add(f"parts[{owner or number}].{base}")
        elif part is not None:
            paths.add(f"parts[{part}]")
    return paths
