"""Every spec in examples/ builds through the whole pipeline (verification gate included) to PDFs."""

from __future__ import annotations

from pathlib import Path

import pytest

import derive
from derive.pipeline import Options, build_sheet
from derive.terms.symbols import LOSS, Updated
from derive.tex.decimals import decimal
from tests.sheets import single
from tests.test_cli import text_of

EXAMPLES = single(sorted((Path(__file__).parent.parent / "examples").glob("*.toml")))


def test_there_is_an_example_per_feature() -> None:
    names = {p.stem for p in EXAMPLES}
    for activation in ("tanh", "relu", "leaky_relu", "softplus", "custom"):
        assert f"activation_{activation}" in names
    for optimizer in ("momentum", "momentum_ema", "nesterov", "rmsprop", "adam"):
        assert f"optimizer_{optimizer}" in names
    features = ("input_gradients", "sheet_german", "batch_gradient_descent", "batch_per_sample", "tied_parameters")
    assert {
        *features,
        "softmax_hidden",
        "frozen_parameters",
        "softmax_cross_entropy",
        "no_bias",
        "shared_bias",
        "output_gradient",
        "skip_connections",
        "rounding_student",
        "notation_custom_names",
        "bias_as_weight",
        "notation_neuron",
        "index_order_from_to",
        "activation_values",
        "optimizer_step_sgd_momentum",
        "optimizer_step_adam",
        "batch_gradients_only",
        "irrational_givens",
        "training_run",
        "exam_backprop",
        "variants_backprop",
    } <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_builds_verified_pdfs(path: Path, tmp_path: Path) -> None:
    spec = derive.load_spec(path)
    built = build_sheet(spec, Options(output_dir=tmp_path))
    assert built.report.values > 20
    assert built.warnings == ()  # no line of either sheet runs into the margin (Overfull \hbox > 1 pt)
    assert built.redone.lines > 0 and built.redone.failed == ()
    # At ReLU's kink one-sided slopes differ: no differences there; given gradients have none to check.
    if path.stem != "activation_relu" and any(part.kind.name != "optimizer_step" for part in spec.parts):
        assert built.report.differences > 0
    solution = text_of(tmp_path / f"{path.stem}-solution.pdf")
    exercise = text_of(tmp_path / f"{path.stem}-exercise.pdf")
    assert spec.sheet.title in solution and spec.sheet.title in exercise
    heading = {"en": "Part", "de": "Aufgabe"}[spec.sheet.language]
    for part in spec.parts:
        assert f"{heading} {part.number}" in solution
    # The loss after the last step is on the sheet, to the sheet's decimals, and it went down:
    # each example's learning rate is chosen so that the step helps.
    for part in spec.parts:
        if part.kind.name == "batch" and part.params.mode == "batch" and part.params.steps:  # 0: gradients only
            assert (
                built.solution[f"p{part.number}." + Updated(LOSS, part.params.steps).key].approx
                < built.solution[f"p{part.number}.L"].approx
            )
        if part.kind.name == "update":
            before = built.solution[f"p{part.sample_of or part.number}.L"]
            final = built.solution[f"p{part.number}." + Updated(LOSS, part.params.steps).key]
            assert final.approx < before.approx
            places = spec.sheet.decimals if part.decimals is None else part.decimals
            shown = str(final.exact) if final.exact.is_Integer else decimal(final.approx, places)
            if spec.sheet.language == "de":
                shown = shown.replace(".", ",")
            assert shown.replace(r"\cdot", "·") in solution
