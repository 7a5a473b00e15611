"""The self-check page in a real browser: Debian's Chromium driven by Selenium. Where either is missing
the tests skip, except in CI (CI=true), where they fail: scripts/dev installs both."""

from __future__ import annotations

import math
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import derive
from derive.maths.steps import Solution
from derive.pipeline import load_spec
from derive.render.answers import answers
from derive.render.carried import Program
from derive.render.checkpage import check_page
from derive.tex.style import Style
from derive.verify.twins import expected
from tests.sheets import single

EXAMPLES = single(sorted((Path(__file__).parent.parent / "examples").glob("*.toml")))


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: scripts/dev installs it")
    pytest.skip(f"{what} is missing (bash scripts/dev setup installs it)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium (the dev extras)")
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        _missing("Debian's chromium and chromium-driver")
    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,1400"):
        options.add_argument(argument)
    options.binary_location = str(chromium)
    session = webdriver.Chrome(options=options, service=Service(str(driver)))
    try:
        yield session
    finally:
        session.quit()


def page_file(solution: Solution, folder: Path, language: str | None = None) -> tuple[Path, dict[str, Any]]:
    style = Style.of(solution.spec.sheet, language=language)
    document = answers(solution, style.places)
    path = folder / f"{solution.spec.name}-{style.language}-check.html"
    path.write_text(check_page(solution, style, document), encoding="utf-8")
    return path, document


@pytest.fixture(scope="module")
def example_page(example: Solution, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return page_file(example, tmp_path_factory.mktemp("page"))


def shown_values(document: dict[str, Any]) -> dict[str, str]:
    return {
        row["name"]: re.sub(r" \\cdot 10\^\{(-?\d+)\}", r"e\1", row["decimal"])
        for row in document["quantities"]
        if row["asked"]
    }


def open_page(browser: Any, path: Path) -> None:
    browser.get(path.as_uri())
    browser.execute_script("localStorage.clear()")
    browser.get(path.as_uri())


def field(browser: Any, key: str) -> Any:
    return browser.find_element("css selector", f'tr[data-key="{key}"]')


def enter(browser: Any, values: dict[str, str]) -> None:
    """Type each value into its field (through the page's own events), then press Check."""
    for key, text in values.items():
        box = field(browser, key).find_element("css selector", "input")
        box.clear()
        box.send_keys(text)
    browser.find_element("id", "check").click()


def marks(browser: Any) -> dict[str, str]:
    rows = browser.find_elements("css selector", "tr[data-key]")
    return {row.get_attribute("data-key"): row.get_attribute("data-mark") for row in rows}


def test_the_example_entered_right_is_all_right(browser: Any, example_page: tuple[Path, dict[str, Any]]) -> None:
    path, document = example_page
    open_page(browser, path)
    values = shown_values(document)
    typed = dict(list(values.items())[:8])  # typed key by key; the rest set at once (244 fields)
    enter(browser, typed)
    browser.execute_script(
        "for (const [key, text] of Object.entries(arguments[0]))"
        " document.querySelector(`tr[data-key='${key}'] input`).value = text;",
        {k: v for k, v in values.items() if k not in typed},
    )
    browser.find_element("id", "check").click()
    assert set(marks(browser).values()) == {"right"} and len(marks(browser)) == 244
    summary = "244 right, 0 right given your earlier values, 0 wrong, 0 not entered."
    assert browser.find_element("id", "summary").text == summary
    assert not browser.find_element("id", "first").is_displayed()
    # Kept in the browser: a reload shows them again, and Clear empties the page and the storage.
    browser.refresh()
    assert field(browser, "p1.L").find_element("css selector", "input").get_attribute("value") == values["p1.L"]
    assert set(marks(browser).values()) == {"right"}
    browser.find_element("id", "clear").click()
    browser.refresh()
    assert field(browser, "p1.L").find_element("css selector", "input").get_attribute("value") == ""
    assert set(marks(browser).values()) == {"missing"}


def test_an_early_slip_is_wrong_and_what_follows_from_it_carried(
    browser: Any, example_page: tuple[Path, dict[str, Any]]
) -> None:
    path, _ = example_page
    open_page(browser, path)
    # Part 1 by hand from the spec's network, z1_1 = 0.5 instead of 0 and correct from there on.
    z1 = [0.5, 3.0]
    a1 = [1 / (1 + math.exp(-z)) for z in z1]
    z2 = a1[0] - a1[1] + 0.5
    typed = [z1[0], z1[1], a1[0], a1[1], z2, z2, (z2 - 1) ** 2]
    keys = ["p1.z1[1]", "p1.z1[2]", "p1.a1[1]", "p1.a1[2]", "p1.z2[1]", "p1.yhat[1]", "p1.L"]
    enter(browser, {k: f"{v:.4f}" for k, v in zip(keys, typed, strict=True)})
    found = marks(browser)
    assert [found[k] for k in keys] == ["wrong", "right", "carried", "right", "carried", "carried", "carried"]
    assert field(browser, "p1.a1[1]").text.endswith("right, given your earlier values")
    box = browser.find_element("id", "first")
    assert box.is_displayed() and "Part 1" in box.text
    assert "first" in field(browser, "p1.z1[1]").get_attribute("class")
    formula = browser.find_element("id", "first-formula").find_element("tag name", "math")
    assert formula.find_elements("tag name", "msubsup")  # z^{(1)}_1 = w^{(1)}_{1,1} x_1 + …, typeset
    browser.find_element("id", "show").click()
    numbers = browser.find_element("id", "first-numbers")
    assert numbers.is_displayed()
    # z1_1 = w11 x1 + w12 x2 + b1 with the givens 1, 1, −1, 1, 0: the formula's value is 0, not 0.5.
    text = re.sub(r"\s+", "", numbers.text)
    assert text.endswith("=1·1+(−1)·1+0=0.0000"), text


def test_a_value_in_the_wrong_notation_gets_a_message_and_a_fraction_is_read(
    browser: Any, example_page: tuple[Path, dict[str, Any]]
) -> None:
    path, _ = example_page
    open_page(browser, path)
    enter(browser, {"p1.z1[1]": "0,5", "p3.yhat[1]": "1/2"})
    assert field(browser, "p1.z1[1]").find_element("css selector", ".message").text == (
        "not a number: write a decimal such as 0.25, or a fraction such as 3/4"
    )
    assert marks(browser)["p1.z1[1]"] == "missing"
    assert marks(browser)["p3.yhat[1]"] == "right"


def test_the_german_page_reads_a_decimal_comma(browser: Any, example: Solution, tmp_path: Path) -> None:
    path, document = page_file(example, tmp_path, language="de")
    open_page(browser, path)
    enter(browser, {"p1.a1[2]": shown_values(document)["p1.a1[2]"].replace(".", ","), "p1.a1[1]": "0.5"})
    assert marks(browser)["p1.a1[2]"] == "right"
    assert field(browser, "p1.a1[1]").find_element("css selector", ".message").text == (
        "keine Zahl: schreiben Sie eine Dezimalzahl wie 0,25 oder einen Bruch wie 3/4"
    )


def test_every_formula_of_every_example_evaluates_in_the_browser_as_the_float_engine(
    browser: Any, tmp_path: Path
) -> None:
    for spec_path in EXAMPLES:
        solution = derive.solve(load_spec(spec_path))
        path, _ = page_file(solution, tmp_path)
        browser.get(path.as_uri())
        values = browser.execute_script("return run(new Map())[1].map((x) => Number.isFinite(x) ? x : String(x))")
        program = Program.of(solution, Style.of(solution.spec.sheet).places)
        reference = expected(solution.spec).values
        assert len(values) == len(program.cells), spec_path.stem
        for cell, value in zip(program.cells, values, strict=True):
            twin = reference[cell.key]
            where = f"{spec_path.stem}: {cell.key}"
            if math.isinf(twin):
                assert value == ("Infinity" if twin > 0 else "-Infinity"), where
            else:
                assert value == pytest.approx(twin, rel=1e-9, abs=1e-12), where
