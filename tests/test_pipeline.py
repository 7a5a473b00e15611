"""The pipeline: all files appear together or not at all."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import derive
from derive.catalog import optimizers
from derive.pipeline import Options, build_sheet, write_all
from derive.terms.formula import Difference


def test_verification_failure_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = replace(optimizers.SGD, stages=(("theta", lambda e, t: Difference(e["theta"], e["g"])),))
    monkeypatch.setitem(optimizers.OPTIMIZERS, "sgd", broken)  # type: ignore[index]
    with pytest.raises(derive.VerificationError):
        build_sheet(derive.exercise.reader.example_path(), Options(output_dir=tmp_path / "o", pdf=False))
    assert not (tmp_path / "o").exists()


def test_write_all_leaves_no_temporary_files(tmp_path: Path) -> None:
    written = write_all(tmp_path, {"a.txt": b"1", "b.txt": b"2"})
    assert [p.name for p in written] == ["a.txt", "b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_library_build_without_pdf(tmp_path: Path) -> None:
    built = build_sheet(derive.load_example(), Options(output_dir=tmp_path, pdf=False, decimals=2))
    assert {p.suffix for p in built.files} == {".tex", ".json", ".csv"}
    assert built.report.values > 100


def test_an_interrupt_leaves_no_partial_files_and_no_temporary_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_tmp: Path
) -> None:
    import tempfile

    from derive.pdf import typeset

    before = {p.name for p in Path(tempfile.gettempdir()).glob("derive-tex-*")}

    def interrupted(source: str, timeout: float, files: object = None, formats: object = None) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(typeset, "compile_pdf", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_sheet(derive.load_example(), Options(output_dir=tmp_path / "o"))
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    after = {p.name for p in Path(tempfile.gettempdir()).glob("derive-tex-*")}
    assert after <= before


def test_two_processes_writing_into_the_same_folder(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    spec = tmp_path / "small.toml"
    spec.write_text(
        '[network]\n[[network.layers]]\nweights = [[1]]\nbias = [0]\nactivation = "sigmoid"\n'
        '[loss]\nname = "squared_error"\n[[parts]]\nkind = "gradients"\nx = [1]\ny = 1\n',
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "derive", "sheet", str(spec), "-o", str(tmp_path / "o")]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    assert all(run.wait(timeout=300) == 0 for run in runs)
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert names == [
        "small-answers.csv",
        "small-answers.json",
        "small-exercise.pdf",
        "small-exercise.tex",
        "small-fragments",
        "small-solution.pdf",
        "small-solution.tex",
        "small-values.tex",
    ]
    fragments = sorted(p.name for p in (tmp_path / "o" / "small-fragments").iterdir())
    assert fragments == ["network.tex", "part1-exercise.tex", "part1-solution.tex"]  # no temporary files left
    json.loads((tmp_path / "o" / "small-answers.json").read_text(encoding="utf-8"))
    assert (tmp_path / "o" / "small-solution.pdf").read_bytes().startswith(b"%PDF")
