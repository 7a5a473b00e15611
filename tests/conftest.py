"""Shared fixtures: the built-in example, solved once per session."""

from __future__ import annotations

from typing import Any

import pytest

import derive
from derive.steps import Solution


@pytest.fixture(scope="session")
def example() -> Solution:
    return derive.solve(derive.load_example())


@pytest.fixture(scope="session")
def example_answers(example: Solution) -> dict[str, Any]:
    from derive.answers import answers

    return answers(example, 4)
