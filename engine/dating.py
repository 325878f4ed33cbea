"""The dates of one dated order on one network: each lane's ship and delivery date and its
``deliveryDays``, and the promise as a limit on those days (docs/dated-promises.md).

An order with a ``createTime`` is dated; one without is planned on days as before. On a
network without time zones, cut-offs or calendars a dated order's days are the undated ones
(processing + transit), so only its reported dates are new.
"""

from __future__ import annotations

from datetime import date, time

import numpy as np

from omniroute.calendars import (
    EVERY_DAY,
    UTC,
    Calendar,
    OrderClock,
    delivery_date,
    release_date,
    ship_date,
)
from omniroute.calendars import zone as tz
from omniroute.model import CarrierService, Network, Node, Order

HAND_OVER = -1  # a lane's service index when the pick-up store hands over its own stock


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
        # whether any lane's dated days can differ from processing + transit days
        self.calendared = any(
            zone != self.time_zone or cutoff is not None or calendar_id
            for zone, cutoff, calendar_id, _ in self.class_keys
        ) or any(service.calendar_id for service in network.carrier_services)

    def calendar(self, calendar_id: str) -> Calendar:
        return self.calendars[calendar_id] if calendar_id else EVERY_DAY


class Dating:
    """The dates of one dated order's lanes (cached per node class and lane shape)."""

    def __init__(self, dates: NetworkDates, clock: OrderClock) -> None:
        self.dates = dates
        self.clock = clock
        self._ship: dict[int, date] = {}
        self._delivery: dict[tuple[date, int, int], date] = {}

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

    def ship_of_class(self, node_class: int) -> date:
        shipped = self._ship.get(node_class)
        if shipped is None:
            zone, cutoff, calendar_id, processing = self.dates.class_keys[node_class]
            released = release_date(self.clock.instant, zone, cutoff)
            shipped = ship_date(released, self.dates.calendar(calendar_id), processing)
            self._ship[node_class] = shipped
        return shipped

    def _deliver(self, shipped: date, service: int, transit: int) -> date:
        key = (shipped, service, transit)
        delivered = self._delivery.get(key)
        if delivered is None:
            if service == HAND_OVER:
                delivered = shipped
            else:
                calendar = self.dates.service_calendar[service]
                delivered = delivery_date(shipped, calendar, transit)
            self._delivery[key] = delivered
        return delivered

    def shipment(
        self, node: Node, service: CarrierService | None, transit_days: int
    ) -> tuple[date, date, int]:
        """(ship date, delivery date, delivery days) of ``node`` shipping with ``service``
        (None: handed over at the pick-up store) over a zone of ``transit_days``."""
        shipped = self.ship_of_class(self.dates.class_of[node.id])
        if service is None:
            delivered = shipped
        else:
            calendar = self.dates.service_calendar_of[service.id]
            delivered = delivery_date(shipped, calendar, transit_days)
        return shipped, delivered, self.clock.days_to(delivered)

    def lane_days(
        self,
        lane_nodes: np.ndarray,
        lane_service: np.ndarray,
        processing_days: np.ndarray,
        undated_days: np.ndarray,
    ) -> np.ndarray:
        """Dated delivery days of lanes given by their network node indices, service
        indices (``HAND_OVER`` for the pick-up store) and undated days (processing +
        transit): one date computation per distinct (node class, service, transit)."""
        if len(lane_nodes) == 0:
            return undated_days
        classes = self.dates.node_class[lane_nodes]
        transit = undated_days - processing_days[lane_nodes]
        # one integer per (class, service, transit): services shifted by one for HAND_OVER
        services = len(self.dates.service_calendar) + 1
        span = int(transit.max()) + 1
        shapes, inverse = np.unique(
            (classes * services + lane_service + 1) * span + transit, return_inverse=True
        )
        order_day = self.clock.order_date
        days = np.empty(len(shapes), dtype=np.int64)
        for i, shape in enumerate(shapes.tolist()):
            shipped = self.ship_of_class(shape // (services * span))
            service, transit_days = shape // span % services - 1, shape % span
            days[i] = (self._deliver(shipped, service, transit_days) - order_day).days
        return days[inverse.reshape(-1)]

    def story(self, node: Node, service: CarrierService | None, transit_days: int) -> str:
        """The dates of one shipment in words, for an explanation: when the node releases
        the order (and whether it missed the cut-off), ships it and the carrier delivers
        it; after a missed cut-off, what the order would have got placed before it."""
        zone, cutoff, calendar_id, processing = self.dates.class_keys[self.dates.class_of[node.id]]
        shipped, delivered, _ = self.shipment(node, service, transit_days)
        local = self.clock.instant.astimezone(tz(zone))
        released = release_date(self.clock.instant, zone, cutoff)
        text = f"{node.id}: released {_day(released)}"
        if released != local.date():
            assert cutoff is not None
            text += f" (placed {local:%H:%M} local time, after the {cutoff:%H:%M} cut-off)"
        text += f", ships {_day(shipped)}, delivered {_day(delivered)}"
        if released != local.date():
            sooner = ship_date(local.date(), self.dates.calendar(calendar_id), processing)
            arrives = (
                sooner
                if service is None
                else delivery_date(sooner, self.dates.service_calendar_of[service.id], transit_days)
            )
            if arrives != delivered:
                text += (
                    f"; placed before the cut-off it would ship {_day(sooner)} and arrive "
                    f"{_day(arrives)}"
                )
        return text


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"
