"""Compiling a sheet while it is still being written: TeX typesets part k while Python derives part k + 1.

The main file holds the sheet's head (preamble, title, the network) and one ``\\@@input`` per
part, each of a named pipe (FIFO). TeX loads the preamble and typesets the head at once, then
waits at each pipe until Python has written that part. TeX's primitive ``\\@@input`` opens a file
once (LaTeX's ``\\input`` opens it twice, to test that it exists, which a pipe does not survive).

Anything unusual (TeX stops with an error, asks for a second run, or the derivation fails) ends
the stream; the caller then compiles the finished source the usual way, so errors are always
reported from the whole document. Where there are no named pipes (Windows has no ``os.mkfifo``;
some file systems refuse them) :class:`NoPipes` says so before TeX starts, and the caller compiles
the finished source: the same PDF, later.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from derive.errors import TexError
from derive.pdf import early, processes
from derive.pdf.compile import Pdf, rerun_asked, with_format
from derive.pdf.processes import ENGINE_OPTIONS, tex_environment

LIFETIME = 10
"""A streamed TeX run lives at most this many times the per-run timeout (it waits for the derivation)."""
POLL = 0.005
"""Seconds between attempts to open a pipe TeX has not reached yet."""
STARTING = 0.5
"""Seconds :meth:`StreamedPdf.wait_started` waits at most: finding a cached format and starting TeX
take a twentieth of that; building a format (a first run) takes longer, and is not waited for."""


class NoPipes(Exception):
    """Named pipes cannot be made here (no ``os.mkfifo``, or the temporary folder refuses them)."""


class StreamedPdf:
    """One TeX run fed part by part: :meth:`part` never blocks; :meth:`finish` waits for the PDF.

    TeX is started by the writer thread (after the preamble's format is found, or built on a
    first run), so the caller goes on deriving at once.
    """

    def __init__(
        self,
        head: str,
        parts: int,
        timeout: float,
        files: dict[str, bytes],
        formats: Path | None,
        engine: str = "pdflatex",
    ) -> None:
        self.timeout, self.engine = timeout, engine
        # XeTeX reads a file's first two bytes to sniff its encoding and rewinds, which a pipe cannot:
        # the two bytes were lost. After a UTF-8 byte-order mark it reads on without rewinding.
        self.mark = b"\xef\xbb\xbf" if engine == "xelatex" else b""
        self.runs = processes.runs()  # the build's: stopping it kills this TeX too
        self.work = Path(tempfile.mkdtemp(prefix="derive-tex-"))
        self.parts, self.files = parts, files
        self.pending: queue.Queue[str | None] = queue.Queue()
        self.stopped = threading.Event()
        self.started = threading.Event()
        """Set once TeX runs, or will not (see :meth:`wait_started`)."""
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        try:
            make_pipes(self.work, parts)
            for name, data in files.items():
                (self.work / name).write_bytes(data)
        except BaseException:
            shutil.rmtree(self.work, ignore_errors=True)
            raise
        inputs = "".join(f"\\csname @@input\\endcsname part{k}.tex\n" for k in range(1, parts + 1))
        context = contextvars.copy_context()  # the writer builds the format: as part of this build
        self.writer = threading.Thread(target=context.run, args=(self._run, head + inputs, parts, formats), daemon=True)
        self.writer.start()

    def wait_started(self) -> None:
        """Wait until TeX runs (at most :data:`STARTING` seconds): the writer thread finds the format
        and starts TeX in a few Python steps, each of which waited up to the interpreter's switch
        interval for a caller deriving meanwhile (a tenth of a second later, on the critical path)."""
        self.started.wait(STARTING)

    def part(self, text: str) -> None:
        """Queue the next part's LaTeX; TeX reads it when it gets there."""
        self.pending.put(text)

    def _start(self, source: str, formats: Path | None) -> bool:
        env = tex_environment(self.work)
        source, extra, _, started = with_format(source, self.work, env, self.timeout, formats, self.engine)
        if started is not None:  # a TeX that loaded this format before the imports ended
            return self._adopt(started, source)
        (self.work / "sheet.tex").write_text(source, encoding="utf-8")
        with self.lock:
            if self.stopped.is_set():
                return False
            # A TeX waiting at a pipe whose writer died (derive killed by a signal, no cleanup)
            # would wait forever: `timeout` bounds its life; its own process group is killed whole.
            limit = str(int(LIFETIME * self.timeout))
            self.process = self.runs.start(
                ["timeout", "-k", "5", limit, self.engine, *extra, *ENGINE_OPTIONS, "sheet.tex"],
                cwd=self.work,
                env=env,
                capture=False,
            )
        self.started.set()
        return True

    def _adopt(self, started: early.Early, body: str) -> bool:
        """Make ``started`` (a TeX waiting with this sheet's format: :mod:`derive.pdf.early`) this
        run's TeX, in its folder, and give it ``body``, the text after the preamble; False where it
        cannot be (the build is stopping, TeX ended): then the finished source is compiled."""
        with self.lock:
            try:
                if self.stopped.is_set():
                    raise processes.Stopped("the build is stopping")
                make_pipes(started.work, self.parts)
                for name, data in self.files.items():
                    (started.work / name).write_bytes(data)
                self.runs.adopt(started.process)  # the build's from here: stopping the build kills it
            except (OSError, NoPipes, TexError):
                started.end()
                return False
            own, self.work, self.process = self.work, started.work, started.process
        shutil.rmtree(own, ignore_errors=True)
        self.started.set()
        return self._deliver(self.work / "sheet.tex", body)

    def _run(self, source: str, parts: int, formats: Path | None) -> None:
        try:
            if not self._start(source, formats):
                return
            for k in range(1, parts + 1):
                text = self.pending.get()
                if text is None or not self._deliver(self.work / f"part{k}.tex", text):
                    break
        except (OSError, TexError):  # TeX could not start (the build is stopping): finish() compiles
            pass
        finally:
            self.stopped.set()
            self.started.set()

    def _deliver(self, pipe: Path, text: str) -> bool:
        """Write ``text`` into ``pipe`` once TeX opens it; False if TeX ended or the stream stopped."""
        if self.stopped.is_set() or self.process is None:
            return False
        return early.feed(pipe, self.mark + text.encode("utf-8"), self.process, POLL, self.stopped.is_set)

    def finish(self) -> Pdf | None:
        """The PDF, or None when this run cannot be trusted (the caller compiles the whole source)."""
        self.writer.join(self.timeout)
        process = self.process
        try:
            if self.writer.is_alive() or process is None:
                return None
            process.wait(self.timeout)
            log = (self.work / "sheet.log").read_text(encoding="utf-8", errors="replace")
            pdf = Pdf.of((self.work / "sheet.pdf").read_bytes(), log)
            return None if process.returncode != 0 or rerun_asked(log) else pdf
        except (subprocess.TimeoutExpired, OSError):
            return None
        finally:
            self.abandon()

    def close(self) -> None:
        """Stop TeX and the writer."""
        with self.lock:
            self.stopped.set()
            if self.process is not None and self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            if self.process is not None:
                self.runs.done(self.process)
        self.pending.put(None)
        self.writer.join()

    def abandon(self) -> None:
        """End the run and remove its folder (after :meth:`finish`, or when the derivation failed)."""
        self.close()
        shutil.rmtree(self.work, ignore_errors=True)


def make_pipes(folder: Path, parts: int) -> None:
    """``part1.tex`` … ``part<parts>.tex`` in ``folder`` as named pipes; :class:`NoPipes` where the
    platform has none (Windows) or the file system refuses them."""
    mkfifo = getattr(os, "mkfifo", None)
    if mkfifo is None:
        raise NoPipes("no os.mkfifo on this platform")
    try:
        for k in range(1, parts + 1):
            mkfifo(folder / f"part{k}.tex")
    except (OSError, NotImplementedError) as error:
        raise NoPipes(f"named pipes refused: {error}") from error
