"""The event outbox: every state change of the ledger, appended in the transaction of the
change, for consumers that follow them (``InventoryService.WatchEvents``; a CRM, Kafka).

Each event has a **cursor** (``seq``): 1, 2, 3, ... in commit order, with no gaps. Writers
take it from one counter row (``event_counter``), incremented by the same transaction that
makes the change and appends the event. The increment locks the row until that transaction
ends, so event-producing writers serialise on it and a later cursor always belongs to a later
commit. A sequence (SQLite ``AUTOINCREMENT``, a PostgreSQL ``IDENTITY``) would not do: on
PostgreSQL two transactions can draw 7 and 8 and commit 8 first, and a reader that saw 8
and moved its cursor past it would never see 7. (SQLite serialises every write anyway, at
``BEGIN IMMEDIATE``.) A change that rolls back takes its event and its cursor with it.

Events carry the ids of what changed (reservation, order, request, return; the order's
customer id when it has one) and a JSON payload with the details (lines, units, nodes);
``docs/events.md`` lists every type and field.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from omniroute.ledger.database import Database, Transaction


class EventType(enum.Enum):
    """What happened (the names of ``omniroute.v1.Event.Type``)."""

    RESERVATION_HELD = "RESERVATION_HELD"
    RESERVATION_COMMITTED = "RESERVATION_COMMITTED"
    RESERVATION_RELEASED = "RESERVATION_RELEASED"
    RESERVATION_EXPIRED = "RESERVATION_EXPIRED"
    ORDER_REROUTED = "ORDER_REROUTED"
    RETURN_PLANNED = "RETURN_PLANNED"
    RETURN_RECEIVED = "RETURN_RECEIVED"
    STOCK_UPDATED = "STOCK_UPDATED"
    NETWORK_REPLACED = "NETWORK_REPLACED"
    SHIPMENT_CONFIRMED = "SHIPMENT_CONFIRMED"
    DELIVERY_CONFIRMED = "DELIVERY_CONFIRMED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    INBOUND_UPDATED = "INBOUND_UPDATED"
    INBOUND_RECEIVED = "INBOUND_RECEIVED"
    ORDER_REPROMISED = "ORDER_REPROMISED"


@dataclass(frozen=True, slots=True)
class Event:
    """One state change as stored in the outbox (``at``: Unix seconds of the change).

    ``payload`` is plain JSON data (see ``docs/events.md`` for each type's keys).
    """

    seq: int
    at: float
    type: EventType
    reservation_id: str = ""
    order_id: str = ""
    request_id: str = ""
    customer_id: str = ""
    return_id: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append (its cursor is given when it is appended)."""

    type: EventType
    reservation_id: str = ""
    order_id: str = ""
    request_id: str = ""
    customer_id: str = ""
    return_id: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


MAX_LISTED = 1000  # positions listed in one event's payload (more: totals only), so that an
# event stays well within gRPC's default 4 MB message limit of a consumer
COLUMNS = "seq, at, type, reservation_id, order_id, request_id, customer_id, return_id, payload"


def rfc3339(seconds: float) -> str:
    """A Unix time as an RFC 3339 UTC string (as the API's Timestamps read in JSON)."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def lines_json(lines: Iterable[Any]) -> list[dict[str, Any]]:
    """Reservation lines (``node_id``, ``sku_id``, ``quantity``) as payload data."""
    return [{"nodeId": x.node_id, "skuId": x.sku_id, "quantity": x.quantity} for x in lines]


# ----------------------------------------------------------------------------- in a transaction


def append(tx: Transaction, now: float, events: Sequence[NewEvent]) -> int:
    """Append ``events`` in order inside the caller's write transaction; the last cursor.

    The counter row's update is what orders the cursors by commit (module docstring): call
    this in the same transaction as the change, never in one of its own.
    """
    if not events:
        return 0
    tx.execute("UPDATE event_counter SET last = last + ? WHERE id = 1", (len(events),))
    last = int(tx.execute("SELECT last FROM event_counter WHERE id = 1").fetchone()[0])
    first = last - len(events) + 1
    tx.executemany(
        f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                first + i,
                now,
                e.type.value,
                e.reservation_id,
                e.order_id,
                e.request_id,
                e.customer_id,
                e.return_id,
                json.dumps(e.payload, separators=(",", ":"), sort_keys=True),
            )
            for i, e in enumerate(events)
        ],
    )
    return last


def customer_of(tx: Transaction, reservation_id: str) -> tuple[str, str]:
    """(order id, customer id) of the reserved order a reservation holds stock for (empty
    strings when the order was not recorded)."""
    from omniroute.ledger import orders  # (orders imports nothing of ours: no cycle)

    record = orders.find(tx, reservation_id=reservation_id)
    if record is None:
        return "", ""
    return record.order_id, record.order.customer_id


def last_cursor(tx: Transaction) -> int:
    """The newest cursor (0: no event yet)."""
    row = tx.execute("SELECT last FROM event_counter WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def after(tx: Transaction, cursor: int, limit: int, types: Sequence[EventType] = ()) -> list[Event]:
    """Up to ``limit`` events with a cursor above ``cursor``, oldest first, only of
    ``types`` when given."""
    where = "seq > ?"
    params: list[object] = [cursor]
    if types:
        where += f" AND type IN ({','.join('?' * len(types))})"
        params += [t.value for t in types]
    rows = tx.execute(
        f"SELECT {COLUMNS} FROM events WHERE {where} ORDER BY seq LIMIT ?", [*params, limit]
    ).fetchall()
    return _events(rows)


def of_order(tx: Transaction, order_id: str) -> list[Event]:
    """Every event of an order (its timeline), oldest first."""
    rows = tx.execute(
        f"SELECT {COLUMNS} FROM events WHERE order_id = ? ORDER BY seq", (order_id,)
    ).fetchall()
    return _events(rows)


def _events(rows: Sequence[Sequence[Any]]) -> list[Event]:
    return [
        Event(
            int(r[0]), float(r[1]), EventType(r[2]), r[3], r[4], r[5], r[6], r[7], json.loads(r[8])
        )
        for r in rows
    ]


# ----------------------------------------------------------------------------- the concern


@dataclass(frozen=True, slots=True)
class EventPage:
    """Events after a cursor, and the cursor to continue from (the last event read, or the
    newest cursor when a type filter skipped the events in between)."""

    events: tuple[Event, ...]
    cursor: int


class Events:
    """Reads of the outbox (events are written by the changes themselves)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def last_cursor(self) -> int:
        """The newest cursor (0: no event yet)."""
        with self.db.read() as tx:
            return last_cursor(tx)

    def read(self, cursor: int, limit: int = 256, types: Sequence[EventType] = ()) -> EventPage:
        """Up to ``limit`` events after ``cursor`` (of ``types`` when given), oldest first.

        With a filter, a page that finds fewer than ``limit`` events has looked at every
        event up to the newest: its ``cursor`` is then the newest cursor, so a follower does
        not scan the skipped events again.
        """
        with self.db.read() as tx:
            newest = last_cursor(tx)
            found = after(tx, cursor, limit, types) if newest > cursor else []
        if len(found) == limit:
            return EventPage(tuple(found), found[-1].seq)
        # (max: a backend whose reads are not one snapshot may show events past ``newest``)
        return EventPage(tuple(found), max(cursor, newest, found[-1].seq if found else 0))
