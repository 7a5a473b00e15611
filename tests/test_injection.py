"""Hostile text in every text field: it compiles and appears literally, or fails with one clear line.

Never is a marker file written, an outside file read into the PDF, or a shell command run.
"""

from __future__ import annotations

import json
import subprocess
import unicodedata
from pathlib import Path

import pytest

from derive.errors import SpecError
from derive.pipeline import Options, build_sheet, parse_spec

FIELDS = ("title", "course", "subtitle", "part title")
PASSWD = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0]

# (payload, compiles): payloads that cannot be typeset must fail with a clear SpecError instead.
PAYLOADS = [
    (r"\write18{touch MARKER}", True),
    (r"\immediate\write18{touch MARKER}", True),
    (r"\input{/etc/passwd}", True),
    (r"\include{/etc/passwd}", True),
    (r"\openin5=/etc/passwd \read5 to\x \x", True),
    (r"\newwrite\f\immediate\openout\f=MARKER\immediate\write\f{x}", True),
    (r"\catcode`\@=11 \makeatletter", True),
    (r"\catcode`\^=7 ^^5cinput{/etc/passwd}", True),
    (r"^^5cinput{/etc/passwd}", True),
    (r"\csname input\endcsname{/etc/passwd}", True),
    (r"\lowercase{\input{/etc/passwd}}", True),
    (r"\def\x{\x}\x", True),
    ("unbalanced { brace", True),
    ("unbalanced } brace", True),
    ("100% sure % rest is a comment", True),
    (r"\end{document}", True),
    (r"}\end{document}\begin{document}{", True),
    ("$x_1$ & #1 ~ ^ _ and \\\\ backslashes", True),
    (r"\usepackage{shellesc}\ShellEscape{touch MARKER}", True),
    (r"\verb|x| \jobname \string\input", True),
    ("quotes `` '' << >> ,, --- and -- dashes", True),
    ("<< jinja >> {{ braces }} <% if x %> <# c #>", True),
    ("<script>alert(1)</script>", True),
    ("σ-Netze für Übungsblatt 3 (€ 5, ± 1°)", True),
    ("x" * 300, True),
    ("x" * 301, False),
    ("bell \u0007 character", False),
    ("escape \u001b[31m red", False),
    ("null \u0000 byte", False),
    ("right-to-left \u202e override", False),
    ("zero\u200bwidth space", False),
    ("Cyrillic look-alike \u0430 (not a)", False),
    ("fullwidth \uff3cinput{/etc/passwd}", False),
    ("Chinese 神经网络", False),
]

SPEC = """
[sheet]
title = {text}
course = {text}
subtitle = {text}
[network]
[[network.layers]]
weights = [[1]]
bias = [0]
activation = "sigmoid"
[loss]
name = "squared_error"
[[parts]]
kind = "forward"
title = {text}
x = [1]
y = 1
"""


def spec_text(payload: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes.
    return SPEC.format(text=json.dumps(payload, ensure_ascii=True))


def squeeze(text: str) -> str:
    """Text without whitespace and hyphens: TeX may break a long word across lines with a hyphen."""
    return "".join(c for c in unicodedata.normalize("NFC", text) if not c.isspace() and c != "-")


def pdf_text(pdf: Path) -> str:
    return squeeze(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout)


def test_there_are_at_least_thirty_payloads() -> None:
    assert len(PAYLOADS) >= 30


@pytest.mark.parametrize(("payload", "compiles"), PAYLOADS, ids=[f"payload{i}" for i in range(len(PAYLOADS))])
def test_payload_in_every_text_field(
    payload: str, compiles: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative MARKER would land here
    out = tmp_path / "out"
    if not compiles:
        with pytest.raises(SpecError) as caught:
            build_sheet(parse_spec(spec_text(payload), name="hostile"), Options(output_dir=out))
        message = str(caught.value)
        assert (
            "\n" not in message and "sheet.title" in message and "cannot be typeset" in message
        ) or "too long" in message
        assert not out.exists()
        return
    build_sheet(parse_spec(spec_text(payload), name="hostile"), Options(output_dir=out))
    assert not list(tmp_path.rglob("MARKER*")) and not Path("/tmp/MARKER").exists()
    for name in ("hostile-exercise.pdf", "hostile-solution.pdf"):
        text = pdf_text(out / name)
        assert PASSWD not in text
        # every field shows it: title, course, subtitle and the part's title (in the question)
        assert text.count(squeeze(payload)) >= (len(FIELDS) if "solution" in name else 3), name
