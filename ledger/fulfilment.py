"""An order's life after routing: shipments confirmed by nodes, deliveries, cancellations.

Each step is one write transaction that expires the holds past their time, checks the
request id (AIP-155: a retry gets the first answer), checks that the step makes sense for
the order as it stands (else :class:`~omniroute.ledger.errors.OrderRefused`, nothing
changed), changes the order's holds and stock, records the step in the order and appends
its event. Units are accounted per (node, order line) by the order record
(:meth:`~omniroute.ledger.records.OrderRecord.open_units`); the reservation holds exactly
the open units, per (node, SKU).

* A **shipment** takes its units out of the hold and off on-hand (a COMMIT movement). The
  first shipment of an order that still has open units lifts the hold's expiry: the order
  is being fulfilled, and what is left stays held until it ships or is cancelled.
* A **cancellation** releases the open units of the lines cancelled (all lines: every open
  unit).
* When no unit is left open the reservation settles: COMMITTED if anything shipped, else
  RELEASED, with its event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from omniroute.inbound import split_inbound_node_id
from omniroute.ledger import codec, events, idempotency, orders
from omniroute.ledger.database import Database, Transaction
from omniroute.ledger.errors import OrderRefused
from omniroute.ledger.events import EventType, NewEvent
from omniroute.ledger.inbound import in_transit
from omniroute.ledger.orders import OrderView
from omniroute.ledger.positions import MovementKind, position
from omniroute.ledger.records import (
    CancelCause,
    Cancellation,
    OrderRecord,
    ReservationLine,
    ReservationState,
    ShipmentRecord,
)
from omniroute.ledger.reservations import expire_due, give_up
from omniroute.ledger.ship_days import free_days
from omniroute.model import FieldViolation, ValidationError

LIFTED = 253402300799.0  # 9999-12-31T23:59:59Z: the expiry of a hold being fulfilled

#: One step of an order's life: (tx, the order as stored, now) -> (the order after, events)
Step = Callable[[Transaction, OrderRecord, float], tuple[OrderRecord, list[NewEvent]]]


def _lines_json(lines: Sequence[tuple[str, int]], skus: dict[str, str]) -> list[dict[str, object]]:
    return [{"lineId": i, "skuId": skus.get(i, ""), "quantity": q} for i, q in lines]


class Fulfilment:
    """Ship, deliver and cancel reserved orders (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def ship(
        self,
        order_id: str,
        node_id: str,
        lines: Sequence[tuple[str, int]],
        tracking_number: str,
        carrier: str = "",
        shipped_at: float | None = None,
        request_id: str = "",
        fingerprint: bytes = b"",
    ) -> OrderView:
        """``node_id`` shipped ``lines`` ((line id, units); empty: every unit it holds for
        the order) under ``tracking_number``.

        Refused (:class:`OrderRefused`) when the node holds nothing of the order
        (``NODE_HOLDS_NOTHING``), a line ships more than the node holds of it
        (``SHIPMENT_EXCEEDS_HELD``) or the tracking number was used by another shipment of
        the order (``TRACKING_NUMBER_USED``); a line id the order does not have is a
        :class:`ValidationError`.
        """

        def step(
            tx: Transaction, record: OrderRecord, now: float
        ) -> tuple[OrderRecord, list[NewEvent]]:
            _check_lines(record, [line_id for line_id, _ in lines], "lines", ".lineId")
            held = {
                line_id: units
                for (node, line_id), units in record.open_units().items()
                if node == node_id
            }
            metadata = {"orderId": order_id, "nodeId": node_id}
            if not held:
                raise OrderRefused(
                    "NODE_HOLDS_NOTHING",
                    f"{node_id} holds no unit of order {order_id} "
                    f"(the order is {record.state().value.lower()})",
                    {**metadata, "state": record.state().value},
                )
            if any(s.tracking_number == tracking_number for s in record.shipments):
                raise OrderRefused(
                    "TRACKING_NUMBER_USED",
                    f"order {order_id} already has a shipment with tracking number "
                    f"{tracking_number!r}",
                    {**metadata, "trackingNumber": tracking_number},
                )
            wanted = _summed(lines) if lines else held
            for line_id, units in sorted(wanted.items()):
                if units > held.get(line_id, 0):
                    raise OrderRefused(
                        "SHIPMENT_EXCEEDS_HELD",
                        f"{node_id} holds {held.get(line_id, 0)} unit(s) of line {line_id} "
                        f"of order {order_id}, not {units}",
                        {**metadata, "lineId": line_id, "held": str(held.get(line_id, 0))},
                    )
            skus = _skus(record)
            _require_received(tx, order_id, node_id, wanted, skus)
            for line_id, units in sorted(wanted.items()):
                line = ReservationLine(node_id, skus[line_id], units)
                give_up(tx, now, record.reservation_id, line, MovementKind.COMMIT)
            shipped = tuple(sorted(wanted.items()))
            shipment = ShipmentRecord(node_id, shipped, tracking_number, carrier, shipped_at or now)
            after = replace(record, shipments=(*record.shipments, shipment), updated=now)
            event = _event(
                EventType.SHIPMENT_CONFIRMED,
                after,
                request_id,
                {
                    "nodeId": node_id,
                    "carrier": carrier,
                    "trackingNumber": tracking_number,
                    "shipTime": events.rfc3339(shipment.shipped_at),
                    "lines": _lines_json(shipped, skus),
                    "units": sum(units for _, units in shipped),
                },
            )
            if after.open_units():
                tx.execute(
                    "UPDATE reservations SET expires = ?, updated = ? WHERE id = ?",
                    (LIFTED, now, record.reservation_id),
                )
            return after, [event]

        return self._step("ConfirmShipment", order_id, request_id, fingerprint, step)

    def deliver(
        self,
        order_id: str,
        tracking_number: str,
        delivered_at: float | None = None,
        request_id: str = "",
        fingerprint: bytes = b"",
    ) -> OrderView:
        """The shipment with ``tracking_number`` arrived. Refused when the order has no
        such shipment (``NOT_SHIPPED``), it was delivered already (``ALREADY_DELIVERED``)
        or ``delivered_at`` is before it shipped (``DELIVERED_BEFORE_SHIPPED``)."""

        def step(
            tx: Transaction, record: OrderRecord, now: float
        ) -> tuple[OrderRecord, list[NewEvent]]:
            metadata = {"orderId": order_id, "trackingNumber": tracking_number}
            found = [
                i for i, s in enumerate(record.shipments) if s.tracking_number == tracking_number
            ]
            if not found or not tracking_number:
                raise OrderRefused(
                    "NOT_SHIPPED",
                    f"order {order_id} has no shipment with tracking number "
                    f"{tracking_number!r}: confirm the shipment first",
                    metadata,
                )
            shipment = record.shipments[found[0]]
            if shipment.delivered_at > 0:
                raise OrderRefused(
                    "ALREADY_DELIVERED",
                    f"shipment {tracking_number} of order {order_id} was delivered at "
                    f"{events.rfc3339(shipment.delivered_at)}",
                    metadata,
                )
            at = delivered_at or now
            if at < shipment.shipped_at:
                raise OrderRefused(
                    "DELIVERED_BEFORE_SHIPPED",
                    f"shipment {tracking_number} shipped at {events.rfc3339(shipment.shipped_at)}, "
                    f"after the delivery time {events.rfc3339(at)}",
                    metadata,
                )
            done = replace(shipment, delivered_at=at)
            shipments = (*record.shipments[: found[0]], done, *record.shipments[found[0] + 1 :])
            after = replace(record, shipments=shipments, updated=now)
            event = _event(
                EventType.DELIVERY_CONFIRMED,
                after,
                request_id,
                {
                    "nodeId": shipment.node_id,
                    "trackingNumber": tracking_number,
                    "deliveryTime": events.rfc3339(at),
                    "lines": _lines_json(shipment.lines, _skus(record)),
                },
            )
            return after, [event]

        return self._step("ConfirmDelivery", order_id, request_id, fingerprint, step)

    def cancel(
        self,
        order_id: str,
        line_ids: Sequence[str] = (),
        reason: str = "",
        request_id: str = "",
        fingerprint: bytes = b"",
    ) -> OrderView:
        """Cancel ``line_ids`` (empty: the whole order): their units not yet shipped are
        released, at every node. Refused (``NOTHING_TO_CANCEL``) when a line asked for, or
        the whole order, has no unit left to ship (it shipped, or was cancelled)."""

        def step(
            tx: Transaction, record: OrderRecord, now: float
        ) -> tuple[OrderRecord, list[NewEvent]]:
            _check_lines(record, line_ids, "lineIds", "")
            open_units = record.open_units()
            asked = set(line_ids) or {line.id for line in record.order.lines}
            for line_id in sorted(set(line_ids)) or [""]:
                if not any(
                    units for (_, i), units in open_units.items() if i == line_id or not line_id
                ):
                    what = f"line {line_id} of order {order_id}" if line_id else f"order {order_id}"
                    raise OrderRefused(
                        "NOTHING_TO_CANCEL",
                        f"{what} has no unit left to ship: it shipped or was cancelled "
                        f"(the order is {record.state().value.lower()})",
                        {"orderId": order_id, "state": record.state().value}
                        | ({"lineId": line_id} if line_id else {}),
                    )
            skus = _skus(record)
            by_node = record.open_by_node(asked)
            for node_id, lines in by_node.items():
                for line_id, units in lines:
                    line = ReservationLine(node_id, skus[line_id], units)
                    give_up(tx, now, record.reservation_id, line, MovementKind.RELEASE)
            gone = tuple(
                Cancellation(n, lines, CancelCause.CANCELLED, reason, now)
                for n, lines in by_node.items()
            )
            after = replace(record, cancellations=(*record.cancellations, *gone), updated=now)
            still = {node for node, _ in after.open_units()}
            shipped_from = {s.node_id for s in after.shipments}
            free_days(tx, record.reservation_id, sorted(set(by_node) - still - shipped_from))
            released = [
                {"nodeId": c.node_id, **line} for c in gone for line in _lines_json(c.lines, skus)
            ]
            event = _event(
                EventType.ORDER_CANCELLED,
                after,
                request_id,
                {
                    "lineIds": sorted(line_ids),
                    "reason": reason,
                    "released": released,
                    "units": sum(int(x["quantity"]) for x in released),  # type: ignore[call-overload]
                },
            )
            return after, [event]

        return self._step("CancelOrder", order_id, request_id, fingerprint, step)

    def _step(
        self, method: str, order_id: str, request_id: str, fingerprint: bytes, step: Step
    ) -> OrderView:
        """Run ``step`` on the order in one write transaction (module docstring)."""
        now = time.time()
        with self.db.write() as tx:
            expire_due(tx, now)
            if request_id:
                stored = idempotency.seen(tx, request_id, method, fingerprint)
                if stored is not None:
                    return codec.load_as(OrderView, stored)
            record = orders.require(tx, order_id)
            after, new_events = step(tx, record, now)
            if record.open_units() and not after.open_units():  # the hold is done
                cause = "ORDER_CANCELLED" if method == "CancelOrder" else "ORDER_SHIPPED"
                new_events.append(_settled(tx, record, after, now, request_id, cause))
            orders.save(tx, after, nodes_changed=False)
            events.append(tx, now, new_events)
            answer = orders.view(tx, after)
            if request_id:
                idempotency.remember(tx, request_id, method, fingerprint, codec.dumps(answer))
        return answer


def _require_received(
    tx: Transaction, order_id: str, node_id: str, wanted: dict[str, int], skus: dict[str, str]
) -> None:
    """Units planned from supply in transit (an inbound node) ship once received: refused
    (``NOT_RECEIVED``) beyond the received units waiting there."""
    found = split_inbound_node_id(node_id)
    if found is None:
        return
    per_sku: dict[str, int] = {}
    for line_id, units in wanted.items():
        per_sku[skus[line_id]] = per_sku.get(skus[line_id], 0) + units
    for sku_id, units in sorted(per_sku.items()):
        waiting = position(tx, node_id, sku_id).on_hand - in_transit(tx, *found, sku_id)
        if units > waiting:
            raise OrderRefused(
                "NOT_RECEIVED",
                f"{units} unit(s) of {sku_id} of order {order_id} are planned from supply in "
                f"transit to {found[0]} arriving {found[1].isoformat()}; {max(0, waiting)} "
                "have been received: receive the supply first (ReceiveInboundSupply)",
                {"orderId": order_id, "nodeId": node_id, "skuId": sku_id},
            )


def _summed(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for line_id, units in lines:
        total[line_id] = total.get(line_id, 0) + units
    return total


def _skus(record: OrderRecord) -> dict[str, str]:
    """SKU per line id of the order."""
    return {line.id: line.sku_id for line in record.order.lines}


def _check_lines(record: OrderRecord, line_ids: Sequence[str], field: str, suffix: str) -> None:
    """Every line id is one of the order's (else a :class:`ValidationError` naming each)."""
    known = _skus(record)
    violations = [
        FieldViolation(f"{field}[{i}]{suffix}", f"order {record.order_id} has no line {line_id!r}")
        for i, line_id in enumerate(line_ids)
        if line_id not in known
    ]
    if violations:
        raise ValidationError(violations, "request")


def _event(
    kind: EventType, record: OrderRecord, request_id: str, payload: dict[str, object]
) -> NewEvent:
    return NewEvent(
        kind,
        reservation_id=record.reservation_id,
        order_id=record.order_id,
        request_id=request_id,
        customer_id=record.order.customer_id,
        payload={**payload, "state": record.state().value},
    )


def _settled(
    tx: Transaction,
    before: OrderRecord,
    after: OrderRecord,
    now: float,
    request_id: str,
    cause: str,
) -> NewEvent:
    """No unit of the order is left open: its reservation becomes COMMITTED (something
    shipped) or RELEASED, and says so with the step's ``cause`` (its units went with the
    order's own events)."""
    shipped = bool(after.shipments)
    state = ReservationState.COMMITTED if shipped else ReservationState.RELEASED
    if not shipped:
        free_days(tx, before.reservation_id)
    tx.execute(
        "UPDATE reservations SET state = ?, updated = ? WHERE id = ?",
        (state.value, now, before.reservation_id),
    )
    kind = EventType.RESERVATION_COMMITTED if shipped else EventType.RESERVATION_RELEASED
    event = _event(kind, after, request_id, {"lines": [], "units": 0})
    return replace(event, payload={**event.payload, "cause": cause})
