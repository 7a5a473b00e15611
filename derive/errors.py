"""Errors a user can act on, each with its own exit status."""

from __future__ import annotations


class DeriveError(Exception):
    """Base class: a one-line message and the exit status the CLI returns."""

    exit_status = 1


class SpecError(DeriveError):
    """The spec is malformed: names the field, the TOML line where known, and what is wrong."""

    exit_status = 2

    def __init__(self, field: str, message: str, *, line: int | None = None, source: str = "") -> None:
        self.field = field
        self.message = message
        self.line = line
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source or "spec"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class DegenerateError(DeriveError):
    """The spec asks for something undefined (a division by zero, a gradient of an infinite loss)."""

    exit_status = 2


class VerificationError(DeriveError):
    """An exact value disagrees with the independent float64 check; nothing is written."""

    exit_status = 3


class TexError(DeriveError):
    """LaTeX failed: the message carries the relevant lines of the log."""

    exit_status = 4


class TexMissing(DeriveError):
    """No pdflatex on this machine: the .tex and answers were still written."""

    exit_status = 5


class BudgetError(DeriveError):
    """The build ran past its time (--max-seconds) or memory (--max-memory); names the stage, writes nothing."""

    exit_status = 6
