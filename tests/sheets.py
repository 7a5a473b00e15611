"""Which example specs are one exercise (most tests load them with load_spec) and which are sheets of several."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def several(path: Path) -> bool:
    """Whether the spec at ``path`` is a sheet of several exercises (``[[exercises]]``)."""
    return "[[exercises]]" in path.read_text(encoding="utf-8")


def single(paths: Iterable[Path]) -> list[Path]:
    """The specs of one exercise among ``paths``, in their order."""
    return [path for path in paths if not several(path)]
