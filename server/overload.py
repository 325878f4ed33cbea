"""Adaptive load shedding by event-loop lag.

``maximum_concurrent_rpcs`` bounds calls in progress, but when planning saturates a process's
event loop, new calls queue *before* they are counted and their latency grows without bound.
A sampler measures how late the loop runs a short timer (an exponentially weighted average);
while it is above ``limit``, new planning calls are refused at once with RESOURCE_EXHAUSTED
(reason OVERLOADED), which costs far less than planning them, so accepted calls keep their
latency and callers can back off and retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

INTERVAL = 0.02  # seconds between samples (each wakeup costs an idle worker CPU)
LIMIT = 0.025  # seconds of average lag (half the default SLO) above which calls are shed
WEIGHT = 0.25  # weight of the newest sample: one slow plan does not trip it, a backlog does


class LoopLag:
    """The sampler. Others that measure the process on the same beat (the dispatcher) add
    a listener, called after each sample with the loop's time and how late the timer ran,
    rather than waking the loop with timers of their own."""

    def __init__(self, limit: float = LIMIT, gauge: object | None = None) -> None:
        self.limit = limit
        self.gauge = gauge
        self.lag = 0.0
        self.task: asyncio.Task[None] | None = None
        self.listeners: list[Callable[[float, float], None]] = []

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._sample())

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(INTERVAL)
            now = loop.time()
            late = max(0.0, now - before - INTERVAL)
            self.lag = (1 - WEIGHT) * self.lag + WEIGHT * late
            if self.gauge is not None:
                self.gauge.set(self.lag)  # type: ignore[attr-defined]
            for listener in self.listeners:
                listener(now, late)

    @property
    def overloaded(self) -> bool:
        return self.lag > self.limit

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
