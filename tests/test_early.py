"""The TeX the command line starts before its imports: taken by a sheet of its format, else ended."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import derive
from derive.exercise.reader import example_path
from derive.pdf import early
from derive.pipeline import Options, build_sheet


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["example"], True),
        (["sheet", "spec.toml", "-o", "out"], True),
        (["watch", "spec.toml"], True),
        (["example", "--no-pdf"], False),
        (["sheet", "spec.toml", "--no-format-cache"], False),
        (["sheet", "spec.toml", "--engine", "xelatex"], False),
        (["example", "--list"], False),
        (["variants", "spec.toml", "-n", "3"], False),
        (["check", "spec.toml"], False),
        ([], False),
    ],
)
def test_only_a_streamed_build_starts_tex_early(argv: list[str], wanted: bool) -> None:
    assert early.wanted(argv) is wanted


def text_of(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def taken(monkeypatch: pytest.MonkeyPatch) -> list[early.Early | None]:
    """What each sheet took (:func:`early.take`), watched."""
    seen: list[early.Early | None] = []
    take = early.take

    def watched() -> early.Early | None:
        seen.append(take())
        return seen[-1]

    monkeypatch.setattr(early, "take", watched)
    return seen


def test_a_sheet_of_the_early_formats_preamble_is_typeset_by_it(
    tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "formats"
    options = Options(output_dir=tmp_path / "first", formats=cache)
    build_sheet(derive.load_example(), options)  # builds the format the early TeX then loads
    seen = taken(monkeypatch)
    early.start(["example"], cache)
    build_sheet(derive.load_example(), Options(output_dir=tmp_path / "again", formats=cache))
    (run,) = seen
    assert run is not None and run.process.returncode == 0  # it typeset the sheet to its end
    assert not run.work.exists()
    again = text_of(tmp_path / "again" / "backprop-solution.pdf")
    assert again == text_of(tmp_path / "first" / "backprop-solution.pdf") and "Part 12" in again
    assert list(private_tmp.iterdir()) == []


def test_a_sheet_of_another_preamble_ends_the_early_tex_and_starts_its_own(
    tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "formats"
    german = derive.parse_spec(
        example_path().read_text().replace("[sheet]\n", '[sheet]\nlanguage = "de"\n', 1), name="backprop"
    )
    build_sheet(german, Options(output_dir=tmp_path / "de", formats=cache))  # the newest format: German's
    seen = taken(monkeypatch)
    early.start(["example"], cache)
    build_sheet(derive.load_example(), Options(output_dir=tmp_path / "en", formats=cache))
    (run,) = seen
    assert run is not None and run.process.returncode != 0  # killed: the English preamble has its own format
    assert "Part 12" in text_of(tmp_path / "en" / "backprop-solution.pdf")
    assert list(private_tmp.iterdir()) == []


def test_an_early_tex_no_sheet_took_is_ended(tmp_path: Path, private_tmp: Path) -> None:
    cache = tmp_path / "formats"
    build_sheet(derive.load_example(), Options(output_dir=tmp_path / "out", formats=cache, pdf=True))
    early.start(["example"], cache)
    run = early.take()
    assert run is not None and run.process.poll() is None  # waiting at its main file
    early._early.append(run)  # as start() left it: then the command ends without a sheet
    early.discard()
    assert run.process.returncode is not None and not run.work.exists()
    assert early.take() is None and list(private_tmp.iterdir()) == []


def test_no_early_tex_without_a_cached_format(tmp_path: Path) -> None:
    early.start(["example"], tmp_path / "empty")
    assert early.take() is None
