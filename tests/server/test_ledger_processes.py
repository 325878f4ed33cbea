"""The ledger under real server processes: racing clients on two servers sharing one file,
and a server killed with SIGKILL in the middle of reserving."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import grpc

from omniroute.files import write_network
from omniroute.ledger import open_ledger
from omniroute.model import Location, Network, Order, OrderLine, Sku, StockPosition
from omniroute.server.client import OmnirouteClient
from omniroute.v1 import inventory_service_pb2 as inv

from .test_processes import serve

SCARCE = {"DC1": 3, "ST1": 2, "ST2": 1}  # six units in all, no safety stock


def scarce_network(tiny_network: Network) -> Network:
    stock = tuple(tiny_network.stock) + tuple(
        StockPosition(node, "SCARCE", units) for node, units in SCARCE.items()
    )
    return replace(tiny_network, skus=tiny_network.skus + (Sku("SCARCE", 0.4),), stock=stock)


def order(i: int, quantity: int = 1, sku: str = "SCARCE") -> Order:
    return Order(f"O-{i}", (OrderLine("1", sku, quantity),), destination=Location(-37.85, 145.0))


def reserve(client: OmnirouteClient, i: int, quantity: int = 1, sku: str = "SCARCE"):
    request = OmnirouteClient.plan_request(order(i, quantity, sku))
    request.reserve = True
    request.request_id = f"race-{i}"
    return client.routing.PlanOrder(request, timeout=60)


def test_racing_clients_on_two_servers_never_oversell(
    tmp_path: Path, tiny_network: Network
) -> None:
    """40 clients on two server processes race for 6 units: exactly 6 are held, none oversold."""
    network_file = tmp_path / "scarce.json"
    write_network(scarce_network(tiny_network), network_file)
    db = str(tmp_path / "race.db")
    with (
        serve("--db", db, "--network", str(network_file), "--workers", "1") as (_, a),
        serve("--db", db, "--workers", "1") as (_, b),
    ):
        clients = [OmnirouteClient(f"localhost:{port}") for port in (a, b)]
        demand = {i: 1 + (i % 3 == 0) for i in range(40)}  # 1 or 2 units each
        with ThreadPoolExecutor(16) as pool:
            responses = list(pool.map(lambda i: reserve(clients[i % 2], i, demand[i]), demand))
        held = sum(
            line.quantity
            for r in responses
            if r.reservation_id
            for s in r.plan.shipments
            for line in s.lines
        )
        assert held == min(sum(SCARCE.values()), sum(demand.values())) == 6
        for r in responses:  # an order is either held in full or not at all
            if r.reservation_id:
                assert r.plan.status == r.plan.COMPLETE
        positions = clients[0].get_stock(sku_ids=["SCARCE"]).positions
        assert sum(p.reserved for p in positions) == 6 and all(p.atp >= 0 for p in positions)
        for client in clients:
            client.close()
    store = open_ledger(db)
    assert store.check() == []
    store.close()


def test_sigkill_loses_no_acknowledged_reservation(
    tmp_path: Path, data_dir: Path, tiny_network: Network
) -> None:
    """Reserve under load, SIGKILL the server, restart it: every acknowledged reservation is
    there with its lines, nothing is half-written, and the ledger reconciles."""
    network = replace(
        tiny_network,
        stock=tuple(replace(p, on_hand=p.on_hand + 10_000) for p in tiny_network.stock),
    )
    network_file = tmp_path / "deep.json"
    write_network(network, network_file)
    db = str(tmp_path / "crash.db")
    acknowledged: dict[str, dict[tuple[str, str], int]] = {}
    stop = threading.Event()

    def load(port: int, worker: int) -> None:
        with OmnirouteClient(f"localhost:{port}", retries=0) as client:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    response = reserve(client, worker * 1_000_000 + i, 1 + i % 2, "TEE")
                except grpc.RpcError:
                    return  # the server is gone
                if response.reservation_id:
                    acknowledged[response.reservation_id] = {
                        (s.node_id, line.sku_id): line.quantity
                        for s in response.plan.shipments
                        for line in s.lines
                    }

    with serve("--db", db, "--network", str(network_file), "--workers", "1") as (process, port):
        threads = [threading.Thread(target=load, args=(port, w)) for w in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        stop.set()
        for thread in threads:
            thread.join(30)
    assert len(acknowledged) > 10, len(acknowledged)
    with (
        serve("--db", db, "--workers", "1") as (_, port),
        OmnirouteClient(f"localhost:{port}") as client,
    ):
        for reservation_id, lines in acknowledged.items():
            reservation = client.inventory.GetReservation(
                inv.GetReservationRequest(reservation_id=reservation_id)
            )
            assert reservation.state == inv.Reservation.HELD
            assert {(x.node_id, x.sku_id): x.quantity for x in reservation.lines} == lines
    store = open_ledger(db)
    assert store.check() == []  # includes PRAGMA integrity_check
    store.close()
