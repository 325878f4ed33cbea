"""Reserved orders: the order, its current plan, the nodes re-routing added, every
rejection, every confirmed shipment and cancellation, stored as one versioned record per
order; with the columns that list them (customer, state, the nodes of the plan).

The changes of an order's life (ship, deliver, cancel) are in
:mod:`omniroute.ledger.fulfilment`; this module reads orders and keeps their records in
step when their reservation is committed, released or expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from omniroute.inbound import split_inbound_node_id
from omniroute.ledger import codec, events
from omniroute.ledger.database import Database, Transaction
from omniroute.ledger.errors import UnknownOrder
from omniroute.ledger.events import Event
from omniroute.ledger.records import (
    CancelCause,
    Cancellation,
    OrderRecord,
    OrderState,
    ShipmentRecord,
)

MAX_PAGE = 1000  # orders in one page of :meth:`Orders.page`


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order as it stands and its timeline: every event of the order, in commit order
    (empty in lists)."""

    record: OrderRecord
    timeline: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderPage:
    """One page of orders, by order id; ``next_after``: the last id, when more may follow."""

    orders: tuple[OrderRecord, ...]
    next_after: str | None


def save(tx: Transaction, record: OrderRecord, nodes_changed: bool = True) -> None:
    """Insert or replace the record of ``record.order_id``, with its customer and state
    columns and (unless not ``nodes_changed``) the nodes of its plan."""
    tx.execute(
        "INSERT INTO orders (order_id, reservation_id, record, updated, customer_id, state) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (order_id) DO UPDATE SET reservation_id = excluded.reservation_id, "
        "record = excluded.record, updated = excluded.updated, "
        "customer_id = excluded.customer_id, state = excluded.state",
        (
            record.order_id,
            record.reservation_id,
            codec.dumps(record),
            record.updated,
            record.order.customer_id,
            record.state().value,
        ),
    )
    if nodes_changed:  # (supply in transit, NODE@DATE, lists under its node)
        nodes = {_node_of(s.node_id) for s in record.plan.shipments}
        tx.execute("DELETE FROM order_nodes WHERE order_id = ?", (record.order_id,))
        tx.executemany(
            "INSERT INTO order_nodes (node_id, order_id) VALUES (?, ?)",
            [(n, record.order_id) for n in sorted(nodes)],
        )


def _node_of(node_id: str) -> str:
    """The node itself of an inbound node id (``NODE@DATE``), else the id."""
    found = split_inbound_node_id(node_id)
    return found[0] if found else node_id


def find(tx: Transaction, order_id: str = "", reservation_id: str = "") -> OrderRecord | None:
    """The record by order id or by reservation id (None: no such reserved order)."""
    if order_id:
        row = tx.execute("SELECT record FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    else:
        row = tx.execute(
            "SELECT record FROM orders WHERE reservation_id = ?", (reservation_id,)
        ).fetchone()
    return None if row is None else codec.load_as(OrderRecord, bytes(row[0]))


def require(tx: Transaction, order_id: str) -> OrderRecord:
    """The record of ``order_id``; :class:`UnknownOrder` when there is none."""
    record = find(tx, order_id)
    if record is None:
        raise UnknownOrder("orderId", order_id)
    return record


def view(tx: Transaction, record: OrderRecord) -> OrderView:
    """The order with its timeline, as of this transaction."""
    return OrderView(record, tuple(events.of_order(tx, record.order_id)))


def settle(
    tx: Transaction, reservation_id: str, now: float, shipped: bool, cause: CancelCause
) -> None:
    """Record in the order (if the reservation has one) that its reservation settled:
    every open unit shipped (``shipped``: CommitReservation, no tracking number) or was
    given up for ``cause``."""
    record = find(tx, reservation_id=reservation_id)
    if record is None:
        return
    by_node = record.open_by_node()
    if not by_node:
        return
    if shipped:
        done = tuple(ShipmentRecord(n, lines, shipped_at=now) for n, lines in by_node.items())
        record = replace(record, shipments=(*record.shipments, *done), updated=now)
    else:
        gone = tuple(Cancellation(n, lines, cause, at=now) for n, lines in by_node.items())
        record = replace(record, cancellations=(*record.cancellations, *gone), updated=now)
    save(tx, record, nodes_changed=False)


def backfill(tx: Transaction) -> None:
    """Fill the listing columns and nodes of records stored before they existed (schema
    6), and record how the orders whose reservation settled before then ended (shipped by
    CommitReservation, released or expired): run once, by that migration."""
    rows = tx.execute(
        "SELECT o.record, r.state, r.updated FROM orders o "
        "LEFT JOIN reservations r ON r.id = o.reservation_id"
    ).fetchall()
    causes = {"RELEASED": CancelCause.RELEASED, "EXPIRED": CancelCause.EXPIRED}
    for blob, state, updated in rows:
        record = codec.load_as(OrderRecord, bytes(blob))
        save(tx, record)
        if state == "COMMITTED" or state in causes:
            at = float(updated or 0.0)
            settle(
                tx,
                record.reservation_id,
                at,
                state == "COMMITTED",
                causes.get(state, CancelCause.RELEASED),
            )


class Orders:
    """Reads of reserved orders (they are written with their reservations and by
    :mod:`omniroute.ledger.fulfilment`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, order_id: str = "", reservation_id: str = "") -> OrderRecord:
        """The reserved order by id or by reservation; :class:`UnknownOrder` when none."""
        with self.db.read() as tx:
            record = find(tx, order_id, reservation_id)
        if record is None:
            key, value = ("orderId", order_id) if order_id else ("reservationId", reservation_id)
            raise UnknownOrder(key, value)
        return record

    def status(self, order_id: str) -> OrderView:
        """The order and its timeline; :class:`UnknownOrder` when there is none."""
        with self.db.read() as tx:
            return view(tx, require(tx, order_id))

    def page(
        self,
        customer_id: str = "",
        node_id: str = "",
        states: Sequence[OrderState] = (),
        page_size: int = 50,
        after: str = "",
    ) -> OrderPage:
        """Orders of a customer and/or with units planned at a node, in ``states`` (any when
        empty), by order id after ``after``, ``page_size`` (at most :data:`MAX_PAGE`) at a
        time."""
        size = max(1, min(MAX_PAGE, page_size))
        where = ["o.order_id > ?"]
        params: list[object] = [after]
        join = ""
        if customer_id:
            where.append("o.customer_id = ?")
            params.append(customer_id)
        if node_id:
            join = " JOIN order_nodes n ON n.order_id = o.order_id"
            where.append("n.node_id = ?")
            params.append(node_id)
        if states:
            where.append(f"o.state IN ({','.join('?' * len(states))})")
            params += [s.value for s in states]
        with self.db.read() as tx:
            rows = tx.execute(
                f"SELECT o.record FROM orders o{join} WHERE {' AND '.join(where)} "
                "ORDER BY o.order_id LIMIT ?",
                [*params, size + 1],
            ).fetchall()
        records = tuple(codec.load_as(OrderRecord, bytes(r[0])) for r in rows[:size])
        more = len(rows) > size
        return OrderPage(records, records[-1].order_id if more else None)
