"""The solution sheet rendered as it is derived: its head, then each part as soon as it is solved, then its tail.

The built-in ``solution.tex.j2`` is rendered with Jinja's streaming ``generate()`` over a lazy list
of parts: a part is derived only when the template's loop reaches it, so each chunk of output is
known to belong to the head, to part k, or to the tail. Joined, the pieces are exactly the sheet
that :func:`derive.render.templates.render_solution` makes from the finished solution (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jinja2

from derive.exercise.model import Part
from derive.maths.steps import PartSolution, Solution
from derive.render.context import Context, part_context, sheet_context
from derive.render.reproduce import Redone
from derive.render.templates import environment, wrap
from derive.tex.layout import matrix_columns
from derive.tex.style import Style

BODY = "%derive-body%"
"""Stands for the body while the document's head and tail are cut apart."""


class Pieces:
    """A document handed to ``sink`` piece by piece, each the moment it is complete: the head (the
    document's preamble) with the first; :meth:`_flush` ends a piece."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self.sink = sink
        self.head = ""  # the document's preamble, written before the first piece
        self.buffer: list[str] = []
        self.written: list[str] = []

    def _flush(self, end: str = "") -> None:
        text = "".join(self.buffer) + end
        # A piece with a matrix wider than amsmath allows lifts the limit before it: the sheet is
        # streamed, so its document cannot measure all of it first (render.document does otherwise).
        columns = matrix_columns(text)
        piece = self.head + (columns + "%\n" if columns else "") + text
        self.head = ""
        self.buffer = []
        self.written.append(piece)
        self.sink(piece)

    def _typeset(self, template: jinja2.Template, context: Context, document: str, count: int) -> str:
        """``template`` rendered into ``document`` (its head and tail around :data:`BODY`) as ``count``
        pieces: the template's loop over a lazy list flushes the piece before each item."""
        self.head, tail = document.split(BODY)
        self.buffer = []
        for chunk in template.generate(context):
            self.buffer.append(chunk)
        self._flush(tail)
        if len(self.written) != count:  # the template walked the list otherwise than once, in order
            raise RuntimeError(f"{template.name} gave {len(self.written)} pieces, not {count}")
        return "".join(self.written)


class SolutionPieces(Pieces):
    """Render with :meth:`render`; ``sink`` receives each piece the moment it is complete (the head
    before part 1 is derived). Afterwards :attr:`solution` and :attr:`context` are complete."""

    def __init__(
        self,
        sketch: Solution,
        style: Style,
        logo: str,
        solve: Callable[[Part[Any]], PartSolution],
        sink: Callable[[str], None] = lambda piece: None,
        compiled: Path | None = None,
    ) -> None:
        super().__init__(sink)
        self.sketch, self.style, self.solve = sketch, style, solve
        self.compiled = compiled  # the folder of compiled templates (render.environment)
        self.solved: list[PartSolution] = []
        self.contexts: list[dict[str, Any]] = []
        self.context: Context = {**sheet_context(sketch, style, logo=logo), "verification": _Checked(self)}
        self.context["parts"] = self._parts()

    @property
    def count(self) -> int:
        """Pieces: the head, one per part, the tail."""
        return len(self.sketch.parts) + 2

    @property
    def solution(self) -> Solution:
        return Solution(self.sketch.spec, self.sketch.givens, tuple(self.solved), self.sketch.diagram)

    def _parts(self) -> Iterator[dict[str, Any]]:
        # Called by the template's loop: everything rendered so far is the previous piece.
        for part in self.sketch.spec.parts:
            self._flush()
            solved = self.solve(part)
            self.solved.append(solved)
            self.contexts.append(part_context(solved, self.style.for_part(part), self.sketch.spec))
            yield self.contexts[-1]
        self._flush()

    def render(self) -> str:
        """The whole solution sheet, handing each piece to the sink on the way."""
        spec = self.sketch.spec
        env = environment((), self.style, self.compiled)
        plots = any(p.kind.plots(p.params) for p in spec.parts)
        logo = bool(self.context["sheet"]["logo"])
        document = wrap("solution", BODY, env, spec, self.style, plots, logo)
        text = self._typeset(env.get_template("solution.tex.j2"), self.context, document, self.count)
        self.context["parts"] = self.contexts
        counted = self.context["verification"]
        self.context["verification"] = {
            "checked": counted.checked,
            "differences": counted.differences,
            "lines": counted.lines,
            "redone": counted.redone,
        }
        return text


class Counted:
    """What a streamed sheet's verification sentence counts, worked out when the template prints it
    (after the last piece): the worked lines, from the part contexts :meth:`_parts` gives."""

    def _parts(self) -> Iterable[Mapping[str, Any]]:
        raise NotImplementedError

    @property
    def lines(self) -> int:
        return Redone.of(self._parts()).lines

    @property
    def redone(self) -> int:
        return Redone.of(self._parts()).redone


class _Checked(Counted):
    """``verification.checked``, counted when the template prints it (after every part is derived)."""

    def __init__(self, pieces: SolutionPieces) -> None:
        self.pieces = pieces

    @property
    def checked(self) -> int:
        return sum(1 for _ in self.pieces.solution.quantities())

    @property
    def differences(self) -> bool:
        return any(part.kind.differences for part in self.pieces.solution.spec.parts)

    def _parts(self) -> Iterable[Mapping[str, Any]]:
        return self.pieces.contexts
