"""Cache files only this user's derive can have written: sealed with a secret key of the user's, checked before use.

A cache entry is loaded only when its seal (HMAC-SHA256 of its name and contents, under a random key
made on first use and kept readable by this user alone) matches: an entry planted by another user,
copied in from another machine (a restored CI cache, a shared home folder), damaged or renamed is
never loaded; the caller builds it afresh. The key is kept apart from the caches it seals
(:func:`key_file`), so that copying or restoring a cache folder never brings trust with it. Folders
that other users can write are not used at all (:func:`exposed`); derive makes its own folders
readable by this user alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import stat
import tempfile
from pathlib import Path

import platformdirs

KEY_BYTES = 32
SEAL_BYTES = 32
"""An HMAC-SHA256."""
MAX_ENTRY = 256 * 1024 * 1024
"""Largest entry read (a TeX format is about 7 MB); anything larger is not derive's."""


def key_file() -> Path:
    """The user's state folder for derive, then ``cache-key``: on Linux ``$XDG_STATE_HOME/derive/cache-key``
    (``~/.local/state/derive/cache-key``), on macOS ``~/Library/Application Support/derive/cache-key``, on
    Windows ``%LOCALAPPDATA%\\derive\\cache-key`` (beside, not inside, the ``Cache`` folder), as platformdirs
    decides."""
    return Path(platformdirs.user_state_dir("derive", appauthor=False)) / "cache-key"


def exposed(folder: Path) -> str | None:
    """Why other users could change what is in ``folder``, or None (a folder not made yet is made
    private when first written; a path that is no folder only means no cache)."""
    try:
        info = os.stat(folder)  # a symbolic link to a folder is judged by the folder
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None
    if info.st_uid != os.geteuid():
        return f"{folder} belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return f"{folder} is writable by other users (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def key_exposed() -> str | None:
    """Why the key could be known or changed by other users, or None (no key yet: made private)."""
    path = key_file()
    reason = exposed(path.parent)
    if reason is not None:
        return reason
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return f"the cache key {path} is not a regular file"
    if info.st_uid != os.geteuid():
        return f"the cache key {path} belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o077:
        return f"the cache key {path} is open to other users (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def untrusted(folders: list[Path]) -> tuple[set[Path], str | None]:
    """Which of the cache ``folders`` must not be used, and one warning line saying why (None: all
    can be used)."""
    key = key_exposed()
    reasons = {folder: key or exposed(folder) for folder in folders}
    skipped = {folder for folder, reason in reasons.items() if reason is not None}
    if not skipped:
        return set(), None
    said = "; ".join(sorted({reason for reason in reasons.values() if reason is not None}))
    what = (
        "caches not used, other users could change them"
        if len(skipped) > 1
        else "cache not used, other users could change it"
    )
    return skipped, f"{what}: {said}"


def ready(folder: Path) -> bool:
    """Whether entries can be kept in ``folder``: made (readable by this user alone) if missing,
    this user's and writable by no one else, and the key at hand."""
    try:
        _make(folder)
    except OSError:
        return False
    return exposed(folder) is None and _secret() is not None


def read(path: Path) -> bytes | None:
    """The contents of the entry at ``path`` if this user's derive sealed it under this name; None
    for anything else (missing, planted, damaged, renamed, a link, not ours)."""
    key = _secret()
    if key is None or exposed(path.parent) is not None:
        return None
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not _ours(info, 0o022) or not SEAL_BYTES <= info.st_size <= MAX_ENTRY:
            return None
        # Read apart, not sliced apart: a format's 7 MB are not copied once more. A file growing
        # meanwhile is cut short: its seal fails.
        seal, contents = stream.read(SEAL_BYTES), stream.read(info.st_size - SEAL_BYTES)
    return contents if hmac.compare_digest(seal, _seal(key, path.name, contents)) else None


def write(path: Path, contents: bytes) -> bool:
    """Keep ``contents`` sealed at ``path`` (written whole under a temporary name, then renamed: a
    concurrent reader sees the old entry or the new one); False when it cannot be kept."""
    if not ready(path.parent):
        return False
    key = _secret()
    if key is None:
        return False
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    except OSError:
        return False
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(_seal(key, path.name, contents))
            stream.write(contents)
        os.replace(temporary, path)
        return True
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        return False


def _seal(key: bytes, name: str, contents: bytes) -> bytes:
    # The name is sealed too: an entry of ours moved under another entry's name is not that entry.
    mac = hmac.new(key, name.encode() + b"\0", hashlib.sha256)
    mac.update(contents)
    return mac.digest()


def _ours(info: os.stat_result, others: int) -> bool:
    """A regular file of this user's that no one else may (``others``: the mode bits that must be clear)."""
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & others


def _make(folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir(mode=0o700, exist_ok=True)


def _secret() -> bytes | None:
    """The user's key, made on first use; None where it cannot be had or kept secret. Read on every
    use (32 bytes): deleting the key file distrusts every cache entry at once."""
    path = key_file()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError:  # a link, unreadable
        return None
    try:
        _make(path.parent)
        if exposed(path.parent) is not None:
            return None
        handle, temporary = tempfile.mkstemp(prefix=".cache-key.", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(os.urandom(KEY_BYTES))
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)  # never over a key a concurrent first run made: both use one
        finally:
            os.unlink(temporary)
        return _read_key(path)
    except OSError:
        return None


def _read_key(path: Path) -> bytes | None:
    handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not _ours(info, 0o077) or info.st_size != KEY_BYTES:
            return None
        key = stream.read(KEY_BYTES)
    return key if len(key) == KEY_BYTES else None
