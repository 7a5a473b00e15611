"""Precompiled TeX formats of the sheets' shared preamble, cached so a rebuild skips loading packages.

Loading amsmath, TikZ, pgfplots and hyperref costs pdflatex about 0.5 s per sheet, every build.
The packages' state can be dumped once into a format (``pdflatex -ini … \\dump``) and loaded in
0.1 s. A format is keyed by the preamble's text and the installed TeX (the system format's path,
size and time, which TeX Live's updates change), so a changed preamble or TeX never reuses a
stale one. Anything that goes wrong here only means the sheet compiles the usual way.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from derive.pdf import processes
from derive.render.document import MARK

KEEP = 8
"""Formats kept in the cache (about 7 MB each); the least recently used go first."""


def default_cache() -> Path:
    """``$XDG_CACHE_HOME/derive/formats``, or ``~/.cache/derive/formats``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "derive" / "formats"


def split(source: str) -> tuple[str, str] | None:
    """The shared preamble (up to :data:`MARK`) and the rest of ``source``; None without the mark."""
    head, mark, rest = source.partition(MARK)
    return (head, rest) if mark else None


@lru_cache(maxsize=1)
def _tex_identity() -> str:
    """What identifies the installed TeX: the system LaTeX format's path, size and modification time."""
    found = subprocess.run(
        ["kpsewhich", "-engine=pdftex", "pdflatex.fmt"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not found:
        return ""
    stat = os.stat(found)
    return f"{found}:{stat.st_size}:{stat.st_mtime_ns}"


def format_for(preamble: str, cache: Path, env: dict[str, str], timeout: float) -> Path | None:
    """The cached format of ``preamble``, built now if missing; None when it cannot be had."""
    try:
        identity = _tex_identity()
        if not identity:
            return None
        key = hashlib.sha256(f"{identity}\n{preamble}".encode()).hexdigest()[:20]
        target = cache / f"derive-{key}.fmt"
        if target.exists():
            os.utime(target)  # recently used: pruned last
            return target
        if (cache / f"derive-{key}.failed").exists():
            return None  # this preamble does not dump (a user's package): do not try on every build
        cache.mkdir(parents=True, exist_ok=True)
        built = _build(preamble, cache, env, timeout)
        if built is None:
            (cache / f"derive-{key}.failed").touch()
            return None
        os.replace(built, target)  # atomic: a concurrent build of the same format is harmless
        _prune(cache)
        return target
    except (OSError, subprocess.SubprocessError):
        return None


def _build(preamble: str, cache: Path, env: dict[str, str], timeout: float) -> Path | None:
    """Dump ``preamble`` into a format in a fresh folder of ``cache`` (the same file system)."""
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
        kept = cache / f".{folder.name}.fmt"
        os.replace(made, kept)
        return kept
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _prune(cache: Path) -> None:
    """Keep the :data:`KEEP` most recently used formats."""
    formats = sorted(cache.glob("derive-*.fmt"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in formats[KEEP:]:
        old.unlink(missing_ok=True)


def forget(fmt: Path) -> None:
    """Drop a format that failed where the full source compiled, and do not build it again."""
    try:
        fmt.with_suffix(".failed").touch()
        fmt.unlink(missing_ok=True)
    except OSError:
        pass
