"""A lecturer's loop: rebuild a spec's sheets on every save, in one warm process, and say which values changed."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from derive.errors import DeriveError, TexMissing
from derive.exercise.several import included_files
from derive.pdf import early
from derive.pdf.kept import KEPT, Kept
from derive.pipeline import Options, load_sheet
from derive.render import templates

POLL = 0.05
"""Seconds between two looks at the watched files while nothing changed."""
SETTLE = 0.05
"""Seconds the watched files must stay as a look found them changed before a rebuild starts."""
# Polled, not watched through the OS (watchfiles, inotify): a look at a few files costs microseconds,
# and a poll sees every kind of save alike on every platform and file system (an editor's write in
# place or temp file renamed over the spec, network and container mounts where no events arrive).
# A save is seen within POLL + SETTLE (0.1 s; a rebuild of the example takes 0.8 s): an editor's
# writes of one save (a truncation and the text, a temp file and its rename) come within milliseconds.

EXAMPLES = 2
"""Changed values named per part (old → new); the rest are counted."""
PARTS = 4
"""Parts named in a summary; the rest are counted."""

Look = dict[str, tuple[int, int, int, int] | None]
"""What a look saw: each watched file's (device, inode, size, modification time), None if missing."""

Where = tuple[int | None, int | None]
"""Where a value belongs: its exercise (None on a sheet of one exercise) and its part (None: the network)."""

Answers = dict[str, tuple[Where, str]]
"""An answers file read back: each quantity's answer key → (where it belongs, its decimal)."""


def watch(spec: Path, options: Options, build: Callable[[bool], int], say: Callable[[str], None] | None = None) -> int:
    """Build ``spec`` (``build(False)``: prints what was written, returns the exit status), then, until a
    signal stops the process, rebuild (``build(True)``) whenever the spec, its logo, a file it includes
    or a file in a template folder has been saved, and say in a line which answers changed. A save that breaks the
    spec leaves the last good output in place (builds write all or nothing); watching goes on. A sheet
    whose source is the same as the last build's is not typeset again (:mod:`derive.pdf.kept`)."""
    token = KEPT.set(Kept())
    try:
        return _watch(spec, options, build, say or _stderr)
    finally:
        early.discard()
        KEPT.reset(token)


def _watch(spec: Path, options: Options, build: Callable[[bool], int], tell: Callable[[str], None]) -> int:
    watched = Watched(spec, options)
    seen = watched.look()
    status = build(False)
    answers = read_answers(options.output_dir, spec) if status in (0, TexMissing.exit_status) else None
    seen = watched.follow_logo(seen)
    tell(f"derive: watching {watched}; a save rebuilds, Ctrl-C stops")
    while True:
        _ready_tex(options)
        seen = watched.wait(seen)
        if watched.templates_changed:
            # A folder's templates are reloaded when edited, but the language catalogue is bound when
            # the environment is made: an edited catalogue needs a new environment.
            templates._environment.cache_clear()
        started = time.perf_counter()
        status = build(True)
        seconds = time.perf_counter() - started
        seen = watched.follow_logo(seen)
        if status not in (0, TexMissing.exit_status):
            tell(f"derive: the last good output stays in {options.output_dir}; watching for the next save")
            continue
        what = "PDFs" if options.pdf and status == 0 else ".tex and answers"
        new = read_answers(options.output_dir, spec)
        if answers is None or new is None:
            tell(f"derive: {what} built in {seconds:.1f} s")
        else:
            tell(f"derive: {changes(answers, new)}; {what} rebuilt in {seconds:.1f} s")
        answers = new


def _ready_tex(options: Options) -> None:
    """TeX for the next rebuild, started while the lecturer edits (:mod:`derive.pdf.early`): it loads
    the formats the last build used, so that the rebuild's sheets start typesetting at once (a TeX
    run's fixed cost is a tenth of a second, of the 0.8 s of a rebuild's solution sheet). Runs the
    last rebuild did not take (its preamble changed) are ended first."""
    early.discard()
    if options.pdf and options.formats is not None and options.engine in (None, "pdflatex"):
        early.start(["watch"], options.formats)


class Watched:
    """The files a build of a spec reads that a lecturer edits: the spec, its logo (as the last spec
    that could be read names it), the files a sheet includes and every file in the template folders."""

    def __init__(self, spec: Path, options: Options) -> None:
        self.spec = spec
        self.folders = options.templates
        self.output = options.output_dir.resolve()
        self.logo: Path | None = None
        self.included: tuple[Path, ...] = ()
        self.templates_changed = False

    def __str__(self) -> str:
        files = len(self.included)
        extra = [
            *(["its logo"] if self.logo else []),
            *([f"{files} included file{'s' if files != 1 else ''}"] if files else []),
            *map(str, self.folders),
        ]
        return f"{self.spec}" + (f" ({', '.join(extra)})" if extra else "")

    def follow_logo(self, seen: Look) -> Look:
        """Watch the logo and the included files the spec names now (a spec that cannot be read keeps
        the last ones; a broken included file stays watched, so that saving it mended rebuilds); ``seen``
        with a newly named file as it is now, so that naming it is not taken for a save."""
        with contextlib.suppress(DeriveError, OSError):
            logo = load_sheet(self.spec).sheet.logo
            self.logo = Path(logo) if logo else None
        with contextlib.suppress(DeriveError, OSError):
            self.included = tuple(included_files(self.spec))
        named = [*([self.logo] if self.logo else []), *self.included]
        return {**seen, **{str(path): _stat(path) for path in named if str(path) not in seen}}

    def look(self) -> Look:
        """The watched files as they are now."""
        found: Look = {str(self.spec): _stat(self.spec)}
        if self.logo is not None:
            found[str(self.logo)] = _stat(self.logo)
        for path in self.included:
            found[str(path)] = _stat(path)
        for folder in self.folders:
            for path in _files(folder, self.output):
                found[f"templates\0{path}"] = _stat(path)
        return found

    def wait(self, seen: Look) -> Look:
        """Wait until the watched files differ from ``seen`` and then stay the same for one more look
        (an editor writes twice, or writes a temp file and renames it: one rebuild); what they are then."""
        now = seen
        while now == seen:
            time.sleep(POLL)
            now = self.look()
        while True:
            time.sleep(SETTLE)
            later = self.look()
            if later == now != seen:
                break
            now = later
        self.templates_changed = _folder_part(seen) != _folder_part(now)
        return now


def _stat(path: Path) -> tuple[int, int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _files(folder: Path, output: Path) -> Iterable[Path]:
    """Every file below ``folder``, in a stable order (none if it is missing), but in the ``output``
    folder (each build writes there: watching it would rebuild for ever)."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(name for name in dirs if (Path(root) / name).resolve() != output)
        for name in sorted(names):
            yield Path(root) / name


def _folder_part(look: Look) -> Look:
    return {name: state for name, state in look.items() if name.startswith("templates\0")}


def read_answers(folder: Path, spec: Path) -> Answers | None:
    """The answers file a build of ``spec`` wrote in ``folder``: answer key → (exercise and part,
    decimal); None if it cannot be read."""
    try:
        document = json.loads((folder / f"{spec.stem}-answers.json").read_text(encoding="utf-8"))
        return {q["name"]: ((q.get("exercise"), q["part"]), q["decimal"]) for q in document["quantities"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def changes(old: Answers, new: Answers) -> str:
    """Which answers differ between two builds, part by part: the first few with their decimals old →
    new, the rest counted; "no value changed" when none did. On a sheet of several exercises each
    exercise's parts are its own (exercise 2, part 1 is not exercise 1, part 1)."""
    groups: dict[Where, dict[str, list[str]]] = {}
    for name, (where, decimal) in new.items():
        if name not in old:
            groups.setdefault(where, {}).setdefault("new", []).append(name)
        elif old[name][1] != decimal:
            groups.setdefault(where, {}).setdefault("changed", []).append(f"{name}: {old[name][1]} → {decimal}")
    for name, (where, _) in old.items():
        if name not in new:
            groups.setdefault(where, {}).setdefault("gone", []).append(name)
    if not groups:
        return "no value changed"
    order = sorted(groups, key=lambda where: (where[0] or 0, -1 if where[1] is None else where[1]))
    said = [_group(where, groups[where]) for where in order[:PARTS]]
    if len(order) > PARTS:
        rest = sum(len(names) for where in order[PARTS:] for names in groups[where].values())
        said.append(f"and {_count(rest)} in {len(order) - PARTS} more parts")
    return "; ".join(said)


def _group(where: Where, kinds: dict[str, list[str]]) -> str:
    exercise, part = where
    place = "the network" if part is None else f"part {part}"
    named = place if exercise is None else f"exercise {exercise}, {place}"
    said = []
    if changed := kinds.get("changed"):
        shown = ", ".join(changed[:EXAMPLES]) + (", …" if len(changed) > EXAMPLES else "")
        said.append(f"{_count(len(changed))} changed ({shown})")
    if added := kinds.get("new"):
        said.append(f"{_count(len(added))} new")
    if gone := kinds.get("gone"):
        said.append(f"{_count(len(gone))} gone")
    return f"{named}: {', '.join(said)}"


def _count(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


def _stderr(line: str) -> None:
    with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
        print(line, file=sys.stderr, flush=True)
