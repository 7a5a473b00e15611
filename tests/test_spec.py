"""Spec validation: every bad input is one SpecError naming the field, the TOML line and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from derive.catalog.activations import ACTIVATIONS
from derive.errors import SpecError
from derive.exercise.reader import example_path
from derive.pipeline import parse_spec

EXAMPLE = example_path().read_text(encoding="utf-8")


def error_for(old: str, new: str, count: int = 1) -> SpecError:
    assert old in EXAMPLE, old
    text = EXAMPLE.replace(old, new, count)
    with pytest.raises(SpecError) as caught:
        parse_spec(text, name="t", source="t.toml")
    return caught.value


def error_in(text: str, old: str, new: str) -> SpecError:
    """The error of ``text`` with ``old`` replaced by ``new`` (once); ``old`` must be in it."""
    assert old in text, old
    with pytest.raises(SpecError) as caught:
        parse_spec(text.replace(old, new, 1))
    return caught.value


def refusal(text: str) -> str:
    """The message ``text`` is refused with, checked to be one line."""
    with pytest.raises(SpecError) as caught:
        parse_spec(text, name="bad")
    assert "\n" not in str(caught.value), str(caught.value)
    return str(caught.value)


def line_of(fragment: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(EXAMPLE.splitlines(), 1) if fragment in line]
    return lines[occurrence - 1]


def test_example_parses_exactly() -> None:
    spec = parse_spec(EXAMPLE)
    assert spec.network.layers[1].bias == (sp.Rational(1, 2),)
    assert [p.kind.name for p in spec.parts] == [
        "forward",
        "forward",
        "show_that",
        "gradients",
        "update",
        "replace_activation",
        "cross_entropy",
        "learning_rates",
        "compare_activation",
        "compare_optimizer",
        "mse_vs_ce",
        "extra_layer",
    ]
    assert spec.parts[3].sample == spec.parts[2].sample and spec.parts[3].sample_of == 3


def test_toml_decimal_is_exact() -> None:
    spec = parse_spec(EXAMPLE.replace('bias = ["1/2"]', "bias = [0.15]"))
    assert spec.network.layers[1].bias == (sp.Rational(3, 20),)


def test_toml_syntax_error_names_the_line() -> None:
    error = error_for("x = [1, 1]", "x = [1, 1")
    assert "TOML syntax error" in str(error) and error.line is not None
    assert str(error).startswith("t.toml:")


def test_unknown_key_suggests_the_right_one() -> None:
    error = error_for("weights = [[1, -1], [2, 1]]", "weigths = [[1, -1], [2, 1]]")
    assert str(error) == (
        f"t.toml:{line_of('weights = [[1, -1], [2, 1]]')}: network.layers[1].weigths: unknown key "
        "(did you mean 'weights'?); allowed here: weights, bias, activation, reads"
    )


def test_unknown_activation_lists_the_valid_ones() -> None:
    error = error_for('activation = "sigmoid"', 'activation = "sigmod"')
    assert error.field == "network.layers[1].activation"
    assert f"unknown activation 'sigmod'; valid: {', '.join(ACTIVATIONS)}" in error.message
    assert error.line == line_of('activation = "sigmoid"')


def test_shape_mismatch_between_layers_names_the_layer_and_shapes() -> None:
    error = error_for("weights = [[1, -1]]", "weights = [[1, -1, 2]]")
    assert error.field == "network.layers[2].weights"
    assert "layer 2 reads layer 1's 2 outputs, so W needs 2 columns; found 1x3" in error.message
    assert error.line == line_of("weights = [[1, -1]]")


def test_bias_shape_mismatch() -> None:
    error = error_for("bias = [0, 0]", "bias = [0, 0, 0]")
    assert error.field == "network.layers[1].bias"
    assert "W is 2x2, so b needs 2 entries; found 3" in error.message


def test_input_shape_mismatch_names_the_part() -> None:
    error = error_for("x = [1, -1]", "x = [1, -1, 3]")
    assert error.field == "parts[2].x"
    assert "the network takes 2 inputs; found 3" in error.message
    assert error.line == line_of("x = [1, -1]")


def test_ragged_matrix() -> None:
    error = error_for("weights = [[1, -1], [2, 1]]", "weights = [[1, -1], [2]]")
    assert "rows must have equal length" in error.message


def test_non_number() -> None:
    error = error_for("x = [1, 1]", 'x = [1, "one"]')
    assert error.field == "parts[1].x[2]"
    assert "expected a number" in error.message and "'one'" in error.message


def test_zero_denominator() -> None:
    error = error_for('bias = ["1/2"]', 'bias = ["1/0"]')
    assert error.field == "network.layers[2].bias[1]" and "zero denominator" in error.message


def test_non_finite_number() -> None:
    error = error_for("x = [1, 1]", "x = [1, inf]")
    assert "finite" in error.message


def test_missing_target() -> None:
    error = error_for("x = [1, 1]\ny = 1", "x = [1, 1]")
    assert error.field == "parts[1].y" and error.message.startswith("missing")


def test_unknown_part_kind() -> None:
    error = error_for('kind = "gradients"', 'kind = "gradient"')
    assert error.field == "parts[4].kind" and "valid: forward, show_that" in error.message


def test_sample_from_a_later_part_is_refused() -> None:
    error = error_for("use_sample_of = 3", "use_sample_of = 5")
    assert error.field == "parts[4].use_sample_of"
    assert "from 1 to 3, found 5" in error.message


def test_unknown_loss() -> None:
    error = error_for('name = "squared_error"', 'name = "mse"')
    assert error.field == "loss.name" and "valid: squared_error" in error.message


def test_missing_section() -> None:
    with pytest.raises(SpecError, match=r"loss: missing"):
        parse_spec(EXAMPLE.replace('[loss]\nname = "squared_error"\n', ""))


def test_a_part_that_works_on_a_network_needs_one() -> None:
    network = EXAMPLE[EXAMPLE.index("[network]") : EXAMPLE.index("[loss]")]
    without = EXAMPLE.replace(network, "")
    assert refusal(without) == "spec: loss: a loss is taken of a network's output: the spec needs a [network] section"
    assert refusal(without.replace('[loss]\nname = "squared_error"\n', "")) == (
        "spec:13: parts[1].kind: a part of kind 'forward' works on a network: the spec needs a [network] section"
    )


def test_false_claim_is_reported_with_the_computed_value() -> None:
    import derive

    spec = parse_spec(EXAMPLE.replace('yhat = "1/2"', 'yhat = "3/5"'))
    with pytest.raises(SpecError, match=r"parts\[3\]\.yhat: the claim ŷ = 3/5 is false: derive computes ŷ = 1/2 ≈ 0.5"):
        derive.solve(spec)


def test_probabilities_must_be_strictly_between_0_and_1() -> None:
    error = error_for('p = ["0.01", "0.1", "0.5", "0.9", "0.99"]', 'p = ["0.01", 1]')
    assert error.field == "parts[7].p[2]" and "strictly between 0 and 1" in error.message


def test_learning_rates_must_be_positive() -> None:
    error = error_for('learning_rates = ["0.1", "0.5", 1, 5]', 'learning_rates = ["0.1", 0]')
    assert error.field == "parts[8].learning_rates[2]" and "positive" in error.message


def test_exact_steps_are_bounded() -> None:
    error = error_for("exact_steps = 2", "exact_steps = 9")
    assert error.field == "parts[8].exact_steps" and "from 0 to 3" in error.message


def test_inserted_layer_must_fit() -> None:
    error = error_for("weights = [[1, -1], [1, 1]]", "weights = [[1, -1, 0], [1, 1, 0]]")
    assert error.field == "parts[12].weights" and "W needs 2x2; found 2x3" in error.message


def test_mse_vs_ce_takes_no_sample() -> None:
    error = error_for("target = 1", "target = 1\nx = [1, 1]")
    assert error.field == "parts[11].x" and "takes no input sample" in error.message


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            'activation = "sigmoid"',
            'activation = { name = "custom", formula = "z.__class__" }',
            "network.layers[1].activation.formula",
            "not allowed in a formula: 'z.__class__'",
        ),
        (
            'activation = "sigmoid"',
            'activation = "custom"',
            "network.layers[1].activation",
            "a 'custom' activation is a table",
        ),
        (
            'activation = "sigmoid"',
            'activation = { name = "custom" }',
            "network.layers[1].activation.formula",
            "missing: a 'custom' activation needs a formula in z",
        ),
        (
            'activation = "sigmoid"',
            'activation = { name = "leaky_relu", slope = 2 }',
            "network.layers[1].activation.slope",
            "strictly between 0 and 1; found 2",
        ),
        (
            'activation = "sigmoid"',
            'activation = { name = "tanh", slope = 2 }',
            "network.layers[1].activation.slope",
            "unknown key",
        ),
        ('name = "squared_error"', 'name = "custom"', "loss.formula", "missing: a custom loss needs a formula"),
        (
            'name = "squared_error"',
            'name = "custom"\nformula = "(yhat - t)^2"',
            "loss.formula",
            "unknown name 't'; allowed: yhat, y, e, pi",
        ),
        (
            'name = "squared_error"',
            'name = "squared_error"\nformula = "yhat"',
            "loss.formula",
            "only a custom loss takes a formula",
        ),
        (
            'name = "squared_error"',
            'name = "squared_error"\nreduction = "median"',
            "loss.reduction",
            "unknown reduction 'median'; valid: sum, mean",
        ),
        (
            'optimizer = "sgd"\nlearning_rate = "1/2"',
            'optimizer = { name = "momentum", beta = 1 }\nlearning_rate = "1/2"',
            "parts[5].optimizer.beta",
            "a decay rate below 1 is needed; found 1",
        ),
        (
            'optimizer = "sgd"\nlearning_rate = "1/2"',
            'optimizer = { name = "rmsprop", beta1 = "1/2" }\nlearning_rate = "1/2"',
            "parts[5].optimizer.beta1",
            "unknown key",
        ),
        (
            'optimizer = "sgd"\nlearning_rate = "1/2"',
            'optimizer = "sgd"\nlearning_rate = "1/2"\nsteps = 9',
            "parts[5].steps",
            "expected a whole number from 1 to 5, found 9",
        ),
        (
            'optimizer = "sgd"\nlearning_rate = "1/2"',
            'optimizer = "sgd"\nlearning_rate = "1/2"\nwrt = ["W1", "x"]',
            "parts[5].wrt",
            "unknown parameter 'x'; valid: W1, b1, W2, b2",
        ),
        ("decimals = 4", 'decimals = 4\nlanguage = "fr"', "sheet.language", "unknown language 'fr'; valid: en, de"),
        ("decimals = 4", 'decimals = 4\ndecimal_mark = ";"', "sheet.decimal_mark", 'expected "." or ","; found \';\''),
        ("decimals = 4", 'decimals = 4\nexact = "no"', "sheet.exact", "expected true or false, found the string 'no'"),
        ('kind = "forward"', 'kind = "forward"\ndecimals = 20', "parts[1].decimals", "from 0 to 12, found 20"),
        ('kind = "forward"', 'kind = "forward"\nexact = 1', "parts[1].exact", "expected true or false"),
    ],
)
def test_engine_options_are_checked_with_one_line_errors(old: str, new: str, field: str, message: str) -> None:
    error = error_for(old, new)
    assert error.field == field
    assert message in error.message
    assert "\n" not in str(error)


def test_engine_options_are_read() -> None:
    text = (
        EXAMPLE.replace('activation = "sigmoid"', 'activation = { name = "leaky_relu", slope = 0.2 }', 1)
        .replace('name = "squared_error"', 'name = "half_squared_error"\nreduction = "mean"')
        .replace(
            'optimizer = "sgd"\nlearning_rate = "1/2"',
            'optimizer = { name = "nesterov", beta = 0.5 }\nlearning_rate = "1/2"\nsteps = 3',
            1,
        )
    )
    spec = parse_spec(text)
    assert spec.network.layers[0].activation.params == (("slope", sp.Rational(1, 5)),)
    assert spec.loss.name == "half_squared_error" and spec.loss.scale == 1  # one output: mean = sum
    update = spec.parts[4]
    assert update.params.optimizer.name == "nesterov"
    assert dict(update.params.hyper) == {"beta": sp.Rational(1, 2)} and update.params.steps == 3


def test_frozen_entries_are_read_as_entry_keys() -> None:
    text = EXAMPLE.replace(
        'optimizer = "sgd"\nlearning_rate = "1/2"',
        'optimizer = "sgd"\nlearning_rate = "1/2"\nfrozen = ["b1", "w2[1, 2]"]',
        1,
    )
    spec = parse_spec(text)
    update = next(p for p in spec.parts if p.kind.name == "update")
    assert update.params.frozen == ("b1[1]", "b1[2]", "w2[1,2]")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('["W3"]', "unknown parameter or entry 'W3'"),
        ('["w1[3,1]"]', "unknown parameter or entry 'w1[3,1]'"),
        ("[]", "expected a list of tensors or entries"),
    ],
)
def test_bad_frozen_entries_are_one_line(value: str, message: str) -> None:
    error = error_for(
        'optimizer = "sgd"\nlearning_rate = "1/2"', f'optimizer = "sgd"\nlearning_rate = "1/2"\nfrozen = {value}'
    )
    assert error.field == "parts[5].frozen" and message in error.message


SOFTMAX = """
[network]
inputs = 1
[[network.layers]]
weights = [[1], [2]]
bias = [0, 0]
activation = "%s"
[[network.layers]]
weights = [[1, 0], [0, 1], [1, 1]]
bias = [0, 0, 0]
activation = "%s"
[loss]
name = "%s"
[[parts]]
kind = "forward"
x = [1]
y = %s
"""


@pytest.mark.parametrize(
    ("hidden", "output", "loss", "y", "field", "message"),
    [
        ("sigmoid", "sigmoid", "categorical_cross_entropy", "1", "loss.name", "needs a softmax output layer"),
        ("sigmoid", "softmax", "categorical_cross_entropy", "4", "parts[1].y", "a class index from 1 to 3"),
        ("sigmoid", "softmax", "categorical_cross_entropy", '["1/2", "1/2", "1/2"]', "parts[1].y", "found sum 3/2"),
    ],
)
def test_softmax_and_categorical_cross_entropy_are_checked(
    hidden: str, output: str, loss: str, y: str, field: str, message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(SOFTMAX % (hidden, output, loss, y))
    assert caught.value.field == field and message in caught.value.message


def test_a_class_index_is_one_hot() -> None:
    spec = parse_spec(SOFTMAX % ("sigmoid", "softmax", "categorical_cross_entropy", "3"))
    assert spec.parts[0].sample is not None and spec.parts[0].sample.y == (0, 0, 1)


def test_tied_groups_are_read_as_entry_keys() -> None:
    text = EXAMPLE.replace(
        'optimizer = "sgd"\nlearning_rate = "1/2"',
        'optimizer = "sgd"\nlearning_rate = "1/2"\ntied = [["w1[1,1]", "w2[1, 1]"], ["w1[1,2]", "w2[1,2]"]]',
        1,
    )
    update = next(p for p in parse_spec(text).parts if p.kind.name == "update")
    assert update.params.tied == (("w1[1,1]", "w2[1,1]"), ("w1[1,2]", "w2[1,2]"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('[["w1[1,1]", "w1[2,1]"]]', "must start equal; found w1[1,1] = 1, w1[2,1] = 2"),
        ('[["w1[1,1]"]]', "a group ties at least two entries"),
        ('[["w1[1,1]", "w2[1,1]"], ["w2[1,1]", "w1[1,1]"]]', "w2[1,1] is tied twice"),
        ('[["w1[9,9]", "w1[1,1]"]]', "unknown entry 'w1[9,9]'"),
        ('[["b1[1]", "b1[2]"]]\nfrozen = ["b1"]', "b1[1] is both frozen and tied"),
        ('[["w1[1,1]", "w2[1,1]"]]\nwrt = ["W2"]', "w1[1,1] is tied but W1 is not updated"),
        ('"w1[1,1]"', "expected a list of groups"),
    ],
)
def test_bad_tied_groups_are_one_line(value: str, message: str) -> None:
    error = error_for(
        'optimizer = "sgd"\nlearning_rate = "1/2"', f'optimizer = "sgd"\nlearning_rate = "1/2"\ntied = {value}'
    )
    assert error.field.startswith("parts[5].tied") and message in error.message


NO_BIAS = (Path(__file__).parent.parent / "examples" / "no_bias.toml").read_text(encoding="utf-8")


def test_a_layer_without_a_bias_has_no_bias_parameter() -> None:
    network = parse_spec(NO_BIAS).network
    assert not network.layers[0].has_bias and network.layers[0].bias == (0, 0)
    assert network.layers[1].has_bias and network.parameter_names() == ["W1", "W2", "b2"]


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ('bias = "none"\nactivation', 'bias = "nothing"\nactivation', "network.layers[1].bias", '"none" for a layer'),
        ('frozen = ["w2[1,2]"]', 'frozen = ["b1"]', "parts[3].frozen", "layer 1 has no bias"),
        ('frozen = ["w2[1,2]"]', 'wrt = ["b1"]', "parts[3].wrt", "valid: W1, W2, b2"),
        ('frozen = ["w2[1,2]"]', 'tied = [["b1[1]", "b2[1]"]]', "parts[3].tied[1]", "unknown entry 'b1[1]'"),
    ],
)
def test_a_missing_bias_is_no_parameter_anywhere(old: str, new: str, field: str, message: str) -> None:
    error = error_in(NO_BIAS, old, new)
    assert error.field == field and message in error.message


def test_a_shared_bias_is_one_parameter() -> None:
    text = (Path(__file__).parent.parent / "examples" / "shared_bias.toml").read_text(encoding="utf-8")
    layer = parse_spec(text).network.layers[0]
    assert layer.shared_bias and layer.bias == (sp.Rational(1, 2),) * 2
    update = parse_spec(text + 'frozen = ["b1"]\n').parts[-1]
    assert update.params.frozen == ("b1",)
    with pytest.raises(SpecError) as caught:
        parse_spec(text.replace('bias = { shared = "1/2" }', 'bias = { share = "1/2" }'))
    assert caught.value.field.startswith("network.layers[1].bias") and "share" in caught.value.message


OUTPUTS = (Path(__file__).parent.parent / "examples" / "output_gradient.toml").read_text(encoding="utf-8")


def test_a_part_of_an_output_needs_no_loss_and_no_target() -> None:
    spec = parse_spec(OUTPUTS)
    assert not spec.has_loss
    assert [(p.output, p.sample_of) for p in spec.parts] == [(1, None), (2, 1)]
    assert spec.parts[0].sample is not None and spec.parts[0].sample.y == ()


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ('of = "yhat[1]"', 'of = "yhat"', "parts[1].of", "the network has 2 outputs: name one"),
        ('of = "yhat[1]"', 'of = "yhat[3]"', "parts[1].of", "expected one of 'L', 'yhat[1]', 'yhat[2]'"),
        ('x = [1, "1/2"]', 'x = [1, "1/2"]\ny = [0, 1]', "parts[1].y", "has no loss and takes no y"),
        ('of = "yhat[1]"\nx = [1, "1/2"]', 'x = [1, "1/2"]\ny = [0, 1]', "loss", "part 1 (gradients) needs a [loss]"),
    ],
)
def test_a_part_of_an_output_is_checked(old: str, new: str, field: str, message: str) -> None:
    error = error_in(OUTPUTS, old, new)
    assert error.field == field and message in error.message


def test_a_part_of_the_loss_cannot_share_the_sample_of_a_part_without_target() -> None:
    text = OUTPUTS + '\n[loss]\nname = "squared_error"\n'
    with pytest.raises(SpecError) as caught:
        parse_spec(text.replace('of = "yhat[2]"\n', "", 1))
    assert caught.value.field == "parts[2].use_sample_of" and "part 1 has no target y" in caught.value.message
    # With a loss, a part of an output may share a full sample (its y is not used).
    mixed = EXAMPLE.replace('kind = "gradients"', 'kind = "gradients"\nof = "yhat"', 1)
    gradients = next(p for p in parse_spec(mixed).parts if p.kind.name == "gradients")
    assert gradients.output == 1 and gradients.sample_of is not None


SKIPS = (Path(__file__).parent.parent / "examples" / "skip_connections.toml").read_text(encoding="utf-8")


def test_a_layer_reads_its_sources_stacked() -> None:
    network = parse_spec(SKIPS).network
    assert network.skips and network.sources(3) == (0, 1, 2) and network.sources(2) == (1,)
    assert network.columns(3) == {0: range(0, 2), 1: range(2, 4), 2: range(4, 5)}
    assert network.readers(0) == (1, 3) and network.readers(1) == (2, 3)
    # reads = [k - 1] is the plain layer below: no skip connection at all.
    plain = parse_spec(SKIPS.replace('reads = ["x", 1, 2]', "reads = [2]").replace('[["1/2", 0, 1, -1, 2]]', "[[2]]"))
    assert not plain.network.skips


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('reads = ["x", 1, 2]', 'reads = ["x", 3]', 'each is "x" or a layer from 1 to 2; found 3'),
        ('reads = ["x", 1, 2]', 'reads = ["x", 1, 1]', "1 is read twice"),
        ('reads = ["x", 1, 2]', "reads = []", "expected a list of what layer 3 reads"),
        (
            'reads = ["x", 1, 2]',
            'reads = ["x", 2]',
            "reads x and a2 stacked (3 values), so W needs 3 columns; found 1x5",
        ),
        (
            'reads = ["x", 1, 2]\nweights = [["1/2", 0, 1, -1, 2]]',
            'reads = ["x", 1]\nweights = [[1, 0, 1, -1]]',
            "layer 2's output is read by no later layer",
        ),
    ],
)
def test_bad_reads_are_one_line_errors(old: str, new: str, message: str) -> None:
    error = error_in(SKIPS, old, new)
    assert error.field.startswith("network.layers[3]") and message in error.message


def test_an_extra_layer_part_needs_a_network_without_skips() -> None:
    extra = '[[parts]]\nkind = "extra_layer"\nuse_sample_of = 1\nweights = [[1]]\nbias = [0]\n'
    with pytest.raises(SpecError) as caught:
        parse_spec(SKIPS + extra)
    assert caught.value.field == "parts[4].kind" and "without skip connections" in caught.value.message


def test_significant_figures_replace_places() -> None:
    sheet = parse_spec(EXAMPLE.replace("decimals = 4", "significant = 3")).sheet
    assert sheet.significant and sheet.decimals == 3
    both = error_for("decimals = 4", "decimals = 4\nsignificant = 3")
    assert both.field == "sheet.significant" and "not both" in both.message
    assert error_for("decimals = 4", "significant = 0").field == "sheet.significant"
