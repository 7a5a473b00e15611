"""Caches nobody else can poison: a planted TeX format or compiled template is never loaded, a cache
folder other users can write is not used (one warning), and first builds racing on one cache agree."""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from derive.maths.steps import Solution
from derive.pdf import formats as texformat
from derive.pdf.compile import compile_pdf
from derive.pdf.formats import split
from derive.pipeline import Options, build_sheet
from derive.render import sealed
from derive.render.document import MARK
from derive.render.templates import _environment, render_exercise
from derive.tex.style import Style

SPEC = Path(__file__).parent.parent / "examples" / "input_gradients.toml"
PLANT = "PLANTEDBYANOTHERUSER"
PREAMBLE = "\\documentclass{article}\n\\usepackage{amsmath}\n"
ROOT = os.geteuid() == 0
OTHER_USER = 65534  # nobody


@pytest.fixture(autouse=True)
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has a key of its own (some spoil theirs)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "derive" / "cache-key"


def pdf_text(pdf: bytes | Path, folder: Path) -> str:
    if not isinstance(pdf, Path):
        (folder / "read.pdf").write_bytes(pdf)
        pdf = folder / "read.pdf"
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def planted_format(preamble: str, folder: Path) -> bytes:
    """What an attacker makes: the same preamble dumped with text of theirs on every page."""
    work = folder / "attacker"
    work.mkdir(exist_ok=True)
    (work / "p.tex").write_text(preamble + f"\\AtBeginDocument{{{PLANT}}}\n\\dump\n", encoding="utf-8")
    command = ["pdflatex", "-ini", "-jobname=planted", "-interaction=batchmode", "&pdflatex", "p.tex"]
    subprocess.run(command, cwd=work, capture_output=True, check=True, timeout=120)
    return (work / "planted.fmt").read_bytes()


def loaded_as_is(fmt: bytes, folder: Path) -> str:
    """The text of a page typeset with ``fmt`` loaded as it is (what derive did before the seals)."""
    work = folder / "victim"
    work.mkdir(exist_ok=True)
    (work / "planted.fmt").write_bytes(fmt)
    (work / "s.tex").write_text("\\begin{document}Hello\\end{document}\n", encoding="utf-8")
    subprocess.run(["pdflatex", "-fmt=planted", "-interaction=batchmode", "s.tex"], cwd=work, timeout=120)
    return pdf_text(work / "s.pdf", folder)


def cache_name(preamble: str) -> str:
    """Where derive looks for the format of ``preamble``: derive's source is public, so is its key."""
    key = hashlib.sha256((texformat._tex_identity() + "\n" + preamble).encode()).hexdigest()[:20]
    return f"derive-{key}.fmt"


def test_a_planted_format_does_not_reach_the_sheets(tmp_path: Path) -> None:
    build_sheet(SPEC, Options(output_dir=tmp_path / "tex", pdf=False, formats=None, compiled=None))
    pieces = split((tmp_path / "tex" / "input_gradients-exercise.tex").read_text(encoding="utf-8"))
    assert pieces is not None
    planted = planted_format(pieces[0], tmp_path)
    assert PLANT in loaded_as_is(planted, tmp_path)  # the attack is real where a format is trusted
    cache = tmp_path / "formats"
    cache.mkdir(mode=0o700)
    (cache / cache_name(pieces[0])).write_bytes(planted)
    built = build_sheet(SPEC, Options(output_dir=tmp_path / "out", formats=cache, compiled=None))
    for sheet in ("exercise", "solution"):
        text = pdf_text(tmp_path / "out" / f"input_gradients-{sheet}.pdf", tmp_path)
        assert "Input gradients" in text and PLANT not in text
    assert built.warnings == ()
    rebuilt = sealed.read(cache / cache_name(pieces[0]))  # derive looked there, and made its own
    assert rebuilt is not None and PLANT.encode() not in rebuilt


@pytest.mark.parametrize("how", ["as dumped", "sealed with another key", "ours, renamed", "a link to ours"])
def test_a_planted_format_is_built_afresh(tmp_path: Path, how: str) -> None:
    cache = tmp_path / "formats"
    cache.mkdir(mode=0o700)
    planted, target = planted_format(PREAMBLE, tmp_path), cache / cache_name(PREAMBLE)
    if how == "as dumped":
        target.write_bytes(planted)
    elif how == "sealed with another key":
        target.write_bytes(os.urandom(sealed.SEAL_BYTES) + planted)
    else:  # a format of this user's own, sealed under another name (say, planted by a bug or a copy)
        assert sealed.write(cache / "derive-00000000000000000000.fmt", planted)
        if how == "ours, renamed":
            os.replace(cache / "derive-00000000000000000000.fmt", target)
        else:
            target.symlink_to(cache / "derive-00000000000000000000.fmt")
    text = pdf_text(compile_pdf(PREAMBLE + MARK + "\n\\begin{document}Hello\\end{document}\n", formats=cache), tmp_path)
    assert "Hello" in text and PLANT not in text
    rebuilt = sealed.read(target)
    assert rebuilt is not None and PLANT.encode() not in rebuilt and not target.is_symlink()


class _Runs:
    """A pickled object that, when unpickled, creates ``marker``: code run by loading data."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def planted_bytecode(marker: Path) -> bytes:
    """A Jinja bytecode cache entry that creates ``marker`` when Jinja reads it."""
    return jinja2.bccache.bc_magic + pickle.dumps(_Runs(marker), 2)


def test_a_planted_compiled_template_runs_no_code(tmp_path: Path, example: Solution) -> None:
    marker = tmp_path / "code-ran"
    # The attack is real: Jinja's own bytecode cache runs it.
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "t.j2").write_text("hello", encoding="utf-8")
    (tmp_path / "jinja").mkdir()
    jinja_cache = jinja2.FileSystemBytecodeCache(str(tmp_path / "jinja"))
    jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path / "t")), bytecode_cache=jinja_cache).get_template(
        "t.j2"
    )
    for entry in (tmp_path / "jinja").iterdir():
        entry.write_bytes(planted_bytecode(marker))
    jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path / "t")), bytecode_cache=jinja_cache).get_template(
        "t.j2"
    )
    assert marker.exists()
    marker.unlink()
    # derive's: every entry replaced, as it is or with a seal of another key.
    clean = render_exercise(example, Style(), compiled=None)
    cache = tmp_path / "compiled"
    assert render_exercise(example, Style(), compiled=cache) == clean
    entries = sorted(cache.glob("*.cache"))
    assert entries
    for n, entry in enumerate(entries):
        seal = os.urandom(sealed.SEAL_BYTES) if n % 2 else b""
        entry.write_bytes(seal + planted_bytecode(marker))
    _environment.cache_clear()  # as a new process would
    assert render_exercise(example, Style(), compiled=cache) == clean
    assert not marker.exists()
    assert all(sealed.read(entry) is not None for entry in entries)  # compiled again, kept sealed


def spoil(folder: Path, how: str) -> str:
    """Make ``folder`` one other users can write; the reason derive gives."""
    folder.mkdir(parents=True, exist_ok=True)
    if how == "another user's":
        os.chown(folder, OTHER_USER, OTHER_USER)
        return f"{folder} belongs to another user (uid {OTHER_USER})"
    mode = {"world-writable": 0o777, "sticky world-writable": 0o1777, "group-writable": 0o770}[how]
    os.chmod(folder, mode)
    return f"{folder} is writable by other users (mode {mode:04o})"


SPOILED = [
    "world-writable",
    "sticky world-writable",
    "group-writable",
    pytest.param("another user's", marks=pytest.mark.skipif(not ROOT, reason="chown needs root")),
]


@pytest.mark.parametrize("how", SPOILED)
def test_a_compiled_templates_folder_others_can_write_is_not_used(tmp_path: Path, how: str) -> None:
    folder = tmp_path / "compiled"
    reason = spoil(folder, how)
    built = build_sheet(SPEC, Options(output_dir=tmp_path / "out", pdf=False, formats=None, compiled=folder))
    assert built.warnings == (f"cache not used, other users could change it: {reason}",)
    assert list(folder.iterdir()) == []
    build_sheet(SPEC, Options(output_dir=tmp_path / "plain", pdf=False, formats=None, compiled=None))
    for name in ("input_gradients-exercise.tex", "input_gradients-solution.tex", "input_gradients-answers.json"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes()


def test_cache_folders_others_can_write_give_one_warning_and_good_sheets(tmp_path: Path) -> None:
    formats, compiled = tmp_path / "formats", tmp_path / "compiled"
    reasons = sorted([spoil(formats, "world-writable"), spoil(compiled, "group-writable")])
    built = build_sheet(SPEC, Options(output_dir=tmp_path / "out", formats=formats, compiled=compiled))
    assert built.warnings == ("caches not used, other users could change them: " + "; ".join(reasons),)
    assert list(formats.iterdir()) == [] and list(compiled.iterdir()) == []
    assert "Input gradients" in pdf_text(tmp_path / "out" / "input_gradients-solution.pdf", tmp_path)


def test_a_key_open_to_other_users_turns_the_caches_off(tmp_path: Path, key: Path) -> None:
    folder = tmp_path / "compiled"
    build_sheet(SPEC, Options(output_dir=tmp_path / "out", pdf=False, formats=None, compiled=folder))
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    entries = sorted(folder.iterdir())
    key.chmod(0o644)
    built = build_sheet(SPEC, Options(output_dir=tmp_path / "out", pdf=False, formats=None, compiled=folder))
    reason = f"the cache key {key} is open to other users (mode 0644)"
    assert built.warnings == (f"cache not used, other users could change it: {reason}",)
    assert all(sealed.read(entry) is None for entry in entries)


def test_the_command_line_warns_once_and_builds(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "derive" / "templates"
    reason = spoil(folder, "world-writable")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_STATE_HOME": str(tmp_path / "state")}
    run = subprocess.run(
        [sys.executable, "-m", "derive", "sheet", str(SPEC), "--no-pdf", "-o", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if line.startswith("derive: warning:")]
    assert warnings == [f"derive: warning: cache not used, other users could change it: {reason}"]
    assert "Traceback" not in run.stderr and list(folder.iterdir()) == []


RACER = """
import sys
from pathlib import Path
from derive.pdf.compile import compile_pdf
from derive.render.document import MARK
body = "\\n\\\\begin{{document}}racer " + sys.argv[1] + "\\\\end{{document}}\\n"
Path(sys.argv[3]).write_bytes(compile_pdf("{preamble}" + MARK + body, formats=Path(sys.argv[2])))
"""


def test_first_builds_racing_on_one_empty_cache_both_work(tmp_path: Path, key: Path) -> None:
    cache = tmp_path / "formats"
    code = RACER.format(preamble=PREAMBLE.replace("\\", "\\\\").replace("\n", "\\n"))
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    racers = [
        subprocess.Popen([sys.executable, "-c", code, name, str(cache), str(tmp_path / f"{name}.pdf")], env=env)
        for name in ("one", "two")
    ]
    assert [racer.wait(timeout=300) for racer in racers] == [0, 0]
    assert "racer one" in pdf_text(tmp_path / "one.pdf", tmp_path)
    assert "racer two" in pdf_text(tmp_path / "two.pdf", tmp_path)
    (fmt,) = cache.glob("derive-*.fmt")
    assert sealed.read(fmt) is not None and key.exists()  # one key: each racer's format reads under it
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []  # no half-written file left


def test_a_sealed_entry_reads_back_only_as_written(tmp_path: Path, key: Path) -> None:
    folder = tmp_path / "entries"
    entry = folder / "a.cache"
    assert sealed.write(entry, b"contents")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert sealed.read(entry) == b"contents"
    os.link(entry, folder / "b.cache")
    assert sealed.read(folder / "b.cache") is None  # sealed for its name
    (folder / "c.cache").symlink_to(entry)
    assert sealed.read(folder / "c.cache") is None  # never through a link
    entry.write_bytes(entry.read_bytes()[:-1])
    assert sealed.read(entry) is None  # damaged
    assert sealed.write(entry, b"contents")
    entry.chmod(0o664)
    assert sealed.read(entry) is None  # others could have written it
    entry.chmod(0o600)
    assert sealed.read(entry) == b"contents"
    key.unlink()  # deleting the key distrusts every entry at once
    assert sealed.read(entry) is None and key.exists()


def test_a_key_that_is_a_link_is_not_used(tmp_path: Path, key: Path) -> None:
    assert sealed.write(tmp_path / "entries" / "a.cache", b"contents")
    (tmp_path / "copied-key").write_bytes(key.read_bytes())
    (tmp_path / "copied-key").chmod(0o600)
    key.unlink()
    key.symlink_to(tmp_path / "copied-key")
    assert sealed.read(tmp_path / "entries" / "a.cache") is None
    assert sealed.key_exposed() == f"the cache key {key} is not a regular file"


def test_no_cache_on_the_command_line_uses_no_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from derive.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["sheet", str(SPEC), "--no-pdf", "--no-cache", "-o", str(tmp_path / "out")]) == 0
    assert not (tmp_path / "cache").exists() and (tmp_path / "out" / "input_gradients-solution.tex").exists()
