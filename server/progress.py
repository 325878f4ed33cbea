"""A small progress bar on stderr for long CLI work (silent when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(
    items: Iterable[T], total: int, label: str, enabled: bool | None = None
) -> Iterator[T]:
    """Yield ``items`` while drawing ``label [#####.....] n/total rate/s`` on stderr."""
    show = sys.stderr.isatty() if enabled is None else enabled
    start = last = time.monotonic()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.monotonic()
        if show and (now - last > 0.1 or done == total):
            last = now
            width = 30
            filled = int(width * done / max(total, 1))
            rate = done / max(now - start, 1e-9)
            bar = "#" * filled + "." * (width - filled)
            sys.stderr.write(f"\r{label} [{bar}] {done}/{total} {rate:,.0f}/s")
            sys.stderr.flush()
    if show and done:
        sys.stderr.write("\n")
