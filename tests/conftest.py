"""Shared fixtures: small named instances from tests/data, loaded once per session, and a
real PostgreSQL server for the ledger (tests/pg.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # test helpers such as brute_force

import pg  # noqa: E402

from omniroute.files import read_network, read_orders  # noqa: E402
from omniroute.model import Network, Order  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def tiny_network() -> Network:
    """Four nodes around Melbourne and Sydney, four services, four SKUs (tests/data)."""
    return read_network(DATA / "tiny_network.json")


@pytest.fixture(scope="session")
def tiny_orders(tiny_network: Network) -> dict[str, Order]:
    """Named orders against the tiny network, by order id."""
    return {order.id: order for order in read_orders(DATA / "tiny_orders.jsonl", tiny_network)}


# ----------------------------------------------------------------------------- PostgreSQL
# A real server for the ledger's PostgreSQL backend (see tests/pg.py): the one named by
# OMNIROUTE_TEST_POSTGRES, or a throwaway one the suite starts itself.


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[pg.Server]:
    """A throwaway PostgreSQL server of this session, which tests may stop and restart."""
    server = pg.Server.start_new()
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def postgres_uri(request: pytest.FixtureRequest) -> str:
    """A PostgreSQL server to create databases on: ``OMNIROUTE_TEST_POSTGRES`` (a libpq URI of
    a role allowed to CREATE DATABASE) when set, else :func:`postgres_server`."""
    uri = os.environ.get("OMNIROUTE_TEST_POSTGRES", "")
    if uri:
        return uri
    return str(request.getfixturevalue("postgres_server").uri)


@pytest.fixture()
def postgres_db(postgres_uri: str) -> Iterator[str]:
    """The URI of a fresh ledger database (schema migrated) of its own, dropped after."""
    uri = pg.fresh_database(postgres_uri)
    yield uri
    pg.drop_database(uri)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a fresh, empty ledger lives, once per backend: a SQLite file path, then the URI
    of a new PostgreSQL database (give it to ``open_ledger`` or ``serve --db``)."""
    if request.param == "sqlite":
        yield str(tmp_path / "ledger.db")
        return
    uri = pg.fresh_database(request.getfixturevalue("postgres_uri"))
    yield uri
    pg.drop_database(uri)
