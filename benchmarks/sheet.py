"""P1: a cold ``derive example`` against its floor, one bare pdflatex pass per PDF, in one run.

Usage: python benchmarks/sheet.py [--runs N] [--baseline CHECKOUT]. Prints the medians, their ratio,
the peak memory of the derive process and the machine. Never asserts: the machines are shared and noisy.
``--baseline`` times another checkout's ``derive example`` (an earlier commit, main) in the same runs,
in turn with this one's, so that a change is measured before and after on the same machine at once.

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
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT", help="another checkout of derive to time too")
    args = parser.parse_args()
    # Byte-compile derive as a regular (non-editable) install does: an editable install compiles on
    # first import, never where PYTHONDONTWRITEBYTECODE is set, and would time the compiler too.
    checkouts = [Path(__file__).parent.parent, *([args.baseline.resolve()] if args.baseline else [])]
    for checkout in checkouts:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "derive")], check=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}  # starts empty
        derive = [sys.executable, "-m", "derive", "example", "-o"]
        first = timed([*derive, str(work / "first")], work, env)
        baseline_env = {**env, "PYTHONPATH": str(args.baseline.resolve())} if args.baseline else env
        warm: list[float] = []
        uncached: list[float] = []
        floors: list[float] = []
        floors_parallel: list[float] = []
        python: list[float] = []
        baseline: list[float] = []
        for run in range(args.runs):
            out = work / f"out{run}"
            warm.append(timed([*derive, str(out)], work, env))
            if args.baseline:
                baseline.append(timed([*derive, str(work / f"base{run}")], work, baseline_env))
            uncached.append(timed([*derive, str(work / f"plain{run}"), "--no-format-cache"], work, env))
            python.append(timed([*derive, str(work / f"python{run}"), "--no-pdf"], work, env))
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
    cases = [("derive example, formats cached (P1)", statistics.median(warm))]
    if args.baseline:
        cases.append((f"derive example, formats cached, baseline {args.baseline}", statistics.median(baseline)))
    cases += [
        ("derive example, --no-format-cache", statistics.median(uncached)),
        ("derive example, first build (builds the formats, once)", first),
        ("derive example --no-pdf (the Python alone, no TeX)", statistics.median(python)),
    ]
    for label, seconds in cases:
        print(f"{label}: {seconds:.3f} s, ratio to the floor {seconds / floor:.2f}")
    print("target (issue 23): ratio <= 1.0 (derive example, formats cached, against the floor)")
    print(f"peak memory of any child process (derive or pdflatex): {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
