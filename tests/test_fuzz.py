"""Property tests over generated specs: valid ones solve, verify and render; broken ones give one line.

``DERIVE_FUZZ_EXAMPLES`` sets the examples per property (default 500: 1 000 per run). The long
profile before a release: ``DERIVE_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import os
import re
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derive
from derive.errors import DegenerateError, DeriveError

EXAMPLES = int(os.environ.get("DERIVE_FUZZ_EXAMPLES", "500"))
# CI draws the same examples every run (a submission's result must not depend on luck); a
# developer's run and the long profile draw new ones each time.
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=os.environ.get("CI") == "true",
)


def assert_out_of_reach(error: DegenerateError) -> None:
    """A generated run may leave what can be computed: σ saturated beyond the 40 digits carried, or
    a custom formula's value beyond float64 (10^300); each is a one-line refusal naming it."""
    message = str(error)
    assert "\n" not in message
    assert "saturated" in message or "float64 cannot check it" in message or "too large to evaluate" in message


numbers = st.one_of(
    st.integers(-3, 3).map(str),
    st.sampled_from(['"1/2"', '"-1/3"', "0.25", '"3/2"', "-0.5"]),
)


def targets(width: int, classify: bool, categorical: bool) -> st.SearchStrategy[str]:
    """y as the loss needs it: 0 or 1, a class (one-hot or its index), or any numbers."""
    if categorical:
        one_hot = [f"[{', '.join('1' if j == k else '0' for j in range(width))}]" for k in range(width)]
        return st.sampled_from([*one_hot, *map(str, range(1, width + 1))])
    entry = st.sampled_from(["0", "1"]) if classify else numbers
    return st.lists(entry, min_size=width, max_size=width).map(lambda ys: f"[{', '.join(ys)}]")


@st.composite
def valid_specs(draw: st.DrawFn) -> str:
    inputs = draw(st.integers(1, 3))
    widths = [*draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)), draw(st.integers(1, 2))]
    output = draw(st.sampled_from(["identity", "sigmoid", "tanh", "softmax"]))
    if output == "softmax" and widths[-1] == 1:
        widths[-1] = 2
    hidden = st.sampled_from(
        [
            '"sigmoid"',
            '"relu"',
            '"identity"',
            '{ name = "constant", c = 0 }',
            '"tanh"',
            '"softplus"',
            '{ name = "leaky_relu", slope = 0.1 }',
            '{ name = "custom", formula = "z^2/2 + sigmoid(z)" }',
        ]
    )
    text = "[network]\n"
    previous = inputs
    for number, width in enumerate(widths, 1):
        rows = [f"[{', '.join(draw(numbers) for _ in range(previous))}]" for _ in range(width)]
        activation = f'"{output}"' if number == len(widths) else draw(hidden)
        bias = ", ".join(draw(numbers) for _ in range(width))
        text += f"[[network.layers]]\nweights = [{', '.join(rows)}]\nbias = [{bias}]\nactivation = {activation}\n"
        previous = width
    classify = output == "sigmoid" and widths[-1] == 1 and draw(st.booleans())
    categorical = output == "softmax" and draw(st.booleans())
    regression = draw(st.sampled_from(["squared_error", "half_squared_error", "custom"]))
    loss = "binary_cross_entropy" if classify else "categorical_cross_entropy" if categorical else regression
    text += f'[loss]\nname = "{loss}"\n'
    if loss == "custom":
        text += 'formula = "(yhat - y)^2 + (yhat - y)^4/4"\n'
    if draw(st.booleans()):
        text += 'reduction = "mean"\n'
    for number in range(1, draw(st.integers(1, 3)) + 1):
        kind = draw(st.sampled_from(["forward", "gradients", "update"]))
        text += f'[[parts]]\nkind = "{kind}"\n'
        if number > 1 and draw(st.booleans()):
            text += f"use_sample_of = {draw(st.integers(1, number - 1))}\n"
        else:
            x = ", ".join(str(draw(st.integers(-2, 2))) for _ in range(inputs))
            text += f"x = [{x}]\ny = {draw(targets(widths[-1], classify, categorical))}\n"
        if kind == "update":
            optimizer = draw(
                st.sampled_from(
                    [
                        '"sgd"',
                        '"momentum"',
                        '{ name = "momentum_ema", beta = 0.5 }',
                        '"nesterov"',
                        '"rmsprop"',
                        '"adam"',
                    ]
                )
            )
            # RMSProp and Adam step about α per parameter (RMSProp's first step is α/√(1 − ρ) = 10α):
            # their rates are drawn smaller, as one would set them, so a step cannot saturate σ to
            # 45 digits (a spec that does gets a one-line DegenerateError; see test_degenerate).
            normalised = "rmsprop" in optimizer or "adam" in optimizer
            rate = draw(st.sampled_from(['"1/10"', '"1/100"'] if normalised else ['"1/2"', "0.1", "1"]))
            text += f"learning_rate = {rate}\noptimizer = {optimizer}\nsteps = {draw(st.integers(1, 2))}\n"
    return text


def network_of(text: str, until: str) -> tuple[str, int, int]:
    """A generated spec's text up to ``until``, and its network's numbers of inputs and outputs."""
    head = text[: text.index(until)]
    layers = tomllib.loads(head)["network"]["layers"]
    return head, len(layers[0]["weights"][0]), len(layers[-1]["weights"])


@st.composite
def batch_specs(draw: st.DrawFn) -> str:
    """A generated network and loss with one batch part (its own strategy: the draws above stay as they are)."""
    network, inputs, outputs = network_of(draw(valid_specs()), "[[parts]]")
    loss = network[network.index("[loss]") :]
    samples = []
    for _ in range(draw(st.integers(2, 3))):
        x = ", ".join(str(draw(st.integers(-2, 2))) for _ in range(inputs))
        y = draw(targets(outputs, "binary_cross_entropy" in loss, "categorical_cross_entropy" in loss))
        samples.append(f"{{ x = [{x}], y = {y} }}")
    mode = draw(st.sampled_from(["batch", "per_sample"]))
    optimizer = draw(st.sampled_from(['"sgd"', '"momentum"', '"adam"']))
    rate = '"1/100"' if "adam" in optimizer else draw(st.sampled_from(['"1/2"', "0.1"]))
    return (
        network
        + f'[[parts]]\nkind = "batch"\nsamples = [{", ".join(samples)}]\nmode = "{mode}"\n'
        + f'batch_reduction = "{draw(st.sampled_from(["mean", "sum"]))}"\n'
        + f"learning_rate = {rate}\noptimizer = {optimizer}\n"
    )


@st.composite
def output_specs(draw: st.DrawFn) -> str:
    """A generated network without a loss and one part differentiating one of its outputs (no loss)."""
    network, inputs, outputs = network_of(draw(valid_specs()), "[loss]")
    j = draw(st.integers(1, outputs))
    x = ", ".join(str(draw(st.integers(-2, 2))) for _ in range(inputs))
    depth = network.count("[[network.layers]]")
    names = ", ".join(f'"{kind}{l}"' for l in range(1, depth + 1) for kind in "Wb")
    of = "yhat" if outputs == 1 else f"yhat[{j}]"
    return network + f'[[parts]]\nkind = "gradients"\nof = "{of}"\nx = [{x}]\nwrt = [{names}, "x"]\n'


@st.composite
def skip_specs(draw: st.DrawFn) -> str:
    """A generated network whose layers read x and earlier layers stacked (skip connections),
    with a gradients part (the input's gradient included) and an optimizer step."""
    inputs = draw(st.integers(1, 3))
    widths = [*draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)), draw(st.integers(1, 2))]
    sizes = [inputs, *widths]
    text = "[network]\n"
    for l, width in enumerate(widths, 1):
        # The layer below is always read (every hidden output is used); earlier ones at random.
        earlier = draw(st.lists(st.integers(0, l - 2), unique=True, max_size=l - 1)) if l > 1 else []
        sources = sorted({*earlier, l - 1})
        columns = sum(sizes[k] for k in sources)
        rows = [f"[{', '.join(draw(numbers) for _ in range(columns))}]" for _ in range(width)]
        reads = ", ".join('"x"' if k == 0 else str(k) for k in sources)
        activation = '"identity"' if l == len(widths) else draw(st.sampled_from(['"sigmoid"', '"tanh"', '"relu"']))
        bias = ", ".join(draw(numbers) for _ in range(width))
        text += f"[[network.layers]]\nweights = [{', '.join(rows)}]\nbias = [{bias}]\nactivation = {activation}\n"
        text += f"reads = [{reads}]\n"
    x = ", ".join(str(draw(st.integers(-2, 2))) for _ in range(inputs))
    y = ", ".join(draw(numbers) for _ in range(widths[-1]))
    names = ", ".join(f'"{kind}{l}"' for l in range(1, len(widths) + 1) for kind in "Wb")
    optimizer = draw(st.sampled_from(['"sgd"', '"momentum"', '"adam"']))
    rate = '"1/100"' if "adam" in optimizer else '"1/10"'
    return (
        text
        + '[loss]\nname = "squared_error"\n'
        + f'[[parts]]\nkind = "gradients"\nx = [{x}]\ny = [{y}]\nwrt = [{names}, "x"]\n'
        + f'[[parts]]\nkind = "update"\nuse_sample_of = 1\nlearning_rate = {rate}\noptimizer = {optimizer}\n'
    )


@st.composite
def student_specs(draw: st.DrawFn) -> str:
    """A generated spec (one sample, a batch, or skip connections) under the student rounding policy,
    to places or to significant figures."""
    text = draw(st.one_of(valid_specs(), batch_specs(), skip_specs()))
    digits = draw(st.sampled_from([*(f"decimals = {n}" for n in (2, 4, 6)), "significant = 3", "significant = 5"]))
    return f'[sheet]\nrounding = "student"\n{digits}\n' + text


NAMES = {
    "x": ["i", "x"],
    "y": ["target", "t0", "y"],
    "yhat": ["o", "hat o", "yhat"],
    "z": ["net", "s", "z"],
    "a": ["out", "h", "a"],
    "W": ["V", "Theta"],
    "delta": ["d", "delta"],
    "L": ["E", "J"],
}


@st.composite
def named_specs(draw: st.DrawFn) -> str:
    """A generated spec with a [notation] table: some valid names, sometimes a clash or a bad one."""
    chosen = draw(st.dictionaries(st.sampled_from(sorted(NAMES)), st.just(""), max_size=len(NAMES)))
    lines = [f'{base} = "{draw(st.sampled_from(NAMES[base]))}"' for base in chosen]
    lines += draw(st.sampled_from([[], ['style = "neuron"'], ['style = "matrix"'], ['index_order = "from_to"']]))
    return "[notation]\n" + "".join(line + "\n" for line in lines) + draw(st.one_of(valid_specs(), skip_specs()))


MUTATIONS = [
    lambda text, i: text.replace("weights = [[", 'weights = [["one", ', 1),
    lambda text, i: text.replace("bias = [", 'bias = ["1/0", ', 1),
    lambda text, i: text.replace("x = [", "x = [inf, ", 1),
    lambda text, i: text.replace("bias = [", "bias = [0, ", 1),
    lambda text, i: text.replace('kind = "', 'kind = "x', 1),
    lambda text, i: text.replace("activation = ", "activation = 7 #", 1),
    lambda text, i: text.replace('name = "', 'name = "mean_', 1),
    lambda text, i: text.replace("[[network.layers]]\n", "[[network.layers]]\nweigths = 1\n", 1),
    lambda text, i: text.replace("y = [", "y = [true, ", 1),
    lambda text, i: text.replace("[loss]", "[loss]\nname2 = 1", 1),
    lambda text, i: "\n".join(line for n, line in enumerate(text.splitlines()) if n != i % max(1, text.count("\n"))),
    lambda text, i: text[: i % max(1, len(text))],
    lambda text, i: text.replace("y = [", "y = [[1], ", 1),
    lambda text, i: text.replace("use_sample_of = ", "use_sample_of = 9", 1),
    lambda text, i: text.replace("learning_rate = ", "learning_rate = -", 1),
    lambda text, i: text + "[sheet]\ntitle = 'a\\u0007b'\n",
    lambda text, i: text + "[sheet]\ndecimals = 99\n",
    lambda text, i: text.replace("weights = [[", "weights = [[1e999, ", 1),
]


@SETTINGS
@given(valid_specs())
def test_valid_specs_solve_verify_and_render(text: str) -> None:
    spec = derive.parse_spec(text, name="fuzz")
    try:
        solution = derive.solve(spec)  # raises if the gate finds any mismatch
    except DegenerateError as error:
        # Unbounded ReLU layers under a large adaptive step can saturate σ beyond the 40 digits
        # carried; then the one-line refusal is the right answer (test_degenerate checks it).
        assert_out_of_reach(error)
        return
    documents = derive.render(solution, 4)
    assert documents.solution.count(r"\section*{Part") == len(spec.parts)


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 10))
@given(batch_specs())
def test_batch_specs_solve_verify_and_render(text: str) -> None:
    spec = derive.parse_spec(text, name="fuzz")
    try:
        solution = derive.solve(spec)  # the gate checks every sample's values and the batch's
    except DegenerateError as error:
        assert_out_of_reach(error)
        return
    assert r"\deriveheading{Sample 2}" in derive.render(solution, 4).solution


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 10))
@given(output_specs())
def test_output_specs_solve_verify_and_render(text: str) -> None:
    spec = derive.parse_spec(text, name="fuzz")
    solution = derive.solve(spec)  # the gate checks ∂ŷ_j/∂θ against finite differences of ŷ_j itself
    assert "the seed" in derive.render(solution, 4).solution
    assert not any(q.key.endswith(".L") for q in solution.quantities())


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 10))
@given(skip_specs())
def test_skip_specs_solve_verify_and_render(text: str) -> None:
    spec = derive.parse_spec(text, name="fuzz")
    solution = derive.solve(spec)  # the gate checks every gradient along every path by finite differences
    assert r"\section*{Part 2}" in derive.render(solution, 4).solution


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 5))
@given(student_specs())
def test_student_specs_solve_verify_and_render(text: str) -> None:
    spec = derive.parse_spec(text, name="fuzz")
    try:
        solution = derive.solve(spec)  # the gate: the rounded twin, and differences of the unrounded
    except DegenerateError as error:
        # Rounded to few digits a probability can become exactly 0 or 1 (log 0, a division by 0):
        # the refusal is one line naming the value.
        assert "\n" not in str(error) and str(error).startswith("p")
        return
    assert "as soon as it is computed" in derive.render(solution, 4).solution
    assert all(q.carry is not None for q in solution.quantities() if q.key.startswith("p"))


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 10))
@given(named_specs())
def test_named_specs_render_in_their_names_or_refuse_in_one_line(text: str) -> None:
    try:
        spec = derive.parse_spec(text, name="fuzz")
    except DeriveError as error:  # "t0" is not a name; two quantities may have drawn the same one
        # (neuron notation also refuses the unit letters h and o, and an extra layer's renumbering)
        assert "\n" not in str(error) and (": notation." in str(error) or "extra_layer is not available" in str(error))
        return
    try:
        documents = derive.render(derive.solve(spec), 4)
    except DegenerateError as error:
        assert_out_of_reach(error)
        return
    assert not re.search(r"\^\{[^{}]*\}(\^|')", documents.solution)  # no double superscript (W^T, w')
    if 'style = "neuron"' in text:  # every entry numbered or named by its unit
        assert not re.search(r"(?<!\\bar\{g\})\^\{(\[\d+\])?\(\d+\)", documents.solution)


@SETTINGS
@given(valid_specs(), st.sampled_from(range(len(MUTATIONS))), st.integers(0, 10_000))
def test_broken_specs_give_one_line_and_never_a_traceback(text: str, mutation: int, where: int) -> None:
    broken = MUTATIONS[mutation](text, where)
    try:
        solution = derive.solve(derive.parse_spec(broken, name="fuzz"))
    except DeriveError as error:
        message = str(error)
        assert message and "\n" not in message and "Traceback" not in message
    else:  # some mutations leave a valid spec (a deleted optional line): then it must really be valid
        derive.render(solution, 4)
