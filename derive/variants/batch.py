"""A batch of variants: drawn, judged and built in parallel (a process pool), then written as one
output set with one key, all or nothing.

Variant k's draws come from the seed and k alone (:mod:`derive.variants.draw`): the workers may
finish in any order, and the batch is decided in the order of k (a draw whose answers an earlier
variant has is redrawn), so the same seed gives the same bytes on any number of processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from derive.errors import DegenerateError, SpecError, TexMissing
from derive.exercise.fields import FieldReader
from derive.exercise.model import Label, Spec
from derive.exercise.reader import read_data
from derive.exercise.variation import Variation, drawn_data, read_variation, typed
from derive.kinds import KINDS
from derive.maths.derivation import Derivation
from derive.maths.solve import derive as derive_exactly
from derive.maths.steps import Solution
from derive.moodle.cloze import Question, sheet_question
from derive.pipeline import Built, Options, build_sheet, load_spec
from derive.tex.style import Style
from derive.variants import draw
from derive.variants.judge import allowed, claim_value, findings, givens, rejection, required, sources
from derive.variants.pool import workers

REASONS = {
    "zero_gradient": "a gradient of 0",
    "dead_relu": "a dead ReLU (z <= 0)",
    "saturated": "a saturated sigmoid or tanh (|z| too large)",
    "digits": "a value of too many digits",
    "size": "a value too large",
    "same_sample": "a part asked of the same input as an earlier one",
    "claim": 'a "show that" claim that is no short exact number',
    "duplicate": "the same answers as an earlier variant",
    "refused": "numbers the spec refuses",
    "lost": "no longer showing what the part shows (a dead unit at dead_x)",
}
"""Each reason a draw is rejected for, as the command line names it (the key's words are the catalogues')."""
SOURCE_DATE = "946684800"
"""The PDFs' date (1 January 2000) where SOURCE_DATE_EPOCH is not set: the same seed, the same bytes."""


@dataclass(frozen=True)
class Rejected:
    """A draw rejected: why, and which spec paths it came from (the ranges to name if none is good)."""

    reason: str
    key: str
    paths: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs to draw and build a variant (plain values: it goes to other processes)."""

    path: str
    text: str
    seed: int
    options: Options
    allow: frozenset[tuple[str, str]]
    """The degeneracies of the spec's own instance (check, place): its variants may have them too."""
    need: frozenset[tuple[str, str]] = frozenset()
    """The ones a part shows on purpose (a dead unit at ``dead_x``): its variants must have them too."""

    @property
    def stem(self) -> str:
        return Path(self.path).stem


@dataclass
class Outcome:
    """One variant: the draw that made it, its files (relative to its folder) and the draws rejected
    before it; ``draw`` None when none of its draws was good."""

    number: int
    draw: int | None
    files: dict[str, bytes] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    missing_tex: str = ""
    report: tuple[int, int] = (0, 0)
    """The values the gate checked against float64, and the gradients by finite differences."""
    question: Question | None = None
    """Its Moodle Cloze question (every part in one), made from its verified solution; None without TeX
    (the build stopped before its solution was returned)."""


class _Reject(Exception):
    def __init__(self, rejected: Rejected) -> None:
        self.rejected = rejected


class Drawer:
    """A spec's variants in one process: the spec's tables, its [variants], and how a draw becomes a
    validated spec (each variant read by the same reader as the spec file)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.source = plan.path
        self.folder = Path(plan.path).resolve().parent
        self.root: dict[str, Any] = tomllib.loads(plan.text.removeprefix("\ufeff"), parse_float=Decimal)
        if "variants" not in self.root:
            raise SpecError(
                "variants", "missing: derive variants needs a [variants] section (docs/variants.md)", source=self.source
            )
        self.variation: Variation = read_variation(
            FieldReader(plan.text, self.source), self.root["variants"], self.root, KINDS
        )
        self.fingerprint = draw.fingerprint(plan.text)

    def label(self, number: int, attempt: int) -> Label:
        code = draw.code(self.fingerprint, self.plan.seed, number, attempt)
        qr = f"derive variants --seed {self.plan.seed} --only {code}" if self.variation.qr else ""
        return Label(number, code, qr)

    def name(self, number: int) -> str:
        return f"{self.plan.stem}-{draw.label_id(number)}"

    def spec(self, number: int, attempt: int) -> Spec:
        """Draw ``attempt`` of variant ``number`` as a validated spec, its "show that" claims made
        again for its numbers; :class:`_Reject` where the spec refuses them or a claim is no short number."""
        values = draw.drawn(self.variation, self.plan.seed, number, attempt)
        data = drawn_data(self.root, values)
        name = self.name(number)
        try:
            spec = read_data(data, KINDS, name=name, source=self.source, folder=self.folder)
            claims = self.claims(spec)
            if claims:
                for part, claim in claims.items():
                    data["parts"][part - 1]["yhat"] = [typed(v, False) for v in claim]
                spec = read_data(data, KINDS, name=name, source=self.source, folder=self.folder)
        except (SpecError, DegenerateError) as error:
            raise _Reject(self.refused(error)) from None
        return replace(spec, sheet=replace(spec.sheet, variant=self.label(number, attempt)))

    def claims(self, spec: Spec) -> dict[int, tuple[Any, ...]]:
        """Each "show that" part's claim made again: the output its variant's numbers give."""
        made: dict[int, tuple[Any, ...]] = {}
        for part in spec.parts:
            if part.kind.name != "show_that":
                continue
            derivation = Derivation(spec)
            network, loss = derivation.variant(part)
            _, forward = derivation.sample_and_forward(network, loss, part, recall=False)
            claim = claim_value((q.exact for q in forward.output), self.variation.good)
            if claim is None:
                keys = {key for q in forward.output for key in givens(q)}
                raise _Reject(Rejected("claim", f"p{part.number}.yhat", frozenset(sources(spec, keys))))
            made[part.number] = claim
        return made

    def refused(self, error: SpecError | DegenerateError) -> Rejected:
        """A draw the reader or the derivation refuses: named by the field, from the ranges inside it."""
        where = getattr(error, "field", "")
        paths = frozenset(
            r.path for r in self.variation.vary if where and (where.startswith(r.path) or r.path.startswith(where))
        )
        return Rejected("refused", f"{where}: {getattr(error, 'message', error)}" if where else str(error), paths)

    def judge(self, spec: Spec) -> Rejected | Solution:
        """Why the drawn ``spec`` is no good exercise, or its solution (its build derives nothing again)."""
        try:
            solution = derive_exactly(spec)
        except (SpecError, DegenerateError) as error:
            return self.refused(error)
        found = rejection(findings(solution, self.variation.good), self.plan.allow, self.variation.good, self.plan.need)
        if found is None:
            return solution
        return Rejected(found.check, found.key, frozenset(sources(spec, found.uses)))

    def variant(self, number: int, start: int, stop: int | None = None) -> Outcome:
        """Variant ``number``: its first good draw from ``start`` on (before ``stop``, by default the
        budget's ``max_draws``), built (each file in memory)."""
        outcome = Outcome(number, None)
        for attempt in range(start, self.variation.good.max_draws if stop is None else stop):
            try:
                spec = self.spec(number, attempt)
            except _Reject as reject:
                outcome.rejected.append(reject.rejected)
                continue
            judged = self.judge(spec)
            if isinstance(judged, Rejected):
                outcome.rejected.append(judged)
                continue
            outcome.draw = attempt
            built = built_files(spec, self.plan.options, judged)
            outcome.files, outcome.missing_tex, outcome.report, outcome.question = built
            return outcome
        return outcome


def built_files(
    spec: Spec, options: Options, solved: Solution | None = None
) -> tuple[dict[str, bytes], str, tuple[int, int], Question | None]:
    """A spec's sheets built (verified) in a private folder, read back (the batch writes them all at
    once), and its Moodle question from the same verified solution; ``solved``: the spec's solution,
    derived already."""
    with tempfile.TemporaryDirectory(prefix="derive-variant-") as folder:
        missing = ""
        question = None
        try:
            built: Built = build_sheet(spec, replace(options, output_dir=Path(folder)), solved=solved)
            files = built.files
            report = (built.report.values, built.report.differences)
            style = Style.of(spec.sheet, options.decimals, options.language)
            # No drawing: its weights are in the text. The sheet's context and answers are the build's.
            document = json.loads((Path(folder) / f"{spec.name}-answers.json").read_text(encoding="utf-8"))
            question = sheet_question(built.solution, style, document, context=dict(built.context) or None)
        except TexMissing as error:  # the rest was written: the batch writes it, then says so
            missing = str(error)
            files = tuple(p for p in Path(folder).rglob("*") if p.is_file() and not p.name.startswith("."))
            report = (0, 0)
        return {str(p.relative_to(folder)): p.read_bytes() for p in files}, missing, report, question


_DRAWERS: dict[Plan, Drawer] = {}


def _drawer(plan: Plan) -> Drawer:
    """This process's drawer of ``plan`` (made once: a worker draws many variants)."""
    if plan not in _DRAWERS:
        _DRAWERS[plan] = Drawer(plan)
    return _DRAWERS[plan]


def _work(plan: Plan, number: int, start: int) -> Outcome:
    return _drawer(plan).variant(number, start)


@dataclass
class Batch:
    """A batch of variants as decided: each variant's outcome, in order."""

    plan: Plan
    drawer: Drawer
    outcomes: list[Outcome]

    @property
    def rejected(self) -> Counter[str]:
        return Counter(r.reason for o in self.outcomes for r in o.rejected)

    @property
    def draws(self) -> int:
        return sum(len(o.rejected) + 1 for o in self.outcomes)


@contextlib.contextmanager
def dated() -> Iterator[None]:
    """PDFs dated by SOURCE_DATE_EPOCH (pdfTeX reads it), set where the caller did not: same bytes."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = SOURCE_DATE
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


Progress = Callable[[int, int, int], None]
"""Called as variants are decided: (done, of, draws rejected so far)."""


def plan_of(path: str | Path, seed: int, options: Options) -> Plan:
    """The plan of a batch of the spec file ``path``: the spec read and checked, and what its own
    instance shows that its variants may show too (:func:`derive.variants.judge.allowed`)."""
    path = Path(path)
    spec = load_spec(path)  # checks the spec, its [variants] with it, before any draw
    text = path.read_text(encoding="utf-8-sig")
    probe = Drawer(Plan(str(path), text, seed, options, frozenset()))
    base = findings(derive_exactly(spec), probe.variation.good)
    return Plan(str(path), text, seed, options, allowed(base), required(base))


def run(plan: Plan, count: int, jobs: int, progress: Progress | None = None) -> Batch:
    """Variants 1 to ``count``: each its first good draw whose answers no earlier variant has; a
    SpecError naming the range (and the most common rejection) when one has no good draw in the budget."""
    drawer = _drawer(plan)
    decided: list[Outcome] = []
    seen: dict[str, int] = {}
    with workers(jobs) as submit:
        pending = {number: submit(_work, plan, number, 0) for number in range(1, count + 1)}
        carried: dict[int, list[Rejected]] = {}
        number = 1
        while number <= count:
            outcome = pending.pop(number).result()
            outcome.rejected = carried.pop(number, []) + outcome.rejected
            if outcome.draw is None:
                raise exhausted(drawer, outcome)
            answers = _answers(outcome.files, drawer.name(number))
            twin = seen.get(fingerprint(answers))
            if twin is not None:  # the same answers as an earlier variant: redrawn from the next draw
                carried[number] = [*outcome.rejected, Rejected("duplicate", f"{draw.label_id(twin)}")]
                pending[number] = submit(_work, plan, number, outcome.draw + 1)
                continue
            seen[fingerprint(answers)] = number
            decided.append(outcome)
            if progress is not None:
                progress(number, count, sum(len(o.rejected) for o in decided))
            number += 1
    return Batch(plan, drawer, decided)


def _answers(files: dict[str, bytes], name: str) -> list[dict[str, Any]]:
    """A variant's answers file, as its quantities."""
    document = json.loads(files[f"{name}-answers.json"])
    quantities: list[dict[str, Any]] = document["quantities"]
    return quantities


def fingerprint(quantities: list[dict[str, Any]]) -> str:
    """What two variants with the same answers share: every asked value, exact where it is written."""
    return json.dumps(
        [(q["name"], q["exact"] if q["exact"] is not None else q["float"]) for q in quantities if q["asked"]]
    )


def exhausted(drawer: Drawer, outcome: Outcome) -> SpecError:
    """The one-line error of a variant with no good draw: the range behind the most common rejection."""
    reasons = Counter(r.reason for r in outcome.rejected)
    reason, times = reasons.most_common(1)[0]
    paths = Counter(path for r in outcome.rejected if r.reason == reason for path in r.paths)
    ranges = [r.path for r in drawer.variation.vary]
    named = [p for p in ranges if any(p == q or p.startswith(q) or q.startswith(p) for q in paths)] or ranges[:1]
    example = next(r.key for r in outcome.rejected if r.reason == reason)
    return SpecError(
        f'variants.vary."{named[0]}"',
        f"no good instance of variant {outcome.number} in {len(outcome.rejected)} draws"
        f" (good.max_draws); most were rejected for {REASONS[reason]} ({times} of {len(outcome.rejected)},"
        f" such as {example}): widen or move the range, or relax [variants.good]",
        source=drawer.source,
    )
