"""The ledger's tables, as numbered migrations.

A database records its ``schema_version`` in ``meta``; :meth:`Database.migrate` applies every
migration above it in order, inside one write transaction. Statements are written once with
``{type}`` slots that each dialect fills in (the slots are what SQLite and PostgreSQL
need differently; on PostgreSQL every ``TEXT`` column also collates ``"C"``, so that ids
sort and compare byte by byte as in SQLite whatever the database's locale). Never edit a
released migration: add the next one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DIALECT_TYPES = {
    "sqlite": {
        "blob": "BLOB",
        "real": "REAL",
        "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "without_rowid": " WITHOUT ROWID",
    },
    "postgresql": {
        "blob": "BYTEA",
        "real": "DOUBLE PRECISION",
        "serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "without_rowid": "",
    },
}


def _order_columns(tx: Any) -> None:
    from omniroute.ledger import orders  # (orders -> codec -> model: not needed for DDL)

    orders.backfill(tx)


@dataclass(frozen=True)
class Migration:
    """A schema step: its statements, then ``backfill`` (data the statements cannot
    compute, in the same transaction), if any."""

    version: int
    description: str
    sql: tuple[str, ...]
    backfill: Callable[[Any], None] | None = None

    def statements(self, dialect: str) -> list[str]:
        types = DIALECT_TYPES[dialect]
        statements = [statement.format(**types) for statement in self.sql]
        if dialect == "postgresql":  # ids compare byte by byte, as in SQLite
            statements = [re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', s) for s in statements]
        return statements


MIGRATIONS = (
    Migration(
        1,
        "network, stock, change feed, movements, reservations, orders, idempotency keys, "
        "operations and returns",
        (
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            "{without_rowid}",
            # the served network without its stock: versioned JSON of the model
            "CREATE TABLE IF NOT EXISTS network (version INTEGER PRIMARY KEY, "
            "network {blob} NOT NULL, created {real} NOT NULL)",
            "CREATE TABLE IF NOT EXISTS stock ("
            " node_id TEXT NOT NULL,"
            " sku_id TEXT NOT NULL,"
            " on_hand INTEGER NOT NULL CHECK (on_hand >= 0),"
            " safety_stock INTEGER NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),"
            " reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),"
            " PRIMARY KEY (node_id, sku_id)){without_rowid}",
            # positions changed, in commit order: other processes follow it to stay in step
            "CREATE TABLE IF NOT EXISTS stock_changes (seq {serial},"
            " node_id TEXT NOT NULL, sku_id TEXT NOT NULL)",
            # append-only history of every change to on-hand and reserved units
            "CREATE TABLE IF NOT EXISTS movements (seq {serial},"
            " network_version INTEGER NOT NULL, at {real} NOT NULL, kind TEXT NOT NULL,"
            " node_id TEXT NOT NULL, sku_id TEXT NOT NULL, on_hand_delta INTEGER NOT NULL,"
            " reserved_delta INTEGER NOT NULL, reference TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS movements_position ON movements (node_id, sku_id, seq)",
            "CREATE TABLE IF NOT EXISTS reservations ("
            " id TEXT PRIMARY KEY,"
            " request_id TEXT NOT NULL UNIQUE,"
            " order_id TEXT NOT NULL,"
            " state TEXT NOT NULL CHECK (state IN ('HELD', 'COMMITTED', 'RELEASED', 'EXPIRED')),"
            " created {real} NOT NULL, expires {real} NOT NULL, updated {real} NOT NULL)"
            "{without_rowid}",
            "CREATE INDEX IF NOT EXISTS reservations_held ON reservations (state, expires)",
            "CREATE TABLE IF NOT EXISTS reservation_lines ("
            " reservation_id TEXT NOT NULL REFERENCES reservations (id),"
            " node_id TEXT NOT NULL, sku_id TEXT NOT NULL,"
            " quantity INTEGER NOT NULL CHECK (quantity > 0),"
            " PRIMARY KEY (reservation_id, node_id, sku_id)){without_rowid}",
            # reserved orders: the order, its current plan, re-routes and rejections
            "CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY,"
            " reservation_id TEXT NOT NULL, record {blob} NOT NULL, updated {real} NOT NULL)"
            "{without_rowid}",
            "CREATE INDEX IF NOT EXISTS orders_reservation ON orders (reservation_id)",
            # idempotency keys (AIP-155): the first answer, returned to every retry
            "CREATE TABLE IF NOT EXISTS requests (request_id TEXT PRIMARY KEY,"
            " method TEXT NOT NULL, fingerprint {blob} NOT NULL, answer {blob} NOT NULL,"
            " created {real} NOT NULL){without_rowid}",
            "CREATE INDEX IF NOT EXISTS requests_created ON requests (created)",
            "CREATE TABLE IF NOT EXISTS operations (name TEXT PRIMARY KEY,"
            " request_id TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL,"
            " done INTEGER NOT NULL DEFAULT 0, progress_done INTEGER NOT NULL DEFAULT 0,"
            " progress_total INTEGER NOT NULL DEFAULT 0, metadata {blob}, result {blob},"
            " error {blob}, cancel_requested INTEGER NOT NULL DEFAULT 0,"
            " created {real} NOT NULL, updated {real} NOT NULL){without_rowid}",
            "CREATE TABLE IF NOT EXISTS returns (id TEXT PRIMARY KEY,"
            " request_id TEXT NOT NULL UNIQUE,"
            " state TEXT NOT NULL CHECK (state IN ('PLANNED', 'RECEIVED')),"
            " legs {blob} NOT NULL, created {real} NOT NULL, updated {real} NOT NULL)"
            "{without_rowid}",
        ),
    ),
    Migration(
        2,
        "audit: every state-changing call, its principal and outcome",
        (
            "CREATE TABLE IF NOT EXISTS audit (seq {serial}, at {real} NOT NULL,"
            " principal TEXT NOT NULL, method TEXT NOT NULL, request_id TEXT NOT NULL,"
            " resource TEXT NOT NULL, outcome TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS audit_at ON audit (at)",
        ),
    ),
    Migration(
        3,
        "events: the outbox of every state change, with its cursor counter",
        (
            # seq is the cursor, drawn from event_counter in the writing transaction (see
            # omniroute.ledger.events: a sequence could commit out of order on PostgreSQL)
            "CREATE TABLE IF NOT EXISTS events (seq BIGINT PRIMARY KEY, at {real} NOT NULL,"
            " type TEXT NOT NULL, reservation_id TEXT NOT NULL DEFAULT '',"
            " order_id TEXT NOT NULL DEFAULT '', request_id TEXT NOT NULL DEFAULT '',"
            " customer_id TEXT NOT NULL DEFAULT '', return_id TEXT NOT NULL DEFAULT '',"
            " payload TEXT NOT NULL){without_rowid}",
            "CREATE TABLE IF NOT EXISTS event_counter (id INTEGER PRIMARY KEY,"
            " last BIGINT NOT NULL)",
            "INSERT INTO event_counter (id, last) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
        ),
    ),
    Migration(
        4,
        "ship days: shipments held or committed per node and ship date (daily capacity)",
        (
            # ship_date is an ISO date; is_full = 1 when shipments >= capacity (the node's
            # capacity when last held), so planners read only the full days
            "CREATE TABLE IF NOT EXISTS ship_days (node_id TEXT NOT NULL,"
            " ship_date TEXT NOT NULL, shipments INTEGER NOT NULL CHECK (shipments >= 0),"
            " capacity INTEGER NOT NULL, is_full INTEGER NOT NULL DEFAULT 0,"
            " PRIMARY KEY (node_id, ship_date)){without_rowid}",
            "CREATE INDEX IF NOT EXISTS ship_days_full ON ship_days (is_full, ship_date)",
            "CREATE TABLE IF NOT EXISTS reservation_ship_days ("
            " reservation_id TEXT NOT NULL REFERENCES reservations (id),"
            " node_id TEXT NOT NULL, ship_date TEXT NOT NULL,"
            " PRIMARY KEY (reservation_id, node_id)){without_rowid}",
        ),
    ),
    Migration(
        5,
        "demand forecasts for look-ahead routing: versioned, the latest in force",
        (
            # forecast: the DemandForecast's proto3 JSON; theta: the weight of its
            # opportunity costs in the routing objective
            "CREATE TABLE IF NOT EXISTS forecasts (version {serial},"
            " forecast {blob} NOT NULL, theta {real} NOT NULL, created {real} NOT NULL)",
        ),
    ),
    Migration(
        6,
        "order life: orders listed by customer, state and node; events and returns by order",
        (
            "ALTER TABLE orders ADD COLUMN customer_id TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE orders ADD COLUMN state TEXT NOT NULL DEFAULT 'RESERVED'",
            "CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id, order_id)",
            "CREATE INDEX IF NOT EXISTS orders_state ON orders (state, order_id)",
            # the nodes of each order's current plan (ListOrders by node)
            "CREATE TABLE IF NOT EXISTS order_nodes (node_id TEXT NOT NULL,"
            " order_id TEXT NOT NULL, PRIMARY KEY (node_id, order_id)){without_rowid}",
            "CREATE INDEX IF NOT EXISTS order_nodes_order ON order_nodes (order_id)",
            # an order's timeline is its events
            "CREATE INDEX IF NOT EXISTS events_order ON events (order_id, seq)",
            "ALTER TABLE returns ADD COLUMN order_id TEXT NOT NULL DEFAULT ''",
        ),
        backfill=_order_columns,
    ),
    Migration(
        7,
        "channel fences: the channel of each reservation's order",
        ("ALTER TABLE reservations ADD COLUMN channel TEXT NOT NULL DEFAULT ''",),
    ),
    Migration(
        8,
        "inbound supply: units in transit to nodes, by arrival date",
        (
            # quantity: the units still in transit; arrival_date: ISO date. Their units are
            # also the stock positions of the inbound nodes NODE@DATE (omniroute.inbound)
            "CREATE TABLE IF NOT EXISTS inbound (id TEXT PRIMARY KEY, node_id TEXT NOT NULL,"
            " sku_id TEXT NOT NULL, quantity INTEGER NOT NULL CHECK (quantity >= 0),"
            " arrival_date TEXT NOT NULL, created {real} NOT NULL, updated {real} NOT NULL)"
            "{without_rowid}",
            "CREATE INDEX IF NOT EXISTS inbound_position ON inbound"
            " (node_id, sku_id, arrival_date)",
        ),
    ),
)
LATEST = MIGRATIONS[-1].version
