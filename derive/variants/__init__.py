"""Per-student variants of a spec (``derive variants``): its ``[variants]`` givens drawn from the
seed, each draw judged a good exercise or redrawn, every variant built and verified in parallel, and
the batch written all or nothing with one key for all (docs/variants.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from derive.build.options import Options
from derive.build.stages import own_caches
from derive.errors import SpecError, TexMissing
from derive.exercise.model import Sheet, Spec
from derive.moodle.writer import quiz_xml
from derive.output import confined, write_all
from derive.pdf.typeset import Typesetter
from derive.tex.style import Style
from derive.variants import draw
from derive.variants.batch import Batch, Drawer, Progress, dated, plan_of, run
from derive.variants.key import key_csv, key_tex, read_roster, roster_csv
from derive.variants.pool import cores


@dataclass(frozen=True)
class Made:
    """What ``derive variants`` wrote: the files, the batch as decided, and how long it took."""

    files: tuple[Path, ...]
    batch: Batch
    seconds: float = 0.0
    jobs: int = 1
    warnings: tuple[str, ...] = field(default=())


def folder_of(stem: str, number: int) -> str:
    """The folder of variant ``number``'s files in the output folder: ``backprop-variants-v007``."""
    return f"{stem}-variants-{draw.label_id(number)}"


def make_variants(
    spec: str | Path,
    count: int,
    seed: int,
    options: Options | None = None,
    *,
    roster: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Made:
    """Variants 1 to ``count`` of the spec file ``spec`` drawn with ``seed``: each variant's sheets,
    answers and the rest in a folder of its own, the key (CSV, LaTeX, PDF) and, with a ``roster``
    (a student id a line), each student's variant; all written, or (on any error) nothing."""
    check_counts(count, seed)
    started = time.perf_counter()
    options, warnings = own_caches(options or Options())
    students = read_roster(roster) if roster is not None else None
    workers = max(1, min(jobs or cores(), count))
    with dated():
        plan = plan_of(spec, seed, options)
        batch = run(plan, count, workers, progress)
        stem = plan.stem
        contents: dict[str, bytes] = {}
        missing = ""
        for outcome in batch.outcomes:
            missing = missing or outcome.missing_tex
            for name, data in outcome.files.items():
                contents[f"{folder_of(stem, outcome.number)}/{name}"] = data
        contents[f"{stem}-variants-key.csv"] = key_csv(batch).encode()
        questions = [o.question for o in batch.outcomes if o.question is not None]
        if len(questions) == len(batch.outcomes):  # one question a variant, in one category: docs/moodle.md
            contents[f"{stem}-variants-moodle.xml"] = quiz_xml(questions, f"{stem} variants").encode()
        sheet = plan_of_sheet(batch)
        style = Style.of(sheet, options.decimals, options.language)
        tex = key_tex(batch, style, options.templates, options.compiled)
        contents[f"{stem}-variants-key.tex"] = tex.encode()
        if students is not None:
            contents[f"{stem}-variants-roster.csv"] = roster_csv(batch, students).encode()
        with Typesetter(options.pdf and not missing, options.timeout, {}, options.formats) as typesetter:
            typesetter.compile("key", tex)
            pdfs = typesetter.pdfs(f"{stem}-variants")
        files = write_all(options.output_dir, confined({**contents, **pdfs}), f"{stem}-variants")
    if missing:
        raise TexMissing(missing)
    return Made(files, batch, time.perf_counter() - started, workers, warnings)


def make_one(spec: str | Path, code: str, seed: int, options: Options | None = None) -> Made:
    """The variant a code names, made again (the same files as in its batch): its folder is replaced,
    nothing else is touched."""
    check_counts(1, seed)
    started = time.perf_counter()
    options, warnings = own_caches(options or Options())
    with dated():
        path = Path(spec)
        text = path.read_text(encoding="utf-8-sig") if path.is_file() else ""
        try:
            number, attempt = draw.decode(code, draw.fingerprint(text), seed)
        except ValueError as error:
            raise SpecError("--only", str(error), source=str(path)) from None
        plan = plan_of(spec, seed, options)
        outcome = Drawer(plan).variant(number, attempt, attempt + 1)
        if outcome.draw != attempt:  # the code's draw is no longer good (derive's checks changed)
            raise SpecError("--only", f"{code!r} names a draw that is no longer a good instance", source=str(path))
        contents = {f"{folder_of(plan.stem, number)}/{name}": data for name, data in outcome.files.items()}
        files = write_all(options.output_dir, confined(contents))
    if outcome.missing_tex:
        raise TexMissing(outcome.missing_tex)
    batch = Batch(plan, Drawer(plan), [outcome])
    return Made(files, batch, time.perf_counter() - started, 1, warnings)


def plan_of_sheet(batch: Batch) -> Sheet:
    """The [sheet] of the spec's own instance (its language, decimal mark and places)."""
    from derive.pipeline import load_spec

    return load_spec(batch.plan.path).sheet


def check_counts(count: int, seed: int) -> None:
    """A ValueError naming the option for a count or seed out of bounds."""
    for name, value, high in (("count", count, draw.MAX_VARIANTS), ("seed", seed, draw.MAX_SEED)):
        low = 1 if name == "count" else 0
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name}: expected a whole number from {low} to {high}, found {value!r}")


def specs_of(batch: Batch) -> list[Spec]:
    """Each variant of a batch as its validated spec (the numbers its files were made from, its label
    set), in order: for another output from the same variants (``derive.solve`` each, then write
    them as one wants: a Moodle category of one question per variant, say)."""
    return [batch.drawer.spec(o.number, o.draw) for o in batch.outcomes if o.draw is not None]
