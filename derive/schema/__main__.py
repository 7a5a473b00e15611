"""``python -m derive.schema``: write the shipped schemas again from the declarations (after a key,
a kind or a catalogue entry changed; tests/test_schema.py fails while a shipped file is stale)."""

from __future__ import annotations

from pathlib import Path

from derive.schema import FILES
from derive.schema.generate import generated

if __name__ == "__main__":
    for which, text in generated().items():
        path = Path(__file__).with_name(FILES[which])
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
