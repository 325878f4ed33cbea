"""A real PostgreSQL server for tests: started by the suite itself, fresh databases per test,
and stopped or restarted on demand (for the fault tests).

>>> server = Server.start_new()            # a throwaway server on 127.0.0.1, ~1 s
>>> uri = fresh_database(server.uri)       # an empty database, schema migrated (~0.1 s)
>>> server.restart()                       # every connection drops; data survives
>>> drop_database(uri); server.destroy()

The binaries come from the ``pgserver`` package (PostgreSQL bundled in a wheel, a test
dependency); where it is missing, from a PostgreSQL installed by the system
(``/usr/lib/postgresql/*/bin``). PostgreSQL refuses to run as root: as root, the server runs
as the system user ``pgserver`` (created when missing, as ``pgserver`` itself does).

``tests/conftest.py`` turns these into fixtures: ``postgres_uri`` (``OMNIROUTE_TEST_POSTGRES``
when set, else the session's throwaway server), ``postgres_server`` (always a throwaway
server the tests may stop and restart), ``postgres_db`` (a fresh database per test) and
``ledger_target`` (a fresh ledger per test, once on SQLite and once on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

TEMPLATE = "omniroute_test_template"  # a migrated empty ledger, copied per test
SYSTEM_USER = "pgserver"


def binaries() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    spec = importlib.util.find_spec("pgserver")  # not imported: it has start-up side effects
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "pginstall" / "bin" / "pg_ctl").exists():
            return Path(location) / "pginstall" / "bin"
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    raise RuntimeError(
        "no PostgreSQL binaries: pip install pgserver (the test extra has it), "
        "or apt-get install postgresql"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _system_user() -> str | None:
    """The user the server runs as: None (this one) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


class Server:
    """A throwaway PostgreSQL server in a temporary directory, listening on 127.0.0.1.

    Attributes
    ----------
    uri
        ``postgresql://postgres@127.0.0.1:PORT/postgres`` (trust authentication).
    port, directory
        Where it listens and keeps its data (and ``server.log``).
    """

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.bin = binaries()
        self.user = _system_user()
        self.uri = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    @classmethod
    def start_new(cls) -> Server:
        """Initialise a data directory and start a server on a free port (about a second)."""
        directory = Path(tempfile.mkdtemp(prefix="omniroute-pg-"))
        server = cls(directory, _free_port())
        if server.user is not None:
            shutil.chown(directory, server.user, server.user)
        server._run(
            "initdb",
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        server.start()
        return server

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def _run(self, program: str, *args: str, timeout: float = 60.0) -> None:
        # As root, the tool runs as SYSTEM_USER through setpriv rather than subprocess's
        # user=: with user= Python must fork() (not vfork()), and fork() runs gRPC's fork
        # handlers in the child, which abort when another thread of this process is inside a
        # gRPC poller (a fault test restarts the server while its load thread makes calls).
        command = [str(self.bin / program), *args]
        if self.user is not None:
            command = [
                "setpriv",
                f"--reuid={self.user}",
                f"--regid={self.user}",
                "--init-groups",
                *command,
            ]
        result = subprocess.run(
            command,
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{program} {' '.join(args)} failed (exit status {result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log}"
            )

    # fsync off for tests: commits still reach the OS before they are acknowledged (a
    # subclass sets durable settings, e.g. the ledger benchmark)
    SETTINGS = "-c fsync=off -c full_page_writes=off -c shared_buffers=32MB"

    def start(self) -> None:
        """Start (or start again, on the same port and data); return when it accepts."""
        options = (
            f"-p {self.port} -h 127.0.0.1 -k {self.directory} -c max_connections=300 "
            f"{self.SETTINGS}"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start")
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.uri, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server: ``immediate`` (as a crash: connections cut, no checkpoint) or
        ``fast`` (connections cut, clean shutdown)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "immediate", down: float = 0.0) -> None:
        """Stop the server, wait ``down`` seconds, start it again (same port and data)."""
        self.stop(mode)
        time.sleep(down)
        self.start()

    def running(self) -> bool:
        try:
            psycopg.connect(self.uri, connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def destroy(self) -> None:
        """Stop the server and delete its directory."""
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


def database_uri(uri: str, name: str) -> str:
    """``uri`` naming the database ``name`` instead."""
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(uri: str) -> psycopg.Connection:
    return psycopg.connect(uri, autocommit=True, connect_timeout=10)


def _ensure_template(uri: str) -> None:
    """Create the migrated template database once per server (concurrent callers wait)."""
    with _admin(uri) as admin:
        admin.execute("SELECT pg_advisory_lock(7431)")
        try:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,)
            ).fetchone()
            if exists is None:
                admin.execute(f'CREATE DATABASE "{TEMPLATE}" TEMPLATE template0')
                from omniroute.ledger.postgres import PostgresDatabase

                PostgresDatabase(database_uri(uri, TEMPLATE), listen=False).close()
        finally:
            admin.execute("SELECT pg_advisory_unlock(7431)")


def fresh_database(uri: str, migrated: bool = True) -> str:
    """A new database on the server of ``uri`` (which needs CREATEDB): the URI of an empty
    ledger with the latest schema, or with ``migrated=False`` of an empty database."""
    name = "t_" + uuid.uuid4().hex[:16]
    if migrated:
        _ensure_template(uri)
    template = TEMPLATE if migrated else "template0"
    with _admin(uri) as admin:
        for attempt in range(50):  # the template may still show a closing connection
            try:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 49:
                    raise
                time.sleep(0.1)
    return database_uri(uri, name)


def drop_database(uri: str) -> None:
    """Drop the database of ``uri`` (connections to it are cut)."""
    name = urlsplit(uri).path.lstrip("/")
    with contextlib.suppress(psycopg.OperationalError), _admin(database_uri(uri, "postgres")) as a:
        a.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
