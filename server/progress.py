"""Progress bars on stderr for long CLI work.

A bar is drawn only when stderr is a terminal, or when forced: the caller passes
``enabled=True`` / ``False``, or the environment sets ``OMNIROUTE_PROGRESS=1`` (always) or
``OMNIROUTE_PROGRESS=0`` (never). Standard output is never touched, so piping a command's
output elsewhere is unaffected.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

PROGRESS_ENV = "OMNIROUTE_PROGRESS"
_ALWAYS = {"1", "always", "yes", "true", "on"}
_NEVER = {"0", "never", "no", "false", "off"}


def progress_wanted(enabled: bool | None = None) -> bool:
    """Whether to draw: ``enabled`` when given, else ``OMNIROUTE_PROGRESS`` when set, else
    whether stderr is a terminal."""
    if enabled is not None:
        return enabled
    forced = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if forced in _ALWAYS:
        return True
    if forced in _NEVER:
        return False
    return sys.stderr.isatty()


def rate_text(done: int, seconds: float, unit: str = "") -> str:
    """A readable rate: ``1,234/s`` or ``2.5/s`` when fast, ``3.0/min`` below one a second,
    ``95 s each`` below one a minute; empty before the first item."""
    if done <= 0 or seconds <= 0:
        return ""
    per_second = done / seconds
    suffix = f" {unit}" if unit else ""
    if per_second >= 10:
        return f"{per_second:,.0f}{suffix}/s"
    if per_second >= 1:
        return f"{per_second:.1f}{suffix}/s"
    if per_second * 60 >= 1:
        return f"{per_second * 60:.1f}{suffix}/min"
    return f"{seconds / done:,.0f} s each"


def duration_text(seconds: float) -> str:
    """``7 s``, ``2 min 05 s``, ``1 h 02 min``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


class ProgressBar:
    """``label [#####.....] done/total unit  rate  elapsed, about N left`` on one stderr line.

    Redrawn at most ten times a second. With ``live=True`` a background thread also redraws
    it every half second, so the elapsed time moves while one long step (a solver call)
    runs without reporting.
    """

    def __init__(
        self,
        total: int,
        label: str,
        enabled: bool | None = None,
        unit: str = "",
        live: bool = False,
    ) -> None:
        self.total = total
        self.label = label
        self.unit = unit
        self.show = progress_wanted(enabled)
        self.start = time.monotonic()
        self.last = -1.0
        self.done = 0
        self.drawn = -1  # the count last drawn
        self.finished: float | None = None  # when done reached total: the clock stops
        self.width = 0  # of the longest line drawn, to blank leftovers
        self.closed = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.show:
            self._draw(time.monotonic())
            if live:
                self._thread = threading.Thread(target=self._tick, daemon=True)
                self._thread.start()

    def text(self, now: float | None = None) -> str:
        """The bar as drawn at ``now`` (monotonic seconds)."""
        now = time.monotonic() if now is None else now
        elapsed = (now if self.finished is None else min(now, self.finished)) - self.start
        width = 30
        filled = int(width * min(self.done, self.total) / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        parts = [f"{self.label} [{bar}]"]
        if self.total != 1:  # a single step shows only its elapsed time
            parts[0] += f" {self.done:,}/{self.total:,}" + (f" {self.unit}" if self.unit else "")
            rate = rate_text(self.done, elapsed)
            if rate:
                parts.append(rate)
        timing = duration_text(elapsed)
        left = elapsed * (self.total - self.done) / self.done if self.done else 0.0
        if 0 < self.done < self.total and left >= 1:
            timing += f", about {duration_text(left)} left"
        parts.append(timing)
        return "  ".join(parts)

    def update(self, done: int) -> None:
        """Record ``done`` items; redraw when due (always at the end)."""
        self.done = done
        now = time.monotonic()
        if done >= self.total and self.finished is None:
            self.finished = now
        if self.show and (now - self.last >= 0.1 or done >= self.total):
            self._draw(now)

    def _draw(self, now: float) -> None:
        with self._lock:
            if self.closed:
                return
            self.last = now
            self.drawn = self.done
            line = self.text(now)
            pad = " " * max(0, self.width - len(line))
            self.width = max(self.width, len(line))
            sys.stderr.write(f"\r{line}{pad}")
            sys.stderr.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self._draw(time.monotonic())

    def close(self) -> None:
        """Draw the final state and end the line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.show and not self.closed:
            if self.drawn != self.done or self._thread is not None:
                self._draw(time.monotonic())
            with self._lock:
                self.closed = True
                sys.stderr.write("\n")
                sys.stderr.flush()


class PhaseProgress:
    """One bar per phase of a long job, for callbacks ``(phase, done, total)``: a new phase
    ends the previous bar's line and starts a new, live bar."""

    def __init__(self, label: str, enabled: bool | None = None, unit: str = "") -> None:
        self.label = label
        self.unit = unit
        self.enabled = progress_wanted(enabled)
        self.bar: ProgressBar | None = None
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.bar is None or phase != self.phase or total != self.bar.total:
            self.close()
            self.phase = phase
            label = f"{self.label}: {phase}" if self.label else phase
            self.bar = ProgressBar(total, label, self.enabled, self.unit, live=True)
        self.bar.update(done)

    def close(self) -> None:
        """End the current bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def progress(
    items: Iterable[T], total: int, label: str, enabled: bool | None = None, unit: str = ""
) -> Iterator[T]:
    """Yield ``items`` while drawing a :class:`ProgressBar`."""
    bar = ProgressBar(total, label, enabled, unit)
    try:
        for done, item in enumerate(items, start=1):
            yield item
            bar.update(done)
    finally:
        bar.close()
