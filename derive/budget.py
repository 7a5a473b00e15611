"""A build's wall-clock budget: which stage it is in, and the stop when its time (or memory) runs out."""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from derive.errors import BudgetError

if TYPE_CHECKING:
    from derive.exercise.model import Part
    from derive.maths.steps import PartSolution

try:
    import resource
except ImportError:  # not on Windows: no memory limit there
    resource = None  # type: ignore[assignment]

T = TypeVar("T")

MIN_SECONDS, MAX_SECONDS = 1.0, 3600.0
"""The budget a build may be given (a sheet takes seconds; an hour bounds what a server waits for)."""
MIN_MEMORY, MAX_MEMORY = 256, 1 << 20
"""The memory limit the command line may set, in MiB (below 256 MiB Python and SymPy barely load)."""


class Expired(BaseException):
    """Raised inside the work when the time is up. A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` on the way (SymPy has many) swallows it; :class:`Budget` turns it into a
    :class:`BudgetError` naming the stage."""


class Budget:
    """The seconds a build may take, counted from its making, and the stage it is in (named by the error).

    Each ``with budget:`` section is timed: in the main thread a SIGALRM timer interrupts even a
    SymPy call that never returns (the previous handler and timer are restored afterwards); in any
    other thread, and where the timer is in use already, the deadline is checked whenever a stage
    begins. Work that must not be cut in the middle (starting a TeX run) runs :meth:`shielded`.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self.deadline = clock() + seconds
        self.stage = "reading the spec"
        self.shields = 0
        self.pending = False  # the timer fired inside a shield: stop when it ends
        self.previous: Any = None
        self.depth = 0
        """Sections entered and not left: only the outermost arms and disarms the timer."""
        self.armed = False

    # --- the stages -------------------------------------------------------------------------

    def enter(self, stage: str) -> None:
        """The work goes on to ``stage``; stops here if the time is up (the check threads rely on)."""
        self.check()
        self.stage = stage

    def check(self) -> None:
        if self.clock() >= self.deadline:
            raise Expired

    def parts(self, solve: Callable[[Part[Any]], PartSolution]) -> Callable[[Part[Any]], PartSolution]:
        """``solve``, entering the stage of each part it is given (its rendering follows in that stage)."""

        def timed(part: Part[Any]) -> PartSolution:
            self.enter(f"part {part.number} ({part.kind.name})")
            solved = solve(part)
            self.check()  # without the timer (a thread), the part that ran over is the one named
            return solved

        return timed

    @contextlib.contextmanager
    def shield(self) -> Iterator[None]:
        """Run the block whole: a timer firing inside it stops the work when the block ends."""
        self.shields += 1
        try:
            yield
        finally:
            self.shields -= 1
        if self.pending and not self.shields:
            self.pending = False
            raise Expired

    def shielded(self, call: Callable[[T], None]) -> Callable[[T], None]:
        """``call``, run whole (a sink that starts TeX and makes its folder)."""

        def whole(argument: T) -> None:
            with self.shield():
                call(argument)

        return whole

    # --- a timed section --------------------------------------------------------------------

    def __enter__(self) -> Budget:
        if self.clock() >= self.deadline:
            raise self._stopped()
        self.depth += 1
        if self.depth > 1:
            return self  # a section inside a section is part of it: the outer one's timer runs on
        self.shields += 1  # the timer may fire before the section has begun: it is heard just below
        try:
            self.armed = self._arm()
        finally:
            self.shields -= 1
        if self.pending:
            self.__exit__(Expired, Expired(), None)  # disarms, and raises the one-line error
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.depth -= 1
        if self.depth > 0:  # the outer section disarms the timer (it armed it)
            if isinstance(error, Expired):
                raise self._stopped() from None
            return
        self.shields += 1  # a timer firing now is too late to stop anything
        if self.armed:
            self._disarm()
        self.armed, self.pending, self.shields = False, False, self.shields - 1
        if isinstance(error, Expired):
            raise self._stopped() from None
        if isinstance(error, MemoryError):
            raise BudgetError(out_of_memory(self.stage)) from None

    def _stopped(self) -> BudgetError:
        return BudgetError(
            f"{self.stage} took longer than --max-seconds {self.seconds:g}; nothing was written "
            "(allow more with --max-seconds, or ask for less)"
        )

    def _arm(self) -> bool:
        """Start the timer for the time left, if this thread may and nobody else uses it."""
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
            return False
        previous = signal.getsignal(signal.SIGALRM)
        if previous is None or signal.getitimer(signal.ITIMER_REAL)[0] > 0:  # set outside Python, or in use
            return False
        self.previous = previous
        signal.signal(signal.SIGALRM, self._alarm)
        signal.setitimer(signal.ITIMER_REAL, max(self.deadline - self.clock(), 1e-3))
        return True

    def _disarm(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)

    def _alarm(self, signum: int, frame: FrameType | None) -> None:
        if self.shields:
            self.pending = True
        else:
            raise Expired


def out_of_memory(stage: str) -> str:
    """The one line for a MemoryError in ``stage``, naming the limit where one is set."""
    limit = memory_limit()
    if limit is None:
        return f"{stage} ran out of memory; nothing was written"
    return (
        f"{stage} needed more than --max-memory {limit} MiB; nothing was written "
        "(allow more with --max-memory, or ask for less)"
    )


def memory_limit() -> int | None:
    """The process's memory limit in MiB (the command line's --max-memory), or None if there is none."""
    if resource is None:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
    return None if soft == resource.RLIM_INFINITY else soft >> 20


@contextlib.contextmanager
def memory_bound(mib: int) -> Iterator[None]:
    """Limit the process's writable memory (heap, stacks: RLIMIT_DATA) to ``mib`` MiB, or the limit already
    set if that is lower (an administrator's ``ulimit -d`` stands), for the block: an allocation past it
    raises MemoryError instead of swapping the machine to a halt. Reserved address space is not counted
    (numpy's thread pools reserve much more than they use), and TeX, a child process, gets the same
    bound, far above the little it needs."""
    if resource is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    wanted = min([mib << 20, *(limit for limit in (soft, hard) if limit != resource.RLIM_INFINITY)])
    resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


def check_seconds(name: str, value: object) -> float:
    """``value`` as a budget in seconds, or a ValueError naming ``name``."""
    if not (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)):
        raise ValueError(f"{name}: expected seconds from {MIN_SECONDS:g} to {MAX_SECONDS:g}, found {value!r}")
    if not MIN_SECONDS <= value <= MAX_SECONDS:
        raise ValueError(f"{name}: expected seconds from {MIN_SECONDS:g} to {MAX_SECONDS:g}, found {value:g}")
    return float(value)
