"""The optimiser against brute force: cheapest, fastest and the options front, proven."""

from __future__ import annotations

import os
from collections.abc import Callable

import brute_force as bf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniroute import optimizer
from omniroute.cost import check_plan
from omniroute.geo import distance_km
from omniroute.model import (
    CarrierService,
    Location,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    Plan,
    PlanStatus,
    Policy,
    Proof,
    Sku,
    StockPosition,
    Zone,
)
from omniroute.planner import Planner

TOL = 1e-6


def check_against_brute_force(
    network: Network,
    order: Order,
    dated: bf.DatedLanes | None = None,
    check: Callable[[Plan], None] = lambda plan: None,
    prices: np.ndarray | None = None,
) -> None:
    """CHEAPEST, FASTEST and the options equal brute force; plans are feasible and proven.
    ``dated``: the lane days of a dated order for brute force; ``check``: more to check of
    every plan returned; ``prices``: look-ahead prices per unit ((nodes, SKUs) in the
    index's order), which every plan's objective (cost + prices) then minimises."""
    planner = Planner(network)
    atp = planner.inventory.atp_map()
    plans = bf.all_plans(order, network, atp, dated)
    if prices is not None:
        index = planner.index
        plans = bf.priced(plans, lambda n, s: prices[index.node_pos[n], index.sku_pos[s]])
    complete = bf.complete(order, plans)

    cheapest = planner.plan(order, Policy.CHEAPEST, options=True, prices=prices)
    assert check_plan(order, network, cheapest.plan, atp) == []
    check(cheapest.plan)
    assert cheapest.stats.proof is Proof.OPTIMAL
    expected = bf.cheapest(complete)
    if expected is None:
        assert cheapest.plan.status is not PlanStatus.COMPLETE
        assert cheapest.options == ()
    else:
        plan = cheapest.plan
        got = (plan.objective, plan.delivery_days, len(plan.shipments))
        assert got[0] == pytest.approx(expected[0], abs=TOL), (got, expected)
        assert got[1:] == expected[1:], (got, expected)
        front = [(p.delivery_days, p.objective) for p in cheapest.options]
        assert [d for d, _ in front] == [d for d, _ in bf.front(complete)]
        assert [c for _, c in front] == pytest.approx([c for _, c in bf.front(complete)], abs=TOL)
        for option in cheapest.options:
            assert check_plan(order, network, option, atp) == []
            check(option)
        # CHEAPEST without the options (the default path: the largest cap first, then only
        # whether a plan as cheap arrives faster) finds the same plan
        plain = planner.plan(order, Policy.CHEAPEST, prices=prices)
        assert plain.stats.proof is Proof.OPTIMAL
        assert check_plan(order, network, plain.plan, atp) == []
        check(plain.plan)
        got = (plain.plan.objective, plain.plan.delivery_days, len(plain.plan.shipments))
        assert got[0] == pytest.approx(expected[0], abs=TOL), (got, expected)
        assert got[1:] == expected[1:], (got, expected)

    fastest = planner.plan(order, Policy.FASTEST, prices=prices)
    assert check_plan(order, network, fastest.plan, atp) == []
    check(fastest.plan)
    expected_fast = bf.fastest(complete)
    if expected_fast is not None:
        assert fastest.plan.delivery_days == expected_fast[0]
        assert fastest.plan.objective == pytest.approx(expected_fast[1], abs=TOL)

    if expected is None and order.allow_partial:  # the most units, then the least cost
        most = max((p.units for p in plans), default=0)
        best = min((p.cost for p in plans if p.units == most), default=0.0)
        assert cheapest.plan.units == most
        assert cheapest.plan.objective == pytest.approx(best, abs=TOL)
        if most:  # FASTEST: the most units, then the fewest days, then the least cost
            days = min(p.days for p in plans if p.units == most)
            quickest = min(p.cost for p in plans if p.units == most and p.days == days)
            assert fastest.plan.units == most
            assert fastest.plan.delivery_days == days
            assert fastest.plan.objective == pytest.approx(quickest, abs=TOL)

    baseline = planner.plan(order, Policy.BASELINE).plan
    if baseline.status is PlanStatus.COMPLETE and prices is None:
        assert cheapest.plan.total_cost <= baseline.total_cost + TOL


# ----------------------------------------------------------------------------- named instances


def test_named_orders_match_brute_force(
    tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """Every named order of the tiny network is planned exactly as brute force says."""
    for order in tiny_orders.values():
        check_against_brute_force(tiny_network, order)


def test_split_beats_single_node(tiny_network: Network, tiny_orders: dict[str, Order]) -> None:
    """No node holds a coat and four jeans: the optimum splits, and says it is proven."""
    result = Planner(tiny_network).plan(tiny_orders["coat-and-jeans"])
    assert result.plan.status is PlanStatus.COMPLETE and len(result.plan.shipments) == 2
    assert result.stats.proof is Proof.OPTIMAL and result.stats.gap == 0.0


def test_pickup_from_own_stock_has_no_carrier(tiny_network: Network) -> None:
    """A pick-up order the store can fill is handed over there: no carrier cost."""
    order = Order("p", (OrderLine("1", "TEE", 2),), pickup_store_id="ST1")
    plan = Planner(tiny_network).plan(order).plan
    assert [(s.node_id, s.service_id, s.breakdown.carrier_parcels) for s in plan.shipments] == [
        ("ST1", "", 0.0)
    ]


def test_same_input_same_plan(tiny_network: Network, tiny_orders: dict[str, Order]) -> None:
    """Planning twice gives identical plans."""
    a, b = Planner(tiny_network), Planner(tiny_network)
    for order in tiny_orders.values():
        assert a.plan(order, options=True).plan == b.plan(order, options=True).plan


# ----------------------------------------------------------------------------- random instances

CENTRE = (-37.8, 145.0)


@st.composite
def instances(draw: st.DrawFn) -> tuple[Network, Order]:
    """Tiny networks that exercise the contract's edges, and one order for each.

    Zone edges sit exactly on node distances, parcel limits are small enough to need
    several parcels, and stock is thin enough that many orders must split.
    """
    n_nodes = draw(st.integers(2, 4))
    n_skus = draw(st.integers(1, 3))
    spots = [
        Location(CENTRE[0] + draw(st.floats(-1.2, 1.2)), CENTRE[1] + draw(st.floats(-1.2, 1.2)))
        for _ in range(n_nodes)
    ]
    destination = Location(CENTRE[0] + draw(st.floats(-1, 1)), CENTRE[1] + draw(st.floats(-1, 1)))
    distances = [
        distance_km(p.latitude, p.longitude, destination.latitude, destination.longitude)
        for p in spots
    ]
    services = []
    for s in range(draw(st.integers(1, 3))):
        edges = set(
            draw(
                st.lists(
                    st.one_of(st.sampled_from(distances), st.floats(5, 300)), min_size=0, max_size=2
                )
            )
        )
        edges.add(400.0)  # the last zone reaches every node
        zones = tuple(
            Zone(edge, draw(st.floats(1, 20)), draw(st.floats(0, 3)), draw(st.integers(0, 4)))
            for edge in sorted(edges)
        )
        parcel = draw(st.sampled_from([0.0, 0.5, 1.0, 2.5]))
        services.append(CarrierService(f"S{s}", "C", "svc", parcel, zones))
    service_ids = [s.id for s in services]
    nodes = []
    for i, spot in enumerate(spots):
        offered = tuple(
            draw(st.lists(st.sampled_from(service_ids), unique=True, min_size=1, max_size=3))
        )
        kind = draw(st.sampled_from([NodeKind.DC, NodeKind.STORE]))
        nodes.append(
            Node(
                f"N{i}",
                kind,
                spot,
                draw(st.floats(0, 6)),
                draw(st.floats(0, 2)),
                draw(st.integers(0, 2)),
                offered,
                pickup=kind is NodeKind.STORE,
                disabled=draw(st.integers(0, 9)) == 9,
            )
        )
    skus = [Sku(f"K{k}", draw(st.sampled_from([0.1, 0.3, 0.7, 1.2, 2.0]))) for k in range(n_skus)]
    stock = []
    for node in nodes:
        for sku in skus:
            if draw(st.integers(0, 3)) < 3:
                stock.append(
                    StockPosition(
                        node.id,
                        sku.id,
                        draw(st.sampled_from([1, 2, 0, 3, 5])),
                        draw(st.sampled_from([0, 0, 1])),
                    )
                )
    network = Network(
        tuple(nodes),
        tuple(services),
        tuple(skus),
        tuple(stock),
        split_penalty=draw(st.sampled_from([0.0, 1.5, 4.0])),
    )
    lines = tuple(
        OrderLine(
            str(j), draw(st.sampled_from([s.id for s in skus])), draw(st.sampled_from([2, 1, 3]))
        )
        for j in range(draw(st.integers(1, 3)))
    )
    stores = [n.id for n in nodes if n.pickup and not n.disabled]
    pickup = draw(st.sampled_from(stores)) if stores and draw(st.integers(0, 4)) == 4 else ""
    excluded = (
        (draw(st.sampled_from([n.id for n in nodes])),) if draw(st.integers(0, 5)) == 5 else ()
    )
    order = Order(
        "o",
        lines,
        destination=destination,
        promise_days=draw(st.sampled_from([0, 0, 0, 2, 3, 5])),
        max_shipments=draw(st.sampled_from([0, 0, 0, 1, 2])),
        excluded_node_ids=excluded,
        allow_partial=draw(st.booleans()),
        pickup_store_id=pickup,
    )
    return network, order


# Derandomised so that CI is reproducible. To search wider locally:
#   OMNIROUTE_EXAMPLES=5000 OMNIROUTE_RANDOM=1 pytest tests/engine/test_optimizer.py
SETTINGS = settings(
    max_examples=int(os.environ.get("OMNIROUTE_EXAMPLES", "400")),
    derandomize=not os.environ.get("OMNIROUTE_RANDOM"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(instances())
def test_random_instances_match_brute_force(instance: tuple[Network, Order]) -> None:
    """On random tiny instances every policy's plan is the brute-force optimum."""
    check_against_brute_force(*instance)


@SETTINGS
@given(instances())
def test_enumeration_path_matches_brute_force(instance: tuple[Network, Order]) -> None:
    """With the DP and the branch and bound switched off, enumeration (then CP-SAT) gives
    the same optima."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimizer, "DP_STATE_LIMIT", 0)
        patch.setattr(optimizer.FrontSolver, "_branch", lambda self, j: None)
        patch.setattr(optimizer.branch, "most_units", lambda *args: None)
        check_against_brute_force(*instance)


@SETTINGS
@given(instances())
def test_branch_and_bound_path_matches_brute_force(instance: tuple[Network, Order]) -> None:
    """With the DP switched off, the branch and bound (then enumeration, CP-SAT) gives the
    same optima, for complete plans and for the most units under a shipment limit."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimizer, "DP_STATE_LIMIT", 0)
        check_against_brute_force(*instance)


@SETTINGS
@given(instances())
def test_cp_sat_path_matches_brute_force(instance: tuple[Network, Order]) -> None:
    """With the DP, the branch and bound and enumeration switched off, CP-SAT gives the same
    optima."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimizer, "DP_STATE_LIMIT", 0)
        patch.setattr(optimizer.branch, "most_units", lambda *args: None)
        patch.setattr(optimizer.FrontSolver, "_enumerate", lambda self, j: None)
        patch.setattr(optimizer.FrontSolver, "_branch", lambda self, j: None)
        check_against_brute_force(*instance)


# The look-ahead's prices through every path of the engine: the DP, the branch and bound,
# enumeration and CP-SAT (each with the faster ones switched off), against brute force.
PATHS: dict[str, list[tuple[object, str, object]]] = {
    "dp": [],
    "branch-and-bound": [(optimizer, "DP_STATE_LIMIT", 0)],
    "enumeration": [
        (optimizer, "DP_STATE_LIMIT", 0),
        (optimizer.FrontSolver, "_branch", lambda self, j: None),
        (optimizer.branch, "most_units", lambda *args: None),
    ],
    "cp-sat": [
        (optimizer, "DP_STATE_LIMIT", 0),
        (optimizer.branch, "most_units", lambda *args: None),
        (optimizer.FrontSolver, "_enumerate", lambda self, j: None),
        (optimizer.FrontSolver, "_branch", lambda self, j: None),
    ],
}
PRICED_SETTINGS = settings(
    max_examples=int(os.environ.get("OMNIROUTE_EXAMPLES", "400")),
    derandomize=not os.environ.get("OMNIROUTE_RANDOM"),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("path", PATHS)
@PRICED_SETTINGS
@given(instances(), st.integers(0, 2**31 - 1))
def test_priced_paths_match_brute_force(
    path: str, instance: tuple[Network, Order], seed: int
) -> None:
    """With a price per unit of each SKU at each node (some nodes free, some dear), every
    path minimises cost + prices exactly as brute force does, for CHEAPEST, FASTEST, the
    options front and the most units of partial orders."""
    network, order = instance
    rng = np.random.default_rng(seed)
    prices = rng.choice([0.0, 0.0, 0.7, 4.0, 30.0], size=(len(network.nodes), len(network.skus)))
    with pytest.MonkeyPatch.context() as patch:
        for target, name, value in PATHS[path]:
            patch.setattr(target, name, value)
        check_against_brute_force(network, order, prices=prices)


@PRICED_SETTINGS
@given(instances(), st.integers(0, 2**31 - 1), st.booleans())
def test_bounds_by_shipment_count_hold_against_brute_force(
    instance: tuple[Network, Order], seed: int, with_prices: bool
) -> None:
    """The relaxation by loads (each load of a partition at its cheapest node) never bounds
    a shipment count above brute force's cheapest plan with that many shipments at any
    delivery-day cap, with and without prices; the last bound covers that many or more."""
    from omniroute import _core
    from omniroute.candidates import build_problem

    network, order = instance
    planner = Planner(network)
    index = planner.index
    rng = np.random.default_rng(seed)
    prices = rng.choice([0.0, 0.0, 0.7, 4.0, 30.0], size=(len(index.node_ids), len(index.sku_ids)))
    prices = prices if with_prices else None
    problem = build_problem(order, index, planner.inventory, prices)
    if not len(problem.lanes) or problem.group is not None or problem.packed:
        return  # ship-together groups and ship-alone SKUs are CP-SAT's, not the DP's
    plans = bf.complete(order, bf.all_plans(order, network, planner.inventory.atp_map()))
    if prices is not None:
        plans = bf.priced(plans, lambda n, s: prices[index.node_pos[n], index.sku_pos[s]])
    caps = sorted({int(d) for d in problem.lanes.days.tolist()})
    reduction = _core.Reduction(*problem.core_args(), caps, 2, optimizer.REDUCE_STATE_LIMIT)
    parts = optimizer.PARTS_RANKED
    for j, cap in enumerate(caps):
        bounds = reduction.parts_bounds(j, index.split_penalty, parts)
        assert len(bounds) == parts
        for k, bound in enumerate(bounds, start=1):
            costs = [
                p.cost
                for p in plans
                if p.days <= cap and (p.shipments == k or (k == parts and p.shipments > k))
            ]
            if costs:
                assert bound <= min(costs) + TOL, (cap, k, bound, min(costs))
        single = [p.cost for p in plans if p.days <= cap and p.shipments == 1]
        if single:  # one shipment: the bound is the cheapest single-node plan itself
            assert bounds[0] == pytest.approx(min(single), abs=TOL)


@PRICED_SETTINGS
@given(instances(), st.integers(0, 2**31 - 1), st.booleans())
def test_twins_that_differ_only_in_speed_match_brute_force(
    instance: tuple[Network, Order], seed: int, with_prices: bool
) -> None:
    """A node's twin (same place, costs, services, stock and prices, a day faster) ties
    every plan of the node to the cent: CHEAPEST must still find the fastest
    of the tied plans, as brute force does, whatever the search proves at the largest cap
    (the shortcut that skips the faster caps when the best pair is the only plan that
    cheap must see the tie)."""
    from dataclasses import replace

    network, order = instance
    rng = np.random.default_rng(seed)
    wanted = {line.sku_id for line in order.lines}
    holders = sorted({p.node_id for p in network.stock if p.sku_id in wanted})
    nodes = [n for n in network.nodes if not n.disabled and n.id in holders]
    if not nodes:
        return
    node = nodes[int(rng.integers(len(nodes)))]
    # the twin comes after the node in every ranking of equal costs, and is a day faster
    slower = replace(node, processing_days=node.processing_days + 1)
    twin = replace(node, id="TWIN", pickup=False)
    stock = tuple(p for p in network.stock) + tuple(
        replace(p, node_id="TWIN") for p in network.stock if p.node_id == node.id
    )
    others = tuple(slower if n.id == node.id else n for n in network.nodes)
    network = replace(network, nodes=(*others, twin), stock=stock)
    prices = None
    if with_prices:
        index = Planner(network).index
        prices = rng.choice([0.0, 0.0, 0.7, 4.0], size=(len(index.node_ids), len(index.sku_ids)))
        prices[index.node_pos["TWIN"]] = prices[index.node_pos[node.id]]
    check_against_brute_force(network, order, prices=prices)


def _tie_network(case: str) -> tuple[Network, Order, np.ndarray]:
    """Networks whose cheapest plan (a split: the node holding everything prices its units
    dear) is tied, to the cent or within 1e-6, by a faster plan:

    - ``twin-a`` / ``twin-b``: the node of one side of the pair has a twin a day faster;
    - ``other-split``: another split of the same SKUs costs the same, a day faster;
    - ``near-lane``: one of the pair's nodes has a second service 1e-7 dearer, a day faster.
    """
    spot = Location(CENTRE[0] + 0.05, CENTRE[1])
    slow = CarrierService("S", "C", "slow", 0.0, (Zone(400.0, 5.0, 0.5, 2),))
    quick = CarrierService("Q", "C", "quick", 0.0, (Zone(400.0, 5.0000001, 0.5, 1),))

    def node(name: str, days: int, services: tuple[str, ...] = ("S",), fixed: float = 1.0) -> Node:
        return Node(name, NodeKind.DC, spot, fixed, 0.2, days, services)

    def holds(name: str, *skus: str) -> list[StockPosition]:
        return [StockPosition(name, sku, 1, 0) for sku in skus]

    nodes = [node("ALL", 0)]
    stock = holds("ALL", "K1", "K2", "K3")
    skus = ["K1", "K2"]
    if case in ("twin-a", "twin-b"):
        slow_a, slow_b = (2, 1) if case == "twin-a" else (1, 2)
        nodes += [node("A", slow_a), node("B", slow_b)]
        twin = "A" if case == "twin-a" else "B"
        nodes.append(node(twin + "-TWIN", 0))  # after its sibling in node order, faster
        twin_sku = "K1" if twin == "A" else "K2"
        stock += holds("A", "K1") + holds("B", "K2") + holds(twin + "-TWIN", twin_sku)
    elif case == "other-split":  # X+Y and Z+W cost the same; no load has a second node as cheap
        skus = ["K1", "K2", "K3"]
        nodes += [node("X", 1), node("Y", 1), node("Z", 0, fixed=0.5), node("W", 0, fixed=1.5)]
        stock += (
            holds("X", "K1", "K2") + holds("Y", "K3") + holds("Z", "K1") + holds("W", "K2", "K3")
        )
    else:  # near-lane: A's quick service costs 1e-7 more than its slow one; B is quick
        nodes += [node("A", 0, ("S", "Q")), node("B", 0, ("Q",))]
        stock += holds("A", "K1") + holds("B", "K2")
    network = Network(
        tuple(nodes),
        (slow, quick),
        tuple(Sku(k, 1.0) for k in ("K1", "K2", "K3")),
        tuple(stock),
        split_penalty=1.0,
    )
    index = Planner(network).index
    prices = np.zeros((len(index.node_ids), len(index.sku_ids)))
    prices[index.node_pos["ALL"]] = 50.0
    lines = tuple(OrderLine(str(i), sku, 1) for i, sku in enumerate(skus))
    return network, Order("o", lines, destination=Location(*CENTRE)), prices


@pytest.mark.parametrize("case", ["twin-a", "twin-b", "other-split", "near-lane"])
def test_a_cheapest_plan_tied_by_a_faster_one_arrives_faster(case: str) -> None:
    """CHEAPEST takes the fastest of the plans tied for the lowest cost, as brute force
    does, when the tie is a twin node, another split or a lane 1e-7 dearer (the search at
    the largest cap must not call its pair the only plan that cheap)."""
    network, order, prices = _tie_network(case)
    plan = Planner(network).plan(order, prices=prices).plan
    assert len(plan.shipments) >= 2  # the split, not the dear node holding everything
    check_against_brute_force(network, order, prices=prices)


def test_priced_demo_orders_match_the_joint_milp() -> None:
    """On the demo network (60 nodes: the candidate reduction ranks nodes with their
    prices), with θ·λ from a forecast thirty times the demand of the orders, every priced
    plan has the optimum of the one-order MILP of joint allocation, which solves the same
    objective by HiGHS. The orders allow partial plans so that the MILP, not the engine,
    solves each one (at an unfilled penalty that fills them whenever stock allows), and
    the nodes have no daily capacity (the MILP proves nothing under dated capacities)."""
    from dataclasses import replace

    from omniroute.demo_data import demo_dataset
    from omniroute.evaluation import default_regions, perfect_forecast
    from omniroute.joint import allocate
    from omniroute.lookahead import opportunity_costs

    network, orders = demo_dataset(seed=5, orders=600)
    nodes = tuple(replace(n, daily_shipment_capacity=0) for n in network.nodes)
    planner = Planner(replace(network, nodes=nodes))
    index = planner.index
    forecast = perfect_forecast(index, default_regions(index, orders), orders, 1.0)
    costs = opportunity_costs(index, planner.inventory, forecast.over(1.0, 30.0), samples=4)
    prices = 2.0 * costs.matrix(index)
    split = checked = 0
    for order in [o for o in orders if len(o.lines) > 1][:80]:  # loads for the ranking
        order = replace(order, allow_partial=True)
        result = planner.plan(order, prices=prices)
        assert result.stats.proof is Proof.OPTIMAL
        if result.plan.status is not PlanStatus.COMPLETE:
            continue
        checked += 1
        joint = allocate([order], planner, prices=prices, unfilled_penalty=1e5)
        assert joint.proven and joint.units_unfilled == 0
        assert result.plan.objective == pytest.approx(joint.objective, abs=1e-6), order.id
        split += len(result.plan.shipments) > 1
    assert checked >= 60
    assert split >= 20  # the prices make plans split


def test_demo_orders_are_feasible_and_no_worse_than_baseline() -> None:
    """On a sample of a generated day, every plan is feasible, proven and <= the baseline."""
    from omniroute.demo_data import demo_dataset

    network, orders = demo_dataset(seed=23, orders=400)
    planner = Planner(network)
    atp = planner.inventory.atp_map()
    for order in orders:
        result = planner.plan(order)
        assert check_plan(order, network, result.plan, atp) == [], order.id
        assert result.stats.proof is Proof.OPTIMAL
        baseline = planner.plan(order, Policy.BASELINE).plan
        if baseline.status is PlanStatus.COMPLETE:
            assert result.plan.status is PlanStatus.COMPLETE
            assert result.plan.total_cost <= baseline.total_cost + 0.005
    assert np.isfinite(sum(planner.plan(o).plan.total_cost for o in orders[:10]))


def test_search_stopped_by_its_time_limit_says_so(
    tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """A search the budget stops returns the best plan known, FEASIBLE, with a proven lower
    bound and gap, and names the limit (``stopped_by``); with time it proves the plan."""
    from omniroute.budget import Budget
    from omniroute.model import SearchLimit

    planner = Planner(tiny_network)
    order = tiny_orders["coat-and-jeans"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimizer, "DP_STATE_LIMIT", 0)  # so that only CP-SAT can prove it
        patch.setattr(optimizer.FrontSolver, "_enumerate", lambda self, j: None)
        patch.setattr(optimizer.FrontSolver, "_branch", lambda self, j: None)
        stopped = planner.plan(order, budget=Budget(0.0))
        proven = planner.plan(order, budget=Budget(10.0))
    assert stopped.plan.status is PlanStatus.COMPLETE
    assert stopped.stats.proof is Proof.FEASIBLE
    assert stopped.stats.stopped_by is SearchLimit.TIME_LIMIT
    assert stopped.stats.gap is not None and 0 <= stopped.stats.gap < 1
    assert stopped.stats.lower_bound is not None
    assert stopped.stats.lower_bound <= proven.plan.total_cost + TOL
    assert proven.stats.proof is Proof.OPTIMAL and proven.stats.stopped_by is None
    assert proven.plan.total_cost <= stopped.plan.total_cost + TOL


def test_cancelled_budget_says_so(tiny_network: Network, tiny_orders: dict[str, Order]) -> None:
    """A budget cancelled before the search (the caller went away) leaves the best plan known,
    FEASIBLE and stopped by CANCELLED."""
    from omniroute.budget import Budget
    from omniroute.model import SearchLimit

    budget = Budget(10.0)
    budget.cancel()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimizer, "DP_STATE_LIMIT", 0)
        patch.setattr(optimizer.FrontSolver, "_enumerate", lambda self, j: None)
        patch.setattr(optimizer.FrontSolver, "_branch", lambda self, j: None)
        result = Planner(tiny_network).plan(tiny_orders["coat-and-jeans"], budget=budget)
    assert result.plan.status is PlanStatus.COMPLETE
    assert result.stats.proof is Proof.FEASIBLE
    assert result.stats.stopped_by is SearchLimit.CANCELLED


def test_model_too_slow_to_build_in_time_is_not_built(
    tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """A CP-SAT model whose building would take more than half the time left is not built:
    the best plan known comes back at once, FEASIBLE, stopped by TIME_LIMIT."""
    from omniroute import cpsat
    from omniroute.budget import Budget
    from omniroute.model import SearchLimit

    built = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimizer, "DP_STATE_LIMIT", 0)
        patch.setattr(optimizer.FrontSolver, "_enumerate", lambda self, j: None)
        patch.setattr(optimizer.FrontSolver, "_branch", lambda self, j: None)
        patch.setattr(cpsat, "BUILD_SECONDS_PER_VARIABLE", 1.0)  # as if each took a second
        real_build = cpsat.build_model
        patch.setattr(cpsat, "build_model", lambda *a, **k: built.append(1) or real_build(*a, **k))
        result = Planner(tiny_network).plan(tiny_orders["coat-and-jeans"], budget=Budget(5.0))
    assert built == []
    assert result.plan.status is PlanStatus.COMPLETE
    assert result.stats.proof is Proof.FEASIBLE
    assert result.stats.stopped_by is SearchLimit.TIME_LIMIT
    assert result.stats.solve_micros < 1_000_000


def test_fastest_most_units_by_cp_sat_is_the_fastest() -> None:
    """A partial order under a shipment limit with no complete plan (demo day order 381):
    FASTEST by CP-SAT (the branch and bound switched off) ships the most units at the
    smallest cap that reaches them, as the branch and bound does, and proves it."""
    from omniroute.demo_data import demo_dataset

    network, orders = demo_dataset(seed=7, orders=20_000)
    planner = Planner(network)
    candidates = [o for o in orders if o.max_shipments and o.allow_partial and len(o.lines) > 3]
    checked = 0
    for order in candidates:
        exact = planner.plan(order, Policy.FASTEST)
        if "cp-sat" in exact.stats.method or exact.plan.status is PlanStatus.COMPLETE:
            continue
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(optimizer, "DP_STATE_LIMIT", 0)
            patch.setattr(optimizer.branch, "most_units", lambda *args: None)
            by_cp_sat = planner.plan(order, Policy.FASTEST)
        assert by_cp_sat.stats.proof is Proof.OPTIMAL
        assert by_cp_sat.plan.units == exact.plan.units, order.id
        assert by_cp_sat.plan.delivery_days == exact.plan.delivery_days, order.id
        assert by_cp_sat.plan.total_cost == pytest.approx(exact.plan.total_cost, abs=TOL)
        checked += 1
    assert checked >= 1
