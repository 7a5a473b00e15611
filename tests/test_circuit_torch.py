"""Every circuit example against PyTorch autograd in float64 (when torch is installed): f and its
gradient with respect to every variable, the function evaluated from the spec's own text."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

import derive

torch = pytest.importorskip("torch")

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("circuit_*.toml"))
REL = 1e-9
ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
FUNCTIONS = {
    "max": torch.maximum,
    "min": torch.minimum,
    "exp": torch.exp,
    "log": torch.log,
    "ln": torch.log,
    **ACTIVATIONS,
}


def _number(value: object) -> float:
    if isinstance(value, str) and "/" in value:
        top, bottom = value.split("/")
        return float(top) / float(bottom)
    return float(value)  # type: ignore[arg-type]


def _leaves(values: dict[str, object]) -> dict[str, Any]:
    return {n: torch.tensor(_number(v), dtype=torch.float64, requires_grad=True) for n, v in values.items()}


def torch_part(part: dict[str, Any]) -> tuple[float, dict[str, float]]:
    """f and ∂f/∂variable by PyTorch, from the part's table as the spec file writes it."""
    if "neuron" in part:
        neuron = part["neuron"]
        first = neuron.get("index_from", 1)
        names = {f"w{first + i}": w for i, w in enumerate(neuron["w"])}
        names |= {f"x{first + i}": x for i, x in enumerate(neuron["x"])}
        if "b" in neuron:
            names["b"] = neuron["b"]
        leaves = _leaves(names)
        total = sum(leaves[f"w{first + i}"] * leaves[f"x{first + i}"] for i in range(len(neuron["w"])))
        if "b" in neuron:
            total = total + leaves["b"]
        f = ACTIVATIONS[neuron.get("activation", "sigmoid")](total)
    else:
        leaves = _leaves(part["values"])
        # The test's own reading of the formula: Python's, with PyTorch's functions and the variables.
        f = eval(part["expression"].replace("^", "**"), {"__builtins__": {}}, {**FUNCTIONS, **leaves})
    f.backward()
    return f.item(), {name: leaf.grad.item() for name, leaf in leaves.items()}


def _key(name: str) -> str:
    return name[0] + (f"[{name[1:]}]" if name[1:] else "")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_circuit_example_agrees_with_autograd(path: Path) -> None:
    solution = derive.solve(derive.load_spec(path))
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    for number, part in enumerate(table["parts"], 1):
        f, gradients = torch_part(part)
        assert float(solution[f"p{number}.f"].approx) == pytest.approx(f, rel=REL, abs=1e-12)
        for name, gradient in gradients.items():
            found = float(solution[f"p{number}.df/d{_key(name)}"].approx)
            assert found == pytest.approx(gradient, rel=REL, abs=1e-12), (path.stem, number, name)
