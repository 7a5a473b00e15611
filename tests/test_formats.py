"""The cached preamble formats: built once, reused, identical output, and never a reason to fail."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from derive.errors import TexError
from derive.pdf import formats as texformat
from derive.pdf.compile import compile_pdf, with_format
from derive.render import sealed
from derive.render.document import MARK

PREAMBLE = "\\documentclass{article}\n\\usepackage{amsmath}\n"


def doc(body: str, preamble: str = PREAMBLE) -> str:
    return preamble + MARK + "\n\\begin{document}\n" + body + "\n\\end{document}\n"


def text_of(pdf: bytes, folder: Path) -> str:
    (folder / "read.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", "read.pdf", "-"], cwd=folder, capture_output=True, text=True).stdout


def test_a_format_is_built_once_then_reused_with_the_same_pdf(tmp_path: Path) -> None:
    cache = tmp_path / "formats"
    first = compile_pdf(doc("Hello $x^2$"), formats=cache)
    (fmt,) = cache.glob("derive-*.fmt")
    built = fmt.stat().st_mtime_ns
    second = compile_pdf(doc("Again $x^3$"), formats=cache)
    assert list(cache.glob("derive-*.fmt")) == [fmt] and fmt.stat().st_mtime_ns >= built
    assert "Hello x2" in text_of(first, tmp_path) and "Again x3" in text_of(second, tmp_path)
    assert text_of(second, tmp_path) == text_of(compile_pdf(doc("Again $x^3$")), tmp_path)


def test_a_different_preamble_gets_its_own_format(tmp_path: Path) -> None:
    cache = tmp_path / "formats"
    compile_pdf(doc("one"), formats=cache)
    compile_pdf(doc("two", PREAMBLE.replace("amsmath", "amssymb")), formats=cache)
    assert len(list(cache.glob("derive-*.fmt"))) == 2


@pytest.mark.parametrize("damage", ["truncated", "replaced"])
def test_a_damaged_format_is_rebuilt_and_used(tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "formats"
    compile_pdf(doc("one"), formats=cache)
    (fmt,) = cache.glob("derive-*.fmt")
    good = fmt.read_bytes()
    fmt.write_bytes(good[: len(good) // 2] if damage == "truncated" else b"not a format")
    assert "still fine" in text_of(compile_pdf(doc("still fine"), formats=cache), tmp_path)
    assert fmt.stat().st_size == len(good) and not list(cache.glob("*.failed"))  # built afresh, kept
    body, extra, used, _ = with_format(doc("x"), tmp_path, os.environ.copy(), 60, cache)
    assert used is not None and extra == ["-fmt=derive"] and body == "\n\\begin{document}\nx\n\\end{document}\n"


def test_a_format_tex_refuses_is_built_again_next_time_not_disabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "formats"
    compile_pdf(doc("one"), formats=cache)
    (fmt,) = cache.glob("derive-*.fmt")
    assert sealed.write(fmt, b"sealed by this user, but no format TeX reads")  # e.g. a TeX updated in place
    builds = counted(monkeypatch)
    assert "still fine" in text_of(compile_pdf(doc("still fine"), formats=cache), tmp_path)
    assert not fmt.exists() and not list(cache.glob("*.failed")) and builds == []  # dropped, not disabled
    assert "and again" in text_of(compile_pdf(doc("and again"), formats=cache), tmp_path)
    assert len(builds) == 1 and sealed.read(fmt) is not None  # rebuilt and kept


def test_a_format_tex_refuses_right_after_it_was_built_is_not_built_on_every_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, dump = tmp_path / "formats", texformat._build
    monkeypatch.setattr(texformat, "_build", lambda *args: b"dumped, but TeX cannot load it")
    assert "one" in text_of(compile_pdf(doc("one"), formats=cache), tmp_path)
    (marker,) = cache.glob("*.failed")
    monkeypatch.setattr(texformat, "_build", dump)
    builds = counted(monkeypatch)
    assert compile_pdf(doc("two"), formats=cache).startswith(b"%PDF") and builds == []
    old = marker.stat().st_mtime - texformat.FAILED_FOR - 1  # a day later it is tried again
    os.utime(marker, (old, old))
    assert compile_pdf(doc("three"), formats=cache).startswith(b"%PDF") and len(builds) == 1
    assert not marker.exists() and len(list(cache.glob("derive-*.fmt"))) == 1


def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The preambles dumped from now on (texformat._build still dumps them)."""
    builds: list[str] = []
    build = texformat._build

    def spy(preamble: str, *args: Any) -> bytes | None:
        builds.append(preamble)
        return build(preamble, *args)

    monkeypatch.setattr(texformat, "_build", spy)
    return builds


def test_a_preamble_that_cannot_be_dumped_compiles_the_usual_way(tmp_path: Path) -> None:
    cache = tmp_path / "formats"
    broken = "\\documentclass{article}\n\\usepackage{nosuchpackage-derive}\n"
    with pytest.raises(TexError, match="nosuchpackage-derive"):  # the error is the whole source's
        compile_pdf(broken + MARK + "\n\\begin{document}x\\end{document}\n", formats=cache)
    assert list(cache.glob("*.failed")) and not list(cache.glob("derive-*.fmt"))


def test_a_document_error_is_reported_with_the_lines_of_the_whole_source(tmp_path: Path) -> None:
    with pytest.raises(TexError) as caught:
        compile_pdf(doc("\\undefinedmacro"), formats=tmp_path / "formats")
    assert "sheet.tex:5:" in str(caught.value)  # line 5 of the .tex the user has, not of the body
    assert list((tmp_path / "formats").glob("derive-*.fmt"))  # the format itself was not to blame


def test_an_unwritable_cache_or_a_source_without_the_mark_needs_no_format(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert compile_pdf(doc("x"), formats=blocker / "formats").startswith(b"%PDF")
    plain = "\\documentclass{article}\n\\begin{document}x\\end{document}\n"
    assert compile_pdf(plain, formats=tmp_path / "cache").startswith(b"%PDF")
    assert not (tmp_path / "cache").exists()


def test_only_the_most_recently_used_formats_are_kept(tmp_path: Path) -> None:
    cache = tmp_path / "formats"
    cache.mkdir()
    for n in range(texformat.KEEP + 2):
        (cache / f"derive-old{n:02d}.fmt").write_bytes(b"x")
        os.utime(cache / f"derive-old{n:02d}.fmt", (1_000_000 + n, 1_000_000 + n))  # old00 least recent
    compile_pdf(doc("new"), formats=cache)
    kept = sorted(p.name for p in cache.glob("derive-*.fmt"))
    assert len(kept) == texformat.KEEP and "derive-old00.fmt" not in kept


def test_what_a_killed_build_left_in_the_cache_is_removed_once_stale(tmp_path: Path) -> None:
    cache = tmp_path / "formats"
    cache.mkdir(mode=0o700)
    (cache / ".build-killed").mkdir()
    (cache / ".build-killed" / "preamble.tex").write_text("x")
    (cache / ".derive-0123.fmt.half").write_bytes(b"half")
    (cache / ".build-running").mkdir()
    old = 1_000_000
    for left in (cache / ".build-killed", cache / ".derive-0123.fmt.half"):
        os.utime(left, (old, old))
    compile_pdf(doc("x"), formats=cache)
    assert sorted(p.name for p in cache.glob(".*")) == [".build-running"]


def test_the_cache_follows_xdg_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert texformat.default_cache() == tmp_path / "derive" / "formats"


def test_the_installed_tex_is_asked_once_for_both_sheets_and_cached_formats_are_read_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, env = tmp_path / "formats", os.environ.copy()
    preambles = (PREAMBLE, PREAMBLE.replace("amsmath", "amssymb"))  # an exercise's and a solution's
    for preamble in preambles:
        compile_pdf(doc("one", preamble), formats=cache)
    asked: list[list[str]] = []
    popen = subprocess.Popen

    def counting(command: list[str], *args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
        asked.append(command)
        return popen(command, *args, **kwargs)

    monkeypatch.setattr(texformat, "_identity", [])  # as a new process would
    monkeypatch.setattr(texformat.subprocess, "Popen", counting)
    # The build lock held by a build elsewhere: the cached formats are found all the same.
    with texformat._building, ThreadPoolExecutor(2) as pool:
        found = list(pool.map(lambda p: texformat.format_for(p, cache, env, 60), preambles))
    assert all(fmt is not None and not fmt.fresh for fmt in found)
    assert [command[0] for command in asked] == ["kpsewhich"]
