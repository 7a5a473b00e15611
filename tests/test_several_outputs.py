"""A sheet of several exercises across the other outputs: derive watch following the files a sheet
includes, derive example --toml of a sheet that includes files, Moodle's questions named by exercise,
derive check of keys ``e2.p3.…``, and one self-check page with a section per exercise."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.test_watch import Watching, watching  # noqa: F401  (the fixture that ends every watcher)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHEET = EXAMPLES / "sheet_three_exercises.toml"
INCLUDED = EXAMPLES / "optimizer_step_sgd_momentum.toml"


def derive(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_a_save_of_an_included_file_rebuilds(tmp_path: Path, watching: list[Watching]) -> None:  # noqa: F811
    sheet = tmp_path / "week.toml"
    sheet.write_text(SHEET.read_text(encoding="utf-8"), encoding="utf-8")
    included = tmp_path / INCLUDED.name
    text = INCLUDED.read_text(encoding="utf-8")
    included.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    run = Watching(str(sheet), "-o", str(out), "--no-pdf")
    watching.append(run)
    assert run.next_line("derive: watching ") == (
        f"derive: watching {sheet} (1 included file); a save rebuilds, Ctrl-C stops"
    )
    assert "learning_rate = 0.1\n" in text
    included.write_text(text.replace("learning_rate = 0.1\n", "learning_rate = 0.2\n"), encoding="utf-8")
    line = run.next_line("derive: ")
    assert " changed (e3.p1." in line and ".tex and answers rebuilt in " in line  # the values it changed
    broken = text.replace("learning_rate = 0.1\n", "learning_rate = -1\n")
    included.write_text(broken, encoding="utf-8")  # a mistake in the included file: the last output stays
    assert "exercises[3].parts[1].learning_rate" in run.next_line("derive: error: ")
    run.next_line("derive: the last good output stays in ")
    included.write_text(text, encoding="utf-8")  # mended: watched still, rebuilt
    assert "rebuilt in " in run.next_line("derive: ")
    status, said = run.stop(signal.SIGTERM)
    assert status == 143 and said == ["derive: stopped by SIGTERM; the files were written"]


def test_example_toml_of_a_sheet_says_how_to_get_its_included_files(tmp_path: Path) -> None:
    printed = derive("example", "sheet_three_exercises", "--toml")
    assert printed.returncode == 0 and printed.stdout == SHEET.read_text(encoding="utf-8")
    get = f"derive example {INCLUDED.stem} --toml > {INCLUDED.name}"
    assert (
        printed.stderr == f"derive: sheet_three_exercises includes {INCLUDED.name}; save it beside the sheet: {get}\n"
    )
    (tmp_path / "week.toml").write_text(printed.stdout, encoding="utf-8")
    assert "no such file" in derive("sheet", "week.toml", "--no-pdf", cwd=tmp_path).stderr
    saved = derive(*get.split()[1:-2], cwd=tmp_path)  # the command it names, as a shell would run it
    (tmp_path / INCLUDED.name).write_text(saved.stdout, encoding="utf-8")
    built = derive("sheet", "week.toml", "--no-pdf", "-o", "out", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "out" / "week-answers.json").is_file()
    assert derive("example", "--toml").stderr == ""  # a spec of one exercise includes nothing
