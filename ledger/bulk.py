"""Bulk stock imports: millions of rows staged without the write lock, then checked against
the stock and applied in one write transaction (all rows or none).

An import takes two passes over the rows:

1. :meth:`StockImport.stage` puts the caller's parsed rows, chunk by chunk as they stream
   from a file, into a temporary table of this process's connection. No write lock is held
   meanwhile, so holds and stock updates carry on, and Python holds one chunk at a time.
2. :meth:`StockImport.apply` runs one write transaction, as ``Stock.update`` does: it
   expires due holds, checks the request id (AIP-155), checks every staged row against the
   current positions (on-hand never below 0 nor below the units reserved; one row per
   position), and writes the changed positions with :func:`positions.set_from`: one
   ``ADJUST`` movement and one change-feed row per changed position, exactly what
   ``UpdateStock`` writes, so every server process catches up through the change feed.
   Any problem rolls everything back.

Modes (:class:`ImportMode`): ``snapshot`` (the rows are the whole stock: each row sets a
position's on-hand and safety stock, and positions missing from the rows get on-hand 0,
their safety stock kept) and ``delta`` (each row changes one position as a ``StockUpdate``
does: set or add to on-hand, and/or set safety stock). Reservations are kept either way;
a position can never end with fewer units on hand than it has reserved (as for
``UpdateStock``), so such a row, or a held position missing from a snapshot, is a problem.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace

from omniroute.ledger import codec, events, idempotency
from omniroute.ledger import network as network_table
from omniroute.ledger.database import Database, Transaction
from omniroute.ledger.errors import ChangedConcurrently, NoNetwork
from omniroute.ledger.positions import MovementKind, set_from
from omniroute.ledger.reservations import expire_due
from omniroute.model import FieldViolation, ValidationError, problem_count

METHOD = "ImportStock"  # the method name of its request ids (one namespace with the RPCs)
MAX_PROBLEMS = 100  # problems listed; the others are counted
INT32_MAX = 2**31 - 1  # on-hand travels as an int32 (StockPosition.on_hand)

#: A staged row: line number, node id, SKU id, set on-hand, add to on-hand, safety stock
#: (None: unchanged).
StagedRow = tuple[int, str, str, int | None, int | None, int | None]
KnownIds = Callable[[Transaction], tuple[set[str], set[str]]]


class ImportMode(enum.Enum):
    SNAPSHOT = "snapshot"  # the whole stock: positions missing from the rows get on-hand 0
    DELTA = "delta"  # changes to some positions


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did (also the answer stored under its request id)."""

    mode: str
    rows: int  # rows in the file
    changed: int  # positions whose on-hand or safety stock changed (created and zeroed too)
    created: int  # positions the ledger did not hold before
    zeroed: int  # snapshot: positions missing from the file whose on-hand went to 0
    on_hand_delta: int  # net change of on-hand units over all positions
    network_version: int
    replayed: bool = False  # the request id was applied before: this import changed nothing


class ImportInvalid(ValidationError):
    """The rows have problems: the first :data:`MAX_PROBLEMS` are listed, ``total`` counted."""

    def __init__(self, violations: list[FieldViolation], total: int, subject: str) -> None:
        super().__init__(violations, subject)
        self.total = total

    def __str__(self) -> str:
        lines = [f"{self.subject} is invalid ({problem_count(self.total)}):"]
        lines += [f"  {violation}" for violation in self.violations]
        if self.total > len(self.violations):
            lines.append(f"  ... and {self.total - len(self.violations):,} more")
        return "\n".join(lines)


class Problems:
    """Problems of an import: the first ``limit`` are kept, the others only counted."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.limit = limit
        self.listed: list[FieldViolation] = []
        self.total = 0

    def add(self, field: str, description: str) -> None:
        self.total += 1
        if len(self.listed) < self.limit:
            self.listed.append(FieldViolation(field, description))

    def error(self, subject: str) -> ImportInvalid:
        return ImportInvalid(self.listed, self.total, subject)


class StockImport:
    """One bulk import (see the module docstring); use it as a context manager.

    Parameters
    ----------
    db
        The ledger's database (its connection holds the temporary tables).
    known_ids
        The node and SKU ids of the current network (``Ledger._known_ids``).
    mode
        Snapshot or delta.

    Attributes
    ----------
    nodes, skus
        The ids of the network the rows are checked against (:class:`NoNetwork` without one).
    rows
        Rows staged so far.
    """

    def __init__(self, db: Database, known_ids: KnownIds, mode: ImportMode) -> None:
        self.db = db
        self.mode = mode
        self.rows = 0
        # the temporary tables live on one connection: keep this thread on it until close()
        self._session = ExitStack()
        self._session.enter_context(db.session())
        try:
            self._create(known_ids)
        except BaseException:
            self._session.close()
            raise

    def _create(self, known_ids: KnownIds) -> None:
        with self.db.read() as tx:
            self.version = network_table.version(tx)
            if self.version == 0:
                raise NoNetwork()
            self.nodes, self.skus = known_ids(tx)
            _drop(tx)
            tx.execute(
                "CREATE TEMP TABLE stock_import (line INTEGER NOT NULL, node_id TEXT NOT NULL,"
                " sku_id TEXT NOT NULL, set_on_hand INTEGER, delta_on_hand INTEGER,"
                " safety_stock INTEGER)"
            )
            tx.execute(
                "CREATE TEMP TABLE stock_import_result (line INTEGER, node_id TEXT NOT NULL,"
                " sku_id TEXT NOT NULL, old_on_hand INTEGER NOT NULL,"
                " reserved INTEGER NOT NULL, new_on_hand INTEGER NOT NULL,"
                " new_safety INTEGER NOT NULL, created INTEGER NOT NULL)"
            )
            tx.execute(
                "CREATE TEMP VIEW stock_import_changes AS SELECT node_id, sku_id, new_on_hand,"
                " new_safety, new_on_hand - old_on_hand AS on_hand_delta"
                " FROM stock_import_result"
            )

    def __enter__(self) -> StockImport:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the temporary tables (and let go of the connection holding them)."""
        try:
            with self.db.read() as tx:
                _drop(tx)
        finally:
            self._session.close()

    def stage(self, rows: Sequence[StagedRow]) -> None:
        """Add parsed rows (their ids known, their numbers >= 0); no write lock is taken."""
        with self.db.read() as tx:  # writes only this connection's temporary table
            tx.executemany("INSERT INTO stock_import VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.rows += len(rows)

    def apply(
        self,
        problems: Problems,
        subject: str,
        request_id: str = "",
        fingerprint: bytes = b"",
        reference: str = "",
        on_progress: Callable[[int, int], None] | None = None,
    ) -> ImportSummary:
        """Check the staged rows and write the changes in one transaction, or nothing.

        ``problems`` holds those the caller found while parsing; this adds repeated
        positions and on-hand that would fall below 0 or below the reserved units, and
        raises :class:`ImportInvalid` (nothing written) when there are any. With a
        ``request_id``, an import seen before returns its first summary (``replayed``) and
        changes nothing. ``on_progress(done, total)`` follows the writing of positions.
        """
        with self.db.read() as tx:  # temporary table only: still no write lock
            tx.execute("CREATE INDEX stock_import_position ON stock_import (node_id, sku_id)")
            for line, node_id, sku_id, first in tx.execute(
                "SELECT d.line, d.node_id, d.sku_id, f.first FROM stock_import d JOIN "
                "(SELECT node_id, sku_id, min(line) AS first FROM stock_import "
                "GROUP BY node_id, sku_id HAVING count(*) > 1) f "
                "ON d.node_id = f.node_id AND d.sku_id = f.sku_id AND d.line > f.first "
                "ORDER BY d.line"
            ):
                problems.add(
                    f"line {line}",
                    f"second row for node {node_id!r} and SKU {sku_id!r} (first on line "
                    f"{first}): give each position once",
                )
        with self.db.write() as tx:
            now = time.time()
            expire_due(tx, now)
            if request_id:
                stored = idempotency.seen(tx, request_id, METHOD, fingerprint)
                if stored is not None:
                    return replace(codec.load_as(ImportSummary, stored), replayed=True)
            version = network_table.version(tx)
            if version != self.version:
                raise ChangedConcurrently(
                    f"the network changed (version {self.version} -> {version}) while the "
                    "file was read: run the import again"
                )
            self._compare(tx)
            self._check(tx, problems)
            if problems.total:
                raise problems.error(subject)
            summary = self._write(tx, now, reference, on_progress)
            if summary.changed:  # one event for the whole import (not one per position)
                event = events.NewEvent(
                    events.EventType.STOCK_UPDATED,
                    request_id=request_id,
                    payload={
                        "source": "import",
                        "mode": summary.mode,
                        "rows": summary.rows,
                        "changed": summary.changed,
                        "created": summary.created,
                        "zeroed": summary.zeroed,
                        "onHandDelta": summary.on_hand_delta,
                        "reference": reference,
                    },
                )
                events.append(tx, now, [event])
            if request_id:
                idempotency.remember(tx, request_id, METHOD, fingerprint, codec.dumps(summary))
        return summary

    # ------------------------------------------------------------------------- in the write

    def _compare(self, tx: Transaction) -> None:
        """Fill the result table: every position that changes or breaks a rule, before and
        after."""
        tx.execute("DELETE FROM stock_import_result")
        tx.execute(
            "INSERT INTO stock_import_result SELECT line, node_id, sku_id, old_on_hand,"
            " reserved, new_on_hand, new_safety, created FROM ("
            " SELECT s.line, s.node_id, s.sku_id, coalesce(t.on_hand, 0) AS old_on_hand,"
            " coalesce(t.reserved, 0) AS reserved,"
            " coalesce(s.set_on_hand, t.on_hand, 0) + coalesce(s.delta_on_hand, 0)"
            " AS new_on_hand,"
            " coalesce(s.safety_stock, t.safety_stock, 0) AS new_safety,"
            " CASE WHEN t.node_id IS NULL THEN 1 ELSE 0 END AS created,"
            " coalesce(t.safety_stock, 0) AS old_safety"
            " FROM stock_import s LEFT JOIN stock t"
            " ON t.node_id = s.node_id AND t.sku_id = s.sku_id) r "
            "WHERE created = 1 OR new_on_hand != old_on_hand OR new_safety != old_safety"
            " OR new_on_hand < reserved"
        )
        if self.mode is ImportMode.SNAPSHOT:  # positions missing from the file: on-hand 0
            tx.execute(
                "INSERT INTO stock_import_result SELECT NULL, t.node_id, t.sku_id, t.on_hand,"
                " t.reserved, 0, t.safety_stock, 0 FROM stock t"
                " WHERE (t.on_hand != 0 OR t.reserved > 0) AND NOT EXISTS (SELECT 1 FROM"
                " stock_import s WHERE s.node_id = t.node_id AND s.sku_id = t.sku_id)"
            )

    def _check(self, tx: Transaction, problems: Problems) -> None:
        """On-hand below 0 or below the reserved units (the rules of ``Stock.update``), or
        beyond what the API's int32 can carry."""
        condition = f"new_on_hand < 0 OR new_on_hand < reserved OR new_on_hand > {INT32_MAX}"
        rows = tx.execute(
            "SELECT line, node_id, sku_id, new_on_hand, reserved FROM stock_import_result "
            f"WHERE {condition} ORDER BY line IS NULL, line, node_id, sku_id LIMIT ?",
            (problems.limit,),
        ).fetchall()
        if not rows:
            return
        count = int(
            tx.execute(f"SELECT count(*) FROM stock_import_result WHERE {condition}").fetchone()[0]
        )
        for line, node_id, sku_id, on_hand, reserved in rows:
            if on_hand < 0:
                problems.add(f"line {line}: deltaOnHand", f"would make on-hand {on_hand} (< 0)")
            elif on_hand > INT32_MAX:
                problems.add(
                    f"line {line}: deltaOnHand",
                    f"would make on-hand {on_hand} (> {INT32_MAX}, the API's int32)",
                )
            elif line is None:
                problems.add(
                    f"node {node_id!r}, SKU {sku_id!r} (not in the file)",
                    f"on-hand 0 would fall below the {reserved} reserved (a snapshot sets "
                    "positions missing from it to 0)",
                )
            else:
                problems.add(
                    f"line {line}", f"on-hand {on_hand} would fall below the {reserved} reserved"
                )
        problems.total += count - len(rows)

    def _write(
        self,
        tx: Transaction,
        now: float,
        reference: str,
        on_progress: Callable[[int, int], None] | None,
    ) -> ImportSummary:
        changed, created, zeroed, delta = tx.execute(
            "SELECT count(*), coalesce(sum(created), 0),"
            " coalesce(sum(CASE WHEN line IS NULL THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(new_on_hand - old_on_hand), 0) FROM stock_import_result"
        ).fetchone()
        if on_progress is not None:
            on_progress(0, changed)
        if changed:  # (every result row is a change: rows that broke a rule were refused)
            set_from(tx, now, MovementKind.ADJUST, "stock_import_changes", reference)
        if on_progress is not None:
            on_progress(changed, changed)
        return ImportSummary(
            self.mode.value,
            self.rows,
            int(changed),
            int(created),
            int(zeroed),
            int(delta),
            self.version,
        )


def _drop(tx: Transaction) -> None:
    tx.execute("DROP VIEW IF EXISTS stock_import_changes")
    tx.execute("DROP TABLE IF EXISTS stock_import")
    tx.execute("DROP TABLE IF EXISTS stock_import_result")
