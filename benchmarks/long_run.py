"""Long training runs: the seconds a 10 000-step ``training_run`` takes, its float64 tail (the compiled
step) and the float engine's run that checks it, on the built-in example's network and a wider one.

Usage: python benchmarks/long_run.py [--steps 10000]. Prints; never asserts.
"""

from __future__ import annotations

import argparse
import time

import derive
from derive.kinds import training_run
from derive.maths.solve import derive as derive_only
from derive.verify.floats import extended

NETWORK = """
[network]
inputs = 2
[[network.layers]]
weights = {w1}
bias = {b1}
activation = "sigmoid"
[[network.layers]]
weights = {w2}
bias = [0]
activation = "identity"
[loss]
name = "squared_error"
[[parts]]
kind = "training_run"
learning_rate = "1/1000"
exact_steps = 0
"""
SAMPLE = "x = [1, -1]\ny = 1\n"
BATCH = "samples = [{ x = [0, 0], y = 0 }, { x = [1, 0], y = 1 }, { x = [0, 1], y = 1 }, { x = [1, 1], y = 0 }]\n"


def spec_text(width: int, data: str, optimizer: str, steps: int) -> str:
    w1 = [[(j + k) % 5 - 2 for k in range(2)] for j in range(width)]
    w2 = [[(j % 3) - 1 for j in range(width)]]
    part = f'{data}optimizer = "{optimizer}"\nsteps = {steps}\n'
    return NETWORK.format(w1=w1, b1=[0] * width, w2=w2) + part


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10_000)
    steps = parser.parse_args().steps
    print(f"{'network':>8} {'data':>8} {'optimizer':>9} {'derive (s)':>10} {'twin (s)':>9}")
    for width, (name, data), optimizer in [
        (2, ("sample", SAMPLE), "sgd"),
        (2, ("4 batch", BATCH), "adam"),
        (8, ("sample", SAMPLE), "adam"),
        (8, ("4 batch", BATCH), "adam"),
    ]:
        spec = derive.parse_spec(spec_text(width, data, optimizer, steps), name="run")
        began = time.perf_counter()
        derive_only(spec)  # the exact pass at the given parameters, the compiled step and its 10 000 runs
        derived = time.perf_counter() - began
        run = spec.parts[0].params
        samples = [(extended(s.x), extended(s.y)) for s in (run.samples or (spec.parts[0].sample,))]
        began = time.perf_counter()
        training_run.twin_run(spec.network, spec.loss, run, samples)
        twin = time.perf_counter() - began
        print(f"{f'2-{width}-1':>8} {name:>8} {optimizer:>9} {derived:10.2f} {twin:9.2f}")


if __name__ == "__main__":
    main()
