"""A small progress bar on stderr for long CLI work (silent when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class ProgressBar:
    """``label [#####.....] done/total rate/s`` redrawn at most ten times a second."""

    def __init__(self, total: int, label: str, enabled: bool | None = None) -> None:
        self.total = total
        self.label = label
        self.show = sys.stderr.isatty() if enabled is None else enabled
        self.start = self.last = time.monotonic()
        self.done = 0

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if self.show and (now - self.last > 0.1 or done == self.total):
            self.last = now
            width = 30
            filled = int(width * done / max(self.total, 1))
            rate = done / max(now - self.start, 1e-9)
            bar = "#" * filled + "." * (width - filled)
            sys.stderr.write(f"\r{self.label} [{bar}] {done}/{self.total} {rate:,.0f}/s")
            sys.stderr.flush()

    def close(self) -> None:
        if self.show and self.done:
            sys.stderr.write("\n")


def progress(
    items: Iterable[T], total: int, label: str, enabled: bool | None = None
) -> Iterator[T]:
    """Yield ``items`` while drawing a :class:`ProgressBar`."""
    bar = ProgressBar(total, label, enabled)
    for done, item in enumerate(items, start=1):
        yield item
        bar.update(done)
    bar.close()
