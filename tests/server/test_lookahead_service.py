"""Look-ahead routing through the API, on both ledger backends: a forecast put by
PutDemandForecast is stored in the ledger, the server prices its stock by it, and
PlanOrder routes by cost + θ·λ (or myopic when asked), the same plans as the engine
makes with the same opportunity costs; bad forecasts change nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from omniroute.files import forecast_from_json
from omniroute.ledger import open_ledger
from omniroute.lookahead import opportunity_costs
from omniroute.model import Location, Network, NodeKind, Order, OrderLine, PlanResult
from omniroute.planner import Planner
from omniroute.server.client import OmnirouteClient
from omniroute.server.convert import result_from_proto
from omniroute.server.process import ServerConfig

from .conftest import ServerThread
from .test_service import violations


@pytest.fixture()
def served(ledger_target: str, tiny_network: Network) -> Iterator[tuple[OmnirouteClient, str]]:
    ledger = open_ledger(ledger_target)
    ledger.put_network(tiny_network)
    ledger.close()
    config = ServerConfig(db=ledger_target, host="localhost", port=0, grace=1.0)
    with ServerThread(config) as running, OmnirouteClient(running.target, timeout=60) as client:
        yield client, ledger_target


def scarce_forecast(network: Network) -> dict:
    """Heavy demand for every SKU in two regions over five days: the stock is scarce. The
    first SKU also has wholesale demand that no store may serve and orders collected in a
    store (order classes of their own)."""
    stores = [n.id for n in network.nodes if n.kind is NodeKind.STORE]
    pickup = next(n.id for n in network.nodes if n.pickup)
    sku = network.skus[0].id
    classes = [
        {"regionId": "MEL", "skuId": sku, "channel": "WHOLESALE", "excludedNodeIds": stores,
         "unitsPerDay": 2},
        {"regionId": "MEL", "skuId": sku, "pickupStoreId": pickup, "unitsPerDay": 1},
    ]  # fmt: skip
    return {
        "horizonDays": 5,
        "regions": [
            {"id": "MEL", "centre": {"latitude": -37.81, "longitude": 144.96}},
            {"id": "SYD", "centre": {"latitude": -33.87, "longitude": 151.21}},
        ],
        "online": [
            {"regionId": region, "skuId": sku.id, "unitsPerDay": 4}
            for region in ("MEL", "SYD")
            for sku in network.skus
        ]
        + classes,
    }


def orders(network: Network) -> list[Order]:
    """One order per SKU, and one of every SKU, to Sydney and to Melbourne."""
    spots = {"syd": (-33.87, 151.21), "mel": (-37.81, 144.96)}
    out = []
    for name, (lat, lon) in spots.items():
        place = Location(lat, lon)
        for sku in network.skus:
            out.append(Order(f"{name}-{sku.id}", (OrderLine("1", sku.id, 1),), destination=place))
        lines = tuple(OrderLine(str(i), s.id, 1) for i, s in enumerate(network.skus))
        out.append(Order(f"{name}-all", lines, destination=place, allow_partial=True))
    return out


def engine_plans(network: Network, forecast: dict, theta: float) -> dict[str, PlanResult]:
    planner = Planner(network)
    model, problems = forecast_from_json(forecast, network)
    assert model is not None and problems == []
    prices = theta * opportunity_costs(planner.index, planner.inventory, model).matrix(
        planner.index
    )
    return {o.id: planner.plan(o, prices=prices) for o in orders(network)}


def route(result: PlanResult) -> list[tuple[str, str, tuple[tuple[str, int], ...]]]:
    return [
        (s.node_id, s.service_id, tuple((line.sku_id, line.quantity) for line in s.lines))
        for s in result.plan.shipments
    ]


def test_forecast_prices_plans_like_the_engine(served, tiny_network: Network) -> None:
    client, target = served
    forecast = scarce_forecast(tiny_network)
    put = client.put_demand_forecast(forecast, theta=1.5)
    assert put.version == "1" and put.theta == 1.5 and put.priced_positions > 0
    ledger = open_ledger(target)
    try:
        stored = ledger.forecasts.latest()
        assert stored is not None and stored.version == 1 and stored.theta == 1.5
        assert stored.forecast["online"][-2:] == forecast["online"][-2:]  # classes kept
    finally:
        ledger.close()
    expected = engine_plans(tiny_network, forecast, 1.5)
    myopic = {o.id: Planner(tiny_network).plan(o) for o in orders(tiny_network)}
    priced = 0
    for order in orders(tiny_network):
        ahead = result_from_proto(client.plan_order(order, routing="LOOKAHEAD"))
        assert ahead.stats.opportunity_costs_version.startswith("1.")
        assert route(ahead) == route(expected[order.id]), order.id
        assert ahead.plan.total_cost == pytest.approx(expected[order.id].plan.total_cost, abs=0.01)
        assert ahead.plan.opportunity_cost == pytest.approx(
            expected[order.id].plan.opportunity_cost, abs=0.01
        )
        priced += ahead.plan.opportunity_cost > 0
        auto = result_from_proto(client.plan_order(order))  # a forecast is in force
        assert route(auto) == route(ahead) and auto.stats.opportunity_costs_version
        plain = result_from_proto(client.plan_order(order, routing="MYOPIC"))
        assert route(plain) == route(myopic[order.id])
        assert plain.plan.opportunity_cost == 0 and plain.stats.opportunity_costs_version == ""
    assert priced >= 3  # the forecast prices the stock these orders use
    assert sum(route(expected[k]) != route(myopic[k]) for k in expected) >= 3  # and moves them
    # a reservation holds the look-ahead plan
    order = orders(tiny_network)[-1]
    held = client.reserve(order, routing="LOOKAHEAD")
    assert held.reservation_id
    assert route(result_from_proto(held)) == route(expected[order.id])


def test_bad_forecasts_change_nothing(served, tiny_network: Network) -> None:
    client, target = served
    bad = scarce_forecast(tiny_network)
    bad["horizonDays"] = 0
    bad["online"][0]["skuId"] = "NO-SUCH-SKU"
    bad["online"][1]["unitsPerDay"] = -2
    with pytest.raises(grpc.RpcError) as caught:
        client.put_demand_forecast(bad, theta=-1)
    fields = violations(caught.value)
    assert {"forecast.horizonDays", "forecast.online[0].skuId", "theta"} <= fields
    assert any(f.startswith("forecast.online[1]") for f in fields)
    # validate_only checks and stores nothing
    checked = client.put_demand_forecast(scarce_forecast(tiny_network), validate_only=True)
    assert checked.version == "" and checked.priced_positions == 0
    ledger = open_ledger(target)
    try:
        assert ledger.forecasts.version() == 0
    finally:
        ledger.close()
    order = orders(tiny_network)[0]
    with pytest.raises(grpc.RpcError) as caught:
        client.plan_order(order, routing="LOOKAHEAD")
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    status = rpc_status.from_call(caught.value)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert any(d.Unpack(info) for d in status.details) and info.reason == "NO_FORECAST"
    plain = result_from_proto(client.plan_order(order))  # no forecast: myopic
    assert plain.stats.opportunity_costs_version == "" and plain.plan.shipments
    # look-ahead prices the server's stock: not with an inline network
    with pytest.raises(grpc.RpcError) as caught:
        client.plan_order(order, network=replace(tiny_network), routing="LOOKAHEAD")
    assert violations(caught.value) == {"routing"}


def test_a_forecast_of_baskets_prices_from_baskets(served, tiny_network: Network) -> None:
    """A forecast with baskets (orders and their rates) is priced from them, θ 1 by
    default, and PlanOrder routes as the engine does with the same opportunity costs."""
    from omniroute.files import order_to_json

    client, _ = served
    forecast = scarce_forecast(tiny_network)
    forecast["baskets"] = [
        {"order": order_to_json(o), "ordersPerDay": 2} for o in orders(tiny_network)
    ]
    put = client.put_demand_forecast(forecast)
    assert put.theta == 1 and put.priced_positions > 0
    model, _ = forecast_from_json(forecast, tiny_network)
    assert model is not None and len(model.baskets) == len(orders(tiny_network))
    planner = Planner(tiny_network)
    costs = opportunity_costs(planner.index, planner.inventory, model)
    assert costs.model == "baskets" and costs.theta == 1
    assert put.priced_positions == len(costs.prices)
    expected = engine_plans(tiny_network, forecast, 1.0)
    for order in orders(tiny_network):
        ahead = result_from_proto(client.plan_order(order, routing="LOOKAHEAD"))
        assert route(ahead) == route(expected[order.id]), order.id
        assert ahead.plan.opportunity_cost == pytest.approx(
            expected[order.id].plan.opportunity_cost, abs=0.01
        )


def test_a_new_forecast_is_priced_in_the_background(served, tiny_network: Network) -> None:
    """A forecast put behind the server's back (another process, the CLI) is noticed: calls
    keep the prices in force, whole, until the new ones are ready, then report them."""
    client, target = served
    client.put_demand_forecast(scarce_forecast(tiny_network))
    order = orders(tiny_network)[-1]
    first = result_from_proto(client.plan_order(order))
    assert first.stats.opportunity_costs_version.startswith("1.")
    heavier = scarce_forecast(tiny_network)
    heavier["horizonDays"] = 20
    ledger = open_ledger(target)
    try:
        assert ledger.forecasts.put(heavier, 3.0) == 2
    finally:
        ledger.close()
    deadline = time.monotonic() + 30
    seen = set()
    while time.monotonic() < deadline:
        version = result_from_proto(client.plan_order(order)).stats.opportunity_costs_version
        seen.add(version.split(".")[0])
        if version.startswith("2."):
            break
        time.sleep(0.05)
    assert "2" in seen and seen <= {"1", "2"}
