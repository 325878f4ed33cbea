"""Working calendars and the dates of a dated promise (docs/dated-promises.md).

An order with a ``createTime`` is planned on dates. For each lane (node, carrier service) the
dates follow from the instant ``T`` the order was placed:

1. release date ``R``: the date of ``T`` in the node's time zone, one day later when the local
   time of ``T`` is past the node's cut-off;
2. ship date ``S``: the node's first working day on or after ``R``, then ``processingDays``
   further working days of the node's calendar;
3. pickup date ``P``: the carrier service's first working day on or after ``S``;
4. delivery date ``D``: ``P`` moved ``transitDays`` working days of the service's calendar
   (``D = P`` when transit is 0); handed over at the pick-up store itself, ``D = S``.

``deliveryDays`` counts calendar days from the date of ``T`` in the network's time zone to
``D``. Everything here is pure and cached per (calendar, date): a network has a handful of
calendars, time zones and cut-offs, so the few distinct answers are computed once.

>>> weekdays = Calendar("WEEKDAYS", frozenset(range(1, 6)))
>>> weekdays.add_working_days(date(2026, 12, 4), 1)  # Friday + 1 working day
datetime.date(2026, 12, 7)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

ALL_DAYS = frozenset(range(1, 8))  # ISO weekdays, Monday = 1
ONE_DAY = timedelta(days=1)
UTC = "UTC"


@dataclass(frozen=True, slots=True)
class Calendar:
    """Working days of the week (ISO numbers, Monday = 1) and holidays."""

    id: str
    working_days: frozenset[int] = ALL_DAYS
    holidays: frozenset[date] = field(default_factory=frozenset)

    def is_working(self, day: date) -> bool:
        return day.isoweekday() in self.working_days and day not in self.holidays

    def first_working(self, day: date) -> date:
        """The first working day on or after ``day``."""
        return _first_working(self, day)

    def add_working_days(self, day: date, count: int) -> date:
        """``day`` moved forward by ``count`` working days (``day`` itself when 0)."""
        return _add_working(self, day, count)


EVERY_DAY = Calendar("")  # no calendar: every day is a working day


class DayTable:
    """A calendar's working days over a span of days, for date arithmetic on arrays of
    ordinals (``date.toordinal()``): :meth:`first_working` and :meth:`add_working_days`
    over whole arrays. Answers equal :class:`Calendar`'s within the span; :meth:`covers`
    says whether an array of ordinals and its moves stay inside it."""

    def __init__(self, calendar: Calendar, start: int, span: int) -> None:
        self.start, self.span = start, span
        working = np.array(
            [calendar.is_working(date.fromordinal(start + i)) for i in range(span)], dtype=bool
        )
        self.by_rank = start + np.flatnonzero(working)  # the k-th working day's ordinal
        rank = np.cumsum(working) - working  # working days before each day
        after = np.searchsorted(self.by_rank, start + np.arange(span))  # first on or after
        self.rank = rank
        self.first = np.where(
            after < len(self.by_rank), self.by_rank[np.minimum(after, len(self.by_rank) - 1)], -1
        )

    def covers(self, ordinals: np.ndarray, most_days: int) -> bool:
        """Whether every ordinal, moved ``most_days`` working days on, stays in the span."""
        if len(ordinals) == 0:
            return True
        low, high = int(ordinals.min()), int(ordinals.max())
        if low < self.start or high >= self.start + self.span:
            return False
        last = self.first[high - self.start]
        return last >= 0 and int(self.rank[last - self.start]) + most_days < len(self.by_rank)

    def first_working(self, ordinals: np.ndarray) -> np.ndarray:
        return self.first[ordinals - self.start]

    def add_working_days(self, ordinals: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Working days ``ordinals`` moved forward by ``counts`` working days."""
        return self.by_rank[self.rank[ordinals - self.start] + counts]


@lru_cache(maxsize=65536)
def _first_working(calendar: Calendar, day: date) -> date:
    if not calendar.working_days:
        raise ValueError(f"calendar {calendar.id!r} has no working days")
    while not calendar.is_working(day):
        day += ONE_DAY
    return day


@lru_cache(maxsize=65536)
def _add_working(calendar: Calendar, day: date, count: int) -> date:
    for _ in range(count):
        day = _first_working(calendar, day + ONE_DAY)
    return day


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (ValueError when unknown)."""
    try:
        return ZoneInfo(name)
    # not found, not a key (a path, a NUL), or one the file system cannot look up (too
    # long, not encodable): all simply unknown
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError) as error:
        raise ValueError(f"unknown time zone {name[:100]!r}") from error


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone id this machine knows."""
    try:
        zone(name)
    except ValueError:
        return False
    return True


def parse_instant(text: str) -> datetime:
    """An RFC 3339 timestamp (``2026-12-04T09:30:00Z``, any offset) as an aware datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no offset")
    return value


def release_date(local: datetime, cutoff: time | None) -> date:
    """Step 1: the date of ``local`` (the order's instant in the node's time zone), plus a
    day when its time is later than the node's cut-off."""
    if cutoff is not None and local.time() > cutoff:
        return local.date() + ONE_DAY
    return local.date()


def date_of(year: int, month: int, day: int) -> date:
    """A full ``google.type.Date`` as a date (ValueError saying why it is none)."""
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(
            f"{year}-{month}-{day} is not a date "
            "(a full date: year 1-9999, month 1-12, a day of that month)"
        ) from None


def time_of_day(hours: int, minutes: int, seconds: int, nanos: int) -> time:
    """A ``google.type.TimeOfDay`` of whole seconds as a time (ValueError saying why not)."""
    if 0 <= hours <= 23 and 0 <= minutes <= 59 and 0 <= seconds <= 59 and nanos == 0:
        return time(hours, minutes, seconds)
    raise ValueError(
        f"{hours:02d}:{minutes:02d}:{seconds:02d} (nanos {nanos}) is not a time of day "
        "(hours 0-23, minutes and seconds 0-59, nanos 0)"
    )


def day_text(day: date) -> str:
    """A date as people read it: ``Thu 31 Dec 2026``."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def ship_date(release: date, calendar: Calendar, processing_days: int) -> date:
    """Step 2: the first working day on or after ``release``, then ``processing_days`` more."""
    return calendar.add_working_days(calendar.first_working(release), processing_days)


def delivery_date(shipped: date, calendar: Calendar, transit_days: int) -> date:
    """Steps 3 and 4: the carrier's first working day on or after ``shipped`` (pickup), then
    ``transit_days`` of its working days."""
    return calendar.add_working_days(calendar.first_working(shipped), transit_days)


@dataclass(frozen=True, slots=True)
class OrderClock:
    """An order's instant and the date its ``deliveryDays`` count from."""

    instant: datetime
    order_date: date  # the date of the instant in the network's time zone

    @classmethod
    def of(cls, create_time: str, network_time_zone: str) -> OrderClock:
        instant = parse_instant(create_time)
        return cls(instant, instant.astimezone(zone(network_time_zone)).date())

    def days_to(self, day: date) -> int:
        """Calendar days from the order's date to ``day``."""
        return (day - self.order_date).days
