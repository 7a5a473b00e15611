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
from derive.exercise.model import Spec, Training
from derive.terms.symbols import LOSS, Partial, Stat, Sym, Updated, bias
from tests.sheets import single

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
    if name == "adagrad":  # no learning-rate decay, r_0 = 0: the catalogue's
        return torch.optim.Adagrad(params, lr=rate, eps=hyper["epsilon"])
    return None  # momentum_ema: PyTorch's dampening skips the first step, so it is not this convention


def _cases(kind: str) -> list[tuple[Path, int]]:
    """(example, part number) of every part of ``kind`` in the examples."""
    return [
        (path, part.number)
        for path in single(sorted(EXAMPLES.glob("*.toml")))
        for part in derive.load_spec(path).parts
        # PyTorch does not round as a student does: the float twin checks the student policy.
        if part.kind.name == kind and derive.load_spec(path).sheet.rounding == "exact"
    ]


Setup = tuple[Spec, Any, list[Any], Any, dict[str, float], list[Any], list[Any]]


def _training(part: Any) -> Training | None:
    """The optimizer setup of an update part (its parameters) or a batch part (within them)."""
    return part.params if isinstance(part.params, Training) else getattr(part.params, "training", None)


def _setup(path: Path, number: int) -> Setup:
    """The spec, the part, PyTorch's activations and loss, the hyperparameters, and W, b as leaf tensors."""
    spec: Spec = derive.load_spec(path)
    part = spec.parts[number - 1]
    acts = [_activation(layer.activation.name, dict(layer.activation.params)) for layer in spec.network.layers]
    loss = _loss(spec.loss.name, float(spec.loss.scale))
    training = _training(part)
    hyper = {k: float(v) for k, v in training.hyperparameters.items()} if training else {}
    weights = [
        torch.tensor([[float(w) for w in row] for row in layer.weights], dtype=torch.float64, requires_grad=True)
        for layer in spec.network.layers
    ]
    biases = [  # a layer without a bias: a constant 0, which PyTorch does not update either
        torch.tensor(
            float(layer.bias[0]) if layer.shared_bias else [float(b) for b in layer.bias],  # shared: one scalar
            dtype=torch.float64,
            requires_grad=layer.has_bias,
        )
        for layer in spec.network.layers
    ]
    return spec, part, acts, loss, hyper, weights, biases


def _close(exact: Any, value: float) -> None:
    assert float(exact) == pytest.approx(value, rel=REL, abs=1e-12)


@pytest.mark.parametrize(("path", "number"), _cases("update"), ids=lambda c: c.stem if isinstance(c, Path) else str(c))
def test_gradients_and_steps_agree_with_pytorch(path: Path, number: int) -> None:
    spec, part, acts, loss, hyper, weights, biases = _setup(path, number)
    training = _training(part)
    assert part.sample is not None and training is not None
    optimizer = _optimizer(training.optimizer.name, [*weights, *biases], float(training.learning_rate), hyper)
    if None in acts or loss is None or optimizer is None:
        pytest.skip("a custom formula or a convention PyTorch has no built-in for")
    x = torch.tensor([float(v) for v in part.sample.x], dtype=torch.float64)
    y = torch.tensor([float(v) for v in part.sample.y], dtype=torch.float64)
    solution = derive.solve(spec)
    prefix = f"p{number}."
    for t in range(1, training.steps + 1):
        optimizer.zero_grad()
        value = loss(_forward(spec, x, weights, biases, acts), y)
        value.backward()
        if t == 1:
            # An update part may reuse the gradients an earlier part computed for the same sample.
            grads = next(
                p for p in (prefix, *(f"p{k}." for k in range(number - 1, 0, -1))) if p + "dL/dw1[1,1]" in solution
            )
            for l, (w, b) in enumerate(zip(weights, biases, strict=True), 1):
                for (j, k), g in _entries(w.grad):
                    _close(solution[grads + Partial(LOSS, Sym("w", l, (j, k))).key].approx, g)
                for index, g in _entries(b.grad) if b.requires_grad else ():
                    _close(solution[grads + Partial(LOSS, _bias(l, index)).key].approx, g)
        with torch.no_grad():  # frozen entries: their gradients masked to 0, as one freezes single entries in PyTorch
            for key in training.frozen:
                tensor, index = _place(key, weights, biases)
                tensor.grad[index] = 0.0
            for group in training.tied:  # one shared parameter: every use steps with the sum of the uses' gradients
                places = [_place(key, weights, biases) for key in group]
                total = sum(float(tensor.grad[index]) for tensor, index in places)
                for tensor, index in places:
                    tensor.grad[index] = total
        optimizer.step()
        for l, (w, b) in enumerate(zip(weights, biases, strict=True), 1):
            for (j, k), v in _entries(w.detach()):
                _close(solution[prefix + Updated(Sym("w", l, (j, k)), t).key].approx, v)
            for index, v in _entries(b.detach()) if b.requires_grad else ():
                _close(solution[prefix + Updated(_bias(l, index), t).key].approx, v)


@pytest.mark.parametrize(("path", "number"), _cases("batch"), ids=lambda c: c.stem if isinstance(c, Path) else str(c))
def test_batch_gradients_and_steps_agree_with_pytorch(path: Path, number: int) -> None:
    spec, part, acts, loss, hyper, weights, biases = _setup(path, number)
    training = _training(part)
    assert None not in acts and loss is not None
    tensors = [*weights, *biases]
    depth = len(spec.network.layers)
    samples = [
        (
            torch.tensor([float(v) for v in s.x], dtype=torch.float64),
            torch.tensor([float(v) for v in s.y], dtype=torch.float64),
        )
        for s in part.params.samples
    ]
    scale = 1 / len(samples) if part.params.mean else 1.0
    solution = derive.solve(spec)
    prefix = f"p{number}."

    def sample_loss(n: int) -> Any:
        x, y = samples[n - 1]
        return loss(_forward(spec, x, tensors[:depth], tensors[depth:], acts), y)

    def compare(num: Sym, key_prefix: str, t: int | None) -> None:
        for l in range(1, depth + 1):
            w, b = tensors[l - 1], tensors[depth + l - 1]
            for (j, k), v in _entries(w.grad if t is None else w.detach()):
                symbol = Sym("w", l, (j, k))
                _close(solution[key_prefix + (Partial(num, symbol) if t is None else Updated(symbol, t)).key].approx, v)
            for index, v in _entries(b.grad if t is None else b.detach()) if b.requires_grad else ():
                symbol = _bias(l, index)
                _close(solution[key_prefix + (Partial(num, symbol) if t is None else Updated(symbol, t)).key].approx, v)

    if training is None:  # the gradients only: the asked parameters' batch gradient, each sample's ∂L_n/∂x
        (scale * sum(sample_loss(n) for n in range(1, len(samples) + 1))).backward()
        asked = [name for name in part.params.wrt if name != "x"]
        for l in range(1, depth + 1):
            w, b = tensors[l - 1], tensors[depth + l - 1]
            for (j, k), v in _entries(w.grad) if f"W{l}" in asked else ():
                _close(solution[prefix + Partial(LOSS, Sym("w", l, (j, k))).key].approx, v)
            for index, v in _entries(b.grad) if f"b{l}" in asked else ():
                _close(solution[prefix + Partial(LOSS, _bias(l, index)).key].approx, v)
        for n, (x, y) in enumerate(samples, 1) if "x" in part.params.wrt else ():
            x.requires_grad_(True)
            loss(_forward(spec, x, tensors[:depth], tensors[depth:], acts), y).backward()
            for (k,), v in _entries(x.grad):
                _close(solution[f"{prefix}s{n}." + Partial(Sym("L", None, (n,)), Sym("x", None, (k,))).key].approx, v)
        return
    optimizer = _optimizer(training.optimizer.name, tensors, float(training.learning_rate), hyper)
    if part.params.mode == "batch":
        for t in range(1, training.steps + 1):  # each step (epoch) from the parameters the one before left
            optimizer.zero_grad()
            (scale * sum(sample_loss(n) for n in range(1, len(samples) + 1))).backward()
            compare(LOSS, prefix if t == 1 else f"{prefix}t{t}.", None)
            optimizer.step()
            compare(LOSS, prefix, t)
        times = training.steps
    else:
        for n in range(1, len(samples) + 1):
            optimizer.zero_grad()
            sample_loss(n).backward()
            compare(Sym("L", None, (n,)), f"{prefix}s{n}.", None)
            optimizer.step()
            compare(LOSS, prefix, n)
        times = len(samples)
    with torch.no_grad():
        after = scale * sum(sample_loss(n) for n in range(1, len(samples) + 1))
    _close(solution[prefix + Updated(LOSS, times).key].approx, float(after))


@pytest.mark.parametrize(
    ("path", "number"),
    [(path, number) for path, number in _cases("gradients") if derive.load_spec(path).parts[number - 1].output],
    ids=lambda c: c.stem if isinstance(c, Path) else str(c),
)
def test_gradients_of_an_output_agree_with_pytorch(path: Path, number: int) -> None:
    """No loss: PyTorch's ``ŷ_j.backward()`` (seed 1) against the engine's ∂ŷ_j/∂θ and ∂ŷ_j/∂x."""
    spec, part, acts, _, _, weights, biases = _setup(path, number)
    assert part.sample is not None and part.output is not None and None not in acts
    x = torch.tensor([float(v) for v in part.sample.x], dtype=torch.float64, requires_grad=True)
    _forward(spec, x, weights, biases, acts)[part.output - 1].backward()
    solution = derive.solve(spec)
    of = Sym("yhat", None, (part.output,))
    names = part.params.wrt or spec.network.parameter_names()
    compared = 0
    for l, (w, b) in enumerate(zip(weights, biases, strict=True), 1):
        for (j, k), g in _entries(w.grad) if f"W{l}" in names else ():
            _close(solution[f"p{number}." + Partial(of, Sym("w", l, (j, k))).key].approx, g)
            compared += 1
        for index, g in _entries(b.grad) if f"b{l}" in names else ():
            _close(solution[f"p{number}." + Partial(of, _bias(l, index)).key].approx, g)
            compared += 1
    for (k,), g in _entries(x.grad) if "x" in names else ():
        _close(solution[f"p{number}." + Partial(of, Sym("x", None, (k,))).key].approx, g)
        compared += 1
    assert compared >= 6


def _forward(spec: Spec, x: Any, weights: list[Any], biases: list[Any], acts: list[Any]) -> Any:
    """ŷ in PyTorch; a layer with skip connections reads its sources concatenated (torch.cat)."""
    outputs = [x]
    for l, (w, b, f) in enumerate(zip(weights, biases, acts, strict=True), 1):
        stacked = torch.cat([outputs[k] for k in spec.network.sources(l)])
        outputs.append(f(w @ stacked + b))
    return outputs[-1]


def _bias(layer: int, index: tuple[int, ...]) -> Sym:
    """b^{(l)}_j, or b^{(l)} itself for a shared bias (a 0-dimensional tensor)."""
    return bias(layer).entry(*index) if index else bias(layer)


def _place(key: str, weights: list[Any], biases: list[Any]) -> tuple[Any, tuple[int, ...]]:
    """The tensor and 0-based index of an entry key such as ``w1[1,2]``."""
    layer, index = int(key[1 : key.index("[")]), key[key.index("[") + 1 : -1].split(",")
    tensor = weights[layer - 1] if key[0] == "w" else biases[layer - 1]
    assert tensor.grad is not None
    return tensor, tuple(int(i) - 1 for i in index)


def _entries(tensor: Any) -> list[tuple[tuple[int, ...], float]]:
    return [(tuple(i + 1 for i in index), float(tensor[index])) for index in _indices(tuple(tensor.shape))]


def _indices(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    if not shape:
        return [()]
    return [(i, *rest) for i in range(shape[0]) for rest in _indices(shape[1:])]


STATE_NAMES = {
    "adam": {"m": "exp_avg", "v": "exp_avg_sq"},
    "momentum": {"v": "momentum_buffer"},
    "nesterov": {"v": "momentum_buffer"},
    "rmsprop": {"s": "square_avg"},
    "adagrad": {"r": "sum"},
}
"""Each catalogue optimizer's state by PyTorch's name for it in ``optimizer.state[p]``."""


@pytest.mark.parametrize(
    ("path", "number"), _cases("optimizer_step"), ids=lambda c: c.stem if isinstance(c, Path) else str(c)
)
def test_a_step_on_given_parameters_and_state_agrees_with_torch_optim(path: Path, number: int) -> None:
    """The given parameters, gradients (``.grad``), state and step t − 1 set in torch.optim's state
    dict, one ``optimizer.step()``: the new parameters and state are the engine's."""
    spec = derive.load_spec(path)
    given = spec.parts[number - 1].params
    training, t = given.training, given.t
    hyper = {k: float(v) for k, v in training.hyperparameters.items()}
    tensors = {
        name: torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64, requires_grad=True)
        for name, rows in given.parameters
    }
    optimizer = _optimizer(training.optimizer.name, list(tensors.values()), float(training.learning_rate), hyper)
    if optimizer is None:
        pytest.skip("a convention PyTorch has no built-in for")
    gradients = dict(given.gradients)
    for name, p in tensors.items():
        p.grad = torch.tensor([[float(v) for v in row] for row in gradients[name]], dtype=torch.float64)
        if t > 1 and training.optimizer.state:
            state = optimizer.state[p]
            for kept, torch_name in STATE_NAMES[training.optimizer.name].items():
                rows = given.state_of(kept, name)
                state[torch_name] = (
                    torch.zeros_like(p.detach())
                    if rows is None
                    else torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64)
                )
            if training.optimizer.name != "momentum" and training.optimizer.name != "nesterov":
                state["step"] = torch.tensor(float(t - 1))
    optimizer.step()
    solution = derive.solve(spec)
    prefix = f"p{number}."
    for name, p in tensors.items():
        layer = int(name[1:])
        for (i, j), v in _entries(p.detach()):
            symbol = Sym("w", layer, (i, j)) if name[0] == "W" else bias(layer).entry(i)
            _close(solution[prefix + Updated(symbol, t).key].approx, v)
            for kept, torch_name in STATE_NAMES.get(training.optimizer.name, {}).items():
                _close(
                    solution[prefix + Stat(kept, symbol, t).key].approx,
                    float(optimizer.state[p][torch_name][i - 1, j - 1]),
                )
