"""P1: a cold ``derive example`` against its floor, one bare pdflatex pass per PDF, in one run.

Usage: python benchmarks/sheet.py [--runs N]. Prints the medians, their ratio, the peak memory
of the derive process and the machine. Never asserts: the machines are shared and noisy.

Every derive run is a new process (cold imports). Three cases: the first build of all, which
also builds the cached TeX formats of the preamble (a fresh, empty cache); the builds after it
(the cache filled: the case of a lecturer rebuilding while editing); and with the cache off.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def bare_pass(tex: Path, work: Path) -> float:
    """One pdflatex pass over a copy of ``tex`` in a clean folder."""
    folder = Path(tempfile.mkdtemp(dir=work))
    shutil.copy(tex, folder / tex.name)
    return timed(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    # Byte-compile derive as a regular (non-editable) install does: an editable install compiles on
    # first import, never where PYTHONDONTWRITEBYTECODE is set, and would time the compiler too.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(__file__).parent.parent / "derive")], check=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}  # starts empty
        derive = [sys.executable, "-m", "derive", "example", "-o"]
        first = timed([*derive, str(work / "first")], work, env)
        warm, uncached, floors, floors_parallel = [], [], [], []
        for run in range(args.runs):
            out = work / f"out{run}"
            warm.append(timed([*derive, str(out)], work, env))
            uncached.append(timed([*derive, str(work / f"plain{run}"), "--no-format-cache"], work, env))
            exercise, solution = out / "backprop-exercise.tex", out / "backprop-solution.tex"
            passes = [bare_pass(exercise, work), bare_pass(solution, work)]
            floors.append(sum(passes))
            floors_parallel.append(max(passes))
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    floor = statistics.median(floors)
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"runs: {args.runs} (medians below)")
    print(f"floor: one bare pdflatex pass per PDF, one after the other: {floor:.3f} s")
    print(f"      (the two passes side by side would take {statistics.median(floors_parallel):.3f} s)")
    for label, seconds in (
        ("derive example, formats cached (P1)", statistics.median(warm)),
        ("derive example, --no-format-cache", statistics.median(uncached)),
        ("derive example, first build (builds the formats, once)", first),
    ):
        print(f"{label}: {seconds:.3f} s, ratio to the floor {seconds / floor:.2f}")
    print("P1 target: ratio <= 1.3 (derive example against the floor)")
    print(f"peak memory of any child process (derive or pdflatex): {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
