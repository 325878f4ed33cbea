"""Reservations: units held for an order, all lines or none, HELD until committed
(shipped), released (cancelled) or expired; and re-routing part of a held order.

Every change runs in one write transaction that first expires the holds past their time
(so expired holds stop counting at once), then checks the request id (AIP-155), then holds
by conditional updates (:func:`omniroute.ledger.positions.hold`), and stores the order and
the answer with it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from omniroute.ledger import events, idempotency, orders
from omniroute.ledger.database import Database, Transaction
from omniroute.ledger.errors import (
    ChangedConcurrently,
    NotHeld,
    ReservationNotHeld,
    Shortage,
    UnknownReservation,
)
from omniroute.ledger.events import EventType, NewEvent, lines_json
from omniroute.ledger.positions import MovementKind, hold, unreserve
from omniroute.ledger.records import (
    CancelCause,
    OrderRecord,
    Rejection,
    Reservation,
    ReservationLine,
    ReservationState,
)
from omniroute.ledger.ship_days import ShipDay, free_days, hold_days
from omniroute.model import Channel, Order, Plan
from omniroute.stock_table import StockTable

if TYPE_CHECKING:
    from omniroute.fences import Fences
    from omniroute.network_index import NetworkIndex

HELD = ReservationState.HELD

#: The served network's index (node and SKU positions) and its compiled channel fences
Fenced = tuple["NetworkIndex", "Fences"]


def new_reservation_id() -> str:
    """A fresh reservation id (chosen before the hold so the answer can carry it)."""
    return "R-" + uuid.uuid4().hex[:20]


def plan_lines(plan: Plan) -> list[ReservationLine]:
    """The (node, SKU, units) a plan ships, one line per shipment line."""
    return [
        ReservationLine(s.node_id, line.sku_id, line.quantity)
        for s in plan.shipments
        for line in s.lines
    ]


def totals(lines: Sequence[ReservationLine]) -> dict[tuple[str, str], int]:
    """Units per (node, SKU)."""
    wanted: dict[tuple[str, str], int] = {}
    for line in lines:
        key = (line.node_id, line.sku_id)
        wanted[key] = wanted.get(key, 0) + line.quantity
    return wanted


# ----------------------------------------------------------------------------- in a transaction


def find(tx: Transaction, reservation_id: str) -> Reservation:
    row = tx.execute(
        "SELECT id, request_id, order_id, state, created, expires, updated FROM reservations "
        "WHERE id = ?",
        (reservation_id,),
    ).fetchone()
    if row is None:
        raise UnknownReservation(reservation_id)
    lines = tuple(
        ReservationLine(*line)
        for line in tx.execute(
            "SELECT node_id, sku_id, quantity FROM reservation_lines WHERE reservation_id = ? "
            "ORDER BY node_id, sku_id",
            (reservation_id,),
        )
    )
    return Reservation(
        row[0], row[1], row[2], ReservationState(row[3]), lines, row[4], row[5], row[6]
    )


def held_per_channel(
    tx: Transaction, position: tuple[str, str] | None = None
) -> list[tuple[str, str, str, int]]:
    """(node, SKU, channel, units) held by HELD reservations of orders with a channel, for
    one position or all."""
    where, params = "r.state = ? AND r.channel <> ''", [HELD.value]
    if position is not None:
        where += " AND l.node_id = ? AND l.sku_id = ?"
        params += list(position)
    return [
        (row[0], row[1], row[2], int(row[3]))
        for row in tx.execute(
            "SELECT l.node_id, l.sku_id, r.channel, SUM(l.quantity) FROM reservation_lines l "
            f"JOIN reservations r ON r.id = l.reservation_id WHERE {where} "
            "GROUP BY l.node_id, l.sku_id, r.channel",
            params,
        )
    ]


def held_lines(tx: Transaction) -> dict[str, list[ReservationLine]]:
    """The lines of every HELD reservation, by reservation id."""
    held: dict[str, list[ReservationLine]] = {}
    for reservation_id, node_id, sku_id, quantity in tx.execute(
        "SELECT l.reservation_id, l.node_id, l.sku_id, l.quantity FROM reservation_lines l "
        "JOIN reservations r ON r.id = l.reservation_id WHERE r.state = ?",
        (HELD.value,),
    ):
        held.setdefault(reservation_id, []).append(ReservationLine(node_id, sku_id, quantity))
    return held


def expire_due(tx: Transaction, now: float) -> int:
    """Expire every hold past its time; return how many."""
    due = [
        row[0]
        for row in tx.execute(
            "SELECT id FROM reservations WHERE state = ? AND expires <= ?", (HELD.value, now)
        )
    ]
    expired = []
    for reservation_id in due:
        lines = [
            ReservationLine(*row)
            for row in tx.execute(
                "SELECT node_id, sku_id, quantity FROM reservation_lines "
                "WHERE reservation_id = ? ORDER BY node_id, sku_id",
                (reservation_id,),
            ).fetchall()
        ]
        for line in lines:
            unreserve(
                tx,
                now,
                MovementKind.EXPIRE,
                line.node_id,
                line.sku_id,
                line.quantity,
                0,
                reservation_id,
            )
        free_days(tx, reservation_id)
        orders.settle(tx, reservation_id, now, False, CancelCause.EXPIRED)
        tx.execute(
            "UPDATE reservations SET state = ?, updated = ? WHERE id = ?",
            (ReservationState.EXPIRED.value, now, reservation_id),
        )
        expired.append(_event(tx, EventType.RESERVATION_EXPIRED, reservation_id, lines))
    events.append(tx, now, expired)
    return len(due)


def release_all(tx: Transaction, reservation_id: str, now: float) -> None:
    """Mark a HELD reservation released without touching stock (its positions are gone)."""
    free_days(tx, reservation_id)
    orders.settle(tx, reservation_id, now, False, CancelCause.NETWORK_REPLACED)
    tx.execute(
        "UPDATE reservations SET state = ?, updated = ? WHERE id = ?",
        (ReservationState.RELEASED.value, now, reservation_id),
    )
    lines = find(tx, reservation_id).lines
    event = _event(tx, EventType.RESERVATION_RELEASED, reservation_id, lines)
    events.append(tx, now, [replace(event, payload={**event.payload, "cause": "NETWORK_REPLACED"})])


def _event(
    tx: Transaction, kind: EventType, reservation_id: str, lines: Sequence[ReservationLine]
) -> NewEvent:
    """The event of a reservation's change (its order and customer looked up)."""
    row = tx.execute(
        "SELECT request_id, order_id FROM reservations WHERE id = ?", (reservation_id,)
    ).fetchone()
    request_id, order_id = (row[0], row[1]) if row else ("", "")
    customer_id = events.customer_of(tx, reservation_id)[1]
    return NewEvent(
        kind,
        reservation_id=reservation_id,
        order_id=order_id,
        request_id=request_id,
        customer_id=customer_id,
        payload={"lines": lines_json(lines), "units": sum(x.quantity for x in lines)},
    )


def give_up(
    tx: Transaction,
    now: float,
    reservation_id: str,
    line: ReservationLine,
    kind: str,
    settle_inbound: bool = True,
) -> None:
    """Take ``line``'s units out of a held reservation: released (``kind`` RELEASE), or
    shipped (COMMIT: they leave on-hand too). :class:`NotHeld` when the reservation holds
    fewer units of the SKU at the node. ``settle_inbound``: see
    :func:`omniroute.ledger.positions.unreserve`."""
    key = (reservation_id, line.node_id, line.sku_id)
    row = tx.execute(
        "SELECT quantity FROM reservation_lines WHERE reservation_id = ? "
        "AND node_id = ? AND sku_id = ?",
        key,
    ).fetchone()
    if row is None or row[0] < line.quantity:
        raise NotHeld(
            f"{line.node_id} holds fewer than {line.quantity} of {line.sku_id} "
            f"for reservation {reservation_id}",
            {"reservationId": reservation_id},
        )
    if row[0] == line.quantity:
        tx.execute(
            "DELETE FROM reservation_lines WHERE reservation_id = ? AND node_id = ? AND sku_id = ?",
            key,
        )
    else:
        tx.execute(
            "UPDATE reservation_lines SET quantity = quantity - ? WHERE "
            "reservation_id = ? AND node_id = ? AND sku_id = ?",
            (line.quantity, *key),
        )
    shipped = line.quantity if kind == MovementKind.COMMIT else 0
    unreserve(
        tx,
        now,
        kind,
        line.node_id,
        line.sku_id,
        line.quantity,
        shipped,
        reservation_id,
        settle_inbound,
    )


def _require_held(reservation: Reservation) -> None:
    if reservation.state is not HELD:
        raise ReservationNotHeld(reservation.id, reservation.state.value)


# ----------------------------------------------------------------------------- the concern


class Reservations:
    """Holds, commits, releases, expiry and re-routes (see the module docstring).

    ``fences_of``: the served network's channel fences, compiled (None: the network has
    none), read in a transaction; every hold of an order's units is checked against them.
    """

    def __init__(
        self, db: Database, fences_of: Callable[[Transaction], Fenced | None] = lambda tx: None
    ) -> None:
        self.db = db
        self._fences_of = fences_of

    def held_by_channel(self) -> list[tuple[str, str, Channel, int]]:
        """Units held per (node, SKU, channel of the order), over HELD reservations of
        orders with a channel: what channel fences count against."""
        with self.db.read() as tx:
            return [
                (node_id, sku_id, Channel(channel), int(units))
                for node_id, sku_id, channel, units in held_per_channel(tx)
            ]

    def _check_fences(
        self, tx: Transaction, channel: Channel | None, wanted: Mapping[tuple[str, str], int]
    ) -> None:
        """:class:`Shortage` for the positions where ``channel`` may not take the units
        wanted: fenced for other channels, or past its cap (omniroute.fences)."""
        fenced = self._fences_of(tx) if channel is not None and wanted else None
        if fenced is None or channel is None:
            return
        index, fences = fenced
        touched = {
            key: units
            for key, units in wanted.items()
            if key[0] in index.node_pos
            and key[1] in index.sku_pos
            and fences.touches(index.node_pos[key[0]], index.sku_pos[key[1]])
        }
        short = []
        for (node_id, sku_id), units in sorted(touched.items()):
            row = tx.execute(
                "SELECT on_hand, safety_stock, reserved FROM stock WHERE node_id = ? "
                "AND sku_id = ?",
                (node_id, sku_id),
            ).fetchone()
            if row is None:
                continue  # the plain hold reports it
            held = {Channel(c): int(q) for _, _, c, q in held_per_channel(tx, (node_id, sku_id))}
            atp = fences.position_atp(
                channel,
                index.node_pos[node_id],
                index.sku_pos[sku_id],
                int(row[0]),
                int(row[1]),
                int(row[2]),
                held,
            )
            if atp is not None and atp < units:
                short.append((node_id, sku_id, units))
        if short:
            raise Shortage(short)

    def reserve(
        self,
        reservation_id: str,
        request_id: str,
        fingerprint: bytes,
        order_id: str,
        lines: Sequence[ReservationLine],
        ttl: float,
        answer: bytes,
        order: tuple[Order, Plan] | None = None,
        ship_days: Sequence[ShipDay] = (),
    ) -> bytes:
        """Hold every line, or none, for ``ttl`` seconds; return the answer to store.

        With ``order`` (the order and the plan the lines come from, see :func:`plan_lines`)
        the reserved order is recorded for re-routing and order status. ``ship_days``: the
        plan's dated shipments at nodes with a daily capacity, each counted against its
        day (:func:`omniroute.ledger.ship_days.hold_days`). Raises
        :class:`~omniroute.ledger.errors.Shortage` (and changes nothing) when ATP no longer
        covers some position, :class:`~omniroute.ledger.errors.DayFull` when a day is full.
        A retry with the same ``request_id`` and ``fingerprint`` returns the answer stored
        by the first call and holds nothing more.
        """
        now = time.time()
        with self.db.write() as tx:
            expire_due(tx, now)
            stored = idempotency.seen(tx, request_id, "PlanOrder", fingerprint)
            if stored is not None:
                return stored
            channel = order[0].channel if order is not None else None
            tx.execute(
                "INSERT INTO reservations (id, request_id, order_id, state, created, expires, "
                "updated, channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    reservation_id,
                    request_id,
                    order_id,
                    HELD.value,
                    now,
                    now + ttl,
                    now,
                    channel.value if channel else "",
                ),
            )
            wanted = totals(lines)
            self._check_fences(tx, channel, wanted)  # Shortage past a channel fence or cap
            hold(tx, now, reservation_id, wanted)  # all or Shortage
            hold_days(tx, reservation_id, ship_days)  # all or DayFull
            if order is not None:
                orders.save(tx, OrderRecord(order_id, reservation_id, *order, updated=now))
            held = [ReservationLine(n, s, q) for (n, s), q in sorted(wanted.items())]
            event = NewEvent(
                EventType.RESERVATION_HELD,
                reservation_id=reservation_id,
                order_id=order_id,
                request_id=request_id,
                customer_id=order[0].customer_id if order is not None else "",
                payload={
                    "lines": lines_json(held),
                    "units": sum(x.quantity for x in held),
                    "expireTime": events.rfc3339(now + ttl),
                },
            )
            events.append(tx, now, [event])
            idempotency.remember(tx, request_id, "PlanOrder", fingerprint, answer)
        return answer

    def reroute(
        self,
        record: OrderRecord,
        request_id: str,
        fingerprint: bytes,
        release: Sequence[ReservationLine],
        hold_more: Sequence[ReservationLine],
        plan: Plan,
        rerouted: Sequence[str],
        rejection: Rejection,
        answer: bytes,
        ship_days: Sequence[ShipDay] = (),
    ) -> bytes:
        """Move part of a held order: give up ``release``, hold ``hold_more`` (all or
        nothing), store the new plan and the rejection; idempotent by ``request_id``.

        ``record`` is the order as read before re-planning: if the order changed since
        (another re-route), :class:`ChangedConcurrently` is raised and nothing changes.
        ``ship_days``: the days of the shipments the new plan adds (counted, or
        :class:`~omniroute.ledger.errors.DayFull`); the days of shipments it no longer has
        are given back.
        """
        now = time.time()
        with self.db.write() as tx:
            expire_due(tx, now)
            stored = idempotency.seen(tx, request_id, "RerouteOrder", fingerprint)
            if stored is not None:
                return stored
            current = self.take_out(tx, now, record, release)
            self.put_in(
                tx,
                now,
                current,
                hold_more,
                plan,
                rerouted,
                ship_days,
                rejections=(*current.rejections, replace(rejection, at=now)),
            )
            event = NewEvent(
                EventType.ORDER_REROUTED,
                reservation_id=record.reservation_id,
                order_id=current.order_id,
                request_id=request_id,
                customer_id=current.order.customer_id,
                payload={
                    "nodeId": rejection.node_id,
                    "reason": rejection.reason.value,
                    "released": lines_json(release),
                    "held": lines_json(hold_more),
                    "reroutedNodeIds": sorted(rerouted),
                    "shipFromNodeIds": [s.node_id for s in plan.shipments],
                },
            )
            events.append(tx, now, [event])
            idempotency.remember(tx, request_id, "RerouteOrder", fingerprint, answer)
        return answer

    @staticmethod
    def take_out(
        tx: Transaction,
        now: float,
        record: OrderRecord,
        release: Sequence[ReservationLine],
        settle_inbound: bool = True,
    ) -> OrderRecord:
        """First half of moving part of a held order (in the caller's transaction): give
        up ``release``; the order as stored. :class:`ChangedConcurrently` when the order
        changed since ``record`` was read (it was planned on a stale plan);
        :class:`ReservationNotHeld` when its hold has ended. ``settle_inbound`` False:
        inbound positions are left for the caller to settle (a supply change does, once
        its units in transit are updated)."""
        reservation = find(tx, record.reservation_id)
        _require_held(reservation)
        current = orders.find(tx, reservation_id=record.reservation_id)
        if current is None or current.updated != record.updated:
            raise ChangedConcurrently("the order changed while it was re-planned")
        for line in release:
            give_up(tx, now, record.reservation_id, line, MovementKind.RELEASE, settle_inbound)
        return current

    def put_in(
        self,
        tx: Transaction,
        now: float,
        current: OrderRecord,
        hold_more: Sequence[ReservationLine],
        plan: Plan,
        rerouted: Sequence[str],
        ship_days: Sequence[ShipDay],
        rejections: tuple[Rejection, ...] | None = None,
    ) -> None:
        """Second half: hold ``hold_more`` (all or :class:`Shortage`), count the new
        shipments' days (all or DayFull) and store the order's new ``plan``."""
        more = totals(hold_more)
        self._check_fences(tx, current.order.channel, more)
        hold(tx, now, current.reservation_id, more)  # all or Shortage
        kept = {s.node_id for s in plan.shipments}
        gone = [s.node_id for s in current.plan.shipments if s.node_id not in kept]
        free_days(tx, current.reservation_id, gone)
        hold_days(tx, current.reservation_id, ship_days)  # all or DayFull
        orders.save(
            tx,
            replace(
                current,
                plan=plan,
                rerouted=tuple(sorted(set(current.rerouted) | set(rerouted))),
                rejections=current.rejections if rejections is None else rejections,
                updated=now,
            ),
        )
        tx.execute(
            "UPDATE reservations SET updated = ? WHERE id = ?", (now, current.reservation_id)
        )

    def commit(self, reservation_id: str) -> Reservation:
        """Shipped: on-hand and reserved both go down. Committing again changes nothing."""
        return self._settle(reservation_id, ReservationState.COMMITTED, MovementKind.COMMIT)

    def release(self, reservation_id: str) -> Reservation:
        """Cancelled: the held units become available again. Releasing again changes nothing."""
        return self._settle(reservation_id, ReservationState.RELEASED, MovementKind.RELEASE)

    def get(self, reservation_id: str) -> Reservation:
        """A reservation by id (:class:`UnknownReservation` when there is none)."""
        if self._due():
            self.expire_due()
        with self.db.read() as tx:
            return find(tx, reservation_id)

    def expire_due(self) -> int:
        """Expire every hold past its time; return how many (cheap when none are due)."""
        if not self._due():
            return 0
        with self.db.write() as tx:
            return expire_due(tx, time.time())

    def _due(self) -> bool:
        with self.db.read() as tx:
            row = tx.execute(
                "SELECT 1 FROM reservations WHERE state = ? AND expires <= ? LIMIT 1",
                (HELD.value, time.time()),
            ).fetchone()
        return row is not None

    def _settle(self, reservation_id: str, state: ReservationState, kind: str) -> Reservation:
        now = time.time()
        with self.db.write() as tx:
            expire_due(tx, now)
            reservation = find(tx, reservation_id)
            if reservation.state is state:
                return reservation  # idempotent: already done
            _require_held(reservation)
            shipped = state is ReservationState.COMMITTED
            if not shipped:  # a committed shipment keeps its day
                free_days(tx, reservation_id)
            orders.settle(tx, reservation_id, now, shipped, CancelCause.RELEASED)
            for line in reservation.lines:
                unreserve(
                    tx,
                    now,
                    kind,
                    line.node_id,
                    line.sku_id,
                    line.quantity,
                    line.quantity if shipped else 0,
                    reservation_id,
                )
            tx.execute(
                "UPDATE reservations SET state = ?, updated = ? WHERE id = ?",
                (state.value, now, reservation_id),
            )
            change = EventType.RESERVATION_COMMITTED if shipped else EventType.RESERVATION_RELEASED
            events.append(tx, now, [_event(tx, change, reservation_id, reservation.lines)])
            return find(tx, reservation_id)


def carried_over(tx: Transaction, stock: StockTable, now: float) -> dict[tuple[str, str], int]:
    """For a new network: a hold stays reserved when all its positions still exist and their
    new on-hand still covers it, oldest holds first (the units per position are returned);
    the other holds are released."""
    created = dict(
        tx.execute("SELECT id, created FROM reservations WHERE state = ?", (HELD.value,))
    )
    held = held_lines(tx)
    rows = stock.find({(line.node_id, line.sku_id) for lines in held.values() for line in lines})
    on_hand = {key: int(stock.on_hand[row]) for key, row in rows.items()}
    reserved: dict[tuple[str, str], int] = {}
    for reservation_id in sorted(held, key=lambda r: (created.get(r, 0.0), r)):
        wanted = totals(held[reservation_id])
        if all(
            key in on_hand and reserved.get(key, 0) + quantity <= on_hand[key]
            for key, quantity in wanted.items()
        ):
            for key, quantity in wanted.items():
                reserved[key] = reserved.get(key, 0) + quantity
        else:
            release_all(tx, reservation_id, now)
    return reserved
