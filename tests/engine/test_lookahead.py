"""Opportunity costs: λ is the LP's marginal value of a unit of stock, checked against the
optimal value of the same fluid model solved independently (scipy-free: by enumeration of
integer flows on a tiny instance), and forecasts estimated from history."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from omniroute.candidates import build_problem
from omniroute.files import forecast_from_json, forecast_to_json
from omniroute.joint_model import BatchModel, new_highs
from omniroute.lookahead import (
    Basket,
    DemandForecast,
    DemandRegion,
    OrderClass,
    default_lost_sale_cost,
    estimate_forecast,
    node_regions,
    opportunity_costs,
    unit_costs,
)
from omniroute.model import Channel, Location, Network, NodeKind, Order, OrderLine, StockPosition
from omniroute.network_index import Inventory, NetworkIndex
from omniroute.planner import Planner

PLAIN = OrderClass()  # web orders with no promise


def fluid_cost(costs: np.ndarray, atp: list[int], demand: list[int], lost: float) -> float:
    """The model's optimum for integer demand by enumerating integer flows (tiny sizes):
    with integer data the transportation LP has an integral optimum."""
    n, r = costs.shape
    best = np.inf
    choices = [range(d + 1) for d in demand for _ in range(n)]
    for flat in itertools.product(*choices):
        flow = np.array(flat).reshape(r, n).T  # flow[node, region]
        if (flow.sum(axis=0) > demand).any() or (flow.sum(axis=1) > atp).any():
            continue
        if (flow > 0)[~np.isfinite(costs)].any():
            continue
        shipped = float(
            sum(costs[i, j] * flow[i, j] for i in range(n) for j in range(r) if flow[i, j])
        )
        best = min(best, shipped + lost * (sum(demand) - int(flow.sum())))
    return best


@pytest.fixture
def setting(tiny_network: Network):
    index = NetworkIndex(tiny_network)
    sku = tiny_network.skus[0].id
    regions = (
        DemandRegion("MEL", Location(-37.81, 144.96)),
        DemandRegion("SYD", Location(-33.87, 151.21)),
    )
    return tiny_network, index, sku, regions


def test_lambda_is_the_cost_of_one_unit_less(setting) -> None:
    """With the expected demand (no sampling), λ(node) equals the increase of the model's
    optimal cost when the node has one unit less, for every stock level of two nodes,
    including the degenerate ones where stock meets demand (there an LP dual alone may be
    the smaller saving of one unit more)."""
    network, index, sku, regions = setting
    holders = [n.id for n in network.nodes][:2]
    lost = 200.0
    centres = np.array([[r.centre.latitude, r.centre.longitude] for r in regions])
    nodes = np.array([index.node_pos[h] for h in holders])
    costs = unit_costs(index, index.sku_pos[sku], nodes, centres)
    assert np.isfinite(costs).all()
    demand = [2, 1]
    forecast = DemandForecast(1.0, regions, {("MEL", sku, PLAIN): 2.0, ("SYD", sku, PLAIN): 1.0},
                              lost_sale_cost={sku: lost})  # fmt: skip
    checked = degenerate = 0
    for atp in itertools.product(range(4), repeat=2):
        stock = [p for p in network.stock if p.sku_id != sku]
        stock += [StockPosition(h, sku, a) for h, a in zip(holders, atp, strict=True) if a]
        inventory = Inventory(index, stock)
        prices = opportunity_costs(index, inventory, forecast, samples=0)
        base = fluid_cost(costs, list(atp), demand, lost)
        for i, holder in enumerate(holders):
            if atp[i] == 0:
                continue
            fewer = list(atp)
            fewer[i] -= 1
            more = list(atp)
            more[i] += 1
            left = fluid_cost(costs, fewer, demand, lost) - base  # cost of one unit less
            right = base - fluid_cost(costs, more, demand, lost)  # saving of one unit more
            value = prices.of(holder, sku)
            assert value == pytest.approx(left, abs=1e-6), (atp, holder, value, left, right)
            degenerate += left > right + 1e-6
            checked += 1
    assert checked > 10
    assert degenerate > 3  # the cases where "a dual" would not do


def basket_lp(model: BatchModel, row: int, stock: float) -> float:
    """The LP relaxation's optimum with one stock row's bound set to ``stock``."""
    highs = new_highs()
    model.load(highs, 60.0, relax=True)
    highs.changeRowBounds(row, -np.inf, stock)
    highs.run()
    return float(highs.getInfo().objective_function_value)


def test_basket_lambda_is_the_lp_slope_just_below_the_stock(setting) -> None:
    """λ from baskets (expected counts, no sampling) is the slope of the LP relaxation of
    joint allocation of the horizon's orders as a position's stock falls below its level:
    checked against that LP built independently, each order as many times as it comes
    (the basket model builds each once with its bounds scaled), for every stock level of
    two nodes, wherever the LP is linear over the last half unit."""
    network, index, sku, regions = setting
    other = network.skus[1].id
    holders = [n.id for n in network.nodes][:2]
    mel, syd = regions[0].centre, regions[1].centre
    a = Order("a", (OrderLine("1", sku, 1), OrderLine("2", other, 1)), destination=mel,
              allow_partial=True)  # fmt: skip
    b = Order("b", (OrderLine("1", sku, 2),), destination=syd, allow_partial=True)
    lost = 150.0
    forecast = DemandForecast(2.0, regions, {}, lost_sale_cost={sku: lost, other: lost},
                              baskets=(Basket(a, 1.0), Basket(b, 0.5)))  # fmt: skip
    checked = priced = 0
    for atp in itertools.product(range(4), repeat=2):
        stock = [p for p in network.stock if p.sku_id != sku]
        stock += [StockPosition(h, sku, n) for h, n in zip(holders, atp, strict=True) if n]
        inventory = Inventory(index, stock)
        prices = opportunity_costs(index, inventory, forecast, samples=0)
        problems = [build_problem(o, index, inventory) for o in (a, a, b)]  # 2 a's, 1 b
        model = BatchModel(problems, inventory, lost, {})
        first, positions = model.position_rows
        for i, holder in enumerate(holders):
            if atp[i] == 0:
                continue
            key = index.node_pos[holder] * len(index.sku_ids) + index.sku_pos[sku]
            row = first + int(np.flatnonzero(positions == key)[0])
            values = [basket_lp(model, row, atp[i] - d) for d in (0.0, 0.25, 0.5)]
            if abs((values[1] - values[0]) - (values[2] - values[1])) > 1e-6:
                continue  # a break within the last half unit: the slope is not one number
            slope = (values[1] - values[0]) / 0.25
            assert prices.of(holder, sku) == pytest.approx(min(max(slope, 0.0), lost),
                                                           abs=1e-6), (atp, holder)  # fmt: skip
            checked += 1
            priced += slope > 1e-6
    assert checked > 10
    assert priced > 3


def test_an_estimate_carries_its_orders_as_baskets(setting) -> None:
    """Each order of a history is a basket at its share of the span's orders per day; a
    biased forecast scales the baskets' rates too."""
    network, index, sku, regions = setting
    order = Order("a", (OrderLine("1", sku, 1),), destination=regions[0].centre,
                  allow_partial=True)  # fmt: skip
    forecast = estimate_forecast([order] * 10, index, regions, horizon_days=1, span_days=2)
    assert len(forecast.baskets) == 10 and forecast.baskets[0].rate == pytest.approx(0.5)
    assert forecast.over(2.0, 1.3).baskets[0].rate == pytest.approx(0.65)


@pytest.mark.parametrize("model", ["units", "baskets"])
def test_plentiful_stock_is_free_and_scarce_stock_is_dear(setting, model: str) -> None:
    """In both models: λ is 0 where stock is plentiful, above 0 and at most the lost-sale
    cost where it is scarce."""
    network, index, sku, regions = setting
    if model == "units":
        forecast = DemandForecast(10.0, regions,
                                  {("MEL", sku, PLAIN): 1.0, ("SYD", sku, PLAIN): 1.0})  # fmt: skip
    else:
        order = Order("a", (OrderLine("1", sku, 1),), destination=regions[0].centre,
                      allow_partial=True)  # fmt: skip
        forecast = estimate_forecast([order] * 10, index, regions, horizon_days=1, span_days=1)
    holder = network.nodes[0].id
    rest = [p for p in network.stock if p.sku_id != sku]
    plenty = opportunity_costs(index, Inventory(index, [*rest, StockPosition(holder, sku, 500)]),
                               forecast, samples=8)  # fmt: skip
    assert plenty.of(holder, sku) == 0.0 and plenty.model == model
    scarce = opportunity_costs(index, Inventory(index, [*rest, StockPosition(holder, sku, 3)]),
                               forecast, samples=8)  # fmt: skip
    lost = default_lost_sale_cost(index, regions, index.sku_pos[sku])
    assert 0.0 < scarce.of(holder, sku) <= lost


def test_estimate_spreads_sparse_skus_like_the_rest(setting) -> None:
    """A SKU seen once is not forecast only where it was seen: its split is shrunk toward
    the split of all demand; rates are units per day of the span."""
    network, index, sku, regions = setting
    other = network.skus[1].id
    mel, syd = regions[0].centre, regions[1].centre
    history = [Order(f"o{i}", (OrderLine("1", other, 1),), destination=mel) for i in range(30)]
    history += [Order(f"p{i}", (OrderLine("1", other, 1),), destination=syd) for i in range(10)]
    history.append(Order("x", (OrderLine("1", sku, 2),), destination=syd))
    forecast = estimate_forecast(history, index, regions, horizon_days=7, span_days=10)
    online = forecast.online
    assert online[("MEL", other, PLAIN)] + online[("SYD", other, PLAIN)] == pytest.approx(4.0)
    assert online[("MEL", sku, PLAIN)] + online[("SYD", sku, PLAIN)] == pytest.approx(0.2)
    assert online[("MEL", sku, PLAIN)] > 0  # never seen in Melbourne, still forecast there
    assert forecast.region_of(Location(-37.9, 145.1)) == "MEL"


def test_node_regions_cover_every_destination(tiny_network: Network) -> None:
    index = NetworkIndex(tiny_network)
    regions = node_regions(index)
    assert regions
    forecast = DemandForecast(1.0, tuple(regions), {})
    assert forecast.region_of(Location(-30.0, 140.0)) in {r.id for r in regions}
    assert replace(forecast, horizon_days=2.0).horizon_days == 2.0


def test_promised_demand_prices_only_the_nodes_that_keep_the_promise(setting) -> None:
    """Demand promised within a day can only come from a node that delivers within a day
    (DC1 by express to Melbourne; ST2, in Ballarat, ships by parcel in 3 days): DC1's last
    units are worth the lost sale less their shipping, ST2's are free. Without the promise,
    ST2's stock serves the demand too and is priced."""
    network, index, sku, regions = setting
    melbourne = regions[0]
    stock = [p for p in network.stock if p.sku_id != sku]
    stock += [StockPosition("DC1", sku, 2), StockPosition("ST2", sku, 2)]
    inventory = Inventory(index, stock)
    one = Order("q", (OrderLine("1", sku, 1),), destination=melbourne.centre, promise_days=1)
    problem = build_problem(one, index, inventory)
    assert {index.node_ids[n] for n in problem.nodes} == {"DC1"}
    shipping = Planner(replace(network, stock=tuple(stock))).plan(one).plan.total_cost
    promised = DemandForecast(1.0, regions, {(melbourne.id, sku, OrderClass(1)): 6.0},
                              lost_sale_cost={sku: 500.0})  # fmt: skip
    prices = opportunity_costs(index, inventory, promised, samples=0)
    assert prices.of("DC1", sku) == pytest.approx(500.0 - shipping)
    assert prices.of("ST2", sku) == 0.0
    plain = replace(promised, online={(melbourne.id, sku, PLAIN): 6.0})
    assert opportunity_costs(index, inventory, plain, samples=0).of("ST2", sku) > 0.0


def test_store_demand_prices_the_store_shelf(setting) -> None:
    """Walk-ins at a store take only its own shelf: scarce stock there is worth a lost sale.
    Orders collected in the store are online demand of a class of their own: its shelf hands
    them over, and other nodes ship to it, so its last unit is worth less than a lost sale.
    estimate_forecast counts walk-ins as store demand, and pick-up and other orders by
    (region, class)."""
    network, index, sku, regions = setting
    stock = [p for p in network.stock if p.sku_id != sku] + [StockPosition("ST1", sku, 1)]
    inventory = Inventory(index, stock)
    forecast = DemandForecast(2.0, regions, {}, store={("ST1", sku): 3.0},
                              lost_sale_cost={sku: 80.0})  # fmt: skip
    assert opportunity_costs(index, inventory, forecast, samples=0).of("ST1", sku) == 80.0
    collect = OrderClass(pickup_store_id="ST1")
    region = forecast.region_of(index.nodes[index.node_pos["ST1"]].location)
    more = Inventory(index, [*stock, StockPosition("DC1", sku, 10)])
    pickups = replace(forecast, online={(region, sku, collect): 3.0}, store={})
    value = opportunity_costs(index, more, pickups, samples=0).of("ST1", sku)
    assert 0.0 < value < 80.0  # what DC1 shipping to the store costs more than the hand-over
    walkin = Order("w", (OrderLine("1", sku, 3),), pickup_store_id="ST1")
    history = [
        Order("a", (OrderLine("1", sku, 2),), pickup_store_id="ST1"),
        Order("b", (OrderLine("1", sku, 1),), destination=regions[1].centre, promise_days=2),
    ]
    estimate = estimate_forecast(
        history, index, regions, 1.0, span_days=2.0, prior_units=0, walkins=[walkin]
    )
    assert estimate.store == {("ST1", sku): 1.5}
    assert estimate.online == {(region, sku, collect): 1.0,
                               (regions[1].id, sku, OrderClass(2)): 0.5}  # fmt: skip


def test_demand_that_excludes_stores_prices_only_the_other_nodes(setting) -> None:
    """Wholesale orders picked only in DCs (every store excluded, as the demo's are): their
    demand is worth a lost sale at DC1 and nothing at ST2, whose stock cannot serve it.
    Demand of the same region that any node may serve prices both. estimate_forecast keeps
    such orders in a class of their own, and the class survives the forecast's JSON."""
    network, index, sku, regions = setting
    melbourne = regions[0]
    stores = tuple(sorted(n.id for n in network.nodes if n.kind is NodeKind.STORE))
    stock = [p for p in network.stock if p.sku_id != sku]
    stock += [StockPosition("DC1", sku, 2), StockPosition("ST2", sku, 2)]
    inventory = Inventory(index, stock)
    wholesale = OrderClass(channel=Channel.WHOLESALE, excluded_node_ids=stores)
    demand = DemandForecast(1.0, regions, {(melbourne.id, sku, wholesale): 3.0},
                            lost_sale_cost={sku: 500.0})  # fmt: skip
    prices = opportunity_costs(index, inventory, demand, samples=0)
    assert prices.of("DC1", sku) > 400.0
    assert prices.of("ST2", sku) == 0.0
    anyone = replace(demand, online={(melbourne.id, sku, PLAIN): 5.0})
    assert opportunity_costs(index, inventory, anyone, samples=0).of("ST2", sku) > 0.0

    order = Order("w", (OrderLine("1", sku, 4),), destination=melbourne.centre,
                  channel=Channel.WHOLESALE, excluded_node_ids=tuple(reversed(stores)))  # fmt: skip
    web = Order("b", (OrderLine("1", sku, 1),), destination=melbourne.centre)
    estimate = estimate_forecast([order, web], index, regions, 1.0, span_days=1.0, prior_units=0)
    assert estimate.online == {(melbourne.id, sku, wholesale): 4.0, (melbourne.id, sku, PLAIN): 1.0}
    back, problems = forecast_from_json(forecast_to_json(estimate), network)
    assert problems == [] and back is not None
    assert dict(back.online) == dict(estimate.online)


def test_a_forecast_names_known_channels_profiles_and_nodes(setting) -> None:
    """An online entry's class is checked like an order's: every bad field is listed."""
    network, _, sku, _ = setting
    data = {
        "horizonDays": 1,
        "regions": [{"id": "MEL", "centre": {"latitude": -37.81, "longitude": 144.96}}],
        "online": [
            {"regionId": "MEL", "skuId": sku, "unitsPerDay": 1, "sourcingProfileId": "NOPE",
             "excludedNodeIds": ["DC1", "NOWHERE"]},
            {"regionId": "MEL", "skuId": sku, "unitsPerDay": 1, "channel": "WHOLESALE"},
            {"regionId": "MEL", "skuId": sku, "unitsPerDay": 2, "channel": "WHOLESALE"},
            {"regionId": "MEL", "skuId": sku, "unitsPerDay": 1, "pickupStoreId": "ST2"},
            {"regionId": "MEL", "skuId": sku, "unitsPerDay": 1, "pickupStoreId": "ST1"},
        ],
    }  # fmt: skip
    forecast, problems = forecast_from_json(data, network)
    assert forecast is None
    assert {p.field for p in problems} == {
        "online[0].sourcingProfileId",
        "online[0].excludedNodeIds[1]",
        "online[2]",
        "online[3].pickupStoreId",  # ST2 is no pick-up store; ST1 is
    }


def test_a_forecasts_baskets_round_trip_and_bad_ones_are_listed(setting) -> None:
    """Baskets survive the file format (proto3 JSON), price from baskets once read, and a
    basket whose order is not a valid order of the network, whose rate is negative, which
    repeats an id or is a walk-in without a store is refused with every problem listed."""
    network, index, sku, regions = setting
    other = network.skus[1].id
    a = Order("a", (OrderLine("1", sku, 1), OrderLine("2", other, 2)),
              destination=regions[0].centre, allow_partial=True)  # fmt: skip
    walkin = Order("w", (OrderLine("1", sku, 1),), pickup_store_id="ST1")
    forecast = DemandForecast(1.0, regions, {}, baskets=(Basket(a, 3.0), Basket(walkin, 0.5, True)))
    data = forecast_to_json(forecast)
    back, problems = forecast_from_json(data, network)
    assert problems == [] and back is not None and back.baskets == forecast.baskets
    rest = [p for p in network.stock if p.sku_id != sku]
    inventory = Inventory(index, [*rest, StockPosition(network.nodes[0].id, sku, 1)])
    assert opportunity_costs(index, inventory, back, samples=4).model == "baskets"
    bad = forecast_to_json(forecast)
    bad["baskets"] += [
        {"order": {"id": "a", "lines": [{"id": "1", "skuId": "NOPE", "quantity": 0}]},
         "ordersPerDay": -1},
        {"order": {"id": "v", "lines": [{"id": "1", "skuId": sku, "quantity": 1}],
                   "destination": {"latitude": -37.8, "longitude": 145.0}}, "walkIn": True},
        {"ordersPerDay": 1},
    ]  # fmt: skip
    refused, problems = forecast_from_json(bad, network)
    assert refused is None
    assert {p.field for p in problems} == {
        "baskets[2].order.lines[0].skuId",
        "baskets[2].order.lines[0].quantity",
        "baskets[2].order.id",  # the same id as baskets[0]
        "baskets[2].order.destination",  # none, and no pick-up store
        "baskets[2].ordersPerDay",
        "baskets[3].order.pickupStoreId",
        "baskets[4].order",
    }
