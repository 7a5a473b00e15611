"""The spec's JSON Schema: made from the reader's declarations, shipped up to date, and in agreement
with the reader: every example passes both, a sample of mistakes fails both, and Taplo (the checker
in VS Code's Even Better TOML) reads it as jsonschema does."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from derive.catalog.activations import ACTIVATIONS
from derive.catalog.optimizers import OPTIMIZERS
from derive.cli import main
from derive.errors import SpecError
from derive.exercise.fields import LOSS_KEYS
from derive.exercise.parts import COMMON, NETLESS_COMMON
from derive.exercise.reader import (
    LAYER_KEYS,
    NETWORK_KEYS,
    NOTATION_KEYS,
    ROOT_KEYS,
    SHEET_KEYS,
    example_path,
    parse_spec,
    read_data,
)
from derive.kinds import KINDS
from derive.schema import FILES, shipped
from derive.schema.generate import generated, spec_schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [*sorted((ROOT / "examples").glob("*.toml")), example_path()]
SCHEMA = spec_schema()
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
Data = dict[str, Any]


def schema_errors(data: Data) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(data)]


def reader_error(data: Data) -> str | None:
    try:
        read_data(copy.deepcopy(data), KINDS)
    except SpecError as error:
        return str(error)
    return None


def test_the_shipped_schemas_are_the_generated_ones() -> None:
    # A stale file fails here: `python -m derive.schema` writes them again.
    for which, text in generated().items():
        assert shipped(which) == text, f"derive/schema/{FILES[which]} is stale: run python -m derive.schema"


def test_the_schemas_are_valid_draft_7() -> None:
    for which in FILES:
        jsonschema.Draft7Validator.check_schema(json.loads(shipped(which)))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_passes_the_schema(path: Path) -> None:
    # As an editor reads TOML: floats are floats (the reader keeps them as typed decimals).
    assert schema_errors(tomllib.loads(path.read_text(encoding="utf-8"))) == []


def kinds_schemas() -> dict[str, Data]:
    """Each kind's branch of the parts' schema: its if/then."""
    item = SCHEMA["properties"]["parts"]["items"]
    return {branch["if"]["properties"]["kind"]["enum"][0]: branch["then"] for branch in item["allOf"]}


def test_the_schema_covers_every_key_the_reader_declares() -> None:
    props = SCHEMA["properties"]
    assert tuple(props) == (*ROOT_KEYS, "exercises")  # one exercise's tables, or a sheet of several
    assert set(props["sheet"]["properties"]) == set(SHEET_KEYS)
    assert set(props["notation"]["properties"]) == set(NOTATION_KEYS)
    assert set(props["network"]["properties"]) == set(NETWORK_KEYS)
    assert set(props["network"]["properties"]["layers"]["items"]["properties"]) == set(LAYER_KEYS)
    assert set(props["loss"]["properties"]) == set(LOSS_KEYS)
    item = props["parts"]["items"]
    assert item["properties"]["kind"]["enum"] == list(KINDS)
    assert set(item["properties"]) == set(COMMON) | {key for kind in KINDS.values() for key in kind.keys}
    branches = kinds_schemas()
    assert list(branches) == list(KINDS)
    for name, kind in KINDS.items():
        assert branches[name]["propertyNames"]["enum"] == [*(COMMON if kind.network else NETLESS_COMMON), *kind.keys]
        assert branches[name].get("required", []) == list(kind.required)
    every = SCHEMA["definitions"]["activation"]["anyOf"]
    assert set(every[0]["enum"]) == {name for name, entry in ACTIVATIONS.items() if not entry.formulas}
    assert {t["properties"]["name"]["enum"][0]: set(t["properties"]) - {"name"} for t in every[1:]} == {
        name: set(entry.params) for name, entry in ACTIVATIONS.items()
    }
    for default in ("sgd", "adam"):
        choices = SCHEMA["definitions"][f"optimizer_{default}"]["anyOf"]
        assert choices[0]["enum"] == list(OPTIMIZERS)
        named = {t["properties"]["name"]["enum"][0]: set(t["properties"]) - {"name"} for t in choices[1:-1]}
        assert named == {name: set(optimizer.hyper) for name, optimizer in OPTIMIZERS.items()}
        assert set(choices[-1]["properties"]) == set(OPTIMIZERS[default].hyper)


def declared_tables() -> list[tuple[Callable[[Data, str], None], tuple[str, ...]]]:
    """Where each declared key goes in a spec, with the keys declared there."""

    def sheet(d: Data, key: str) -> None:
        d.setdefault("sheet", {})[key] = [[]]

    def notation(d: Data, key: str) -> None:
        d["notation"] = {key: [[]]}

    def network(d: Data, key: str) -> None:
        d["network"][key] = [[]]

    def layer(d: Data, key: str) -> None:
        d["network"]["layers"][0][key] = [[]]

    def loss(d: Data, key: str) -> None:
        d["loss"][key] = [[]]

    return [
        (sheet, tuple(SHEET_KEYS)),
        (notation, tuple(NOTATION_KEYS)),
        (network, tuple(NETWORK_KEYS)),
        (layer, tuple(LAYER_KEYS)),
        (loss, tuple(LOSS_KEYS)),
    ]


def built_in() -> Data:
    return tomllib.loads(example_path().read_text(encoding="utf-8"), parse_float=Decimal)


def test_the_reader_takes_every_declared_key_and_refuses_any_other() -> None:
    """A value of no key's shape ([[]]) is refused for what it is, never as an unknown key: the reader
    knows every key the schema declares; a key declared nowhere is unknown to both."""
    for put, keys in declared_tables():
        for key in keys:
            data = built_in()
            put(data, key)
            message = reader_error(data)
            assert message is not None and "unknown key" not in message, (key, message)
            assert schema_errors(data), key
        data = built_in()
        put(data, "colour")
        assert "unknown key" in (reader_error(data) or ""), put.__name__
        assert any("colour" in e for e in schema_errors(data)), put.__name__
    for name, kind in KINDS.items():
        for key in (*(COMMON if kind.network else NETLESS_COMMON), *kind.keys):
            if key == "kind":
                continue
            data = built_in()
            data["parts"] = [{"kind": name, key: [[]]}]
            message = reader_error(data)
            assert message is not None and "unknown key" not in message, (name, key, message)
            assert schema_errors(data), (name, key)
        data = built_in()
        data["parts"] = [{**data["parts"][0], "kind": name, "colour": 1}]
        assert "unknown key" in (reader_error(data) or ""), name
        assert schema_errors(data), name


def change(path: tuple[str | int, ...], value: object = None, *, drop: bool = False) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        where: Any = data
        for step in path[:-1]:
            where = where[step]
        if drop:
            del where[path[-1]]
        else:
            where[path[-1]] = value

    return edit


MISTAKES = {
    "misspelled sheet key": change(("sheet", "titel"), "x"),
    "misspelled root table": change(("networks",), {}),
    "decimals a string": change(("sheet", "decimals"), "four"),
    "decimals too many": change(("sheet", "decimals"), 13),
    "decimals and significant": change(("sheet", "significant"), 3),
    "unknown language": change(("sheet", "language"), "fr"),
    "paper in capitals": change(("sheet", "paper"), "A4"),
    "unknown engine": change(("sheet", "engine"), "luatex"),
    "logo not an image": change(("sheet", "logo"), "logo.gif"),
    "notation name with digits": change(("notation",), {"z": "n3t"}),
    "unknown notation style": change(("notation",), {"style": "neurons"}),
    "inputs zero": change(("network", "inputs"), 0),
    "misspelled activation": change(("network", "layers", 0, "activation"), "sigmoidd"),
    "activation parameter misspelled": change(
        ("network", "layers", 0, "activation"), {"name": "leaky_relu", "slop": 1}
    ),
    "custom activation without formula": change(("network", "layers", 0, "activation"), {"name": "custom"}),
    "bias misspelled none": change(("network", "layers", 1, "bias"), "nonee"),
    "shared bias misspelled": change(("network", "layers", 1, "bias"), {"share": 1}),
    "weights a number": change(("network", "layers", 0, "weights"), 1),
    "layer without weights": change(("network", "layers", 0, "weights"), drop=True),
    "unknown loss": change(("loss", "name"), "mse"),
    "custom loss without formula": change(("loss", "name"), "custom"),
    "formula for a built-in loss": change(("loss", "formula"), "(yhat - y)^2"),
    "unknown reduction": change(("loss", "reduction"), "max"),
    "no parts": change(("parts",), []),
    "unknown kind": change(("parts", 0, "kind"), "forwards"),
    "a key of another kind": change(("parts", 0, "learning_rate"), 1),
    "x empty": change(("parts", 0, "x"), []),
    "x a string": change(("parts", 0, "x"), "1, 1"),
    "a number that is no number": change(("parts", 0, "y"), "one"),
    "a closed form with an unknown function": change(("parts", 0, "y"), "erf(1)"),
    "use_sample_of zero": change(("parts", 3, "use_sample_of"), 0),
    "title a number": change(("parts", 0, "title"), 1),
    "exact a string": change(("parts", 0, "exact"), "yes"),
    "update without learning rate": change(("parts", 4, "learning_rate"), drop=True),
    "learning rate zero": change(("parts", 4, "learning_rate"), 0),
    "learning rate negative": change(("parts", 4, "learning_rate"), -1),
    "too many steps": change(("parts", 4, "steps"), 9),
    "unknown optimizer": change(("parts", 4, "optimizer"), "adamw"),
    "decay rate 1": change(("parts", 4, "optimizer"), {"name": "momentum", "beta": 1}),
    "hyperparameter of another optimizer": change(("parts", 4, "optimizer"), {"name": "sgd", "beta": Decimal("0.9")}),
    "wrt not a parameter": change(("parts", 4, "wrt"), ["V1"]),
    "frozen not an entry": change(("parts", 4, "frozen"), ["w1(1,1)"]),
    "tied group of one": change(("parts", 4, "tied"), [["w1[1,1]"]]),
    "of not an output": change(("parts", 3, "of"), "loss"),
    "softmax replaced in": change(("parts", 5, "activation"), "softmax"),
    "p one number": change(("parts", 6, "p"), "0.5"),
    "too many learning-rate steps": change(("parts", 7, "steps"), 201),
    "exact steps too many": change(("parts", 7, "exact_steps"), 4),
    "layers not numbers": change(("parts", 8, "layers"), ["1"]),
    "compare_optimizer steps": change(("parts", 9, "steps"), 4),
    "extra_layer without bias": change(("parts", 11, "bias"), drop=True),
    "reads twice": change(("network", "layers", 1, "reads"), [1, 1]),
}
"""Mistakes a lecturer may type, each in the built-in example."""


@pytest.mark.parametrize("edit", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_mistake_fails_the_schema_as_it_fails_the_reader(edit: Callable[[Data], None]) -> None:
    data = built_in()
    edit(data)
    assert reader_error(data) is not None, "the reader takes it: the mistake is no mistake"
    assert schema_errors(data), "the schema lets through what the reader refuses"


FORMS = {
    "activation table": change(("network", "layers", 0, "activation"), {"name": "leaky_relu", "slope": "1/10"}),
    "custom activation": change(("network", "layers", 0, "activation"), {"name": "custom", "formula": "z^2"}),
    "bias none": change(("network", "layers", 1, "bias"), "none"),
    "bias one number": change(("network", "layers", 1, "bias"), Decimal("0.5")),
    "shared bias": change(("network", "layers", 0, "bias"), {"shared": 1}),
    "reads": change(("network", "layers", 1, "reads"), [1]),
    "optimizer table": change(("parts", 4, "optimizer"), {"name": "adam", "beta1": Decimal("0.8")}),
    "compare_optimizer hyperparameters without a name": change(("parts", 9, "optimizer"), {"beta2": "0.99"}),
    "wrt": change(("parts", 4, "wrt"), ["W1", "b2"]),
    "frozen": change(("parts", 4, "frozen"), ["W1", "w2[1, 1]"]),
    "of": change(("parts", 3, "of"), "yhat"),
    "significant": change(("sheet",), {"significant": 3}),
    "notation": change(("notation",), {"z": "net", "a": "hat o", "style": "matrix"}),
    "mean loss": change(("loss", "reduction"), "mean"),
    "closed-form target": change(("parts", 0, "y"), "1 + sin(pi/3)"),
    "closed-form weight": change(("network", "layers", 0, "weights", 0, 0), "sqrt(2)/2"),
    "closed-form learning rate": change(("parts", 4, "learning_rate"), "exp(-2)"),
}
"""Forms the reader takes, each in the built-in example."""


@pytest.mark.parametrize("edit", FORMS.values(), ids=FORMS.keys())
def test_a_form_the_reader_takes_passes_the_schema(edit: Callable[[Data], None]) -> None:
    data = built_in()
    edit(data)
    assert reader_error(data) is None
    assert schema_errors(data) == []


def taplo() -> str:
    found = shutil.which("taplo", path=str(Path(sys.executable).parent)) or shutil.which("taplo")
    if found is None:
        pytest.skip("taplo is not installed (pip install taplo, in the dev extras)")
    return found


def test_taplo_checks_specs_against_the_shipped_schema(tmp_path: Path) -> None:
    """What an editor does: Taplo reads the schema named on a spec's first line (#:schema)."""
    (tmp_path / "spec.schema.json").write_text(shipped("spec"), encoding="utf-8")
    files = []
    for path in EXAMPLES:
        copy_ = tmp_path / f"{path.stem}.toml"
        copy_.write_text("#:schema ./spec.schema.json\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
        files.append(copy_.name)
    lint = [taplo(), "lint", "--no-auto-config", "--colors", "never"]
    done = subprocess.run([*lint, *files], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    text = example_path().read_text(encoding="utf-8").replace("[sheet]\n", '[sheet]\ntitel = "x"\n', 1)
    (tmp_path / "bad.toml").write_text("#:schema ./spec.schema.json\n" + text, encoding="utf-8")
    done = subprocess.run([*lint, "bad.toml"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "'titel' was unexpected" in done.stderr


def test_derive_schema_prints_or_writes_the_shipped_schemas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == SCHEMA
    assert main(["schema", "answers", "-o", str(tmp_path / "answers.json")]) == 0
    assert (tmp_path / "answers.json").read_text(encoding="utf-8") == shipped("answers")
    assert main(["schema", "answers", "-o", str(tmp_path / "no" / "answers.json")]) == 2
    assert "cannot write" in capsys.readouterr().err


DOC = ROOT / "docs" / "schema.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_docs_blocks_work_as_pasted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, taplo_config = blocks("toml")
    assert spec.startswith("#:schema ./spec.schema.json\n")
    assert schema_errors(tomllib.loads(spec)) == []
    parse_spec(spec, KINDS, name="week5")  # the reader takes it too
    assert tomllib.loads(taplo_config)["rule"][0]["schema"]["path"] == "./spec.schema.json"
    (settings,) = blocks("json")
    assert list(json.loads(settings)) == ["evenBetterToml.schema.associations"]
    (script,) = blocks("python")
    monkeypatch.chdir(tmp_path)
    exec(compile(script, "docs/schema.md", "exec"), {})
