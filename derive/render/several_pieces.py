"""The solution sheet of several exercises rendered as it is derived: its head, then each exercise's
block as soon as the exercise is solved, then its tail.

As :mod:`derive.render.pieces` does for the parts of one exercise: ``several-solution.tex.j2`` is
rendered with Jinja's ``generate()`` over a lazy list of the exercises' blocks, so TeX typesets
exercise 1 while exercise 2 is derived. Joined, the pieces are exactly the sheet that
:func:`derive.render.several.render_several` makes from the finished exercises (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from derive.exercise.model import Spec
from derive.render.context import Context, sheet_fields
from derive.render.pieces import BODY, Counted, Pieces
from derive.render.points import exercises_points
from derive.render.several import Exercise, exercise_context
from derive.render.templates import environment, wrap
from derive.tex.printer import Latex
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
            body = environment((), exercise.style, self.compiled).get_template("block-solution.tex.j2").render(context)
            yield {"number": exercise.number, "title": exercise.title, "body": Latex(body)}
        self._flush()

    def render(self) -> str:
        """The whole solution sheet, handing each piece to the sink on the way."""
        env = environment((), self.style, self.compiled)
        # The sheet-wide settings an outline already has (render_several takes them from exercise 1).
        first = exercise_context(self.sketches[0], self.logo)
        context = {
            **{key: first[key] for key in ("decimals", "significant", "exact", "student", "language")},
            "sheet": sheet_fields(self.sheet_head.sheet, str(first["sheet"]["logo"])),
            "exercises": self._blocks(),
            "verification": _Checked(self.contexts),
            "points": exercises_points([(e.number, e.solution.spec) for e in self.sketches], self.style.printer()),
        }
        plots = any(p.kind.plots(p.params) for e in self.sketches for p in e.solution.spec.parts)
        document = wrap("solution", BODY, env, self.sheet_head, self.style, plots, bool(context["sheet"]["logo"]))
        return self._typeset(env.get_template("several-solution.tex.j2"), context, document, self.count)


class _Checked(Counted):
    """``verification``, counted when the template prints it (after every exercise is derived)."""

    def __init__(self, contexts: list[Context]) -> None:
        self.contexts = contexts

    @property
    def checked(self) -> int:
        return sum(int(c["verification"]["checked"]) for c in self.contexts)

    @property
    def differences(self) -> bool:
        return any(c["verification"]["differences"] for c in self.contexts)

    def _parts(self) -> Iterable[Mapping[str, Any]]:
        return (part for context in self.contexts for part in context["parts"])
