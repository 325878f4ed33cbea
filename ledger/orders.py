"""Reserved orders: the order, its current plan, the nodes re-routing added and every
rejection, stored as one versioned record per order."""

from __future__ import annotations

from omniroute.ledger import codec
from omniroute.ledger.database import Database, Transaction
from omniroute.ledger.errors import UnknownOrder
from omniroute.ledger.records import OrderRecord


def save(tx: Transaction, record: OrderRecord) -> None:
    """Insert or replace the record of ``record.order_id``."""
    tx.execute(
        "INSERT INTO orders (order_id, reservation_id, record, updated) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (order_id) DO UPDATE SET reservation_id = excluded.reservation_id, "
        "record = excluded.record, updated = excluded.updated",
        (record.order_id, record.reservation_id, codec.dumps(record), record.updated),
    )


def find(tx: Transaction, order_id: str = "", reservation_id: str = "") -> OrderRecord | None:
    """The record by order id or by reservation id (None: no such reserved order)."""
    if order_id:
        row = tx.execute("SELECT record FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    else:
        row = tx.execute(
            "SELECT record FROM orders WHERE reservation_id = ?", (reservation_id,)
        ).fetchone()
    return None if row is None else codec.load_as(OrderRecord, bytes(row[0]))


class Orders:
    """Reads of reserved orders (they are written with their reservations)."""

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
