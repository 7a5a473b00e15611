"""PyTorch autograd and torch.optim as a further oracle, when torch is installed (an optional extra).

The engine's exact gradients and optimizer steps must agree with what PyTorch computes in
float64 for the same spec: PyTorch is the reference most students check their work against.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import derive
from derive.notation import LOSS, Partial, Sym, Updated, bias
from derive.spec import Spec

torch = pytest.importorskip("torch")

EXAMPLES = Path(__file__).parent.parent / "examples"
REL = 1e-9


def _activation(name: str, params: dict[str, Any]) -> Callable[[Any], Any] | None:
    table: dict[str, Callable[[Any], Any]] = {
        "identity": lambda z: z,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "softplus": torch.nn.functional.softplus,
        "softmax": lambda z: torch.softmax(z, 0),
    }
    if name == "leaky_relu":
        return lambda z: torch.nn.functional.leaky_relu(z, float(params["slope"]))
    return table.get(name)


def _loss(name: str, scale: float) -> Callable[[Any, Any], Any] | None:
    table: dict[str, Callable[[Any, Any], Any]] = {
        "squared_error": lambda p, y: ((p - y) ** 2).sum(),
        "half_squared_error": lambda p, y: 0.5 * ((p - y) ** 2).sum(),
        "binary_cross_entropy": lambda p, y: torch.nn.functional.binary_cross_entropy(p, y, reduction="sum"),
        "categorical_cross_entropy": lambda p, y: -(y * torch.log(p)).sum(),
    }
    fn = table.get(name)
    return None if fn is None else (lambda p, y: scale * fn(p, y))


def _optimizer(name: str, params: list[Any], rate: float, hyper: dict[str, float]) -> Any:
    if name == "sgd":
        return torch.optim.SGD(params, lr=rate)
    if name in ("momentum", "nesterov"):  # PyTorch's convention v = βv + g is the catalogue's
        return torch.optim.SGD(params, lr=rate, momentum=hyper["beta"], nesterov=name == "nesterov")
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=rate, alpha=hyper["rho"], eps=hyper["epsilon"])
    if name == "adam":
        return torch.optim.Adam(params, lr=rate, betas=(hyper["beta1"], hyper["beta2"]), eps=hyper["epsilon"])
    return None  # momentum_ema: PyTorch's dampening skips the first step, so it is not this convention


def _cases() -> list[tuple[Path, int]]:
    cases = []
    for path in sorted(EXAMPLES.glob("*.toml")):
        spec = derive.load_spec(path)
        cases += [(path, part.number) for part in spec.parts if part.kind == "update"]
    return cases


def _close(exact: Any, value: float) -> None:
    assert float(exact) == pytest.approx(value, rel=REL, abs=1e-12)


@pytest.mark.parametrize(("path", "number"), _cases(), ids=lambda c: c.stem if isinstance(c, Path) else str(c))
def test_gradients_and_steps_agree_with_pytorch(path: Path, number: int) -> None:
    spec: Spec = derive.load_spec(path)
    part = spec.parts[number - 1]
    acts = [_activation(layer.activation.name, dict(layer.activation.params)) for layer in spec.network.layers]
    loss = _loss(spec.loss.name, float(spec.loss.scale))
    assert part.optimizer is not None and part.learning_rate is not None and part.sample is not None
    hyper = {k: float(v) for k, v in {**part.optimizer.hyper, **dict(part.hyper)}.items()}
    weights = [
        torch.tensor([[float(w) for w in row] for row in layer.weights], dtype=torch.float64, requires_grad=True)
        for layer in spec.network.layers
    ]
    biases = [
        torch.tensor([float(b) for b in layer.bias], dtype=torch.float64, requires_grad=True)
        for layer in spec.network.layers
    ]
    optimizer = _optimizer(part.optimizer.name, [*weights, *biases], float(part.learning_rate), hyper)
    if None in acts or loss is None or optimizer is None:
        pytest.skip("a custom formula or a convention PyTorch has no built-in for")
    x = torch.tensor([float(v) for v in part.sample.x], dtype=torch.float64)
    y = torch.tensor([float(v) for v in part.sample.y], dtype=torch.float64)
    solution = derive.solve(spec)
    prefix = f"p{number}."
    for t in range(1, part.steps + 1):
        optimizer.zero_grad()
        a = x
        for w, b, f in zip(weights, biases, acts, strict=True):
            a = f(w @ a + b)  # type: ignore[misc]
        value = loss(a, y)
        value.backward()
        if t == 1:
            # An update part may reuse the gradients an earlier part computed for the same sample.
            grads = next(
                p for p in (prefix, *(f"p{k}." for k in range(number - 1, 0, -1))) if p + "dL/db1[1]" in solution
            )
            for l, (w, b) in enumerate(zip(weights, biases, strict=True), 1):
                for (j, k), g in _entries(w.grad):
                    _close(solution[grads + Partial(LOSS, Sym("w", l, (j, k))).key].exact, g)
                for (j,), g in _entries(b.grad):
                    _close(solution[grads + Partial(LOSS, bias(l).entry(j)).key].exact, g)
        with torch.no_grad():  # frozen entries: their gradients masked to 0, as one freezes single entries in PyTorch
            for key in part.frozen:
                layer, index = int(key[1 : key.index("[")]), key[key.index("[") + 1 : -1].split(",")
                tensor = weights[layer - 1] if key[0] == "w" else biases[layer - 1]
                assert tensor.grad is not None
                tensor.grad[tuple(int(i) - 1 for i in index)] = 0.0
        optimizer.step()
        for l, (w, b) in enumerate(zip(weights, biases, strict=True), 1):
            for (j, k), v in _entries(w.detach()):
                _close(solution[prefix + Updated(Sym("w", l, (j, k)), t).key].approx, v)
            for (j,), v in _entries(b.detach()):
                _close(solution[prefix + Updated(bias(l).entry(j), t).key].approx, v)


def _entries(tensor: Any) -> list[tuple[tuple[int, ...], float]]:
    return [(tuple(i + 1 for i in index), float(tensor[index])) for index in _indices(tuple(tensor.shape))]


def _indices(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    if not shape:
        return [()]
    return [(i, *rest) for i in range(shape[0]) for rest in _indices(shape[1:])]
