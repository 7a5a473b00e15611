"""TeX started before the build knows its sheet: it loads the last build's format while Python imports.

A build's solution sheet is typeset beside its derivation, and TeX is its longer road: it starts
once SymPy is imported and the sheet's head is written (0.4 s), then loads its format (0.1 s) before
the first line. The command line starts a pdflatex at once instead, on the format the user's last
build used (the cache's most recently used one), its main file a named pipe it waits at. The first
streamed sheet whose preamble has that very format takes the run (:func:`take`) and writes its
text into the pipe; any other sheet ends it and starts its own TeX as always. A guess that was
wrong only cost a TeX start on a core that was idle during the imports.

Only the standard library (and the format cache's seal) is imported here: this runs before SymPy loads.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from derive.pdf import processes
from derive.render import sealed

COMMANDS = ("example", "sheet", "watch")
"""Commands that stream a solution sheet to pdflatex."""
NOT_STREAMED = ("--no-pdf", "--no-cache", "--no-format-cache", "--engine", "--help", "-h", "--list", "--toml")
"""Options after which the run would not stream to pdflatex with a cached format (or build nothing)."""
LIFETIME = 600
"""Seconds an early TeX lives at most, as the timeout command bounds it: one whose derive was killed
(no cleanup) would otherwise wait at its pipe forever."""
TAKING = 2.0
"""Seconds :func:`take` waits at most for the early start to finish (it takes a hundredth of that)."""


def default_cache() -> Path:
    """The user's cache folder for derive, then ``formats``: on Linux ``$XDG_CACHE_HOME/derive/formats``
    (``~/.cache/derive/formats``), on macOS ``~/Library/Caches/derive/formats``, on Windows
    ``%LOCALAPPDATA%\\derive\\Cache\\formats``, as platformdirs decides."""
    return Path(platformdirs.user_cache_dir("derive", appauthor=False)) / "formats"


@dataclass
class Early:
    """A pdflatex waiting at its main file, ``sheet.tex`` (a named pipe) in ``work``, with the cached
    format ``fmt`` loaded; its process belongs to ``runs`` until a build takes it."""

    work: Path
    fmt: Path
    process: subprocess.Popen[bytes]
    runs: processes.Runs

    def kill(self) -> None:
        """Kill the run (taken by a sheet of another format, which keeps the folder)."""
        self.runs.stop()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)  # reaped: no zombie TeX for the rest of the command

    def end(self) -> None:
        """Kill the run and remove its folder (no build took it)."""
        self.kill()
        shutil.rmtree(self.work, ignore_errors=True)


_lock = threading.Lock()
_starting: list[threading.Thread] = []
_early: list[Early] = []


def wanted(argv: Sequence[str]) -> bool:
    """Whether the command line ``argv`` (without the program) will stream a sheet to pdflatex with a
    cached format: a guess from its words (the parser needs SymPy); a wrong one costs an idle TeX."""
    return bool(argv) and argv[0] in COMMANDS and not any(word in NOT_STREAMED for word in argv)


def start(argv: Sequence[str], cache: Path | None = None) -> None:
    """Start, in a thread, an early TeX on the newest format in ``cache`` (the default cache) where
    ``argv`` asks for a streamed build and the machine has pdflatex and named pipes."""
    if not wanted(argv) or not hasattr(os, "mkfifo") or shutil.which("pdflatex") is None:
        return
    starter = threading.Thread(target=_launch, args=(cache or default_cache(),), daemon=True)
    with _lock:
        _starting.append(starter)
    starter.start()


def _launch(cache: Path) -> None:
    with contextlib.suppress(OSError):
        formats = sorted(cache.glob("derive-*.fmt"), key=lambda p: p.stat().st_mtime, reverse=True)
        data = sealed.read(formats[0]) if formats and sealed.ready(cache) else None
        if data is None:
            return  # no format yet, or not this user's derive's: the build makes its own
        work = Path(tempfile.mkdtemp(prefix="derive-tex-"))
        try:
            (work / "derive.fmt").write_bytes(data)
            os.mkfifo(work / "sheet.tex")
            runs = processes.Runs()
            # The main file is a pipe: TeX must not open it once more to look for a %& format line.
            command = ["pdflatex", "-fmt=derive", "-no-parse-first-line", *processes.ENGINE_OPTIONS, "sheet.tex"]
            process = runs.start(
                ["timeout", "-k", "5", str(LIFETIME), *command],
                cwd=work,
                env=processes.tex_environment(work),
                capture=False,
            )
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        with _lock:
            _early.append(Early(work, formats[0], process, runs))


def take() -> Early | None:
    """The early TeX, now the caller's to adopt or end, or None (none was started, or it is taken)."""
    with _lock:
        starters = list(_starting)
        _starting.clear()
    for starter in starters:
        starter.join(TAKING)
    with _lock:
        return _early.pop() if _early else None


def discard() -> None:
    """End an early TeX no build took (the command is over, or it failed before its sheet)."""
    early = take()
    if early is not None:
        early.end()
