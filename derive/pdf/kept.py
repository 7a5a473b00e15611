"""A watching process's PDFs of its last build: a document whose source and files are unchanged is not typeset again."""

from __future__ import annotations

import contextvars
import hashlib
import threading

from derive.pdf.compile import Pdf


class Kept:
    """Each document's last PDF, by its name (exercise, solution), with the digest of what made it:
    the source, the files put beside it (a logo) and the engine. Only the last is kept: a watching
    lecturer's edits move forward, and a sheet's PDF is a few hundred KB."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # the pool's threads and the build's thread meet here
        self.last: dict[str, tuple[str, Pdf]] = {}

    def pdf(self, name: str, digest: str) -> Pdf | None:
        """The PDF last made of ``name`` from what has ``digest``, or None."""
        with self.lock:
            found = self.last.get(name)
        return found[1] if found is not None and found[0] == digest else None

    def keep(self, name: str, digest: str, pdf: Pdf) -> None:
        with self.lock:
            self.last[name] = (digest, pdf)


def digest(source: str, files: dict[str, bytes], engine: str) -> str:
    """What a PDF is made from, in a digest: two documents with the same one typeset alike."""
    made = hashlib.sha256(f"{engine}\0{len(files)}\0".encode())
    for name in sorted(files):
        made.update(f"{name}\0{len(files[name])}\0".encode())
        made.update(files[name])
    made.update(source.encode("utf-8"))
    return made.hexdigest()


KEPT: contextvars.ContextVar[Kept | None] = contextvars.ContextVar("derive_kept", default=None)
"""The PDFs a build may reuse: set by ``derive watch`` around its rebuilds; None (a single build) keeps nothing."""
