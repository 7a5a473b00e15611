"""The JSON Schemas of what derive reads and writes, shipped in the package: the spec (for editors
that check TOML against a schema while it is typed) and the answers file.

Reading a shipped schema is light (the ``derive schema`` command); :mod:`derive.schema.generate`
makes them from the reader's declarations and ``python -m derive.schema`` writes them here again.
"""

from __future__ import annotations

from importlib import resources

FILES = {"spec": "spec.schema.json", "answers": "answers.schema.json"}
"""Each schema's file in this package, by what it describes."""


def shipped(which: str) -> str:
    """The text of a shipped schema: ``"spec"`` or ``"answers"``."""
    return (resources.files("derive.schema") / FILES[which]).read_text(encoding="utf-8")
