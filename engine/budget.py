"""A solve budget: a deadline plus cancellation that can stop a running CP-SAT search."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Budget:
    """Seconds left for one plan, and a way for the caller to cancel it.

    ``cancel()`` may be called from any thread (e.g. when a gRPC caller goes away); searches
    registered with :meth:`stoppable` are stopped at once and return their best so far.
    """

    def __init__(self, seconds: float) -> None:
        self.deadline = time.perf_counter() + seconds
        self._lock = threading.Lock()
        self._stops: list[Callable[[], None]] = []
        self.cancelled = False

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
