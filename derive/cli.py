"""The ``derive`` command: build sheets from a spec or from the built-in example."""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

# Only light modules here: run() installs the signal handling before SymPy and the rest load (in
# main), so that a Ctrl-C or a SIGTERM during the imports ends the run in one line too.
from derive import __version__
from derive.budget import MAX_MEMORY, MIN_MEMORY, memory_bound, out_of_memory
from derive.errors import BudgetError, DeriveError
from derive.pdf import early, processes

if TYPE_CHECKING:
    from derive.pipeline import Built, Options
    from derive.render.carried import Program
    from derive.render.several import Exercise

MAX_JOBS = 64
"""Most processes a batch (``--jobs``) runs at once."""
DISTRIBUTION = "derive-nn"
"""The name derive has on PyPI (``pip install derive-nn``): "derive" there is another project."""

DESCRIPTION = """\
Turn a small neural-network exercise (a TOML spec) into an exercise sheet and a worked,
exactly computed and independently verified solution sheet, as LaTeX and PDF.

commands:
  derive sheet SPEC.toml [-o DIR]   build SPEC-exercise.pdf, SPEC-solution.pdf, their .tex
                                    sources and SPEC-answers.json in DIR (default: output)
  derive example [NAME] [-o DIR]    the same for an example shipped with derive: the built-in
                                    one on backpropagation, or NAME; --toml prints its spec to
                                    start your own, --list names every example
  derive sheet A.toml B.toml        several specs, or every *.toml in a FOLDER, each under its
  derive sheet FOLDER               own name
  derive exam SPEC.toml [-o DIR]    build SPEC-exam.pdf (a cover page, the questions with space for
                                    the answers) and SPEC-marking.pdf (the solution with points per
                                    step) and their .tex sources; every part needs points (docs/exam.md)
  derive watch SPEC.toml [-o DIR]   build, then rebuild on every save and say which values changed
  derive schema [answers] [-o FILE] the JSON Schema of a spec, for an editor to check it while it
                                    is typed (docs/schema.md), or of the answers file
  derive variants SPEC.toml -n 40 --seed 2026
                                    per-student variants of a spec with [variants]: each
                                    variant's sheets in its own folder, one key for all
                                    (docs/variants.md); --roster FILE maps students to them
  derive check SPEC.toml VALUES.csv mark a student's values (rows: answer key, value; or a Moodle
                                    quiz's responses export) right, carried (right from their own
                                    earlier values) or wrong, and name the first wrong step
                                    (docs/check.md); 0 when all are right
  derive moodle SPEC.toml [-o DIR]  write SPEC-moodle.xml: a Moodle Cloze question per part, the
                                    worked solution as feedback (docs/moodle.md)

exit status: 0 done, 2 bad spec, 3 verification failed, 4 LaTeX failed, 5 no TeX installed
(the .tex and answers files are still written), 6 over --max-seconds or --max-memory;
130, 143, 129 stopped by SIGINT (Ctrl-C),
SIGTERM, SIGHUP (nothing is left running, and the output folder is as before or complete).
Several specs: 0 when every one built, else the status of the first that failed (the others are
still built). derive watch runs until stopped: 130 after Ctrl-C.
"""


def parser() -> argparse.ArgumentParser:
    from derive.exercise.model import ENGINES, LANGUAGES, PAPERS
    from derive.pdf.formats import default_cache

    main = argparse.ArgumentParser(
        prog="derive", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    main.add_argument("--version", action="version", version=f"derive {__version__} ({DISTRIBUTION})")
    commands = main.add_subparsers(dest="command", metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "-o",
            "--output",
            type=Path,
            default=Path("output"),
            metavar="DIR",
            help="folder for the generated files (default: output)",
        )
        sub.add_argument("--decimals", type=int, metavar="N", help="places of decimals shown (default: the spec's)")
        sub.add_argument(
            "--language",
            choices=sorted(LANGUAGES),
            help="language of the sheets (default: the spec's sheet.language, else en)",
        )
        sub.add_argument("--paper", choices=PAPERS, help="paper size (default: the spec's sheet.paper, else a4)")
        sub.add_argument(
            "--engine",
            choices=ENGINES,
            help="TeX engine (default: the spec's sheet.engine, else pdflatex)",
        )
        sub.add_argument("--no-pdf", action="store_true", help="write only the .tex and answers files")
        sub.add_argument(
            "--no-format-cache",
            action="store_true",
            help=f"load the LaTeX packages every time instead of from a cached format (in {default_cache()})",
        )
        sub.add_argument(
            "--no-cache",
            action="store_true",
            help=f"use no cache: no cached formats, no compiled templates (in {default_cache().parent})",
        )
        sub.add_argument(
            "--timeout", type=float, default=60.0, metavar="S", help="seconds one LaTeX run may take (default: 60)"
        )
        sub.add_argument(
            "--max-seconds",
            type=float,
            default=120.0,
            metavar="S",
            help="seconds the derivation, verification and rendering may take (default: 120)",
        )
        sub.add_argument(
            "--max-memory",
            type=int,
            default=2048,
            metavar="MiB",
            help="memory the build may use, TeX included (default: 2048)",
        )
        sub.add_argument(
            "--templates",
            type=Path,
            action="append",
            default=[],
            metavar="DIR",
            help="a folder of templates searched before the built-in ones (repeatable)",
        )
        sub.add_argument(
            "--logo-from",
            type=Path,
            action="append",
            default=[],
            metavar="DIR",
            help="a folder the spec's logo may come from besides the spec's own folder (repeatable)",
        )

    def jobs(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "-j", "--jobs", type=int, metavar="N", help="processes building at once (default: one per core)"
        )

    sheet = commands.add_parser(
        "sheet",
        help="build the sheets of spec files",
        description="Build the sheets of each SPEC (a folder: every *.toml in it, sorted), each under its own name.",
    )
    sheet.add_argument(
        "spec", type=Path, nargs="+", metavar="SPEC", help="an exercise spec (TOML), or a folder of them"
    )
    common(sheet)
    jobs(sheet)
    variants = commands.add_parser(
        "variants",
        help="build per-student variants of a spec with [variants], and one key for all",
        description="Draw COUNT variants of SPEC's [variants] givens from SEED (each a good exercise, every"
        " one verified), build each variant's sheets in a folder of its own, and one key for all (CSV and PDF);"
        " all written, or nothing. The same seed gives the same files (docs/variants.md).",
    )
    variants.add_argument("spec", type=Path, metavar="SPEC", help="the exercise spec (TOML) with a [variants] section")
    variants.add_argument("-n", "--count", type=int, metavar="COUNT", help="how many variants (1 to 999)")
    variants.add_argument(
        "--seed", type=int, required=True, metavar="SEED", help="the seed the variants are drawn from"
    )
    variants.add_argument(
        "--roster", type=Path, metavar="FILE", help="student ids, one a line: each student's variant in a CSV"
    )
    variants.add_argument(
        "--only", metavar="CODE", help="make again only the variant with this code (printed on its sheets)"
    )
    common(variants)
    jobs(variants)
    exam = commands.add_parser(
        "exam",
        help="build the exam and its marking scheme of a spec",
        description="Build SPEC-exam.pdf (a cover page with name, student ID and signature fields, the"
        " instructions and the points table; each part's question with space for its answer; the formula"
        " sheet where [exam] asks for one) and SPEC-marking.pdf (the worked solution with the points of"
        " each step), with their .tex sources. Every part of SPEC needs its points.",
    )
    exam.add_argument("spec", type=Path, metavar="SPEC", help="the exercise spec or sheet of several (TOML)")
    common(exam)
    watch = commands.add_parser(
        "watch",
        help="rebuild a spec's sheets on every save",
        description="Build the sheets of SPEC, then rebuild them whenever SPEC, its logo or a file in a"
        " --templates folder is saved, saying which values changed. Ctrl-C stops.",
    )
    watch.add_argument("spec", type=Path, metavar="SPEC", help="the exercise spec (TOML)")
    common(watch)
    example = commands.add_parser(
        "example",
        help="build an example shipped with derive (the built-in one unless NAME)",
        description="Build an example shipped with derive: the built-in one on backpropagation, or NAME.",
    )
    example.add_argument(
        "name", nargs="?", metavar="NAME", help="the example to build (default: backprop); --list names them all"
    )
    example.add_argument("--list", action="store_true", help="list the examples, each with what it shows, and stop")
    example.add_argument(
        "--toml",
        action="store_true",
        help="print the example's spec instead of building it (a sheet that includes files: how to save them)",
    )
    common(example)
    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of a spec (for an editor) or of the answers file",
        description="Print the JSON Schema of a spec (editors with TOML schema support, such as Taplo and"
        " VS Code's Even Better TOML, complete and check a spec with it: see docs/schema.md) or of the"
        " answers file (STEM-answers.json).",
    )
    schema.add_argument("which", nargs="?", choices=("spec", "answers"), default="spec", help="default: spec")
    schema.add_argument("-o", "--output", type=Path, metavar="FILE", help="write it to FILE instead")
    check = commands.add_parser(
        "check",
        help="mark a student's values against a spec's solution, with error carried forward",
        description="Mark each value a part of SPEC asks for, from VALUES (CSV: an answer key and a value per"
        " row, as in SPEC-answers.csv's name column), right, carried (what its formula gives from the student's"
        " own earlier values) or wrong, and show the first wrong step's formula. Exit status 0 when every"
        " asked value is given and right, 1 otherwise, 2 for a bad spec or values file.",
    )
    check.add_argument("spec", type=Path, metavar="SPEC", help="the exercise spec (TOML)")
    check.add_argument(
        "values",
        type=Path,
        metavar="VALUES",
        help="the student's values (CSV: key, value), or a Moodle responses export",
    )
    check.add_argument(
        "--decimals", type=int, metavar="N", help="places of decimals the sheet shows (default: the spec's)"
    )
    check.add_argument(
        "--row", type=int, metavar="N", help="a Moodle export: mark only its N-th attempt (default: every one)"
    )
    moodle = commands.add_parser(
        "moodle",
        help="write a spec's Moodle XML: a Cloze question per part",
        description="Write SPEC-moodle.xml in DIR: a Moodle Cloze question for each part of SPEC, a numerical"
        " blank per value it asks for (the tolerance: half a unit of the last place shown), the network's"
        " drawing, the worked solution as general feedback. Import it in Moodle: Question bank → Import →"
        " Moodle XML format (docs/moodle.md).",
    )
    moodle.add_argument("spec", type=Path, metavar="SPEC", help="the exercise spec (TOML)")
    moodle.add_argument(
        "-o", "--output", type=Path, default=Path("output"), metavar="DIR", help="folder for the XML (default: output)"
    )
    moodle.add_argument("--decimals", type=int, metavar="N", help="places of decimals (default: the spec's)")
    moodle.add_argument("--language", choices=sorted(LANGUAGES), help="language (default: the spec's)")
    moodle.add_argument("--no-drawing", action="store_true", help="leave the network's drawing out (no TeX run)")
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status. Errors are one line, never a traceback; a signal
    (Ctrl-C, SIGTERM, SIGHUP: :func:`run` turns each into an interrupt) ends it with 128 + its number."""
    written: list[bool] = []  # whether the output files were replaced before the signal came
    try:
        with processes.held():  # a signal now waits until the early TeX is started and known
            early.start(sys.argv[1:] if argv is None else list(argv))  # it loads a format while SymPy loads
        try:
            return _main(argv, written)
        finally:
            with processes.held():
                early.discard()  # a TeX no sheet took (another format, an error before the sheet)
    except KeyboardInterrupt as stop:
        number = getattr(stop, "number", signal.SIGINT)
        done = written or getattr(stop, "written", False)
        name = signal.Signals(number).name
        _say(f"derive: stopped by {name}; " + ("the files were written" if done else "nothing was written"))
        return 128 + number


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
        print(line, file=sys.stderr)


def _example(args: argparse.Namespace) -> int | None:
    """``derive example``: lists the examples or prints one's spec (the exit status), or sets ``args.spec``
    to the example to build (None)."""
    from derive.exercise import examples

    if args.list:
        found = examples.examples()
        width = max(map(len, found)) + 2
        for name, path in found.items():
            print(f"{name:{width}}{examples.summary(path)}")
        return 0
    try:
        args.spec = examples.find(args.name or examples.DEFAULT)
    except LookupError as error:
        print(f"derive: error: {error}", file=sys.stderr)
        return 2
    if args.toml:
        sys.stdout.write(args.spec.read_text(encoding="utf-8"))
        for file in examples.included(args.spec):  # the sheet alone does not build: say where its parts are
            get = f"derive example {Path(file).stem} --toml > {file}"
            _say(f"derive: {args.spec.stem} includes {file}; save it beside the sheet: {get}")
        return 0
    return None


def _schema(which: str, output: Path | None) -> int:
    """``derive schema``: the shipped schema, printed or written to a file."""
    from derive.schema import shipped

    text = shipped(which)
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"derive: error: cannot write {output}: {error.strerror or error}", file=sys.stderr)
        return 2
    _say(f"derive: wrote {output}")
    return 0


def _exercises(path: Path, decimals: int | None, language: str | None = None) -> tuple[str, str, list[Exercise]]:
    """The sheet at ``path`` solved: its name, its title and each exercise (numbered, its solution and
    its style), as ``derive check`` and ``derive moodle`` take it; a spec of one exercise is a sheet of
    one, numbered 0: its keys and questions are as they always were."""
    from derive.build.options import Options
    from derive.build.stages import sized
    from derive.library import solve
    from derive.pipeline import load_sheet
    from derive.render.several import Exercise
    from derive.tex.style import Style

    sheet = load_sheet(path)
    options = Options(decimals=decimals, language=language, pdf=False)
    if (alone := sheet.alone()) is not None:
        spec = sized(alone, options)
        return spec.name, spec.sheet.title, [Exercise(0, solve(spec), Style.of(spec.sheet, decimals, language))]
    specs = [sized(spec, options) for spec in sheet.exercises]
    return (
        sheet.name,
        sheet.sheet.title,
        [Exercise(k, solve(s), Style.of(s.sheet, decimals, language)) for k, s in enumerate(specs, 1)],
    )


def _prefix(exercise: Exercise) -> str:
    """What the keys of ``exercise`` begin with on its sheet: ``e2.``, or nothing for a sheet of one."""
    from derive.exercise.exercises import key_prefix

    return key_prefix(exercise.number) if exercise.number else ""


def _check(spec_path: Path, values: Path, decimals: int | None, row: int | None = None) -> int:
    """``derive check``: a student's values marked with error carried forward, one line each, then
    the first wrong step; the exit status (0: every asked value given and right). A Moodle responses
    export is marked attempt by attempt (``row``: only that one). On a sheet of several exercises the
    keys are led by their exercise (``e2.p3.L``), and each exercise is marked from its own values."""
    from dataclasses import replace

    from derive.moodle.cloze import blanks, exercises_layout, layout
    from derive.moodle.responses import Attempt, is_responses, read_attempts
    from derive.render.carried import Program, read_entered

    try:
        stem, _, exercises = _exercises(spec_path, decimals)
        programs = [Program.of(e.solution, e.style.places) for e in exercises]
        try:
            text = values.read_text(encoding="utf-8-sig")
            if is_responses(text):
                answers = {
                    _prefix(e) + b.key: (float(b.answer), float(b.tolerance))
                    for e in exercises
                    for found in blanks(e.solution, e.style).values()
                    for b in found
                }
                first = exercises[0]
                one = first.number == 0
                slots = layout(first.solution, first.style) if one else exercises_layout(stem, exercises)
                attempts = read_attempts(text, slots, answers)
                if row is not None and not 1 <= row <= len(attempts):
                    raise ValueError(f"--row {row}: the export has {len(attempts)} attempts")
            else:
                if row is not None:
                    raise ValueError("--row is for a Moodle responses export, not a file of keys and values")
                # The keys as the sheet's answers name them, each exercise's led by its prefix.
                keyed = zip(exercises, programs, strict=True)
                cells = [replace(c, key=_prefix(e) + c.key) for e, program in keyed for c in program.cells]
                attempts = [Attempt(1, "", read_entered(text, Program(tuple(cells))))]
        except (OSError, UnicodeDecodeError, ValueError) as error:
            problem = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            print(f"derive: error: {values}: {problem}", file=sys.stderr)
            return 2
    except DeriveError as error:
        print(f"derive: error: {error}", file=sys.stderr)
        return error.exit_status
    except ValueError as error:  # --decimals out of range
        print(f"derive: error: --{str(error).replace('_', '-')}", file=sys.stderr)
        return 2
    status = 0
    for attempt in attempts:
        if row is not None and attempt.row != row:
            continue
        if attempt.student:
            print(f"== {attempt.row}: {attempt.student}")
        for note in attempt.skipped:
            print(f"derive: warning: {attempt.student or values}: {note}", file=sys.stderr)
        status = max(status, _marked(exercises, programs, attempt.entered))
    return status


def _marked(exercises: Sequence[Exercise], programs: Sequence[Program], entered: dict[str, float]) -> int:
    """One student's marks, the first wrong step and the counts; 0 when every asked value is right.
    ``entered`` is keyed as the sheet's answers are (``e2.p3.L`` on a sheet of several)."""
    from derive.render.carried import CARRIED, MISSING, RIGHT, WRONG

    marks = []
    for exercise, program in zip(exercises, programs, strict=True):
        prefix = _prefix(exercise)
        own = {key.removeprefix(prefix): v for key, v in entered.items() if key.startswith(prefix)}
        marks += [(exercise, prefix, m) for m in program.mark(own)]
    width = max(len(prefix + m.key) for _, prefix, m in marks)
    for _, prefix, m in marks:
        line = f"{prefix + m.key:{width}}  {m.status}"
        if m.status in (CARRIED, WRONG):
            line += f"  ({m.entered:.6g}; the solution's {m.value:.6g}, from your earlier values {m.expected:.6g})"
        print(line)
    counts = {status: sum(m.status == status for _, _, m in marks) for status in (RIGHT, CARRIED, WRONG, MISSING)}
    first = next(((e, prefix, m) for e, prefix, m in marks if m.status == WRONG), None)
    if first is not None:
        exercise, prefix, m = first
        q = exercise.solution[m.key]
        printer = exercise.style.printer(exercise.solution.spec.network)
        formula = printer.formula(q.formula) if q.formula is not None else ""
        print(f"first wrong: {prefix}{m.key}: {printer.symbol(q.symbol)} = {formula}")
    print(", ".join(f"{count} {status}" for status, count in counts.items()), file=sys.stderr)
    return 0 if counts[RIGHT] == len(marks) else 1


def _moodle(args: argparse.Namespace) -> int:
    """``derive moodle``: the spec's Moodle XML, written whole or not at all; a drawing that cannot be
    made (no TeX) is left out with a warning. A sheet of several exercises: each exercise's parts,
    named by exercise (``week4 e2 p3``), each with its own exercise's drawing."""
    from derive.moodle.drawing import network_picture
    from derive.moodle.quiz import moodle_exercises, moodle_quiz
    from derive.output import write_all

    try:
        stem, title, exercises = _exercises(args.spec, args.decimals, args.language)
        drawn = [(None, None) if args.no_drawing else network_picture(e.solution, e.style) for e in exercises]
        pictures = [picture for picture, _ in drawn]
        if exercises[0].number == 0:  # a spec of one exercise: its questions as they always were
            text = moodle_quiz(exercises[0].solution, exercises[0].style, pictures[0])
        else:
            text = moodle_exercises(stem, title, exercises, pictures)
        files = write_all(args.output, {f"{stem}-moodle.xml": text.encode()})
    except DeriveError as error:
        print(f"derive: error: {error}", file=sys.stderr)
        return error.exit_status
    except ValueError as error:  # --decimals out of range
        print(f"derive: error: --{str(error).replace('_', '-')}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"derive: error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    for path in files:
        print(path)
    for warning in dict.fromkeys(warning for _, warning in drawn if warning):  # no TeX: said once
        print(f"derive: warning: {warning}", file=sys.stderr)
    return 0


def _main(argv: Sequence[str] | None, written: list[bool]) -> int:
    from derive.pdf.formats import default_cache
    from derive.pipeline import Options

    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 0
    if args.command == "example" and (done := _example(args)) is not None:
        return done
    if args.command == "schema":
        return _schema(args.which, args.output)
    if args.command == "check":
        return _check(args.spec, args.values, args.decimals, args.row)
    if args.command == "moodle":
        return _moodle(args)
    if getattr(args, "jobs", None) is not None and not 1 <= args.jobs <= MAX_JOBS:
        print(
            f"derive: error: --jobs: expected a whole number from 1 to {MAX_JOBS}, found {args.jobs}", file=sys.stderr
        )
        return 2
    try:
        if args.command in ("variants", "example"):
            specs = [args.spec]
        else:
            specs = spec_files([args.spec] if args.command in ("watch", "exam") else args.spec)
    except ValueError as error:
        print(f"derive: error: {error}", file=sys.stderr)
        return 2
    try:
        options = Options(
            output_dir=args.output,
            decimals=args.decimals,
            language=args.language,
            paper=args.paper,
            engine=args.engine,
            pdf=not args.no_pdf,
            timeout=args.timeout,
            max_seconds=args.max_seconds,
            templates=tuple(args.templates),
            logo_from=tuple(args.logo_from),
            exam=args.command == "exam",
            formats=None if args.no_cache or args.no_format_cache else default_cache(),
            compiled=None if args.no_cache else default_cache().parent / "templates",
        )
        if not MIN_MEMORY <= args.max_memory <= MAX_MEMORY:
            raise ValueError(f"max_memory: expected MiB from {MIN_MEMORY} to {MAX_MEMORY}, found {args.max_memory}")
    except ValueError as error:  # the option's name leads the message, as on the command line
        name, _, problem = str(error).partition(":")
        print(f"derive: error: --{name.replace('_', '-')}:{problem}", file=sys.stderr)
        return 2
    if args.command == "variants":
        return _variants(args, options, written)
    if args.command == "watch":
        from derive.watch import watch

        return watch(specs[0], options, lambda again: _build(specs[0], options, args.max_memory, written, again))
    if len(specs) == 1:
        return _build(specs[0], options, args.max_memory, written)
    return _build_all(specs, options, args.max_memory, written, getattr(args, "jobs", None))


def _variants(args: argparse.Namespace, options: Options, written: list[bool]) -> int:
    """``derive variants``: a batch of variants (or, with --only, one made again), the files it wrote
    one line each (a variant's folder in one line), and a summary line; the exit status."""
    from derive.variants import make_one, make_variants

    if args.only is None and args.count is None:
        print("derive: error: -n/--count: how many variants? (or --only CODE for one made again)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    bar = Progress(sys.stderr)
    try:
        with memory_bound(args.max_memory):
            try:
                if args.only is not None:
                    made = make_one(args.spec, args.only, args.seed, options)
                else:
                    made = make_variants(
                        args.spec, args.count, args.seed, options, roster=args.roster, jobs=args.jobs, progress=bar
                    )
            except MemoryError:
                raise BudgetError(out_of_memory("the batch")) from None
            finally:
                bar.close()
    except DeriveError as error:
        print(f"derive: error: {error}", file=sys.stderr)
        return error.exit_status
    except ValueError as error:  # --count or --seed out of bounds
        name, _, problem = str(error).partition(":")
        print(f"derive: error: --{name}:{problem}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"derive: error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    written.append(True)
    folders: dict[Path, int] = {}
    for path in made.files:
        top = path.relative_to(options.output_dir).parts[0]
        if top != path.name:
            folders[options.output_dir / top] = folders.get(options.output_dir / top, 0) + 1
        else:
            print(path)
    for folder, count in folders.items():
        print(f"{folder}/ ({count} files)")
    batch = made.batch
    reasons = ", ".join(f"{count} {reason}" for reason, count in batch.rejected.most_common())
    rejected = sum(batch.rejected.values())
    print(
        f"derive: {len(batch.outcomes)} variant{'s' if len(batch.outcomes) != 1 else ''} built and verified;"
        f" {batch.draws} draws, {rejected} rejected{f' ({reasons})' if reasons else ''};"
        f" in {time.perf_counter() - started:.2f} s on {made.jobs} process{'es' if made.jobs != 1 else ''}",
        file=sys.stderr,
    )
    for warning in made.warnings:
        print(f"derive: warning: {warning}", file=sys.stderr)
    return 0


class Progress:
    """How far a batch is: a bar redrawn in place on a terminal, a plain line per variant otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.terminal = stream.isatty()
        self.drawn = False

    def __call__(self, done: int, total: int, rejected: int) -> None:
        with contextlib.suppress(OSError):
            if self.terminal:
                filled = round(30 * done / total)
                bar = "#" * filled + "." * (30 - filled)
                self.stream.write(f"\rderive: variants [{bar}] {done}/{total}, {rejected} draws rejected ")
                self.drawn = True
            else:
                self.stream.write(f"derive: variant {done} of {total} ready ({rejected} draws rejected so far)\n")
            self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            with contextlib.suppress(OSError):
                self.stream.write("\n")
                self.drawn = False


def spec_files(given: Sequence[Path]) -> list[Path]:
    """The spec files named on the command line, a folder standing for every *.toml in it (sorted);
    a ValueError, before any work, when two would write the same files (the same stem)."""
    specs: list[Path] = []
    for path in given:
        if path.is_dir():
            # Hidden names are an editor's (Emacs's lock link .#a.toml), not specs.
            found = sorted(p for p in path.glob("*.toml") if not p.name.startswith(".") and not p.is_dir())
            if not found:
                raise ValueError(f"{path}: no *.toml spec files in this folder")
            specs += found
        else:
            specs.append(path)
    stems: dict[str, Path] = {}
    for spec in specs:
        if spec.stem in stems and stems[spec.stem].resolve() == spec.resolve():
            raise ValueError(f"{spec} is named twice (nothing was built)")
        if spec.stem in stems:
            raise ValueError(
                f"{stems[spec.stem]} and {spec} would both write the files {spec.stem}-*; rename one"
                " (nothing was built)"
            )
        stems[spec.stem] = spec
    return specs


def _build_all(
    specs: Sequence[Path], options: Options, max_memory: int, written: list[bool], jobs: int | None = None
) -> int:
    """Build the specs (each all or nothing) on ``jobs`` processes (default: one per core), each
    one's lines printed in the specs' order, then one line saying which built and which did not; the
    status of the first that failed, else 0."""
    from derive.variants.pool import cores, workers

    failed: list[tuple[Path, int]] = []
    with workers(min(jobs or cores(), len(specs))) as submit:
        builds = [submit(_captured, spec, options, max_memory) for spec in specs]
        for spec, build in zip(specs, builds, strict=True):
            status, out, err, wrote = build.result()
            sys.stdout.write(out)
            sys.stdout.flush()
            sys.stderr.write(err)
            if wrote:
                written.append(True)
            if status:
                failed.append((spec, status))
    built = [str(spec) for spec in specs if spec not in dict(failed)]
    line = f"derive: built {len(built)} of {len(specs)} specs" + (f" ({', '.join(built)})" if built else "")
    if failed:
        line += "; failed: " + ", ".join(f"{spec} (exit {status})" for spec, status in failed)
    print(line, file=sys.stderr)
    return failed[0][1] if failed else 0


def _captured(spec: Path, options: Options, max_memory: int) -> tuple[int, str, str, bool]:
    """One of several specs built (in a worker process): its exit status, what it printed to stdout
    and stderr, and whether it wrote its files."""
    out, err = io.StringIO(), io.StringIO()
    written: list[bool] = []
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = _build(spec, options, max_memory, written, name=f"{spec}: ")
    return status, out.getvalue(), err.getvalue(), bool(written)


def _build(
    spec: Path, options: Options, max_memory: int, written: list[bool], again: bool = False, name: str = ""
) -> int:
    """Build one spec, print what was written (``again``: a rebuild, only warnings and errors) or the
    one-line error; the exit status. ``name`` leads the summary line (several specs)."""
    from derive.pipeline import build_sheet

    started = time.perf_counter()
    try:
        with memory_bound(max_memory):
            try:
                built = build_sheet(spec, options)
            except MemoryError:  # past the bound outside the stages of the build (which name themselves)
                raise BudgetError(out_of_memory("the build")) from None
    except DeriveError as error:
        where = name if name and not str(error).startswith(str(spec)) else ""  # which of several specs
        print(f"derive: error: {where}{error}", file=sys.stderr)
        return error.exit_status
    except OSError as error:
        print(f"derive: error: {name}{error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except Exception as error:
        print(
            f"derive: internal error: {name}{type(error).__name__}: {error} (please report this with your spec)",
            file=sys.stderr,
        )
        return 70
    written.append(True)
    if again:
        _warn(built)
        return 0
    fragments: set[Path] = set()
    for path in built.files:
        if path.parent != built.files[0].parent:  # the fragments: one line for their folder
            if path.parent not in fragments:
                fragments.add(path.parent)
                print(f"{path.parent}/ ({sum(1 for p in built.files if p.parent == path.parent)} LaTeX fragments)")
            continue
        print(path)
    report = built.report
    differences = f" and {report.differences} gradients by finite differences" if report.differences else ""
    print(
        f"{name}verified {report.values} values against float64{differences};"
        f" {built.redone}; in {time.perf_counter() - started:.2f} s",
        file=sys.stderr,
    )
    _warn(built)
    sys.stdout.flush()  # a watching run's first files are seen before its first rebuild
    return 0


def _warn(built: Built) -> None:
    for warning in built.warnings:
        print(f"derive: warning: {warning}", file=sys.stderr)
    if built.redone.failed:
        print(f"derive: warning: these lines do not redo: {', '.join(built.redone.failed)}", file=sys.stderr)


def run() -> None:
    """Console-script entry point (and ``python -m derive``): SIGINT, SIGTERM and SIGHUP end the run
    cleanly, at any moment, with 130, 143 or 129."""
    processes.install()
    # The imports and a build make many small objects and few cycles: the collector's default, a pass
    # every 700 allocations, spent 5 % of a build's time finding nothing (same peak memory). The
    # command's own process only: a program importing derive keeps its collector as it set it.
    gc.set_threshold(50_000, 50, 100)
    try:
        status = main()
        processes.settle()  # from here on a signal changes nothing: the run is over
    except processes.Interrupted as stop:  # came after main returned, before settle
        processes.settle()
        status = stop.status
    leave(status)


def leave(status: int) -> NoReturn:
    """End the process with ``status`` once what it printed is flushed, skipping the interpreter's
    teardown: every file is written and every TeX reaped by now, and freeing SymPy's caches and the
    modules' objects one by one took a tenth of a second after TeX's last page. A failed flush (a
    closed pipe, a full disk) ends with 120, as the interpreter's own exit would.

    Only a run that succeeded with every thread done skips the teardown: after a signal or an error a
    build's thread may still be leaving its temporary folder (the interpreter waits for it and runs
    the clean-ups registered to run at exit)."""
    if status != 0 or threading.active_count() > 1:
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # ValueError: the stream was closed
            status = status or 120
    os._exit(status)
