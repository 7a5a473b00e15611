"""The PDFs of one build, typeset beside the Python work: a document compiled as soon as it is
written, or streamed piece by piece while the rest of it is still being derived. Whatever fails or
is interrupted cancels TeX and leaves nothing behind."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

from derive.errors import TexMissing
from derive.pdf import kept, processes
from derive.pdf.compile import FORMAT_ENGINES, Pdf, compile_pdf, have_tex, missing_tex
from derive.pdf.formats import end_prefetch, prefetch
from derive.pdf.stream import NoPipes, StreamedPdf


class Typesetter:
    """TeX for a build: :meth:`compile` a finished document, :meth:`stream` one in pieces and
    :meth:`finish` it, then :meth:`pdfs`; used as a context manager, so that an error on the way
    cancels every TeX run. With ``wanted`` False (or no ``engine`` on the machine) nothing is typeset."""

    def __init__(
        self,
        wanted: bool,
        timeout: float,
        files: dict[str, bytes],
        formats: Path | None,
        engine: str = "pdflatex",
    ) -> None:
        self.wanted, self.enabled, self.engine = wanted, wanted and have_tex(engine), engine
        self.timeout, self.files, self.formats = timeout, files, formats
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.jobs: dict[str, Future[Pdf]] = {}
        self.streams: dict[str, StreamedPdf] = {}
        self.unstreamed: set[str] = set()
        """Documents that could not be streamed (no named pipes): compiled whole when finished."""
        self.runs = processes.Runs()
        self.kept = kept.KEPT.get()
        """A watching process's last PDFs: a document made from the same source again is not typeset."""
        self.digests: dict[str, str] = {}
        self.token: contextvars.Token[processes.Runs | None] | None = None
        if self.enabled and formats is not None and engine in FORMAT_ENGINES:
            prefetch()  # kpsewhich answers while the exercise sheet is made: its format is found at once

    def __enter__(self) -> Typesetter:
        self.token = processes.CURRENT.set(self.runs)  # every TeX started from here on is this build's
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        with processes.held():  # a signal now waits until TeX is dead and its folders are gone
            if error is not None:
                self.runs.stop()  # kill every TeX of the build at once: the threads below end quickly
                for job in self.jobs.values():
                    job.cancel()
                for stream in self.streams.values():
                    stream.abandon()
            self.pool.shutdown(wait=True)
            end_prefetch(stop=error is not None)  # no kpsewhich outlives the build
            if self.token is not None:
                processes.CURRENT.reset(self.token)

    def _submit(self, job: Callable[..., Pdf], *args: Any) -> Future[Pdf]:
        # The job runs in the pool with this build's context: its TeX is among self.runs.
        return self.pool.submit(contextvars.copy_context().run, job, *args)

    def _reused(self, name: str, source: str) -> bool:
        """Whether the watching process's last PDF of ``name`` was made from ``source`` (and the same
        files and engine): then it is this build's, done at once."""
        if self.kept is None:
            return False
        self.digests[name] = kept.digest(source, self.files, self.engine)
        pdf = self.kept.pdf(name, self.digests[name])
        if pdf is None:
            return False
        self.jobs[name] = done = Future[Pdf]()
        done.set_result(pdf)
        return True

    def compile(self, name: str, source: str) -> None:
        """Typeset a finished document."""
        if self.enabled and not self._reused(name, source):
            self.jobs[name] = self._submit(compile_pdf, source, self.timeout, self.files, self.formats, self.engine)

    def stream(self, name: str, pieces: int) -> Callable[[str], None]:
        """Where a document of ``pieces`` pieces goes piece by piece: TeX starts on the first (its head)
        at once and typesets each later one as it arrives; where named pipes cannot be made, the
        finished document is compiled whole (:meth:`finish`)."""

        def piece(text: str) -> None:
            if not self.enabled or name in self.unstreamed:
                return
            if name in self.streams:
                self.streams[name].part(text)
            else:
                with processes.held():  # its temporary folder is made and recorded, or not made
                    try:
                        self.streams[name] = StreamedPdf(
                            text, pieces - 1, self.timeout, self.files, self.formats, self.engine
                        )
                    except NoPipes:
                        self.unstreamed.add(name)
                        return
                self.streams[name].wait_started()  # TeX first: it is the longer road (outside held())

        return piece

    def finish(self, name: str, source: str) -> None:
        """A streamed document is complete: its PDF is the streamed run's, or (where the stream stopped:
        a TeX error, a second pass asked for) the whole ``source`` compiled, so that errors are always
        reported from the whole document. One never streamed (no named pipes) is compiled whole."""
        stream = self.streams.get(name)
        if stream is None:
            self.compile(name, source)
            return
        if self._reused(name, source):  # TeX was started on its head in case it had changed: not needed
            with processes.held():  # its TeX is killed and its folder removed, or neither
                self.streams.pop(name).abandon()
            return
        self.jobs[name] = self._submit(
            lambda: stream.finish() or compile_pdf(source, self.timeout, self.files, self.formats, self.engine)
        )

    def pdfs(self, stem: str) -> dict[str, Pdf]:
        """Every document's PDF, once TeX is done, as ``<stem>-<name>.pdf``."""
        made = {name: job.result() for name, job in self.jobs.items()}
        if self.kept is not None:
            for name, pdf in made.items():
                self.kept.keep(name, self.digests[name], pdf)
        return {f"{stem}-{name}.pdf": pdf for name, pdf in made.items()}

    def missing(self) -> None:
        """Raise :class:`TexMissing` where PDFs were wanted but the engine is not installed."""
        if self.wanted and not self.enabled:
            raise TexMissing(missing_tex(self.engine))
