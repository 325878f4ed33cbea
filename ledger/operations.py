"""Long-running operations (AIP-151): a name, progress, then a result or an error, in the
ledger so that any server process sharing it can answer for an operation another runs."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from omniroute.ledger import codec, idempotency
from omniroute.ledger.database import Database, Transaction
from omniroute.ledger.errors import UnknownOperation
from omniroute.ledger.records import OperationError, OperationRecord

COLUMNS = (
    "name, request_id, kind, done, progress_done, progress_total, metadata, result, error, "
    "cancel_requested, created, updated"
)


def _record(row: tuple) -> OperationRecord:
    error = codec.load_as(OperationError, bytes(row[8])) if row[8] is not None else None
    return OperationRecord(
        name=row[0],
        request_id=row[1],
        kind=row[2],
        done=bool(row[3]),
        progress_done=int(row[4]),
        progress_total=int(row[5]),
        metadata=bytes(row[6]) if row[6] is not None else None,
        result=bytes(row[7]) if row[7] is not None else None,
        error=error,
        cancel_requested=bool(row[9]),
        created=float(row[10]),
        updated=float(row[11]),
    )


def _find(tx: Transaction, name: str) -> OperationRecord:
    row = tx.execute(f"SELECT {COLUMNS} FROM operations WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise UnknownOperation(name)
    return _record(row)


@dataclass(frozen=True, slots=True)
class OperationPage:
    operations: tuple[OperationRecord, ...]
    next_after: str | None  # the last name of this page when there are more


class Operations:
    def __init__(self, db: Database) -> None:
        self.db = db

    def start(
        self,
        kind: str,
        total: int,
        metadata: bytes | None = None,
        request_id: str = "",
        fingerprint: bytes = b"",
    ) -> tuple[OperationRecord, bool]:
        """A new operation (or, for a request id seen before, the same one): (record, new)."""
        now = time.time()
        with self.db.write() as tx:
            if request_id:
                stored = idempotency.seen(tx, request_id, f"Start/{kind}", fingerprint)
                if stored is not None:
                    return _find(tx, codec.loads(str, stored)), False
            name = "operations/" + uuid.uuid4().hex[:20]
            tx.execute(
                "INSERT INTO operations (name, request_id, kind, progress_total, metadata, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, request_id, kind, total, metadata, now, now),
            )
            if request_id:
                idempotency.remember(
                    tx, request_id, f"Start/{kind}", fingerprint, codec.dumps(name)
                )
            return _find(tx, name), True

    def progress(self, name: str, done: int, metadata: bytes | None = None) -> bool:
        """Record progress; returns True when cancellation has been requested."""
        with self.db.write() as tx:
            if metadata is None:
                tx.execute(
                    "UPDATE operations SET progress_done = ?, updated = ? WHERE name = ?",
                    (done, time.time(), name),
                )
            else:
                tx.execute(
                    "UPDATE operations SET progress_done = ?, metadata = ?, updated = ? "
                    "WHERE name = ?",
                    (done, metadata, time.time(), name),
                )
            return _find(tx, name).cancel_requested

    def finish(
        self,
        name: str,
        result: bytes | None = None,
        error: OperationError | None = None,
        metadata: bytes | None = None,
    ) -> OperationRecord:
        """Mark the operation done with its result or its error."""
        with self.db.write() as tx:
            tx.execute(
                "UPDATE operations SET done = 1, result = ?, error = ?, "
                "metadata = coalesce(?, metadata), updated = ? WHERE name = ?",
                (
                    result,
                    codec.dumps(error) if error is not None else None,
                    metadata,
                    time.time(),
                    name,
                ),
            )
            return _find(tx, name)

    def get(self, name: str) -> OperationRecord:
        with self.db.read() as tx:
            return _find(tx, name)

    def list(self, size: int, after: str = "", kind: str = "") -> OperationPage:
        """Operations by name, ``size`` at a time, after the name ``after``."""
        with self.db.read() as tx:
            rows = tx.execute(
                f"SELECT {COLUMNS} FROM operations WHERE name > ? AND (? = '' OR kind = ?) "
                "ORDER BY name LIMIT ?",
                (after, kind, kind, size + 1),
            ).fetchall()
        found = tuple(_record(row) for row in rows[:size])
        return OperationPage(found, found[-1].name if len(rows) > size else None)

    def request_cancel(self, name: str) -> OperationRecord:
        """Ask the running operation to stop (it ends CANCELLED at its next progress)."""
        with self.db.write() as tx:
            _find(tx, name)
            tx.execute(
                "UPDATE operations SET cancel_requested = 1, updated = ? WHERE name = ? "
                "AND done = 0",
                (time.time(), name),
            )
            return _find(tx, name)

    def delete(self, name: str) -> None:
        """Forget the operation (its result is gone; a running one keeps running)."""
        with self.db.write() as tx:
            _find(tx, name)
            tx.execute("DELETE FROM operations WHERE name = ?", (name,))
