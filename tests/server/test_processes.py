"""Real `omniroute serve` processes: several workers, two servers on one store, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path

import grpc
import pytest

from omniroute.model import Order
from omniroute.server.client import OmnirouteClient
from omniroute.server.launch import serve_process
from omniroute.v1 import inventory_service_pb2


def serve(*args: str) -> AbstractContextManager[tuple[subprocess.Popen[bytes], int]]:
    """A real ``omniroute serve`` (3 s drain); its output goes to ours, which pytest captures."""
    return serve_process("--grace", "3", *args, output=None, ready_timeout=60)


def test_two_servers_share_one_store(
    tmp_path: Path, data_dir: Path, tiny_orders: dict[str, Order]
) -> None:
    """A stock change made through one server is seen by the other (and by its plans)."""
    db = str(tmp_path / "shared.db")
    with (
        serve("--db", db, "--network", str(data_dir / "tiny_network.json"), "--workers", "1") as (
            _,
            a,
        ),
        serve("--db", db, "--workers", "1") as (_, b),
        OmnirouteClient(f"localhost:{a}") as first,
        OmnirouteClient(f"localhost:{b}") as second,
    ):
        assert [
            s.node_id for s in second.plan_order(tiny_orders["one-tee-melbourne"]).plan.shipments
        ] == ["DC1"]
        first.update_stock(
            inventory_service_pb2.UpdateStockRequest(
                updates=[
                    inventory_service_pb2.StockUpdate(node_id="DC1", sku_id="TEE", set_on_hand=0)
                ]
            )
        )
        dc_tee = second.get_stock(sku_ids=["TEE"], node_ids=["DC1"]).positions[0]
        assert dc_tee.on_hand == 0 and dc_tee.atp == 0
        assert [
            s.node_id for s in second.plan_order(tiny_orders["one-tee-melbourne"]).plan.shipments
        ] == ["ST1"]


def test_workers_share_the_port(
    tmp_path: Path, data_dir: Path, tiny_orders: dict[str, Order]
) -> None:
    """Two worker processes behind one port both answer, and agree."""
    db = str(tmp_path / "w.db")
    with serve("--db", db, "--network", str(data_dir / "tiny_network.json"), "--workers", "2") as (
        _,
        port,
    ):
        costs = set()
        for _ in range(6):  # new channels land on either worker
            with OmnirouteClient(f"localhost:{port}") as client:
                costs.add(client.plan_order(tiny_orders["coat-and-jeans"]).plan.total_cost)
        assert costs == {32.6}


def test_sigterm_drains_and_exits(tmp_path: Path, data_dir: Path) -> None:
    """SIGTERM: the server stops taking calls and exits cleanly within the grace period."""
    db = str(tmp_path / "t.db")
    with serve("--db", db, "--network", str(data_dir / "tiny_network.json"), "--workers", "1") as (
        process,
        port,
    ):
        process.send_signal(signal.SIGTERM)
        start = time.perf_counter()
        assert process.wait(15) == 0
        assert time.perf_counter() - start < 10
        with (
            OmnirouteClient(f"localhost:{port}", retries=0) as client,
            pytest.raises(grpc.RpcError),
        ):
            client.get_stock()


def test_serve_with_store_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    """A new ledger starts an empty server (tests/server/test_cli.py), but only in a folder
    that exists: otherwise exit 2 saying so, and nothing is created."""
    db = tmp_path / "missing" / "x.db"
    result = subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", "serve", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr and not db.parent.exists()


def test_serve_options_reach_the_server(
    tmp_path: Path, data_dir: Path, tiny_orders: dict[str, Order]
) -> None:
    """--reservation-ttl and --batch-window-ms are honoured by a real serve process."""
    from omniroute.v1 import inventory_service_pb2 as inv

    db = str(tmp_path / "o.db")
    with (
        serve(
            "--db",
            db,
            "--network",
            str(data_dir / "tiny_network.json"),
            "--workers",
            "1",
            "--reservation-ttl",
            "0.2",
            "--batch-window-ms",
            "5",
        ) as (_, port),
        OmnirouteClient(f"localhost:{port}") as client,
    ):
        response = client.plan_order(tiny_orders["one-tee-melbourne"])
        assert response.stats.method.startswith("joint/")
        request = OmnirouteClient.plan_request(tiny_orders["one-tee-melbourne"])
        request.reserve, request.request_id = True, "ttl-1"
        reserved = client.routing.PlanOrder(request)
        time.sleep(0.5)
        state = client.inventory.GetReservation(
            inv.GetReservationRequest(reservation_id=reserved.reservation_id)
        ).state
        assert state == inv.Reservation.EXPIRED


def test_a_server_that_cannot_start_is_reported_at_once(tmp_path: Path) -> None:
    """serve_process reports a server that exited (RuntimeError naming its log) instead of
    waiting out the ready timeout (which would raise TimeoutError)."""
    log = tmp_path / "server.log"
    with (
        log.open("wb") as output,
        pytest.raises(RuntimeError, match=r"exited with status 2 .*server\.log"),
        serve_process(
            "--db", str(tmp_path / "no-folder" / "x.db"), output=output, ready_timeout=60
        ),
    ):
        pass
    assert "no-folder does not exist" in log.read_text()
