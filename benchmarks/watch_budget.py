"""P3 (warm rebuilds), the work a rebuild must do: CPU seconds of the Python and of each TeX run, against the floor.

Usage: python benchmarks/watch_budget.py [--runs N]. In one process kept warm as ``derive watch`` keeps
it, rebuilds the built-in example N times with w1[2,1] changed (a new value each time), .tex and
answers only, timing the Python's CPU; then times, on the two .tex files each rebuild wrote, each
sheet's pdflatex run with its cached preamble format (CPU, as a rebuild runs it), one bare pass of
each (the floor) and a run of an empty document with the format (what each more TeX run costs).
Every time is CPU seconds, the floor's too (a TeX run is one thread: on an idle core its CPU is its
wall time), so that the other work of a shared machine does not enter the ratios. Prints the
medians and their ratios to the floor; never asserts.

What it tells: a rebuild on C cores takes at least its CPU seconds / C, however its work is spread
(the solution's TeX split in shares typeset side by side, the Python beside them); each share
adds the fixed cost of a run. Where that bound is above the target (0.5× the floor), no scheduling
reaches it: the work itself must shrink.
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

FIRST_WEIGHTS = "weights = [[1, -1], [2, 1]]"
TARGET = 0.5
"""Issue 23, item 3: a rebuild at most this many times the floor."""


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def pdflatex(folder: Path, options: list[str]) -> tuple[float, float]:
    """Run pdflatex on ``folder/sheet.tex``: its wall and CPU seconds."""
    cpu, started = children_cpu(), time.perf_counter()
    command = ["pdflatex", *options, "-interaction=nonstopmode", "-halt-on-error", "sheet.tex"]
    subprocess.run(command, cwd=folder, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started, children_cpu() - cpu


def fresh(work: Path, name: str, text: str, fmt: bytes | None = None) -> Path:
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "sheet.tex").write_text(text, encoding="utf-8")
    if fmt is not None:
        (folder / "derive.fmt").write_bytes(fmt)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from derive.exercise.reader import example_path
    from derive.pdf.compile import tex_environment, with_format
    from derive.pdf.kept import KEPT, Kept
    from derive.pipeline import Options, build_sheet

    original = example_path().read_text(encoding="utf-8")
    assert original.count(FIRST_WEIGHTS) == 1, "the example's first weights moved: update FIRST_WEIGHTS"
    rows: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        spec, out, cache = work / "week.toml", work / "out", work / "formats"
        KEPT.set(Kept())  # as derive watch sets it
        for run in range(args.runs + 1):
            edited = original.replace(FIRST_WEIGHTS, f'weights = [[1, -1], ["{run + 3}/{run + 2}", 1]]')
            spec.write_text(edited, encoding="utf-8")
            cpu = time.process_time()  # every thread of this process: the build's and its pool's
            build_sheet(spec, Options(output_dir=out, pdf=False))
            python = time.process_time() - cpu
            if run == 0:
                continue  # the first build imports and fills the caches: the watch's first build
            row = {"python": python}
            for name in ("exercise", "solution"):
                source = (out / f"week-{name}.tex").read_text(encoding="utf-8")
                row[f"bare {name}"] = pdflatex(fresh(work, "bare", source), [])[1]
                made = fresh(work, "made", "")
                body, extra, fmt, _ = with_format(source, made, tex_environment(made), 60.0, cache)
                assert fmt is not None, "no cached format: is the preamble mark gone?"
                row[f"{name} TeX"] = pdflatex(fresh(work, "made", body, fmt.data), extra)[1]
                if name == "solution":
                    empty = fresh(work, "empty", "\\begin{document}\n\\end{document}\n", fmt.data)
                    row["a TeX run's fixed cost"] = pdflatex(empty, extra)[1]
            rows.append(row)
    floors = [row["bare exercise"] + row["bare solution"] for row in rows]
    floor = statistics.median(floors)
    work_cpu = [row["python"] + row["exercise TeX"] + row["solution TeX"] for row in rows]
    cores = os.cpu_count() or 1
    print(f"machine: {platform.node()} {platform.machine()} {cores} cores, Python {platform.python_version()}")
    print(f"runs: {args.runs} rebuilds in a warm process, each changing w1[2,1] (medians; ratios to the floor)")
    print(f"floor: one bare pdflatex pass per PDF, one after the other: {floor:.3f} s (CPU)")
    for key in rows[0]:
        value = statistics.median(row[key] for row in rows)
        ratio = statistics.median(row[key] / f for row, f in zip(rows, floors, strict=True))
        print(f"  {key:26s} {value:6.3f} s  {ratio:.2f}x")
    ratio = statistics.median(c / f for c, f in zip(work_cpu, floors, strict=True))
    print(f"a rebuild's CPU, Python and both TeX runs: {statistics.median(work_cpu):.3f} s, {ratio:.2f}x")
    fixed = statistics.median(row["a TeX run's fixed cost"] / f for row, f in zip(rows, floors, strict=True))
    print(f"at best on {cores} idle cores, however spread: {ratio / cores:.2f}x")
    print(f"  the solution in two shares side by side (one more run): {(ratio + fixed) / cores:.2f}x")
    print(f"P3 target: ratio <= {TARGET}")


if __name__ == "__main__":
    main()
