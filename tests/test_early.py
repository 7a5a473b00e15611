"""The TeX the command line starts before its imports: taken by a sheet of its format, else ended."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

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
    """What each streamed sheet took (:func:`early.take`), watched."""
    seen: list[early.Early | None] = []
    take = early.take

    def watched(fmt: Path) -> early.Early | None:
        seen.append(take(fmt))
        return seen[-1]

    monkeypatch.setattr(early, "take", watched)
    return seen


def started(argv: list[str], cache: Path) -> list[early.Early]:
    early.start(argv, cache)
    early._started()
    return list(early._early)


def test_sheets_of_the_early_formats_preambles_are_typeset_by_them(
    tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "formats"
    build_sheet(derive.load_example(), Options(output_dir=tmp_path / "first", formats=cache))  # the formats
    seen = taken(monkeypatch)
    runs = started(["example"], cache)
    assert len(runs) == 2  # the exercise sheet's preamble and the solution sheet's
    build_sheet(derive.load_example(), Options(output_dir=tmp_path / "again", formats=cache))
    assert sorted(map(id, seen)) == sorted(map(id, runs))  # each sheet took the run of its format
    for run in runs:
        assert run.process.returncode == 0 and not run.work.exists()  # it typeset its sheet to the end
    for sheet in ("exercise", "solution"):
        again = text_of(tmp_path / "again" / f"backprop-{sheet}.pdf")
        assert again == text_of(tmp_path / "first" / f"backprop-{sheet}.pdf") and "extra layer" in again
    early.discard()  # nothing left to end
    assert list(private_tmp.iterdir()) == []


def test_a_sheet_of_another_preamble_starts_its_own_tex(
    tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "formats"
    german = derive.parse_spec(
        example_path().read_text().replace("[sheet]\n", '[sheet]\nlanguage = "de"\n', 1), name="backprop"
    )
    build_sheet(german, Options(output_dir=tmp_path / "de", formats=cache))  # the newest formats: German's
    seen = taken(monkeypatch)
    runs = started(["example"], cache)
    build_sheet(derive.load_example(), Options(output_dir=tmp_path / "en", formats=cache))
    # The solution sheet's preamble differs in its language: its own TeX; the exercise sheet's does
    # not (its words are after the preamble), so it may take the German exercise's run.
    assert len(seen) == 2 and None in seen
    assert "Part 12" in text_of(tmp_path / "en" / "backprop-solution.pdf")
    early.discard()
    assert runs and all(r.process.returncode is not None and not r.work.exists() for r in runs)
    assert list(private_tmp.iterdir()) == []


def test_no_early_tex_without_a_cached_format(tmp_path: Path) -> None:
    assert started(["example"], tmp_path / "empty") == []


def test_a_watch_readies_tex_for_the_next_rebuild_while_the_lecturer_edits(tmp_path: Path, private_tmp: Path) -> None:
    from derive.watch import _ready_tex

    cache = tmp_path / "formats"
    options = Options(output_dir=tmp_path / "out", formats=cache)
    build_sheet(derive.load_example(), options)
    _ready_tex(options)
    early._started()
    runs = list(early._early)
    assert len(runs) == 2 and all(r.process.poll() is None for r in runs)  # waiting at their pipes
    _ready_tex(options)  # the next rebuild's: the two no rebuild took are ended first
    assert all(r.process.returncode is not None and not r.work.exists() for r in runs)
    early.discard()
    _ready_tex(Options(output_dir=tmp_path / "out", formats=cache, pdf=False))
    early._started()
    assert early._early == [] and list(private_tmp.iterdir()) == []


def test_a_forked_worker_leaves_the_early_tex_to_its_parent(tmp_path: Path, private_tmp: Path) -> None:
    # Several specs are built on forked workers: two processes writing into one TeX's pipe would
    # mix their sheets, so a worker sees no early run and ends none.
    import multiprocessing

    cache = tmp_path / "formats"
    build_sheet(derive.load_example(), Options(output_dir=tmp_path / "out", formats=cache))
    runs = started(["sheet", "a.toml", "b.toml"], cache)
    assert len(runs) == 2

    def in_worker(answer: Any) -> None:
        early.discard()
        answer.put((early.take(runs[0].fmt) is None, len(early._early)))

    context = multiprocessing.get_context("fork")
    answer = context.Queue()
    worker = context.Process(target=in_worker, args=(answer,))
    worker.start()
    worker.join(30)
    assert answer.get(timeout=5) == (True, 0)
    assert all(r.process.poll() is None for r in runs)  # the worker ended none of them
    assert early.take(runs[0].fmt) is runs[0]
    runs[0].end()
    early.discard()
    assert list(private_tmp.iterdir()) == []
