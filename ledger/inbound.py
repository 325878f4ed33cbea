"""Supply in transit (docs/future-stock.md): purchase orders and transfers on their way to a
node, promised before they arrive.

Each supply is a row of ``inbound`` (its units still in transit, its arrival date). Its units
are also a stock position at its **inbound node** ``NODE@YYYY-MM-DD`` (omniroute.inbound), so
holds against future stock are the ledger's ordinary atomic holds and never exceed what is
inbound. At an inbound position with ``T`` units still in transit (all the supplies of that
node, date and SKU) and ``R`` held:

* its on-hand is ``max(R, T)``: the units in transit, or more while received units wait
  there for the orders that hold them (they ship from the inbound node, as planned);
* receiving ``q`` units of a supply lowers ``T`` by ``q``; the received units not needed by
  holds go on hand at the node itself (:func:`settle`, also after every release and
  shipment at an inbound position);
* once nothing is in transit, held or waiting there, the position and its supplies' rows go,
  and the planner drops the inbound node (the ``inbound_version`` changes).

A change that would leave an inbound position with fewer units than its orders hold (a
supply cut below what is promised, or moved to another date while promised) **re-promises**
the orders last promised there (:meth:`Inbound.preview` names them, newest first, until the rest
fits): the caller plans their units again on the stock the change leaves
(:class:`Repromise`) and :meth:`Inbound.put` applies the change, gives up their holds there
and takes the new ones in one transaction, with an ``ORDER_REPROMISED`` event per order.
Without re-promises such a change is refused (:class:`InboundHeld`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from omniroute.inbound import inbound_node_id, inbound_positions, split_inbound_node_id
from omniroute.ledger import codec, events, idempotency
from omniroute.ledger.database import Database, Transaction
from omniroute.ledger.errors import InboundHeld, UnknownInbound
from omniroute.ledger.events import EventType, NewEvent, lines_json
from omniroute.ledger.positions import COLUMNS, move, position, positions
from omniroute.ledger.records import OrderRecord, ReservationLine
from omniroute.ledger.ship_days import ShipDay
from omniroute.model import (
    FieldViolation,
    InboundSupply,
    Network,
    Plan,
    StockPosition,
    ValidationError,
)

if TYPE_CHECKING:
    from omniroute.ledger.reservations import Reservations

KnownIds = Callable[[Transaction], tuple[set[str], set[str]]]


@dataclass(frozen=True, slots=True)
class Displaced:
    """An order whose units at an inbound position a supply change takes away."""

    reservation_id: str
    node_id: str  # the inbound node
    sku_id: str
    units: int  # all the order holds there


@dataclass(frozen=True, slots=True)
class Preview:
    """What a supply change would do: the holds it takes away and, to plan them again on,
    the supplies and the positions of their SKUs (reserved: without those holds) after."""

    displaced: tuple[Displaced, ...]
    supplies: tuple[InboundSupply, ...]
    positions: tuple[StockPosition, ...]


@dataclass(frozen=True, slots=True)
class Repromise:
    """An order's units moved off changed supply: ``record`` as read when they were
    planned again, the holds to give up and to take, and the new plan."""

    record: OrderRecord
    release: tuple[ReservationLine, ...]
    hold: tuple[ReservationLine, ...]
    plan: Plan
    rerouted: tuple[str, ...]
    ship_days: tuple[ShipDay, ...] = ()


def _row_supply(row: Sequence[Any]) -> InboundSupply:
    return InboundSupply(
        str(row[0]), str(row[1]), str(row[2]), int(row[3]), date.fromisoformat(str(row[4]))
    )


def supplies(tx: Transaction, live_only: bool = False) -> list[InboundSupply]:
    """Every supply row (``live_only``: those with units in transit or whose inbound
    position still holds units), by id; one query."""
    where = ""
    if live_only:  # the position's id is the inbound node id, NODE@DATE (omniroute.inbound)
        where = (
            " LEFT JOIN stock s ON s.node_id = i.node_id || '@' || i.arrival_date"
            " AND s.sku_id = i.sku_id WHERE i.quantity > 0 OR s.on_hand > 0 OR s.reserved > 0"
        )
    rows = tx.execute(
        "SELECT i.id, i.node_id, i.sku_id, i.quantity, i.arrival_date FROM inbound i"
        f"{where} ORDER BY i.id"
    ).fetchall()
    return [_row_supply(row) for row in rows]


def version(tx: Transaction) -> int:
    """Changes whenever the set of inbound nodes may have changed."""
    row = tx.execute("SELECT value FROM meta WHERE key = 'inbound_version'").fetchone()
    return int(row[0]) if row else 0


def _bump(tx: Transaction) -> None:
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('inbound_version', '1') ON CONFLICT (key) "
        "DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)"
    )


def in_transit(tx: Transaction, node_id: str, arrival: date, sku_id: str) -> int:
    """Units still in transit to ``node_id`` for ``arrival`` of ``sku_id``."""
    row = tx.execute(
        "SELECT COALESCE(SUM(quantity), 0) FROM inbound WHERE node_id = ? AND sku_id = ? "
        "AND arrival_date = ?",
        (node_id, sku_id, arrival.isoformat()),
    ).fetchone()
    return int(row[0])


def settle(tx: Transaction, now: float, inbound_id: str, sku_id: str, reference: str) -> None:
    """Keep an inbound position at ``max(held, in transit)`` on hand: received units no
    order holds there go on hand at the node itself; an empty position (and its spent
    supplies) goes. A no-op for other positions."""
    found = split_inbound_node_id(inbound_id)
    if found is None:
        return
    node_id, arrival = found
    here = position(tx, inbound_id, sku_id)
    transit = in_transit(tx, node_id, arrival, sku_id)
    keep = max(here.reserved, transit)
    surplus = here.on_hand - keep
    if surplus > 0:
        tx.execute(
            "UPDATE stock SET on_hand = on_hand - ? WHERE node_id = ? AND sku_id = ?",
            (surplus, inbound_id, sku_id),
        )
        move(tx, now, "RECEIVE", inbound_id, sku_id, -surplus, 0, reference)
        tx.execute(
            f"INSERT INTO stock ({COLUMNS}) VALUES (?, ?, ?, 0, 0) ON CONFLICT (node_id, sku_id) "
            "DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand",
            (node_id, sku_id, surplus),
        )
        move(tx, now, "RECEIVE", node_id, sku_id, surplus, 0, reference)
    if keep == 0:
        gone = tx.execute(
            "DELETE FROM stock WHERE node_id = ? AND sku_id = ?", (inbound_id, sku_id)
        ).rowcount
        gone += tx.execute(
            "DELETE FROM inbound WHERE node_id = ? AND sku_id = ? AND arrival_date = ? "
            "AND quantity = 0",
            (node_id, sku_id, arrival.isoformat()),
        ).rowcount
        if gone:  # the inbound node may have gone
            _bump(tx)


def _set_transit(
    tx: Transaction, now: float, node_id: str, arrival: date, sku_id: str, delta: int, ref: str
) -> tuple[str, str, int] | None:
    """Add ``delta`` units in transit at an inbound position (creating it), then
    :func:`settle` it; the (position, SKU, held) instead when that would leave fewer units
    than its orders hold (the caller then refuses the whole change)."""
    inbound_id = inbound_node_id(node_id, arrival)
    here = position(tx, inbound_id, sku_id)
    units = here.on_hand + delta
    if units < here.reserved:
        return (inbound_id, sku_id, here.reserved)
    exists = tx.execute(
        "SELECT 1 FROM stock WHERE node_id = ? AND sku_id = ?", (inbound_id, sku_id)
    ).fetchone()
    if exists is None:
        if units <= 0:
            return None
        tx.execute(
            f"INSERT INTO stock ({COLUMNS}) VALUES (?, ?, ?, 0, 0)", (inbound_id, sku_id, units)
        )
        _bump(tx)
    else:
        tx.execute(
            "UPDATE stock SET on_hand = ? WHERE node_id = ? AND sku_id = ?",
            (units, inbound_id, sku_id),
        )
    if delta:
        move(tx, now, "INBOUND", inbound_id, sku_id, delta, 0, ref)
    settle(tx, now, inbound_id, sku_id, ref)
    return None


def carried(tx: Transaction, network: Network) -> tuple[list[InboundSupply], list[StockPosition]]:
    """For a new network: its supplies (the network's own, else the ledger's whose node and
    SKU it still has) and their inbound positions (the network's: its units in transit; the
    ledger's: as they stand, so holds on them carry over)."""
    if network.inbound_supply:
        units = inbound_positions(network.inbound_supply)
        return list(network.inbound_supply), [
            StockPosition(node_id, sku_id, quantity, 0, 0)
            for (node_id, sku_id), quantity in sorted(units.items())
        ]
    node_ids = {n.id for n in network.nodes}
    sku_ids = {s.id for s in network.skus}
    kept = [s for s in supplies(tx) if s.node_id in node_ids and s.sku_id in sku_ids]
    positions = []
    for node_id, sku_id, on_hand in tx.execute(
        "SELECT node_id, sku_id, on_hand FROM stock WHERE node_id LIKE '%@%'"
    ).fetchall():
        found = split_inbound_node_id(node_id)
        if found and found[0] in node_ids and sku_id in sku_ids:
            positions.append(StockPosition(node_id, sku_id, int(on_hand), 0, 0))
    return kept, positions


def replace_rows(tx: Transaction, kept: Sequence[InboundSupply], now: float) -> None:
    """Replace every supply row with ``kept`` (a new network's)."""
    had = tx.execute("SELECT 1 FROM inbound LIMIT 1").fetchone() is not None
    if not had and not kept:
        return
    tx.execute("DELETE FROM inbound")
    tx.executemany(
        "INSERT INTO inbound (id, node_id, sku_id, quantity, arrival_date, created, updated) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (s.id, s.node_id, s.sku_id, s.quantity, s.arrival_date.isoformat(), now, now)
            for s in kept
            if s.arrival_date is not None
        ],
    )
    _bump(tx)


class Inbound:
    """Put and receive supply in transit (see the module docstring)."""

    def __init__(self, db: Database, known_ids: KnownIds, reservations: Reservations) -> None:
        self.db = db
        self._known_ids = known_ids
        self._reservations = reservations

    def pending(self, node_id: str = "") -> list[InboundSupply]:
        """Every supply with units in transit (to ``node_id`` when given), by id."""
        with self.db.read() as tx:
            return [s for s in supplies(tx) if s.quantity > 0 and node_id in ("", s.node_id)]

    def put(
        self,
        changes: Sequence[InboundSupply],
        request_id: str = "",
        fingerprint: bytes = b"",
        validate_only: bool = False,
        repromises: Sequence[Repromise] = (),
    ) -> list[InboundSupply]:
        """Create or replace supplies by id (``quantity`` 0: the supply is cancelled), all or
        none; the supplies as stored. Every problem is a :class:`ValidationError` (nothing
        changes). Promised units a change takes away must be moved by ``repromises`` (see
        the module docstring), else :class:`InboundHeld`; a re-promise planned on a stale
        order is :class:`ChangedConcurrently`, one the stock no longer has a
        :class:`Shortage` (nothing changes: plan again)."""
        try:
            return self._put(changes, request_id, fingerprint, validate_only, repromises)
        except _Rollback as checked:
            return checked.supplies

    def preview(self, changes: Sequence[InboundSupply]) -> Preview:
        """What ``changes`` would do (nothing changes): the holds they take away (at each
        inbound position left with fewer units than its orders hold, whole holds of the
        orders promised there last, newest first, until the rest fits) and, when there are
        such holds, the supplies and the positions of their SKUs as the change and the
        release of those holds leave them, to plan them again on. Invalid changes are a
        :class:`ValidationError`."""
        with self.db.read() as tx:
            self._check(tx, changes)
            deltas = _deltas(tx, changes)
            found: list[Displaced] = []
            for (node_id, arrival, sku_id), delta in sorted(deltas.items()):
                inbound_id = inbound_node_id(node_id, arrival)
                here = position(tx, inbound_id, sku_id)
                over = here.reserved - (here.on_hand + delta)
                rows = tx.execute(
                    "SELECT l.reservation_id, l.quantity FROM reservation_lines l JOIN "
                    "reservations r ON r.id = l.reservation_id WHERE r.state = 'HELD' AND "
                    "l.node_id = ? AND l.sku_id = ? ORDER BY r.created DESC, r.id DESC",
                    (inbound_id, sku_id),
                ).fetchall()
                for reservation_id, units in rows:
                    if over <= 0:
                        break
                    found.append(Displaced(str(reservation_id), inbound_id, sku_id, int(units)))
                    over -= int(units)
            if not found:
                return Preview((), (), ())
            skus = sorted({d.sku_id for d in found})
            marks = ", ".join("?" * len(skus))
            after = {
                (p.node_id, p.sku_id): p for p in positions(tx, f" WHERE sku_id IN ({marks})", skus)
            }
            for d in found:  # the holds given up
                p = after[(d.node_id, d.sku_id)]
                after[(d.node_id, d.sku_id)] = replace(p, reserved=p.reserved - d.units)
            for (node_id, arrival, sku_id), delta in deltas.items():  # as _set_transit does
                if sku_id not in skus:
                    continue
                inbound_id = inbound_node_id(node_id, arrival)
                p = after.get((inbound_id, sku_id), StockPosition(inbound_id, sku_id, 0))
                transit = in_transit(tx, node_id, arrival, sku_id) + delta
                on_hand = p.on_hand + delta
                keep = max(p.reserved, transit)
                if on_hand > keep:  # received units no order holds: on hand at the node
                    shelf = after.get((node_id, sku_id), StockPosition(node_id, sku_id, 0))
                    after[(node_id, sku_id)] = replace(
                        shelf, on_hand=shelf.on_hand + on_hand - keep
                    )
                    on_hand = keep
                after[(inbound_id, sku_id)] = replace(p, on_hand=on_hand)
            by_id = {supply.id: supply for supply in supplies(tx, live_only=True)}
            by_id.update((supply.id, supply) for supply in changes)
            return Preview(
                tuple(found),
                tuple(by_id.values()),
                tuple(p for p in after.values() if p.on_hand > 0 or p.reserved > 0),
            )

    def _put(
        self,
        changes: Sequence[InboundSupply],
        request_id: str,
        fingerprint: bytes,
        validate_only: bool,
        repromises: Sequence[Repromise],
    ) -> list[InboundSupply]:
        now = time.time()
        with self.db.write() as tx:
            if request_id and not validate_only:
                stored = idempotency.seen(tx, request_id, "PutInboundSupply", fingerprint)
                if stored is not None:
                    return list(codec.loads(tuple[InboundSupply, ...], stored))
            self._check(tx, changes)
            # the change of units in transit per inbound position, netted over the changes
            deltas = _deltas(tx, changes)
            # the holds given up first, their inbound positions settled below with the
            # change (settling now would count units still in transit as received)
            taken_out = [
                self._reservations.take_out(tx, now, r.record, r.release, settle_inbound=False)
                for r in repromises
            ]
            for supply in changes:
                assert supply.arrival_date is not None
                tx.execute(
                    "INSERT INTO inbound (id, node_id, sku_id, quantity, arrival_date, created, "
                    "updated) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                    "node_id = excluded.node_id, sku_id = excluded.sku_id, "
                    "quantity = excluded.quantity, arrival_date = excluded.arrival_date, "
                    "updated = excluded.updated",
                    (
                        supply.id,
                        supply.node_id,
                        supply.sku_id,
                        supply.quantity,
                        supply.arrival_date.isoformat(),
                        now,
                        now,
                    ),
                )
            reference = request_id or "PutInboundSupply"
            held = [
                short
                for key, delta in sorted(deltas.items())
                if (short := _set_transit(tx, now, *key, delta, reference))
            ]
            if held:
                raise InboundHeld(held, _holders(tx, held))
            stored_supplies = list(changes)  # (a cancelled one's row may be gone)
            news = [
                NewEvent(
                    EventType.INBOUND_UPDATED,
                    request_id=request_id,
                    payload={"supplies": [_supply_json(s) for s in stored_supplies]},
                )
            ]
            for repromise, current in zip(repromises, taken_out, strict=True):
                self._reservations.put_in(
                    tx,
                    now,
                    current,
                    repromise.hold,
                    repromise.plan,
                    repromise.rerouted,
                    repromise.ship_days,
                )
                news.append(_repromised(current, repromise, stored_supplies, request_id))
            events.append(tx, now, news)
            if validate_only:
                raise _Rollback(stored_supplies)
            if request_id:
                idempotency.remember(
                    tx,
                    request_id,
                    "PutInboundSupply",
                    fingerprint,
                    codec.dumps(tuple(stored_supplies)),
                )
        return stored_supplies

    def receive(
        self, supply_id: str, quantity: int, request_id: str = "", fingerprint: bytes = b""
    ) -> list[StockPosition]:
        """``quantity`` units of a supply arrived (0 < quantity <= in transit): received
        units go on hand at the node, but those its orders hold, which wait at the inbound
        position to ship as planned. The positions after."""
        now = time.time()
        with self.db.write() as tx:
            if request_id:
                stored = idempotency.seen(tx, request_id, "ReceiveInboundSupply", fingerprint)
                if stored is not None:
                    return list(codec.loads(tuple[StockPosition, ...], stored))
            supply = _stored(tx, supply_id)
            assert supply.arrival_date is not None
            if not 0 < quantity <= supply.quantity:
                raise ValidationError(
                    [
                        FieldViolation(
                            "quantity",
                            f"must be 1 to {supply.quantity} (the units of {supply_id} in "
                            f"transit), got {quantity}",
                        )
                    ],
                    "ReceiveInboundSupplyRequest",
                )
            tx.execute(
                "UPDATE inbound SET quantity = quantity - ?, updated = ? WHERE id = ?",
                (quantity, now, supply_id),
            )
            inbound_id = inbound_node_id(supply.node_id, supply.arrival_date)
            settle(tx, now, inbound_id, supply.sku_id, supply_id)
            after = [
                position(tx, supply.node_id, supply.sku_id),
                position(tx, inbound_id, supply.sku_id),
            ]
            events.append(
                tx,
                now,
                [
                    NewEvent(
                        EventType.INBOUND_RECEIVED,
                        request_id=request_id,
                        payload={
                            "supplyId": supply_id,
                            "nodeId": supply.node_id,
                            "skuId": supply.sku_id,
                            "quantity": quantity,
                            "inTransit": supply.quantity - quantity,
                        },
                    )
                ],
            )
            if request_id:
                idempotency.remember(
                    tx, request_id, "ReceiveInboundSupply", fingerprint, codec.dumps(tuple(after))
                )
        return after

    def _check(self, tx: Transaction, changes: Sequence[InboundSupply]) -> None:
        node_ids, sku_ids = self._known_ids(tx)
        violations: list[FieldViolation] = []
        seen: set[str] = set()
        for i, supply in enumerate(changes):
            where = f"supplies[{i}]"
            if not supply.id:
                violations.append(FieldViolation(f"{where}.id", "is required"))
            elif supply.id in seen:
                violations.append(FieldViolation(f"{where}.id", f"repeats {supply.id!r}"))
            seen.add(supply.id)
            if supply.node_id not in node_ids:
                violations.append(
                    FieldViolation(f"{where}.nodeId", f"unknown node {supply.node_id!r}")
                )
            if supply.sku_id not in sku_ids:
                violations.append(
                    FieldViolation(f"{where}.skuId", f"unknown SKU {supply.sku_id!r}")
                )
            if supply.quantity < 0:
                violations.append(
                    FieldViolation(
                        f"{where}.quantity", f"must be >= 0 (0 cancels), got {supply.quantity}"
                    )
                )
            if supply.arrival_date is None:
                violations.append(FieldViolation(f"{where}.arrivalDate", "is required"))
        if not changes:
            violations.append(FieldViolation("supplies", "at least one supply is required"))
        if violations:
            raise ValidationError(violations, "PutInboundSupplyRequest")


def _deltas(tx: Transaction, changes: Sequence[InboundSupply]) -> dict[tuple[str, date, str], int]:
    """The change of units in transit per (node, arrival date, SKU), netted over the
    changes (each replacing the supply stored under its id, if any)."""
    deltas: dict[tuple[str, date, str], int] = {}
    for supply in changes:
        assert supply.arrival_date is not None
        old = tx.execute(
            "SELECT id, node_id, sku_id, quantity, arrival_date FROM inbound WHERE id = ?",
            (supply.id,),
        ).fetchone()
        if old is not None:
            before = _row_supply(old)
            assert before.arrival_date is not None
            key = (before.node_id, before.arrival_date, before.sku_id)
            deltas[key] = deltas.get(key, 0) - before.quantity
        key = (supply.node_id, supply.arrival_date, supply.sku_id)
        deltas[key] = deltas.get(key, 0) + supply.quantity
    return deltas


def _repromised(
    current: OrderRecord,
    repromise: Repromise,
    supplies: Sequence[InboundSupply],
    request_id: str,
) -> NewEvent:
    """The ``ORDER_REPROMISED`` event of one order moved off changed supply."""
    moved = {line.node_id for line in repromise.release}
    keys = {
        ((split_inbound_node_id(x.node_id) or (x.node_id,))[0], x.sku_id) for x in repromise.release
    }
    unpromised = sum(u.quantity for u in repromise.plan.unfilled_lines) - sum(
        u.quantity for u in current.plan.unfilled_lines
    )
    return NewEvent(
        EventType.ORDER_REPROMISED,
        reservation_id=current.reservation_id,
        order_id=current.order_id,
        request_id=request_id,
        customer_id=current.order.customer_id,
        payload={
            "nodeIds": sorted(moved),
            "supplyIds": sorted(s.id for s in supplies if (s.node_id, s.sku_id) in keys),
            "released": lines_json(repromise.release),
            "held": lines_json(repromise.hold),
            "shipFromNodeIds": [s.node_id for s in repromise.plan.shipments],
            "unpromisedUnits": max(0, unpromised),
            "deliveryDate": (
                repromise.plan.delivery_date.isoformat() if repromise.plan.delivery_date else ""
            ),
        },
    )


class _Rollback(Exception):
    """Raised inside a validate-only put's transaction so that nothing is kept."""

    def __init__(self, supplies: list[InboundSupply]) -> None:
        super().__init__("validate only")
        self.supplies = supplies


def _stored(tx: Transaction, supply_id: str) -> InboundSupply:
    row = tx.execute(
        "SELECT id, node_id, sku_id, quantity, arrival_date FROM inbound WHERE id = ?",
        (supply_id,),
    ).fetchone()
    if row is None:
        raise UnknownInbound(supply_id)
    return _row_supply(row)


def _supply_json(supply: InboundSupply) -> dict[str, object]:
    return {
        "id": supply.id,
        "nodeId": supply.node_id,
        "skuId": supply.sku_id,
        "quantity": supply.quantity,
        "arrivalDate": supply.arrival_date.isoformat() if supply.arrival_date else "",
    }


def _holders(tx: Transaction, held: Sequence[tuple[str, str, int]]) -> list[str]:
    """The HELD reservations holding units at these positions."""
    found: set[str] = set()
    for node_id, sku_id, _ in held:
        found |= {
            row[0]
            for row in tx.execute(
                "SELECT l.reservation_id FROM reservation_lines l JOIN reservations r "
                "ON r.id = l.reservation_id WHERE r.state = 'HELD' AND l.node_id = ? "
                "AND l.sku_id = ?",
                (node_id, sku_id),
            )
        }
    return sorted(found)
