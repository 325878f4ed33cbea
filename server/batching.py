"""Micro-batching: PlanOrder calls that arrive within a short window are allocated jointly.

Enabled with ``serve --batch-window-ms W``. Eligible calls (CHEAPEST, no reserve, no inline
network, no options or explanation) wait at most W ms (or until ``max_batch`` have arrived)
and are then planned together by :func:`omniroute.joint.allocate`, so that orders arriving
together do not all count on the same scarce unit. Other calls are planned at once.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omniroute.joint import DEFAULT_UNFILLED_PENALTY, allocate
from omniroute.model import Order, PlanResult, PlanStats, Proof

if TYPE_CHECKING:
    from omniroute.server.application import Application


@dataclass
class _Waiting:
    order: Order
    future: asyncio.Future[PlanResult]


class MicroBatcher:
    def __init__(
        self,
        app: Application,
        window_ms: float,
        max_batch: int = 64,
        unfilled_penalty: float = DEFAULT_UNFILLED_PENALTY,
    ) -> None:
        self.app = app
        self.window = window_ms / 1000.0
        self.max_batch = max_batch
        self.penalty = unfilled_penalty
        self.waiting: list[_Waiting] = []
        self.timer: asyncio.TimerHandle | None = None

    async def plan(self, order: Order) -> PlanResult:
        loop = asyncio.get_running_loop()
        waiting = _Waiting(order, loop.create_future())
        self.waiting.append(waiting)
        if len(self.waiting) >= self.max_batch:
            self._flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.window, self._flush)
        return await waiting.future

    def _flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.waiting = self.waiting, []
        if batch:
            asyncio.get_running_loop().create_task(self._allocate(batch))

    async def _allocate(self, batch: list[_Waiting]) -> None:
        app = self.app
        try:
            planner = app.live.planner()
            start = time.perf_counter()
            orders = [w.order for w in batch]
            result = await app.run(
                lambda: allocate(
                    orders,
                    planner,
                    self.penalty,
                    time_limit=max(0.01, self.window),
                    lower_bound=False,  # the plans are what callers wait for
                )
            )
            micros = int((time.perf_counter() - start) * 1e6)
            proof = Proof.OPTIMAL if result.proven else Proof.FEASIBLE
            gap = 0.0 if result.proven else None  # no LP bound is computed on this path
            for waiting, plan in zip(batch, result.plans, strict=True):
                stats = PlanStats(
                    proof,
                    f"joint/{result.method} ({len(batch)} orders)",
                    micros,
                    gap=gap,
                    candidate_nodes=0,
                )
                if not waiting.future.done():
                    waiting.future.set_result(PlanResult(waiting.order.id, plan, stats))
        except Exception as error:  # every waiting call learns of it
            for waiting in batch:
                if not waiting.future.done():
                    waiting.future.set_exception(error)
