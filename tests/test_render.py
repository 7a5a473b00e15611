"""Template context and Jinja2: user text escaped, unknown steps and names fail loudly."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

import derive
from derive.exercise.reader import example_path
from derive.maths.steps import Solution
from derive.pipeline import parse_spec
from derive.render.step_context import step_context
from derive.render.templates import _finalize, environment
from derive.tex.printer import Latex
from tests.sheets import single

EXAMPLES = Path(__file__).parent.parent / "examples"

EXAMPLE = example_path().read_text(encoding="utf-8")


def test_user_text_is_escaped_and_latex_is_not() -> None:
    assert _finalize("50% & $x_1$ #1") == r"50\% \& \$x\_1\$ \#1"
    assert _finalize(Latex(r"\frac{1}{2}")) == r"\frac{1}{2}"
    assert _finalize(3) == "3"


@pytest.mark.parametrize("value", [None, True, 1.5, [1]])
def test_non_text_values_are_refused(value: object) -> None:
    with pytest.raises(TypeError, match="template printed"):
        _finalize(value)


def test_unknown_step_type_fails_loudly() -> None:
    with pytest.raises(TypeError, match="no renderer for step type object"):
        step_context(object(), 4)  # type: ignore[arg-type]


def test_undefined_template_names_fail_loudly() -> None:
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("<< nothing_here >>").render()


def test_titles_with_latex_specials_appear_literally(tmp_path: str) -> None:
    title = r"Week 5: 50% & $x_1$ #1 ~ ^ \input{/etc/passwd} {braces}"
    spec = parse_spec(EXAMPLE.replace('title = "Backpropagation by hand"', f"title = '''{title}'''"))
    solution = derive.solve(spec)
    documents = derive.render(solution, 4)
    assert r"\input{/etc/passwd}" not in documents.solution
    assert r"50\% \& \$x\_1\$ \#1" in documents.solution


def test_every_part_has_its_question_on_both_sheets(example: Solution) -> None:
    documents = derive.render(example, 4)
    assert documents.exercise.count(r"\item") == len(example.parts)
    assert documents.solution.count(r"\section*{Part") == len(example.parts)
    # the exercise sheet holds no results
    assert r"\approx" not in documents.exercise and "Step 3" not in documents.exercise


def test_decimal_places_follow_the_option(example: Solution) -> None:
    six = derive.render(example, 6).solution
    assert "0.952574" in six  # σ(3) in part 1
    assert "0.952574" not in derive.render(example, 4).solution


def test_the_documented_template_context_is_the_real_one() -> None:
    from derive.render.context import sheet_context
    from derive.render.templates import template_dirs
    from derive.tex.style import Style

    doc = (template_dirs()[-1] / "README.md").read_text(encoding="utf-8")
    top = doc.split("Top level")[1].split("A part:")[0]
    documented = {name for row in re.findall(r"^\| (.+?) \|", top, re.M) for name in re.findall(r"`(\w+)`", row)}
    context = sheet_context(derive.solve(derive.load_example()), Style())
    fragments_only = {"part", "plot_preamble", "compat"}  # documented as the part fragments' own
    assert documented - fragments_only == set(context)
    for name in context["sheet"]:
        assert f"`{name}`" in top
    kinds = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)? \|", doc.split("A step has")[1], re.M))
    steps = {k for pair in kinds for k in pair if k}
    assert steps == {p.stem.split(".")[0] for p in (template_dirs()[-1] / "steps").glob("*.tex.j2")}


@pytest.mark.parametrize("path", single(sorted(EXAMPLES.glob("*.toml"))), ids=lambda p: p.stem)
def test_the_exercise_sheet_needs_only_the_outline(path: Path) -> None:
    # The pipeline compiles the exercise sheet from the outline while the solution is derived.
    from derive.maths.solve import outline
    from derive.render.templates import render_exercise
    from derive.tex.style import Style

    spec = derive.load_spec(path)
    style = Style.of(spec.sheet, None, None)
    assert render_exercise(outline(spec), style) == render_exercise(derive.solve(spec), style)


def test_the_network_givens_break_into_lines_that_fit() -> None:
    """Three layers of givens do not fit one display line: the last ones start a new one (none is lost)."""
    examples = Path(__file__).parent.parent / "examples"
    deep = derive.render(derive.solve(derive.load_spec(examples / "deep_network.toml")), 4).solution
    block = deep[deep.index("The parameters are") : deep.index("and the loss of the output")]
    lines = [line for line in block.split(r"\[")[1:]]
    assert len(lines) == 2 and "W^{(3)}" in lines[1] and "b^{(3)} = 0" in lines[1]
    assert all(name in block for name in ("W^{(1)}", "b^{(1)}", "W^{(2)}", "b^{(2)}"))
    seed = derive.render(derive.solve(derive.load_spec(example_path())), 4).solution
    assert seed[seed.index("The parameters are") : seed.index("and the loss of the output")].count(r"\[") == 1


def test_skip_connections_are_written_layer_by_layer_with_stacked_inputs() -> None:
    examples = Path(__file__).parent.parent / "examples"
    text = derive.render(derive.solve(derive.load_spec(examples / "skip_connections.toml")), 4).solution
    stacked = r"\begin{bmatrix} x \\ a^{(1)} \\ a^{(2)} \end{bmatrix}"
    assert r"\hat{y} = g(x) &= W^{(3)} \, " + stacked in text
    assert r"a^{(2)} &= \sigma\left(W^{(2)} \, a^{(1)} + b^{(2)}\right)" in text
    assert "a skip connection" in text and "bend left" in text  # the drawing arcs around layer 1
    # Step 5 into a^{(1)}: through W^{(2)} and through the columns of W^{(3)} that multiply a^{(1)}.
    assert r"W^{(2)\top} \, \delta^{(2)} + \left(W^{(3)}_{a^{(1)}}\right)^{\top} \, \delta^{(3)}" in text


def test_significant_figures_are_what_both_sheets_say_and_show() -> None:
    from derive.tex.decimals import Digits, decimal

    text = example_path().read_text(encoding="utf-8").replace("decimals = 4", "significant = 3")
    solution = derive.solve(parse_spec(text))
    documents = derive.render(solution)
    assert "decimals rounded to 3 significant figures" in documents.exercise
    assert "rounded to 3 significant figures for display only" in documents.solution
    three = Digits(3, significant=True)
    a = solution["p1.yhat[1]"]  # 1 − σ(3), a closed form: shown with its decimal
    assert rf"\approx {decimal(a.approx, three)}" in documents.solution
    assert decimal(a.approx, three) != decimal(a.approx, 3)  # figures, not places


def test_one_environment_per_folders_and_style_and_compiled_templates_are_kept(tmp_path: Path) -> None:
    from derive.render.templates import _environment, environment, render_exercise
    from derive.tex.style import Style

    assert environment((), Style()) is environment((), Style())
    assert environment((), Style()) is not environment((), Style(language="de"))
    solution = derive.solve(derive.load_example())
    cache = tmp_path / "compiled"
    first = render_exercise(solution, Style(), compiled=cache)
    kept = sorted(cache.iterdir())
    assert kept and all(p.stat().st_size > 0 for p in kept)
    _environment.cache_clear()  # as a new process would: the templates come from the cache
    assert render_exercise(solution, Style(), compiled=cache) == first
    # A damaged cache entry, or a cache folder that is a file, only means compiling again.
    for entry in kept:
        entry.write_bytes(b"not bytecode")
    _environment.cache_clear()
    assert render_exercise(solution, Style(), compiled=cache) == first
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    assert render_exercise(solution, Style(), compiled=blocked) == first


def test_an_edited_template_is_compiled_afresh(tmp_path: Path) -> None:
    from derive.render.templates import _environment, render_exercise
    from derive.tex.style import Style

    solution = derive.solve(derive.load_example())
    folder, cache = tmp_path / "templates", tmp_path / "compiled"
    folder.mkdir()
    (folder / "exercise.tex.j2").write_text("first version\n", encoding="utf-8")
    assert "first version" in render_exercise(solution, Style(), [folder], compiled=cache)
    (folder / "exercise.tex.j2").write_text("second version\n", encoding="utf-8")
    _environment.cache_clear()
    text = render_exercise(solution, Style(), [folder], compiled=cache)
    assert "second version" in text and "first version" not in text
