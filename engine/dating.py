"""The dates of one dated order on one network: each lane's ship and delivery date and its
``deliveryDays``, and the promise as a limit on those days (docs/dated-promises.md).

An order with a ``createTime`` is dated; one without is planned on days as before. On a
network without time zones, cut-offs or calendars a dated order's days are the undated ones
(processing + transit), so only its reported dates are new.
"""

from __future__ import annotations

from datetime import date, datetime, time

import numpy as np

from omniroute.calendars import (
    EVERY_DAY,
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
from omniroute.model import CarrierService, Network, Node, Order

HAND_OVER = -1  # a lane's service index when the pick-up store hands over its own stock
SHIP_CACHE = 100_000  # ship dates kept per network (per node class and release date)
# Day tables span TABLE_SPAN days from TABLE_BEFORE days before the first order's date and
# are made anew once an order's date is TABLE_MOVE days past their start.
TABLE_BEFORE, TABLE_MOVE, TABLE_SPAN = 7, 400, 1200


class NetworkDates:
    """A network's time zones, cut-offs and calendars, indexed for dating lanes.

    Nodes with the same (time zone, cut-off, calendar, processing days) ship on the same
    date for a given order: they form one *class*, dated once per order.
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
        self.class_of = {node.id: c for node, c in zip(nodes, node_class, strict=True)}
        self.service_calendar = [
            self.calendar(service.calendar_id) for service in network.carrier_services
        ]
        self.service_calendar_of = {
            service.id: calendar
            for service, calendar in zip(
                network.carrier_services, self.service_calendar, strict=True
            )
        }
        # the carrier calendars, and per service its calendar's place among them (-1: none,
        # every day works; the last entry stands for the pick-up store's hand-over)
        self.carrier_calendars = sorted(
            {service.calendar_id for service in network.carrier_services} - {""}
        )
        self.service_calendar_index = np.array(
            [
                self.carrier_calendars.index(service.calendar_id) if service.calendar_id else -1
                for service in network.carrier_services
            ]
            + [-1],
            dtype=np.int64,
        )
        self._tables: dict[str, DayTable] = {}
        self._ships: dict[tuple[int, date], date] = {}  # (class, release date) -> ship date
        # whether any lane's dated days can differ from processing + transit days
        self.calendared = any(
            zone != self.time_zone or cutoff is not None or calendar_id
            for zone, cutoff, calendar_id, _ in self.class_keys
        ) or any(service.calendar_id for service in network.carrier_services)

    def calendar(self, calendar_id: str) -> Calendar:
        return self.calendars[calendar_id] if calendar_id else EVERY_DAY

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
    """The dates of one dated order's lanes (ship dates cached per node class)."""

    def __init__(self, dates: NetworkDates, clock: OrderClock) -> None:
        self.dates = dates
        self.clock = clock
        self._ship: dict[int, date] = {}
        self._local: dict[str, datetime] = {}  # the order's instant in each time zone

    @classmethod
    def of(cls, order: Order, dates: NetworkDates) -> Dating | None:
        """The order's dating, or None for an undated order (no ``create_time``)."""
        if not order.create_time:
            return None
        return cls(dates, OrderClock.of(order.create_time, dates.time_zone))

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

    def ship_of_class(self, node_class: int) -> date:
        shipped = self._ship.get(node_class)
        if shipped is None:
            zone, cutoff, _, _ = self.dates.class_keys[node_class]
            released = release_date(self.local(zone), cutoff)
            shipped = self._ship[node_class] = self.dates.ship(node_class, released)
        return shipped

    def shipment(
        self, node: Node, service: CarrierService | None, transit_days: int
    ) -> tuple[date, date, int]:
        """(ship date, delivery date, delivery days) of ``node`` shipping with ``service``
        (None: handed over at the pick-up store) over a zone of ``transit_days``."""
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
        transit): a ship date per node class, then array arithmetic on each carrier
        calendar's :class:`~omniroute.calendars.DayTable`."""
        if len(lane_nodes) == 0:
            return undated_days
        dates = self.dates
        classes = dates.node_class[lane_nodes]
        transit = undated_days - processing_days[lane_nodes]
        kinds, where = np.unique(classes, return_inverse=True)
        ships = np.array([self.ship_of_class(c).toordinal() for c in kinds.tolist()])
        shipped = ships[where.reshape(-1)]
        delivered = shipped + np.where(lane_service == HAND_OVER, 0, transit)
        order_day = self.clock.order_date.toordinal()
        calendar_of = dates.service_calendar_index[lane_service]  # HAND_OVER: the last, -1
        for c, calendar_id in enumerate(dates.carrier_calendars):
            on = calendar_of == c
            if not on.any():
                continue
            table = dates.table(calendar_id, order_day)
            if not table.covers(shipped[on], int(transit[on].max())):
                return self._lane_days_one_by_one(classes, lane_service, transit)
            pickup = table.first_working(shipped[on])
            delivered[on] = table.add_working_days(pickup, transit[on])
        return delivered - order_day

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
        zone, cutoff, calendar_id, processing = self.dates.class_keys[self.dates.class_of[node.id]]
        shipped, delivered, _ = self.shipment(node, service, transit_days)
        local = self.local(zone)
        released = release_date(local, cutoff)
        text = f"{node.id}: released {day_text(released)}"
        if released != local.date():
            assert cutoff is not None
            text += f" (placed {local:%H:%M} local time, after the {cutoff:%H:%M} cut-off)"
        text += f", ships {day_text(shipped)}, delivered {day_text(delivered)}"
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
