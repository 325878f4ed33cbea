"""The dates of one dated order on one network: each lane's ship and delivery date and its
``deliveryDays``, and the promise as a limit on those days (docs/dated-promises.md).

An order with a ``createTime`` is dated; one without is planned on days as before. On a
network without time zones, cut-offs or calendars a dated order's days are the undated ones
(processing + transit), so only its reported dates are new.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np

from omniroute.calendars import (
    EVERY_DAY,
    ONE_DAY,
    UTC,
    Calendar,
    DayTable,
    OrderClock,
    day_text,
    delivery_date,
    release_date,
    ship_date,
)
from omniroute.calendars import zone as tz
from omniroute.model import CarrierService, FieldViolation, Network, Node, Order, ValidationError


class DatesOutOfRange(ValidationError):
    """A dated order whose ship or delivery dates fall after 9999-12-31 (a createTime at the
    end of the calendar, or transit times of centuries)."""

    def __init__(self, field: str = "createTime", subject: str = "order") -> None:
        super().__init__(
            [FieldViolation(field, "its ship or delivery dates would fall after 9999-12-31")],
            subject,
        )


HAND_OVER = -1  # a lane's service index when the pick-up store hands over its own stock
SHIP_CACHE = 100_000  # ship dates kept per network (per node class and release date)
# Day tables span TABLE_SPAN days from TABLE_BEFORE days before the first order's date and
# are made anew once an order's date is TABLE_MOVE days past their start.
TABLE_BEFORE, TABLE_MOVE, TABLE_SPAN = 7, 400, 1200
# Order moments (MomentDays) kept per network: at most MOMENT_CACHE, and at most
# MOMENT_CACHE_CELLS delivery days (classes x calendar slots x transit days) in all.
MOMENT_CACHE, MOMENT_CACHE_CELLS = 4096, 1 << 21


@dataclass(frozen=True, slots=True)
class MomentDays:
    """The dates that every order placed at one *moment* shares: orders whose instants fall
    on the same local date and between the same cut-offs in every time zone of the network
    (and so on the same order date) release, ship and deliver alike.

    ``days`` holds the delivery days of every (node class, carrier calendar, transit days):
    flat, at ``NetworkDates.lane_class[node] + NetworkDates.lane_slot[service] + transit``.
    It is None when the moment's dates leave the calendars' day tables (lanes are then dated
    one by one).
    """

    ships: tuple[date, ...]  # ship date per node class
    days: np.ndarray | None


class NetworkDates:
    """A network's time zones, cut-offs and calendars, indexed for dating lanes.

    Nodes with the same (time zone, cut-off, calendar, processing days) ship on the same
    date for a given order: they form one *class*. Orders placed at the same *moment*
    (:class:`MomentDays`) share every class's ship date and every lane's delivery days:
    those are made once per moment (a few dozen a day) and kept, so that dating an order
    is a handful of time-zone conversions and one table lookup for all its lanes.
    """

    def __init__(self, network: Network, nodes: tuple[Node, ...] | None = None) -> None:
        nodes = network.nodes if nodes is None else nodes
        self.time_zone = network.time_zone or UTC
        self.calendars: dict[str, Calendar] = {c.id: c for c in network.calendars}
        classes: dict[tuple[str, time | None, str, int], int] = {}
        node_class = []
        for node in nodes:
            key = (
                node.time_zone or self.time_zone,
                node.cutoff_time,
                node.calendar_id,
                node.processing_days,
            )
            node_class.append(classes.setdefault(key, len(classes)))
        self.class_keys = list(classes)
        self.node_class = np.array(node_class, dtype=np.int64)
        # inbound nodes (omniroute.inbound): the arrival date of their supply, by node index
        self.arrivals: dict[int, date] = {}
        self.class_of = {node.id: c for node, c in zip(nodes, node_class, strict=True)}
        self.node_index = {node.id: i for i, node in enumerate(nodes)}
        self.service_calendar = [
            self.calendar(service.calendar_id) for service in network.carrier_services
        ]
        self.service_calendar_of = {
            service.id: calendar
            for service, calendar in zip(
                network.carrier_services, self.service_calendar, strict=True
            )
        }
        self.carrier_calendars = sorted(
            {service.calendar_id for service in network.carrier_services} - {""}
        )
        self._tables: dict[str, DayTable] = {}
        self._ships: dict[tuple[int, date], date] = {}  # (class, release date) -> ship date
        # An order's moment: per time zone (the network's first), its local date and how many
        # of the zone's cut-offs its local time is past; per class, its zone's place in
        # ``zones`` and its cut-off's place in that zone's sorted cut-offs (None: no cut-off).
        zones = [self.time_zone, *sorted({key[0] for key in self.class_keys} - {self.time_zone})]
        cutoffs = [
            sorted(
                {cutoff for z, cutoff, _, _ in self.class_keys if z == zone and cutoff is not None}
            )
            for zone in zones
        ]
        self.zones = tuple(zones)
        self.zone_cutoffs = tuple(tuple(times) for times in cutoffs)
        self.class_release = [
            (zones.index(z), None if cutoff is None else cutoffs[zones.index(z)].index(cutoff))
            for z, cutoff, _, _ in self.class_keys
        ]
        self._zone_infos: tuple[ZoneInfo, ...] | None = None  # looked up on first use
        self._moments: dict[tuple[tuple[date, int], ...], MomentDays] = {}
        # Where a lane's delivery days sit in a moment's flat table: a block per node class,
        # in it a row per slot (each carrier calendar, then every day, then the hand-over)
        # and in the row one entry per transit day 0..most_transit.
        self.most_transit = max(
            (zone.transit_days for service in network.carrier_services for zone in service.zones),
            default=0,
        )
        width = self.most_transit + 1
        calendars = len(self.carrier_calendars)
        self.slots = calendars + 2
        slot = [
            self.carrier_calendars.index(service.calendar_id) if service.calendar_id else calendars
            for service in network.carrier_services
        ]
        self.lane_slot = np.array([*slot, calendars + 1], dtype=np.int64) * width
        self.lane_class = self.node_class * (self.slots * width)
        cells = len(self.class_keys) * self.slots * width
        self._most_moments = max(1, min(MOMENT_CACHE, MOMENT_CACHE_CELLS // max(cells, 1)))
        # whether any lane's dated days can differ from processing + transit days
        self.calendared = any(
            zone != self.time_zone or cutoff is not None or calendar_id
            for zone, cutoff, calendar_id, _ in self.class_keys
        ) or any(service.calendar_id for service in network.carrier_services)

    def calendar(self, calendar_id: str) -> Calendar:
        return self.calendars[calendar_id] if calendar_id else EVERY_DAY

    def moment(self, clock: OrderClock) -> MomentDays | None:
        """The dates shared by every order placed at the moment of ``clock`` (cached), or None
        when they cannot all be made (a date out of range, a calendar without working days):
        the order's lanes are then dated one by one, and fail only if a lane needs them."""
        try:
            zones = self._zone_infos
            if zones is None:
                zones = self._zone_infos = tuple(tz(name) for name in self.zones)
            key = tuple(
                (local.date(), bisect_left(cutoffs, local.time()))
                for local, cutoffs in zip(
                    (clock.instant.astimezone(zone) for zone in zones),
                    self.zone_cutoffs,
                    strict=True,
                )
            )
            moment = self._moments.get(key)
            if moment is None:
                moment = self._moment_days(key)
                if len(self._moments) >= self._most_moments:
                    self._moments.clear()
                self._moments[key] = moment
        except (OverflowError, ValueError):
            return None
        return moment

    def _moment_days(self, key: tuple[tuple[date, int], ...]) -> MomentDays:
        """Steps 1-4 for every node class and (carrier calendar, transit days) at once: the
        release date from the moment (a class is late once its cut-off is among those passed),
        the ship date, then the delivery days from each calendar's day table."""
        ships = []
        for node_class, (zone, cutoff) in enumerate(self.class_release):
            local_date, passed = key[zone]
            late = cutoff is not None and cutoff < passed
            ships.append(self.ship(node_class, local_date + ONE_DAY if late else local_date))
        order_day = key[0][0].toordinal()
        shipped = np.array([day.toordinal() for day in ships], dtype=np.int64)[:, None]
        transit = np.arange(self.most_transit + 1, dtype=np.int64)[None, :]
        days = np.empty((len(ships), self.slots, self.most_transit + 1), dtype=np.int64)
        for c, calendar_id in enumerate(self.carrier_calendars):
            table = self.table(calendar_id, order_day)
            if not table.covers(shipped, self.most_transit):
                return MomentDays(tuple(ships), None)
            days[:, c, :] = table.add_working_days(table.first_working(shipped), transit)
        days[:, -2, :] = shipped + transit  # no carrier calendar: every day works
        days[:, -1, :] = shipped  # the pick-up store's hand-over: delivered when shipped
        return MomentDays(tuple(ships), (days - order_day).reshape(-1))

    def ship(self, node_class: int, released: date) -> date:
        """The ship date of a node class for an order released on ``released``."""
        key = (node_class, released)
        shipped = self._ships.get(key)
        if shipped is None:
            _, _, calendar_id, processing = self.class_keys[node_class]
            shipped = ship_date(released, self.calendar(calendar_id), processing)
            if len(self._ships) > SHIP_CACHE:
                self._ships.clear()
            self._ships[key] = shipped
        return shipped

    def table(self, calendar_id: str, around: int) -> DayTable:
        """The calendar's day table for orders dated ``around`` (an ordinal), made anew
        when an order's date leaves the span it was made for."""
        table = self._tables.get(calendar_id)
        if table is None or not table.start + TABLE_BEFORE <= around < table.start + TABLE_MOVE:
            table = DayTable(self.calendar(calendar_id), around - TABLE_BEFORE, TABLE_SPAN)
            self._tables[calendar_id] = table
        return table


class Dating:
    """The dates of one dated order's lanes: those of its moment, or, when the moment's
    cannot be made, ship dates per node class and lanes one by one.

    ``full`` holds the *full days* of nodes with a daily shipment capacity (network node
    index -> ship dates with no room left, from the ledger): a node whose ship date is full
    ships on its next working day with room instead, and its lanes' dates follow. ``fixed``
    holds ship dates already settled (node index -> date: the kept shipments of a re-routed
    order keep the days they were counted on).
    """

    def __init__(
        self,
        dates: NetworkDates,
        clock: OrderClock,
        full: Mapping[int, frozenset[date]] | None = None,
        fixed: Mapping[int, date] | None = None,
    ) -> None:
        self.dates = dates
        self.clock = clock
        self.full = full or {}
        self.fixed = fixed or {}
        self._ship: dict[int, date] = {}
        self._local: dict[str, datetime] = {}  # the order's instant in each time zone
        self._moment: MomentDays | None = None
        self._moment_known = False

    @classmethod
    def of(
        cls,
        order: Order,
        dates: NetworkDates,
        full: Mapping[int, frozenset[date]] | None = None,
        fixed: Mapping[int, date] | None = None,
    ) -> Dating | None:
        """The order's dating, or None for an undated order (no ``create_time``);
        ``full`` and ``fixed``: see the class."""
        if not order.create_time:
            return None
        return cls(dates, OrderClock.of(order.create_time, dates.time_zone), full, fixed)

    def limit(self, order: Order) -> int | None:
        """The most delivery days the order's promise allows (None: no promise); the
        ``promiseDate`` counts as the days from the order's date to it."""
        limits = []
        if order.promise_days:
            limits.append(order.promise_days)
        if order.promise_date is not None:
            limits.append(self.clock.days_to(order.promise_date))
        return min(limits) if limits else None

    def local(self, zone: str) -> datetime:
        """The order's instant in ``zone``."""
        local = self._local.get(zone)
        if local is None:
            local = self._local[zone] = self.clock.instant.astimezone(tz(zone))
        return local

    @property
    def moment(self) -> MomentDays | None:
        """The dates the order shares with every order placed at its moment (None: dated
        lane by lane)."""
        if not self._moment_known:
            # without time zones, cut-offs or calendars the dates are the order's date plus
            # whole days: the per-class path is cheaper than a moment's table
            self._moment = self.dates.moment(self.clock) if self.dates.calendared else None
            self._moment_known = True
        return self._moment

    def ship_of_class(self, node_class: int) -> date:
        """The order's ship date at the nodes of ``node_class`` (steps 1 and 2)."""
        moment = self.moment
        if moment is not None:
            return moment.ships[node_class]
        shipped = self._ship.get(node_class)
        if shipped is None:
            zone, cutoff, _, _ = self.dates.class_keys[node_class]
            released = release_date(self.local(zone), cutoff)
            shipped = self._ship[node_class] = self.dates.ship(node_class, released)
        return shipped

    def ship_of_node(self, node: int) -> date:
        """The order's ship date at the network node of index ``node``: its class's, moved
        past the node's full days to its next working day with room (or its fixed date)."""
        settled = self.fixed.get(node)
        if settled is not None:
            return settled
        node_class = int(self.dates.node_class[node])
        shipped = self.ship_of_class(node_class)
        arrival = self.dates.arrivals.get(node)
        if arrival is not None:  # supply in transit: as if released on its arrival, or later
            shipped = max(shipped, self.dates.ship(node_class, arrival))
        full = self.full.get(node)
        if full and shipped in full:
            _, _, calendar_id, _ = self.dates.class_keys[int(self.dates.node_class[node])]
            calendar = self.dates.calendar(calendar_id)
            while shipped in full:
                shipped = ship_date(shipped + ONE_DAY, calendar, 0)
        return shipped

    def shipment(
        self, node: Node, service: CarrierService | None, transit_days: int
    ) -> tuple[date, date, int]:
        """(ship date, delivery date, delivery days) of ``node`` shipping with ``service``
        (None: handed over at the pick-up store) over a zone of ``transit_days``."""
        if self.full or self.fixed or self.dates.arrivals:
            shipped = self.ship_of_node(self.dates.node_index[node.id])
        else:
            shipped = self.ship_of_class(self.dates.class_of[node.id])
        delivered = _delivered(shipped, self._calendar_of(service), transit_days)
        return shipped, delivered, self.clock.days_to(delivered)

    def _calendar_of(self, service: CarrierService | None) -> Calendar | None:
        """The service's calendar; None for the pick-up store's hand-over (no carrier)."""
        return None if service is None else self.dates.service_calendar_of[service.id]

    def lane_days(
        self,
        lane_nodes: np.ndarray,
        lane_service: np.ndarray,
        processing_days: np.ndarray,
        undated_days: np.ndarray,
    ) -> np.ndarray:
        """Dated delivery days of lanes given by their network node indices, service
        indices (``HAND_OVER`` for the pick-up store) and undated days (processing +
        transit), as the core makes them: each lane's transit days are those of one of the
        network's zones (validated non-negative), so at most ``most_transit``. Looked up in
        the delivery days of the order's moment (:meth:`NetworkDates.moment`), made once for
        all the orders placed at it."""
        if len(lane_nodes) == 0:
            return undated_days
        dates = self.dates
        transit = undated_days - processing_days[lane_nodes]
        moment = self.moment
        if moment is None or moment.days is None:
            days = self._lane_days_one_by_one(dates.node_class[lane_nodes], lane_service, transit)
        else:
            days = moment.days[
                dates.lane_class[lane_nodes] + dates.lane_slot[lane_service] + transit
            ]
        if self.full or self.fixed or self.dates.arrivals:
            self._past_full_days(days, lane_nodes, lane_service, transit)
        return days

    def _past_full_days(
        self,
        days: np.ndarray,
        lane_nodes: np.ndarray,
        lane_service: np.ndarray,
        transit: np.ndarray,
    ) -> None:
        """Re-date, in place, the lanes of nodes whose ship date is full, fixed or after an
        arrival (one by one: a few nodes at most)."""
        calendars = self.dates.service_calendar
        moved = [*self.full, *self.fixed, *self.dates.arrivals]
        for i in np.flatnonzero(np.isin(lane_nodes, moved)).tolist():
            node = int(lane_nodes[i])
            shipped = self.ship_of_node(node)
            if shipped == self.ship_of_class(int(self.dates.node_class[node])):
                continue
            s = int(lane_service[i])
            calendar = None if s == HAND_OVER else calendars[s]
            days[i] = self.clock.days_to(_delivered(shipped, calendar, int(transit[i])))

    def _lane_days_one_by_one(
        self, classes: np.ndarray, lane_service: np.ndarray, transit: np.ndarray
    ) -> np.ndarray:
        """:meth:`lane_days` without day tables (dates far from the order's)."""
        calendars = self.dates.service_calendar
        days = np.empty(len(classes), dtype=np.int64)
        lanes = zip(classes.tolist(), lane_service.tolist(), transit.tolist(), strict=True)
        for i, (c, s, t) in enumerate(lanes):
            calendar = None if s == HAND_OVER else calendars[s]
            days[i] = self.clock.days_to(_delivered(self.ship_of_class(c), calendar, t))
        return days

    def story(self, node: Node, service: CarrierService | None, transit_days: int) -> str:
        """The dates of one shipment in words, for an explanation: when the node releases
        the order (and whether it missed the cut-off), ships it and the carrier delivers
        it; after a missed cut-off, what the order would have got placed before it."""
        node_class = self.dates.class_of[node.id]
        zone, cutoff, calendar_id, processing = self.dates.class_keys[node_class]
        shipped, delivered, _ = self.shipment(node, service, transit_days)
        local = self.local(zone)
        released = release_date(local, cutoff)
        text = f"{node.id}: released {day_text(released)}"
        if released != local.date():
            assert cutoff is not None
            text += f" (placed {local:%H:%M} local time, after the {cutoff:%H:%M} cut-off)"
        text += f", ships {day_text(shipped)}, delivered {day_text(delivered)}"
        planned = self.ship_of_class(node_class)
        if planned != shipped:  # its ship day was full
            arrives = _delivered(planned, self._calendar_of(service), transit_days)
            text += (
                f"; {day_text(planned)} was full (its {node.daily_shipment_capacity} shipments "
                f"a day are taken): with a free place that day it would arrive "
                f"{day_text(arrives)}"
            )
        if released != local.date():
            sooner = ship_date(local.date(), self.dates.calendar(calendar_id), processing)
            arrives = _delivered(sooner, self._calendar_of(service), transit_days)
            if arrives != delivered:
                text += (
                    f"; placed before the cut-off it would ship {day_text(sooner)} and arrive "
                    f"{day_text(arrives)}"
                )
        return text


def _delivered(shipped: date, calendar: Calendar | None, transit_days: int) -> date:
    """Steps 3 and 4, or the ship date itself at the pick-up store (no carrier calendar)."""
    return shipped if calendar is None else delivery_date(shipped, calendar, transit_days)
