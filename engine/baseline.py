"""The rule-based router most order-management systems ship (the peer we measure against).

Rules, as commonly configured in OMS sourcing: ship the whole order from the *nearest* node
(great-circle) that holds all of it and can deliver within the promise, with that node's
cheapest eligible carrier service; otherwise take lines greedily from the nearest nodes
with stock, each node shipping everything it can of what is still missing. It is faithful,
not deliberately weak: it honours promises, exclusions, ATP and ``maxShipments``.
"""

from __future__ import annotations

import time

import numpy as np

from omniroute.candidates import OrderProblem
from omniroute.model import Plan, PlanResult, PlanStats, Proof
from omniroute.plans import Allocation, build_plan, cheapest_lane


def baseline_allocations(problem: OrderProblem) -> list[Allocation]:
    """The baseline's shipments; may be incomplete when stock or ``maxShipments`` run out."""
    if len(problem.nodes) == 0:
        return []
    nearest_first = np.lexsort((problem.nodes, problem.distance))
    demand = problem.demand
    if problem.group is None:
        holds_all = np.all(problem.atp >= demand, axis=1)
    else:
        holds_all = np.array(
            [np.array_equal(_take(problem, c, demand), demand) for c in range(len(problem.nodes))]
        )
    for candidate in nearest_first:
        if holds_all[candidate]:
            return [Allocation(cheapest_lane(problem, int(candidate), demand), demand.copy())]
    limit = problem.order.max_shipments
    remaining = demand.copy()
    allocations: list[Allocation] = []
    for candidate in nearest_first:
        if limit and len(allocations) == limit:
            break
        take = _take(problem, int(candidate), remaining)
        if take.sum() == 0:
            continue
        allocations.append(Allocation(cheapest_lane(problem, int(candidate), take), take))
        remaining = remaining - take
        if remaining.sum() == 0:
            break
    return allocations


def _take(problem: OrderProblem, candidate: int, remaining: np.ndarray) -> np.ndarray:
    """What ``candidate`` can ship of ``remaining``: up to its ATP (items of one SKU share
    it), each ship-together group whole or not at all."""
    take = np.minimum(remaining, problem.atp[candidate])
    if problem.group is None:
        return take
    left: dict[int, int] = {}
    for k, sku in enumerate(problem.sku.tolist()):
        available = left.setdefault(sku, int(problem.atp[candidate, k]))
        take[k] = min(int(take[k]), available)
        left[sku] = available - int(take[k])
    for g in set(problem.group.tolist()) - {-1}:
        items = problem.group == g
        if not np.array_equal(take[items], remaining[items]):
            take[items] = 0
    return take


def baseline_plan(problem: OrderProblem) -> Plan:
    """The baseline's plan: complete, partial (when the order allows it) or unfulfillable."""
    allocations = baseline_allocations(problem)
    shipped = sum((a.units for a in allocations), np.zeros_like(problem.demand))
    if not np.array_equal(shipped, problem.demand) and not problem.order.allow_partial:
        allocations = []
    return build_plan(problem, allocations)


def plan_baseline(problem: OrderProblem) -> PlanResult:
    """Plan one order with the baseline rules (never claimed optimal)."""
    start = time.perf_counter()
    plan = baseline_plan(problem)
    micros = int((time.perf_counter() - start) * 1e6)
    stats = PlanStats(
        proof=Proof.FEASIBLE,
        method="baseline",
        solve_micros=micros,
        candidate_nodes=len(problem.nodes),
    )
    return PlanResult(order_id=problem.order.id, plan=plan, stats=stats)
