"""The pipeline: all files appear together or not at all."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import derive
from derive import catalog
from derive.formula import Difference
from derive.pipeline import Options, build_sheet, write_all


def test_verification_failure_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = replace(catalog.SGD, stages=(("theta", lambda e, t: Difference(e["theta"], e["g"])),))
    monkeypatch.setitem(catalog.OPTIMIZERS, "sgd", broken)  # type: ignore[index]
    with pytest.raises(derive.VerificationError):
        build_sheet(derive.spec.example_path(), Options(output_dir=tmp_path / "o", pdf=False))
    assert not (tmp_path / "o").exists()


def test_write_all_leaves_no_temporary_files(tmp_path: Path) -> None:
    written = write_all(tmp_path, {"a.txt": b"1", "b.txt": b"2"})
    assert [p.name for p in written] == ["a.txt", "b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_library_build_without_pdf(tmp_path: Path) -> None:
    built = build_sheet(derive.load_example(), Options(output_dir=tmp_path, pdf=False, decimals=2))
    assert {p.suffix for p in built.files} == {".tex", ".json"}
    assert built.report.values > 100
