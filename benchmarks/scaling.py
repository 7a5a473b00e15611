"""P3 and P4: exact derivation + verification + answers through the library, by network size and depth.

Usage: python benchmarks/scaling.py [--sizes 2,4,8,16,32] [--depths 2,4,8,16,32,50] [--runs 3] [--no-baseline]
Each size runs in a fresh process (median of --runs): time, time per parameter, peak memory.
The width series is W-W-W-1; the depth series a chain of 1×1 sigmoid layers (seconds per layer
should stay flat: linear in depth), then a 12-layer 8-wide network.
P4 compares 8-8-8-1 with the notebook approach, SymPy ``diff`` of the composed loss and
``xreplace`` of the numbers, measured in the same run. Prints; never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

CHILD = r"""
import json, random, resource, sys, time
width, shape = int(sys.argv[1]), sys.argv[3]
random.seed(width)

def matrix(rows, cols):
    row = lambda: "[" + ", ".join(f'"{random.randint(-9, 9)}/10"' for _ in range(cols)) + "]"
    return "[" + ", ".join(row() for _ in range(rows)) + "]"

# "width": W-W-W-1 from 2 inputs; "depth": a chain of W 1×1 layers; "deep": 11 layers of W and 1 output.
sizes = {"width": [width, width, width, 1], "depth": [1] * width, "deep": [width] * 11 + [1]}[shape]
text, previous = f"[network]\ninputs = {1 if shape == 'depth' else 2}\n", 1 if shape == "depth" else 2
for number, size in enumerate(sizes, 1):
    activation = "identity" if number == len(sizes) else "sigmoid"
    text += f'[[network.layers]]\nweights = {matrix(size, previous)}\nbias = {[0] * size}\n'
    text += f'activation = "{activation}"\n'
    previous = size
x = "[1]" if shape == "depth" else "[1, -1]"
text += f'[loss]\nname = "squared_error"\n[[parts]]\nkind = "update"\nx = {x}\ny = 1\nlearning_rate = "1/10"\n'
params = sum(r * c + r for r, c in zip(sizes, [1 if shape == "depth" else 2, *sizes]))
if sys.argv[2] == "derive":
    import derive
    from derive.render.answers import answers_json
    from derive.maths.solve import derive as solve
    spec = derive.parse_spec(text)
    started = time.perf_counter()
    solution = solve(spec)
    report = derive.verify(solution)
    answers_json(solution, 4)
    seconds = time.perf_counter() - started
else:  # the notebook approach: one composed expression, diff, xreplace
    import sympy as sp
    shapes = [(width, 2), (width, width), (width, width), (1, width)]
    spec_weights = [[[sp.Rational(random.randint(-9, 9), 10) for _ in range(c)] for _ in range(r)] for r, c in shapes]
    started = time.perf_counter()
    symbols, values, a = [], {}, [sp.Integer(1), sp.Integer(-1)]
    for layer, weights in enumerate(spec_weights):
        W = [[sp.Symbol(f"w{layer}_{j}_{k}") for k in range(len(weights[0]))] for j in range(len(weights))]
        b = [sp.Symbol(f"b{layer}_{j}") for j in range(len(weights))]
        for j, row in enumerate(weights):
            values[b[j]] = 0
            for k, w in enumerate(row):
                values[W[j][k]] = w
        symbols += [s for row in W for s in row] + b
        z = [sp.Add(*(W[j][k] * a[k] for k in range(len(a)))) + b[j] for j in range(len(W))]
        a = z if layer == 3 else [1 / (1 + sp.exp(-v)) for v in z]
    loss = (a[0] - 1) ** 2
    gradients = [sp.diff(loss, s).xreplace(values) for s in symbols]
    seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"params": params, "seconds": seconds, "peak_mib": peak}))
"""


def measure(width: int, engine: str, runs: int, shape: str = "width") -> dict[str, float]:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(width), engine, shape], capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout))
    return {
        "params": results[0]["params"],
        "seconds": statistics.median(r["seconds"] for r in results),
        "peak_mib": max(r["peak_mib"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2,4,8,16,32")
    parser.add_argument("--depths", default="2,4,8,16,32,50")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print("network        params   seconds   µs/param   peak MiB   (derive + verify + answers, one SGD step)")
    timings, peaks = {}, {}
    for width in (int(w) for w in args.sizes.split(",")):
        result = measure(width, "derive", args.runs)
        timings[width], peaks[width] = result["seconds"], result["peak_mib"]
        name = f"{width}-{width}-{width}-1"
        per = 1e6 * result["seconds"] / result["params"]
        print(f"{name:<14} {result['params']:>6} {result['seconds']:>9.3f} {per:>10.0f} {result['peak_mib']:>10.0f}")
    if 32 in timings:
        print(f"P3: 32-32-32-1 in {timings[32]:.2f} s, {peaks[32]:.0f} MiB (target <= 1.0 s, <= 150 MiB)")
    print("chain          layers   seconds   ms/layer   peak MiB   (1×1 sigmoid layers, one SGD step)")
    for depth in (int(d) for d in args.depths.split(",") if d):
        result = measure(depth, "derive", args.runs, "depth")
        per = 1e3 * result["seconds"] / depth
        print(f"{'1x' + str(depth):<14} {depth:>6} {result['seconds']:>9.3f} {per:>10.1f} {result['peak_mib']:>10.0f}")
        if depth == 50:
            print(f"P1: a chain of 50 sigmoid layers in {result['seconds']:.2f} s (target < 2 s)")
    if args.depths:
        deep = measure(8, "derive", args.runs, "deep")
        print(f"P1: 12 layers 8 wide ({deep['params']:.0f} parameters) in {deep['seconds']:.2f} s (target < 3 s)")
    if not args.no_baseline:
        baseline = measure(8, "sympy", 1)
        ours = timings.get(8) or measure(8, "derive", args.runs)["seconds"]
        print(
            f"P4: 8-8-8-1 SymPy diff + xreplace {baseline['seconds']:.2f} s vs derive {ours:.2f} s: "
            f"{baseline['seconds'] / ours:.1f}x faster (target >= 100x)"
        )


if __name__ == "__main__":
    main()
