"""Course outputs: fragments compile inside other people's documents; value macros; the CSV."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path

import pytest

import derive
from derive.maths.steps import Plot, Solution
from derive.pipeline import Options, build_sheet
from derive.render.answers import answers
from derive.render.fragments import PGFPLOTS_COMPAT
from tests.test_cli import text_of

HOSTS = {
    "article": r"""\documentclass{article}
\usepackage{amsmath,amssymb,booktabs,pgfplots}
\pgfplotsset{compat=1.18}
\begin{document}
\input{backprop-values.tex}
\section{Our network}
\input{backprop-fragments/network.tex}
%(parts)s
The loss of part 1 is \derivevalue{p1.L}, exactly $\deriveexact{p1.L}$.
\end{document}
""",
    "beamer": r"""\documentclass{beamer}
\usepackage{booktabs,tikz}
\begin{document}
\input{backprop-values.tex}
\begin{frame}[allowframebreaks]{Part 3}
\input{backprop-fragments/part3-exercise.tex}
\input{backprop-fragments/part3-solution.tex}
\end{frame}
\begin{frame}{A number}
After one step the loss is \derivevalue{p5.L_new}.
\end{frame}
\end{document}
""",
    "exam": r"""\documentclass[answers]{exam}
\usepackage{amsmath,amssymb,booktabs,tikz}
\begin{document}
\input{backprop-values.tex}
\begin{questions}
\question \input{backprop-fragments/part4-exercise.tex}
\begin{solution}
\input{backprop-fragments/part4-solution.tex}
\end{solution}
\question \input{backprop-fragments/part5-exercise.tex}
\end{questions}
Part 5 moves $w^{(2)}_{1,1}$ to \derivevalue{p5.w2_new[1,1]}, exactly $\deriveexact{p5.w2_new[1,1]}$.
\end{document}
""",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("course")
    build_sheet(derive.load_example(), Options(output_dir=out, pdf=False))
    return out


def _pdflatex(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.tex").write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def _compile(folder: Path, name: str, text: str) -> str:
    """The text of the compiled host document."""
    _pdflatex(folder, name, text)
    return text_of(folder / f"{name}.pdf")


def _log(folder: Path, name: str, text: str) -> str:
    """The log of the compiled host document, its lines joined (TeX wraps them at 79)."""
    _pdflatex(folder, name, text)
    return "".join((folder / f"{name}.log").read_text(encoding="utf-8", errors="replace").splitlines())


@pytest.mark.parametrize("host", list(HOSTS))
def test_fragments_compile_in_host_documents(built: Path, host: str) -> None:
    parts = "\n".join(
        rf"\subsection{{Part {n}}}\input{{backprop-fragments/part{n}-exercise.tex}}"
        rf"\input{{backprop-fragments/part{n}-solution.tex}}"
        for n in range(1, 13)
    )
    text = _compile(built, host, HOSTS[host].replace("%(parts)s", parts))
    solution = derive.solve(derive.load_example())
    if host == "article":
        assert "Part 12" in text and "The network" in text
        assert f"The loss of part 1 is {derive.tex.printer.decimal(solution['p1.L'].approx, 4)}" in text
    if host == "beamer":
        assert "Show that the output is exactly" in text
        assert derive.tex.printer.decimal(solution["p5.L_new"].approx, 4) in text
    if host == "exam":
        assert "Solution:" in text and "chain rule" in text
        moved = derive.tex.printer.decimal(solution["p5.w2_new[1,1]"].approx, 4)
        assert f"Part 5 moves w1,1 to {moved}, exactly" in text


def test_an_unknown_value_key_stops_the_compile_naming_it(built: Path) -> None:
    host = (
        "\\documentclass{article}\n\\begin{document}\n\\input{backprop-values.tex}\n"
        "\\derivevalue{p1.Lx}\n\\end{document}\n"
    )
    (built / "bad.tex").write_text(host)
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "bad.tex"],
        cwd=built,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "No derive value `p1.Lx'" in result.stdout


def test_csv_has_one_row_per_quantity_matching_the_json(built: Path) -> None:
    document = json.loads((built / "backprop-answers.json").read_text())
    rows = list(csv.DictReader(io.StringIO((built / "backprop-answers.csv").read_text())))
    assert len(rows) == len(document["quantities"])
    for row, q in zip(rows, document["quantities"], strict=True):
        assert row["name"] == q["name"] and row["decimal"] == q["decimal"]
        assert row["uses"].split() == q["uses"]
        assert (row["float"] == "") == (q["float"] is None)
        if q["float"] is not None:
            assert float(row["float"]) == q["float"]


def test_notebook_display_of_a_part_is_valid_latex(tmp_path: Path) -> None:
    solution = derive.solve(derive.load_example())
    shown = solution.part(5)._repr_latex_()
    document = "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n" + shown
    text = _compile(tmp_path, "notebook", document + "\n\\end{document}\n")
    assert "Part 5" in text
    assert derive.tex.printer.decimal(solution["p5.L_new"].approx, 4) in text
    markdown = solution.part(5)._repr_markdown_()
    assert markdown.startswith("#### Part 5") and markdown.count("$$\n\\begin{") == shown.count("\\[\n\\begin{")


def test_reprs_are_short_and_say_what_they_are(example: Solution) -> None:
    # A notebook cell that shows a solution (or one of its values) must not print the formula trees.
    count = sum(1 for _ in example.quantities())
    assert repr(example) == f"Solution(backprop: {len(example.parts)} parts, {count} values)"
    assert all(repr(part).startswith(f"PartSolution(part {part.number}: ") for part in example.parts)
    loss = example["p1.L"]
    assert repr(loss) == f"Quantity(p1.L = {loss.exact} ≈ {float(loss.approx):.8g})"
    assert max(len(repr(q)) for q in example.quantities()) < 200


def test_a_part_out_of_range_is_an_index_error(example: Solution) -> None:
    assert example.part(1) is example.parts[0] and example.part(len(example.parts)) is example.parts[-1]
    for number in (0, -1, len(example.parts) + 1):
        with pytest.raises(IndexError, match=f"part {number}: the solution has parts 1 to {len(example.parts)}"):
            example.part(number)


def _plotted(example: Solution) -> int:
    """The first part with a plot."""
    return next(p.number for p in example.parts for s in p.sections if any(isinstance(x, Plot) for x in s.steps))


def test_a_plot_fragment_in_the_preamble_it_asks_for_draws_without_a_compat_warning(
    built: Path, example: Solution
) -> None:
    number = _plotted(example)
    fragment = (built / "backprop-fragments" / f"part{number}-solution.tex").read_text()
    # The preamble as the fragment's own header comment gives it, pasted.
    asked = re.search(r"^%   (\\usepackage.*) and (\\usepackage\{pgfplots\}.*)\.$", fragment, re.M)
    assert asked is not None and f"compat={PGFPLOTS_COMPAT}" in asked.group(2)
    body = f"\\begin{{document}}\n\\input{{backprop-fragments/part{number}-solution.tex}}\n\\end{{document}}\n"
    log = _log(built, "asked", f"\\documentclass{{article}}\n{asked.group(1)}\n{asked.group(2)}\n{body}")
    assert "compatibility mode" not in log
    # A host without the compat line still compiles the plot (at the sheet's level, in the fragment only).
    log = _log(built, "unasked", f"\\documentclass{{article}}\n{asked.group(1)}\n\\usepackage{{pgfplots}}\n{body}")
    assert "Package pgfplots Warning: running in backwards compatibility mode" in log


def test_deriveexact_of_a_value_without_a_short_exact_form_says_so(built: Path, example: Solution) -> None:
    document = answers(example, 4)
    long = next(e for e in document["quantities"] if e["latex"] is None)
    short = next(e for e in document["quantities"] if e["latex"] is not None)
    host = (
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n\\input{backprop-values.tex}\n"
        f"$\\deriveexact{{{long['name']}}}$ and $\\deriveexact{{{short['name']}}}$.\n\\end{{document}}\n"
    )
    log = _log(built, "exact", host)
    assert f"Package derive Warning: \\deriveexact{{{long['name']}}} has no exact form short enough" in log
    assert f"\\deriveexact{{{short['name']}}}" not in log
