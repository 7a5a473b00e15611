"""Variants in parallel: a batch of variant sheet pairs on two processes against one, and the time
per variant against one sheet's build, measured in one run.

Usage: python benchmarks/variants.py [--count 100] [--spec SPEC] [--no-pdf]. Prints the times and
their ratios (wanted: two processes at least 1.9 times as fast as one; a variant at most 1.2 times
one sheet's build). Never asserts: the machines are shared and noisy. The default spec is a small
two-layer network with a forward pass, its gradients and an update, its weights and input varied.

Each batch is ``derive variants`` in a new process, on one core with one process and on two cores
with two (a single build already overlaps TeX with Python on a second core, so one process on two
cores is no baseline), both with the same cache of TeX formats, made first by a build of the spec's
own sheets; one sheet's build is ``build_sheet`` in a warm process
(the batch's workers are warm too: they import derive once), the median of three.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SPEC = """\
# Two layers: a forward pass, its gradients and one step of gradient descent, with other numbers per variant.
[sheet]
title = "Backpropagation, your variant"

[network]
inputs = 2

[[network.layers]]
weights = [[1, -1], [2, 1]]
bias = [0, 0]
activation = "sigmoid"

[[network.layers]]
weights = [[1, -1]]
bias = ["1/2"]
activation = "identity"

[loss]
name = "squared_error"

[[parts]]
kind = "forward"
x = [1, 2]
y = 1

[[parts]]
kind = "gradients"
use_sample_of = 1

[[parts]]
kind = "update"
use_sample_of = 1
learning_rate = "1/2"

[variants.vary]
"network.layers[1].weights" = { values = [-1, "-1/2", "1/2", 1] }
"network.layers[2].weights" = { from = -2, to = 2, step = "1/2", exclude = [0] }
"parts[1].x" = { values = [-1, 1, 2] }

[variants.good]
max_digits = 8
"""


def on(cores: set[int]) -> Callable[[], None]:
    """Run a child on these cores only (one build already overlaps TeX with Python on a second core)."""
    return lambda: os.sched_setaffinity(0, cores)


def timed(command: list[str], env: dict[str, str], cores: set[int]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL, preexec_fn=on(cores))
    return time.perf_counter() - started


def one_sheet(spec: Path, out: Path, pdf: bool, env: dict[str, str], cores: set[int]) -> float:
    """The median of three builds of the spec's own sheets in one warm process."""
    code = (
        "import statistics, time, derive\n"
        f"spec = derive.load_spec({str(spec)!r})\n"
        f"derive.build_sheet(spec, derive.Options(output_dir={str(out)!r}, pdf={pdf}))\n"
        "times = []\n"
        "for _ in range(3):\n"
        "    t = time.perf_counter()\n"
        f"    derive.build_sheet(spec, derive.Options(output_dir={str(out)!r}, pdf={pdf}))\n"
        "    times.append(time.perf_counter() - t)\n"
        "print(statistics.median(times))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True, preexec_fn=on(cores)
    )
    return float(result.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--spec", type=Path, help="a spec with [variants] (default: a small two-layer one)")
    parser.add_argument("--no-pdf", action="store_true", help="only the .tex and answers (no TeX)")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        spec = args.spec.resolve() if args.spec else work / "bench.toml"
        if not args.spec:
            spec.write_text(SPEC, encoding="utf-8")
        env = {
            **os.environ,
            "XDG_CACHE_HOME": str(work / "cache"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
        }
        first = min(os.sched_getaffinity(0))
        both = {first, max(os.sched_getaffinity(0))}
        sheet = one_sheet(spec, work / "sheet", not args.no_pdf, env, {first})  # also fills the format cache
        pdf = ["--no-pdf"] if args.no_pdf else []
        batch = [sys.executable, "-m", "derive", "variants", str(spec), "-n", str(args.count), "--seed", "2026", *pdf]
        one = timed([*batch, "-j", "1", "-o", str(work / "one")], env, {first})
        two = timed([*batch, "-j", "2", "-o", str(work / "two")], env, both)
    per_variant = one / args.count
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.count} variant sheet pairs{' (no PDFs)' if args.no_pdf else ''}:")
    print(f"  1 core, 1 process:     {one:8.2f} s")
    print(f"  2 cores, 2 processes:  {two:8.2f} s   speed-up {one / two:.2f}x (wanted >= 1.9)")
    print(f"one sheet's build (1 core, warm, median of 3): {sheet:.3f} s")
    print(f"  a variant on 1 process: {per_variant:.3f} s   {per_variant / sheet:.2f}x one sheet (wanted <= 1.2)")


if __name__ == "__main__":
    main()
