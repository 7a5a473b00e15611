"""What a build is asked for (:class:`Options`) and what it gives back (:class:`Built`)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from derive.budget import check_seconds
from derive.exercise.model import ENGINES, LANGUAGES, PAPERS
from derive.maths.steps import Solution
from derive.pdf.formats import default_cache
from derive.render.reproduce import Redone
from derive.verify.gate import Report


@dataclass(frozen=True)
class Options:
    """How a sheet is built; passed explicitly, never global."""

    output_dir: Path = Path("output")
    decimals: int | None = None
    """Places of decimals on the sheets; None keeps the spec's ``sheet.decimals``."""
    pdf: bool = True
    """Compile the PDFs (the .tex and answers are written either way)."""
    timeout: float = 60.0
    """Seconds one pdflatex run may take."""
    templates: tuple[Path, ...] = ()
    """User template folders, searched before the built-in ones."""
    language: str | None = None
    """"en" or "de"; None keeps the spec's ``sheet.language``."""
    paper: str | None = None
    """"a4" or "letter"; None keeps the spec's ``sheet.paper``."""
    engine: str | None = None
    """"pdflatex", "lualatex" or "xelatex"; None keeps the spec's ``sheet.engine``."""
    formats: Path | None = field(default_factory=default_cache)
    """Folder of cached TeX formats of the preamble (:mod:`derive.pdf.formats`); None: no cache."""
    compiled: Path | None = field(default_factory=lambda: default_cache().parent / "templates")
    """Folder of compiled templates (Jinja's bytecode cache: a cold build skips compiling them);
    None: compile in every process."""
    max_seconds: float = 120.0
    """Seconds the derivation, the verification and the rendering may take together (waiting for TeX
    is bounded by ``timeout``); past them the build stops with a :class:`BudgetError` naming the part."""
    logo_from: tuple[Path, ...] = ()
    """Folders a logo may also come from, besides the spec file's own folder (and below): a spec
    given as text (:func:`parse_spec`) has no folder, so its logo needs one of these."""
    exam: bool = False
    """Build the exam and its marking scheme (``STEM-exam``, ``STEM-marking``: .tex and PDF) instead of
    the two sheets, as ``derive exam`` does (docs/exam.md); every part needs its points."""

    def __post_init__(self) -> None:
        # Checked and converted here, before any work: a str path is a path (not a folder per letter),
        # and a bad number is one ValueError naming the option, not a failure after the derivation.
        paths = {"output_dir": self.output_dir, "formats": self.formats, "compiled": self.compiled}
        for name, value in paths.items():
            if value is not None and not isinstance(value, str | os.PathLike):
                raise TypeError(f"{name}: expected a folder (str or Path), not {type(value).__name__}")
            object.__setattr__(self, name, None if value is None else Path(value))
        for name in ("templates", "logo_from"):
            object.__setattr__(self, name, folders(name, getattr(self, name)))
        for flag in ("pdf", "exam"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"{flag}: expected True or False, not {type(getattr(self, flag)).__name__}")
        if self.language is not None and self.language not in LANGUAGES:
            raise ValueError(f"language: expected one of {', '.join(LANGUAGES)}, found {self.language!r}")
        for name, valid in (("paper", PAPERS), ("engine", ENGINES)):
            if getattr(self, name) is not None and getattr(self, name) not in valid:
                raise ValueError(f"{name}: expected one of {', '.join(valid)}, found {getattr(self, name)!r}")
        if isinstance(self.timeout, bool):
            raise TypeError("timeout: expected seconds, not bool")
        object.__setattr__(self, "timeout", check_seconds("timeout", self.timeout))  # one LaTeX run: 1 s to an hour
        if self.decimals is not None and not (
            isinstance(self.decimals, int) and not isinstance(self.decimals, bool) and 0 <= self.decimals <= 12
        ):
            raise ValueError(f"decimals: expected a whole number from 0 to 12, found {self.decimals!r}")
        object.__setattr__(self, "max_seconds", check_seconds("max_seconds", self.max_seconds))


def folders(name: str, value: object) -> tuple[Path, ...]:
    """One folder (str or Path) or a sequence of them, as paths: a str is one folder, never one per letter."""
    items = (value,) if isinstance(value, str | os.PathLike) else value
    if not isinstance(items, Sequence) or not all(isinstance(item, str | os.PathLike) for item in items):
        raise TypeError(f"{name}: expected a folder (str or Path) or a sequence of them, not {type(value).__name__}")
    return tuple(Path(item) for item in items)


@dataclass(frozen=True)
class Built:
    """What a build wrote, and what the verification gate checked."""

    files: tuple[Path, ...]
    report: Report
    solution: Solution
    """The verified derivation the files were made from (look quantities up by answer key)."""
    warnings: tuple[str, ...] = field(default=())
    """What a reader of the PDFs would notice that did not stop the build: lines run into the margin;
    and a cache folder not used because other users could change it."""
    redone: Redone = field(default=Redone())
    """The solution sheet's substituted lines, and which of them redo from the numbers they show."""
    solutions: tuple[Solution, ...] = ()
    """Every exercise's verified derivation, in the sheet's order (``solution`` is the first's)."""
    context: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The solution sheet's template context (a build of one exercise): a Moodle question of the
    same solution is made from it instead of a new one."""
