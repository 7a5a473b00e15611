"""How an optimizer step is shown: its hyperparameters, each stage per tensor, or a table; frozen entries."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import sympy as sp

from derive.catalog.optimizers import Optimizer
from derive.maths.network import Backward, Params, Stepped
from derive.maths.steps import Cell, Compute, Finding, Given, Step, Table
from derive.terms.display import Join, Pattern
from derive.terms.formula import Node, Num, Quantity, Ref, Sum, Tensor
from derive.terms.keys import Scope, parameter, parse_entry
from derive.terms.symbols import LOSS, STATS, Partial, Stat, Sym, Symbolic, Tied, Updated

Display = Callable[[Optimizer, Mapping[str, Quantity], Params, Backward, Stepped, Sequence[str], bool], list[Step]]
"""How a step is shown: every stage in full (:func:`optimizer_steps`) or as a table."""


def frozen_entries(frozen: Sequence[str]) -> Join:
    """The frozen entries named one after another, as the question and the step state them."""
    return Join(tuple(parse_entry(key) for key in frozen))


def tied_groups(groups: Sequence[Sequence[str]]) -> Join:
    """Each group of tied entries as θ_g = w… = w…, the groups side by side."""
    return Join(
        tuple(Join((Tied(g), *(parse_entry(key) for key in group)), " = ") for g, group in enumerate(groups, 1)),
        r";\quad ",
    )


def initial_state(optimizer: Optimizer) -> Join:
    """m_0 = v_0 = 0: the state an optimizer starts from (empty for plain gradient descent)."""
    return Join((*(Sym(name, None, (0,)) for name in optimizer.state), Num(sp.Integer(0))), " = ")


def masked(bwd: Backward, frozen: Sequence[str], scope: Scope) -> Backward:
    """The gradients with every frozen entry's replaced by a given 0 (keyed ``<scope>frozen.dL/dw1[1,2]``)."""

    def mask(g: Quantity) -> Quantity:
        entry = g.symbol.den.key if isinstance(g.symbol, Partial) else ""
        return Quantity.given(g.symbol, sp.Integer(0), scope.tag("frozen")) if entry in frozen else g

    return remapped(bwd, mask)


def remapped(bwd: Backward, pick: Callable[[Quantity], Quantity]) -> Backward:
    """The gradients with every parameter entry's quantity passed through ``pick``."""
    weights = tuple(tuple(tuple(pick(g) for g in row) for row in w) for w in bwd.gradients.weights)
    biases = tuple(tuple(pick(g) for g in b) for b in bwd.gradients.biases)
    return replace(bwd, gradients=replace(bwd.gradients, weights=weights, biases=biases))


def tied_symbol(group: int) -> Partial:
    """∂L/∂θ_g of the g-th group of tied entries: one shared parameter θ_g."""
    return Partial(LOSS, Tied(group))


def tied(bwd: Backward, groups: Sequence[Sequence[str]], scope: Scope) -> tuple[Backward, list[Step]]:
    """Each group of tied entries is one parameter θ_g used in several places: its gradient is the
    sum of the gradients of its uses, and every entry of the group steps with that sum."""
    gradients = {g.symbol.den.key: g for g in _entries(bwd.gradients) if isinstance(g.symbol, Partial)}
    shared: dict[str, Quantity] = {}
    shown: list[Step] = []
    for number, group in enumerate(groups, 1):
        total = Quantity.computed(tied_symbol(number), Sum(tuple(Ref(gradients[key]) for key in group)), scope)
        shown.append(Compute(total.symbol, None, (total,), shape=(1, 1)))
        shared.update(dict.fromkeys(group, total))

    def pick(g: Quantity) -> Quantity:
        return shared.get(g.symbol.den.key, g) if isinstance(g.symbol, Partial) else g

    return remapped(bwd, pick), shown


def _entries(params: Params) -> list[Quantity]:
    return [q for w in params.weights for row in w for q in row] + [q for b in params.biases for q in b]


FULL_VALUES = 12
"""Most values an optimizer step shows stage by stage, tensor by tensor; a larger step (Adam on
nine parameters computes 45) shows every stage worked for one entry, then a table of all entries."""


def hyper_givens(hyper: Mapping[str, Quantity]) -> list[Step]:
    """α and the optimizer's hyperparameters, each shown as a given."""
    return [Given(Sym(name), ((q,),)) for name, q in hyper.items()]


def optimizer_steps(
    optimizer: Optimizer,
    hyper: Mapping[str, Quantity],
    params: Params,
    bwd: Backward,
    stepped: Stepped,
    names: Sequence[str],
    show_hyper: bool = True,
) -> list[Step]:
    """The givens (α, β…) and, per parameter tensor, one Compute per optimizer stage; beyond
    :data:`FULL_VALUES` values, one entry worked in full and a table (:func:`optimizer_table`)."""
    if len(optimizer.stages) * sum(len(flat(params.tensor(name))) for name in names) > FULL_VALUES:
        return optimizer_table(optimizer, hyper, params, bwd, stepped, names, show_hyper, explained=show_hyper)
    t = stepped.state.t
    steps = hyper_givens(hyper) if show_hyper else []
    first = bwd.gradients.tensor(names[0])[0][0].symbol  # the first parameter's: W^{(1)} need not be stepped
    of = first.num if isinstance(first, Partial) else LOSS  # L, or L_n for one sample of a batch
    for name in names:
        symbol = parameter(name)
        env: dict[str, Node] = {
            "theta": Tensor(symbol if t == 1 else Updated(symbol, t - 1), params.tensor(name)),
            "g": Tensor(Partial(of, symbol), bwd.gradients.tensor(name)),
            **{h: Tensor(Sym(h), ((q,),)) for h, q in hyper.items()},
        }
        for kept in optimizer.state:
            env[f"{kept}_prev"] = Num(sp.Integer(0)) if t == 1 else Tensor(Stat(kept, symbol, t - 1))
        for stage, formula in optimizer.stages:
            target: Symbolic = Updated(symbol, t) if stage == "theta" else Stat(stage, symbol, t)
            values = stepped.stages[stage].tensor(name)
            steps.append(Compute(target, formula(env, t), flat(values), shape=(len(values), len(values[0]))))
            env[stage] = Tensor(target, values)
    return steps


def optimizer_table(
    optimizer: Optimizer,
    hyper: Mapping[str, Quantity],
    params: Params,
    bwd: Backward,
    stepped: Stepped,
    names: Sequence[str],
    show_hyper: bool = True,
    explained: bool = False,
) -> list[Step]:
    """A compact optimizer step: every stage worked out for one parameter, then a table for all;
    ``explained``: a sentence names the entry worked out (where no heading says how it is chosen)."""
    t = stepped.state.t
    steps = hyper_givens(hyper) if show_hyper else []
    stages = [stage for stage, _ in optimizer.stages]
    entries = [
        (theta, g, [stepped.stages[stage].tensor(name)[i][j] for stage in stages])
        for name in names
        for i, (row, grow) in enumerate(zip(params.tensor(name), bwd.gradients.tensor(name), strict=True))
        for j, (theta, g) in enumerate(zip(row, grow, strict=True))
    ]
    worked = next((e for e in entries if e[1].exact != 0), entries[0])
    if explained:
        steps.append(Finding("worked_entry", (("entry", _origin(worked[0].symbol)),)))
    steps.extend(Compute(q.symbol, None, (q,)) for q in worked[2])
    header = (
        Pattern(r"\theta" if t == 1 else rf"\theta_{{{t - 1}}}"),
        Pattern("g"),
        *(Pattern(f"{STATS.get(stage, stage)}_{{{t}}}") for stage in stages[:-1]),
        Pattern(rf"\theta_{{{t}}}"),
    )
    rows: tuple[tuple[Cell, ...], ...] = tuple((_origin(theta.symbol), g, *values) for theta, g, values in entries)
    steps.append(Table("optimizer_step", header, rows, decimals_only=True))
    return steps


def _origin(symbol: Symbolic) -> Symbolic:
    """The given parameter behind a stepped one: w^{(1)}_{1,1} for w''^{(1)}_{1,1}."""
    return symbol.of if isinstance(symbol, Updated) else symbol


def flat(matrix: Sequence[Sequence[Quantity]]) -> tuple[Quantity, ...]:
    return tuple(q for row in matrix for q in row)
