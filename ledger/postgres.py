"""The PostgreSQL backend: one ledger shared by server replicas on many hosts.

:class:`PostgresDatabase` gives the guarantees of :class:`~omniroute.ledger.database.
SqliteDatabase` to processes that share no disk:

* **One writer at a time.** ``write()`` takes a transaction-scoped advisory lock
  (``pg_advisory_xact_lock``) before its first statement, the PostgreSQL counterpart of
  SQLite's ``BEGIN IMMEDIATE``: every ledger write (hold, commit, release, expiry, re-route,
  return, stock update, network, operation, audit) runs alone, on READ COMMITTED, and sees
  every write committed before it. So a reservation holds all its lines or none (the
  conditional updates of :func:`omniroute.ledger.positions.hold` run against current
  stock), nothing oversells, and no two writers wait on each other's row locks: one lock,
  taken first, cannot deadlock. The lock is released by commit, rollback, or the end of the
  session (a replica killed mid-write holds nothing).
* **Idempotency** rests on the unique keys of ``requests`` and ``reservations.request_id``
  and on the answer being written in the same transaction as the change.
* **Readers are never blocked**: ``read()`` is a REPEATABLE READ snapshot and takes no lock.
* **Change token**: every write sends ``NOTIFY`` in its transaction (delivered at commit); a
  listener thread with its own connection counts the notifications, and checks the change
  feed and the network version once a second as a fallback (a notification is lost when the
  listener's connection drops), so :meth:`change_token` costs no round trip.
* **Faults**: a dropped connection, a PostgreSQL restart or an unreachable server fail the
  call in flight with :class:`~omniroute.ledger.errors.DatabaseUnavailable` (the transaction
  rolled back, safe to retry with the same request id); the pool checks every connection
  before lending it and replaces broken ones, so the next call reconnects by itself.
* **Migrations** run in a write, under the same lock: replicas starting together apply
  each migration once.

Ledger modules write ``?`` placeholders; this backend turns them into psycopg's ``%s``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import psycopg
import psycopg_pool

from omniroute.ledger import schema
from omniroute.ledger.errors import DatabaseUnavailable, SchemaTooNew, SchemaUnsupported
from omniroute.ledger.positions import COLUMNS

log = logging.getLogger("omniroute.ledger")
# the pool warns at every failed connection attempt; an outage is reported once instead
# (DatabaseUnavailable to the caller, and the server's health watch)
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

WRITE_LOCK = 0x6F6D6E69  # advisory lock key of the ledger's single writer ("omni")
CHANNEL = "omniroute_ledger"  # NOTIFY channel of committed writes
POLL_SECONDS = 1.0  # the listener's fallback check of the change feed
LOCK_TIMEOUT = "30s"  # like SQLite's busy timeout: a writer waits this long for the lock
WRITER_IDLE_TIMEOUT = "60s"  # a writer silent this long (its host gone, the process
# frozen) loses its session, and with it the writers' lock
POOL_TIMEOUT = 5.0  # seconds a call waits for a connection before UNAVAILABLE
QUICK_WAIT = 0.2  # seconds before a call waiting for a connection checks the server is up
CONNECT_TIMEOUT = 5  # seconds (libpq connect_timeout) unless the URI says otherwise
SCHEMES = ("postgresql://", "postgres://")
# Each sent as one simple query (one round trip): the writers' lock is the first thing a
# write does; NOTIFY is delivered to listeners when (and only if) the write commits.
WRITE_BEGIN = (
    f"BEGIN; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; "
    f"SET LOCAL idle_in_transaction_session_timeout = '{WRITER_IDLE_TIMEOUT}'; "
    f"SELECT pg_advisory_xact_lock({WRITE_LOCK})"
)
WRITE_COMMIT = f"NOTIFY {CHANNEL}; COMMIT"
READ_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ"

# Connection errors: the server is unreachable, restarted, or the connection broke.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    # a failover under way: the URI still reaches the old primary, now a read-only standby
    psycopg.errors.ReadOnlySqlTransaction,
    psycopg_pool.PoolTimeout,
    psycopg_pool.PoolClosed,
)


def is_postgres_uri(target: str) -> bool:
    """Whether ``target`` names a PostgreSQL database (a libpq URI)."""
    return target.lower().startswith(SCHEMES)


def redacted(uri: str) -> str:
    """``uri`` without its password (for messages and logs)."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", uri)


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """Turn the ledger's ``?`` placeholders into ``%s`` (and a literal ``%`` into ``%%``),
    leaving quoted strings and identifiers alone."""
    out = []
    quote = ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
            out.append("%%" if char == "%" else char)
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    return "".join(out)


# Reads of every stock position (the planner's load, exports, reconciliation) go through a
# server-side cursor, so that 10 million positions never sit in the client's memory at once.
WHOLE_STOCK = f"SELECT {COLUMNS} FROM stock"
STREAM_ROWS = 50_000
_CURSORS = itertools.count()


class _Transaction:
    """The ``Transaction`` of ledger modules over one psycopg connection."""

    def __init__(self, connection: psycopg.Connection[Any], where: str) -> None:
        self._connection = connection
        self._where = where

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            if sql.startswith(WHOLE_STOCK):  # millions of rows: fetched a batch at a time
                cursor = self._connection.cursor(name=f"stock_{next(_CURSORS)}")
                cursor.itersize = STREAM_ROWS
                return cursor.execute(translate(sql), tuple(params))
            return self._connection.execute(translate(sql), tuple(params))
        except UNAVAILABLE_ERRORS as error:
            raise _unavailable(error, self._where) from error

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            with self._connection.cursor() as cursor:
                cursor.executemany(translate(sql), rows)
        except UNAVAILABLE_ERRORS as error:
            raise _unavailable(error, self._where) from error


def _unavailable(error: BaseException, where: str) -> DatabaseUnavailable:
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return DatabaseUnavailable(f"the ledger database at {where} is unavailable: {detail}")


class PostgresDatabase:
    """A PostgreSQL database shared by server replicas (see the module docstring).

    Parameters
    ----------
    uri
        A libpq URI, ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?PARAMS]``.
    migrate
        Bring the schema to the latest version on opening.
    max_connections
        The size of the connection pool (plus one connection for the listener).
    listen
        Start the listener behind :meth:`change_token` (off for one-shot commands).
    """

    dialect = "postgresql"

    def __init__(
        self, uri: str, migrate: bool = True, max_connections: int = 8, listen: bool = True
    ) -> None:
        if not is_postgres_uri(uri):
            raise ValueError(f"not a PostgreSQL URI: {redacted(uri)!r}")
        try:
            psycopg.conninfo.conninfo_to_dict(uri)
        except psycopg.ProgrammingError as error:
            raise ValueError(f"malformed PostgreSQL URI {redacted(uri)!r}: {error}") from None
        self.uri = uri
        self.where = redacted(uri)
        self._local = threading.local()
        self._changes = 0
        self._closed = threading.Event()
        self._listener: threading.Thread | None = None
        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in uri:
            kwargs["connect_timeout"] = CONNECT_TIMEOUT
        if "keepalives" not in uri:  # notice a host that vanished without closing
            kwargs.update(keepalives=1, keepalives_idle=10, keepalives_interval=5)
            kwargs["keepalives_count"] = 3
        if "tcp_user_timeout" not in uri:  # data sent to a host that vanished: give up in 15 s
            kwargs["tcp_user_timeout"] = 15_000  # (keepalives only watch idle connections)
        self._kwargs = kwargs
        self._pool = psycopg_pool.ConnectionPool(
            uri,
            min_size=1,
            max_size=max_connections,
            kwargs=kwargs,
            check=psycopg_pool.ConnectionPool.check_connection,
            timeout=POOL_TIMEOUT,
            # a failed connection attempt is not retried in the background with a growing
            # back-off: the next call that needs a connection tries again, so a replica is
            # back as soon as the server is
            reconnect_timeout=0,
            open=False,
            name="omniroute-ledger",
        )
        self._pool.open(wait=False)
        try:
            self.ping()
            if migrate:
                self.migrate()
        except BaseException:
            self._pool.close()
            raise
        if listen:
            self._listener = threading.Thread(
                target=self._listen, name="omniroute-ledger-listener", daemon=True
            )
            self._listener.start()

    def close(self) -> None:
        self._closed.set()  # the listener stops within POLL_SECONDS (or a connect timeout)
        self._pool.close()
        if self._listener is not None and self._listener is not threading.current_thread():
            self._listener.join(POLL_SECONDS + CONNECT_TIMEOUT + 1)

    # ------------------------------------------------------------------------- transactions

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        pinned = getattr(self._local, "pinned", None)
        if pinned is not None:
            yield pinned
            return
        try:
            lent = self._pool.connection(timeout=QUICK_WAIT)
            try:
                connection = lent.__enter__()
            except psycopg_pool.PoolTimeout:
                # every connection busy, or none can be made: fail at once when the server
                # does not answer, else wait for a connection like any other caller
                problem = self._probe(timeout=1.0)
                if problem is not None:
                    raise DatabaseUnavailable(
                        f"the ledger database at {self.where} is unavailable: {problem}"
                    ) from None
                lent = self._pool.connection(timeout=POOL_TIMEOUT)
                connection = lent.__enter__()
        except UNAVAILABLE_ERRORS as error:
            raise _unavailable(error, self.where) from error
        try:
            yield connection
        except BaseException as error:
            lent.__exit__(type(error), error, error.__traceback__)
            raise
        lent.__exit__(None, None, None)

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Run this thread's transactions on one connection until the block ends (for
        temporary tables that live across transactions, e.g. a bulk stock import)."""
        if getattr(self._local, "pinned", None) is not None:
            yield
            return
        with self._connection() as connection:
            self._local.pinned = connection
            try:
                yield
            finally:
                self._local.pinned = None

    @contextlib.contextmanager
    def write(self) -> Iterator[_Transaction]:
        """A write transaction, alone among all writers of the database (the advisory lock):
        committed on success, rolled back on any exception."""
        with self._transaction(WRITE_BEGIN, WRITE_COMMIT) as transaction:
            yield transaction

    @contextlib.contextmanager
    def read(self) -> Iterator[_Transaction]:
        """A consistent snapshot (REPEATABLE READ); takes no lock, blocks no writer."""
        with self._transaction(READ_BEGIN, "COMMIT") as transaction:
            yield transaction

    @contextlib.contextmanager
    def _transaction(self, begin: str, commit: str) -> Iterator[_Transaction]:
        """A transaction opened by the statements ``begin`` and ended by ``commit`` (each
        sent in one round trip), rolled back on any exception; connection failures become
        :class:`DatabaseUnavailable`."""
        with self._connection() as connection:
            try:
                try:
                    connection.execute(begin)
                    yield _Transaction(connection, self.where)
                except BaseException:
                    with contextlib.suppress(psycopg.Error):
                        connection.execute("ROLLBACK")
                    raise
                connection.execute(commit)
            except UNAVAILABLE_ERRORS as error:
                raise _unavailable(error, self.where) from error

    def ping(self) -> None:
        """Raise :class:`DatabaseUnavailable` unless the server answers now."""
        with self.read() as tx:
            tx.execute("SELECT 1").fetchone()

    # ------------------------------------------------------------------------- change token

    def change_token(self) -> int:
        """A counter of the commits this process has heard of (see the module docstring):
        no round trip to the server."""
        if self._listener is None:  # no listener: ask the server each time
            return hash(self._fingerprint())
        return self._changes

    def _fingerprint(self) -> tuple[int, int]:
        with self._connection() as connection:
            try:
                return _fingerprint(connection)
            except UNAVAILABLE_ERRORS as error:
                raise _unavailable(error, self.where) from error

    def _listen(self) -> None:
        """The listener thread: count notifications; once a second without one, compare the
        change feed and the network version with what it last saw; reconnect after a drop
        (counting a change, since notifications may have been missed)."""
        while not self._closed.is_set():
            try:
                with psycopg.connect(self.uri, **self._kwargs) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    seen = _fingerprint(connection)
                    self._changes += 1  # anything may have happened while not listening
                    while not self._closed.is_set():
                        heard = 0
                        # counted as each arrives: notifies() goes on yielding until its
                        # timeout, and a replica must see the change at once, not after it
                        for _ in connection.notifies(timeout=POLL_SECONDS):
                            heard += 1
                            self._changes += 1
                        if heard:
                            continue
                        current = _fingerprint(connection)
                        if current != seen:
                            self._changes += 1
                            seen = current
            except (psycopg.Error, OSError) as error:
                if self._closed.is_set():
                    return
                log.debug("ledger listener reconnecting: %s", error)
                self._closed.wait(POLL_SECONDS)

    # ------------------------------------------------------------------------- schema

    def schema_version(self) -> int:
        with self.read() as tx:
            return _stored_version(tx)

    def migrate(self) -> int:
        """Apply the migrations the database lacks, in one write transaction (under the
        writers' lock, so replicas starting together apply each once); the version."""
        with self.write() as tx:
            version = _stored_version(tx)
            if version == 0 and _has_table(tx, "stock"):
                raise SchemaUnsupported(
                    f"{self.where} holds a table 'stock' but no omniroute schema version: "
                    "give omniroute a database of its own"
                )
            if version > schema.LATEST:
                raise SchemaTooNew(
                    f"{self.where} has ledger schema {version}; this omniroute knows up to "
                    f"{schema.LATEST}: upgrade omniroute"
                )
            for migration in schema.MIGRATIONS:
                if migration.version > version:
                    for statement in migration.statements(self.dialect):
                        tx.execute(statement)
                    if migration.backfill is not None:
                        migration.backfill(tx)
                    version = migration.version
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(version),),
            )
            return version

    def reachable(self, timeout: float = 2.0) -> bool:
        """Whether a new connection to the server succeeds within ``timeout`` seconds (the
        health probe: independent of the pool, so a full pool does not look like an outage)."""
        return self._probe(timeout) is None

    def _probe(self, timeout: float) -> str | None:
        """None when a new connection answers within ``timeout`` seconds, else why not."""
        start = time.monotonic()
        try:
            kwargs = dict(self._kwargs, connect_timeout=max(1, round(timeout)))
            with psycopg.connect(self.uri, **kwargs) as connection:
                connection.execute("SELECT 1")
        except (psycopg.Error, OSError) as error:
            text = str(error).strip()
            return text.splitlines()[0].strip() if text else type(error).__name__
        if time.monotonic() - start > timeout + 1:
            return f"no answer within {timeout:g} s"
        return None


def _fingerprint(connection: psycopg.Connection[Any]) -> tuple[int, int]:
    """(last change-feed seq, network version): what a replica's view of stock follows."""
    row = connection.execute(
        "SELECT (SELECT max(seq) FROM stock_changes), (SELECT max(version) FROM network)"
    ).fetchone()
    return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)


def _has_table(tx: _Transaction, name: str) -> bool:
    row = tx.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_name = ?",
        (name,),
    ).fetchone()
    return row is not None


def _stored_version(tx: _Transaction) -> int:
    if not _has_table(tx, "meta"):
        return 0
    row = tx.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0
