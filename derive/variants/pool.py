"""Worker processes for a batch (variants, or several specs): forked, so derive is imported once and
each worker starts at once; leaving early (an error, a signal) stops them."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
Submit = Callable[..., Future[Any]]


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Lazy(Future[T]):
    """A future worked out in this process when its result is first asked for (one job: no pool)."""

    def __init__(self, work: Callable[[], T]) -> None:
        super().__init__()
        self.work = work

    def result(self, timeout: float | None = None) -> T:
        if not self.done():
            try:
                self.set_result(self.work())
            except Exception as error:
                self.set_exception(error)
        return super().result(timeout)


@contextlib.contextmanager
def workers(jobs: int) -> Iterator[Submit]:
    """``submit(function, *args)`` on ``jobs`` worker processes, or for one job worked out here when
    its result is asked for. Leaving the block early stops the workers (SIGTERM: a worker unwinds its
    build, killing its TeX and removing its folders) before the error goes on."""
    if jobs <= 1:
        yield lambda function, *args: Lazy(lambda: function(*args))
        return
    # fork: a worker is this process as it is (derive imported, the signal handling installed);
    # spawn would import derive again in each, a second of every batch.
    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
    try:
        yield pool.submit
    except BaseException:
        for process in list((getattr(pool, "_processes", None) or {}).values()):  # the workers it started
            with contextlib.suppress(OSError, AttributeError):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
