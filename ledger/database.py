"""The database seam: connections, transactions, schema versions and migrations.

Everything the ledger stores goes through a :class:`Database`. The ledger's modules write
portable SQL with ``?`` placeholders and standard ``INSERT ... ON CONFLICT`` upserts; a
backend translates what differs (placeholders, the schema's column types) and provides

* ``read()``: a consistent snapshot for queries;
* ``write()``: a serialised read-write transaction, committed on success and rolled back on
  any exception, so that a ledger operation changes everything or nothing;
* ``change_token()``: a cheap number that changes whenever another connection commits,
  for processes that keep an in-memory view in step;
* ``migrate()``: brings the schema to :data:`omniroute.ledger.schema.LATEST`, once, even when
  several processes open the same database at the same time.

:class:`SqliteDatabase` is the embedded default (one file, WAL, ``BEGIN IMMEDIATE``);
:class:`~omniroute.ledger.postgres.PostgresDatabase` serves replicas on many hosts.
:func:`open_database` picks one by its target: a ``postgresql://`` URI or a file path.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from omniroute.ledger import schema
from omniroute.ledger.errors import SchemaTooNew, SchemaUnsupported


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Transaction(Protocol):
    """What ledger modules use inside ``read()`` / ``write()``."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class Database(Protocol):
    """A backend of the ledger (see the module docstring)."""

    dialect: str

    def read(self) -> Any: ...  # context manager yielding a Transaction

    def write(self) -> Any: ...  # context manager yielding a Transaction

    def change_token(self) -> int: ...

    def schema_version(self) -> int: ...

    def migrate(self) -> int: ...

    def session(self) -> Any: ...  # context manager: this thread's transactions on one connection

    def close(self) -> None: ...


class SqliteDatabase:
    """A SQLite file shared by the server processes of one host.

    One connection per process, used by one thread at a time (a lock); writes take the
    database's write lock at ``BEGIN IMMEDIATE``, so concurrent processes serialise their
    writes and readers are never blocked (WAL). ``synchronous`` is ``FULL`` (every commit
    synced before it is acknowledged) or ``NORMAL`` (see docs/ledger.md).
    """

    dialect = "sqlite"

    def __init__(self, path: str | Path, synchronous: str = "FULL", migrate: bool = True) -> None:
        if synchronous not in ("FULL", "NORMAL", "OFF"):  # OFF: tests and throwaway files
            raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._db.execute("PRAGMA busy_timeout=30000")
        _wal(self._db)
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        if migrate:
            self.migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
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

    @contextmanager
    def session(self) -> Iterator[None]:
        """This thread's transactions on one connection (always so: there is one)."""
        yield

    def change_token(self) -> int:
        """``PRAGMA data_version``: changes whenever another connection commits."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def integrity_problems(self) -> list[str]:
        with self.read() as db:
            return [row[0] for row in db.execute("PRAGMA integrity_check") if row[0] != "ok"]

    def schema_version(self) -> int:
        with self.read() as db:
            return _stored_version(db)

    def migrate(self) -> int:
        """Apply the migrations this file lacks, in one write transaction; the version."""
        with self.write() as db:
            version = _stored_version(db)
            if version == 0 and _has_table(db, "stock"):
                raise SchemaUnsupported(
                    f"{self.path} was written by omniroute 0.1, whose ledger layout cannot be "
                    "migrated: import the network into a new file "
                    "(omniroute serve --db NEW.db --network FILE)"
                )
            if version > schema.LATEST:
                raise SchemaTooNew(
                    f"{self.path} has ledger schema {version}; this omniroute knows up to "
                    f"{schema.LATEST}: upgrade omniroute"
                )
            for migration in schema.MIGRATIONS:
                if migration.version > version:
                    for statement in migration.statements(self.dialect):
                        db.execute(statement)
                    if migration.backfill is not None:
                        migration.backfill(db)
                    version = migration.version
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(version),),
            )
            return version


def _wal(db: sqlite3.Connection, seconds: float = 30.0) -> None:
    """Put the file in WAL mode. Switching a new file's journal needs it to itself: while
    another process creates or migrates it, SQLite answers "database is locked" at once
    (not after the busy timeout), so wait and try again, up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return row.fetchone() is not None


def _stored_version(db: sqlite3.Connection) -> int:
    if not _has_table(db, "meta"):
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def open_database(target: str | Path, synchronous: str = "FULL", migrate: bool = True) -> Database:
    """The database at ``target``: a ``postgresql://`` (or ``postgres://``) libpq URI, or a
    file path (SQLite, with ``synchronous``); its schema migrated unless not ``migrate``."""
    text = str(target)
    if text.lower().startswith(("postgresql://", "postgres://")):
        from omniroute.ledger.postgres import PostgresDatabase  # psycopg only when used

        return PostgresDatabase(text, migrate=migrate)
    if "://" in text:
        raise ValueError(
            f"unsupported database URL {text.split('://')[0]}://...: give a file path (SQLite) "
            "or a postgresql://USER@HOST:PORT/DB URI"
        )
    return SqliteDatabase(text, synchronous=synchronous, migrate=migrate)
