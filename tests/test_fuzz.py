"""Property tests over generated specs: valid ones solve, verify and render; broken ones give one line.

``DERIVE_FUZZ_EXAMPLES`` sets the examples per property (default 500: 1 000 per run). The long
profile before a release: ``DERIVE_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derive
from derive.errors import DeriveError

EXAMPLES = int(os.environ.get("DERIVE_FUZZ_EXAMPLES", "500"))
# CI draws the same examples every run (a submission's result must not depend on luck); a
# developer's run and the long profile draw new ones each time.
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=os.environ.get("CI") == "true",
)

numbers = st.one_of(
    st.integers(-3, 3).map(str),
    st.sampled_from(['"1/2"', '"-1/3"', "0.25", '"3/2"', "-0.5"]),
)


@st.composite
def valid_specs(draw: st.DrawFn) -> str:
    inputs = draw(st.integers(1, 3))
    widths = [*draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)), draw(st.integers(1, 2))]
    output = draw(st.sampled_from(["identity", "sigmoid", "tanh"]))
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
    regression = draw(st.sampled_from(["squared_error", "half_squared_error", "custom"]))
    text += f'[loss]\nname = "{"binary_cross_entropy" if classify else regression}"\n'
    if not classify and regression == "custom":
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
            targets = [draw(st.sampled_from(["0", "1"])) if classify else draw(numbers) for _ in range(widths[-1])]
            text += f"x = [{x}]\ny = [{', '.join(targets)}]\n"
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
    solution = derive.solve(spec)  # raises if the gate finds any mismatch
    documents = derive.render(solution, 4)
    assert documents.solution.count(r"\section*{Part") == len(spec.parts)


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
