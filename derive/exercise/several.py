"""Reading a sheet spec of several exercises (``[[exercises]]``, inline or ``include = "file.toml"``);
a spec of one exercise reads as a sheet of one. Each exercise is read by the one-exercise reader."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from derive.errors import SpecError
from derive.exercise.exercises import MAX_EXERCISES, Exercises
from derive.exercise.fields import kind_of
from derive.exercise.marks import read_exam
from derive.exercise.model import Exam, Sheet, Spec
from derive.exercise.reader import Kinds, _Reader, parse_spec, read_file, toml_data
from derive.exercise.shapes import Shape

SHEET_ROOT_KEYS = ("sheet", "notation", "exercises", "exam")
"""A sheet spec's tables: [sheet], [notation] (every exercise's default), [[exercises]] and [exam]
(the exam of every exercise, ``derive exam``)."""
EXERCISE_KEYS: Mapping[str, Shape] = {
    "title": Shape("text", "the exercise's title (an included file's [sheet] title unless given)"),
    "include": Shape("text", "a one-exercise spec file, relative to this spec's folder"),
    "notation": Shape("tables", "the exercise's own [notation] (default: the sheet's): NOTATION_KEYS"),
    "network": Shape("tables", "the exercise's network, as a spec's [network]"),
    "loss": Shape("tables", "the exercise's loss, as a spec's [loss]"),
    "parts": Shape("tables", "the exercise's [[exercises.parts]], as a spec's [[parts]]"),
}
"""[[exercises]]: every key of an entry (:mod:`derive.schema` writes the tables' own keys from the spec's)."""
_INCLUDED = ("include", "title")
"""The keys of an entry that includes its exercise: all else is in the included file."""


def load_sheet(path: str | Path, kinds: Kinds) -> Exercises:
    """Read and validate a spec file: a sheet of several exercises, or one exercise as a sheet of one."""
    text, folder = read_file(path)
    path = Path(path)
    return parse_sheet(text, kinds, name=path.stem, source=str(path), folder=folder)


def included_files(path: str | Path) -> list[Path]:
    """The files a sheet spec file includes, as its ``[[exercises]]`` name them (from its folder), each
    once: what a watcher watches beside the sheet. Not validated (an include the reader would refuse
    is listed too); raises :class:`SpecError` when the sheet cannot be read as TOML."""
    text, folder = read_file(path)
    entries = toml_data(text, str(path)).get("exercises", [])
    found = [folder / e["include"] for e in entries if isinstance(e, dict) and isinstance(e.get("include"), str)]
    return list(dict.fromkeys(found))


def parse_sheet(
    text: str, kinds: Kinds, *, name: str = "exercise", source: str = "spec", folder: Path | None = None
) -> Exercises:
    """Validate sheet TOML ``text``; ``folder`` is where its includes come from (a spec given as text
    has none, so it includes nothing)."""
    data = toml_data(text, source)
    if "exercises" not in data:
        return Exercises.of(parse_spec(text, kinds, name=name, source=source, folder=folder))
    return _SheetReader(text, source, folder).sheet_of(data, name, kinds)


class _SheetReader(_Reader):
    """The sheet's own tables, then each exercise by a one-exercise reader; every error names the
    exercise (``exercises[2].parts[3].x``) and, for an included file, that file and its line."""

    def sheet_of(self, data: dict[str, Any], name: str, kinds: Kinds) -> Exercises:
        root = self.table([], data, SHEET_ROOT_KEYS)
        sheet_table = root.get("sheet", {})
        sheet = self.sheet(sheet_table)  # checked here, once, with its lines: each exercise reads it again
        if "notation" in root:
            sheet = replace(sheet, notation=self.notation(root["notation"]))
        entries = root["exercises"]
        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            raise self.fail(["exercises"], f"expected one or more [[exercises]] tables, found {kind_of(entries)}")
        if len(entries) > MAX_EXERCISES:
            raise self.fail(
                ["exercises", MAX_EXERCISES + 1], f"at most {MAX_EXERCISES} exercises; found {len(entries)}"
            )
        assert isinstance(sheet_table, dict)
        # Each exercise is read with the sheet's settings (its rounding decides what its parts may be);
        # the logo is the sheet's, read once (a path relative to the sheet's folder).
        settings = {key: value for key, value in sheet_table.items() if key not in ("title", "logo")}
        exercises = tuple(
            self.exercise(number, entry, settings, root.get("notation"), sheet, name, kinds)
            for number, entry in enumerate(entries, 1)
        )
        exam = read_exam(self, root["exam"]) if "exam" in root else Exam()
        return Exercises(name, sheet, exercises, exam)

    def exercise(
        self,
        number: int,
        entry: dict[str, Any],
        settings: dict[str, Any],
        notation: object,
        sheet: Sheet,
        name: str,
        kinds: Kinds,
    ) -> Spec:
        path: list[str | int] = ["exercises", number]
        self.table(path, entry, EXERCISE_KEYS)
        title = self.text([*path, "title"], entry["title"]) if "title" in entry else None
        folder: Path | None
        if "include" in entry:
            for key in entry:
                if key not in _INCLUDED:
                    raise self.fail([*path, key], "an included exercise is all in its file: only title may go beside")
            text, source, data, folder = self.included(path, entry["include"], name, kinds)
            if title is None:
                title = self.included_title(data)
        else:
            if "parts" not in entry:
                raise self.fail([*path, "parts"], "missing: an exercise needs [[exercises.parts]] (or an include)")
            text, source, folder = located(self.lines, number), self.source, self.folder
            data = {key: entry[key] for key in ("notation", "network", "loss", "parts") if key in entry}
        # The exercise's own notation, or the sheet's; the sheet's settings (and its [exam]), whatever a
        # file says.
        own: dict[str, object] = {"sheet": settings}
        if "notation" not in data and notation is not None:
            own["notation"] = notation
        exercise_data = {**{k: v for k, v in data.items() if k not in ("sheet", "exam")}, **own}
        try:
            spec = _Reader(text, source, folder).spec(exercise_data, name, kinds)
        except SpecError as error:
            raise within(error, number) from None
        return replace(
            spec,
            sheet=replace(
                sheet,
                title=title or "",
                notation=spec.sheet.notation,
                typed_decimals=spec.sheet.typed_decimals,
            ),
        )

    def included(
        self, path: list[str | int], value: object, name: str, kinds: Kinds
    ) -> tuple[str, str, dict[str, Any], Path]:
        """An included file's text, name, tables and folder, once it reads as a spec of its own.

        Like the logo, an include is read only from the sheet's folder or below (symlinks resolved
        first), and only a regular file of bounded size (:func:`read_file`)."""
        where = [*path, "include"]
        file = self.text(where, value)
        if Path(file).suffix != ".toml":
            raise self.fail(where, f"an include is a .toml spec file; found {file!r}")
        if self.folder is None:
            raise self.fail(where, "a spec given as text has no folder to include from: load the sheet from its file")
        target = (self.folder / file).resolve()
        if not target.is_relative_to(self.folder.resolve()):
            raise self.fail(where, f"{file} is not in the sheet's folder (or below it)")
        if not os.path.isfile(target):
            raise self.fail(where, f"{file}: no such file in the sheet's folder")
        try:
            text, folder = read_file(target)
        except SpecError as error:
            raise self.fail(where, f"{file}: {error.message}") from None
        source = str(Path(self.source).parent / file) if self.source != "spec" else file
        try:
            data = toml_data(text, source)
            if "exercises" in data:
                raise SpecError("", "an included file holds one exercise, not a sheet of them", source=source)
            parse_spec(text, kinds, name=name, source=source, folder=folder)  # as an ordinary spec first
        except SpecError as error:
            raise within(error, path[1]) from None
        return text, source, data, folder

    def included_title(self, data: dict[str, Any]) -> str:
        sheet = data.get("sheet", {})
        title = sheet.get("title", "") if isinstance(sheet, dict) else ""
        return title if isinstance(title, str) else ""


def within(error: SpecError, number: object) -> SpecError:
    """``error`` naming its exercise: ``exercises[2].parts[3].x``, at its file and line."""
    field = f"exercises[{number}]" + (f".{error.field}" if error.field else "")
    return SpecError(field, error.message, line=error.line, source=error.source)


_HEADER = re.compile(r"^(\s*\[\[?\s*)exercises\.")
_ENTRY = re.compile(r"^\s*\[\[\s*exercises\s*\]\]")


def located(lines: list[str], number: int) -> str:
    """The sheet's text as the one-exercise reader places exercise ``number``'s errors: that entry's
    lines where they are, its ``[[exercises.parts]]`` written ``[[parts]]``, every other line empty
    (only to find lines: the tables themselves come from TOML)."""
    out: list[str] = []
    entry = 0
    for line in lines:
        if _ENTRY.match(line):
            entry += 1
        out.append(_HEADER.sub(r"\1", line) if entry == number and not _ENTRY.match(line) else "")
    return "\n".join(out)
