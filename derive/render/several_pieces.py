"""The solution sheet of several exercises rendered as it is derived: its head, then each exercise's
block as soon as the exercise is solved, then its tail.

As :mod:`derive.render.pieces` does for the parts of one exercise: ``several-solution.tex.j2`` is
rendered with Jinja's ``generate()`` over a lazy list of the exercises' blocks, so TeX typesets
exercise 1 while exercise 2 is derived. Joined, the pieces are exactly the sheet that
:func:`derive.render.several.render_several` makes from the finished exercises (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from derive.exercise.model import Spec
from derive.render.context import Context
from derive.render.pieces import BODY, Pieces
from derive.render.several import Exercise, block, exercise_context, several_context
from derive.render.templates import environment, wrap
from derive.tex.style import Style


class SeveralPieces(Pieces):
    """Render with :meth:`render`; ``solve`` works out one exercise's outline (its parts derived),
    ``sink`` receives each piece the moment it is complete. Afterwards :attr:`solved` and
    :attr:`contexts` hold every exercise and its template context."""

    def __init__(
        self,
        head: Spec,
        sketches: Sequence[Exercise],
        style: Style,
        logo: str,
        solve: Callable[[Exercise], Exercise],
        sink: Callable[[str], None] = lambda piece: None,
        compiled: Path | None = None,
    ) -> None:
        super().__init__(sink)
        self.sheet_head, self.sketches, self.style, self.logo = head, sketches, style, logo
        self.solve, self.compiled = solve, compiled
        self.solved: list[Exercise] = []
        self.contexts: list[Context] = []

    @property
    def count(self) -> int:
        """Pieces: the head, one per exercise, the tail."""
        return len(self.sketches) + 2

    def _blocks(self) -> Iterator[dict[str, Any]]:
        # Called by the template's loop: everything rendered so far is the previous piece.
        for sketch in self.sketches:
            self._flush()
            exercise = self.solve(sketch)
            context = exercise_context(exercise, self.logo)
            self.solved.append(exercise)
            self.contexts.append(context)
            yield block("solution", exercise, context, (), self.compiled)
        self._flush()

    def render(self) -> str:
        """The whole solution sheet, handing each piece to the sink on the way."""
        env = environment((), self.style, self.compiled)
        # The sheet-wide settings an outline already has (render_several takes them from exercise 1).
        first = exercise_context(self.sketches[0], self.logo)
        context = several_context(self.sheet_head, self.sketches, first, self._blocks(), self.contexts, self.style)
        plots = any(p.kind.plots(p.params) for e in self.sketches for p in e.solution.spec.parts)
        document = wrap("solution", BODY, env, self.sheet_head, self.style, plots, bool(context["sheet"]["logo"]))
        return self._typeset(env.get_template("several-solution.tex.j2"), context, document, self.count)
