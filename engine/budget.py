"""A solve budget: a deadline, a memory bound, and cancellation that can stop a running
CP-SAT search."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from omniroute.model import SearchLimit


class Budget:
    """Seconds left for one plan, the memory its search may use, and a way for the caller
    to cancel it.

    ``cancel()`` may be called from any thread (e.g. when a gRPC caller goes away); searches
    registered with :meth:`stoppable` are stopped at once and return their best so far.

    Parameters
    ----------
    seconds
        Wall time from now until the search stops with the best plan found so far.
    memory_mb
        Memory one search may use, in MiB (None: no bound of its own). A search whose model
        would need more is not started (its plan stays the best known, reported as stopped
        by ``MEMORY_LIMIT``); CP-SAT is also given the bound.
    """

    def __init__(self, seconds: float, memory_mb: int | None = None) -> None:
        self.deadline = time.perf_counter() + seconds
        self.memory_mb = memory_mb
        self._lock = threading.Lock()
        self._stops: list[Callable[[], None]] = []
        self.cancelled = False
        self.memory_refused = False  # a search was not started for the memory bound
        self.time_refused = False  # ... or because it could not finish in the time left

    def affords(self, seconds: float) -> bool:
        """Whether ``seconds`` of work fit in the time left (noted when not)."""
        if seconds < self.remaining():
            return True
        self.time_refused = True
        return False

    def fits(self, megabytes: float) -> bool:
        """Whether a search needing about ``megabytes`` MiB may run (noted when not)."""
        if self.memory_mb is None or megabytes <= self.memory_mb:
            return True
        self.memory_refused = True
        return False

    def stopped_by(self) -> SearchLimit | None:
        """The limit that has stopped (or will stop) searches of this budget, if any."""
        if self.cancelled:
            return SearchLimit.CANCELLED
        if self.memory_refused:
            return SearchLimit.MEMORY_LIMIT
        if self.time_refused or self.deadline <= time.perf_counter():
            return SearchLimit.TIME_LIMIT
        return None

    def remaining(self) -> float:
        """Seconds until the deadline (0 when cancelled or past it)."""
        if self.cancelled:
            return 0.0
        return max(0.0, self.deadline - time.perf_counter())

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            stops = list(self._stops)
        for stop in stops:
            stop()

    @contextmanager
    def stoppable(self, stop: Callable[[], None]) -> Iterator[None]:
        """Register ``stop`` for the duration of a search."""
        with self._lock:
            self._stops.append(stop)
            cancelled = self.cancelled
        if cancelled:
            stop()
        try:
            yield
        finally:
            with self._lock:
                self._stops.remove(stop)
