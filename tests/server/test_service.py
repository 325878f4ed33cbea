"""Every RPC and error path through a real in-process server over real channels."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2, timestamp_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from omniroute.model import Network, Order, Policy, StockChange
from omniroute.planner import Planner
from omniroute.server import convert
from omniroute.server.client import OmnirouteClient
from omniroute.server.process import ServerConfig
from omniroute.v1 import (
    inventory_service_pb2,
    network_pb2,
    network_service_pb2,
    order_pb2,
    plan_pb2,
    routing_service_pb2,
)

from .conftest import ServerThread


def violations(error: grpc.RpcError) -> set[str]:
    """The field paths of the BadRequest in an INVALID_ARGUMENT error."""
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
    status = rpc_status.from_call(error)
    assert status is not None
    fields = set()
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            fields |= {v.field for v in bad.field_violations}
    return fields


def reason(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    raise AssertionError("no ErrorInfo")


def test_health_and_reflection(client: OmnirouteClient) -> None:
    """Health reports SERVING for the server and each service; reflection lists them."""
    for name in ("", "omniroute.v1.RoutingService", "omniroute.v1.NetworkService"):
        status = client.health.Check(health_pb2.HealthCheckRequest(service=name)).status
        assert status == health_pb2.HealthCheckResponse.SERVING
    stub = reflection_pb2_grpc.ServerReflectionStub(client.channel)
    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {
        "omniroute.v1.RoutingService",
        "omniroute.v1.InventoryService",
        "omniroute.v1.NetworkService",
        "grpc.health.v1.Health",
    } <= names


def test_plan_order_equals_offline_plan(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """Every named order gets, over gRPC, the plan and options the offline planner gives."""
    planner = Planner(tiny_network)
    for order in tiny_orders.values():
        for policy in (Policy.CHEAPEST, Policy.FASTEST, Policy.BASELINE):
            response = client.plan_order(order, policy=policy.value, include_options=True)
            offline = convert.result_to_proto(planner.plan(order, policy, options=True))
            assert response.plan == offline.plan, (order.id, policy)
            assert list(response.options) == list(offline.options)
            assert response.stats.proof == offline.stats.proof


def test_plan_with_explanation(client: OmnirouteClient, tiny_orders: dict[str, Order]) -> None:
    """include_explanation returns the alternatives."""
    response = client.plan_order(tiny_orders["coat-and-jeans"], include_explanation=True)
    assert {a.name for a in response.explanation.alternatives} == {"best single node", "baseline"}


def test_invalid_order_lists_every_violation(client: OmnirouteClient) -> None:
    """A bad order gets INVALID_ARGUMENT with one BadRequest naming each problem."""
    order = order_pb2.Order(
        id="",
        lines=[order_pb2.OrderLine(id="1", sku_id="NOPE", quantity=0)],
        destination=network_pb2.Location(latitude=100, longitude=0),
    )
    request = routing_service_pb2.PlanOrderRequest(order=order, policy=7)
    request.timeout.FromMilliseconds(-5)
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.PlanOrder(request)
    assert violations(caught.value) == {
        "order.id",
        "order.lines[0].skuId",
        "order.lines[0].quantity",
        "order.destination.latitude",
        "timeout",
        "policy",
    }


def test_oversized_requests_are_refused_at_once(client: OmnirouteClient) -> None:
    """100,000 lines, 20,000 orders or a 500-character request id: INVALID_ARGUMENT naming
    the field, before the server looks at the lines (their unknown SKUs are not reported)
    and with the stock untouched."""
    line = order_pb2.OrderLine(id="1", sku_id="NOPE", quantity=1)
    huge = order_pb2.Order(id="HUGE", lines=[line] * 100_000)
    calls = [
        (
            client.routing.PlanOrder,
            routing_service_pb2.PlanOrderRequest(order=huge, reserve=True, request_id="r" * 500),
            {"order.lines", "requestId"},
        ),
        (
            client.routing.PlanOrders,
            routing_service_pb2.PlanOrdersRequest(orders=[order_pb2.Order(id="A")] * 20_000),
            {"orders"},
        ),
        (
            client.routing.QuoteDelivery,
            routing_service_pb2.QuoteDeliveryRequest(lines=[line] * 5_000),
            {"lines"},
        ),
        (
            client.routing.CheckAvailability,
            routing_service_pb2.CheckAvailabilityRequest(sku_ids=["TEE"] * 5_000),
            {"skuIds"},
        ),
    ]
    before = client.get_stock(sku_ids=["TEE"], node_ids=["DC1"]).positions[0]
    for method, request, fields in calls:
        with pytest.raises(grpc.RpcError) as caught:
            method(request)
        assert violations(caught.value) == fields
    assert client.get_stock(sku_ids=["TEE"], node_ids=["DC1"]).positions[0] == before


def test_violations_are_bounded(client: OmnirouteClient) -> None:
    """Thousands of violations, or huge values quoted back, fit in one status: the details
    keep the first violations and say how many more there were; long ids are refused."""
    lines = [
        order_pb2.OrderLine(id=str(i), sku_id=f"NOPE-{i}-" + "x" * 200, quantity=1)
        for i in range(900)
    ]
    order = order_pb2.Order(id="o" * 300, lines=lines)
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.PlanOrder(routing_service_pb2.PlanOrderRequest(order=order))
    status = rpc_status.from_call(caught.value)
    assert status is not None and caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert bad.field_violations[0].field == "order.id"
    assert "longer than 256 characters" in bad.field_violations[0].description
    assert bad.field_violations[-1].description.startswith("and ")
    assert bad.ByteSize() < 5000 and all(len(v.description) <= 300 for v in bad.field_violations)


def test_hostile_values_are_invalid_arguments(client: OmnirouteClient) -> None:
    """What fuzzing found ending INTERNAL (or overflowing the trailers) now ends
    INVALID_ARGUMENT naming the field, or NOT_FOUND with the id cut short."""
    here = network_pb2.Location(latitude=-37.85, longitude=145.0)

    def order(quantity: int = 1, order_id: str = "o", **fields: object) -> order_pb2.Order:
        line = order_pb2.OrderLine(id="1", sku_id="TEE", quantity=quantity)
        return order_pb2.Order(id=order_id, destination=here, lines=[line], **fields)

    huge = order(2**31 - 1)
    timeout = duration_pb2.Duration(seconds=-(2**63))
    nan = float("nan")
    calls = [
        (
            client.routing.PlanOrder,
            routing_service_pb2.PlanOrderRequest(order=order(channel=99)),
            "order.channel",
        ),
        (
            client.routing.PlanOrder,
            routing_service_pb2.PlanOrderRequest(order=order(), timeout=timeout),
            "timeout",
        ),
        (
            client.routing.PlanOrder,
            routing_service_pb2.PlanOrderRequest(
                order=order(create_time=timestamp_pb2.Timestamp(seconds=2**62))
            ),
            "order.createTime",
        ),
        (
            client.routing.PlanOrders,
            routing_service_pb2.PlanOrdersRequest(orders=[huge, order(2**31 - 1, "p")]),
            "orders",
        ),
        (
            client.routing.CheckAvailability,
            routing_service_pb2.CheckAvailabilityRequest(
                sku_ids=["TEE"], location=network_pb2.Location(latitude=nan)
            ),
            "location.latitude",
        ),
        (
            client.routing.PlanReturn,
            routing_service_pb2.PlanReturnRequest(
                lines=[routing_service_pb2.ReturnLine(sku_id="TEE", quantity=1, condition=42)],
                origin=here,
                unit_value=float("inf"),
                request_id="r",
            ),
            "lines[0].condition",
        ),
        (
            client.inventory.ListStockPositions,
            inventory_service_pb2.ListStockPositionsRequest(filter="atp = 9223372036854775808"),
            "filter",
        ),
    ]
    for method, request, field in calls:
        with pytest.raises(grpc.RpcError) as caught:
            method(request)
        assert field in violations(caught.value), (field, caught.value)
    with pytest.raises(grpc.RpcError) as caught:
        client.inventory.GetReservation(
            inventory_service_pb2.GetReservationRequest(reservation_id="x" * 20_000)
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert len(caught.value.details()) < 400


def test_inline_networks_are_bounded(client: OmnirouteClient) -> None:
    nodes = [network_pb2.Node(id=f"N{i}") for i in range(50_001)]
    request = network_service_pb2.PutNetworkRequest(network=network_pb2.Network(nodes=nodes))
    with pytest.raises(grpc.RpcError) as caught:
        client.network.PutNetwork(request)
    assert violations(caught.value) == {"network.nodes"}


def test_missing_order(client: OmnirouteClient) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.PlanOrder(routing_service_pb2.PlanOrderRequest())
    assert violations(caught.value) == {"order"}


def test_validate_only_plans_nothing(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    request = OmnirouteClient.plan_request(tiny_orders["one-tee-melbourne"])
    request.validate_only = True
    response = client.routing.PlanOrder(request)
    assert response.order_id == "one-tee-melbourne" and not response.HasField("plan")


def test_reserve_needs_request_id(client: OmnirouteClient, tiny_orders: dict[str, Order]) -> None:
    request = OmnirouteClient.plan_request(tiny_orders["one-tee-melbourne"])
    request.reserve = True
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.PlanOrder(request)
    assert violations(caught.value) == {"requestId"}


def test_expired_deadline_is_deadline_exceeded(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    """A call whose deadline is already too short ends DEADLINE_EXCEEDED, promptly."""
    request = OmnirouteClient.plan_request(tiny_orders["coat-and-jeans"])
    start = time.perf_counter()
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.PlanOrder(request, timeout=0.0005)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.perf_counter() - start < 1.0


def test_inline_network(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """A request carrying its own network is planned against it, not the server's."""
    from dataclasses import replace

    network = replace(tiny_network, split_penalty=50.0)
    order = tiny_orders["coat-and-jeans"]
    response = client.plan_order(order, network=network)
    offline = convert.result_to_proto(Planner(network).plan(order))
    assert response.plan == offline.plan
    assert response.plan.split_penalty_cost == 50.0


def test_invalid_inline_network(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    message = convert.network_to_proto(tiny_network)
    message.nodes[0].location.latitude = 123
    request = OmnirouteClient.plan_request(tiny_orders["coat-and-jeans"])
    request.network.CopyFrom(message)
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.PlanOrder(request)
    assert violations(caught.value) == {"network.nodes[0].location.latitude"}


def test_stream_plan_orders(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """One response per request, in order; a bad request gets an error and the stream goes on."""
    orders = list(tiny_orders.values())
    bad = routing_service_pb2.PlanOrderRequest(order=order_pb2.Order(id="bad"))
    requests = (
        [OmnirouteClient.plan_request(o) for o in orders[:3]]
        + [bad]
        + [OmnirouteClient.plan_request(orders[3])]
    )
    responses = list(client.stream_plan_orders(requests))
    assert [r.order_id for r in responses] == [o.id for o in orders[:3]] + ["bad", orders[3].id]
    assert responses[3].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    planner = Planner(tiny_network)
    for response, order in zip(responses[:3], orders[:3], strict=True):
        assert not response.HasField("error")
        assert response.plan == convert.result_to_proto(planner.plan(order)).plan


def test_quote_delivery(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """A cart's delivery options are the options front of the offline planner."""
    order = tiny_orders["tee-twice"]
    request = routing_service_pb2.QuoteDeliveryRequest(
        lines=[
            order_pb2.OrderLine(sku_id=line.sku_id, quantity=line.quantity) for line in order.lines
        ],
        destination=network_pb2.Location(
            latitude=order.destination.latitude, longitude=order.destination.longitude
        ),
    )
    response = client.quote_delivery(request)
    offline = Planner(tiny_network).plan(order, options=True).options
    assert [(o.delivery_days, round(o.cost, 6)) for o in response.options] == [
        (p.delivery_days, round(p.total_cost, 6)) for p in offline
    ]
    assert len(response.options) >= 2


def test_quote_delivery_invalid(client: OmnirouteClient) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        client.quote_delivery(routing_service_pb2.QuoteDeliveryRequest())
    assert violations(caught.value) == {"lines", "destination"}


def test_check_availability(client: OmnirouteClient) -> None:
    """Save the sale: in this store, then pick-up stores within the radius, then delivery,
    each nearest first; a pick-up store beyond the radius (50 km by default) delivers."""
    from omniroute.v1.routing_service_pb2 import DELIVERY, IN_STORE, PICKUP

    melbourne = network_pb2.Location(latitude=-37.85, longitude=145.0)
    request = routing_service_pb2.CheckAvailabilityRequest(
        sku_ids=["TEE", "COAT"], location=melbourne
    )
    response = client.check_availability(request)
    # Geelong's store (ST1) is about 60 km away: too far to collect from by default
    assert [(n.node_id, n.fulfilment) for n in response.nodes] == [
        ("DC1", DELIVERY),
        ("ST1", DELIVERY),
        ("ST2", DELIVERY),
    ]
    dc = response.nodes[0]
    assert {s.sku_id: s.atp for s in dc.skus} == {"TEE": 10}
    assert dc.service_id == "PARCEL" and dc.cost > 0 and dc.delivery_days == 2
    assert dc.cost == round(dc.cost, 2) and dc.distance_km == round(dc.distance_km, 1)
    assert [o.delivery_days for o in response.delivery_options] == sorted(
        o.delivery_days for o in response.delivery_options
    )
    assert response.delivery_options  # ship-to-home prices for a tee and a coat
    wider = client.check_availability(
        routing_service_pb2.CheckAvailabilityRequest(
            sku_ids=["TEE", "COAT"], location=melbourne, max_pickup_distance_km=100
        )
    )
    assert [(n.node_id, n.fulfilment) for n in wider.nodes] == [
        ("ST1", PICKUP),
        ("DC1", DELIVERY),
        ("ST2", DELIVERY),
    ]
    from_store = client.check_availability(
        routing_service_pb2.CheckAvailabilityRequest(
            sku_ids=["COAT"],
            store_id="ST2",
            max_pickup_distance_km=0,  # any distance
        )
    )
    assert [(n.node_id, n.fulfilment) for n in from_store.nodes] == [
        ("ST2", IN_STORE),
        ("ST1", PICKUP),
    ]
    assert from_store.nodes[1].ready_days == 0 and not from_store.delivery_options
    capped = client.check_availability(
        routing_service_pb2.CheckAvailabilityRequest(
            sku_ids=["TEE", "COAT"], location=melbourne, max_nodes=1, max_pickup_distance_km=100
        )
    )  # one pick-up store and one delivery node: the cap never hides delivery
    assert [(n.node_id, n.fulfilment) for n in capped.nodes] == [
        ("ST1", PICKUP),
        ("DC1", DELIVERY),
    ]


def test_check_availability_invalid(client: OmnirouteClient) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        client.check_availability(
            routing_service_pb2.CheckAvailabilityRequest(sku_ids=["NOPE"], store_id="NOWHERE")
        )
    assert violations(caught.value) == {"skuIds[0]", "storeId"}
    with pytest.raises(grpc.RpcError) as caught:
        client.check_availability(
            routing_service_pb2.CheckAvailabilityRequest(
                sku_ids=["TEE"], store_id="ST1", max_pickup_distance_km=-1
            )
        )
    assert violations(caught.value) == {"maxPickupDistanceKm"}


def test_put_and_get_network(client: OmnirouteClient, tiny_network: Network) -> None:
    """A bad network changes nothing; a good one replaces the served network and stock."""
    message = convert.network_to_proto(tiny_network)
    message.skus[0].weight_kg = -1
    message.nodes[1].service_ids.append("NOPE")
    with pytest.raises(grpc.RpcError) as caught:
        client.put_network(message)
    assert violations(caught.value) == {
        "network.skus[0].weightKg",
        "network.nodes[1].serviceIds[2]",
    }
    assert client.get_network().skus[0].weight_kg == tiny_network.skus[0].weight_kg

    from dataclasses import replace

    smaller = replace(tiny_network, stock=tiny_network.stock[:2], split_penalty=3.0)
    assert client.put_network(smaller, validate_only=True).stock_positions == 2
    assert len(client.get_stock().positions) == len(tiny_network.stock)
    response = client.put_network(smaller)
    assert response.version == "2" and response.stock_positions == 2
    assert client.get_network().split_penalty == 3.0
    assert len(client.get_network(include_stock=True).stock) == 2
    assert len(client.get_stock().positions) == 2


def test_update_and_get_stock(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """Set and delta updates apply atomically, show in GetStock and in the next plan."""
    update = inventory_service_pb2.UpdateStockRequest(
        updates=[
            inventory_service_pb2.StockUpdate(node_id="DC1", sku_id="TEE", set_on_hand=0),
            inventory_service_pb2.StockUpdate(
                node_id="ST1", sku_id="TEE", delta_on_hand=5, safety_stock=0
            ),
        ]
    )
    positions = client.update_stock(update).positions
    assert [(p.node_id, p.on_hand, p.atp) for p in positions] == [("DC1", 0, 0), ("ST1", 8, 8)]
    stock = client.get_stock(sku_ids=["TEE"]).positions
    assert {(p.node_id, p.on_hand, p.safety_stock, p.reserved, p.atp) for p in stock} == {
        ("DC1", 0, 0, 0, 0),
        ("ST1", 8, 0, 0, 8),
    }
    plan = client.plan_order(tiny_orders["one-tee-melbourne"]).plan
    assert [s.node_id for s in plan.shipments] == ["ST1"]
    assert {p.node_id for p in client.get_stock(node_ids=["ST2"]).positions} == {"ST2"}


def test_bad_stock_update_changes_nothing(client: OmnirouteClient) -> None:
    before = client.get_stock().positions
    update = inventory_service_pb2.UpdateStockRequest(
        updates=[
            inventory_service_pb2.StockUpdate(node_id="DC1", sku_id="TEE", delta_on_hand=-100),
            inventory_service_pb2.StockUpdate(node_id="NOPE", sku_id="TEE", set_on_hand=1),
            inventory_service_pb2.StockUpdate(node_id="DC1", sku_id="TEE", set_on_hand=3),
        ]
    )
    with pytest.raises(grpc.RpcError) as caught:
        client.update_stock(update)
    assert violations(caught.value) == {"updates[0].deltaOnHand", "updates[1].nodeId"}
    assert client.get_stock().positions == before
    with pytest.raises(grpc.RpcError) as caught:
        client.get_stock(node_ids=["NOPE"])
    assert violations(caught.value) == {"nodeIds[0]"}


def test_stock_update_is_idempotent(client: OmnirouteClient) -> None:
    """A retried delta with the same requestId applies once; reuse with another payload fails."""
    update = inventory_service_pb2.UpdateStockRequest(
        request_id="r-1",
        updates=[inventory_service_pb2.StockUpdate(node_id="DC1", sku_id="JEANS", delta_on_hand=2)],
    )
    first = client.update_stock(update)
    second = client.update_stock(update)
    assert first == second
    assert client.get_stock(sku_ids=["JEANS"], node_ids=["DC1"]).positions[0].on_hand == 7
    update.updates[0].delta_on_hand = 3
    with pytest.raises(grpc.RpcError) as caught:
        client.update_stock(update)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason(caught.value) == "REQUEST_ID_REUSED"


class Searching:
    """A prepared order that needs a long search (so it is planned on the pool): ``hook``
    runs with the solve's budget before the real solve."""

    search_work = float("inf")

    def __init__(self, prepared, hook) -> None:
        self.prepared, self.hook = prepared, hook

    def solve(self, budget=None, explain=False):
        self.hook(budget)
        return self.prepared.solve(budget, explain)


def searching(prepare, hook):
    """``Planner.prepare`` whose orders all need a long search (see :class:`Searching`)."""
    return lambda *args, **kwargs: Searching(prepare(*args, **kwargs), hook)


def test_no_network_is_failed_precondition(tmp_path: Path, tiny_orders: dict[str, Order]) -> None:
    """A server on an empty store says so with FAILED_PRECONDITION / NO_NETWORK."""
    with (
        ServerThread(ServerConfig(db=str(tmp_path / "empty.db"), host="localhost", port=0)) as srv,
        OmnirouteClient(srv.target) as c,
    ):
        with pytest.raises(grpc.RpcError) as caught:
            c.plan_order(tiny_orders["one-tee-melbourne"])
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason(caught.value) == "NO_NETWORK"


def test_internal_errors_are_internal_not_unknown(
    server: ServerThread, client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    """An unexpected exception becomes INTERNAL with an incident id, never UNKNOWN."""
    planner = server.server.app.live.planner()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    original = planner.prepare
    planner.prepare = broken  # type: ignore[method-assign]
    try:
        with pytest.raises(grpc.RpcError) as caught:
            client.plan_order(tiny_orders["one-tee-melbourne"])
    finally:
        planner.prepare = original  # type: ignore[method-assign]
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "incident" in caught.value.details() and "boom" not in caught.value.details()
    assert reason(caught.value) == "INTERNAL_ERROR"


def test_overload_is_shed(db_path: Path, tiny_orders: dict[str, Order]) -> None:
    """Beyond the concurrent-call limit, calls fail at once with RESOURCE_EXHAUSTED."""
    config = ServerConfig(db=str(db_path), host="localhost", port=0, max_concurrent=1)
    with ServerThread(config) as srv, OmnirouteClient(srv.target, retries=0) as c:
        planner = srv.server.app.live.planner()
        planner.prepare = searching(planner.prepare, lambda budget: time.sleep(1.0))
        request = OmnirouteClient.plan_request(tiny_orders["one-tee-melbourne"])
        pending = c.routing.PlanOrder.future(request)
        time.sleep(0.2)
        start = time.perf_counter()
        with pytest.raises(grpc.RpcError) as caught:
            c.routing.PlanOrder(request)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert time.perf_counter() - start < 0.5
        assert pending.result().plan.status == plan_pb2.Plan.COMPLETE


def test_unproven_search_is_reported_feasible_with_gap(
    server: ServerThread, client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    """When the search stops before proving (its time limit), the best plan found comes back
    FEASIBLE with its gap, never claimed optimal; the request timeout reaches the search."""
    from dataclasses import replace as change

    from omniroute import cpsat, optimizer

    seen = []
    real_solve = cpsat.solve

    def stopped_early(*args, **kwargs):
        budget = args[4] if len(args) > 4 else kwargs["budget"]
        seen.append(budget.remaining())
        result = real_solve(*args, **kwargs)
        return change(result, optimal=False, bound_micros=result.cost_micros // 2)

    order = tiny_orders["coat-and-jeans"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimizer, "DP_STATE_LIMIT", 0)
        patch.setattr(optimizer.FrontSolver, "_branch", lambda self, j: None)
        patch.setattr(optimizer.FrontSolver, "_enumerate", lambda self, j: None)
        patch.setattr(cpsat, "solve", stopped_early)
        response = client.plan_order(order, solve_timeout=5.0)
    assert response.plan.status == plan_pb2.Plan.COMPLETE
    assert response.stats.proof == plan_pb2.PlanStats.FEASIBLE
    assert response.stats.HasField("gap") and 0 < response.stats.gap < 1
    assert response.plan.total_cost >= 32.6 - 1e-9
    assert seen and all(0 < s <= 5.0 for s in seen)
    assert response.stats.stopped_by == plan_pb2.PlanStats.STOP_REASON_UNSPECIFIED


def test_search_over_the_memory_bound_is_not_started(
    db_path: Path, tiny_orders: dict[str, Order]
) -> None:
    """`serve --solve-memory-mb`: a search whose model needs more memory than one solve may
    use is not started; the best plan known comes back FEASIBLE with its gap, stopped by
    MEMORY_LIMIT, rather than the process growing."""
    from omniroute import optimizer

    order = tiny_orders["coat-and-jeans"]
    config = ServerConfig(db=str(db_path), host="localhost", port=0, solve_memory_mb=1)
    with (
        pytest.MonkeyPatch.context() as patch,
        ServerThread(config) as srv,
        OmnirouteClient(srv.target, timeout=30) as c,
    ):
        patch.setattr(optimizer, "DP_STATE_LIMIT", 0)  # so that only CP-SAT can prove it
        patch.setattr(optimizer.FrontSolver, "_branch", lambda self, j: None)
        patch.setattr(optimizer.FrontSolver, "_enumerate", lambda self, j: None)
        response = c.plan_order(order)
    assert response.plan.status == plan_pb2.Plan.COMPLETE
    assert response.stats.proof == plan_pb2.PlanStats.FEASIBLE
    assert response.stats.stopped_by == plan_pb2.PlanStats.MEMORY_LIMIT
    assert response.stats.HasField("gap") and 0 <= response.stats.gap < 1
    assert response.stats.lower_bound <= response.plan.total_cost + 1e-9
    # the same order with the default bound is proven, and nothing stopped it
    default = ServerConfig(db=str(db_path), host="localhost", port=0)
    with ServerThread(default) as srv, OmnirouteClient(srv.target, timeout=30) as c:
        proven = c.plan_order(order)
    assert proven.stats.proof == plan_pb2.PlanStats.OPTIMAL
    assert proven.stats.stopped_by == plan_pb2.PlanStats.STOP_REASON_UNSPECIFIED
    assert proven.plan.total_cost <= response.plan.total_cost + 1e-9


def test_cancelled_call_cancels_the_solve(
    server: ServerThread, client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    """When the caller cancels, the solve's budget is cancelled (CP-SAT would stop)."""
    import threading

    planner = server.server.app.live.planner()
    seen = threading.Event()
    original = planner.prepare

    def waits_for_cancel(budget):
        for _ in range(500):
            if budget is not None and budget.cancelled:
                seen.set()
                break
            time.sleep(0.01)

    planner.prepare = searching(original, waits_for_cancel)
    try:
        call = client.routing.PlanOrder.future(
            OmnirouteClient.plan_request(tiny_orders["coat-and-jeans"])
        )
        time.sleep(0.2)
        call.cancel()
        assert seen.wait(5), "the budget was not cancelled"
    finally:
        planner.prepare = original  # type: ignore[method-assign]


def test_metrics_endpoint(client: OmnirouteClient, tiny_orders: dict[str, Order]) -> None:
    """/metrics has the conventional gRPC server metrics and the solver metrics."""
    import urllib.request

    from omniroute.server.metrics import serve_metrics
    from omniroute.server.process import free_port

    client.plan_order(tiny_orders["one-tee-melbourne"])
    port = free_port()
    serve_metrics(port, "localhost")
    text = urllib.request.urlopen(f"http://localhost:{port}/metrics", timeout=10).read().decode()
    assert 'grpc_server_handled_total{grpc_code="OK",grpc_method="PlanOrder"' in text
    assert "grpc_server_handling_seconds_bucket" in text
    assert "omniroute_plans_total" in text and "omniroute_solve_seconds_bucket" in text


def test_client_retries_unavailable(db_path: Path, tiny_orders: dict[str, Order]) -> None:
    """The client retries UNAVAILABLE until the server is up, and only that."""
    import threading

    from omniroute.server.process import free_port

    port = free_port()
    config = ServerConfig(db=str(db_path), host="localhost", port=port)
    holder: dict[str, ServerThread] = {}

    def start_later() -> None:
        time.sleep(0.3)
        holder["server"] = ServerThread(config).__enter__()

    starter = threading.Thread(target=start_later)
    starter.start()
    try:
        with OmnirouteClient(f"localhost:{port}", retries=8) as c:
            response = c.plan_order(tiny_orders["one-tee-melbourne"])
        assert response.plan.status == plan_pb2.Plan.COMPLETE
    finally:
        starter.join()
        holder["server"].__exit__()
    with (
        OmnirouteClient(f"localhost:{free_port()}", retries=1) as c,
        pytest.raises(grpc.RpcError) as caught,
    ):
        c.get_stock()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


# ----------------------------------------------------------------------------- reservations


def reserve_request(order: Order, request_id: str) -> routing_service_pb2.PlanOrderRequest:
    request = OmnirouteClient.plan_request(order)
    request.reserve = True
    request.request_id = request_id
    return request


def test_plan_and_reserve(client: OmnirouteClient, tiny_orders: dict[str, Order]) -> None:
    """reserve holds exactly the plan; commit ships it; GetReservation reports each state."""
    from omniroute.v1 import inventory_service_pb2 as inv

    response = client.routing.PlanOrder(reserve_request(tiny_orders["coat-and-jeans"], "req-1"))
    assert response.reservation_id
    held = {
        (s.node_id, line.sku_id): line.quantity for s in response.plan.shipments for line in s.lines
    }
    stock = {(p.node_id, p.sku_id): p for p in client.get_stock().positions}
    for key, quantity in held.items():
        assert stock[key].reserved == quantity
    reservation = client.inventory.GetReservation(
        inv.GetReservationRequest(reservation_id=response.reservation_id)
    )
    assert reservation.state == inv.Reservation.HELD and reservation.order_id == "coat-and-jeans"
    assert {(line.node_id, line.sku_id): line.quantity for line in reservation.lines} == held
    committed = client.inventory.CommitReservation(
        inv.CommitReservationRequest(reservation_id=response.reservation_id)
    )
    assert committed.state == inv.Reservation.COMMITTED
    after = {(p.node_id, p.sku_id): p for p in client.get_stock().positions}
    for key, quantity in held.items():
        assert after[key].reserved == 0 and after[key].on_hand == stock[key].on_hand - quantity
    with pytest.raises(grpc.RpcError) as caught:
        client.inventory.ReleaseReservation(
            inv.ReleaseReservationRequest(reservation_id=response.reservation_id)
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(caught.value) == "RESERVATION_COMMITTED"


def test_reserve_retry_returns_the_first_answer(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    """A retry with the same id holds nothing more; another request with it is refused."""
    request = reserve_request(tiny_orders["one-tee-melbourne"], "req-same")
    first = client.routing.PlanOrder(request)
    request.timeout.FromMilliseconds(2000)  # a longer timeout is still the same request
    second = client.routing.PlanOrder(request)
    assert first == second
    assert client.get_stock(sku_ids=["TEE"], node_ids=["DC1"]).positions[0].reserved == 1
    other = reserve_request(tiny_orders["tee-twice"], "req-same")
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.PlanOrder(other)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason(caught.value) == "REQUEST_ID_REUSED"


def test_release_and_unknown_reservation(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    from omniroute.v1 import inventory_service_pb2 as inv

    response = client.routing.PlanOrder(reserve_request(tiny_orders["one-tee-melbourne"], "req-r"))
    released = client.inventory.ReleaseReservation(
        inv.ReleaseReservationRequest(reservation_id=response.reservation_id)
    )
    assert released.state == inv.Reservation.RELEASED
    assert client.get_stock(sku_ids=["TEE"], node_ids=["DC1"]).positions[0].reserved == 0
    with pytest.raises(grpc.RpcError) as caught:
        client.inventory.GetReservation(inv.GetReservationRequest(reservation_id="R-unknown"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert reason(caught.value) == "RESERVATION_NOT_FOUND"
    with pytest.raises(grpc.RpcError) as caught:
        client.inventory.CommitReservation(inv.CommitReservationRequest())
    assert violations(caught.value) == {"reservationId"}


def test_reserve_is_aborted_when_stock_keeps_changing(
    server: ServerThread, client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    """If every hold finds ATP changed, the call ends ABORTED / STOCK_CHANGED."""
    from omniroute.ledger import Shortage

    reservations = server.server.ledger.reservations
    original = reservations.reserve

    def always_short(*args, **kwargs):
        raise Shortage([("DC1", "TEE", 1)])

    reservations.reserve = always_short  # type: ignore[method-assign]
    try:
        with pytest.raises(grpc.RpcError) as caught:
            client.routing.PlanOrder(reserve_request(tiny_orders["one-tee-melbourne"], "req-a"))
    finally:
        reservations.reserve = original  # type: ignore[method-assign]
    assert caught.value.code() == grpc.StatusCode.ABORTED
    assert reason(caught.value) == "STOCK_CHANGED"


def test_reserve_replans_on_fresh_stock(
    server: ServerThread, client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    """When the planned stock is taken between planning and holding, the order is re-planned."""
    ledger = server.server.ledger
    original = ledger.reservations.reserve
    calls = []

    def steal_first(*args, **kwargs):
        if not calls:  # another checkout takes DC1's tees just before our hold
            ledger.stock.update([StockChange("DC1", "TEE", set_on_hand=0)])
        calls.append(1)
        return original(*args, **kwargs)

    ledger.reservations.reserve = steal_first  # type: ignore[method-assign]
    try:
        response = client.routing.PlanOrder(
            reserve_request(tiny_orders["one-tee-melbourne"], "req-b")
        )
    finally:
        ledger.reservations.reserve = original  # type: ignore[method-assign]
    assert len(calls) == 2
    assert [s.node_id for s in response.plan.shipments] == ["ST1"] and response.reservation_id


def test_plan_orders_jointly(client: OmnirouteClient) -> None:
    """PlanOrders allocates a batch together: one response per order, totals and proof."""
    from omniroute.model import Location, OrderLine

    orders = [
        Order(f"b{i}", (OrderLine("1", "COAT", 1),), destination=Location(-38.15 + i * 0.3, 144.4))
        for i in range(3)
    ]
    request = routing_service_pb2.PlanOrdersRequest(
        orders=[convert.order_to_proto(o) for o in orders], unfilled_penalty=40.0
    )
    response = client.routing.PlanOrders(request)
    assert [r.order_id for r in response.responses] == ["b0", "b1", "b2"]
    assert response.lower_bound <= response.objective + 1e-9
    assert response.objective <= response.sequential_objective + 1e-9
    assert response.objective == pytest.approx(response.total_cost + 40.0 * response.units_unfilled)
    used: dict[tuple[str, str], int] = {}
    for r in response.responses:
        for s in r.plan.shipments:
            for line in s.lines:
                used[(s.node_id, line.sku_id)] = (
                    used.get((s.node_id, line.sku_id), 0) + line.quantity
                )
    atp = {(p.node_id, p.sku_id): p.atp for p in client.get_stock(sku_ids=["COAT"]).positions}
    assert all(units <= atp[key] for key, units in used.items())
    bad = routing_service_pb2.PlanOrdersRequest(
        orders=[order_pb2.Order(id="x")], unfilled_penalty=-1
    )
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.PlanOrders(bad)
    assert violations(caught.value) == {
        "orders[0].lines",
        "orders[0].destination",
        "unfilledPenalty",
    }


def test_micro_batching_allocates_concurrent_calls_jointly(db_path: Path) -> None:
    """With a batch window, concurrent calls for the last coats are allocated together: no
    two plans count on the same unit, and each says it was planned jointly."""
    from concurrent.futures import ThreadPoolExecutor

    from omniroute.model import Location, OrderLine

    config = ServerConfig(db=str(db_path), host="localhost", port=0, batch_window_ms=200)
    with ServerThread(config) as srv, OmnirouteClient(srv.target) as c:
        orders = [
            Order(f"c{i}", (OrderLine("1", "COAT", 1),), destination=Location(-38.1, 144.4))
            for i in range(4)
        ]  # three coats can ship (ST1 2, ST2 1)
        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(c.plan_order, orders))
    assert all(r.stats.method.startswith("joint/") for r in responses)
    used: dict[tuple[str, str], int] = {}
    for r in responses:
        for s in r.plan.shipments:
            used[(s.node_id, "COAT")] = used.get((s.node_id, "COAT"), 0) + s.units
    assert used.get(("ST1", "COAT"), 0) <= 2 and used.get(("ST2", "COAT"), 0) <= 1
    assert sum(r.plan.status == plan_pb2.Plan.COMPLETE for r in responses) == 3


def test_list_stock_positions_pages_and_filters(client: OmnirouteClient) -> None:
    """ListStockPositions walks every position page by page in node, SKU order; a filter
    keeps only matching positions and the total counts them all."""
    inventory = client.inventory
    everything = client.get_stock().positions
    seen, token = [], ""
    while True:
        page = inventory.ListStockPositions(
            inventory_service_pb2.ListStockPositionsRequest(page_size=3, page_token=token)
        )
        assert len(page.stock_positions) <= 3 and page.total_size == len(everything)
        seen += [(p.node_id, p.sku_id, p.atp) for p in page.stock_positions]
        token = page.next_page_token
        if not token:
            break
    assert seen == [(p.node_id, p.sku_id, p.atp) for p in everything]
    assert seen == sorted(seen)
    filtered = inventory.ListStockPositions(
        inventory_service_pb2.ListStockPositionsRequest(filter='sku_id = "COAT" AND atp > 0')
    )
    expected = [p.node_id for p in everything if p.sku_id == "COAT" and p.atp > 0]
    assert [p.node_id for p in filtered.stock_positions] == expected and expected
    assert filtered.total_size == len(expected) and not filtered.next_page_token


def test_list_stock_positions_rejects_bad_filters_and_tokens(client: OmnirouteClient) -> None:
    """A filter it cannot read, a negative page size and a token from another filter are
    INVALID_ARGUMENT, every problem listed."""
    inventory = client.inventory
    with pytest.raises(grpc.RpcError) as caught:
        inventory.ListStockPositions(
            inventory_service_pb2.ListStockPositionsRequest(
                page_size=-1, filter='colour = "red" AND atp > "x" AND on_hand ~ 3'
            )
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(caught.value) == {"pageSize", "filter"}
    first = inventory.ListStockPositions(
        inventory_service_pb2.ListStockPositionsRequest(page_size=1, filter="atp > 0")
    )
    assert first.next_page_token
    for token, filter_text in ((first.next_page_token, "atp > 1"), ("not-a-token", "atp > 0")):
        with pytest.raises(grpc.RpcError) as caught:
            inventory.ListStockPositions(
                inventory_service_pb2.ListStockPositionsRequest(
                    page_size=1, page_token=token, filter=filter_text
                )
            )
        assert violations(caught.value) == {"pageToken"}
