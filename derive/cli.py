"""The ``derive`` command: build sheets from a spec or from the built-in example."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# Only light modules here: run() installs the signal handling before SymPy and the rest load (in
# main), so that a Ctrl-C or a SIGTERM during the imports ends the run in one line too.
from derive import __version__
from derive.budget import MAX_MEMORY, MIN_MEMORY, memory_bound, out_of_memory
from derive.errors import BudgetError, DeriveError
from derive.pdf import processes

DESCRIPTION = """\
Turn a small neural-network exercise (a TOML spec) into an exercise sheet and a worked,
exactly computed and independently verified solution sheet, as LaTeX and PDF.

commands:
  derive sheet SPEC.toml [-o DIR]   build SPEC-exercise.pdf, SPEC-solution.pdf, their .tex
                                    sources and SPEC-answers.json in DIR (default: output)
  derive example [-o DIR]           the same for the built-in example (the seed sheet on
                                    backpropagation); --toml prints its spec to start your own

exit status: 0 done, 2 bad spec, 3 verification failed, 4 LaTeX failed, 5 no TeX installed
(the .tex and answers files are still written), 6 over --max-seconds or --max-memory;
130, 143, 129 stopped by SIGINT (Ctrl-C),
SIGTERM, SIGHUP (nothing is left running, and the output folder is as before or complete).
"""


def parser() -> argparse.ArgumentParser:
    from derive.exercise.model import ENGINES, LANGUAGES, PAPERS
    from derive.pdf.formats import default_cache

    main = argparse.ArgumentParser(
        prog="derive", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    main.add_argument("--version", action="version", version=f"derive {__version__}")
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

    sheet = commands.add_parser(
        "sheet", help="build the sheets of a spec file", description="Build the sheets of SPEC."
    )
    sheet.add_argument("spec", type=Path, metavar="SPEC", help="the exercise spec (TOML)")
    common(sheet)
    example = commands.add_parser(
        "example", help="build the built-in example", description="Build the built-in example."
    )
    example.add_argument("--toml", action="store_true", help="print the example's spec instead of building it")
    common(example)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status. Errors are one line, never a traceback; a signal
    (Ctrl-C, SIGTERM, SIGHUP: :func:`run` turns each into an interrupt) ends it with 128 + its number."""
    written: list[bool] = []  # whether the output files were replaced before the signal came
    try:
        return _main(argv, written)
    except KeyboardInterrupt as stop:
        number = getattr(stop, "number", signal.SIGINT)
        done = written or getattr(stop, "written", False)
        name = signal.Signals(number).name
        _say(f"derive: stopped by {name}; " + ("the files were written" if done else "nothing was written"))
        return 128 + number


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
        print(line, file=sys.stderr)


def _main(argv: Sequence[str] | None, written: list[bool]) -> int:
    from derive.exercise.reader import example_path
    from derive.pdf.formats import default_cache
    from derive.pipeline import Options, build_sheet

    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 0
    if args.command == "example" and args.toml:
        sys.stdout.write(example_path().read_text(encoding="utf-8"))
        return 0
    spec = example_path() if args.command == "example" else args.spec
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
            formats=None if args.no_cache or args.no_format_cache else default_cache(),
            compiled=None if args.no_cache else default_cache().parent / "templates",
        )
        if not MIN_MEMORY <= args.max_memory <= MAX_MEMORY:
            raise ValueError(f"max_memory: expected MiB from {MIN_MEMORY} to {MAX_MEMORY}, found {args.max_memory}")
    except ValueError as error:  # the option's name leads the message, as on the command line
        name, _, problem = str(error).partition(":")
        print(f"derive: error: --{name.replace('_', '-')}:{problem}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        with memory_bound(args.max_memory):
            try:
                built = build_sheet(spec, options)
            except MemoryError:  # past the bound outside the stages of the build (which name themselves)
                raise BudgetError(out_of_memory("the build")) from None
    except DeriveError as error:
        print(f"derive: error: {error}", file=sys.stderr)
        return error.exit_status
    except OSError as error:
        print(f"derive: error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except Exception as error:
        print(
            f"derive: internal error: {type(error).__name__}: {error} (please report this with your spec)",
            file=sys.stderr,
        )
        return 70
    written.append(True)
    fragments: set[Path] = set()
    for path in built.files:
        if path.parent != built.files[0].parent:  # the fragments: one line for their folder
            if path.parent not in fragments:
                fragments.add(path.parent)
                print(f"{path.parent}/ ({sum(1 for p in built.files if p.parent == path.parent)} LaTeX fragments)")
            continue
        print(path)
    report = built.report
    print(
        f"verified {report.values} values against float64 and {report.differences} gradients by finite differences;"
        f" {built.redone}; in {time.perf_counter() - started:.2f} s",
        file=sys.stderr,
    )
    for warning in built.warnings:
        print(f"derive: warning: {warning}", file=sys.stderr)
    if built.redone.failed:
        print(f"derive: warning: these lines do not redo: {', '.join(built.redone.failed)}", file=sys.stderr)
    return 0


def run() -> None:
    """Console-script entry point (and ``python -m derive``): SIGINT, SIGTERM and SIGHUP end the run
    cleanly, at any moment, with 130, 143 or 129."""
    processes.install()
    try:
        status = main()
        processes.settle()  # from here on a signal changes nothing: the run is over
    except processes.Interrupted as stop:  # came after main returned, before settle
        processes.settle()
        status = stop.status
    sys.exit(status)
