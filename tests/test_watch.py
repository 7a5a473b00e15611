"""derive watch (a rebuild on every save, saying which answers changed) and derive sheet with several specs."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from derive.exercise.reader import example_path
from derive.watch import changes, read_answers

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
WAIT = 120.0
"""Longest a test waits for a line (a bound against hanging, never a timed assertion)."""


class Watching:
    """``derive watch`` in a subprocess, its stderr read line by line as it comes."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "derive", "watch", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, starting: str) -> str:
        """The next line that begins with ``starting``, skipping others (kept in ``seen``)."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line {starting!r} in {WAIT} s; seen: {self.seen}") from None
            if line is None:
                raise AssertionError(f"derive watch ended before {starting!r}; seen: {self.seen}")
            self.seen.append(line)
            if line.startswith(starting):
                return line

    def stop(self, number: int) -> tuple[int, list[str]]:
        """Send signal ``number``; the exit status and the lines said after it."""
        before = len(self.seen)
        self.process.send_signal(number)
        status = self.process.wait(timeout=WAIT)
        while (line := self.lines.get(timeout=WAIT)) is not None:
            self.seen.append(line)
        return status, self.seen[before:]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def watching() -> Iterator[list[Watching]]:
    started: list[Watching] = []
    yield started
    for run in started:
        run.close()


def save_by_rename(path: Path, text: str) -> None:
    """Save as many editors do: a temporary file beside it, renamed over it."""
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def save_in_place(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as stream:  # truncated, then written: the same inode
        stream.write(text)


def decimals(answers: Path) -> dict[str, str]:
    return {q["name"]: q["decimal"] for q in json.loads(answers.read_text(encoding="utf-8"))["quantities"]}


def parts(answers: Path) -> dict[str, int | None]:
    return {q["name"]: q["part"] for q in json.loads(answers.read_text(encoding="utf-8"))["quantities"]}


def differ(old: dict[str, str], new: dict[str, str]) -> list[str]:
    return [name for name in new if name in old and old[name] != new[name]]


FIRST_WEIGHTS = "weights = [[1, -1], [2, 1]]"


def test_a_save_rebuilds_and_names_the_values_that_changed(tmp_path: Path, watching: list[Watching]) -> None:
    spec = tmp_path / "week.toml"
    original = example_path().read_text(encoding="utf-8")
    assert original.count(FIRST_WEIGHTS) == 1
    spec.write_text(original, encoding="utf-8")
    out = tmp_path / "out"
    answers = out / "week-answers.json"
    run = Watching(str(spec), "-o", str(out), "--no-pdf")
    watching.append(run)
    assert run.next_line("derive: watching ") == f"derive: watching {spec}; a save rebuilds, Ctrl-C stops"
    first = decimals(answers)

    # w1[2,1] from 2 to 3, saved as an editor does: a temporary file renamed over the spec
    save_by_rename(spec, original.replace(FIRST_WEIGHTS, "weights = [[1, -1], [3, 1]]"))
    line = run.next_line("derive: ")
    second = decimals(answers)
    changed = differ(first, second)
    assert "w1[2,1]" in changed and "w1[1,1]" not in changed
    assert line.startswith(f"derive: the network: 1 value changed (w1[2,1]: {first['w1[2,1]']} → {second['w1[2,1]']})")
    part_of = parts(answers)
    in_part1 = [name for name in changed if part_of[name] == 1]
    shown = ", ".join(f"{name}: {first[name]} → {second[name]}" for name in in_part1[:2])
    assert f"; part 1: {len(in_part1)} values changed ({shown}, …)" in line
    assert line.endswith(" s") and "; .tex and answers rebuilt in " in line
    assert "part 3:" not in line  # part 3 is at x = (0, 0): a weight of layer 1 changes none of its values

    # back to 2, written in place twice, as some editors save (empty first, then the text): one rebuild
    save_in_place(spec, "")
    save_in_place(spec, original)
    line = run.next_line("derive: ")
    third = decimals(answers)
    assert third == first
    assert line.startswith(f"derive: the network: 1 value changed (w1[2,1]: {second['w1[2,1]']} → {first['w1[2,1]']})")

    # a save that changes no value (the title) says so
    save_by_rename(spec, original.replace('title = "Backpropagation by hand"', 'title = "Week 5"'))
    assert run.next_line("derive: ").startswith("derive: no value changed; .tex and answers rebuilt in ")
    assert len([line for line in run.seen if "rebuilt in" in line]) == 3  # the double save was one rebuild

    # a save that breaks the spec: one line, the output stays, and it goes on watching
    before = answers.read_bytes()
    save_in_place(spec, original.replace('"sigmoid"', '"sigmod"'))
    error = run.next_line("derive: ")
    assert error.startswith("derive: error: ") and "network.layers[1].activation: unknown activation 'sigmod'" in error
    assert run.next_line("derive: ") == f"derive: the last good output stays in {out}; watching for the next save"
    assert answers.read_bytes() == before and run.process.poll() is None

    # fixed, with w1[1,1] from 1 to 2: the change is told against the last good build
    save_by_rename(spec, original.replace(FIRST_WEIGHTS, "weights = [[2, -1], [2, 1]]"))
    line = run.next_line("derive: ")
    fourth = decimals(answers)
    assert line.startswith(f"derive: the network: 1 value changed (w1[1,1]: {first['w1[1,1]']} → {fourth['w1[1,1]']})")
    assert "w1[2,1]" not in line.split(";")[0]

    status, said = run.stop(signal.SIGINT)
    assert status == 130
    assert said == ["derive: stopped by SIGINT; the files were written"]
    assert not any("Traceback" in line for line in run.seen)
    assert not [p.name for p in out.iterdir() if p.name.endswith((".part", ".old"))]  # no half-written file


def text_of(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


EXACT_STEPS = "exact_steps = 2"


def test_a_rebuild_with_the_exercise_sheet_unchanged_reuses_its_pdf(tmp_path: Path, watching: list[Watching]) -> None:
    spec = tmp_path / "week.toml"
    original = example_path().read_text(encoding="utf-8")
    assert original.count(EXACT_STEPS) == 1 and original.count(FIRST_WEIGHTS) == 1
    spec.write_text(original, encoding="utf-8")
    out = tmp_path / "out"
    # TeX stamps each PDF with the second it was made (unless told a date): an exercise PDF with the
    # same bytes a second later was not typeset again.
    env = {name: value for name, value in os.environ.items() if name not in ("SOURCE_DATE_EPOCH", "FORCE_SOURCE_DATE")}
    run = Watching(str(spec), "-o", str(out), env=env)
    watching.append(run)
    run.next_line("derive: watching ")
    first = {path.name: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    time.sleep(1.0)

    # how many of the learning-rate sweep's steps are worked exactly: the solution's business alone
    fewer = original.replace(EXACT_STEPS, "exact_steps = 1")
    save_by_rename(spec, fewer)
    assert " PDFs rebuilt in " in run.next_line("derive: ")
    second = {path.name: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    assert sorted(second) == sorted(first)  # the whole set, fragments and all
    assert second["week-exercise.tex"] == first["week-exercise.tex"]
    assert second["week-exercise.pdf"] == first["week-exercise.pdf"]  # reused, not typeset again
    assert second["week-solution.tex"] != first["week-solution.tex"]
    assert second["week-solution.pdf"] != first["week-solution.pdf"]
    # Both PDFs read as a build of the saved spec from scratch reads (a cold process, nothing kept).
    cold = tmp_path / "cold"
    (tmp_path / "cold.toml").write_text(fewer, encoding="utf-8")
    built = subprocess.run(
        [sys.executable, "-m", "derive", "sheet", str(tmp_path / "cold.toml"), "-o", str(cold)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    for name in ("exercise", "solution"):
        assert text_of(out / f"week-{name}.pdf") == text_of(cold / f"cold-{name}.pdf")
    assert (cold / "cold-solution.tex").read_bytes() == second["week-solution.tex"]
    assert "Backpropagation by hand" in text_of(out / "week-exercise.pdf")

    # a weight changed: the exercise sheet shows it, so it is typeset again
    save_by_rename(spec, fewer.replace(FIRST_WEIGHTS, "weights = [[1, -1], [7, 1]]"))
    assert " PDFs rebuilt in " in run.next_line("derive: ")
    assert (out / "week-exercise.tex").read_bytes() != first["week-exercise.tex"]
    assert text_of(out / "week-exercise.pdf") != text_of(cold / "cold-exercise.pdf")
    assert "7 1" in text_of(out / "week-exercise.pdf").split("and the loss")[0]  # W(1)'s second row
    status, _ = run.stop(signal.SIGTERM)
    assert status == 143


PNG = b"\x89PNG\r\n\x1a\n"


def test_a_logo_or_a_template_saved_rebuilds_too(tmp_path: Path, watching: list[Watching]) -> None:
    spec = tmp_path / "small.toml"
    text = (EXAMPLES / "no_bias.toml").read_text(encoding="utf-8")
    assert "[sheet]\n" in text and "logo" not in text
    spec.write_text(text.replace("[sheet]\n", '[sheet]\nlogo = "crest.png"\n', 1), encoding="utf-8")
    logo = tmp_path / "crest.png"
    logo.write_bytes(PNG + b"one")
    folder = tmp_path / "mine"
    folder.mkdir()
    out = tmp_path / "out"
    run = Watching(str(spec), "-o", str(out), "--no-pdf", "--templates", str(folder))
    watching.append(run)
    assert run.next_line("derive: watching ") == (
        f"derive: watching {spec} (its logo, {folder}); a save rebuilds, Ctrl-C stops"
    )
    logo.write_bytes(PNG + b"two")
    assert run.next_line("derive: ").startswith("derive: no value changed; .tex and answers rebuilt in ")
    assert (out / "small-logo.png").read_bytes() == PNG + b"two"
    (folder / "notes.tex.j2").write_text("% a template of my own\n", encoding="utf-8")
    assert run.next_line("derive: ").startswith("derive: no value changed; .tex and answers rebuilt in ")
    status, said = run.stop(signal.SIGTERM)
    assert status == 143 and said == ["derive: stopped by SIGTERM; the files were written"]


def _at(part: int | None, decimal: str, exercise: int | None = None) -> tuple[tuple[int | None, int | None], str]:
    return (exercise, part), decimal


def test_the_summary_names_parts_new_and_gone_values() -> None:
    old = {"w[1]": _at(None, "1.00"), "p1.a": _at(1, "0.50"), "p1.b": _at(1, "0.25"), "p1.c": _at(1, "2.00")}
    old["p2.z"] = _at(2, "1.00")
    new = {"w[1]": _at(None, "1.00"), "p1.a": _at(1, "0.60"), "p1.b": _at(1, "0.35"), "p1.c": _at(1, "2.10")}
    new["p3.q"] = _at(3, "4.00")
    assert changes(old, new) == (
        "part 1: 3 values changed (p1.a: 0.50 → 0.60, p1.b: 0.25 → 0.35, …); part 2: 1 value gone; part 3: 1 value new"
    )
    assert changes(old, old) == "no value changed"
    many = {f"p{n}.x": _at(n, "1") for n in range(1, 8)}
    assert changes(many, {name: (where, "2") for name, (where, _) in many.items()}).endswith(
        "; part 4: 1 value changed (p4.x: 1 → 2); and 3 values in 3 more parts"
    )


def test_the_summary_of_a_sheet_of_several_exercises_keeps_their_parts_apart(tmp_path: Path) -> None:
    # Read back from a real build: e1.p1 and e2.p1 are both "part": 1, each of its own exercise.
    spec = EXAMPLES / "exam_three_exercises.toml"  # it includes a file beside it
    assert sheet(str(spec), "-o", str(tmp_path / "out")).returncode == 0
    old = read_answers(tmp_path / "out", spec)
    assert old is not None
    new = dict(old)
    for name in ("e1.p1.z", "e2.w1[1,1]", "e2.p1.L"):
        assert name in old, name
        new[name] = (old[name][0], "9.9999")
    said = changes(old, new)
    assert said.startswith("exercise 1, part 1: 1 value changed (e1.p1.z: ")
    assert "; exercise 2, the network: 1 value changed (e2.w1[1,1]: " in said
    assert "; exercise 2, part 1: 1 value changed (e2.p1.L: " in said


def sheet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "derive", "sheet", *args, "--no-pdf"], capture_output=True, text=True, timeout=300
    )


def copy(name: str, to: Path) -> Path:
    to.parent.mkdir(parents=True, exist_ok=True)
    to.write_text((EXAMPLES / name).read_text(encoding="utf-8"), encoding="utf-8")
    return to


def test_several_specs_each_build_under_their_own_name(tmp_path: Path) -> None:
    a = copy("no_bias.toml", tmp_path / "a.toml")
    b = copy("shared_bias.toml", tmp_path / "b.toml")
    result = sheet(str(b), str(a), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    for stem in ("a", "b"):
        assert (tmp_path / "out" / f"{stem}-answers.json").is_file()
        assert f"{tmp_path / 'out' / stem}-solution.tex" in result.stdout.splitlines()
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{b}: verified ") and lines[1].startswith(f"{a}: verified ")
    assert lines[-1] == f"derive: built 2 of 2 specs ({b}, {a})"


def test_a_folder_builds_every_spec_in_it_sorted(tmp_path: Path) -> None:
    folder = tmp_path / "week"
    copy("no_bias.toml", folder / "z.toml")
    copy("shared_bias.toml", folder / "m.toml")
    (folder / "notes.txt").write_text("not a spec\n", encoding="utf-8")
    (folder / ".#z.toml").symlink_to("nowhere")  # Emacs's lock link: not a spec
    result = sheet(str(folder), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("*-answers.json")) == ["m-answers.json", "z-answers.json"]
    assert result.stderr.splitlines()[-1] == f"derive: built 2 of 2 specs ({folder / 'm.toml'}, {folder / 'z.toml'})"


def test_two_specs_with_one_stem_are_refused_before_any_work(tmp_path: Path) -> None:
    first = copy("no_bias.toml", tmp_path / "one" / "x.toml")
    second = copy("shared_bias.toml", tmp_path / "two" / "x.toml")
    for args, message in (
        ((first, second), f"derive: error: {first} and {second} would both write the files x-*; rename one"),
        ((first, first), f"derive: error: {first} is named twice (nothing was built)"),
        ((tmp_path / "one", second), f"derive: error: {first} and {second} would both write the files x-*; rename one"),
    ):
        result = sheet(*map(str, args), "-o", str(tmp_path / "out"))
        assert result.returncode == 2 and result.stderr.startswith(message), result.stderr
        assert result.stderr.count("\n") == 1 and not (tmp_path / "out").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = sheet(str(empty), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and result.stderr == f"derive: error: {empty}: no *.toml spec files in this folder\n"


def test_one_bad_spec_among_good_ones_fails_alone(tmp_path: Path) -> None:
    good = copy("no_bias.toml", tmp_path / "a.toml")
    bad = tmp_path / "b.toml"
    bad.write_text(
        (EXAMPLES / "shared_bias.toml").read_text(encoding="utf-8").replace('"sigmoid"', '"sigmod"', 1),
        encoding="utf-8",
    )
    also = copy("shared_bias.toml", tmp_path / "c.toml")
    missing = tmp_path / "d.toml"
    result = sheet(str(good), str(bad), str(also), str(missing), "-o", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr  # the first failure's status
    assert sorted(p.name for p in (tmp_path / "out").glob("*-answers.json")) == ["a-answers.json", "c-answers.json"]
    assert not list((tmp_path / "out").glob("b-*"))
    errors = [line for line in result.stderr.splitlines() if line.startswith("derive: error: ")]
    assert len(errors) == 2
    assert errors[0].startswith(f"derive: error: {bad}") and "unknown activation 'sigmod'" in errors[0]
    assert errors[1].startswith(f"derive: error: {missing}") and "cannot read the spec" in errors[1]
    assert result.stderr.splitlines()[-1] == (
        f"derive: built 2 of 4 specs ({good}, {also}); failed: {bad} (exit 2), {missing} (exit 2)"
    )
    assert "Traceback" not in result.stderr
