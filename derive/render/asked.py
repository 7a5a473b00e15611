"""The answer key: which of a part's quantities its question asks the student to give.

Each kind's rule follows its question (``question_<kind>`` in the language catalogues): the values
it names (the output, the loss, the gradients of the parameters, the new parameters, …) are asked;
the values that lead to them (δ, ∂L/∂a, an optimizer's state), the givens and the plot's points are not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from derive.catalog.optimizers import OPTIMIZERS
from derive.terms.formula import Quantity
from derive.terms.symbols import (
    OUTPUT,
    LossAt,
    LossSlope,
    Norm,
    Partial,
    PredictionError,
    Stat,
    StepSize,
    Sym,
    Updated,
)

Rule = Callable[[list[Quantity]], set[str]]
"""A kind's rule: the keys it asks for among the quantities one of its parts shows."""


def _tail(q: Quantity) -> tuple[str, ...]:
    """Where in its part a quantity lies: () at the part's own level, ("s1",) in a sample, ("run2", "t3") …"""
    return q.scope.path[1:]


def _is(q: Quantity, *bases: str) -> bool:
    return isinstance(q.symbol, Sym) and q.symbol.base in bases


def _gradient(q: Quantity, inputs: bool = True) -> bool:
    """∂L/∂θ (or ∂ŷ_j/∂θ) for a parameter entry θ, or the input x: not δ, ∂L/∂a or ∂L/∂ŷ."""
    s = q.symbol
    bases = ("w", "b", "x") if inputs else ("w", "b")
    return isinstance(s, Partial) and isinstance(s.den, Sym) and s.den.base in bases


def _parameter(s: object) -> bool:
    return isinstance(s, Sym) and s.base in ("w", "b")


def _last(quantities: Iterable[Quantity], keep: Callable[[Quantity], bool]) -> set[str]:
    """The keys of the kept updated values after the last step (the parameters and loss a question asks for)."""
    kept = [q for q in quantities if isinstance(q.symbol, Updated) and keep(q)]
    last = max((q.symbol.times for q in kept if isinstance(q.symbol, Updated)), default=0)
    return {q.key for q in kept if isinstance(q.symbol, Updated) and q.symbol.times == last}


def _new_parameters(quantities: list[Quantity], every_step: bool = False) -> set[str]:
    def keep(q: Quantity) -> bool:
        return not _tail(q) and isinstance(q.symbol, Updated) and _parameter(q.symbol.of)

    if every_step:
        return {q.key for q in quantities if keep(q)}
    return _last(quantities, keep)


def _new_loss(quantities: list[Quantity]) -> set[str]:
    return _last(quantities, lambda q: not _tail(q) and isinstance(q.symbol, Updated) and q.symbol.of.base == "L")


def forward(quantities: list[Quantity]) -> set[str]:
    """Every layer's z and a, the output ŷ and the loss L."""
    return {q.key for q in quantities if not _tail(q) and _is(q, "z", "a", OUTPUT.base, "L")}


def show_that(quantities: list[Quantity]) -> set[str]:
    """ŷ (shown to be exact) and the loss L."""
    return {q.key for q in quantities if not _tail(q) and _is(q, OUTPUT.base, "L")}


def gradients(quantities: list[Quantity]) -> set[str]:
    """The gradient of L (or of an output) for every parameter entry asked, and x where asked."""
    return {q.key for q in quantities if not _tail(q) and _gradient(q)}


def update(quantities: list[Quantity]) -> set[str]:
    """The new parameters and the new loss, after the last step."""
    return _new_parameters(quantities) | _new_loss(quantities)


def replace_activation(quantities: list[Quantity]) -> set[str]:
    """ŷ, L and every parameter's gradient with the new activation, the new parameters and the loss after."""
    own = {q.key for q in quantities if not _tail(q) and (_is(q, OUTPUT.base, "L") or _gradient(q, inputs=False))}
    return own | update(quantities)


def cross_entropy(quantities: list[Quantity]) -> set[str]:
    """The table of L(p, y), and for the network p, the loss and its gradient p − y at the output."""
    return {
        q.key
        for q in quantities
        if (isinstance(q.symbol, LossAt) and "plot" not in _tail(q))
        or (not _tail(q) and (_is(q, OUTPUT.base, "L") or isinstance(q.symbol, PredictionError)))
    }


def learning_rates(quantities: list[Quantity]) -> set[str]:
    """The loss after every step of every run (the table and the plot)."""
    return {q.key for q in quantities if isinstance(q.symbol, Updated) and q.symbol.of.base == "L"}


def training_run(quantities: list[Quantity]) -> set[str]:
    """The loss after each step the table lists, and the parameters after each exact step and after the last."""
    table = {q.key for q in quantities if not _tail(q) and isinstance(q.symbol, Updated) and q.symbol.of.base == "L"}
    return table | _new_parameters(quantities, every_step=True)


def compare_activation(quantities: list[Quantity]) -> set[str]:
    """With ReLU: ŷ, L and the gradients; the gradient sizes per layer; the gradients at the dead input."""
    return {
        q.key
        for q in quantities
        if (not _tail(q) and (_is(q, OUTPUT.base, "L") or _gradient(q, inputs=False)))
        or isinstance(q.symbol, Norm)
        or (_tail(q) == ("dead",) and _gradient(q, inputs=False))
    }


def compare_optimizer(quantities: list[Quantity]) -> set[str]:
    """The parameters after each of the steps, and each parameter's first step beside SGD's."""
    return _new_parameters(quantities, every_step=True) | {q.key for q in quantities if isinstance(q.symbol, StepSize)}


def mse_vs_ce(quantities: list[Quantity]) -> set[str]:
    """∂L/∂z under both losses at every p."""
    return {q.key for q in quantities if isinstance(q.symbol, LossSlope)}


def extra_layer(quantities: list[Quantity]) -> set[str]:
    """With the extra layer: ŷ, L and the gradients; the first layer's gradient size with and without it."""
    return {
        q.key
        for q in quantities
        if (not _tail(q) and (_is(q, OUTPUT.base, "L") or _gradient(q, inputs=False))) or isinstance(q.symbol, Norm)
    }


def activation_values(quantities: list[Quantity]) -> set[str]:
    """a = f(z) and the slope f'(z) at every point."""
    return {q.key for q in quantities if _is(q, "a") or isinstance(q.symbol, Partial)}


def batch(quantities: list[Quantity]) -> set[str]:
    """Per sample ŷ, L_n and its gradients; the batch loss and gradient; the parameters and the batch
    loss after each step; over several epochs also the samples' losses before each step and after the last."""
    epochs = any(_tail(q)[:1] and _tail(q)[0].startswith("t") for q in quantities)
    asked = set()
    for q in quantities:
        tail, s = _tail(q), q.symbol
        new = isinstance(s, Updated) and (_parameter(s.of) or s.of.base == "L")
        if not tail:
            wanted = _is(q, "L") or _gradient(q) or new
        elif len(tail) == 1 and tail[0].startswith("s"):  # one sample's pass
            wanted = _is(q, OUTPUT.base, "L") or _gradient(q) or (epochs and new)
        else:  # a sample's pass at a later epoch: its loss goes in the table
            wanted = epochs and _is(q, "L")
        if wanted:
            asked.add(q.key)
    return asked


KEPT = frozenset(kept for optimizer in OPTIMIZERS.values() for kept in optimizer.state)
"""The names of an optimizer's state carried to the next step (m, v, s, r; not m̂, v̂)."""


def optimizer_step(quantities: list[Quantity]) -> set[str]:
    """The new parameters and the new state of the step (not the given state, not m̂, v̂)."""
    return _new_parameters(quantities) | {
        q.key
        for q in quantities
        if isinstance(q.symbol, Stat) and q.formula is not None and q.symbol.name in KEPT and not _tail(q)
    }


def circuit(quantities: list[Quantity]) -> set[str]:
    """The output f and its gradient with respect to every variable (not the wires between gates)."""
    return {
        q.key
        for q in quantities
        if _is(q, "f")
        or (
            isinstance(q.symbol, Partial)
            and q.symbol.num.base == "f"
            and isinstance(q.symbol.den, Sym)
            and q.symbol.den.base not in ("f", "q")
        )
    }


RULES: Mapping[str, Rule] = {
    "forward": forward,
    "show_that": show_that,
    "gradients": gradients,
    "update": update,
    "replace_activation": replace_activation,
    "cross_entropy": cross_entropy,
    "learning_rates": learning_rates,
    "compare_activation": compare_activation,
    "compare_optimizer": compare_optimizer,
    "mse_vs_ce": mse_vs_ce,
    "extra_layer": extra_layer,
    "activation_values": activation_values,
    "batch": batch,
    "optimizer_step": optimizer_step,
    "circuit": circuit,
    "training_run": training_run,
}
"""Each part kind's rule, by name: a kind without one is a KeyError when its answers are written
(tests/test_answers_schema.py checks that every kind of :data:`derive.kinds.KINDS` has one)."""
