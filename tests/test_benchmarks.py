"""The benchmarks run: each, at its smallest setting, ends cleanly and prints the ratio it exists for.

They are never timed here (the machines are shared and noisy); this only keeps them working as the
code they drive changes: ``watch_budget.py`` once unpacked a return value that had gained a member
and crashed before printing anything, and no test noticed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NUMBER = r"\d+\.\d+"

CASES = [
    # script, its smallest arguments, a line it must print (a regular expression), whether it needs TeX
    ("long_run.py", ["--steps", "3"], rf"2-2-1\s+sample\s+sgd\s+{NUMBER}\s+{NUMBER}", False),
    (
        "scaling.py",
        ["--sizes", "2", "--depths", "2", "--runs", "1", "--no-baseline"],
        rf"P1: 12 layers 8 wide \(753 parameters\) in {NUMBER} s",
        False,
    ),
    ("variants.py", ["--count", "2", "--no-pdf"], rf"speed-up {NUMBER}x", False),
    ("sheet.py", ["--runs", "1"], rf"formats cached[^\n]*: {NUMBER} s, ratio to the floor {NUMBER}", True),
    ("watch.py", ["--runs", "1"], rf"ratio to the floor, save to line \(median of pairs\): {NUMBER}", True),
    ("watch_budget.py", ["--runs", "1"], rf"at best on \d+ idle cores, however spread: {NUMBER}x", True),
]


@pytest.mark.parametrize(("script", "arguments", "printed", "tex"), CASES, ids=[case[0] for case in CASES])
def test_a_benchmark_runs_and_prints_its_ratio(script: str, arguments: list[str], printed: str, tex: bool) -> None:
    if tex and shutil.which("pdflatex") is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is missing in CI: scripts/dev installs it")
        pytest.skip("no pdflatex")
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert re.search(printed, run.stdout), run.stdout[-2000:]
