"""The processes of a build and the signals that end it: TeX in its own process group, killed whole
when the build stops; SIGINT, SIGTERM and SIGHUP turned into one exception that unwinds the build.

Only the standard library is imported here: the command line installs its handling before SymPy
loads, so that a signal during the imports ends the run as cleanly as one during the work.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from derive.errors import TexError

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""What ends a run cleanly: Ctrl-C, a service manager or CI cancelling it, a closed terminal."""


ENGINE_OPTIONS = ("-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error")
"""How every TeX run is started: no shell escape, and a first error ends it."""


def tex_environment(work: Path) -> dict[str, str]:
    """pdflatex's environment: no shell escape, reading and writing only inside ``work``."""
    return {
        **os.environ,
        "openin_any": "p",
        "openout_any": "p",
        "shell_escape": "f",
        "TEXMFOUTPUT": str(work),
        "max_print_line": "200",
    }


class Interrupted(KeyboardInterrupt):
    """A signal ended the run; a KeyboardInterrupt, so that every ``except Exception`` lets it pass."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.written = False
        """Whether the output files had been replaced (complete) when the signal came."""
        super().__init__(number)

    @property
    def status(self) -> int:
        """The shell's exit status of a run ended by this signal: 128 + its number."""
        return 128 + self.number

    def __str__(self) -> str:
        return f"stopped by {signal.Signals(self.number).name}"


class Stopped(TexError):
    """TeX was not started, or was killed, because its build is stopping."""


class _Signals:
    """The handler's state: one signal unwinds the run; later ones, and those arriving while files
    are committed or a cleanup runs, are held (the cleanup must finish, or files stay behind)."""

    def __init__(self) -> None:
        self.installed = False
        self.held = 0
        self.pending: int | None = None
        self.raised = False

    def handle(self, number: int, frame: FrameType | None) -> None:
        if self.raised:
            return  # the run is already unwinding: let it clean up
        if self.held:
            self.pending = self.pending or number
            return
        self.raised = True
        raise Interrupted(number)

    def release(self) -> None:
        if self.pending is not None and not self.held and not self.raised:
            self.raised = True
            raise Interrupted(self.pending)


_SIGNALS = _Signals()


def install() -> None:
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`Interrupted` (the command line's, not the
    library's: a program using derive keeps its own handling). A signal the caller ignores (nohup)
    stays ignored."""
    for number in SIGNALS:
        if signal.getsignal(number) != signal.SIG_IGN:
            signal.signal(number, _SIGNALS.handle)
    _SIGNALS.installed = True


def settle() -> None:
    """The run is over: later signals change nothing. They are ignored from here, not left to the
    interpreter, which restores the default action while it shuts down (a SIGTERM then would kill
    a run that is done, with no exit status of its own)."""
    _SIGNALS.raised = True
    if _SIGNALS.installed:
        for number in SIGNALS:
            signal.signal(number, signal.SIG_IGN)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Signals arriving inside are held until the block ends (committing files, cleaning up), then
    raised. Only where :func:`install` ran; elsewhere Ctrl-C interrupts as usual (callers roll back)."""
    if threading.current_thread() is not threading.main_thread() or not _SIGNALS.installed:
        yield
        return
    _SIGNALS.held += 1
    try:
        yield
    finally:
        _SIGNALS.held -= 1
        _SIGNALS.release()


class Runs:
    """The TeX processes of one build, each started in its own process group (TeX's helpers die with
    it); :meth:`stop` kills every group and refuses new starts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.live: set[subprocess.Popen[bytes]] = set()
        self.stopped = False

    def start(
        self, command: Sequence[str], *, cwd: Path, env: dict[str, str], capture: bool
    ) -> subprocess.Popen[bytes]:
        """Start ``command`` in a new process group; :class:`Stopped` when the build is stopping."""
        out = subprocess.PIPE if capture else subprocess.DEVNULL
        with self.lock:  # a start and a stop never cross: a process started is a process killed
            if self.stopped:
                raise Stopped("the build is stopping")
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
            )
            self.live.add(process)
        return process

    def adopt(self, process: subprocess.Popen[bytes]) -> None:
        """Make ``process`` (started for no build yet: :mod:`derive.pdf.early`) one of this build's;
        :class:`Stopped` (and the process killed) when the build is stopping."""
        with self.lock:
            if self.stopped:
                _kill(process)
                raise Stopped("the build is stopping")
            self.live.add(process)

    def done(self, process: subprocess.Popen[bytes]) -> None:
        """Kill what is left of ``process``'s group and forget it."""
        with self.lock:
            _kill(process)
            self.live.discard(process)

    def stop(self) -> None:
        """Kill every TeX of this build now; none starts after."""
        with self.lock:
            self.stopped = True
            for process in self.live:
                _kill(process)


def _kill(process: subprocess.Popen[bytes]) -> None:
    # Only while the leader is not reaped: its group id cannot have been given to another process.
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


CURRENT: contextvars.ContextVar[Runs | None] = contextvars.ContextVar("derive_runs", default=None)
"""The build a TeX run belongs to (set by the Typesetter, carried into its threads)."""


def runs() -> Runs:
    """The current build's processes, or a group of its own for a run outside a build."""
    return CURRENT.get() or Runs()


def run(
    command: Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[bytes]:
    """``subprocess.run`` for TeX: its own process group, killed whole on a timeout or when the build
    stops (then :class:`Stopped`); raises ``subprocess.TimeoutExpired`` like ``subprocess.run``."""
    owner = runs()
    process = owner.start(command, cwd=cwd, env=env, capture=True)
    try:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            owner.done(process)
            process.communicate()
            raise
    finally:
        owner.done(process)
        process.wait()
    if owner.stopped:  # killed by stop(): not a failure of the document (no format marked as failed)
        raise Stopped("the build is stopping")
    return subprocess.CompletedProcess(list(command), process.returncode, out, err)
