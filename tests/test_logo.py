"""The logo is the one file a spec names: read only from the spec's folder or below (or a folder the
build allows), a regular file of bounded size that is the image its suffix says; each refusal is one line."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from derive.errors import SpecError
from derive.exercise.logo import MAX_LOGO_BYTES
from derive.pipeline import Options, build_sheet, parse_spec
from tests.test_cli import run
from tests.test_language import _png

SPEC = """\
[sheet]
logo = "{logo}"

[[network.layers]]
weights = [[1]]
bias = [0]
activation = "sigmoid"

[loss]
name = "squared_error"

[[parts]]
kind = "forward"
x = [1]
y = 1
"""


def spec_file(folder: Path, logo: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sheet.toml"
    path.write_text(SPEC.format(logo=logo), encoding="utf-8")
    return path


def build(spec: Path | str, out: Path, allowed: tuple[Path, ...] = ()) -> set[str]:
    """Build without TeX; the names of the files written."""
    built = build_sheet(spec, Options(output_dir=out, pdf=False, logo_from=allowed))
    return {path.name for path in built.files}


def refusal(spec: Path, out: Path, allowed: tuple[Path, ...] = ()) -> str:
    """The one-line message a build of ``spec`` is refused with; nothing is written."""
    with pytest.raises(SpecError) as caught:
        build(spec, out, allowed)
    assert "\n" not in str(caught.value) and not out.exists()
    return str(caught.value)


def test_a_logo_in_the_spec_folder_or_below_is_read(tmp_path: Path) -> None:
    (tmp_path / "spec" / "img").mkdir(parents=True)
    _png(tmp_path / "spec" / "img" / "crest.png")
    spec = spec_file(tmp_path / "spec", "img/crest.png")
    assert "sheet-logo.png" in build(spec, tmp_path / "out")
    assert (tmp_path / "out" / "sheet-logo.png").read_bytes() == (tmp_path / "spec" / "img" / "crest.png").read_bytes()


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink"])
def test_a_logo_outside_the_spec_folder_is_refused(tmp_path: Path, how: str) -> None:
    _png(tmp_path / "crest.png")  # readable, but not the spec's to read
    folder = tmp_path / "spec"
    folder.mkdir()
    if how == "symlink":
        (folder / "crest.png").symlink_to(tmp_path / "crest.png")
    logo = {"absolute": str(tmp_path / "crest.png"), "dotdot": "../crest.png", "symlink": "crest.png"}[how]
    spec = spec_file(folder, logo)
    named = tmp_path / "crest.png" if how == "absolute" else folder / logo
    assert refusal(spec, tmp_path / "out") == (
        f"spec: sheet.logo: {named} is not in the spec's folder; "
        "allow its folder with --logo-from DIR (Options.logo_from)"
    )
    # Allowed explicitly, the same logo is read.
    assert "sheet-logo.png" in build(spec, tmp_path / "out", (tmp_path,))


def test_a_symlink_within_the_spec_folder_is_followed(tmp_path: Path) -> None:
    folder = tmp_path / "spec"
    (folder / "img").mkdir(parents=True)
    _png(folder / "img" / "crest.png")
    (folder / "crest.png").symlink_to(folder / "img" / "crest.png")
    assert "sheet-logo.png" in build(spec_file(folder, "crest.png"), tmp_path / "out")


def test_a_logo_larger_than_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "spec"
    folder.mkdir()
    size = 1024 * MAX_LOGO_BYTES  # 2 GB, sparse: no disk, and reading it would take 2 GB of memory
    with open(folder / "crest.png", "wb") as stream:
        stream.truncate(size)
    message = refusal(spec_file(folder, "crest.png"), tmp_path / "out")
    expected = f"{folder / 'crest.png'} has {size} bytes, more than a logo may have (at most {MAX_LOGO_BYTES})"
    assert message == f"spec: sheet.logo: {expected}"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("crest.png", b"GIF89a not a png", "is not a PNG image (its first bytes say otherwise)"),
        ("crest.jpg", b"\x89PNG\r\n\x1a\n a png named jpg", "is not a JPG image (its first bytes say otherwise)"),
        ("crest.pdf", b"", "is not a PDF image (its first bytes say otherwise)"),
        ("crest.png", None, "is not a regular file"),  # a folder named as a logo
    ],
)
def test_a_logo_that_is_not_its_image_type_is_refused(
    tmp_path: Path, name: str, content: bytes | None, problem: str
) -> None:
    folder = tmp_path / "spec"
    folder.mkdir()
    if content is None:
        (folder / name).mkdir()
    else:
        (folder / name).write_bytes(content)
    assert refusal(spec_file(folder, name), tmp_path / "out") == f"spec: sheet.logo: {folder / name} {problem}"


def test_a_missing_logo_is_one_line(tmp_path: Path) -> None:
    spec = spec_file(tmp_path / "spec", "nowhere.png")
    missing = tmp_path / "spec" / "nowhere.png"
    assert refusal(spec, tmp_path / "out") == f"spec: sheet.logo: cannot read {missing}: No such file or directory"
    # Outside the folder, whether the file exists is not told.
    outside = spec_file(tmp_path / "spec", "../nowhere.png")
    assert refusal(outside, tmp_path / "out") == (
        f"spec: sheet.logo: {tmp_path / 'spec' / '..' / 'nowhere.png'} is not in the spec's folder; "
        "allow its folder with --logo-from DIR (Options.logo_from)"
    )


def test_a_logo_of_the_wrong_type_is_refused_when_read() -> None:
    with pytest.raises(SpecError, match=re.escape("sheet.logo: a logo must be one of .pdf, .png, .jpg, .jpeg")):
        parse_spec(SPEC.format(logo="crest.svg"))


def test_a_fifo_as_logo_is_refused_without_waiting(tmp_path: Path) -> None:
    """Run as the CLI in a child with a timeout: a FIFO opened for reading waits for a writer for ever."""
    folder = tmp_path / "spec"
    folder.mkdir()
    os.mkfifo(folder / "crest.png")
    spec = spec_file(folder, "crest.png")
    result = run("sheet", str(spec), "--no-pdf", "-o", str(tmp_path / "out"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"derive: error: spec: sheet.logo: {folder / 'crest.png'} is not a regular file\n"


def test_a_spec_given_as_text_takes_its_logo_only_from_an_allowed_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative logo of a spec in text is relative to the working folder
    _png(tmp_path / "crest.png")
    spec = parse_spec(SPEC.format(logo="crest.png"), name="text")
    with pytest.raises(SpecError) as caught:
        build(spec, tmp_path / "out")
    assert str(caught.value) == (
        f"spec: sheet.logo: {tmp_path / 'crest.png'} is not in a folder allowed for logos (a spec given as text "
        "has none); allow its folder with --logo-from DIR (Options.logo_from)"
    )
    assert "text-logo.png" in build(spec, tmp_path / "out", (tmp_path,))


def test_the_command_line_allows_a_logo_folder(tmp_path: Path) -> None:
    logos = tmp_path / "logos"
    logos.mkdir()
    _png(logos / "crest.png")
    spec = spec_file(tmp_path / "spec", str(logos / "crest.png"))
    refused = run("sheet", str(spec), "--no-pdf", "-o", str(tmp_path / "out"))
    assert refused.returncode == 2 and "is not in the spec's folder" in refused.stderr
    allowed = run("sheet", str(spec), "--no-pdf", "--logo-from", str(logos), "-o", str(tmp_path / "out"))
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / "out" / "sheet-logo.png").read_bytes() == (logos / "crest.png").read_bytes()
