"""P1: a cold ``derive example`` against its floor, one bare pdflatex pass per PDF, in one run.

Usage: python benchmarks/sheet.py [--runs N]. Prints the medians, their ratio, the peak memory
of the derive process and the machine. Never asserts: the machines are shared and noisy.
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


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, stdin=subprocess.DEVNULL)
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
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        derive_times, floors, floors_parallel = [], [], []
        for run in range(args.runs):
            out = work / f"out{run}"
            derive_times.append(timed([sys.executable, "-m", "derive", "example", "-o", str(out)], work))
            exercise, solution = out / "backprop-exercise.tex", out / "backprop-solution.tex"
            passes = [bare_pass(exercise, work), bare_pass(solution, work)]
            floors.append(sum(passes))
            floors_parallel.append(max(passes))
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    derive_median = statistics.median(derive_times)
    floor = statistics.median(floors)
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"runs: {args.runs} (medians below)")
    print(f"derive example (cold, both PDFs, .tex, answers): {derive_median:.3f} s")
    print(f"floor: one bare pdflatex pass per PDF, one after the other: {floor:.3f} s")
    print(f"      (the two passes side by side would take {statistics.median(floors_parallel):.3f} s)")
    print(f"P1 ratio derive / floor: {derive_median / floor:.2f}  (target <= 1.3)")
    print(f"peak memory of any child process (derive or pdflatex): {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
