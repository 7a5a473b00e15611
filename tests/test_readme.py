"""Every code block of README.md and docs/*.md runs as written, by its language; its links lead somewhere.

A block may be preceded by one marker line that says how it is meant (docs/development.md lists them):
``<!-- not-run: why -->``, ``<!-- fragment: [table] -->`` (TOML to add to the built-in example),
``<!-- output-of: COMMAND -->`` or ``<!-- output-of: the python block above -->`` (a text block of
what that prints), ``<!-- latex: preamble -->`` or ``<!-- latex: body after COMMAND -->``.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import derive

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Pages other branches of issue 22 add; the index links them before they are merged here.
PENDING = {ROOT / "docs" / "tex.md", ROOT / "docs" / "schema.md"}
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```[ \t]*$", re.M | re.S)
MARKER = re.compile(r"^<!-- ([a-z-]+): ([^\n]+?) -->[ \t]*\n\Z", re.M)
ABOVE = "the python block above"


@dataclass(frozen=True)
class Block:
    """One fenced block of a page, with the marker line right before it (if any)."""

    page: Path
    line: int
    language: str
    text: str
    marker: str
    argument: str

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for fence in FENCE.finditer(text):
        before = text[: fence.start()]
        marker = MARKER.search(before[-1000:])
        found.append(
            Block(
                page,
                before.count("\n") + 1,
                fence.group(1),
                fence.group(2),
                marker.group(1) if marker else "",
                marker.group(2).strip() if marker else "",
            )
        )
    return found


BLOCKS = [block for page in PAGES for block in blocks_of(page)]


def following(block: Block) -> Block | None:
    same = [other for other in BLOCKS if other.page == block.page]
    at = same.index(block)
    return same[at + 1] if at + 1 < len(same) else None


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment with ``derive`` on PATH running this checkout's package, in a scratch folder."""
    bin = tmp_path / ".bin"
    bin.mkdir()
    command = bin / "derive"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m derive "$@"\n', encoding="utf-8")
    command.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PATH": f"{bin}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": python_path}


def run_shell(script: str, env: dict[str, str], check: bool) -> str:
    options = ["-e", "-o", "pipefail"] if check else []
    result = subprocess.run(
        ["bash", *options, "-c", script], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    if check:
        assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def shows(block: Block, output: str) -> None:
    """Each line the block shows is a whole line of the output (… stands for any text)."""
    lines = output.splitlines()
    for shown in filter(None, block.text.splitlines()):
        pattern = re.compile(".*".join(map(re.escape, shown.strip().split("…"))))
        assert any(pattern.fullmatch(line.strip()) for line in lines), f"{block.name}: not printed: {shown}\n{output}"


def compile_latex(document: str, folder: Path) -> None:
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    (folder / "host.tex").write_text(document, encoding="utf-8")
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "host.tex"],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_pages_have_their_blocks() -> None:
    assert {block.language for block in BLOCKS} >= {"bash", "toml", "python", "pycon", "latex", "text"}
    assert len([block for block in BLOCKS if block.marker != "not-run"]) > len(BLOCKS) / 2


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_block_runs_as_written(block: Block, shell: dict[str, str], tmp_path: Path) -> None:
    if block.marker == "not-run":
        # A block that cannot run says why, in words a reader understands.
        assert len(block.argument.split()) >= 4, f"{block.name}: say why it is not run"
        return
    if block.language in ("bash", "sh"):
        assert not block.marker, f"{block.name}: a shell block runs as it is; unknown marker {block.marker}"
        run_shell(block.text, shell, check=True)
    elif block.language == "toml":
        text = block.text
        if block.marker == "fragment":
            # A table on its own: it is added to the built-in example, as the page tells the reader.
            assert text.lstrip().startswith(block.argument), f"{block.name}: the fragment is {block.argument}"
            text = (ROOT / "derive" / "examples" / "backprop.toml").read_text(encoding="utf-8") + "\n" + text
        else:
            assert not block.marker, f"{block.name}: unknown marker {block.marker}"
        # Saved as a file and built as a reader would (a file it names, such as a logo, must be there).
        (tmp_path / "block.toml").write_text(text, encoding="utf-8")
        spec = derive.load_sheet(tmp_path / "block.toml")  # one exercise, or a sheet of several
        built = derive.build_sheet(spec, derive.Options(output_dir=tmp_path / "out", pdf=False))
        assert built.report.values > 0 and built.files
    elif block.language == "python":
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block.text, block.name, "exec"), {"__name__": "__main__"})
        shown = following(block)
        if shown is not None and shown.marker == "output-of" and shown.argument == ABOVE:
            shows(shown, printed.getvalue())
    elif block.language == "pycon":
        test = doctest.DocTestParser().get_doctest(block.text, {}, block.name, str(block.page), block.line)
        report = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test, out=report.write)
        assert runner.failures == 0 and runner.tries > 0, report.getvalue()
    elif block.language == "latex":
        if block.argument == "preamble":
            host = f"\\documentclass{{article}}\n{block.text}\\begin{{document}}\nx\n\\end{{document}}\n"
            compile_latex(host, tmp_path)
        else:
            after = re.fullmatch(r"body after (.+)", block.argument)
            assert block.marker == "latex" and after, f"{block.name}: say where it goes (latex: preamble, or body)"
            run_shell(after.group(1), shell, check=True)
            preamble = "\\usepackage{amsmath,amssymb,booktabs,tikz}\n"
            compile_latex(
                f"\\documentclass{{article}}\n{preamble}\\begin{{document}}\n{block.text}\\end{{document}}\n", tmp_path
            )
    elif block.language == "json":
        assert not block.marker, f"{block.name}: unknown marker {block.marker}"
        json.loads(block.text)
    elif block.language == "text":
        assert block.marker == "output-of", f"{block.name}: a text block says what prints it (output-of), or not-run"
        if block.argument == ABOVE:
            above = BLOCKS[BLOCKS.index(block) - 1]
            assert above.page == block.page and above.language == "python", f"{block.name}: no python block above"
        else:
            shows(block, run_shell(block.argument, shell, check=False))
    else:
        pytest.fail(f"{block.name}: a block in {block.language or 'no language'}; name bash, toml, python, …")


def test_the_readme_is_one_screen_with_install_the_two_commands_and_python() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.split()) < 450 and len(readme.splitlines()) < 70
    assert "pip install derive-nn" in readme
    assert "bash scripts/dev example" in readme and "bash scripts/dev test" in readme
    # The developers' two commands are not run here (they install packages and run this suite): the
    # script must still know them.
    script = (ROOT / "scripts" / "dev").read_text(encoding="utf-8")
    assert re.search(r"^\s*example\)", script, re.M) and re.search(r"^\s*test\)", script, re.M)
    python = [block for block in BLOCKS if block.page.name == "README.md" and block.language == "python"]
    assert len(python) == 1 and len([line for line in python[0].text.splitlines() if line.strip()]) == 3


def test_the_picture_of_a_solution_page_is_there_and_small() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (picture,) = re.findall(r"!\[[^\]]+\]\(([^)]+\.png)\)", readme)
    assert (ROOT / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (ROOT / picture).stat().st_size < 200_000


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_every_link_leads_to_a_file_and_heading(page: Path) -> None:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if file in PENDING and not file.exists():
            continue
        assert file.exists(), f"{page.name}: no file {target}"
        if anchor:
            assert anchor in anchors(file), f"{page.name}: no heading #{anchor} in {file.name}"
