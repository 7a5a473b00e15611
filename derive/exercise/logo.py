"""The one file a spec names besides itself, its logo: read only from where it may come, bounded."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from derive.errors import SpecError
from derive.exercise.model import Spec

MAX_LOGO_BYTES = 2_000_000
"""Largest logo read (2 MB: a crest for a title block has tens of KB)."""
LOGO_MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".pdf": b"%PDF-"}
"""How each image type TeX includes begins: a file named .png must be a PNG."""


def logo_file(spec: Spec, allowed: Sequence[Path] = ()) -> dict[str, bytes]:
    """The spec's logo under the name the sheets include it by (none: empty).

    A spec is untrusted, its logo the one file it names: read only from the spec's folder or below,
    or from a folder in ``allowed`` (symlinks resolved first), only a regular file of at most
    :data:`MAX_LOGO_BYTES` that is the image its suffix says. The name is made of letters, digits
    and hyphens only, so TeX reads it as given.
    """
    if not spec.sheet.logo:
        return {}
    source = Path(spec.sheet.logo)
    suffix = source.suffix.lower()
    if suffix not in LOGO_MAGIC:
        raise SpecError("sheet.logo", f"a logo must be one of {', '.join(LOGO_MAGIC)}; found {source.name!r}")
    roots = [Path(spec.sheet.folder)] if spec.sheet.folder else []
    try:
        file = source.resolve()  # not strict: whether a file outside the allowed folders exists is not told
        if not any(file.is_relative_to(root.resolve()) for root in (*roots, *allowed)):
            where = "the spec's folder" if roots else "a folder allowed for logos (a spec given as text has none)"
            raise SpecError(
                "sheet.logo", f"{source} is not in {where}; allow its folder with --logo-from DIR (Options.logo_from)"
            )
        # Opened without blocking (a FIFO would wait for a writer for ever) and never through a link
        # swapped in since resolving; what was opened is checked, not the name.
        handle = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode):
                raise SpecError("sheet.logo", f"{source} is not a regular file")
            if info.st_size > MAX_LOGO_BYTES:
                size = f"{info.st_size} bytes, more than a logo may have (at most {MAX_LOGO_BYTES})"
                raise SpecError("sheet.logo", f"{source} has {size}")
            data = b""
            while len(data) <= MAX_LOGO_BYTES and (chunk := os.read(handle, MAX_LOGO_BYTES + 1 - len(data))):
                data += chunk  # at most one byte past the limit: a file growing meanwhile is still bounded
        finally:
            os.close(handle)
    except OSError as error:
        raise SpecError("sheet.logo", f"cannot read {source}: {error.strerror or error}") from None
    if len(data) > MAX_LOGO_BYTES:
        raise SpecError(
            "sheet.logo", f"{source} grew past {MAX_LOGO_BYTES} bytes while read, more than a logo may have"
        )
    if not data.startswith(LOGO_MAGIC[suffix]):
        raise SpecError("sheet.logo", f"{source} is not a {suffix[1:].upper()} image (its first bytes say otherwise)")
    return {f"{logo_stem(spec.name)}-logo{suffix}": data}


def logo_stem(name: str) -> str:
    """``name`` in letters, digits and hyphens only: TeX reads a file of this name as given."""
    return re.sub(r"[^A-Za-z0-9-]", "-", name)
