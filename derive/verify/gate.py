"""The verification gate: every exact value against the float64 twins, every gradient against differences.

A mismatch beyond the named tolerances raises :class:`VerificationError` naming the quantity, and
the pipeline writes nothing.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import sympy as sp

from derive.errors import VerificationError
from derive.maths.steps import Solution
from derive.terms.formula import small
from derive.verify.decimal_walk import walked
from derive.verify.twins import expected

REL_TOL = 1e-9
"""Relative tolerance between an exact value and the float64 engine."""
ABS_TOL = 1e-12
"""Absolute floor for values that cancel to (nearly) zero."""
FD_TOL = 1e-6
"""Tolerance (relative, with an absolute floor of the same size) for finite differences."""


def _disagrees(value: sp.Expr, carried: float) -> bool:
    """Whether an exact value (when small enough to evaluate cheaply) differs from its carried decimal."""
    if value.is_Rational:
        return abs(float(value) - carried) > REL_TOL * max(abs(carried), 1.0)
    if value.is_Float or not small(value, 80) or value.free_symbols:
        return False
    return abs(_evaluated(value) - carried) > REL_TOL * max(abs(carried), 1.0)


@functools.lru_cache(maxsize=4096)
def _evaluated(value: sp.Expr) -> float:
    """A closed form evaluated once per value (a third of a sheet's forms repeat one shown before:
    recalled values, equal gradients): walked in decimals, or by SymPy where the walk cannot vouch."""
    value_walked = walked(value)
    # 15 digits settle a 1e-9 comparison (20 cost SymPy 50 % more).
    return value_walked if value_walked is not None else float(value.evalf(15))


@dataclass(frozen=True)
class Report:
    """What the gate checked: counts and the largest deviations seen."""

    values: int
    differences: int
    max_relative: float
    max_difference: float


def verify(solution: Solution) -> Report:
    """Check every quantity of ``solution``; raise :class:`VerificationError` on the first mismatches."""
    reference = expected(solution.spec)
    problems: list[str] = []
    checked = fd_checked = 0
    worst = worst_fd = 0.0
    for q in solution.quantities():
        if q.key not in reference.values:
            problems.append(f"{q.key}: no independent float64 value to check it against")
            continue
        exact = float(q.approx)
        twin = reference.values[q.key]
        checked += 1
        if not (math.isfinite(exact) and math.isfinite(twin)):
            if exact != twin:  # an infinite loss must be infinite in both engines
                problems.append(f"{q.key}: exact value {exact} but float64 gives {twin}")
            continue
        scale = max(abs(exact), abs(twin))
        error = abs(exact - twin)
        worst = max(worst, error / scale if scale > 0 else 0.0)
        if error > REL_TOL * scale + ABS_TOL:
            problems.append(f"{q.key}: exact value {exact:.12g} but float64 gives {twin:.12g}")
        if _disagrees(q.exact, exact):
            problems.append(f"{q.key}: exact form {q.exact} does not evaluate to its carried decimal {exact:.12g}")
        if q.key in reference.differences:
            fd_checked += 1
            estimate, noise = reference.differences[q.key]
            # Under the student policy the differences confirm the gradient before rounding; the
            # rounded value on the sheet is the rounded twin's, checked above.
            deviation = abs(estimate - reference.unrounded.get(q.key, exact))
            worst_fd = max(worst_fd, deviation)
            if deviation > FD_TOL * max(1.0, abs(exact)) + noise:
                problems.append(f"{q.key}: exact gradient {exact:.12g} but finite differences give {estimate:.12g}")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise VerificationError("verification failed: " + "; ".join(problems[:3]) + more)
    return Report(checked, fd_checked, worst, worst_fd)
