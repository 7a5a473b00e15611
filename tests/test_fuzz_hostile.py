"""Property tests over hostile specs: huge and tiny numbers, formulas, deep nesting, long lists.

Each generated spec either builds (solved, verified, rendered) or is refused with one line naming
what is wrong; none may hang, exhaust memory or end in a traceback. A watchdog (SIGALRM, the tests
run in the main thread) turns a hang into a failure naming the spec instead of a stuck run.
``DERIVE_FUZZ_EXAMPLES`` scales the examples as in ``test_fuzz`` (the long profile: 5000).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from hypothesis import given, settings
from hypothesis import strategies as st

import derive
from derive.errors import DeriveError
from tests.test_fuzz import EXAMPLES, SETTINGS, valid_specs

HOSTILE = settings(SETTINGS, max_examples=max(1, EXAMPLES // 10))
SECONDS = 30
"""Longest one generated spec may take to build or be refused (a legal spec takes about a second)."""


class Hang(Exception):
    """The spec took longer than SECONDS."""


@contextmanager
def watchdog(text: str) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {SECONDS} s for the spec:\n{text[:2000]}")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def builds_or_refuses_in_one_line(text: str) -> None:
    """The property every hostile spec must have."""
    with watchdog(text):
        try:
            solution = derive.solve(derive.parse_spec(text, name="fuzz"))
            derive.render(solution, 4)
        except DeriveError as error:
            message = str(error)
            assert message and "\n" not in message and "Traceback" not in message, message
        except (RecursionError, MemoryError, OverflowError, ValueError, TypeError, ArithmeticError) as error:
            raise AssertionError(f"{type(error).__name__} instead of a one-line refusal: {error!s:.300}") from None


# --- numbers: huge, tiny, long, in every notation ---------------------------------------------------

huge_numbers = st.one_of(
    st.integers(20, 6000).map(lambda n: "9" * n),  # a bare TOML integer of n digits
    st.integers(20, 6000).map(lambda n: f'"1/{"7" * n}"'),  # a huge denominator
    st.integers(20, 6000).map(lambda n: f'"{"3" * n}/7"'),
    st.integers(20, 6000).map(lambda n: f'"0.{"1" * n}"'),  # a decimal of n digits
    st.integers(30, 99_999_999).map(lambda e: f'"1e{e}"'),
    st.integers(30, 99_999_999).map(lambda e: f'"1e-{e}"'),
    st.integers(30, 9999).map(lambda e: f"1e{e}"),  # a TOML float: Decimal, exactly
    st.integers(30, 9999).map(lambda e: f"1e-{e}"),
    st.sampled_from(["1.7976931348623157e308", "5e-324", '"-0"', "-0.0", '"  1/2  "', '"1e0/1e0"', '"0x10"']),
)


@st.composite
def huge_number_specs(draw: st.DrawFn) -> str:
    """A valid spec with one of its numbers (weight, bias, input, target, rate) replaced by a hostile one."""
    text = draw(valid_specs())
    anchors = [a for a in ("weights = [[", "bias = [", "x = [", "y = [", "learning_rate = ") if a in text]
    anchor = draw(st.sampled_from(anchors))
    start = text.index(anchor) + len(anchor)
    end = min(i for i in (text.find(c, start) for c in ",]\n") if i >= 0)
    return text[:start] + draw(huge_numbers) + text[end:]


@HOSTILE
@given(huge_number_specs())
def test_huge_and_tiny_numbers_build_or_refuse_in_one_line(text: str) -> None:
    builds_or_refuses_in_one_line(text)


# --- formulas: custom activations and losses ----------------------------------------------------------


@st.composite
def formulas(draw: st.DrawFn, variables: tuple[str, ...], depth: int = 0) -> str:
    """A formula in the spec's syntax: functions, powers, huge constants, undefined points."""
    if depth >= draw(st.integers(1, 6)):
        return draw(
            st.one_of(
                st.sampled_from(variables),
                st.sampled_from(["1", "2", "0", "1/2", "100", "9", "1e5000", "1e-5000", "0.5", "pi", "e"]),
            )
        )
    inner = formulas(variables, depth + 1)
    shape = draw(st.integers(0, 5))
    if shape == 0:
        return f"{draw(st.sampled_from(['exp', 'log', 'sqrt', 'sigmoid', 'tanh', 'abs']))}({draw(inner)})"
    if shape == 1:
        return f"({draw(inner)})^{draw(st.sampled_from(['2', '3', '9^9^9', '(-1)', '1/2', '100', '99999']))}"
    operator = draw(st.sampled_from(["+", "-", "*", "/"]))
    return f"({draw(inner)} {operator} {draw(inner)})"


@st.composite
def formula_specs(draw: st.DrawFn) -> str:
    """A valid spec whose hidden activation or whose loss is a generated custom formula."""
    text = draw(valid_specs())
    if draw(st.booleans()) and "[loss]" in text:
        formula = draw(formulas(("yhat", "y")))
        head, _, tail = text.partition("[loss]\n")
        loss = f'[loss]\nname = "custom"\nformula = "{formula}"\n'
        return head + loss + tail[tail.index("[[parts]]") :]
    formula = draw(formulas(("z",)))
    return text.replace("activation = ", f'activation = {{ name = "custom", formula = "{formula}" }} #', 1)


@HOSTILE
@given(formula_specs())
def test_generated_formulas_build_or_refuse_in_one_line(text: str) -> None:
    builds_or_refuses_in_one_line(text)


# --- nesting: TOML nested deep, networks deep ----------------------------------------------------------


@st.composite
def deeply_nested_specs(draw: st.DrawFn) -> str:
    """A valid spec with one value replaced by arrays or inline tables nested hundreds deep."""
    text = draw(valid_specs())
    depth = draw(st.integers(50, 5000))
    value = draw(st.sampled_from(["[" * depth + "1" + "]" * depth, "{a = " * depth + "1" + "}" * depth]))
    anchor = draw(st.sampled_from(["x = ", "bias = ", "weights = ", "learning_rate = "]))
    if anchor not in text:
        anchor = "x = " if "x = " in text else "bias = "
    start = text.index(anchor) + len(anchor)
    return text[:start] + value + text[text.index("\n", start) :]


@HOSTILE
@given(deeply_nested_specs())
def test_deeply_nested_values_are_refused_in_one_line(text: str) -> None:
    builds_or_refuses_in_one_line(text)


@st.composite
def deep_chains(draw: st.DrawFn) -> str:
    """A chain of 1×1 layers, up to 100 deep (the parameter limit): every one must build."""
    depth = draw(st.integers(2, 100))
    hidden = draw(st.sampled_from(['"sigmoid"', '"tanh"', '"relu"', '"softplus"']))
    text = "[network]\ninputs = 1\n"
    for k in range(depth):
        activation = '"identity"' if k == depth - 1 else hidden
        weight, bias = draw(st.sampled_from(['"1/2"', "1", '"3/2"', '"-1/2"'])), draw(st.sampled_from(["0", '"1/4"']))
        text += f"[[network.layers]]\nweights = [[{weight}]]\nbias = [{bias}]\nactivation = {activation}\n"
    kind = draw(st.sampled_from(["forward", "gradients", "update"]))
    text += f'[loss]\nname = "squared_error"\n[[parts]]\nkind = "{kind}"\nx = [1]\ny = 1\n'
    return text + ('learning_rate = "1/10"\n' if kind == "update" else "")


@settings(HOSTILE, max_examples=max(1, EXAMPLES // 50))
@given(deep_chains())
def test_deep_chains_inside_the_limits_build(text: str) -> None:
    with watchdog(text):
        solution = derive.solve(derive.parse_spec(text, name="fuzz"))  # the gate verifies every value
        derive.render(solution, 4)


# --- long lists --------------------------------------------------------------------------------------------


@st.composite
def long_list_specs(draw: st.DrawFn) -> str:
    """A valid network with a part whose list (rates, samples, wrt, steps, parts) is far too long."""
    text = draw(valid_specs())
    network = text[: text.index("[[parts]]")]
    count = draw(st.integers(10, 20_000))
    form = draw(st.integers(0, 4))
    inputs = network.count("weights = [[") and len(network.split("weights = [[")[1].split("]")[0].split(","))
    x = f"[{', '.join(['1'] * inputs)}]"
    if form == 0:
        rates = ", ".join(['"1/10"'] * count)
        return network + f'[[parts]]\nkind = "learning_rates"\nx = {x}\ny = 1\nlearning_rates = [{rates}]\n'
    if form == 1:
        samples = ", ".join([f"{{ x = {x}, y = 1 }}"] * count)
        return network + f'[[parts]]\nkind = "batch"\nsamples = [{samples}]\nlearning_rate = "1/10"\n'
    if form == 2:
        return network + f'[[parts]]\nkind = "update"\nx = {x}\ny = 1\nlearning_rate = "1/10"\nsteps = {count}\n'
    if form == 3:
        return network + f'[[parts]]\nkind = "learning_rates"\nx = {x}\ny = 1\nlearning_rates = [1]\nsteps = {count}\n'
    part = f'[[parts]]\nkind = "forward"\nx = {x}\ny = 1\n'
    return network + part * min(count, 2000)


@HOSTILE
@given(long_list_specs())
def test_long_lists_build_or_refuse_in_one_line(text: str) -> None:
    builds_or_refuses_in_one_line(text)
