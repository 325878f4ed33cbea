"""The embedded store: the served network and its stock positions in one SQLite file.

Several server processes may share one file. Writes run in ``BEGIN IMMEDIATE`` transactions
(one writer at a time, readers never blocked in WAL mode); every change to a stock position
is appended to ``stock_changes`` so that other processes can refresh their in-memory view
incrementally (:meth:`Store.changes_since`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from google.protobuf import json_format
from omniroute.v1 import network_pb2

from omniroute.model import (
    FieldViolation,
    Network,
    Reservation,
    ReservationLine,
    StockChange,
    StockPosition,
    ValidationError,
)
from omniroute.validation import require_valid_network
from omniroute.server.convert import network_from_proto, network_to_proto
from omniroute.server.errors import AlreadyExists, FailedPrecondition, NotFound

KEEP_REQUEST_IDS = 48 * 3600  # seconds; AIP-155 asks for at least 24 hours

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stock (
    node_id TEXT NOT NULL,
    sku_id TEXT NOT NULL,
    on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
    safety_stock INTEGER NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (node_id, sku_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS requests_created ON requests (created);
CREATE TABLE IF NOT EXISTS stock_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    node_id TEXT NOT NULL,
    sku_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('HELD', 'COMMITTED', 'RELEASED', 'EXPIRED')),
    created REAL NOT NULL,
    expires REAL NOT NULL,
    updated REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reservations_held ON reservations (state, expires);
CREATE TABLE IF NOT EXISTS reservation_lines (
    reservation_id TEXT NOT NULL REFERENCES reservations (id),
    node_id TEXT NOT NULL,
    sku_id TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, node_id, sku_id)
) WITHOUT ROWID;
-- Append-only history of every change to on-hand and reserved units.
CREATE TABLE IF NOT EXISTS movements (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    network_version INTEGER NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    node_id TEXT NOT NULL,
    sku_id TEXT NOT NULL,
    on_hand_delta INTEGER NOT NULL,
    reserved_delta INTEGER NOT NULL,
    reference TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS movements_position ON movements (node_id, sku_id, seq);
-- The reserved orders: what was ordered and planned, re-routes and rejections.
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    reservation_id TEXT NOT NULL,
    order_blob TEXT NOT NULL,
    plan_blob TEXT NOT NULL,
    rerouted TEXT NOT NULL DEFAULT '[]',
    rejections TEXT NOT NULL DEFAULT '[]',
    updated REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS operations (
    name TEXT PRIMARY KEY,
    request_id TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    orders_done INTEGER NOT NULL DEFAULT 0,
    orders_total INTEGER NOT NULL,
    result TEXT,
    error TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS returns (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('PLANNED', 'RECEIVED')),
    legs TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
) WITHOUT ROWID;
"""

HELD, COMMITTED, RELEASED, EXPIRED = "HELD", "COMMITTED", "RELEASED", "EXPIRED"
DEFAULT_TTL = 15 * 60.0  # seconds a hold lasts unless committed or released


class Shortage(Exception):
    """ATP changed since planning: these positions cannot give the units asked."""

    def __init__(self, positions: list[tuple[str, str, int]]) -> None:
        super().__init__(f"not enough ATP at {positions}")
        self.positions = positions


class Store:
    """A SQLite file holding the network and stock. One instance per process (thread-safe)."""

    def __init__(self, path: str | Path, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): committed on success, rolled back on error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    # ------------------------------------------------------------------------- network

    def put_network(self, network: Network) -> int:
        """Replace the network and all stock (validated first); return the new version.

        Holds whose positions all still exist carry over (their units stay reserved); the
        others are released. Each position's history restarts with an IMPORT movement.
        """
        require_valid_network(network)
        without_stock = network_to_proto(replace(network, stock=()))
        text = json.dumps(json_format.MessageToDict(without_stock), separators=(",", ":"))
        now = time.time()
        with self.write() as db:
            version = self._version(db) + 1
            held = self._held_lines(db)
            positions = {(p.node_id, p.sku_id): p for p in network.stock}
            reserved: dict[tuple[str, str], int] = {}
            for reservation_id, lines in held.items():
                if all((line.node_id, line.sku_id) in positions for line in lines):
                    for line in lines:
                        key = (line.node_id, line.sku_id)
                        reserved[key] = reserved.get(key, 0) + line.quantity
                else:
                    db.execute(
                        "UPDATE reservations SET state = ?, updated = ? WHERE id = ?",
                        (RELEASED, now, reservation_id),
                    )
            db.execute("DELETE FROM stock")
            rows = [
                (p.node_id, p.sku_id, p.on_hand, p.safety_stock, reserved.get(key, 0))
                for key, p in positions.items()
            ]
            db.executemany(
                "INSERT INTO stock (node_id, sku_id, on_hand, safety_stock, reserved) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            db.executemany(
                "INSERT INTO movements (network_version, at, kind, node_id, sku_id, on_hand_delta, "
                "reserved_delta, reference) VALUES (?, ?, 'IMPORT', ?, ?, ?, ?, ?)",
                [
                    (version, now, node, sku, on_hand, held_units, f"network-{version}")
                    for node, sku, on_hand, _, held_units in rows
                ],
            )
            db.execute("INSERT OR REPLACE INTO meta VALUES ('network', ?)", (text,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('network_version', ?)", (str(version),))
        return version

    def has_network(self) -> bool:
        with self.read() as db:
            return db.execute("SELECT 1 FROM meta WHERE key = 'network'").fetchone() is not None

    def load_network(self, include_stock: bool = True) -> tuple[Network, int, int]:
        """The network (with its stock positions), its version and the last change seq."""
        with self.read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'network'").fetchone()
            if row is None:
                raise LookupError("the store holds no network")
            version = self._version(db)
            seq = self._last_seq(db)
            stock = tuple(self._positions(db, "", ())) if include_stock else ()
        message = json_format.Parse(row[0], network_pb2.Network())
        network, _ = network_from_proto(message)
        return replace(network, stock=stock), version, seq

    def data_version(self) -> int:
        """Changes whenever another connection commits (``PRAGMA data_version``)."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def state(self) -> tuple[int, int]:
        """(network version, last stock change seq): cheap, for refresh checks."""
        with self.read() as db:
            return self._version(db), self._last_seq(db)

    # ------------------------------------------------------------------------- stock

    def update_stock(
        self,
        changes: Sequence[StockChange],
        validate_only: bool = False,
        request_id: str = "",
        fingerprint: bytes = b"",
    ) -> list[StockPosition]:
        """Apply all changes atomically, or none: every problem is reported together.

        With a ``request_id`` (AIP-155) a retry of the same request returns the first answer
        and changes nothing; the same id with a different request (``fingerprint``) is refused.
        """
        with self.write() as db:
            self._expire_due(db, time.time())
            if request_id and not validate_only:
                seen = self._seen_request(db, request_id, "UpdateStock", fingerprint)
                if seen is not None:
                    return [StockPosition(*row) for row in json.loads(seen)]
            nodes, skus = self._ids(db)
            violations: list[FieldViolation] = []
            results: list[StockPosition] = []
            pending: dict[tuple[str, str], StockPosition] = {}
            for i, change in enumerate(changes):
                where = f"updates[{i}]"
                if change.node_id not in nodes:
                    violations.append(
                        FieldViolation(f"{where}.nodeId", f"unknown node {change.node_id!r}")
                    )
                if change.sku_id not in skus:
                    violations.append(
                        FieldViolation(f"{where}.skuId", f"unknown SKU {change.sku_id!r}")
                    )
                if (
                    change.set_on_hand is None
                    and change.delta_on_hand is None
                    and change.safety_stock is None
                ):
                    violations.append(FieldViolation(where, "nothing to change"))
                if change.set_on_hand is not None and change.set_on_hand < 0:
                    violations.append(FieldViolation(f"{where}.setOnHand", "must be >= 0"))
                if change.safety_stock is not None and change.safety_stock < 0:
                    violations.append(FieldViolation(f"{where}.safetyStock", "must be >= 0"))
                key = (change.node_id, change.sku_id)
                current = pending.get(key) or self._position(db, *key)
                on_hand = current.on_hand
                if change.set_on_hand is not None:
                    on_hand = change.set_on_hand
                if change.delta_on_hand is not None:
                    on_hand += change.delta_on_hand
                    if on_hand < 0:
                        violations.append(
                            FieldViolation(
                                f"{where}.deltaOnHand", f"would make on-hand {on_hand} (< 0)"
                            )
                        )
                if on_hand < current.reserved and on_hand >= 0:
                    violations.append(
                        FieldViolation(
                            f"{where}",
                            f"on-hand {on_hand} would fall below the {current.reserved} reserved",
                        )
                    )
                safety = (
                    current.safety_stock if change.safety_stock is None else change.safety_stock
                )
                pending[key] = StockPosition(
                    change.node_id, change.sku_id, on_hand, safety, current.reserved
                )
            if violations:
                raise ValidationError(violations, "stock update")
            if validate_only:
                return list(pending.values())
            now = time.time()
            for position in pending.values():
                before = self._position(db, position.node_id, position.sku_id)
                self._move(
                    db,
                    now,
                    "ADJUST",
                    position.node_id,
                    position.sku_id,
                    position.on_hand - before.on_hand,
                    0,
                    request_id,
                )
                db.execute(
                    "INSERT INTO stock (node_id, sku_id, on_hand, safety_stock, reserved) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (node_id, sku_id) DO UPDATE SET "
                    "on_hand = excluded.on_hand, safety_stock = excluded.safety_stock",
                    (
                        position.node_id,
                        position.sku_id,
                        position.on_hand,
                        position.safety_stock,
                        position.reserved,
                    ),
                )
            results = list(pending.values())
            if request_id:
                answer = json.dumps(
                    [[p.node_id, p.sku_id, p.on_hand, p.safety_stock, p.reserved] for p in results]
                )
                self._remember_request(db, request_id, "UpdateStock", fingerprint, answer)
        return results

    def get_stock(
        self, sku_ids: Iterable[str] = (), node_ids: Iterable[str] = ()
    ) -> list[StockPosition]:
        """Positions filtered by SKUs and nodes (empty filter = all), ordered by node then SKU."""
        skus, nodes = list(sku_ids), list(node_ids)
        with self.read() as db:
            known_nodes, known_skus = self._ids(db)
            violations = [
                FieldViolation(f"nodeIds[{i}]", f"unknown node {n!r}")
                for i, n in enumerate(nodes)
                if n not in known_nodes
            ]
            violations += [
                FieldViolation(f"skuIds[{i}]", f"unknown SKU {s!r}")
                for i, s in enumerate(skus)
                if s not in known_skus
            ]
            if violations:
                raise ValidationError(violations, "stock query")
            return list(self._filtered(db, skus, nodes))

    # ------------------------------------------------------------------------- reservations

    def find_request(self, request_id: str, method: str, fingerprint: bytes) -> str | None:
        """The stored answer of an earlier request with this id (None: new id); raises
        ALREADY_EXISTS when the id was used for a different request."""
        with self.read() as db:
            return self._seen_request(db, request_id, method, fingerprint)

    def reserve(
        self,
        request_id: str,
        fingerprint: bytes,
        order_id: str,
        lines: Sequence[ReservationLine],
        ttl: float,
        answer: Callable[[str], str],
        order_blob: str = "",
        plan_blob: str = "",
    ) -> str:
        """Hold every line or none, atomically; return the stored answer.

        Each position is held by one conditional update that succeeds only while ATP covers
        it, so concurrent processes can never oversell; on any shortage the whole transaction
        rolls back and :class:`Shortage` says where. ``answer(reservation_id)`` gives the
        response text stored for retries with the same ``request_id``, which return it
        without holding anything more.
        """
        wanted: dict[tuple[str, str], int] = {}
        for line in lines:
            key = (line.node_id, line.sku_id)
            wanted[key] = wanted.get(key, 0) + line.quantity
        now = time.time()
        with self.write() as db:
            self._expire_due(db, now)
            seen = self._seen_request(db, request_id, "PlanOrder", fingerprint)
            if seen is not None:
                return seen
            reservation_id = "R-" + uuid.uuid4().hex[:20]
            db.execute(
                "INSERT INTO reservations VALUES (?, ?, ?, ?, ?, ?, ?)",
                (reservation_id, request_id, order_id, HELD, now, now + ttl, now),
            )
            self._hold(db, now, reservation_id, wanted)  # all lines or Shortage (rollback)
            if order_blob:
                db.execute(
                    "INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, '[]', '[]', ?)",
                    (order_id, reservation_id, order_blob, plan_blob, now),
                )
            text = answer(reservation_id)
            self._remember_request(db, request_id, "PlanOrder", fingerprint, text)
        return text

    def order_record(self, order_id: str = "", reservation_id: str = "") -> dict[str, object]:
        """A reserved order by id or by reservation: its blobs, re-routes and rejections."""
        with self.read() as db:
            key, value = ("order_id", order_id) if order_id else ("reservation_id", reservation_id)
            row = db.execute(
                "SELECT order_id, reservation_id, order_blob, plan_blob, rerouted, rejections "
                f"FROM orders WHERE {key} = ?",
                (value,),
            ).fetchone()
        if row is None:
            raise NotFound(
                "ORDER_NOT_FOUND", f"no reserved order with {key} {value!r}", {key: value}
            )
        return {
            "order_id": row[0],
            "reservation_id": row[1],
            "order_blob": row[2],
            "plan_blob": row[3],
            "rerouted": json.loads(row[4]),
            "rejections": json.loads(row[5]),
        }

    def reroute(
        self,
        reservation_id: str,
        request_id: str,
        fingerprint: bytes,
        release: Sequence[tuple[str, str, int]],
        hold: Sequence[tuple[str, str, int]],
        plan_blob: str,
        rerouted: Sequence[str],
        rejection: dict[str, object],
        answer: Callable[[], str],
    ) -> str:
        """Move part of a held reservation: give up ``release``, hold ``hold`` (all or
        nothing, as in :meth:`reserve`), store the new plan and the rejection; idempotent
        by ``request_id``."""
        now = time.time()
        with self.write() as db:
            self._expire_due(db, now)
            seen = self._seen_request(db, request_id, "RerouteOrder", fingerprint)
            if seen is not None:
                return seen
            reservation = self._reservation(db, reservation_id)
            if reservation.state != HELD:
                raise FailedPrecondition(
                    f"RESERVATION_{reservation.state}",
                    f"reservation {reservation_id} is {reservation.state.lower()}, not held",
                    {"reservationId": reservation_id, "state": reservation.state},
                )
            for node_id, sku_id, quantity in release:
                where = (reservation_id, node_id, sku_id)
                row = db.execute(
                    "SELECT quantity FROM reservation_lines WHERE reservation_id = ? "
                    "AND node_id = ? AND sku_id = ?",
                    where,
                ).fetchone()
                if row is None or row[0] < quantity:
                    raise FailedPrecondition(
                        "NOT_HELD",
                        f"{node_id} holds fewer than {quantity} "
                        f"of {sku_id} for reservation {reservation_id}",
                    )
                if row[0] == quantity:
                    db.execute(
                        "DELETE FROM reservation_lines WHERE reservation_id = ? AND "
                        "node_id = ? AND sku_id = ?",
                        where,
                    )
                else:
                    db.execute(
                        "UPDATE reservation_lines SET quantity = quantity - ? WHERE "
                        "reservation_id = ? AND node_id = ? AND sku_id = ?",
                        (quantity, *where),
                    )
                db.execute(
                    "UPDATE stock SET reserved = reserved - ? WHERE node_id = ? AND sku_id = ?",
                    (quantity, node_id, sku_id),
                )
                self._move(db, now, "RELEASE", node_id, sku_id, 0, -quantity, reservation_id)
            more: dict[tuple[str, str], int] = {}
            for node_id, sku_id, quantity in hold:
                more[(node_id, sku_id)] = more.get((node_id, sku_id), 0) + quantity
            self._hold(db, now, reservation_id, more)  # all or Shortage (rollback)
            row = db.execute(
                "SELECT rerouted, rejections FROM orders WHERE reservation_id = ?",
                (reservation_id,),
            ).fetchone()
            if row is not None:
                nodes = sorted(set(json.loads(row[0])) | set(rerouted))
                rejections = [*json.loads(row[1]), {**rejection, "at": now}]
                db.execute(
                    "UPDATE orders SET plan_blob = ?, rerouted = ?, rejections = ?, updated = ? "
                    "WHERE reservation_id = ?",
                    (plan_blob, json.dumps(nodes), json.dumps(rejections), now, reservation_id),
                )
            db.execute("UPDATE reservations SET updated = ? WHERE id = ?", (now, reservation_id))
            text = answer()
            self._remember_request(db, request_id, "RerouteOrder", fingerprint, text)
        return text

    # ------------------------------------------------------------------------- operations

    def start_operation(self, request_id: str, fingerprint: bytes, total: int) -> tuple[str, bool]:
        """A new long-running operation (or, for a seen request id, the same one): (name, new)."""
        now = time.time()
        with self.write() as db:
            if request_id:
                seen = self._seen_request(db, request_id, "StartScenario", fingerprint)
                if seen is not None:
                    return seen, False
            name = "operations/" + uuid.uuid4().hex[:20]
            db.execute(
                "INSERT INTO operations (name, request_id, orders_total, created, updated) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, request_id or None, total, now, now),
            )
            if request_id:
                self._remember_request(db, request_id, "StartScenario", fingerprint, name)
        return name, True

    def update_operation(
        self, name: str, done: int = 0, result: str | None = None, error: str | None = None
    ) -> None:
        with self.write() as db:
            if result is not None or error is not None:
                db.execute(
                    "UPDATE operations SET done = 1, orders_done = orders_total, result = ?, "
                    "error = ?, updated = ? WHERE name = ?",
                    (result, error, time.time(), name),
                )
            else:
                db.execute(
                    "UPDATE operations SET orders_done = ?, updated = ? WHERE name = ?",
                    (done, time.time(), name),
                )

    def get_operation(self, name: str) -> dict[str, object]:
        with self.read() as db:
            row = db.execute(
                "SELECT name, done, orders_done, orders_total, result, error, created, "
                "updated FROM operations WHERE name = ?",
                (name,),
            ).fetchone()
        if row is None:
            raise NotFound("OPERATION_NOT_FOUND", f"no operation {name!r}", {"name": name})
        keys = (
            "name",
            "done",
            "orders_done",
            "orders_total",
            "result",
            "error",
            "created",
            "updated",
        )
        return dict(zip(keys, row, strict=True))

    # ------------------------------------------------------------------------- returns

    def plan_return(
        self, request_id: str, fingerprint: bytes, legs: list[dict[str, object]]
    ) -> tuple[str, str]:
        """Record a planned return (idempotent by request id); return (id, stored legs JSON)."""
        now = time.time()
        with self.write() as db:
            seen = self._seen_request(db, request_id, "PlanReturn", fingerprint)
            if seen is not None:
                stored = json.loads(seen)
                return stored["id"], json.dumps(stored["legs"])
            return_id = "RT-" + uuid.uuid4().hex[:20]
            text = json.dumps(legs)
            db.execute(
                "INSERT INTO returns VALUES (?, ?, 'PLANNED', ?, ?, ?)",
                (return_id, request_id, text, now, now),
            )
            self._remember_request(
                db,
                request_id,
                "PlanReturn",
                fingerprint,
                json.dumps({"id": return_id, "legs": legs}),
            )
        return return_id, text

    def receive_return(self, return_id: str) -> list[StockPosition]:
        """Put a planned return's units on-hand at each leg's node (once)."""
        now = time.time()
        with self.write() as db:
            row = db.execute(
                "SELECT state, legs FROM returns WHERE id = ?", (return_id,)
            ).fetchone()
            if row is None:
                raise NotFound(
                    "RETURN_NOT_FOUND", f"no planned return {return_id!r}", {"returnId": return_id}
                )
            touched = []
            for leg in json.loads(row[1]):
                for sku_id, quantity in leg["items"]:
                    touched.append((leg["node_id"], sku_id))
                    if row[0] == "PLANNED":
                        db.execute(
                            "INSERT INTO stock (node_id, sku_id, on_hand, safety_stock, reserved) "
                            "VALUES (?, ?, ?, 0, 0) ON CONFLICT (node_id, sku_id) DO UPDATE SET "
                            "on_hand = on_hand + excluded.on_hand",
                            (leg["node_id"], sku_id, quantity),
                        )
                        self._move(
                            db, now, "RETURN", leg["node_id"], sku_id, quantity, 0, return_id
                        )
            db.execute(
                "UPDATE returns SET state = 'RECEIVED', updated = ? WHERE id = ?", (now, return_id)
            )
            return [self._position(db, n, s) for n, s in dict.fromkeys(touched)]

    def _hold(
        self,
        db: sqlite3.Connection,
        now: float,
        reservation_id: str,
        wanted: dict[tuple[str, str], int],
    ) -> None:
        """Hold every position or raise :class:`Shortage` (the caller's transaction then rolls
        back). One conditional update per position: it succeeds only while ATP covers it."""
        short = []
        for (node_id, sku_id), quantity in wanted.items():
            cursor = db.execute(
                "UPDATE stock SET reserved = reserved + ? WHERE node_id = ? AND sku_id = ? "
                "AND on_hand - reserved - safety_stock >= ?",
                (quantity, node_id, sku_id, quantity),
            )
            if cursor.rowcount == 0:
                short.append((node_id, sku_id, quantity))
        if short:
            raise Shortage(short)
        for (node_id, sku_id), quantity in wanted.items():
            db.execute(
                "INSERT INTO reservation_lines VALUES (?, ?, ?, ?) ON CONFLICT (reservation_id, "
                "node_id, sku_id) DO UPDATE SET quantity = quantity + excluded.quantity",
                (reservation_id, node_id, sku_id, quantity),
            )
            self._move(db, now, "HOLD", node_id, sku_id, 0, quantity, reservation_id)

    def commit(self, reservation_id: str) -> Reservation:
        """Shipped: on-hand and reserved both go down. Committing again changes nothing."""
        return self._settle(reservation_id, COMMITTED, "COMMIT", on_hand=True)

    def release(self, reservation_id: str) -> Reservation:
        """Cancelled: the held units become available again. Releasing again changes nothing."""
        return self._settle(reservation_id, RELEASED, "RELEASE", on_hand=False)

    def get_reservation(self, reservation_id: str) -> Reservation:
        if self._due():
            self.expire_due()
        with self.read() as db:
            return self._reservation(db, reservation_id)

    def expire_due(self) -> int:
        """Expire every hold past its time; return how many (cheap when none are due)."""
        if not self._due():
            return 0
        with self.write() as db:
            return self._expire_due(db, time.time())

    def _due(self) -> bool:
        with self.read() as db:
            return (
                db.execute(
                    "SELECT 1 FROM reservations WHERE state = ? AND expires <= ? LIMIT 1",
                    (HELD, time.time()),
                ).fetchone()
                is not None
            )

    def _settle(self, reservation_id: str, state: str, kind: str, on_hand: bool) -> Reservation:
        now = time.time()
        with self.write() as db:
            self._expire_due(db, now)
            reservation = self._reservation(db, reservation_id)
            if reservation.state == state:
                return reservation  # idempotent: already done
            if reservation.state != HELD:
                raise FailedPrecondition(
                    f"RESERVATION_{reservation.state}",
                    f"reservation {reservation_id} is {reservation.state.lower()}, not held",
                    {"reservationId": reservation_id, "state": reservation.state},
                )
            for line in reservation.lines:
                shipped = line.quantity if on_hand else 0
                db.execute(
                    "UPDATE stock SET on_hand = on_hand - ?, reserved = reserved - ? "
                    "WHERE node_id = ? AND sku_id = ?",
                    (shipped, line.quantity, line.node_id, line.sku_id),
                )
                self._move(
                    db,
                    now,
                    kind,
                    line.node_id,
                    line.sku_id,
                    -shipped,
                    -line.quantity,
                    reservation_id,
                )
            db.execute(
                "UPDATE reservations SET state = ?, updated = ? WHERE id = ?",
                (state, now, reservation_id),
            )
            return self._reservation(db, reservation_id)

    def _expire_due(self, db: sqlite3.Connection, now: float) -> int:
        due = [
            row[0]
            for row in db.execute(
                "SELECT id FROM reservations WHERE state = ? AND expires <= ?", (HELD, now)
            )
        ]
        for reservation_id in due:
            for node_id, sku_id, quantity in db.execute(
                "SELECT node_id, sku_id, quantity FROM reservation_lines WHERE reservation_id = ?",
                (reservation_id,),
            ).fetchall():
                db.execute(
                    "UPDATE stock SET reserved = reserved - ? WHERE node_id = ? AND sku_id = ?",
                    (quantity, node_id, sku_id),
                )
                self._move(db, now, "EXPIRE", node_id, sku_id, 0, -quantity, reservation_id)
            db.execute(
                "UPDATE reservations SET state = ?, updated = ? WHERE id = ?",
                (EXPIRED, now, reservation_id),
            )
        return len(due)

    @staticmethod
    def _reservation(db: sqlite3.Connection, reservation_id: str) -> Reservation:
        row = db.execute(
            "SELECT id, request_id, order_id, state, created, expires, updated FROM reservations "
            "WHERE id = ?",
            (reservation_id,),
        ).fetchone()
        if row is None:
            raise NotFound(
                "RESERVATION_NOT_FOUND",
                f"no reservation {reservation_id!r}",
                {"reservationId": reservation_id},
            )
        lines = tuple(
            ReservationLine(*line)
            for line in db.execute(
                "SELECT node_id, sku_id, quantity FROM reservation_lines WHERE reservation_id = ? "
                "ORDER BY node_id, sku_id",
                (reservation_id,),
            )
        )
        return Reservation(row[0], row[1], row[2], row[3], lines, row[4], row[5], row[6])

    @staticmethod
    def _held_lines(db: sqlite3.Connection) -> dict[str, list[ReservationLine]]:
        held: dict[str, list[ReservationLine]] = {}
        for reservation_id, node_id, sku_id, quantity in db.execute(
            "SELECT l.reservation_id, l.node_id, l.sku_id, l.quantity FROM reservation_lines l "
            "JOIN reservations r ON r.id = l.reservation_id WHERE r.state = ?",
            (HELD,),
        ):
            held.setdefault(reservation_id, []).append(ReservationLine(node_id, sku_id, quantity))
        return held

    def _move(
        self,
        db: sqlite3.Connection,
        now: float,
        kind: str,
        node_id: str,
        sku_id: str,
        on_hand_delta: int,
        reserved_delta: int,
        reference: str,
    ) -> None:
        """Append to the movement history and to the change feed other processes follow."""
        db.execute(
            "INSERT INTO movements (network_version, at, kind, node_id, sku_id, on_hand_delta, "
            "reserved_delta, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self._version(db),
                now,
                kind,
                node_id,
                sku_id,
                on_hand_delta,
                reserved_delta,
                reference,
            ),
        )
        db.execute("INSERT INTO stock_changes (node_id, sku_id) VALUES (?, ?)", (node_id, sku_id))

    # ------------------------------------------------------------------------- checks

    def check(self) -> list[str]:
        """Integrity and reconciliation problems (empty when the ledger is sound).

        ``PRAGMA integrity_check``; every position's reserved units equal its held lines; its
        on-hand and reserved units equal the sums of its movements since the network was put.
        """
        with self.read() as db:
            problems = [row[0] for row in db.execute("PRAGMA integrity_check") if row[0] != "ok"]
            version = self._version(db)
            held: dict[tuple[str, str], int] = {}
            for lines in self._held_lines(db).values():
                for line in lines:
                    key = (line.node_id, line.sku_id)
                    held[key] = held.get(key, 0) + line.quantity
            history = {
                (node, sku): (on_hand, reserved)
                for node, sku, on_hand, reserved in db.execute(
                    "SELECT node_id, sku_id, SUM(on_hand_delta), SUM(reserved_delta) FROM movements "
                    "WHERE network_version = ? GROUP BY node_id, sku_id",
                    (version,),
                )
            }
            for position in self._positions(db, "", ()):
                key = (position.node_id, position.sku_id)
                if position.reserved != held.get(key, 0):
                    problems.append(
                        f"{key}: reserved {position.reserved} but holds total {held.get(key, 0)}"
                    )
                if history.get(key, (0, 0)) != (position.on_hand, position.reserved):
                    problems.append(
                        f"{key}: on-hand/reserved {position.on_hand}/{position.reserved}"
                        f" but movements sum to {history.get(key)}"
                    )
        return problems

    def changes_since(self, seq: int) -> tuple[int, list[StockPosition]]:
        """Positions changed after ``seq`` (latest values) and the newest seq."""
        with self.read() as db:
            last = self._last_seq(db)
            if last == seq:
                return seq, []
            rows = db.execute(
                "SELECT DISTINCT s.node_id, s.sku_id, s.on_hand, s.safety_stock, s.reserved "
                "FROM stock_changes c JOIN stock s ON s.node_id = c.node_id AND s.sku_id = c.sku_id "
                "WHERE c.seq > ?",
                (seq,),
            ).fetchall()
        return last, [StockPosition(*row) for row in rows]

    # ------------------------------------------------------------------------- idempotency

    @staticmethod
    def _seen_request(
        db: sqlite3.Connection, request_id: str, method: str, fingerprint: bytes
    ) -> str | None:
        """The stored answer of an earlier request with this id (None: new id)."""
        row = db.execute(
            "SELECT method, fingerprint, response FROM requests WHERE request_id = ?", (request_id,)
        ).fetchone()
        if row is None:
            return None
        if row[0] != method or bytes(row[1]) != fingerprint:
            raise AlreadyExists(
                "REQUEST_ID_REUSED",
                f"request id {request_id!r} was already used for a different request",
                {"requestId": request_id},
            )
        return str(row[2])

    @staticmethod
    def _remember_request(
        db: sqlite3.Connection, request_id: str, method: str, fingerprint: bytes, response: str
    ) -> None:
        now = time.time()
        db.execute(
            "INSERT INTO requests VALUES (?, ?, ?, ?, ?)",
            (request_id, method, fingerprint, response, now),
        )
        # keys are kept at least 24 hours; older ones are dropped lazily
        db.execute("DELETE FROM requests WHERE created < ?", (now - KEEP_REQUEST_IDS,))

    # ------------------------------------------------------------------------- helpers

    @staticmethod
    def _version(db: sqlite3.Connection) -> int:
        row = db.execute("SELECT value FROM meta WHERE key = 'network_version'").fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _last_seq(db: sqlite3.Connection) -> int:
        row = db.execute("SELECT max(seq) FROM stock_changes").fetchone()
        return int(row[0] or 0)

    @staticmethod
    def _ids(db: sqlite3.Connection) -> tuple[set[str], set[str]]:
        row = db.execute("SELECT value FROM meta WHERE key = 'network'").fetchone()
        if row is None:
            return set(), set()
        data = json.loads(row[0])
        return (
            {n.get("id", "") for n in data.get("nodes", [])},
            {s.get("id", "") for s in data.get("skus", [])},
        )

    @staticmethod
    def _position(db: sqlite3.Connection, node_id: str, sku_id: str) -> StockPosition:
        row = db.execute(
            "SELECT on_hand, safety_stock, reserved FROM stock WHERE node_id = ? AND sku_id = ?",
            (node_id, sku_id),
        ).fetchone()
        return StockPosition(node_id, sku_id, *(row or (0, 0, 0)))

    @staticmethod
    def _positions(
        db: sqlite3.Connection, where: str, params: Sequence[object]
    ) -> Iterator[StockPosition]:
        query = "SELECT node_id, sku_id, on_hand, safety_stock, reserved FROM stock" + where
        for row in db.execute(query + " ORDER BY node_id, sku_id", params):
            yield StockPosition(*row)

    def _filtered(
        self, db: sqlite3.Connection, skus: list[str], nodes: list[str]
    ) -> Iterator[StockPosition]:
        clauses, params = [], []
        if skus:
            clauses.append(f"sku_id IN ({','.join('?' * len(skus))})")
            params += skus
        if nodes:
            clauses.append(f"node_id IN ({','.join('?' * len(nodes))})")
            params += nodes
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._positions(db, where, params)
