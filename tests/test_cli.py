"""End to end through the command line: PDFs read back with pdftotext, errors as one line."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from derive.exercise.reader import example_path
from tests import oracle


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, env=env, timeout=300)


def text_of(pdf: Path) -> str:
    """The PDF's text; NFC joins the y and combining hat that pdftotext gives for ŷ."""
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return unicodedata.normalize("NFC", out)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    result = run("example", "-o", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_example_writes_every_file(built: Path) -> None:
    names = sorted(p.name for p in built.iterdir())
    assert names == [
        ".derive-backprop.json",  # the manifest of the set
        "backprop-answers.csv",
        "backprop-answers.json",
        "backprop-check.html",  # the self-check page (docs/check.md)
        "backprop-exercise.pdf",
        "backprop-exercise.tex",
        "backprop-fragments",
        "backprop-solution.pdf",
        "backprop-solution.tex",
        "backprop-values.tex",
    ]
    fragments = sorted(p.name for p in (built / "backprop-fragments").iterdir())
    assert fragments == sorted(
        ["network.tex", *(f"part{n}-{k}.tex" for n in range(1, 13) for k in ("exercise", "solution"))]
    )


def test_solution_pdf_shows_part1_loss_and_part3_claim(built: Path) -> None:
    text = text_of(built / "backprop-solution.pdf")
    sigma3 = 1 / (1 + math.exp(-3))
    loss1 = ((1 * 0.5 - 1 * sigma3 + 0.5) - 1) ** 2  # ŷ = 1·σ(0) + (−1)·σ(3) + 1/2, L = (ŷ − y)², y = 1
    assert f"{loss1:.4f}" == "0.9074"
    assert f"≈ {loss1:.4f}" in text
    assert "The forward pass gives ŷ = 1/2 exactly" in " ".join(text.split())
    for number in range(1, 7):
        assert f"Part {number}" in text


def test_exercise_pdf_asks_but_does_not_answer(built: Path) -> None:
    text = " ".join(text_of(built / "backprop-exercise.pdf").split())
    assert "Show that the output is exactly ŷ = 1/2" in text
    assert "0.9074" not in text and "≈" not in text.split("Tasks")[1]


def test_own_spec_names_follow_the_file(tmp_path: Path) -> None:
    spec = tmp_path / "week5.toml"
    spec.write_text(example_path().read_text(encoding="utf-8"), encoding="utf-8")
    result = run("sheet", str(spec), "-o", str(tmp_path / "o"), "--no-pdf")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        ".derive-week5.json",  # the manifest of the set
        "week5-answers.csv",
        "week5-answers.json",
        "week5-check.html",  # the self-check page (docs/check.md)
        "week5-exercise.tex",
        "week5-fragments",
        "week5-solution.tex",
        "week5-values.tex",
    ]


def test_bad_spec_is_one_line_exit_2_and_nothing_written(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(example_path().read_text(encoding="utf-8").replace('"sigmoid"', '"sigmod"'), encoding="utf-8")
    result = run("sheet", str(spec), "-o", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "network.layers[1].activation: unknown activation 'sigmod'" in result.stderr
    assert not (tmp_path / "o").exists()


def test_missing_spec_file(tmp_path: Path) -> None:
    result = run("sheet", str(tmp_path / "nope.toml"))
    assert result.returncode == 2 and "cannot read the spec" in result.stderr


def test_missing_tex_writes_sources_and_says_how_to_install(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path / "empty")}
    result = run("example", "-o", str(tmp_path / "o"), env=env)
    assert result.returncode == 5
    assert "apt-get install" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        ".derive-backprop.json",  # the manifest of the set
        "backprop-answers.csv",
        "backprop-answers.json",
        "backprop-check.html",  # the self-check page (docs/check.md)
        "backprop-exercise.tex",
        "backprop-fragments",
        "backprop-solution.tex",
        "backprop-values.tex",
    ]


def test_latex_failure_is_exit_4_with_log_lines_and_nothing_written(tmp_path: Path) -> None:
    templates = tmp_path / "templates" / "steps"
    templates.mkdir(parents=True)
    (templates / "claim.tex.j2").write_text("\\thiscommanddoesnotexist\n", encoding="utf-8")
    result = run("example", "-o", str(tmp_path / "o"), "--templates", str(tmp_path / "templates"))
    assert result.returncode == 4
    assert "Undefined control sequence" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_help_explains_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for word in ("derive sheet", "derive example", "exit status"):
        assert word in result.stdout


def test_example_toml_is_the_built_in_spec() -> None:
    result = run("example", "--toml")
    assert result.stdout == example_path().read_text(encoding="utf-8")


def parts_of(text: str) -> dict[int, str]:
    """The solution's text cut at its "Part N" headings."""
    pieces = re.split(r"^\s*Part (\d+)\s*$", text, flags=re.MULTILINE)
    return {int(number): body for number, body in zip(pieces[1::2], pieces[2::2], strict=True)}


def test_every_part_shows_its_key_number(built: Path) -> None:
    parts = parts_of(text_of(built / "backprop-solution.pdf"))
    assert sorted(parts) == list(range(1, 13))
    s = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    # each number below is computed here, independently of derive
    yhat2 = s(2) - s(1) + 0.5
    new_yhat = 1.25 * s(1 / 8) - 0.75 * s(-1 / 8) + 1  # after part 5's SGD step (W2 = (5/4, −3/4), b1 = ±1/8)
    sigmoid = oracle.float_loss_and_grads(oracle.float_start(), (1.0, -1.0))[1]
    sigmoid_norm = math.sqrt(sum(sigmoid[k] ** 2 for k in ("w1[1,1]", "w1[1,2]", "w1[2,1]", "w1[2,2]")))
    expected = {
        1: f"{(1 - s(3) - 1) ** 2:.4f}",
        2: f"{(yhat2 - 1) ** 2:.4f}",
        3: "ŷ = 1/2 exactly",
        4: "−0.25",
        5: f"{(new_yhat - 1) ** 2:.4f}",
        6: "= (1 − 1)2 = 0",  # the loss after the step with the constant-0 activation
        7: f"{-math.log(0.01):.4f}",
        8: "diverges",
        9: f"{sigmoid_norm:.4f}",  # the sigmoid network's ‖∂L/∂W^(1)‖ next to ReLU's
        10: "ε) ≈ α = 1/2",
        11: f"{0.999 / (2 * 0.999 * 0.001 * 0.999):.1f} times larger",
        12: "times as large as without it",
    }
    for number, needle in expected.items():
        assert needle in " ".join(parts[number].split()), (number, needle)


def test_the_summary_line_counts_the_worked_lines_that_redo(tmp_path: Path) -> None:
    result = run("example", "-o", str(tmp_path), "--no-pdf")
    assert result.returncode == 0, result.stderr
    counted = re.search(r"; (\d+) of (\d+) worked lines redo from the numbers they show; in ", result.stderr)
    assert counted is not None and counted[1] == counted[2] and int(counted[1]) > 100, result.stderr
    assert "do not redo" not in result.stderr


@pytest.mark.parametrize("timeout", ["nan", "inf", "-1", "0", "1e12"])
def test_a_timeout_that_is_not_a_sane_number_of_seconds_is_one_line(timeout: str, tmp_path: Path) -> None:
    result = run("example", "-o", str(tmp_path), "--timeout", timeout)
    assert result.returncode == 2 and not any(tmp_path.iterdir())
    assert result.stderr.startswith("derive: error: --timeout: expected seconds from 1 to 3600, found ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_spec_saved_with_a_byte_order_mark_builds(tmp_path: Path) -> None:
    spec = tmp_path / "bom.toml"
    spec.write_bytes(b"\xef\xbb\xbf" + example_path().read_bytes())
    result = run("sheet", str(spec), "-o", str(tmp_path / "out"), "--no-pdf")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "bom-solution.tex").exists()


def test_a_spec_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)  # reading it would wait for a writer for ever
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"#" * 1_000_001)
    for spec, message in (
        (fifo, "cannot read the spec: it is not a regular file"),
        (Path("/dev/zero"), "cannot read the spec: it is not a regular file"),
        (huge, "the spec has 1000001 bytes, more than a spec has (at most 1000000)"),
    ):
        result = run("sheet", str(spec), "-o", str(tmp_path / "out"), "--no-pdf")
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and not (tmp_path / "out").exists()
