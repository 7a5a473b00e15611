"""TeX started before the build knows its sheet: it loads the last build's format while Python imports.

A build's solution sheet is typeset beside its derivation, and TeX is its longer road: it starts
once SymPy is imported and the sheet's head is written (0.4 s), then loads its format (0.1 s) before
the first line. The command line starts pdflatex at once instead, on the formats the user's last
build used (the cache's two most recently used: an exercise sheet's and a solution sheet's
preambles differ), each waiting at its main file, a named pipe. The streamed sheet whose preamble
has one of those very formats takes that run (:func:`take`) and writes its text into the pipe; a
sheet of another preamble starts its own TeX as always, and the command ends the runs no sheet took
(:func:`discard`). A guess that was wrong only cost TeX starts on a core idle during the imports.

Only the standard library (and the format cache's seal) is imported here: this runs before SymPy loads.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from derive.pdf import processes
from derive.render import sealed

COMMANDS = ("example", "sheet", "watch")
"""Commands that stream a solution sheet to pdflatex."""
NOT_STREAMED = ("--no-pdf", "--no-cache", "--no-format-cache", "--engine", "--help", "-h", "--list", "--toml")
"""Options after which the run would not stream to pdflatex with a cached format (or build nothing)."""
LIFETIME = 3600
"""Seconds an early TeX lives at most, as the timeout command bounds it: one whose derive was killed
(no cleanup) would otherwise wait at its pipe forever. ``derive watch`` starts the next rebuild's
while the lecturer edits; past this, the rebuild starts its own."""
SHEETS = 2
"""Early TeX runs started, on the most recently used formats: a build's exercise and solution
sheets have a preamble each (TikZ, pgfplots), and either may have been used last."""
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

    def end(self) -> None:
        """Kill the run and remove its folder (no build took it, or the one that did is done with it)."""
        self.runs.stop()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)  # reaped: no zombie TeX for the rest of the command
        shutil.rmtree(self.work, ignore_errors=True)


_lock = threading.Lock()
_starting: list[threading.Thread] = []
_early: list[Early] = []


def _forget() -> None:
    """In a forked worker (several specs built side by side): the early runs are the parent's, and two
    processes writing into one TeX's pipe would mix their sheets; the worker starts its own TeX."""
    global _lock
    _lock = threading.Lock()  # another thread may have held it at the fork
    _starting.clear()
    _early.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget)


def wanted(argv: Sequence[str]) -> bool:
    """Whether the command line ``argv`` (without the program) will stream a sheet to pdflatex with a
    cached format: a guess from its words (the parser needs SymPy); a wrong one costs an idle TeX."""
    return bool(argv) and argv[0] in COMMANDS and not any(word in NOT_STREAMED for word in argv)


def start(argv: Sequence[str], cache: Path | None = None) -> None:
    """Start, in a thread, early TeX runs on the :data:`SHEETS` most recently used formats in ``cache``
    (the default cache) where ``argv`` asks for a streamed build and the machine has pdflatex and
    named pipes."""
    if not wanted(argv) or not hasattr(os, "mkfifo") or shutil.which("pdflatex") is None:
        return
    starter = threading.Thread(target=_launch, args=(cache or default_cache(),), daemon=True)
    with _lock:
        _starting.append(starter)
    starter.start()


def _launch(cache: Path) -> None:
    with contextlib.suppress(OSError):
        formats = sorted(cache.glob("derive-*.fmt"), key=lambda p: p.stat().st_mtime, reverse=True)
        if sealed.ready(cache):
            for fmt in formats[:SHEETS]:
                _launch_on(fmt)


def _launch_on(fmt: Path) -> None:
    with contextlib.suppress(OSError):
        data = sealed.read(fmt)
        if data is None:
            return  # not this user's derive's: the build makes its own
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
            _early.append(Early(work, fmt, process, runs))


def feed(
    pipe: Path,
    text: bytes,
    process: subprocess.Popen[bytes],
    poll: float = 0.005,
    stopped: Callable[[], bool] = lambda: False,
) -> bool:
    """Write ``text`` into the named pipe ``pipe`` once TeX (``process``) opens it; False if TeX
    ended, or ``stopped()`` says its run was stopped, before it did."""
    while True:
        if stopped() or process.poll() is not None:
            return False
        try:
            handle = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as error:
            if error.errno != errno.ENXIO:  # ENXIO: no reader yet
                return False
            time.sleep(poll)
    try:
        os.set_blocking(handle, True)
        with os.fdopen(handle, "wb") as stream:
            stream.write(text)
        return True
    except OSError:  # TeX stopped reading (an error in the text)
        return False


def _started() -> None:
    """Wait for the early starts (each takes a hundredth of a second)."""
    with _lock:
        starters = list(_starting)
        _starting.clear()
    for starter in starters:
        starter.join(TAKING)


def take(fmt: Path) -> Early | None:
    """The early TeX that loaded the cached format ``fmt``, now the caller's to adopt or end; None
    where there is none (none was started, it is taken, or they loaded other formats)."""
    _started()
    with _lock:
        for early in _early:
            if early.fmt == fmt and early.process.poll() is None:  # a watch may outwait its lifetime
                _early.remove(early)
                return early
    return None


def discard() -> None:
    """End the early TeX runs no sheet took (the command is over, or failed before its sheets)."""
    _started()
    with _lock:
        left = list(_early)
        _early.clear()
    for early in left:
        early.end()
