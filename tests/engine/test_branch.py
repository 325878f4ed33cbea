"""The branch and bound of ``omniroute.branch`` (``omniroute._exact``) against exact
references: a dynamic programme over every load of every node and lane, written here from
the cost model, on random orders with many units and parcel limits they cross; and CP-SAT
on larger orders."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from omniroute import branch, cpsat
from omniroute.candidates import OrderProblem, build_problem
from omniroute.model import (
    CarrierService,
    Location,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    Policy,
    Sku,
    StockPosition,
    Zone,
)
from omniroute.planner import Planner
from omniroute.plans import evaluate

TOL = 1e-6
CENTRE = (-37.8, 145.0)


@st.composite
def problems(draw: st.DrawFn, most_units: int = 6) -> OrderProblem:
    """A few nodes with deep stock, parcel limits that a few units cross, and an order of
    up to ``most_units`` units per SKU."""
    n_nodes = draw(st.integers(1, 4))
    services = []
    for s in range(draw(st.integers(1, 3))):
        zones = (
            Zone(60.0, draw(st.floats(1, 15)), draw(st.floats(0, 2)), draw(st.integers(0, 3))),
            Zone(400.0, draw(st.floats(5, 25)), draw(st.floats(0, 3)), draw(st.integers(1, 5))),
        )
        parcel = draw(st.sampled_from([0.0, 1.0, 2.5, 4.0, 6.0]))
        services.append(CarrierService(f"S{s}", "C", "svc", parcel, zones))
    nodes = [
        Node(
            f"N{i}",
            NodeKind.DC,
            Location(
                CENTRE[0] + draw(st.floats(-1.5, 1.5)), CENTRE[1] + draw(st.floats(-1.5, 1.5))
            ),
            draw(st.floats(0, 5)),
            draw(st.floats(0, 1)),
            draw(st.integers(0, 1)),
            tuple(
                draw(st.lists(st.sampled_from([s.id for s in services]), unique=True, min_size=1))
            ),
        )
        for i in range(n_nodes)
    ]
    skus = [
        Sku(f"K{k}", draw(st.sampled_from([0.1, 0.25, 0.4, 0.7, 1.2, 2.0])))
        for k in range(draw(st.integers(1, 3)))
    ]
    stock = tuple(
        StockPosition(node.id, sku.id, draw(st.sampled_from([0, 2, 4, 8, 40])))
        for node in nodes
        for sku in skus
    )
    network = Network(
        tuple(nodes),
        tuple(services),
        tuple(skus),
        stock,
        split_penalty=draw(st.sampled_from([0.0, 1.5, 4.0])),
    )
    lines = tuple(
        OrderLine(str(k), sku.id, draw(st.integers(1, most_units))) for k, sku in enumerate(skus)
    )
    order = Order("o", lines, destination=Location(*CENTRE))
    planner = Planner(network)
    return build_problem(order, planner.index, planner.inventory)


def reference(problem: OrderProblem, cap: int) -> tuple[float, int]:
    """(cost, shipments) of the best complete plan within ``cap`` (inf when none): every
    node ships nothing or one load on one of its lanes, over the covered-units states."""
    demand = problem.demand
    loads = np.array(list(itertools.product(*(range(d + 1) for d in demand.tolist()))))
    key = {tuple(load): i for i, load in enumerate(loads.tolist())}
    weight = loads @ problem.weight
    units = loads.sum(axis=1).astype(np.float64)
    lanes = problem.lanes
    best: dict[tuple[int, ...], tuple[float, int]] = {(0,) * len(demand): (0.0, 0)}
    for node in range(len(problem.nodes)):
        mine = np.flatnonzero((lanes.node == node) & (lanes.days <= cap))
        if len(mine) == 0:
            continue
        fits = np.all(loads <= problem.atp[node], axis=1) & (units > 0)
        cost = lanes.select(mine).costs(weight, units).min(axis=0)  # cheapest lane per load
        after = dict(best)
        for state, (value, ships) in best.items():
            for q in np.flatnonzero(fits).tolist():
                total = tuple(a + b for a, b in zip(state, loads[q].tolist(), strict=True))
                if total not in key:
                    continue
                candidate = (value + cost[q] + problem.index.split_penalty, ships + 1)
                if total not in after or candidate < after[total]:
                    after[total] = candidate
        best = after
    value, ships = best.get(tuple(demand.tolist()), (np.inf, 0))
    if not np.isfinite(value):
        return np.inf, 0
    return value - problem.index.split_penalty, ships


def search_all(problem: OrderProblem, cap: int) -> branch.Branched | None:
    keep = np.ones(len(problem.nodes), dtype=bool)
    return branch.search(problem, cap, keep, max(1, len(problem.nodes)))


SETTINGS = settings(
    max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(problems())
def test_best_plan_matches_the_reference(problem: OrderProblem) -> None:
    """At every cap the search's plan is feasible, costs what the cost model says, and is
    the reference's optimum (cost, then fewest shipments), proven."""
    for cap in np.unique(problem.lanes.days).tolist():
        found = search_all(problem, cap)
        assert found is not None and found.proven
        cost, ships = reference(problem, cap)
        assert found.cost == pytest.approx(cost, abs=TOL)
        if not np.isfinite(cost):
            assert found.allocations == []
            continue
        assert found.ships == ships
        shipped = sum(a.units for a in found.allocations)
        assert np.array_equal(shipped, problem.demand)
        nodes = [int(problem.lanes.node[a.lane]) for a in found.allocations]
        assert len(set(nodes)) == len(nodes)
        for allocation, node in zip(found.allocations, nodes, strict=True):
            assert np.all(allocation.units <= problem.atp[node])
            assert problem.lanes.days[allocation.lane] <= cap
        assert evaluate(problem, found.allocations)[0] == pytest.approx(cost, abs=TOL)


@settings(max_examples=25, derandomize=True, deadline=None)
@given(problems(most_units=14))
def test_larger_orders_match_cp_sat(problem: OrderProblem) -> None:
    """On orders with up to 42 units, the search's optimum is CP-SAT's."""
    assume(len(problem.lanes) > 0)
    cap = int(problem.lanes.days.max())
    found = search_all(problem, cap)
    assert found is not None and found.proven
    result = cpsat.solve(problem, cpsat.Objective.CHEAPEST, cap, None, 20.0)
    assert result.optimal or result.infeasible
    if result.infeasible:
        assert found.allocations == []
        return
    assert found.cost == pytest.approx(evaluate(problem, result.allocations)[0], abs=TOL)


def test_too_many_combinations_are_not_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond the combination limit nothing is searched (the caller falls back)."""
    problem = next(p for p in _examples() if len(p.nodes) >= 3)
    monkeypatch.setattr(branch, "COMBO_LIMIT", 2)
    assert search_all(problem, int(problem.lanes.days.max())) is None


def test_node_limit_gives_the_best_so_far_unproven(monkeypatch: pytest.MonkeyPatch) -> None:
    """A search stopped by its node limit is not proven, and its bound is a lower bound."""
    problem = next(p for p in _examples() if len(p.nodes) >= 3)
    cap = int(problem.lanes.days.max())
    exact = search_all(problem, cap)
    assert exact is not None and exact.proven
    monkeypatch.setattr(branch, "NODE_LIMIT", 1)
    stopped = search_all(problem, cap)
    assert stopped is not None and not stopped.proven
    assert stopped.bound <= exact.cost + TOL


def test_most_units_under_a_shipment_limit() -> None:
    """With two shipments allowed and stock at three nodes, the most units ship from the
    best pair, at the least cost (checked against every pair and the reference)."""
    problem = next(
        p for p in _examples() if len(p.nodes) >= 3 and np.all(p.atp.sum(axis=0) >= p.demand)
    )
    problem = _with_max_shipments(problem, 2)
    caps = np.unique(problem.lanes.days)
    allocations = branch.most_units(problem, caps, Policy.CHEAPEST)
    assert allocations is not None
    shipped = sum(a.units for a in allocations)
    held = np.minimum(problem.atp, problem.demand)
    best_units = max(
        int(np.minimum(held[list(pair)].sum(axis=0), problem.demand).sum())
        for size in (1, 2)
        for pair in itertools.combinations(range(len(problem.nodes)), size)
    )
    assert int(shipped.sum()) == best_units
    assert len(allocations) <= 2


def _with_max_shipments(problem: OrderProblem, limit: int) -> OrderProblem:
    from dataclasses import replace

    return replace(problem, order=replace(problem.order, max_shipments=limit))


def _examples() -> list[OrderProblem]:
    found: list[OrderProblem] = []

    @settings(max_examples=60, derandomize=True, deadline=None, database=None)
    @given(problems())
    def collect(problem: OrderProblem) -> None:
        found.append(problem)

    collect()
    return found
