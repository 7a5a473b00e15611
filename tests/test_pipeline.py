"""The pipeline: all files appear together or not at all."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import derive
from derive.build import stages
from derive.catalog import optimizers
from derive.output import write_all
from derive.pipeline import Options, build_sheet
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
    assert {p.suffix for p in built.files} == {".tex", ".json", ".csv", ".html"}  # .html: the self-check page
    assert built.report.values > 100


def test_an_interrupt_leaves_no_partial_files_and_no_temporary_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_tmp: Path
) -> None:
    import tempfile

    from derive.pdf import typeset

    before = {p.name for p in Path(tempfile.gettempdir()).glob("derive-tex-*")}

    def interrupted(source: str, timeout: float, *rest: object) -> bytes:  # files, formats, engine
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
        ".derive-small.json",  # the manifest of the set
        "small-answers.csv",
        "small-answers.json",
        "small-check.html",  # the self-check page (docs/check.md)
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


def test_options_take_str_paths_and_refuse_what_is_not_a_folder_or_a_time() -> None:
    options = Options(output_dir="out", templates="my-templates", formats="cache", compiled=None)  # type: ignore[arg-type]
    assert options.output_dir == Path("out") and options.templates == (Path("my-templates"),)
    assert options.formats == Path("cache") and options.compiled is None
    assert Options(templates=["a", Path("b")]).templates == (Path("a"), Path("b"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="output_dir: expected a folder \\(str or Path\\), not int"):
        Options(output_dir=3)  # type: ignore[arg-type]
    for timeout in (float("nan"), float("inf"), -1.0, 0.0, 1e12):
        with pytest.raises(ValueError, match="timeout: expected seconds from 1 to 3600"):
            Options(timeout=timeout)
    with pytest.raises(ValueError, match="decimals: expected a whole number from 0 to 12, found 13"):
        Options(decimals=13)


@pytest.mark.parametrize("text", [None, b"[network]", {"network": {}}])
def test_parse_spec_names_its_argument_when_it_is_not_text(text: object) -> None:
    with pytest.raises(
        TypeError, match=f"parse_spec: text must be the spec's TOML as a str, not {type(text).__name__}"
    ):
        derive.parse_spec(text)  # type: ignore[arg-type]


def test_a_solved_spec_is_built_from_its_solution_without_deriving_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = derive.load_example()
    options = Options(output_dir=tmp_path / "derived", pdf=False)
    derived = {p.name: p.read_bytes() for p in build_sheet(spec, options).files}
    solved = derive.solve(spec)

    def derives_again(derivation: object) -> None:
        raise AssertionError("derived again")

    monkeypatch.setattr(stages, "solver", derives_again)
    built = build_sheet(spec, replace(options, output_dir=tmp_path / "solved"), solved=solved)
    assert {p.name: p.read_bytes() for p in built.files} == derived
    assert built.report.values > 100  # the gate checked the given solution
    # A solution of an equal spec read again is no solution of this spec object: derived as always.
    with pytest.raises(AssertionError, match="derived again"):
        build_sheet(derive.load_example(), replace(options, output_dir=tmp_path / "other"), solved=solved)
