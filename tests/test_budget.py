"""The build's budget: a part that never ends stops at --max-seconds, memory past --max-memory stops
the same way, each in one line naming the part, with nothing written and nothing left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import derive
from derive import pipeline
from derive.budget import Budget, Expired
from derive.cli import main
from derive.errors import BudgetError
from derive.kinds import KINDS
from derive.pipeline import Options, build_sheet, load_sheet
from tests.conftest import tex_running_in

ROOT = Path(__file__).resolve().parent.parent
SMALL = (
    '[network]\n[[network.layers]]\nweights = [[1]]\nbias = [0]\nactivation = "sigmoid"\n'
    '[loss]\nname = "squared_error"\n[[parts]]\nkind = "gradients"\nx = [1]\ny = 1\n'
)
PATCHED = """\
import sys
import sympy as sp
from derive.cli import main
from derive.kinds import KINDS

def forever(derivation, part):
    x = sp.Symbol("x")
    while True:  # SymPy work that never returns on its own
        sp.expand((x + 1) ** 30)

def hungry(derivation, part):
    return [bytearray(1 << 20) for _ in range(1024)]  # 1 GiB at most: a broken bound cannot swamp the machine

object.__setattr__(KINDS[sys.argv[1]], "derive", {"forever": forever, "hungry": hungry}[sys.argv[2]])
sys.exit(main(sys.argv[3:]))
"""
TIME_UP = (
    "took longer than --max-seconds {seconds}; nothing was written (allow more with --max-seconds, or ask for less)"
)


def derive_with(
    tmp_path: Path, behaviour: str, *args: str, tmp: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``derive sheet small.toml ARGS`` in a child process whose gradients part behaves as ``behaviour``.
    The generous timeout makes a budget that does not hold a failure, not a hang."""
    script = tmp_path / "patched.py"
    script.write_text(PATCHED, encoding="utf-8")
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    command = [sys.executable, str(script), "gradients", behaviour, "sheet", str(spec), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)


def test_a_part_that_never_ends_stops_at_the_budget_naming_it(tmp_path: Path, private_tmp: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("mine", encoding="utf-8")
    result = derive_with(tmp_path, "forever", "-o", str(out), "--max-seconds", "2", tmp=private_tmp)
    assert result.returncode == 6
    assert result.stderr == f"derive: error: part 1 (gradients) {TIME_UP.format(seconds=2)}\n"
    assert result.stdout == ""
    assert [p.name for p in out.iterdir()] == ["old.txt"] and (out / "old.txt").read_text(encoding="utf-8") == "mine"
    assert list(private_tmp.iterdir()) == []  # the exercise sheet's TeX folder is gone with its run
    assert not tex_running_in(private_tmp)


def test_memory_past_the_bound_stops_in_one_line_naming_the_part(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = derive_with(tmp_path, "hungry", "-o", str(out), "--no-pdf", "--max-memory", "512")
    assert result.returncode == 6
    assert result.stderr == (
        "derive: error: part 1 (gradients) needed more than --max-memory 512 MiB; nothing was written "
        "(allow more with --max-memory, or ask for less)\n"
    )
    assert not out.exists()


def test_tex_builds_under_the_smallest_memory_bound(tmp_path: Path) -> None:
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL, encoding="utf-8")
    command = [sys.executable, "-m", "derive", "sheet", str(spec), "-o", str(tmp_path / "o"), "--max-memory", "256"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for sheet in ("exercise", "solution"):
        assert (tmp_path / "o" / f"small-{sheet}.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--max-seconds", "nan", "--max-seconds: expected seconds from 1 to 3600, found nan"),
        ("--max-seconds", "inf", "--max-seconds: expected seconds from 1 to 3600, found inf"),
        ("--max-seconds", "0.5", "--max-seconds: expected seconds from 1 to 3600, found 0.5"),
        ("--max-seconds", "1e12", "--max-seconds: expected seconds from 1 to 3600, found 1e+12"),
        ("--max-memory", "10", "--max-memory: expected MiB from 256 to 1048576, found 10"),
        ("--max-memory", "-1", "--max-memory: expected MiB from 256 to 1048576, found -1"),
    ],
)
def test_a_bad_budget_on_the_command_line_is_one_line(
    option: str, value: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["example", "--no-pdf", "-o", str(tmp_path / "o"), f"{option}={value}"]) == 2
    assert capsys.readouterr().err == f"derive: error: {message}\n"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), -1.0, 0.0, 0.5, 3601, 1e12, True, "60", None])
def test_options_refuse_a_bad_max_seconds(seconds: Any) -> None:
    with pytest.raises(ValueError, match=r"^max_seconds: expected seconds from 1 to 3600, found "):
        Options(max_seconds=seconds)


def test_options_take_whole_and_fractional_seconds() -> None:
    assert Options().max_seconds == 120.0
    assert Options(max_seconds=5).max_seconds == 5.0 and Options(max_seconds=2.5).max_seconds == 2.5


def _until(seconds: float) -> None:
    """Busy for ``seconds`` (bounded, so that a budget that does not hold fails the test, not hangs it)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_the_verification_running_over_is_named_and_the_timer_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "verify", lambda solution: _until(60))
    handler = signal.getsignal(signal.SIGALRM)
    with pytest.raises(BudgetError) as raised:
        build_sheet(
            derive.parse_spec(SMALL, name="small"), Options(output_dir=tmp_path / "o", pdf=False, max_seconds=2)
        )
    assert str(raised.value) == f"the verification {TIME_UP.format(seconds=2)}"
    assert raised.value.exit_status == 6
    assert not (tmp_path / "o").exists()
    assert signal.getsignal(signal.SIGALRM) is handler and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_timer_in_use_is_left_alone(tmp_path: Path) -> None:
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    signal.setitimer(signal.ITIMER_REAL, 300)
    try:
        built = build_sheet(derive.parse_spec(SMALL, name="small"), Options(output_dir=tmp_path, pdf=False))
        assert built.report.values > 0
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 300 and not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_build_in_a_thread_stops_after_the_part_that_ran_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gradients = KINDS["gradients"]

    def slow(derivation: Any, part: Any) -> Any:
        time.sleep(4)  # past the budget; a thread cannot be interrupted, so the part ends first
        return gradients.derive(derivation, part)

    monkeypatch.setitem(KINDS, "gradients", replace(gradients, derive=slow))  # type: ignore[index]
    spec = derive.parse_spec(SMALL, name="small")
    outcome: list[BaseException] = []

    def build() -> None:
        try:
            build_sheet(spec, Options(output_dir=tmp_path / "o", pdf=False, max_seconds=3))
        except BaseException as error:  # handed to the test's thread
            outcome.append(error)

    handler = signal.getsignal(signal.SIGALRM)
    worker = threading.Thread(target=build)
    worker.start()
    worker.join(60)
    assert not worker.is_alive()
    assert [str(error) for error in outcome] == [f"part 1 (gradients) {TIME_UP.format(seconds=3)}"]
    assert isinstance(outcome[0], BudgetError)
    assert not (tmp_path / "o").exists()
    assert signal.getsignal(signal.SIGALRM) is handler  # no timer from a thread


def test_a_library_build_out_of_memory_names_the_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def hungry(derivation: Any, part: Any) -> Any:
        raise MemoryError

    monkeypatch.setitem(KINDS, "gradients", replace(KINDS["gradients"], derive=hungry))  # type: ignore[index]
    with pytest.raises(BudgetError, match=r"^part 1 \(gradients\) (ran out of memory|needed more than --max-memory)"):
        build_sheet(derive.parse_spec(SMALL, name="small"), Options(output_dir=tmp_path / "o", pdf=False))
    assert not (tmp_path / "o").exists()


def test_a_timer_firing_inside_a_shield_stops_the_work_when_the_shield_ends() -> None:
    budget = Budget(1)
    order: list[str] = []
    with pytest.raises(BudgetError, match=r"^part 1 \(x\) took longer than --max-seconds 1;"), budget:
        budget.stage = "part 1 (x)"
        with budget.shield():
            _until(1.5)  # the timer fires here; the block still runs to its end
            order.append("shield ended")
        order.append("went on")  # never: the stop comes as the shield ends
    assert order == ["shield ended"]


def test_the_deadline_is_checked_as_each_stage_begins() -> None:
    now = [0.0]
    budget = Budget(10, clock=lambda: now[0])
    budget.enter("the exercise sheet")
    now[0] = 10.0
    with pytest.raises(Expired):
        budget.enter("part 1 (forward)")
    assert budget.stage == "the exercise sheet"


def test_a_build_within_its_budget_leaves_no_timer(tmp_path: Path) -> None:
    built = build_sheet(derive.parse_spec(SMALL, name="small"), Options(output_dir=tmp_path, pdf=False, max_seconds=60))
    assert built.report.values > 0
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_section_begun_after_the_deadline_stops_in_one_line() -> None:
    now = [0.0]
    budget = Budget(5, clock=lambda: now[0])
    budget.enter("the verification")
    now[0] = 6.0
    with pytest.raises(BudgetError, match=r"^the verification took longer than --max-seconds 5;"), budget:
        pytest.fail("the section ran")
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_memory_bound_keeps_a_lower_limit_and_restores_the_old_one() -> None:
    import resource

    from derive.budget import memory_bound, memory_limit

    before = resource.getrlimit(resource.RLIMIT_DATA)
    with memory_bound(1 << 20), memory_bound(4096):
        assert memory_limit() == 4096
        with memory_bound(8192):  # a lower limit already set stands
            assert memory_limit() == 4096
        assert memory_limit() == 4096
    assert resource.getrlimit(resource.RLIMIT_DATA) == before


def test_an_exam_of_several_exercises_leaves_no_alarm_behind(tmp_path: Path) -> None:
    # Its sections were entered inside the sheet's first one: leaving them restored that section's alarm,
    # which then went off in whatever the process did next.
    handler = signal.getsignal(signal.SIGALRM)
    sheet = load_sheet(Path(__file__).parent.parent / "examples" / "exam_three_exercises.toml")
    built = build_sheet(sheet, Options(output_dir=tmp_path, pdf=False, exam=True, max_seconds=60))
    assert built.report.values > 0
    assert signal.getsignal(signal.SIGALRM) is handler and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_section_inside_a_section_leaves_the_outer_one_s_timer_to_it() -> None:
    handler = signal.getsignal(signal.SIGALRM)
    budget = Budget(60)
    with budget:
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0
        with budget:  # part of the outer section: its leaving neither stops nor keeps the timer
            pass
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0
    assert signal.getsignal(signal.SIGALRM) is handler and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    quick = Budget(0.2)
    with pytest.raises(BudgetError, match=r"took longer than --max-seconds 0\.2"), quick, quick:
        _until(5)
    assert signal.getsignal(signal.SIGALRM) is handler and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
