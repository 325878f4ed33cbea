"""Joint allocation: never worse than sequential routing, shared ATP and capacity respected,
lower bound never above the cost, optimal against brute force on tiny batches."""

from __future__ import annotations

import itertools
from dataclasses import replace

import brute_force as bf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniroute.cost import check_plan
from omniroute.joint import allocate
from omniroute.model import Location, Network, Order, OrderLine, PlanStatus
from omniroute.planner import Planner

from .test_optimizer import instances
from .test_packing import packed_instances

PENALTY = 40.0


def order(
    order_id: str, sku: str, quantity: int, lat: float, lon: float, partial: bool = False
) -> Order:
    return Order(
        order_id,
        (OrderLine("1", sku, quantity),),
        destination=Location(lat, lon),
        allow_partial=partial,
    )


def check_batch(network: Network, orders: list[Order], result, capacity: dict[str, int]) -> None:
    """Each plan is feasible alone; together they respect shared ATP and capacity."""
    atp = Planner(network).inventory.atp_map()
    used: dict[tuple[str, str], int] = {}
    shipments: dict[str, int] = {}
    for o, plan in zip(orders, result.plans, strict=True):
        problems = check_plan(o, network, plan, atp)
        assert problems == [] or problems == [
            "partial plan for an order that does not allow partial"
        ]
        for s in plan.shipments:
            shipments[s.node_id] = shipments.get(s.node_id, 0) + 1
            for line in s.lines:
                used[(s.node_id, line.sku_id)] = (
                    used.get((s.node_id, line.sku_id), 0) + line.quantity
                )
    for key, units in used.items():
        assert units <= atp.get(key, 0), key
    for node, count in shipments.items():
        assert count <= capacity.get(node, 10**9), node
    assert result.lower_bound <= result.objective + 1e-6
    assert result.objective <= result.sequential_objective + 1e-6


def test_joint_beats_myopic_routing(tiny_network: Network) -> None:
    """Geelong's two coats: the first (Melbourne) order takes one greedily; jointly the
    Geelong-area orders get the Geelong coats and Melbourne the Ballarat coat."""
    orders = [
        order("melbourne", "COAT", 1, -37.85, 145.0),
        order("geelong-a", "COAT", 1, -38.15, 144.36),
        order("geelong-b", "COAT", 1, -38.14, 144.35),
    ]
    planner = Planner(tiny_network)
    result = allocate(orders, planner, unfilled_penalty=PENALTY)
    check_batch(tiny_network, orders, result, {})
    assert result.proven and result.gap == pytest.approx(0.0, abs=1e-9)
    assert all(p.status is PlanStatus.COMPLETE for p in result.plans)


def test_capacity_is_shared(tiny_network: Network) -> None:
    """With one shipment left at DC1, only one of two tee orders ships from it."""
    orders = [order("a", "TEE", 1, -37.85, 145.0), order("b", "TEE", 1, -37.86, 145.01)]
    result = allocate(orders, Planner(tiny_network), PENALTY, capacity={"DC1": 1})
    check_batch(tiny_network, orders, result, {"DC1": 1})
    assert sum(s.node_id == "DC1" for p in result.plans for s in p.shipments) == 1


def test_unfilled_penalty_trade_off(tiny_network: Network) -> None:
    """A tiny penalty leaves a partial order's expensive units unfilled; a large one ships them."""
    o = [order("p", "COAT", 3, -37.85, 145.0, partial=True)]
    cheap = allocate(o, Planner(tiny_network), unfilled_penalty=1.0)
    dear = allocate(o, Planner(tiny_network), unfilled_penalty=1000.0)
    assert cheap.units_unfilled == 3 and cheap.total_cost == 0.0
    assert dear.units_unfilled == 0


def second_order(network: Network, b: Order) -> Order:
    """Another instance's order as the second order on ``network``: id "b", its lines on
    the network's first SKU, no excluded nodes, no pick-up."""
    return replace(
        b,
        id="b",
        lines=tuple(replace(line, sku_id=network.skus[0].id) for line in b.lines),
        excluded_node_ids=(),
        pickup_store_id="",
    )


def brute_joint(
    network: Network,
    orders: list[Order],
    penalty: float,
    prices: dict[tuple[str, str], float] | None = None,
) -> float:
    """The best objective over every combination of per-order plans (and nothing); with
    ``prices``, each unit also costs its stock position's price."""
    atp = Planner(network).inventory.atp_map()
    prices = prices or {}
    capacity = {n.id: n.daily_shipment_capacity for n in network.nodes if n.daily_shipment_capacity}
    per_order = []
    for o in orders:
        need = sum(line.quantity for line in o.lines)
        plans = [p for p in bf.all_plans(o, network, atp) if o.allow_partial or p.units == need]
        per_order.append(
            [(penalty * need, (), ())]
            + [
                (
                    p.cost
                    + penalty * (need - p.units)
                    + sum(q * prices.get((n, s), 0.0) for n, s, q in p.usage),
                    p.usage,
                    p.nodes,
                )
                for p in plans
                if p.units
            ]
        )
    best = float("inf")
    for combo in itertools.product(*per_order):
        used: dict[tuple[str, str], int] = {}
        ships: dict[str, int] = {}
        for _, usage, nodes in combo:
            for n, s, q in usage:
                used[(n, s)] = used.get((n, s), 0) + q
            for n in nodes:
                ships[n] = ships.get(n, 0) + 1
        if all(q <= atp.get(k, 0) for k, q in used.items()) and all(
            c <= capacity.get(n, 10**9) for n, c in ships.items()
        ):
            best = min(best, sum(c[0] for c in combo))
    return best


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(instances(), instances(), st.sampled_from([0, 1, 2]))
def test_joint_matches_brute_force(first, second, capacity: int) -> None:
    """Two orders on one tiny network (the first instance's), with a capacity at one node:
    a proven joint allocation has the brute-force optimum."""
    network, a = first
    _, b = second
    b = second_order(network, b)
    if capacity:
        nodes = list(network.nodes)
        nodes[0] = replace(nodes[0], daily_shipment_capacity=capacity)
        network = replace(network, nodes=tuple(nodes))
    orders = [a, b]
    result = allocate(orders, Planner(network), unfilled_penalty=PENALTY, time_limit=20)
    limits = {n.id: n.daily_shipment_capacity for n in network.nodes if n.daily_shipment_capacity}
    check_batch(network, orders, result, limits)
    if result.proven:
        assert result.objective == pytest.approx(brute_joint(network, orders, PENALTY), abs=1e-6)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(instances(), instances(), st.integers(0, 2**31 - 1))
def test_priced_joint_matches_brute_force(first, second, seed: int) -> None:
    """With a price per unit of stock (look-ahead's opportunity costs), a proven joint
    allocation minimises cost + penalty + prices, as brute force does, and reports the
    prices of its plans apart from their cost."""
    network, a = first
    _, b = second
    b = second_order(network, b)
    planner = Planner(network)
    index = planner.index
    rng = np.random.default_rng(seed)
    prices = rng.choice([0.0, 0.0, 3.0, 25.0], size=(len(index.node_ids), len(index.sku_ids)))
    orders = [a, b]
    result = allocate(orders, planner, unfilled_penalty=PENALTY, time_limit=20, prices=prices)
    check_batch(network, orders, result, {})
    used = sum(
        line.quantity * prices[index.node_pos[s.node_id], index.sku_pos[line.sku_id]]
        for plan in result.plans
        for s in plan.shipments
        for line in s.lines
    )
    assert result.opportunity_cost == pytest.approx(used)
    unfilled = PENALTY * result.units_unfilled
    assert result.objective == pytest.approx(result.total_cost + unfilled + used)
    if result.proven:
        by_position = {
            (n, s): float(prices[index.node_pos[n], index.sku_pos[s]])
            for n in index.node_ids
            for s in index.sku_ids
        }
        brute = brute_joint(network, orders, PENALTY, by_position)
        assert result.objective == pytest.approx(brute, abs=1e-6)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(packed_instances(), packed_instances())
def test_joint_with_ship_alone_and_groups_matches_brute_force(first, second) -> None:
    """Two orders with ship-together groups and ship-alone SKUs on one tiny network: the
    joint model keeps groups whole and counts ship-alone parcels, so a proven joint
    allocation has the brute-force optimum."""
    network, a = first
    _, b = second
    b = second_order(network, b)
    orders = [a, b]
    result = allocate(orders, Planner(network), unfilled_penalty=PENALTY, time_limit=20)
    check_batch(network, orders, result, {})
    if result.proven:
        assert result.objective == pytest.approx(brute_joint(network, orders, PENALTY), abs=1e-6)


@pytest.mark.parametrize("mode", ["allocate", "sequential", "batch"])
def test_dated_orders_share_each_day_of_capacity(
    tiny_network: Network, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DC1 ships 2 a day (Melbourne, weekdays): three dated tee orders of Monday morning
    get at most two DC1 shipments on any day, and none is left unshipped: one ships on
    Tuesday or from elsewhere; allocation, sequential replays and batch replays alike."""
    from datetime import date

    from omniroute import scenario
    from omniroute.scenario import ReplayMode
    from tests.server.test_dated_service import dated

    nodes = tuple(
        replace(n, daily_shipment_capacity=2) if n.id == "DC1" else n for n in tiny_network.nodes
    )
    network = dated(replace(tiny_network, nodes=nodes))
    orders = [
        replace(order(f"t{i}", "TEE", 1, -37.85, 145.0), create_time=f"2026-12-07T00:0{i}:00Z")
        for i in range(3)
    ]
    planner = Planner(network)
    if mode == "allocate":
        plans = list(allocate(orders, planner, unfilled_penalty=PENALTY).plans)
    else:
        plans = []  # the replay's plans, as its outcomes are made from them
        outcome = scenario._outcome

        def keep(order: Order, plan, nodes):  # type: ignore[no-untyped-def]
            plans.append(plan)
            return outcome(order, plan, nodes)

        monkeypatch.setattr(scenario, "_outcome", keep)
        planner.replay(orders, mode=ReplayMode[mode.upper()])
    assert all(p.status is PlanStatus.COMPLETE for p in plans)
    per_day: dict[tuple[str, date], int] = {}
    for plan in plans:
        for s in plan.shipments:
            assert s.ship_date is not None
            per_day[(s.node_id, s.ship_date)] = per_day.get((s.node_id, s.ship_date), 0) + 1
    assert max(c for (n, _), c in per_day.items() if n == "DC1") <= 2
    assert per_day != {("DC1", date(2026, 12, 7)): 3}


def test_dated_batch_that_cannot_fill_a_day_is_proven(tiny_network: Network) -> None:
    """With room for every order on every day, no allocation meets a full day: the dated
    batch is solved and proven as without capacities (the same plans and objective as the
    undated batch); with DC1's room below the orders that could ship from it that day, it
    is reported with the bound of each order alone, not as proven."""
    from tests.server.test_dated_service import dated

    def batch(capacity: int) -> tuple[Network, list[Order]]:
        nodes = tuple(
            replace(n, daily_shipment_capacity=capacity) if n.id == "DC1" else n
            for n in tiny_network.nodes
        )
        network = dated(replace(tiny_network, nodes=nodes))
        orders = [
            replace(order(f"t{i}", "TEE", 1, -37.85, 145.0), create_time=f"2026-12-07T00:0{i}:00Z")
            for i in range(3)
        ]
        return network, orders

    network, orders = batch(3)  # room for all three on Monday
    roomy = allocate(orders, Planner(network), unfilled_penalty=PENALTY)
    assert roomy.proven and roomy.lower_bound == pytest.approx(roomy.objective, abs=1e-6)
    check_batch(network, orders, roomy, {})
    network, orders = batch(2)  # three could ship from DC1 on Monday, room for two
    tight = allocate(orders, Planner(network), unfilled_penalty=PENALTY)
    assert not tight.proven and tight.lower_bound <= tight.objective + 1e-6
