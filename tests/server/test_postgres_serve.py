"""``omniroute serve --db postgresql://...`` end to end on a real PostgreSQL server: the
network put, an order planned and held, the hold committed; ``db migrate``; and a database
outage seen by clients as UNAVAILABLE and by health checking as NOT_SERVING, then healed
without restarting the replica."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import grpc
import pg
from grpc_health.v1 import health_pb2, health_pb2_grpc

from omniroute.ledger import open_ledger, schema
from omniroute.model import Network, Order
from omniroute.server.client import OmnirouteClient
from omniroute.v1 import inventory_service_pb2, inventory_service_pb2_grpc

from .test_processes import serve


def omniroute(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_on_postgres_reserves_and_commits(
    postgres_db: str, data_dir: Path, tiny_orders: dict[str, Order]
) -> None:
    """An empty replica on PostgreSQL takes its network by --network, holds an order's stock
    and commits it; the ledger (read directly) agrees and reconciles."""
    with (
        serve("--db", postgres_db, "--network", str(data_dir / "tiny_network.json")) as (_, port),
        OmnirouteClient(f"localhost:{port}") as client,
    ):
        answer = client.reserve(tiny_orders["one-tee-melbourne"], request_id="pg-1")
        assert answer.reservation_id
        again = client.reserve(tiny_orders["one-tee-melbourne"], request_id="pg-1")
        assert again.reservation_id == answer.reservation_id  # idempotent
        committed = client.commit_reservation(answer.reservation_id)
        assert committed.state == inventory_service_pb2.Reservation.COMMITTED
    ledger = open_ledger(postgres_db)
    assert ledger.reservations.get(answer.reservation_id).state.value == "COMMITTED"
    assert ledger.check() == []
    ledger.close()


def test_put_network_through_one_replica_reaches_another(
    postgres_db: str, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """Two empty replicas: PutNetwork through one makes the other serve it too."""
    with (
        serve("--db", postgres_db) as (_, a),
        serve("--db", postgres_db) as (_, b),
        OmnirouteClient(f"localhost:{a}") as first,
        OmnirouteClient(f"localhost:{b}") as second,
    ):
        first.put_network(tiny_network)
        second.wait_until_serving()
        deadline = time.monotonic() + 10
        while True:
            try:
                plan = second.plan_order(tiny_orders["one-tee-melbourne"]).plan
                break
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert [s.node_id for s in plan.shipments] == ["DC1"]


def test_db_migrate_prints_versions(postgres_uri: str, tmp_path: Path) -> None:
    """db migrate brings a new database (or file) to the latest schema, then has nothing to do."""
    uri = pg.fresh_database(postgres_uri, migrated=False)
    try:
        first = omniroute("db", "migrate", "--db", uri)
        assert first.returncode == 0, first.stderr
        assert f"ledger schema 0 -> {schema.LATEST}" in first.stdout
        again = omniroute("db", "migrate", "--db", uri)
        assert f"ledger schema {schema.LATEST}, the latest: nothing to do" in again.stdout
    finally:
        pg.drop_database(uri)
    sqlite = omniroute("db", "migrate", "--db", str(tmp_path / "new.db"))
    assert f"ledger schema 0 -> {schema.LATEST}" in sqlite.stdout
    unreachable = omniroute("db", "migrate", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert unreachable.returncode == 2
    assert "is unavailable" in unreachable.stderr and "Traceback" not in unreachable.stderr
    other = omniroute("db", "migrate", "--db", "mysql://root@localhost/db")
    assert other.returncode == 2 and "postgresql://" in other.stderr


def _health(channel: grpc.Channel) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status


def _wait_health(channel: grpc.Channel, status: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while _health(channel) != status:
        assert time.monotonic() < deadline, f"health never became {status}"
        time.sleep(0.1)


def test_database_outage_is_unavailable_and_heals(
    postgres_server: pg.Server, data_dir: Path
) -> None:
    """PostgreSQL stops: calls fail UNAVAILABLE (never INTERNAL) and health turns NOT_SERVING
    within seconds; it starts again: SERVING again and calls succeed, same replica."""
    uri = pg.fresh_database(postgres_server.uri)
    network = str(data_dir / "tiny_network.json")
    with serve("--db", uri, "--network", network, "--workers", "1") as (_, port):
        channel = grpc.insecure_channel(f"localhost:{port}", options=[("grpc.enable_retries", 0)])
        stock = inventory_service_pb2_grpc.InventoryServiceStub(channel)
        request = inventory_service_pb2.GetStockRequest(sku_ids=["TEE"])
        assert stock.GetStock(request, timeout=10).positions
        serving = health_pb2.HealthCheckResponse.SERVING
        assert _health(channel) == serving
        postgres_server.stop("immediate")
        try:
            try:
                stock.GetStock(request, timeout=15)
                raise AssertionError("a call succeeded without its database")
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE, error
                assert "unavailable" in (error.details() or "")
            _wait_health(channel, health_pb2.HealthCheckResponse.NOT_SERVING, 10)
        finally:
            postgres_server.start()
        _wait_health(channel, serving, 10)
        assert stock.GetStock(request, timeout=10).positions
        channel.close()
    pg.drop_database(uri)
