"""P3 (warm rebuilds): ``derive watch`` rebuilding the built-in example after one weight changes, against
the floor (one bare pdflatex pass per PDF of the same two .tex files), measured in the same run.

Usage: python benchmarks/watch.py [--runs N] [--no-pdf] [--edit weight|solution]. Starts ``derive
watch`` on a copy of the example, then N times: saves the spec with w1[2,1] changed (a new value each
time, written to a temporary file renamed over the spec, as editors save; ``--edit solution`` changes
instead how many steps of part 8 are worked exactly, which the exercise sheet does not show, so its
PDF is reused), waits for the watcher's line saying it rebuilt,
then times the floor on the two .tex files it just wrote. Each rebuild is paired with the floor
measured right after it (the machine is shared and noisy: the ratio pair by pair holds when its
speed drifts). Prints the medians and their ratios; never asserts.

A rebuild is timed two ways: from the save to the watcher's line (what a lecturer waits for, noticing
the save included) and as the watcher reports it (the build alone).
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FIRST_WEIGHTS = "weights = [[1, -1], [2, 1]]"
EXACT_STEPS = "exact_steps = 2"
WAIT = 300.0
"""Longest to wait for one line of the watcher (a bound against hanging)."""


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def bare_pass(tex: Path, work: Path) -> float:
    """One pdflatex pass over a copy of ``tex`` in a clean folder."""
    folder = Path(tempfile.mkdtemp(dir=work))
    shutil.copy(tex, folder / tex.name)
    return timed(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], folder)


class Watcher:
    """``derive watch`` in a subprocess, its stderr read line by line as it comes."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[tuple[float, str] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))
        self.lines.put(None)

    def next_line(self, starting: str) -> tuple[float, str]:
        """The next line that begins with ``starting`` and when it came."""
        while True:
            got = self.lines.get(timeout=WAIT)
            if got is None:
                raise SystemExit(f"derive watch ended before {starting!r}")
            if got[1].startswith("derive: error") or got[1].startswith("derive: internal"):
                raise SystemExit(got[1])
            if got[1].startswith(starting):
                return got

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=WAIT)


def save(spec: Path, text: str) -> float:
    """Save as editors do (a temporary file renamed over the spec); when the save was done."""
    temporary = spec.with_name(f".{spec.name}.swp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, spec)
    return time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-pdf", action="store_true", help="rebuild the .tex and answers only (no floor)")
    parser.add_argument("--edit", choices=("weight", "solution"), default="weight", help="what each save changes")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "derive")], check=True)
    sys.path.insert(0, str(root))
    from derive.exercise.reader import example_path

    original = example_path().read_text(encoding="utf-8")
    assert original.count(FIRST_WEIGHTS) == 1, "the example's first weights moved: update FIRST_WEIGHTS"
    assert original.count(EXACT_STEPS) == 1, "the example's exact steps moved: update EXACT_STEPS"
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}  # starts empty: the first build fills it
        spec, out = work / "week.toml", work / "out"
        spec.write_text(original, encoding="utf-8")
        command = [sys.executable, "-m", "derive", "watch", str(spec), "-o", str(out)]
        watcher = Watcher([*command, *(["--no-pdf"] if args.no_pdf else [])], env)
        first_started = time.perf_counter()
        came, _ = watcher.next_line("derive: watching ")
        first = came - first_started
        waited, reported, floors, ratios, reported_ratios = [], [], [], [], []
        try:
            for run in range(args.runs):
                if args.edit == "weight":  # a new value each time: nothing can be reused from before
                    edited = original.replace(FIRST_WEIGHTS, f'weights = [[1, -1], ["{run + 3}/{run + 2}", 1]]')
                else:  # 1, 0, 1, 0, …: each differs from the one before
                    edited = original.replace(EXACT_STEPS, f"exact_steps = {(run + 1) % 2}")
                saved = save(spec, edited)
                came, line = watcher.next_line("derive: ")
                if " rebuilt in " not in line:
                    raise SystemExit(line)
                waited.append(came - saved)
                reported.append(float(re.findall(r"rebuilt in ([\d.]+) s", line)[-1]))
                if args.no_pdf:
                    continue
                passes = [bare_pass(out / f"week-{name}.tex", work) for name in ("exercise", "solution")]
                floors.append(sum(passes))
                ratios.append(waited[-1] / floors[-1])
                reported_ratios.append(reported[-1] / floors[-1])
        finally:
            watcher.stop()
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    changing = "w1[2,1]" if args.edit == "weight" else "part 8's exact steps (the exercise sheet unchanged)"
    print(f"runs: {args.runs} rebuilds, each changing {changing} (medians below)")
    print(f"first build (imports, empty caches, formats built): {first:.3f} s")
    print(f"rebuild, save to the watcher's line: {statistics.median(waited):.3f} s")
    print(f"rebuild, as the watcher reports it: {statistics.median(reported):.1f} s (it prints tenths)")
    if args.no_pdf:
        return
    print(f"floor: one bare pdflatex pass per PDF, one after the other: {statistics.median(floors):.3f} s")
    print(f"ratio to the floor, save to line (median of pairs): {statistics.median(ratios):.2f}")
    print(f"ratio to the floor, as reported (median of pairs): {statistics.median(reported_ratios):.2f}")
    print("P3 target: ratio <= 0.5 (a rebuild against the floor)")


if __name__ == "__main__":
    main()
