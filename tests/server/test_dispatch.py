"""One channel's PlanOrder calls planned by other worker processes (serve --dispatch): the
same answers, statuses and holds as in-process planning, deadlines kept, streams answered
in order, and a killed worker noticed and started again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from omniroute.ledger import open_ledger
from omniroute.model import Order
from omniroute.server.application import Application
from omniroute.server.client import OmnirouteClient
from omniroute.server.launch import serve_process
from omniroute.server.metrics import metrics
from omniroute.server.requests import Planners
from omniroute.server.routing_service import RoutingServicer
from omniroute.v1 import plan_pb2, routing_service_pb2, routing_service_pb2_grpc


@pytest.fixture(scope="module")
def always(
    tmp_path_factory: pytest.TempPathFactory, data_dir: Path, tiny_orders: dict[str, Order]
) -> Iterator[int]:
    """Two workers forwarding every PlanOrder to the other (``--dispatch always``)."""
    db = tmp_path_factory.mktemp("dispatch") / "d.db"
    with serve_process(
        "--db",
        str(db),
        "--network",
        str(data_dir / "tiny_network.json"),
        "--workers",
        "2",
        "--dispatch",
        "always",
        "--grace",
        "3",
        output=None,
        ready_timeout=60,
    ) as (process, port):
        wait_until_forwarding(port, tiny_orders["coat-and-jeans"])
        yield port


def wait_until_forwarding(port: int, order: Order) -> None:
    """Until the workers have connected to each other (a call is planned by a peer)."""
    deadline = time.monotonic() + 30
    with grpc.insecure_channel(f"localhost:{port}") as channel:
        stub = routing_service_pb2_grpc.RoutingServiceStub(channel)
        while time.monotonic() < deadline:
            _, metadata = plan(stub, OmnirouteClient.plan_request(order))
            if metadata["omniroute-served-by"] != metadata["omniroute-planned-by"]:
                time.sleep(1.0)  # the other worker connects at the same pace
                return
            time.sleep(0.05)
    raise AssertionError("the workers never forwarded a call")


def workers_of(serve: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == serve and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def plan(
    stub: routing_service_pb2_grpc.RoutingServiceStub,
    request: routing_service_pb2.PlanOrderRequest,
    timeout: float = 10.0,
) -> tuple[object, dict[str, str]]:
    """The response and (served-by, planned-by) process ids of one PlanOrder call."""
    response, call = stub.PlanOrder.with_call(request, timeout=timeout)
    metadata = dict(call.trailing_metadata())
    return response, metadata


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_one_channel_is_planned_by_another_worker(
    always: int, tiny_orders: dict[str, Order]
) -> None:
    """Calls on one channel are planned by a worker other than the one holding the
    connection, with the same plans as in-process planning gives."""
    with grpc.insecure_channel(f"localhost:{always}") as channel:
        stub = routing_service_pb2_grpc.RoutingServiceStub(channel)
        seen = set()
        for order in tiny_orders.values():
            response, metadata = plan(stub, OmnirouteClient.plan_request(order))
            served, planned = metadata["omniroute-served-by"], metadata["omniroute-planned-by"]
            assert served != planned
            assert parent_of(int(served)) == parent_of(int(planned))  # both workers of serve
            seen.add((served, planned))
            if order.id == "coat-and-jeans":
                assert response.plan.total_cost == pytest.approx(32.6)
        assert len(seen) == 1  # one connection, one front, one peer


def test_statuses_come_back_as_the_planning_worker_made_them(always: int) -> None:
    """A request the peer refuses: INVALID_ARGUMENT with its field violations."""
    with grpc.insecure_channel(f"localhost:{always}") as channel:
        stub = routing_service_pb2_grpc.RoutingServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.PlanOrder(routing_service_pb2.PlanOrderRequest(), timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(raised.value)
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert [v.field for v in bad.field_violations] == ["order"]


def test_a_deadline_bounds_the_forwarded_call(always: int, tiny_orders: dict[str, Order]) -> None:
    """A call whose deadline leaves no time to plan ends DEADLINE_EXCEEDED, never UNKNOWN,
    and the channel goes on serving."""
    request = OmnirouteClient.plan_request(tiny_orders["coat-and-jeans"])
    with grpc.insecure_channel(f"localhost:{always}") as channel:
        stub = routing_service_pb2_grpc.RoutingServiceStub(channel)
        plan(stub, request)  # connected
        codes = set()
        for _ in range(5):
            try:
                stub.PlanOrder(request, timeout=0.002)
                codes.add(grpc.StatusCode.OK)
            except grpc.RpcError as error:
                codes.add(error.code())
        assert codes <= {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.OK}
        assert grpc.StatusCode.DEADLINE_EXCEEDED in codes
        response, _ = plan(stub, request)
        assert response.plan.total_cost == pytest.approx(32.6)


def test_a_forwarded_reservation_is_held_once(always: int, tiny_orders: dict[str, Order]) -> None:
    """reserve through a peer holds in the shared ledger; a retry gets the same hold."""
    request = OmnirouteClient.plan_request(tiny_orders["coat-and-jeans"])
    request.reserve, request.request_id = True, "dispatch-hold-1"
    with OmnirouteClient(f"localhost:{always}") as client:
        first = client.routing.PlanOrder(request, timeout=10)
        again = client.routing.PlanOrder(request, timeout=10)
        assert first.reservation_id and again.reservation_id == first.reservation_id
        assert client.get_reservation(first.reservation_id).state == 1  # HELD


def test_a_stream_is_answered_in_order(always: int, tiny_orders: dict[str, Order]) -> None:
    """StreamPlanOrders through a peer: one answer per request, in request order, a bad
    request answered in place with its status."""
    orders = list(tiny_orders.values())
    requests = [OmnirouteClient.plan_request(orders[i % len(orders)]) for i in range(40)]
    requests.insert(17, routing_service_pb2.PlanOrderRequest())
    with grpc.insecure_channel(f"localhost:{always}") as channel:
        stub = routing_service_pb2_grpc.RoutingServiceStub(channel)
        answers = list(stub.StreamPlanOrders(iter(requests), timeout=30))
    assert [a.order_id for a in answers] == [r.order.id for r in requests]
    assert answers[17].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert all(not a.HasField("error") for i, a in enumerate(answers) if i != 17)


def test_a_killed_worker_is_noticed_and_started_again(
    tmp_path: Path, data_dir: Path, tiny_orders: dict[str, Order]
) -> None:
    """SIGKILL the worker planning a channel's calls: the calls go on (planned where they
    arrive) and serve starts a new worker, which plans them again."""
    request = OmnirouteClient.plan_request(tiny_orders["coat-and-jeans"])
    with (
        serve_process(
            "--db",
            str(tmp_path / "k.db"),
            "--network",
            str(data_dir / "tiny_network.json"),
            "--workers",
            "2",
            "--dispatch",
            "always",
            "--grace",
            "3",
            output=subprocess.DEVNULL,
            ready_timeout=60,
        ) as (process, port),
        grpc.insecure_channel(f"localhost:{port}") as channel,
    ):
        stub = routing_service_pb2_grpc.RoutingServiceStub(channel)
        wait_until_forwarding(port, tiny_orders["coat-and-jeans"])
        _, metadata = plan(stub, request)
        front, peer = int(metadata["omniroute-served-by"]), int(metadata["omniroute-planned-by"])
        assert front != peer
        os.kill(peer, signal.SIGKILL)
        planned = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            response, metadata = plan(stub, request)  # never fails
            assert response.plan.total_cost == pytest.approx(32.6)
            assert int(metadata["omniroute-served-by"]) == front
            planned.add(int(metadata["omniroute-planned-by"]))
            if planned - {front, peer}:
                break
            time.sleep(0.05)
        assert peer not in planned
        new = planned - {front, peer}
        assert new and new <= workers_of(process.pid)  # a new worker of serve plans them


def test_the_planning_worker_keeps_the_deadline_it_is_given(
    db_path: Path, tiny_orders: dict[str, Order]
) -> None:
    """The engine side plans within the deadline the front sends: none left is
    DEADLINE_EXCEEDED (reason DEADLINE_TOO_SHORT), time left is a plan."""
    ledger = open_ledger(db_path)
    app = Application(ledger, metrics())
    servicer = RoutingServicer(app, Planners(app))
    payload = OmnirouteClient.plan_request(tiny_orders["coat-and-jeans"]).SerializeToString()

    async def answer(deadline: float) -> tuple[bool, bytes]:
        started = servicer.plan_bytes(payload, deadline)  # at once, or to be awaited
        return started if isinstance(started, tuple) else await started

    async def both() -> tuple[tuple[bool, bytes], tuple[bool, bytes]]:
        late = await answer(time.monotonic() + 0.001)
        in_time = await answer(time.monotonic() + 10.0)
        return late, in_time

    try:
        (late_ok, late), (ok, answer) = asyncio.run(both())
    finally:
        app.close()
        ledger.close()
    assert not late_ok
    status = status_pb2.Status.FromString(late)
    assert status.code == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]
    assert "deadline" in status.message
    assert ok
    assert plan_pb2.PlanOrderResponse.FromString(answer).plan.total_cost == pytest.approx(32.6)


def test_a_lightly_loaded_server_plans_where_calls_arrive(
    tmp_path: Path, data_dir: Path, tiny_orders: dict[str, Order]
) -> None:
    """--dispatch on (the default) at a few calls a second: no call takes the extra hop."""
    request = OmnirouteClient.plan_request(tiny_orders["coat-and-jeans"])
    with (
        serve_process(
            "--db",
            str(tmp_path / "l.db"),
            "--network",
            str(data_dir / "tiny_network.json"),
            "--workers",
            "2",
            output=subprocess.DEVNULL,
            ready_timeout=60,
        ) as (_, port),
        grpc.insecure_channel(f"localhost:{port}") as channel,
    ):
        stub = routing_service_pb2_grpc.RoutingServiceStub(channel)
        time.sleep(1.0)  # the workers have connected to each other
        for _ in range(15):
            _, metadata = plan(stub, request)
            assert metadata["omniroute-served-by"] == metadata["omniroute-planned-by"]
            time.sleep(0.05)
