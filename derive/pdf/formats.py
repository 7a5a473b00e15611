"""Precompiled TeX formats of the sheets' shared preamble, cached so a rebuild skips loading packages.

Loading amsmath, TikZ, pgfplots and hyperref costs pdflatex about 0.5 s per sheet, every build.
The packages' state can be dumped once into a format (``pdflatex -ini … \\dump``) and loaded in
0.1 s. A format is keyed by the preamble's text and the installed TeX (the system format's path,
size and time, which TeX Live's updates change), so a changed preamble or TeX never reuses a
stale one. A format is loaded only if this user's derive wrote it (:mod:`derive.render.sealed`):
a planted or damaged one is built afresh. Anything that goes wrong here only means the sheet
compiles the usual way.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from derive.pdf import processes
from derive.pdf.early import default_cache as default_cache  # where the command line finds it early
from derive.render import sealed
from derive.render.document import MARK

KEEP = 8
"""Formats kept in the cache (about 7 MB each); the least recently used go first."""
STALE = 2 * 3600
"""Seconds after which a file a format build was making (its folder, its entry half written) is left over."""
FAILED_FOR = 24 * 3600
"""Seconds a preamble whose format failed is compiled the usual way before its format is tried again."""


def split(source: str) -> tuple[str, str] | None:
    """The shared preamble (up to :data:`MARK`) and the rest of ``source``; None without the mark."""
    head, mark, rest = source.partition(MARK)
    return (head, rest) if mark else None


_identity_lock = threading.Lock()
_identity: list[subprocess.Popen[str] | str] = []
"""The installed TeX's identity once known, or the kpsewhich run asked for it (:func:`prefetch`)."""


def prefetch() -> None:
    """Start asking kpsewhich for the installed TeX's identity (:func:`_tex_identity`), so that the answer
    is at hand when the first sheet's format is looked up: the question is asked once per process."""
    with _identity_lock, contextlib.suppress(OSError):
        if not _identity:
            _identity.append(
                subprocess.Popen(
                    ["kpsewhich", "-engine=pdftex", "pdflatex.fmt"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )


def end_prefetch(stop: bool) -> None:
    """A kpsewhich run still asking (:func:`prefetch`) is waited for, or with ``stop`` killed and
    forgotten (a build being stopped leaves no process behind; the next one asks again)."""
    with _identity_lock:
        if not _identity or isinstance(_identity[0], str):
            return
        run = _identity[0]
        if stop:
            run.kill()
            run.communicate()
            _identity.clear()
    if not stop:
        _tex_identity()


def _tex_identity() -> str:
    """What identifies the installed TeX: the system LaTeX format's path, size and modification time."""
    prefetch()
    with _identity_lock:  # the exercise's and the solution's look-ups wait for one answer
        if not _identity:  # kpsewhich could not be started
            return ""
        known = _identity[0]
        if not isinstance(known, str):  # kpsewhich asked, its answer not read yet
            found = known.communicate()[0].strip()
            try:
                stat = os.stat(found) if found else None
            except OSError:
                stat = None
            known = _identity[0] = f"{found}:{stat.st_size}:{stat.st_mtime_ns}" if stat else ""
        return known


@dataclass(frozen=True)
class Format:
    """A preamble's format as pdflatex loads it: read from the cache and checked, or just built."""

    path: Path
    """Where it is cached."""
    data: bytes = field(repr=False)
    fresh: bool
    """Built by this process: if TeX refuses it, its preamble does not survive dumping."""

    def place(self, work: Path) -> None:
        """Put the format into ``work`` as ``derive.fmt``: a copy of the bytes that were checked, so
        that nothing changed in the cache since can reach TeX."""
        (work / "derive.fmt").write_bytes(self.data)


_building = threading.Lock()
"""One build at a time in a process: the exercise and the solution share a preamble, so the second
waits for the first's format instead of building it again beside it. Cached formats are read and
checked side by side, without it."""


def format_for(preamble: str, cache: Path, env: dict[str, str], timeout: float) -> Format | None:
    """The cached format of ``preamble``, built now if missing or not this user's own (a planted,
    damaged or foreign file: :mod:`derive.render.sealed`); None when it cannot be had."""
    try:
        identity = _tex_identity()
        if not identity or not sealed.ready(cache):
            return None
        key = hashlib.sha256(f"{identity}\n{preamble}".encode()).hexdigest()[:20]
        target = cache / f"derive-{key}.fmt"
        failed = cache / f"derive-{key}.failed"
        if (found := _cached(target)) is not None:
            return found
        with _building:
            if (found := _cached(target)) is not None:  # built meanwhile by the other sheet's look-up
                return found
            if _failed(failed):
                return None  # this preamble does not dump (a user's package): do not try on every build
            data = _build(preamble, cache, env, timeout)
            if data is None:
                failed.touch()
                return None
            if not sealed.write(target, data):
                return None
            failed.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # a concurrent build pruning too: the format is made
                _prune(cache)
            return Format(target, data, fresh=True)
    except (OSError, subprocess.SubprocessError):  # a timeout too: a busy machine marks nothing failed
        return None


def _cached(target: Path) -> Format | None:
    """The format cached at ``target`` if it is this user's derive's (:func:`sealed.read`), else None."""
    data = sealed.read(target)
    if data is None:
        return None
    os.utime(target, follow_symlinks=False)  # recently used: pruned last
    return Format(target, data, fresh=False)


def _failed(marker: Path) -> bool:
    """Whether a build of this format failed in the last :data:`FAILED_FOR` seconds."""
    try:
        return time.time() - marker.stat().st_mtime < FAILED_FOR
    except OSError:
        return False


def _build(preamble: str, cache: Path, env: dict[str, str], timeout: float) -> bytes | None:
    """Dump ``preamble`` into a format in a fresh folder of ``cache``; its bytes, or None if TeX failed."""
    folder = Path(tempfile.mkdtemp(prefix=".build-", dir=cache))
    try:
        (folder / "preamble.tex").write_text(preamble + "\n\\dump\n", encoding="utf-8")
        command = ["pdflatex", "-ini", "-jobname=derive", "-interaction=batchmode", "-halt-on-error"]
        run = processes.run(  # its own process group, killed with its build (then no .failed mark)
            [*command, "-no-shell-escape", "&pdflatex", "preamble.tex"],
            cwd=folder,
            env={**env, "TEXMFOUTPUT": str(folder)},
            timeout=timeout,
        )
        made = folder / "derive.fmt"
        if run.returncode != 0 or not made.exists():
            return None
        return made.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _prune(cache: Path) -> None:
    """Keep the :data:`KEEP` most recently used formats; remove what a build killed midway left
    (``.build-*`` folders, ``.derive-*`` files half written) once it is :data:`STALE`."""
    formats = sorted(cache.glob("derive-*.fmt"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in formats[KEEP:]:
        old.unlink(missing_ok=True)
    for left in cache.glob(".*"):
        with contextlib.suppress(OSError):
            if time.time() - left.lstat().st_mtime > STALE:
                if left.is_dir() and not left.is_symlink():
                    shutil.rmtree(left)
                else:
                    left.unlink()


def forget(fmt: Format) -> None:
    """Drop a format that failed where the full source compiled: the next build makes it afresh. One
    this process has just built is not built again for :data:`FAILED_FOR` seconds (its preamble
    does not survive dumping); one from an earlier build is only dropped (a bad cached format does
    not disable its preamble's format for good)."""
    try:
        if fmt.fresh:
            fmt.path.with_suffix(".failed").touch()
        fmt.path.unlink(missing_ok=True)
    except OSError:
        pass
