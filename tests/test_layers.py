"""The package's layers: each stage imports only the stages before it and the shared vocabulary, never
one after it, and the float engine stays independent of the exact engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "derive"
ORDER = (
    "errors",  # what a user can act on
    "terms",  # the vocabulary: symbols, keys, formula trees, displays, rounding
    "catalog",  # activations, losses, optimizers: exact rule, float rule, words
    "exercise",  # stage 1: the spec (TOML or Python) → the validated exercise model
    "tex",  # the printer: names, notation, numbers (used from here on)
    "maths",  # stage 2: the exact derivation
    "verify",  # stage 3: the float engine and the gate
    "kinds",  # one module per part kind, each a piece of every stage above
    "render",  # stage 4: template context, Jinja2 LaTeX, answers, fragments
    "schema",  # the JSON Schemas of the spec and the answers, made from the reader's declarations
    "notebook",  # the Jupyter display: the template context as notebook maths
    "pdf",  # stage 5: LaTeX → PDF
    "moodle",  # Moodle XML from a verified solution (its drawing made by TeX), and a quiz's responses read back
    "output",  # the files of a build, replaced all or nothing
    "budget",  # the time and memory a build may take, stage by stage
    "build",  # the builds' options and result, their shared stages, a sheet of several exercises, an exam
    "pipeline",  # the table of contents
    "variants",  # per-student variants: drawn, judged and built in parallel, one key for all
    "library",  # the public functions, each checking its arguments at the boundary
    "watch",  # the lecturer's loop: rebuild on every save
    "cli",
    "__init__",
    "__main__",
)
"""Layers from the bottom up: a module may import its own layer and the ones below, never above."""
FLOAT_ENGINE = ("verify/floats.py", "verify/twins.py")
INDEPENDENT_OF = ("maths", "kinds", "tex", "render", "pdf", "pipeline")
"""The float engine shares only the spec model, the catalogue and the keys with the exact engine."""


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, layer) of every import of derive in ``path``, at module level or in a function; imports
    for type checking only (``if TYPE_CHECKING:``) do not run and are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        names = (
            [node.module]
            if isinstance(node, ast.ImportFrom) and node.module
            else [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        for name in names:
            parts = name.split(".")
            if parts[0] == "derive" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
            elif parts[0] == "derive" and isinstance(node, ast.ImportFrom):  # from derive import x
                found += [(node.lineno, alias.name) for alias in node.names]  # type: ignore[union-attr]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    own = ORDER.index(_layer(path))
    for line, layer in _imports(path):
        if layer in ORDER:
            assert ORDER.index(layer) <= own, f"{path.relative_to(PACKAGE)}:{line} imports {layer}, a layer above"


def test_every_module_is_in_a_layer() -> None:
    assert {_layer(path) for path in MODULES} == set(ORDER)


@pytest.mark.parametrize("name", FLOAT_ENGINE)
def test_the_float_engine_does_not_import_the_exact_engine(name: str) -> None:
    imported = {layer for _, layer in _imports(PACKAGE / name)}
    assert not imported & set(INDEPENDENT_OF), imported & set(INDEPENDENT_OF)
    assert imported <= {"errors", "terms", "catalog", "exercise", "verify"}
