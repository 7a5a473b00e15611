"""Shared fixtures: the built-in example, solved once per session."""

from __future__ import annotations

from collections.abc import Iterator
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


@pytest.fixture(scope="session", autouse=True)
def format_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Cached TeX formats go to a folder of this test session, not the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield
