"""Long training runs (``kind = "training_run"``): the exact first steps, the float64 tail compiled from
the exact engine's formulas, checked by the gate against the float engine's own run, and against a
PyTorch training loop (when torch is installed) to float tolerance."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import derive
from derive.errors import VerificationError
from derive.exercise.model import Spec
from derive.kinds import training_run
from derive.library import solve, verify
from derive.maths.steps import Finding, Plot, Solution, Table
from derive.pipeline import parse_spec
from derive.terms.keys import Scope, key
from derive.terms.symbols import LOSS, Sym, Updated, bias
from tests.test_spec import refusal

EXAMPLE = Path(__file__).parent.parent / "examples" / "training_run.toml"

HEAD = """
[network]
inputs = 2

[[network.layers]]
weights = [[1, -1], [2, 1]]
bias = [0, 0]
activation = "sigmoid"

[[network.layers]]
weights = [[1, -1]]
bias = ["1/2"]
activation = "identity"

[loss]
name = "squared_error"

[[parts]]
kind = "training_run"
"""


def spec_of(part: str) -> Spec:
    return parse_spec(HEAD + part, name="run")


def entries(spec: Spec) -> list[tuple[Sym, int, str, tuple[int, ...]]]:
    """(symbol, layer, kind, index) of every parameter entry."""
    found: list[tuple[Sym, int, str, tuple[int, ...]]] = []
    for l, layer in enumerate(spec.network.layers, 1):
        rows, cols = layer.shape
        found += [(Sym("w", l, (j + 1, k + 1)), l, "w", (j, k)) for j in range(rows) for k in range(cols)]
        found += [(bias(l).entry(j + 1), l, "b", (j,)) for j in range(rows)]
    return found


def table_of(solution: Solution, part: int) -> Table:
    return next(
        step
        for section in solution.part(part).sections
        for step in section.steps
        if isinstance(step, Table) and step.key == "run_losses"
    )


def test_the_example_runs_verify_and_tabulate_the_chosen_steps() -> None:
    spec = derive.load_spec(EXAMPLE)
    solution = solve(spec)  # the gate has checked every value against the float engine
    rows = [int(str(row[0])) for row in table_of(solution, 1).rows]
    assert rows == [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    assert [int(str(row[0])) for row in table_of(solution, 2).rows] == [0, 1, 10, 100, 1000, 10_000]
    # The first step is exact (worked by its formula), the later ones float64 decimals with no formula.
    first = solution[key(Scope.part(1), Updated(LOSS, 1))]
    assert not first.exact.is_Float and first.formula is not None
    last = solution[key(Scope.part(1), Updated(LOSS, 1000))]
    assert last.exact.is_Float and last.formula is None


def test_a_long_run_has_a_log_step_axis_of_bounded_points() -> None:
    solution = solve(derive.load_spec(EXAMPLE))
    plot = next(step for section in solution.part(2).sections for step in section.steps if isinstance(step, Plot))
    points = plot.series[0].points
    assert plot.log_x and len(points) <= training_run.PLOT_POINTS + 2
    assert points[0][0] == 1 and points[-1][0] == 10_000


def test_a_short_run_plots_every_step_on_a_linear_axis() -> None:
    solution = solve(
        spec_of('x = [1, -1]\ny = 1\nlearning_rate = "1/2"\noptimizer = "momentum"\nsteps = 40\nexact_steps = 0\n')
    )
    plot = next(step for section in solution.part(1).sections for step in section.steps if isinstance(step, Plot))
    assert not plot.log_x and [int(t) for t, _ in plot.series[0].points] == list(range(41))
    assert [int(str(row[0])) for row in table_of(solution, 1).rows] == [0, 1, 10, 40]


def test_the_derivations_floats_are_checked_by_the_float_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A float step that drifts from the engine's formulas by one part in a million is caught."""
    spec = spec_of('x = [1, -1]\ny = 2\nlearning_rate = "1/10"\nsteps = 300\n')
    honest = training_run.float_run

    def drifting(
        function: object, start: list[float], first: int, steps: int
    ) -> tuple[dict[int, float], list[float], int]:
        losses, values, last = honest(function, start, first, steps)
        return {t: v * (1 + 1e-6) for t, v in losses.items()}, values, last

    monkeypatch.setattr(training_run, "float_run", drifting)
    with pytest.raises(VerificationError, match="L_new"):
        solve(spec)


def test_a_diverging_run_stops_once_its_loss_runs_away() -> None:
    """Gradient descent on a linear model with too large a rate: the loss grows by a fixed factor per
    step until it passes 10^100, where the run stops (float64 follows a linear run's growth exactly
    enough to check; a chaotic one, through saturating units, the gate would refuse)."""
    linear = HEAD.replace('activation = "sigmoid"', 'activation = "identity"')
    solution = solve(parse_spec(linear + "x = [1, -1]\ny = 2\nlearning_rate = 3\nsteps = 5000\n", name="run"))
    summary = next(step for section in solution.part(1).sections for step in section.steps if isinstance(step, Finding))
    facts = dict(summary.facts)
    last = int(str(facts["steps"]))
    assert facts["stopped"] == "yes" and last < 5000
    assert float(solution[key(Scope.part(1), Updated(LOSS, last))].approx) > training_run.RUNAWAY


def test_ten_thousand_steps_take_seconds() -> None:
    """The float tail of a 10 000-step run of the example's network: the compiled step and the twin."""
    spec = spec_of('x = [1, -1]\ny = 2\nlearning_rate = "1/100"\noptimizer = "adam"\nsteps = 10000\nexact_steps = 0\n')
    began = time.perf_counter()
    verify(solve(spec))  # solving verifies once, and this twice: three runs of 10 000 steps
    assert time.perf_counter() - began < 60


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (
            "x = [1, -1]\ny = 1\nlearning_rate = 1\nsteps = 10001\n",
            "parts[1].steps: expected a whole number from 1 to 10000",
        ),
        (
            "x = [1, -1]\ny = 1\nlearning_rate = 1\nsteps = 2\nexact_steps = 3\n",
            "exact_steps: expected a whole number from 0 to 2",
        ),
        (
            "x = [1, -1]\ny = 1\nlearning_rate = 1\nsteps = 50\ntable_steps = [10, 60]\n",
            "table_steps: expected a whole number from 1 to 50",
        ),
        ("x = [1, -1]\ny = 1\nlearning_rate = 1\ntable_steps = []\n", "table_steps: expected a list of step numbers"),
        ("learning_rate = 1\n", "parts[1].x: missing"),
        ('x = [1, -1]\ny = 1\nlearning_rate = 1\nbatch_reduction = "sum"\n', "batch_reduction: it combines the losses"),
        (
            "x = [1, -1]\ny = 1\nlearning_rate = 1\nsamples = [{ x = [1, 0], y = 1 }, { x = [0, 1], y = 0 }]\n",
            "samples: give either samples or a sample",
        ),
        ("x = [1, -1]\ny = 1\n", "learning_rate: missing"),
    ],
)
def test_bad_runs_are_refused_in_one_line(part: str, message: str) -> None:
    assert message in refusal(HEAD + part)


def test_table_steps_are_bounded() -> None:
    steps = ", ".join(str(t) for t in range(1, 22))
    assert "at most 20 step numbers" in refusal(
        HEAD + f"x = [1, -1]\ny = 1\nlearning_rate = 1\ntable_steps = [{steps}]\n"
    )


# --- PyTorch as the oracle -------------------------------------------------------------------------

torch = pytest.importorskip("torch")


def torch_run(spec: Spec, part: int) -> tuple[dict[int, float], dict[str, float]]:
    """The part's run in PyTorch float64: the loss after every step and the parameters after the last."""
    run = spec.parts[part - 1].params
    assert isinstance(run, training_run.TrainingRun)
    layers = spec.network.layers
    weights = [
        torch.tensor([[float(w) for w in row] for row in layer.weights], dtype=torch.float64) for layer in layers
    ]
    biases = [torch.tensor([float(b) for b in layer.bias], dtype=torch.float64) for layer in layers]
    params = [t.requires_grad_() for pair in zip(weights, biases, strict=True) for t in pair]
    acts = {"sigmoid": torch.sigmoid, "identity": lambda z: z}
    samples = run.samples or (spec.parts[part - 1].sample,)
    xs = torch.tensor([[float(v) for v in s.x] for s in samples], dtype=torch.float64)
    ys = torch.tensor([[float(v) for v in s.y] for s in samples], dtype=torch.float64)
    hyper = {k: float(v) for k, v in run.training.hyperparameters.items()}
    rate = float(run.training.learning_rate)
    optimizer = (
        torch.optim.Adam(params, lr=rate, betas=(hyper["beta1"], hyper["beta2"]), eps=hyper["epsilon"])
        if run.training.optimizer.name == "adam"
        else torch.optim.SGD(params, lr=rate)
    )

    def loss() -> object:
        a = xs
        for w, b, layer in zip(weights, biases, layers, strict=True):
            a = acts[layer.activation.name](a @ w.T + b)
        per_sample = ((a - ys) ** 2).sum(dim=1)
        return per_sample.mean() if run.mean else per_sample.sum()

    losses = {}
    for t in range(run.steps + 1):
        optimizer.zero_grad()
        value = loss()
        losses[t] = float(value.detach())  # type: ignore[attr-defined]
        if t < run.steps:
            value.backward()  # type: ignore[attr-defined]
            optimizer.step()
    final = {}
    for symbol, l, kind, index in entries(spec):
        tensor = weights[l - 1] if kind == "w" else biases[l - 1]
        final[key(Scope.part(part), Updated(symbol, run.steps))] = float(tensor[index].detach())
    return losses, final


@pytest.mark.parametrize("part", [1, 2])
def test_the_example_runs_agree_with_pytorch(part: int) -> None:
    spec = derive.load_spec(EXAMPLE)
    solution = solve(spec)
    losses, final = torch_run(spec, part)
    for row in table_of(solution, part).rows:
        t, shown = int(str(row[0])), row[1]
        assert float(shown.approx) == pytest.approx(losses[t], rel=1e-6, abs=1e-12), t  # type: ignore[union-attr]
    for name, value in final.items():
        assert float(solution[name].approx) == pytest.approx(value, rel=1e-6, abs=1e-9), name
