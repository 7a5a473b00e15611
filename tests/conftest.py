"""Shared fixtures: the built-in example, solved once per session."""

from __future__ import annotations

import pytest

import derive
from derive.steps import Solution


@pytest.fixture(scope="session")
def example() -> Solution:
    return derive.solve(derive.load_example())
