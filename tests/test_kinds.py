"""The part kinds: each is one module exporting one whole record, and the registry is built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

import derive
from derive.exercise.kind import PartKind
from derive.exercise.parts import COMMON
from derive.kinds import KINDS, MODULES
from tests.sheets import single

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [ROOT / "derive/examples/backprop.toml", *single(sorted((ROOT / "examples").glob("*.toml")))]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_each_kind_is_one_module_exporting_one_whole_record(module: object) -> None:
    kind = getattr(module, "KIND")  # noqa: B009  (the attribute every kind module must have)
    assert isinstance(kind, PartKind)
    assert module.__name__ == f"derive.kinds.{kind.name}"  # type: ignore[attr-defined]
    assert KINDS[kind.name] is kind
    for piece in ("read", "derive", "twin", "ask"):
        assert callable(getattr(kind, piece)), piece
    assert kind.sample in ("required", "optional", "none")
    assert set(kind.required) <= set(kind.keys), "a required key the kind does not take"
    assert not set(kind.keys) & set(COMMON), "a kind's own key that every part has anyway"
    assert module.__doc__ and module.__doc__.strip(), "a kind module says what it is"


def test_every_kind_is_used_by_an_example() -> None:
    used = {part.kind.name for path in EXAMPLES for part in derive.load_spec(path).parts}
    assert used == set(KINDS)
