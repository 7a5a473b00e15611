"""All-or-nothing output: a build replaces its whole set or changes nothing, keeps a manifest and
removes only its own stale files; a signal at any moment ends the command cleanly."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import derive
from derive.output import manifest_name, write_all
from derive.pipeline import Options, build_sheet

EXAMPLES = int(os.environ.get("DERIVE_FUZZ_EXAMPLES", "500"))
"""The long fuzz profile (≥ 5000) runs the signals-at-random-moments family many more times."""

SMALL = """\
[network]
[[network.layers]]
weights = [[{w}]]
bias = [0]
activation = "sigmoid"
[loss]
name = "squared_error"
"""
PART = '[[parts]]\nkind = "gradients"\nx = [{x}]\ny = 1\n'


def spec_text(parts: int, w: int = 1) -> str:
    return SMALL.format(w=w) + "".join(PART.format(x=k) for k in range(1, parts + 1))


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry below ``folder`` (hidden ones too): a file's bytes, a link's target, a folder's mark."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[name] = "folder"
        else:
            found[name] = path.read_bytes()
    return found


def build(folder: Path, text: str, name: str = "small") -> derive.Built:
    return build_sheet(derive.parse_spec(text, name=name), Options(output_dir=folder, pdf=False))


# --- all or nothing -------------------------------------------------------------------------------


def test_a_folder_in_the_way_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(out, spec_text(2))
    (out / "small-answers.csv").unlink()
    (out / "small-answers.csv").mkdir()  # a folder where a file of the set goes
    before = snapshot(out)
    with pytest.raises(IsADirectoryError) as raised:
        build(out, spec_text(2, w=2))
    assert str(raised.value) == (
        f"[Errno 21] a folder is in the way of an output file; nothing was written: '{out / 'small-answers.csv'}'"
    )
    assert snapshot(out) == before  # byte for byte, and no staged or backup file


def test_the_command_names_the_blocked_file_in_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "small.toml"
    spec.write_text(spec_text(1), encoding="utf-8")
    out = tmp_path / "out"
    (out / "small-solution.pdf").mkdir(parents=True)
    (out / "small-exercise.tex").write_text("old\n", encoding="utf-8")
    before = snapshot(out)
    command = [sys.executable, "-m", "derive", "sheet", str(spec), "-o", str(out), "--no-pdf"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    # --no-pdf writes no PDF: the folder named like one is not in its way
    assert run.returncode == 0, run.stderr
    (out / "small-values.tex").unlink()
    (out / "small-values.tex").mkdir()
    before = snapshot(out)
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert run.stderr == (
        f"derive: error: a folder is in the way of an output file; nothing was written: {out / 'small-values.tex'}\n"
    )
    assert snapshot(out) == before


def test_a_file_in_the_way_of_the_fragments_folder_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "small-fragments").write_text("mine\n", encoding="utf-8")
    with pytest.raises(NotADirectoryError, match="a file is in the way of an output folder; nothing was written"):
        build(tmp_path, spec_text(1))
    assert snapshot(tmp_path) == {"small-fragments": b"mine\n"}


def test_a_link_for_the_fragments_folder_is_not_written_through(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "small-fragments").symlink_to(elsewhere)
    with pytest.raises(NotADirectoryError, match="a link is in the way of an output folder; nothing was written"):
        build(out, spec_text(1))
    assert not any(elsewhere.iterdir())
    assert sorted(p.name for p in out.iterdir()) == ["small-fragments"]


def test_a_new_folder_is_not_left_behind_when_the_build_cannot_write(tmp_path: Path) -> None:
    target = tmp_path / "new" / "out"
    with pytest.raises(IsADirectoryError):
        write_all(target, {"a.txt": b"1", "b": b"2", "b/c.txt": b"3"})  # "b" is a file and a folder
    assert not (tmp_path / "new").exists()


def test_a_rename_failing_midway_puts_every_earlier_file_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    build(out, spec_text(2))
    before = snapshot(out)
    real = os.replace
    renamed: list[str] = []

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if Path(target).name == "small-values.tex" and str(source).endswith(".part"):
            raise PermissionError(13, "Permission denied", str(source), None, str(target))
        renamed.append(Path(target).name)
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(PermissionError) as raised:
        build(out, spec_text(2, w=3))
    assert "small-answers.json" in renamed  # files were renamed into place before the failure
    assert str(raised.value) == (
        f"[Errno 13] Permission denied; the earlier files are back in place: '{out / 'small-values.tex'}'"
    )
    assert snapshot(out) == before


def test_an_interrupt_midway_through_the_renames_puts_every_earlier_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_all(out, {"a.txt": b"old a", "b.txt": b"old b", "c.txt": b"old c"}, "s")
    before = snapshot(out)
    real = os.replace
    calls: list[str] = []

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        calls.append(str(target))
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C in a library's caller: no deferral there, a rollback
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_all(out, {"a.txt": b"new a", "b.txt": b"new b", "c.txt": b"new c"}, "s")
    assert snapshot(out) == before


# --- the manifest ---------------------------------------------------------------------------------


def test_the_manifest_lists_the_files_written(tmp_path: Path) -> None:
    built = build(tmp_path, spec_text(2))
    record = json.loads((tmp_path / manifest_name("small")).read_text(encoding="utf-8"))
    assert record["format"] == "derive-output" and record["version"] == 1
    assert sorted(record["files"]) == sorted(str(path.relative_to(tmp_path)) for path in built.files)
    assert manifest_name("small") == ".derive-small.json"


def test_a_rebuild_with_fewer_parts_removes_exactly_the_stale_files(tmp_path: Path) -> None:
    three = build(tmp_path, spec_text(3))
    assert (tmp_path / "small-fragments" / "part3-solution.tex").exists()
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    (tmp_path / "small-fragments" / "mine.tex").write_text("mine\n", encoding="utf-8")  # not derive's
    (tmp_path / "other-answers.json").write_text("{}\n", encoding="utf-8")  # another stem's
    two = build(tmp_path, spec_text(2))
    gone = {str(p.relative_to(tmp_path)) for p in three.files} - {str(p.relative_to(tmp_path)) for p in two.files}
    assert gone == {"small-fragments/part3-exercise.tex", "small-fragments/part3-solution.tex"}
    left = {name for name, kind in snapshot(tmp_path).items() if kind != "folder"}
    kept = {str(p.relative_to(tmp_path)) for p in two.files}
    assert left == kept | {manifest_name("small"), "notes.txt", "small-fragments/mine.tex", "other-answers.json"}


def test_a_stale_subfolder_left_empty_is_removed(tmp_path: Path) -> None:
    write_all(tmp_path, {"s-a.txt": b"1", "s-sub/b.txt": b"2"}, "s")
    write_all(tmp_path, {"s-a.txt": b"1"}, "s")
    assert sorted(p.name for p in tmp_path.iterdir()) == [manifest_name("s"), "s-a.txt"]


def test_a_planted_manifest_cannot_remove_anything_outside_the_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victims = [tmp_path / "victim.txt", tmp_path / "dir" / "small-x.tex", tmp_path / "small-abs.tex"]
    for victim in victims:
        victim.parent.mkdir(exist_ok=True)
        victim.write_text("keep\n", encoding="utf-8")
    (out / "small-dir").symlink_to(tmp_path / "dir")  # a link to a folder outside
    (out / "small-link.tex").symlink_to(tmp_path / "victim.txt")  # a link to a file outside
    (out / "unrelated.txt").write_text("keep\n", encoding="utf-8")  # inside, but not named for the stem
    planted = [
        "../victim.txt",
        "small-x/../../victim.txt",
        str(tmp_path / "small-abs.tex"),
        "small-dir/small-x.tex",
        "small-link.tex",
        "unrelated.txt",
        "",
        ".",
        42,
        manifest_name("small"),
    ]
    record = {"format": "derive-output", "version": 1, "files": planted}
    (out / manifest_name("small")).write_text(json.dumps(record), encoding="utf-8")
    build(out, spec_text(1))
    assert all(victim.read_text(encoding="utf-8") == "keep\n" for victim in victims)
    assert (out / "small-dir").is_symlink() and (out / "small-link.tex").is_symlink()
    assert (out / "unrelated.txt").exists()


@pytest.mark.parametrize(
    "manifest",
    [
        {"format": "derive-output", "version": 2, "files": ["small-old.tex"]},  # a version not known
        {"format": "other", "version": 1, "files": ["small-old.tex"]},
        {"format": "derive-output", "version": 1, "files": "small-old.tex"},
        ["small-old.tex"],
        "not json",
    ],
)
def test_a_manifest_not_derive_s_is_ignored(tmp_path: Path, manifest: object) -> None:
    (tmp_path / "small-old.tex").write_text("keep\n", encoding="utf-8")
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    (tmp_path / manifest_name("small")).write_text(text, encoding="utf-8")
    build(tmp_path, spec_text(1))
    assert (tmp_path / "small-old.tex").read_text(encoding="utf-8") == "keep\n"


def test_a_manifest_that_is_a_link_is_not_read(tmp_path: Path) -> None:
    record = {"format": "derive-output", "version": 1, "files": ["small-old.tex"]}
    (tmp_path / "elsewhere.json").write_text(json.dumps(record), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "small-old.tex").write_text("keep\n", encoding="utf-8")
    (out / manifest_name("small")).symlink_to(tmp_path / "elsewhere.json")
    build(out, spec_text(1))
    assert (out / "small-old.tex").read_text(encoding="utf-8") == "keep\n"
    assert not (out / manifest_name("small")).is_symlink()  # replaced by the build's own
    assert (tmp_path / "elsewhere.json").read_text(encoding="utf-8") == json.dumps(record)


# --- signals --------------------------------------------------------------------------------------

SIGNALS: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


def processes_of(tmp: Path, command_has: bytes = b"") -> list[int]:
    """The processes started under the temporary folder ``tmp`` (their environment's TMPDIR), Linux."""
    marker = f"TMPDIR={tmp}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            command = (proc / "cmdline").read_bytes()
        except OSError:  # gone, or not ours to read
            continue
        if marker in environ and command_has in command:
            found.append(int(proc.name))
    return found


def catches(pid: int, number: int) -> bool:
    """Whether process ``pid`` has a handler for signal ``number`` (/proc/PID/status, SigCgt)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return False
    mask = next(int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(mask >> (number - 1) & 1)


def ready(pid: int) -> bool:
    """Whether derive's handling of every signal is in place (it installs SIGHUP's last)."""
    return all(catches(pid, number) for number in SIGNALS)


def wait_for(condition: object, limit: float = 120.0) -> bool:
    """Poll ``condition`` (a callable) until it holds; False when ``limit`` seconds passed first."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.005)
    return False


class Run:
    """``derive sheet`` in a subprocess with a temporary folder of its own."""

    def __init__(self, tmp_path: Path, spec: Path, out: Path, *extra: str) -> None:
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir(exist_ok=True)
        self.out = out
        env = {**os.environ, "TMPDIR": str(self.tmp)}
        command = [sys.executable, "-m", "derive", "sheet", str(spec), "-o", str(out), *extra]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def send(self, number: int) -> bool:
        """Send signal ``number``; False when the run had already ended."""
        try:
            self.process.send_signal(number)
            return True
        except ProcessLookupError:
            return False

    def end(self) -> tuple[int, str]:
        try:
            _, err = self.process.communicate(timeout=120)
        except subprocess.TimeoutExpired:  # a hang: fail, do not wait for ever
            self.process.kill()
            self.process.communicate()
            raise AssertionError("derive did not end after the signal") from None
        return self.process.returncode, err

    def assert_clean(self) -> None:
        """No TeX (or any process of the run) left, no temporary folder, no staged or backup file."""
        assert processes_of(self.tmp) == []
        assert list(self.tmp.iterdir()) == []
        formats = Path(os.environ["XDG_CACHE_HOME"]) / "derive" / "formats"  # the session's (conftest)
        assert [p.name for p in formats.glob(".*")] == []  # no format half built
        assert list(formats.glob("*.failed")) == []  # a killed format build is not a failed one
        if self.out.exists():
            assert [p for p in self.out.rglob(".*") if p.name != manifest_name("small")] == []


def tex_seen(run: Run) -> bool:
    """Wait until the run's TeX is seen running (True) or the run has ended (False)."""
    assert wait_for(lambda: processes_of(run.tmp, b"pdflatex") or run.process.poll() is not None)
    return bool(processes_of(run.tmp, b"pdflatex"))


@pytest.fixture
def old_set(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes | str]]:
    """A spec and an output folder holding the set of an earlier version of it (no PDFs: quick)."""
    spec = tmp_path / "small.toml"
    out = tmp_path / "out"
    build(out, spec_text(3, w=2))
    spec.write_text(spec_text(2), encoding="utf-8")
    return spec, out, snapshot(out)


def assert_stopped(run: Run, number: int, before: dict[str, bytes | str]) -> None:
    status, err = run.end()
    assert status == SIGNALS[number], err
    name = signal.Signals(number).name
    assert err == f"derive: stopped by {name}; nothing was written\n"
    assert snapshot(run.out) == before
    run.assert_clean()


@pytest.mark.parametrize("number", list(SIGNALS), ids=lambda n: signal.Signals(n).name)
def test_a_signal_during_the_imports_ends_in_one_line(
    tmp_path: Path, old_set: tuple[Path, Path, dict[str, bytes | str]], number: int
) -> None:
    spec, out, before = old_set
    run = Run(tmp_path, spec, out)
    # The moment derive's handling is in place: SymPy and the rest are still loading.
    assert wait_for(lambda: ready(run.process.pid) or run.process.poll() is not None)
    assert run.send(number)
    assert_stopped(run, number, before)


@pytest.mark.parametrize("number", list(SIGNALS), ids=lambda n: signal.Signals(n).name)
def test_a_signal_while_tex_runs_kills_tex_and_leaves_nothing(
    tmp_path: Path, old_set: tuple[Path, Path, dict[str, bytes | str]], number: int
) -> None:
    spec, out, before = old_set
    for _ in range(3):  # a loaded machine may finish TeX between two looks at /proc: build again then
        run = Run(tmp_path, spec, out)
        if tex_seen(run):
            break
        status, err = run.end()
        assert status == 0, f"the run ended before TeX started: exit {status}, {err!r}"
        shutil.rmtree(out)
        build(out, spec_text(3, w=2))  # the old set again
        assert snapshot(out) == before
    else:
        raise AssertionError("TeX was never seen running in three builds")
    assert run.send(number)
    assert_stopped(run, number, before)


@pytest.mark.parametrize("seed", range(3 if EXAMPLES < 5000 else EXAMPLES // 100))  # long profile: 50 and up
def test_signals_at_random_moments_leave_the_old_set_or_the_new_one(
    tmp_path: Path, old_set: tuple[Path, Path, dict[str, bytes | str]], seed: int
) -> None:
    spec, out, before = old_set
    draw = random.Random(seed if os.environ.get("CI") == "true" else None)
    number = draw.choice(list(SIGNALS))
    delay = draw.uniform(0.0, 4.0)  # imports, derivation, TeX, writing, or after the end
    extra = draw.choice([(), ("--no-pdf",)])
    run = Run(tmp_path, spec, out, *extra)
    # From the moment derive's handling is in place (the interpreter's own start is not derive's).
    assert wait_for(lambda: ready(run.process.pid) or run.process.poll() is not None)
    time.sleep(delay)
    sent = run.send(number)
    status, err = run.end()
    assert "Traceback" not in err
    run.assert_clean()
    name = signal.Signals(number).name
    if status == 0 or err == f"derive: stopped by {name}; the files were written\n":
        assert status == 0 or (sent and status == SIGNALS[number]), (delay, err)
        assert err.startswith("verified ") or (err.startswith("derive: stopped") and len(err.splitlines()) == 1)
        record = json.loads((out / manifest_name("small")).read_text(encoding="utf-8"))
        assert all((out / name).is_file() for name in record["files"])  # the new set, complete
        assert not (out / "small-fragments" / "part3-solution.tex").exists()  # the old one's stale file gone
        return
    assert sent and (status, err) == (SIGNALS[number], f"derive: stopped by {name}; nothing was written\n")
    assert snapshot(out) == before


@pytest.fixture
def handling(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """derive's signal handling installed in this process (as the command line does), then removed."""
    from derive.pdf import processes

    saved = {number: signal.getsignal(number) for number in SIGNALS}
    monkeypatch.setattr(processes, "_SIGNALS", processes._Signals())
    processes.install()
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def test_a_signal_while_the_files_are_renamed_waits_until_the_new_set_is_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handling: None
) -> None:
    from derive.pdf.processes import Interrupted

    write_all(tmp_path, {"s-a.txt": b"old a", "s-b.txt": b"old b", "s-c.txt": b"old c", "s-d.txt": b"old"}, "s")
    real = os.replace
    calls: list[str] = []

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        calls.append(str(target))
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # arrives between two renames
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(Interrupted) as raised:
        write_all(tmp_path, {"s-a.txt": b"new a", "s-b.txt": b"new b", "s-c.txt": b"new c"}, "s")
    assert raised.value.number == signal.SIGTERM and raised.value.status == 143 and raised.value.written
    assert str(raised.value) == "stopped by SIGTERM"
    assert snapshot(tmp_path) == {
        manifest_name("s"): (tmp_path / manifest_name("s")).read_bytes(),
        "s-a.txt": b"new a",
        "s-b.txt": b"new b",
        "s-c.txt": b"new c",  # and s-d.txt, stale, removed before the signal was raised
    }


def test_held_signals_are_raised_once_the_block_ends_and_only_the_first(handling: None) -> None:
    from derive.pdf import processes

    with pytest.raises(processes.Interrupted) as raised, processes.held():
        os.kill(os.getpid(), signal.SIGHUP)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)  # let the handler run: it only notes the signal
    assert raised.value.number == signal.SIGHUP and raised.value.status == 129
    os.kill(os.getpid(), signal.SIGINT)  # the run is unwinding: a second signal changes nothing
    time.sleep(0.01)
