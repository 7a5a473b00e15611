"""The part kinds: one module each, exporting one :class:`~derive.exercise.kind.PartKind` record.

Adding a kind is one module here (its keys, reader, derivation, float twin and question) and its
words in the language catalogues (``question_<name>`` and the headings of its sections).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from derive.exercise.kind import PartKind
from derive.kinds import (
    activation_values,
    batch,
    circuit,
    compare_activation,
    compare_optimizer,
    cross_entropy,
    extra_layer,
    forward,
    gradients,
    learning_rates,
    mse_vs_ce,
    optimizer_step,
    replace_activation,
    show_that,
    training_run,
    update,
)

MODULES = (
    forward,
    show_that,
    gradients,
    update,
    replace_activation,
    cross_entropy,
    learning_rates,
    compare_activation,
    compare_optimizer,
    mse_vs_ce,
    extra_layer,
    batch,
    training_run,
    activation_values,
    optimizer_step,
    circuit,
)
KINDS: Mapping[str, PartKind[Any]] = {module.KIND.name: module.KIND for module in MODULES}
"""Every part kind by name, in the order the documentation lists them."""
