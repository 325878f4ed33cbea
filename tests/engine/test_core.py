"""The fast paths of ``omniroute._core`` against plain Python and numpy references: one
order's problem (candidates, distances, lanes, stock figures), the front's caps and bounds,
and the bounds of an order's independent parts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniroute import _core, optimizer
from omniroute.candidates import build_problem
from omniroute.cost import zone_for
from omniroute.dating import HAND_OVER
from omniroute.demo_data import demo_dataset
from omniroute.dp import state_count
from omniroute.geo import distances_km
from omniroute.model import Location, Network, Order
from omniroute.network_index import Inventory, NetworkIndex
from omniroute.planner import Planner
from omniroute.plans import cheapest_lane, node_lanes
from tests.engine.test_optimizer import SETTINGS, instances


def reference_problem(order: Order, index: NetworkIndex, inventory: Inventory) -> dict:
    """build_problem's arrays computed one node and one service at a time."""
    skus = list(dict.fromkeys(index.sku_pos[line.sku_id] for line in order.lines))
    atp: dict[int, list[int]] = {}
    for k, s in enumerate(skus):
        stock = inventory.sku(s)
        for node, on_hand, safety, reserved in zip(
            stock.nodes.tolist(),
            stock.on_hand.tolist(),
            stock.safety_stock.tolist(),
            stock.reserved.tolist(),
            strict=True,
        ):
            atp.setdefault(node, [0] * len(skus))[k] = max(0, on_hand - reserved - safety)
    excluded = {index.node_pos[node_id] for node_id in order.excluded_node_ids}
    candidates = sorted(
        c for c, row in atp.items() if any(row) and c not in excluded and index.usable[c]
    )
    pickup = index.node_pos[order.pickup_store_id] if order.pickup_store_id else -1
    destination = index.nodes[pickup].location if pickup >= 0 else order.destination
    assert destination is not None
    distance = distances_km(
        index.latitude[candidates],
        index.longitude[candidates],
        destination.latitude,
        destination.longitude,
    )
    out: dict = {"nodes": [], "distance": [], "lanes": [], "atp": []}
    usable = [0] * len(skus)
    reachable = [0] * len(skus)
    in_promise = [0] * len(skus)
    for c, d in zip(candidates, distance.tolist(), strict=True):
        node = index.nodes[c]
        lanes = []
        reaches = False
        if c == pickup:
            options = [(HAND_OVER, 0.0, 0.0, math.inf, node.processing_days)]
        else:
            options = []
            for service_id in node.service_ids:
                s = index.service_pos[service_id]
                zone = zone_for(index.services[s], d)
                if zone is None:
                    continue
                limit = index.services[s].max_parcel_weight_kg
                options.append(
                    (
                        s,
                        zone.base_cost,
                        zone.cost_per_kg,
                        limit if limit > 0 else math.inf,
                        node.processing_days + zone.transit_days,
                    )
                )
            options.sort(key=lambda option: option[0])  # lanes by service index
        for s, base, per_kg, limit, days in options:
            reaches = True
            if order.promise_days and days > order.promise_days:
                continue
            lanes.append(
                (s, base, per_kg, limit, days, node.handling_cost_per_shipment,
                 node.handling_cost_per_unit)
            )  # fmt: skip
        for k in range(len(skus)):
            usable[k] += atp[c][k]
            reachable[k] += atp[c][k] if reaches else 0
            in_promise[k] += atp[c][k] if lanes else 0
        if lanes:
            out["lanes"] += [(len(out["nodes"]), *lane) for lane in lanes]
            out["nodes"].append(c)
            out["distance"].append(d)
            out["atp"].append(atp[c])
    out.update(atp_usable=usable, atp_reachable=reachable, atp_in_promise=in_promise)
    return out


def check_problem(order: Order, index: NetworkIndex, inventory: Inventory) -> None:
    problem = build_problem(order, index, inventory)
    expected = reference_problem(order, index, inventory)
    assert problem.nodes.tolist() == expected["nodes"]
    # the same doubles as geo.distances_km, bit for bit: zone edges fall where they do there
    assert problem.distance.tolist() == expected["distance"]
    assert problem.atp.shape == (len(problem.nodes), len(problem.demand))
    assert problem.atp.tolist() == expected["atp"]
    lanes = problem.lanes
    got = list(
        zip(
            lanes.node.tolist(),
            lanes.service.tolist(),
            lanes.base.tolist(),
            lanes.per_kg.tolist(),
            lanes.max_parcel.tolist(),
            lanes.days.tolist(),
            lanes.handling_shipment.tolist(),
            lanes.handling_unit.tolist(),
            strict=True,
        )
    )
    assert got == expected["lanes"]
    assert problem.atp_usable.tolist() == expected["atp_usable"]
    assert problem.atp_reachable.tolist() == expected["atp_reachable"]
    assert problem.atp_in_promise.tolist() == expected["atp_in_promise"]


def check_bounds(problem) -> None:  # type: ignore[no-untyped-def]
    """front_bounds: the distinct lane days as caps, and bounds() at them."""
    args = problem.core_args()
    penalty, limit = problem.index.split_penalty, problem.order.max_shipments
    caps, cost, lane, split = _core.front_bounds(*args, penalty, limit)
    assert caps == np.unique(problem.lanes.days).tolist()
    ref_cost, ref_lane, ref_split = _core.bounds(*args, caps, penalty, limit)
    assert cost == ref_cost.tolist()
    assert lane == ref_lane.tolist()
    assert split == ref_split.tolist()
    # the single-node plans by brute force: cheapest, then fewer days, then lane order
    whole = (problem.atp >= problem.demand[None, :]).all(axis=1)
    weight = float(problem.demand @ problem.weight)
    units = np.array([float(problem.demand.sum())])
    costs = problem.lanes.costs(np.array([weight]), units)[:, 0]
    for j, cap in enumerate(caps):
        options = [
            (float(costs[lane]), int(problem.lanes.days[lane]), lane)
            for lane in range(len(problem.lanes))
            if whole[problem.lanes.node[lane]] and problem.lanes.days[lane] <= cap
        ]
        best = min(options, default=(math.inf, 0, -1))
        assert (cost[j], lane[j]) == (best[0], best[2])


def check_parts(problem) -> None:  # type: ignore[no-untyped-def]
    """sku_group_lists and part_bounds against the numpy grouping and restriction."""
    args = problem.core_args()
    groups = _core.sku_group_lists(*args)
    label = _core.sku_groups(*args)
    assert groups == [np.flatnonzero(label == g).tolist() for g in np.unique(label)]
    for group in groups:
        part, lane_map, _ = optimizer._restrict(problem, np.array(group))
        *bounds, part_lanes = _core.part_bounds(
            *args, group, problem.index.split_penalty, problem.order.max_shipments
        )
        assert part_lanes.tolist() == lane_map.tolist()
        assert bounds == list(
            _core.front_bounds(
                *part.core_args(), problem.index.split_penalty, problem.order.max_shipments
            )
        )
        front, _ = optimizer.FrontSolver.part_of(problem, group, None)  # type: ignore[arg-type]
        assert front.problem.lanes.days.tolist() == part.lanes.days.tolist()
        assert front.problem.atp.tolist() == part.atp.tolist()


@SETTINGS
@given(instances())
def test_problem_bounds_and_parts_match_references_on_random_instances(
    instance: tuple[Network, Order],
) -> None:
    """On random tiny networks (zone edges on node distances, pick-ups, exclusions,
    promises, disabled nodes) the C++ problem, bounds and parts equal the references."""
    network, order = instance
    planner = Planner(network)
    check_problem(order, planner.index, planner.inventory)
    problem = build_problem(order, planner.index, planner.inventory)
    if len(problem.lanes):
        check_bounds(problem)
        check_parts(problem)


DEMO = demo_dataset(seed=3, orders=300)
DEMO_PLANNER = Planner(DEMO[0])


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    st.integers(0, 299),
    st.floats(-60, 60),
    st.floats(-170, 170),
    st.sampled_from([0, 0, 1, 2, 3, 5]),
    st.booleans(),
)
def test_problem_matches_reference_on_the_demo_network(
    which: int, latitude: float, longitude: float, promise: int, reserve: bool
) -> None:
    """Demo orders sent anywhere (far destinations leave nodes without a zone), with
    reservations and safety stock taking some ATP to zero: the same problem, bounds and
    parts as the references."""
    index = DEMO_PLANNER.index
    inventory = DEMO_PLANNER.inventory
    order = DEMO[1][which]
    order = Order(
        order.id,
        order.lines,
        destination=Location(latitude, longitude),
        promise_days=promise,
        excluded_node_ids=tuple(index.node_ids[:3]),
    )
    if reserve:
        inventory = inventory.copy()
        stock = inventory.sku(index.sku_pos[order.lines[0].sku_id])
        inventory.take(
            {(index.node_ids[node], order.lines[0].sku_id): 1 for node in stock.nodes[::2].tolist()}
        )
    check_problem(order, index, inventory)
    problem = build_problem(order, index, inventory)
    if len(problem.lanes):
        check_bounds(problem)
        check_parts(problem)


def test_demo_orders_in_parts_match_the_reference_restriction() -> None:
    """Demo orders whose SKUs no node holds together: each part's bounds, lane map and
    lazily built problem are those of the reference restriction."""
    checked = 0
    for order in DEMO[1]:
        problem = build_problem(order, DEMO_PLANNER.index, DEMO_PLANNER.inventory)
        if len(problem.lanes) and len(_core.sku_group_lists(*problem.core_args())) > 1:
            check_parts(problem)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("priced", [False, True])
def test_reduction_by_groups_equals_costing_every_node(priced: bool) -> None:
    """The candidate reduction's two ways (nodes grouped by lane types and ranked, for large
    problems; every node and load costed one by one, for small ones) keep the same nodes
    and find the same best pair on demo orders, with and without prices per unit."""
    index, inventory = DEMO_PLANNER.index, DEMO_PLANNER.inventory
    rng = np.random.default_rng(3)
    prices = rng.choice([0.0, 0.0, 1.0, 6.0, 25.0], size=(len(index.node_ids), len(index.sku_ids)))
    compared = 0
    for order in DEMO[1][:150]:
        problem = build_problem(order, index, inventory, prices if priced else None)
        if not len(problem.lanes) or problem.total_units < 2:
            continue
        args = problem.core_args()
        caps = sorted({int(d) for d in problem.lanes.days.tolist()})
        for kmax in (2, 3):
            grouped = _core.Reduction(*args, caps, kmax, optimizer.REDUCE_STATE_LIMIT, 0)
            direct = _core.Reduction(*args, caps, kmax, optimizer.REDUCE_STATE_LIMIT, 10**9)
            ks = [kmax] * len(caps)
            assert grouped.kept(ks, []).tolist() == direct.kept(ks, []).tolist(), order.id
            for j in range(len(caps)):
                a, b = grouped.best_pair(j, 1.5), direct.best_pair(j, 1.5)
                assert a[0] == pytest.approx(b[0], abs=1e-9), order.id
            compared += 1
    assert compared >= 100


@pytest.mark.parametrize("priced", [False, True])
def test_best_triple_is_the_dps_best_plan_with_three_shipments(priced: bool) -> None:
    """Reduction.best_triple (each load's three cheapest nodes) costs what the exact DP over
    every candidate, counting shipments, gives its best plan with exactly three, on demo
    orders with and without prices, for both ways of ranking; its loads add up to the
    demand on three distinct nodes."""
    index, inventory = DEMO_PLANNER.index, DEMO_PLANNER.inventory
    rng = np.random.default_rng(11)
    prices = rng.choice([0.0, 0.0, 1.0, 6.0, 25.0], size=(len(index.node_ids), len(index.sku_ids)))
    penalty = index.split_penalty
    compared = found = 0
    for order in DEMO[1][:300]:
        problem = build_problem(order, index, inventory, prices if priced else None)
        if not len(problem.lanes) or problem.total_units < 3 or len(problem.nodes) < 3:
            continue
        if state_count(tuple(problem.demand.tolist())) > 2_000:
            continue  # keeps the DP over every candidate quick
        args = problem.core_args()
        caps = sorted({int(d) for d in problem.lanes.days.tolist()})
        dp = optimizer.CoreDp(problem, caps, np.arange(len(problem.nodes)), 3)
        for direct_limit in (0, 10**9):  # ranked by node groups, then every node costed
            reduction = _core.Reduction(*args, caps, 3, optimizer.REDUCE_STATE_LIMIT, direct_limit)
            for j in range(len(caps)):
                cost, *picked = reduction.best_triple(j, penalty)
                value = int(dp.final[j, 3 * dp.size + dp.size - 1])
                if value >= optimizer.INF:
                    assert math.isinf(cost), order.id
                    continue
                assert cost == pytest.approx(optimizer._value_cost(problem, value), abs=1e-5)
                nodes, loads = picked[0::2], picked[1::2]
                assert len(set(nodes)) == 3
                vectors = [optimizer._load_vector(problem, s) for s in loads]
                assert (sum(vectors) == problem.demand).all() and all(v.any() for v in vectors)
                found += 1
        compared += 1
    assert compared >= 50
    assert found >= 50


@pytest.mark.parametrize("priced", [False, True])
def test_split_step_equals_the_reduction_and_the_bounds(priced: bool) -> None:
    """The DP's first step in one call (_core.split_step: the two cheapest nodes per load,
    the best pair, the most shipments) gives the pair of Reduction.best_pair, with the same
    nodes and loads, and the most shipments of _most_shipments and _most_by_parts, on demo
    orders with and without prices, for targets that bind and that do not."""
    index, inventory = DEMO_PLANNER.index, DEMO_PLANNER.inventory
    rng = np.random.default_rng(5)
    prices = rng.choice([0.0, 0.0, 1.0, 6.0, 25.0], size=(len(index.node_ids), len(index.sku_ids)))
    penalty, parts = index.split_penalty, optimizer.PARTS_RANKED
    compared = lowered = uniques = 0
    for order in DEMO[1][:200]:
        problem = build_problem(order, index, inventory, prices if priced else None)
        if not len(problem.lanes) or problem.total_units < 2 or problem.packed:
            continue
        loads = state_count(tuple(problem.demand.tolist()))
        if len(problem.nodes) * loads > optimizer.SPLIT_STEP_LIMIT:
            continue  # the DP's first step goes through the reduction (as in the test above)
        args = problem.core_args()
        caps = sorted({int(d) for d in problem.lanes.days.tolist()})
        reduction = _core.Reduction(*args, caps, 2, optimizer.REDUCE_STATE_LIMIT)
        singles, _, _ = _core.bounds(*args, caps, penalty, 0)
        lower = optimizer._shipment_lower_bounds(problem)
        limit = min(problem.total_units, len(problem.nodes), order.max_shipments or math.inf)
        for j, cap in enumerate(caps):
            pair = reduction.best_pair(j, penalty)
            for target in (math.inf, float(singles[j]) - 0.5, float(pair[0])):
                cost, na, qa, nb, qb, most, unique = _core.split_step(
                    *args, cap, penalty, float(singles[j]), target, limit, True, parts
                )
                if unique:  # nothing as cheap arrives faster: no single node, no pair
                    assert math.isinf(target) and cost < float(singles[j]) - 1e-6
                    lanes = _core.cheapest_lanes(*args, [na, nb], [qa, qb], cap)
                    days = max(int(problem.lanes.days[lane]) for lane in lanes)
                    for faster in range(caps.index(days)):
                        assert float(singles[faster]) > cost + 1e-6
                        assert reduction.best_pair(faster, penalty)[0] > cost + 1e-6
                    uniques += 1
                assert cost == pytest.approx(pair[0], abs=1e-9), order.id
                if math.isfinite(cost):
                    assert (na, nb) == (pair[1], pair[3])
                    assert qa == optimizer._load_vector(problem, pair[2]).tolist()
                    assert qb == optimizer._load_vector(problem, pair[4]).tolist()
                best = pair[0] if pair[0] < float(singles[j]) - optimizer.EPSILON else singles[j]
                upper = min(float(best), target)
                expected = optimizer._most_shipments(problem, upper, lower)
                if expected > 2:
                    bounds = reduction.parts_bounds(j, penalty, parts)
                    expected = optimizer._most_by_parts(bounds, upper, expected)
                    lowered += expected <= 2
                assert most == expected, (order.id, cap, target)
            compared += 1
    assert compared >= 150
    assert lowered >= 1  # the bound by loads decided some
    assert uniques >= 10


def test_problem_prices_are_the_candidates_rows_of_the_price_table() -> None:
    """The core gathers each candidate's prices for the order's items (None when all are
    zero) as indexing the table does; a table not in float64 C order is gathered in Python,
    with the same rows; dated orders whose promise drops candidates after the core keep the
    rows of the candidates left."""
    from dataclasses import replace

    from omniroute.demo_data import with_australian_calendars

    dated = Planner(with_australian_calendars(DEMO[0]), validate=False)
    index, inventory = dated.index, dated.inventory
    rng = np.random.default_rng(11)
    prices = rng.choice([0.0, 0.0, 0.0, 1.5, 7.0], size=(len(index.node_ids), len(index.sku_ids)))
    others = (prices.astype(np.float32), np.asfortranarray(prices))  # gathered in Python
    priced = unpriced = 0
    orders = [replace(o, promise_days=1 + i % 3) for i, o in enumerate(DEMO[1][:300])]
    within = 0
    for order in orders:
        problem = build_problem(order, index, inventory, prices)
        within += len(problem.nodes) < len(
            build_problem(replace(order, promise_days=0), index, inventory).nodes
        )
        expected = prices[problem.nodes[:, None], problem.sku[None, :]]
        if np.count_nonzero(expected):
            assert problem.price is not None and problem.price.tolist() == expected.tolist()
            priced += 1
        else:
            assert problem.price is None
            unpriced += 1
        for other in others:
            again = build_problem(order, index, inventory, other)
            assert (again.price is None) == (problem.price is None)
            if problem.price is not None:
                assert again.price.tolist() == problem.price.tolist()
    assert priced >= 80 and unpriced >= 10
    assert within >= 50  # promises on dates dropped candidates after the core


def test_part_problems_are_the_holders_and_their_lanes() -> None:
    """_restrict (laid out by _core.part_layout) gives the part of an order for some SKUs
    as plain numpy does: the candidates holding any of them, in order, their lanes
    renumbered, the lane map, the SKUs' figures and the prices, with and without prices."""
    from omniroute.candidates import Lanes

    index, inventory = DEMO_PLANNER.index, DEMO_PLANNER.inventory
    rng = np.random.default_rng(2)
    prices = rng.choice([0.0, 1.0, 9.0], size=(len(index.node_ids), len(index.sku_ids)))
    checked = 0
    for order in [o for o in DEMO[1] if len({line.sku_id for line in o.lines}) > 1][:120]:
        for table in (None, prices):
            problem = build_problem(order, index, inventory, table)
            m = len(problem.demand)
            skus = np.array(sorted(rng.choice(m, size=rng.integers(1, m + 1), replace=False)))
            part, lane_map, _ = optimizer._restrict(problem, skus)
            holders = np.flatnonzero((problem.atp[:, skus] > 0).any(axis=1))
            renumber = np.full(len(problem.nodes), -1)
            renumber[holders] = np.arange(len(holders))
            expected_map = np.flatnonzero(renumber[problem.lanes.node] >= 0)
            assert lane_map.tolist() == expected_map.tolist()
            assert part.nodes.tolist() == problem.nodes[holders].tolist()
            assert part.atp.tolist() == problem.atp[holders][:, skus].tolist()
            assert part.demand.tolist() == problem.demand[skus].tolist()
            assert part.weight.tolist() == problem.weight[skus].tolist()
            assert part.sku.tolist() == problem.sku[skus].tolist()
            assert part.distance.tolist() == problem.distance[holders].tolist()
            assert part.lanes.node.tolist() == renumber[problem.lanes.node[expected_map]].tolist()
            for field in Lanes.__slots__[1:]:
                got, want = getattr(part.lanes, field), getattr(problem.lanes, field)[expected_map]
                assert got.tolist() == want.tolist(), field
            if problem.price is None:
                assert part.price is None
            else:
                assert part.price.tolist() == problem.price[holders][:, skus].tolist()
            checked += 1
    assert checked >= 200


def reference_cheapest_lane(problem, candidate, units, max_days):  # type: ignore[no-untyped-def]
    """The lane of a node shipping ``units`` cheapest, then fastest, by numpy's cost table."""
    lanes = problem.lanes
    span = node_lanes(problem, candidate)
    weight = np.array([float(units @ problem.weight)])
    count = np.array([int(units.sum())])
    cost = lanes.costs(weight, count)[span, 0] if span.stop > span.start else np.zeros(0)
    days = lanes.days[span]
    if max_days is not None:
        cost = np.where(days <= max_days, cost, np.inf)
    if len(cost) == 0 or not np.isfinite(cost.min()):
        return -1
    return span.start + int(np.lexsort((days, cost))[0])


@SETTINGS
@given(instances(), st.randoms(use_true_random=False))
def test_cheapest_lane_matches_the_cost_table(instance: tuple[Network, Order], rng) -> None:  # type: ignore[no-untyped-def]
    """cheapest_lane, in scalars, and _core.cheapest_lanes, for a plan's shipments at once,
    pick the lane numpy's cost table picks (cost, then days, then lane order), within a day
    cap or not (the core's: with one; ship-alone units stay with cheapest_lane)."""
    network, order = instance
    planner = Planner(network)
    problem = build_problem(order, planner.index, planner.inventory)
    shipments: dict[int, list[tuple[int, list[int]]]] = {}
    expected: dict[int, list[int]] = {}
    for candidate in range(len(problem.nodes)):
        units = np.array([rng.randint(0, int(q)) for q in problem.demand], dtype=np.int64)
        for max_days in (None, 0, 1, 2, 3, 5):
            lane = reference_cheapest_lane(problem, candidate, units, max_days)
            assert cheapest_lane(problem, candidate, units, max_days) == lane
            if max_days is not None:
                shipments.setdefault(max_days, []).append((candidate, units.tolist()))
                expected.setdefault(max_days, []).append(lane)
    if problem.alone is None:
        for cap, chosen in shipments.items():
            candidates = [c for c, _ in chosen]
            loads = [u for _, u in chosen]
            got = _core.cheapest_lanes(*problem.core_args(), candidates, loads, cap)
            assert got == expected[cap]


def test_fast_entry_points_convert_other_arrays_and_refuse_wrong_calls() -> None:
    """Arguments that are not C-contiguous arrays of the right dtype (int32, lists, strided
    views) are converted, with the same answers; a wrong number of arguments is a TypeError."""
    order = next(o for o in DEMO[1] if len(o.lines) > 1)
    problem = build_problem(order, DEMO_PLANNER.index, DEMO_PLANNER.inventory)
    args = problem.core_args()
    penalty, limit = problem.index.split_penalty, problem.order.max_shipments
    other = tuple(a.astype(np.int32) if a.dtype == np.int64 else np.repeat(a, 2)[::2] for a in args)
    assert _core.front_bounds(*other, penalty, limit) == _core.front_bounds(*args, penalty, limit)
    assert _core.sku_group_lists(*(a.tolist() for a in args)) == _core.sku_group_lists(*args)
    group = _core.sku_group_lists(*args)[0]
    *bounds, lanes = _core.part_bounds(*other, group, penalty, limit)
    *expected, expected_lanes = _core.part_bounds(*args, group, penalty, limit)
    assert bounds == expected and lanes.tolist() == expected_lanes.tolist()
    with pytest.raises(TypeError):
        _core.front_bounds(*args[:9], penalty, limit)
    with pytest.raises(TypeError):
        _core.front_bounds(*args, penalty)
    stock = DEMO_PLANNER.inventory.sku(0)
    with pytest.raises(ValueError):
        DEMO_PLANNER.index.core.problem(
            [stock.nodes], [stock.on_hand[:-1]], [stock.safety_stock], [stock.reserved],
            np.zeros(0, dtype=np.int64), 0.0, 0.0, -1, 0, 0.0, np.zeros(0), None, [0],
        )  # fmt: skip
