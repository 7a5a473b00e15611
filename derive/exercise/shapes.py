"""What each key of a spec takes: one shape per key, declared beside the reader that reads it, from
which :mod:`derive.schema` writes the JSON Schema an editor checks a spec with while it is typed.

The reader keeps its own hand-written checks (their messages name the field and its TOML line);
the shapes say the same in the form a schema can: a new key without a shape fails the schema's tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Tag = Literal[
    "number",  # an integer, a decimal, or a string "1/2", "0.15", "3e-2", or a closed form "sqrt(2)/2"
    "positive",  # a number above 0
    "numbers",  # a non-empty list of numbers
    "numbers_or_number",  # a list of numbers, or one number for a list of one
    "matrix",  # a list of rows of numbers
    "whole",  # an integer from low to high
    "wholes",  # a non-empty list of integers from low to high
    "text",  # a string
    "flag",  # true or false
    "choice",  # one of the strings in choices
    "name",  # a notation name: letters, or "hat" and letters
    "logo",  # an image file name
    "activation",  # a catalogue activation: its name, or a table of its name and parameters
    "scalar_activation",  # an activation of one number (not softmax, which maps a whole layer)
    "optimizer",  # a catalogue optimizer: its name, or a table overriding its hyperparameters
    "parameters",  # a list of parameter names W1, b1, … (and x, where choices has it)
    "entries",  # a list of tensors or entries: W1, w1[1,2], b2[1]
    "groups",  # a list of groups of two or more entries
    "samples",  # a list of tables { x = [...], y = [...] }
    "objective",  # "L", "yhat" or "yhat[j]"
    "bias",  # a layer's bias: numbers, one number, "none", or { shared = number }
    "reads",  # a layer's sources: "x" or the numbers of earlier layers
    "tensors",  # a table of named tensors: W<l> a matrix (or a row, or a number), b<l> a vector (or a number)
    "state",  # a table of an optimizer's state names (m, v, s, r), each a table of named tensors
    "values",  # a table of variables' values { x = -2, y = 5 }, at most high of them
    "neuron",  # a table { w = [...], x = [...], b = number, activation = one of choices, index_from = 0 or 1 }
    "points",  # a positive number of points, whole or halves, at most high
    "splits",  # a list of at most high numbers of points (0 or more, whole or halves)
    "length",  # a length such as "6cm", "45mm" or "2.5in"
    "tables",  # an array of tables ([[network.layers]], [[parts]]): their keys are declared beside
    "ranges",  # a table of spec paths, each a range { from, to, step, exclude } or { values = [...] }
    "choices",  # a list of the strings in choices
]


@dataclass(frozen=True)
class Shape:
    """One key's value: its tag, bounds (whole numbers, list lengths), choices, and a line for an editor."""

    tag: Tag
    doc: str
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()


def whole(low: int, high: int, doc: str) -> Shape:
    return Shape("whole", doc, low, high)


def choice(choices: tuple[str, ...] | list[str], doc: str) -> Shape:
    return Shape("choice", doc, choices=tuple(choices))


def optimizer_key(default: str) -> Shape:
    """An optimizer key; a table without a name overrides ``default``'s hyperparameters."""
    return Shape(
        "optimizer",
        f'the optimizer (default "{default}"), or a table {{ name = ..., hyperparameters }}',
        choices=(default,),
    )


LEARNING_RATE = Shape("positive", "the learning rate α")
WRT_PARAMETERS = Shape("parameters", "the parameters it moves (default: every one)")
WRT_OR_INPUT = Shape(
    "parameters", 'the parameters to differentiate by (default: every one); "x" for the input', choices=("x",)
)
