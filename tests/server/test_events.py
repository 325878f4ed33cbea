"""WatchEvents through a real ``omniroute serve``: every acknowledged reservation appears
exactly once from cursor 0, a live follower sees the changes as they commit, a client that
disconnects mid-stream and resumes from its last cursor loses and repeats nothing, a drain
ends the stream UNAVAILABLE at once, and the example consumer resumes from its cursor file."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from grpc_status import rpc_status

from omniroute.ledger import open_ledger
from omniroute.model import Location, Network, Order, OrderLine
from omniroute.server.client import OmnirouteClient
from omniroute.server.launch import serve_process, stop
from omniroute.v1 import inventory_service_pb2

ROOT = Path(__file__).parents[2]
Event = inventory_service_pb2.Event


SQLITE_ONLY = pytest.mark.parametrize("ledger_target", ["sqlite"], indirect=True)


@pytest.fixture()
def served(
    tmp_path: Path, tiny_network: Network, ledger_target: str
) -> Iterator[tuple[subprocess.Popen, str]]:
    """``omniroute serve`` on a ledger holding the tiny network (with more TEEs): a SQLite
    file, or a PostgreSQL database for the tests parametrised over both."""
    db = ledger_target
    ledger = open_ledger(db)
    stock = tuple(
        replace(p, on_hand=100) if (p.node_id, p.sku_id) == ("DC1", "TEE") else p
        for p in tiny_network.stock
    )
    ledger.put_network(replace(tiny_network, stock=stock))
    ledger.close()
    with (
        (tmp_path / "serve.log").open("wb") as log,
        serve_process("--db", db, "--grace", "20", output=log) as (process, port),
    ):
        yield process, f"localhost:{port}"


def order(n: int) -> Order:
    return Order(
        f"O-{n}",
        (OrderLine("1", "TEE", 1 + n % 2),),
        Location(-37.85, 145.0),
        customer_id=f"C-{n % 3}" if n % 4 else "",
    )


def test_every_acknowledged_reservation_once_and_resume(
    served: tuple[subprocess.Popen, str],
) -> None:
    _, target = served
    with OmnirouteClient(target, timeout=30) as client:
        follower: list[Event] = []
        following = client.watch_events()

        def follow() -> None:
            try:
                for event in following:
                    follower.append(event)
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.CANCELLED, error

        thread = threading.Thread(target=follow)
        thread.start()

        reserved = {}  # reservation id -> order
        for n in range(12):
            response = client.reserve(order(n), request_id=f"req-{n}")
            assert response.reservation_id
            reserved[response.reservation_id] = order(n)
        assert client.reserve(order(0), request_id="req-0").reservation_id in reserved  # retry
        ids = list(reserved)
        for r in ids[:4]:
            client.commit_reservation(r)
        for r in ids[4:7]:
            client.release_reservation(r)
        client.commit_reservation(ids[0])  # again: no new event

        every = list(client.watch_events(0, stop_at_end=True))
        cursors = [e.cursor for e in every]
        assert cursors == list(range(1, len(every) + 1))
        kinds = Counter((Event.Type.Name(e.type), e.reservation_id) for e in every)
        for r, placed in reserved.items():
            assert kinds[("RESERVATION_HELD", r)] == 1
            held = next(
                e for e in every if e.type == Event.RESERVATION_HELD and e.reservation_id == r
            )
            assert (held.order_id, held.customer_id) == (placed.id, placed.customer_id)
            assert json.loads(held.payload_json)["units"] == placed.lines[0].quantity
        assert {r for (k, r), c in kinds.items() if k == "RESERVATION_COMMITTED"} == set(ids[:4])
        assert {r for (k, r), c in kinds.items() if k == "RESERVATION_RELEASED"} == set(ids[4:7])
        assert all(c == 1 for (k, _), c in kinds.items() if k != "NETWORK_REPLACED")
        assert len(every) == 1 + 12 + 4 + 3

        # disconnect after a few events, resume from the last cursor seen: the same events
        seen: list[int] = []
        call = client.watch_events(0)
        for event in call:
            seen.append(event.cursor)
            if len(seen) == 7:
                call.cancel()
                break
        seen += [e.cursor for e in client.watch_events(seen[-1], stop_at_end=True)]
        assert seen == cursors

        # a filter: only the commits, with their customers
        commits = list(client.watch_events(0, types=["RESERVATION_COMMITTED"], stop_at_end=True))
        assert [e.reservation_id for e in commits] == ids[:4]
        assert [e.customer_id for e in commits] == [reserved[r].customer_id for r in ids[:4]]

        # a customer id longer than any id may be is refused, with its field
        too_long = replace(order(99), customer_id="C" * 257)
        with pytest.raises(grpc.RpcError) as caught:
            client.reserve(too_long)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "order.customerId" in str(rpc_status.from_call(caught.value))

        # bad requests: INVALID_ARGUMENT
        for request in (
            inventory_service_pb2.WatchEventsRequest(after_cursor=-1),
            inventory_service_pb2.WatchEventsRequest(types=[0]),
            inventory_service_pb2.WatchEventsRequest(types=[99]),
        ):
            with pytest.raises(grpc.RpcError) as caught:
                list(client.inventory.WatchEvents(request, timeout=10))
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT

        # the live follower got the same events, in the same order
        deadline = time.monotonic() + 10
        while len(follower) < len(every) and time.monotonic() < deadline:
            time.sleep(0.05)
        following.cancel()
        thread.join(10)
        assert [e.cursor for e in follower] == cursors
        assert [e.SerializeToString() for e in follower] == [e.SerializeToString() for e in every]


@SQLITE_ONLY
def test_drain_ends_the_stream_unavailable_at_once(served: tuple[subprocess.Popen, str]) -> None:
    """SIGTERM with a follower connected: its stream ends UNAVAILABLE (naming the cursor to
    resume from) well before the 20 s grace, and the server exits."""
    process, target = served
    with OmnirouteClient(target, timeout=30) as client:
        call = client.watch_events()
        first = next(iter(call))  # the network's event: the stream is open
        assert first.type == Event.NETWORK_REPLACED
        start = time.monotonic()
        stopper = threading.Thread(target=stop, args=(process,))
        stopper.start()
        with pytest.raises(grpc.RpcError) as caught:
            for _ in call:
                pass
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "afterCursor=1" in caught.value.details()
        stopper.join(30)
        assert time.monotonic() - start < 10
        assert process.returncode == 0


@SQLITE_ONLY
def test_example_consumer_resumes_from_its_cursor_file(
    served: tuple[subprocess.Popen, str], tmp_path: Path
) -> None:
    _, target = served
    cursor_file = tmp_path / "events.cursor"
    command = [
        sys.executable,
        str(ROOT / "examples" / "event_consumer.py"),
        "--target",
        target,
        "--cursor-file",
        str(cursor_file),
    ]

    def run() -> list[dict]:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
        return [json.loads(line) for line in done.stdout.splitlines()]

    with OmnirouteClient(target, timeout=30) as client:
        first = client.reserve(order(1), request_id="ex-1")
        printed = run()
        assert [e["cursor"] for e in printed] == ["1", "2"]
        assert printed[1]["reservationId"] == first.reservation_id
        assert printed[1]["customerId"] == "C-1"
        assert printed[1]["payload"]["lines"] == [{"nodeId": "DC1", "quantity": 2, "skuId": "TEE"}]
        assert cursor_file.read_text() == "2"
        client.commit_reservation(first.reservation_id)
        again = run()
        assert [(e["cursor"], e["type"]) for e in again] == [("3", "RESERVATION_COMMITTED")]
        assert run() == []


def test_replicas_on_postgres_every_acknowledged_reservation_once(
    tmp_path: Path, tiny_network: Network, postgres_uri: str
) -> None:
    """Three replicas on one PostgreSQL database, load through all three, one SIGKILLed
    mid-load: WatchEvents from cursor 0 (on a survivor) shows every acknowledged reservation
    exactly once, and a follower on the other survivor, connected throughout, saw exactly
    the same events in the same order."""
    import pg
    from replicas import Progress, Replicas, run_load, scarce_network

    db = pg.fresh_database(postgres_uri, migrated=False)
    try:
        with Replicas(db, tmp_path) as replicas:
            replicas.put_network(scarce_network(tiny_network, scale=100))
            follower: list[Event] = []
            following = replicas.clients[2].watch_events()

            def follow() -> None:
                try:
                    for event in following:
                        follower.append(event)
                except grpc.RpcError as error:
                    assert error.code() == grpc.StatusCode.CANCELLED, error

            thread = threading.Thread(target=follow)
            thread.start()
            progress, stopping = Progress(), threading.Event()
            result: list = []
            loader = threading.Thread(
                target=lambda: result.append(
                    run_load(replicas.clients, stopping, 6, "ev", 30.0, progress)
                )
            )
            loader.start()
            try:
                progress.wait_for(15)
                replicas.kill(1)
                progress.wait_for(progress.count + 15)
            finally:
                stopping.set()
                loader.join(60)
            wave = result[0]
            acknowledged = wave.acknowledged()
            assert len(acknowledged) >= 30 and not wave.unanswered(), wave.describe()
            every = list(replicas.clients[0].watch_events(0, stop_at_end=True, timeout=30))
            assert [e.cursor for e in every] == list(range(1, len(every) + 1))
            held = Counter(e.reservation_id for e in every if e.type == Event.RESERVATION_HELD)
            assert set(held) == set(acknowledged)
            assert set(held.values()) == {1}
            for event in every:
                if event.type == Event.RESERVATION_HELD:
                    outcome = acknowledged[event.reservation_id]
                    assert (event.order_id, event.request_id) == (
                        outcome.order.id,
                        outcome.request_id,
                    )
            deadline = time.monotonic() + 10
            while len(follower) < len(every) and time.monotonic() < deadline:
                time.sleep(0.05)
            following.cancel()
            thread.join(10)
            assert [e.SerializeToString() for e in follower] == [
                e.SerializeToString() for e in every
            ]
    finally:
        pg.drop_database(db)


def test_customer_id_in_files_and_messages() -> None:
    """``customerId`` is read from and written to orders files and messages unchanged."""
    from omniroute.files import order_from_json, order_to_json
    from omniroute.server.convert import order_from_proto, order_to_proto

    placed = order(1)
    assert placed.customer_id == "C-1"
    assert order_to_json(placed)["customerId"] == "C-1"
    assert order_from_json(order_to_json(placed)) == (placed, [])
    assert order_from_proto(order_to_proto(placed)) == placed
    assert "customerId" not in order_to_json(order(0))  # "" is not written
