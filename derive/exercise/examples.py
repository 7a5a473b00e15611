"""The example specs shipped with derive, by name: the built-in one and every spec of examples/."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

DEFAULT = "backprop"
"""The built-in example (the seed sheet on backpropagation): ``derive example`` without a name."""

_PACKAGE = Path(__file__).resolve().parent.parent


def folders() -> list[Path]:
    """Where the examples lie: ``derive/examples`` (a wheel copies examples/ in there) and, run from a
    source checkout, the checkout's own examples/ beside the package."""
    found = [_PACKAGE / "examples"]
    checkout = _PACKAGE.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "examples").is_dir():
        found.append(checkout / "examples")
    return found


def examples() -> dict[str, Path]:
    """Every example spec by name (its file's stem): the built-in one first, the others by name."""
    found: dict[str, Path] = {}
    for folder in folders():
        for path in sorted(folder.glob("*.toml")):
            found.setdefault(path.stem, path)  # an installed copy and the checkout's are the same spec
    return {name: found[name] for name in sorted(found, key=lambda name: (name != DEFAULT, name))}


def find(name: str) -> Path:
    """The spec of the example ``name`` (``NAME.toml`` also does); a LookupError with a one-line message
    naming the closest name when there is no such example."""
    known = examples()
    name = name.removesuffix(".toml")
    if name in known:
        return known[name]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise LookupError(f"no example is named {name!r}{hint} (derive example --list names them all)")


def summary(path: Path) -> str:
    """What an example shows, in one line, read from the spec's first comment line: its first sentence,
    or where the line runs on into the next one, the line up to its last clause."""
    with path.open(encoding="utf-8-sig") as lines:
        first = next((line for line in lines if line.startswith("#")), "#")
    text = first.lstrip("#").strip()
    if ". " in text:
        return text[: text.index(". ")]
    if text.endswith((".", ",", ":", ";")):  # the line ends a sentence or a clause
        return text.rstrip(".,:;")
    for marks in ((": ", "; "), (", ",)):  # the clause the line breaks off in is left out
        cut = max(text.rfind(mark) for mark in marks)
        if cut >= 20:  # a clause this short ("No loss: …") says too little alone
            return text[:cut]
    return text + " …"


def included(path: Path) -> list[str]:
    """The files a sheet example includes (``include = "file.toml"`` of its ``[[exercises]]``), in
    order: ``derive example NAME --toml`` prints the sheet alone, and says how to get these beside it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    entries = data.get("exercises", [])
    names = [e["include"] for e in entries if isinstance(e, dict) and isinstance(e.get("include"), str)]
    return list(dict.fromkeys(names))
