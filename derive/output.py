"""The output set of a build: written all or nothing, with a manifest of its own earlier files."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from derive.errors import SpecError
from derive.exercise.logo import logo_stem
from derive.pdf import processes


def confined(contents: dict[str, bytes]) -> dict[str, bytes]:
    """``contents``, whose every name stays in the output folder: the spec's name was checked when it
    was read, and is checked again here, where the files are written."""
    for name in contents:
        path = Path(name)
        if path.is_absolute() or ".." in path.parts or not name:
            raise SpecError("name", f"{name!r} would be written outside the output folder")
    return contents


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


MANIFEST_VERSION = 1
"""The manifest's format: ``{"format": "derive-output", "version": 1, "files": [names]}``."""
MAX_MANIFEST_BYTES = 1 << 20
"""A manifest larger than this is not derive's: it is ignored."""


def manifest_name(stem: str) -> str:
    """The hidden file in the output folder that lists the files a build of ``stem`` wrote."""
    return f".derive-{stem}.json"


def write_all(folder: Path, contents: dict[str, bytes], stem: str | None = None) -> tuple[Path, ...]:
    """Replace the output set in ``folder`` with ``contents`` (names relative to it), all or nothing.

    Every name is checked and every file staged beside its target before the first is renamed into
    place; a rename that still fails puts the earlier files back. With ``stem``, the manifest
    :func:`manifest_name` records the set, and the files of the earlier set of that stem that this
    one no longer has are removed (only those, only inside ``folder``). Signals wait until the folder
    is as before or complete.
    """
    committed: list[Path] = []
    try:
        with processes.held():
            committed.extend(_replace_set(folder, contents, stem))
    except processes.Interrupted as stop:
        stop.written = bool(committed)  # the signal came while the new set was being put in place
        raise
    return tuple(committed)


def _replace_set(folder: Path, contents: dict[str, bytes], stem: str | None) -> tuple[Path, ...]:
    earlier = _earlier_set(folder, stem) if stem is not None else set()
    files = dict(contents)
    if stem is not None:
        record = {"format": "derive-output", "version": MANIFEST_VERSION, "files": list(contents)}
        files[manifest_name(stem)] = (json.dumps(record, indent=1) + "\n").encode()
    created: list[Path] = []
    staged: list[tuple[Path, Path]] = []  # (staged file, its final name)
    backups: dict[Path, Path] = {}  # final name → the earlier file, kept until the set is in place
    done = False
    try:
        _make_folder(folder, folder, created)
        for name in files:
            final = folder / name  # a name may lead into a subfolder (the fragments)
            _make_folder(final.parent, folder, created)
            if final.is_dir() and not final.is_symlink():
                raise IsADirectoryError(
                    errno.EISDIR, "a folder is in the way of an output file; nothing was written", str(final)
                )
        for name, data in files.items():
            staged.append((_stage(folder / name, data), folder / name))
        for _, final in staged:
            if os.path.lexists(final):
                backups[final] = _backup(final)
        _rename_all(staged, backups)
        done = True
    finally:
        for path in [temporary for temporary, _ in staged] + list(backups.values()):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        if not done:
            for made in reversed(created):  # only the empty folders this build made
                with contextlib.suppress(OSError):
                    made.rmdir()
    if stem is not None:
        _remove_stale(folder, earlier - set(contents), stem)
    return tuple(folder / name for name in contents)


def _make_folder(path: Path, root: Path, created: list[Path]) -> None:
    """Make ``path`` (and its parents) as a folder, recording what was made; a file, or below the
    output folder a link, in the way stops the build before anything is written."""
    if root in path.parents and path.is_symlink():  # below the output folder: where a link may lead
        raise NotADirectoryError(
            errno.ENOTDIR, "a link is in the way of an output folder; nothing was written", str(path)
        )
    if path.is_dir():
        return
    if os.path.lexists(path):
        raise NotADirectoryError(
            errno.ENOTDIR, "a file is in the way of an output folder; nothing was written", str(path)
        )
    if path.parent != path:
        _make_folder(path.parent, root, created)
    path.mkdir()
    created.append(path)


def _stage(final: Path, data: bytes) -> Path:
    """``data`` in a new hidden file beside ``final``, with the permissions a new file gets."""
    try:
        handle, staging = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    except OSError as error:
        raise OSError(error.errno, f"{error.strerror}; nothing was written", str(final)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(staging, 0o666 & ~_umask())
    except BaseException as error:
        os.unlink(staging)
        if isinstance(error, OSError):
            raise OSError(error.errno, f"{error.strerror}; nothing was written", str(final)) from None
        raise
    return Path(staging)


def _backup(final: Path) -> Path:
    """A second name for the file at ``final`` (a hard link, else a copy), to put it back from."""
    for _ in range(100):
        backup = final.with_name(f".{final.name}.{secrets.token_hex(4)}.old")
        try:
            os.link(final, backup, follow_symlinks=False)
            return backup
        except FileExistsError:
            continue
        except OSError:  # no hard links here (or not ours to link): a copy
            try:
                shutil.copy2(final, backup, follow_symlinks=False)
                return backup
            except OSError as error:
                raise OSError(error.errno, f"{error.strerror}; nothing was written", str(final)) from None
    raise FileExistsError(errno.EEXIST, "no free name for a backup; nothing was written", str(final))


def _rename_all(staged: list[tuple[Path, Path]], backups: dict[Path, Path]) -> None:
    """Rename every staged file into place; if one fails, undo the ones before it."""
    placed: list[Path] = []
    try:
        for temporary, final in staged:
            os.replace(temporary, final)
            placed.append(final)
    except BaseException as error:
        for final in reversed(placed):
            with contextlib.suppress(OSError):
                if final in backups:
                    os.replace(backups.pop(final), final)
                else:
                    final.unlink()
        if isinstance(error, OSError):
            where = error.filename if isinstance(error.filename, str) else ""
            target = next((str(final) for temporary, final in staged if str(temporary) == where), where)
            raise OSError(error.errno, f"{error.strerror}; the earlier files are back in place", target) from None
        raise


def _earlier_set(folder: Path, stem: str) -> set[str]:
    """The names the last build of ``stem`` wrote, from its manifest; nothing when the manifest is
    missing, not a regular file of this user, too large or not derive's (it is then not trusted)."""
    path = folder / manifest_name(stem)
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_size > MAX_MANIFEST_BYTES:
            return set()
        record = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return set()
    if not (isinstance(record, dict) and record.get("format") == "derive-output"):
        return set()
    names = record.get("files")
    if record.get("version") != MANIFEST_VERSION or not isinstance(names, list):
        return set()
    return {name for name in names if isinstance(name, str) and _own_name(name, stem)}


def _own_name(name: str, stem: str) -> bool:
    """Whether ``name`` can be a file of a build of ``stem``: relative, inside the folder, named for it."""
    parts = PurePosixPath(name).parts
    return (
        bool(parts)
        and "\0" not in name
        and not PurePosixPath(name).is_absolute()
        and all(part not in ("", ".", "..") for part in parts)
        and parts[0].startswith((f"{stem}-", f"{logo_stem(stem)}-"))
        and name != manifest_name(stem)
    )


def _remove_stale(folder: Path, names: set[str], stem: str) -> None:
    """Remove the regular files ``names`` (relative to ``folder``), never following a link; then the
    subfolders they leave empty. A file that cannot be removed is left (the build is done)."""
    emptied: set[tuple[str, ...]] = set()
    for name in sorted(names):
        *route, last = PurePosixPath(name).parts
        with contextlib.suppress(OSError), _opened(folder, route) as where:
            if stat.S_ISREG(os.stat(last, dir_fd=where, follow_symlinks=False).st_mode):
                os.unlink(last, dir_fd=where)
                if route:
                    emptied.add(tuple(route))
    for below in sorted(emptied, key=len, reverse=True):
        with contextlib.suppress(OSError), _opened(folder, list(below[:-1])) as where:
            os.rmdir(below[-1], dir_fd=where)  # only when empty


@contextlib.contextmanager
def _opened(folder: Path, route: list[str]) -> Iterator[int]:
    """The folder ``folder/route…`` opened without following a link below ``folder`` (a manifest is
    not trusted to lead outside it); raises OSError on a link or a missing folder."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in route:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=handle)
            os.close(handle)
            handle = inner
        yield handle
    finally:
        os.close(handle)
