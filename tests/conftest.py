"""Shared fixtures: the built-in example, solved once per session."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import derive
from derive.maths.steps import Solution


@pytest.fixture(scope="session")
def example() -> Solution:
    return derive.solve(derive.load_example())


@pytest.fixture(scope="session")
def example_answers(example: Solution) -> dict[str, Any]:
    from derive.render.answers import answers

    return answers(example, 4)


@pytest.fixture(scope="session", autouse=True)
def format_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Cached TeX formats go to a folder of this test session, not the user's cache; so does the key
    that seals cache entries."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        yield


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary-files folder of this test alone (``tempfile`` here, ``TMPDIR`` for children), so
    that what it leaves behind, or leaves running, is not confused with other builds on the machine."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def tex_running_in(folder: Path, command_has: bytes = b"pdflatex") -> bool:
    """Whether a pdflatex (a process whose command line has ``command_has``) runs with its working
    folder below ``folder`` (Linux: /proc)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
            command = (proc / "cmdline").read_bytes()
        except OSError:  # gone, or not ours to read
            continue
        if cwd.startswith(str(folder)) and command_has in command:
            return True
    return False
