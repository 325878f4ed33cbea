"""The exact split-fulfilment optimiser for one order: CHEAPEST, FASTEST and the options front.

Every policy is answered from the *front*: for each achievable delivery-day cap ``D`` (the
distinct lane day values), the cheapest complete plan arriving within ``D`` (ties: fewer
shipments). CHEAPEST is the cheapest plan at the largest cap, at the smallest cap that
reaches that cost (ties broken by fewer days); FASTEST is the plan at the smallest cap that
has one; the options are the caps whose plan is strictly cheaper than every faster one.

Methods, fastest first; each proves what it returns:

1. ``single-node-bound``: the best single-node plans, and a lower bound on any plan with
   two or more shipments (two cheapest possible shipments + split penalty, and a per-unit
   decomposition). When the bound exceeds the single-node plan at every cap that matters,
   the single-node plan is optimal.
2. ``dp``: the exact dynamic programme of ``engine.dp`` over the candidates that can still
   appear in a better split plan (bound pruning), for orders with few units.
3. ``cp-sat``: one CP-SAT model per needed cap, warm-started from the best plan known, with
   a time limit; optimal when CP-SAT proves it, otherwise reported with its gap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine import cpsat
from engine.baseline import baseline_allocations
from engine.candidates import OrderProblem
from engine.dp import INF, MONEY_SCALE, SHIP_SCALE, pair_count, run_dp
from engine.model import Plan, PlanResult, PlanStats, PlanStatus, Policy, Proof
from engine.plans import Allocation, build_plan, cheapest_lane, sku_reasons

DP_WORK_LIMIT = 3_000_000  # candidate nodes x caps x transitions before CP-SAT takes over
EPSILON = 1e-6  # currency units; bounds must beat plans by more than this to decide
DEFAULT_TIME_LIMIT = 10.0  # seconds of CP-SAT when the caller gives none


Outcome = tuple[Plan, list[Plan], Proof, str, float | None]  # plan, options, proof, method, bound


@dataclass(slots=True)
class CapBest:
    """Best complete plan known at one delivery-day cap."""

    cost: float  # inf when none known
    allocations: list[Allocation]
    optimal: bool  # proven cheapest at this cap
    bound: float  # proven lower bound on the cap's cheapest plan


def optimise(
    problem: OrderProblem,
    policy: Policy = Policy.CHEAPEST,
    include_options: bool = False,
    time_limit: float | None = None,
) -> PlanResult:
    """Plan one order optimally for ``policy``; see the module docstring for the method."""
    start = time.perf_counter()
    deadline = start + (DEFAULT_TIME_LIMIT if time_limit is None else time_limit)
    plan, options, proof, method, bound = _solve(problem, policy, include_options, deadline)
    micros = int((time.perf_counter() - start) * 1e6)
    gap = None
    if proof is Proof.OPTIMAL:
        gap = 0.0
    elif bound is not None and plan.total_cost > 0:
        gap = max(0.0, (plan.total_cost - bound) / plan.total_cost)
    stats = PlanStats(
        proof=proof,
        method=method,
        solve_micros=micros,
        gap=gap,
        lower_bound=plan.total_cost if proof is Proof.OPTIMAL else bound,
        candidate_nodes=len(problem.nodes),
    )
    return PlanResult(problem.order.id, plan, stats, options=tuple(options))


# ----------------------------------------------------------------------------- steps


def _solve(
    problem: OrderProblem, policy: Policy, include_options: bool, deadline: float
) -> Outcome:
    lanes = problem.lanes
    if len(lanes) == 0 or np.any(problem.atp.sum(axis=0) < problem.demand):
        return _no_complete_plan(problem, policy, deadline)
    caps = np.unique(lanes.days)
    singles = _single_node_plans(problem, caps)
    split_bound = _split_lower_bounds(problem, caps)
    if _singles_settle(singles, split_bound, policy, include_options):
        for single in singles:
            single.optimal = True
            single.bound = single.cost
        return _report(problem, singles, policy, include_options, "single-node-bound")
    front = _dp_front(problem, caps, singles)
    if front is not None:
        if all(best.cost == np.inf for best in front):
            return _no_complete_plan(problem, policy, deadline)
        return _report(problem, front, policy, include_options, "dp")
    return _cpsat(problem, caps, singles, policy, include_options, deadline)


def _single_node_plans(problem: OrderProblem, caps: np.ndarray) -> list[CapBest]:
    """Best plan shipping everything from one node, per cap (proven only among singles)."""
    lanes = problem.lanes
    holds_all = np.all(problem.atp >= problem.demand, axis=1)
    lane_ok = holds_all[lanes.node]
    weight = np.array([float(problem.demand @ problem.weight)])
    units = np.array([float(problem.total_units)])
    cost = np.full(len(lanes), np.inf)
    if lane_ok.any():
        cost[lane_ok] = lanes.costs(weight, units)[lane_ok, 0]
    result = []
    order = np.lexsort((lanes.days, cost))  # cheapest first, then fewer days
    for cap in caps.tolist():
        best = next((int(lane) for lane in order if lanes.days[lane] <= cap), -1)
        if best < 0 or not np.isfinite(cost[best]):
            result.append(CapBest(np.inf, [], False, -np.inf))
        else:
            allocation = Allocation(best, problem.demand.copy())
            result.append(CapBest(float(cost[best]), [allocation], False, -np.inf))
    return result


def _split_lower_bounds(problem: OrderProblem, caps: np.ndarray) -> np.ndarray:
    """Per cap, a lower bound on every complete plan with two or more shipments (inf: none).

    The larger of: the two cheapest single-unit shipments from distinct nodes plus the split
    penalty; and each unit's cheapest per-unit cost plus the two cheapest fixed costs plus
    the penalty. Also inf when the order cannot be covered within the cap at all.
    """
    order = problem.order
    bounds = np.full(len(caps), np.inf)
    if problem.total_units < 2 or order.max_shipments == 1 or len(problem.nodes) < 2:
        return bounds
    lanes = problem.lanes
    holds = problem.atp[lanes.node] > 0  # (L, m)
    fixed = lanes.base + lanes.handling_shipment  # at least one parcel
    per_unit = lanes.per_kg[:, None] * problem.weight[None, :] + lanes.handling_unit[:, None]
    per_unit = np.where(holds, per_unit, np.inf)
    cheapest_unit = (fixed[:, None] + per_unit).min(axis=1)  # (L,) any one-unit shipment
    penalty = problem.index.split_penalty
    n = len(problem.nodes)
    for j, cap in enumerate(caps.tolist()):
        ok = lanes.days <= cap
        covered = problem.atp[np.unique(lanes.node[ok])].sum(axis=0)
        if np.any(covered < problem.demand):
            continue
        node_min = np.full(n, np.inf)
        np.minimum.at(node_min, lanes.node[ok], cheapest_unit[ok])
        two = np.partition(node_min, 1)[:2]
        by_shipments = two.sum() + penalty
        fixed_two = np.partition(np.where(ok, fixed, np.inf), 1)[:2].sum()
        unit_min = np.where(ok[:, None], per_unit, np.inf).min(axis=0)
        by_units = float(problem.demand @ unit_min) + fixed_two + penalty
        bounds[j] = max(by_shipments, by_units)
    return bounds


def _singles_settle(
    singles: list[CapBest], split_bound: np.ndarray, policy: Policy, include_options: bool
) -> bool:
    """True when the single-node plans are proven optimal at every cap the answer needs.

    At a cap, the best single-node plan is optimal when every plan with two or more
    shipments costs more (``split_bound``) or no such plan exists. Both the single-node
    costs and the bounds can only fall as the cap grows.
    """
    cost = np.array([s.cost for s in singles])
    settled = (split_bound == np.inf) | (cost < split_bound - EPSILON)
    if not np.isfinite(cost).any():
        return False
    if include_options:
        return bool(settled.all())
    if policy is Policy.FASTEST:
        first = int(np.flatnonzero(np.isfinite(cost))[0])
        return bool(np.all(split_bound[:first] == np.inf) and settled[first])
    # CHEAPEST: no split plan, at any cap, may cost as little as the cheapest single.
    return bool(split_bound[-1] > cost[-1] + EPSILON)


def _upper_bounds(problem: OrderProblem, caps: np.ndarray, singles: list[CapBest]) -> np.ndarray:
    """Best known complete-plan cost per cap: single-node plans and the baseline's plan."""
    upper = np.array([s.cost for s in singles])
    allocations = baseline_allocations(problem)
    shipped = sum((a.units for a in allocations), np.zeros_like(problem.demand))
    if allocations and np.array_equal(shipped, problem.demand):
        plan = build_plan(problem, allocations)
        upper = np.where(caps >= plan.delivery_days, np.minimum(upper, plan.total_cost), upper)
    return upper


def _dp_front(
    problem: OrderProblem, caps: np.ndarray, singles: list[CapBest]
) -> list[CapBest] | None:
    """The exact front by dynamic programming, or None when the order is too large for it."""
    max_shipments = _tracked_shipments(problem)
    upper = _upper_bounds(problem, caps, singles)
    candidates = _split_candidates(problem, caps, upper)
    work = len(candidates) * len(caps) * pair_count(tuple(problem.demand.tolist()), max_shipments)
    if work > DP_WORK_LIMIT:
        return None
    dp = run_dp(problem, caps, candidates, max_shipments)
    full = dp.shape.full
    front = []
    for j, cap in enumerate(caps.tolist()):
        value, state = dp.best(j, full)
        single = singles[j]
        split_cost = _value_cost(problem, value) if value < INF else np.inf
        if single.cost <= split_cost + EPSILON and np.isfinite(single.cost):
            # The single-node plan is at least as cheap and has the fewest shipments.
            front.append(CapBest(single.cost, single.allocations, True, single.cost))
        elif value < INF:
            allocations = _allocations(problem, dp.reconstruct(j, state), dp.shape.loads, cap)
            front.append(CapBest(split_cost, allocations, True, split_cost))
        else:
            front.append(CapBest(np.inf, [], True, np.inf))
    return front


def _tracked_shipments(problem: OrderProblem) -> int:
    """``maxShipments`` when it can bind (the DP then counts shipments), else 0."""
    limit = problem.order.max_shipments
    if limit and limit < min(problem.total_units, len(problem.nodes)):
        return limit
    return 0


def _split_candidates(problem: OrderProblem, caps: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Candidates that can appear in a plan with two or more shipments cheaper than ``upper``.

    A node whose cheapest possible shipment plus the cheapest shipment of any other node plus
    the split penalty exceeds the best known plan at every cap cannot be in a better split
    plan; its single-node plans are covered by :func:`_single_node_plans`.
    """
    lanes = problem.lanes
    n = len(problem.nodes)
    holds = problem.atp[lanes.node] > 0
    unit = lanes.per_kg[:, None] * problem.weight[None, :] + lanes.handling_unit[:, None]
    cheapest = (lanes.base + lanes.handling_shipment + np.where(holds, unit, np.inf).min(axis=1))
    keep = np.zeros(n, dtype=bool)
    for j, cap in enumerate(caps.tolist()):
        ok = lanes.days <= cap
        node_min = np.full(n, np.inf)
        np.minimum.at(node_min, lanes.node[ok], cheapest[ok])
        if not np.isfinite(upper[j]):
            keep |= np.isfinite(node_min)
            continue
        first, second = np.partition(node_min, 1)[:2] if n > 1 else (node_min[0], np.inf)
        other = np.where(node_min == first, second, first)
        keep |= node_min + other + problem.index.split_penalty <= upper[j] + EPSILON
    return np.flatnonzero(keep)


def _value_cost(problem: OrderProblem, value: int) -> float:
    """Currency cost of a DP value (the per-shipment penalty refunded once)."""
    micros = value // SHIP_SCALE - round(problem.index.split_penalty * MONEY_SCALE)
    return micros / MONEY_SCALE


def _allocations(
    problem: OrderProblem, shipments: list[tuple[int, int]], loads: np.ndarray, cap: int
) -> list[Allocation]:
    """DP shipments (candidate, load) as allocations on each node's cheapest lane."""
    result = []
    for candidate, load in shipments:
        units = loads[load].astype(np.int64)
        result.append(Allocation(cheapest_lane(problem, candidate, units, max_days=cap), units))
    return result


def _cpsat(
    problem: OrderProblem,
    caps: np.ndarray,
    singles: list[CapBest],
    policy: Policy,
    include_options: bool,
    deadline: float,
) -> Outcome:
    """Settle the order with CP-SAT, warm-started from the best plan known.

    Without options one lexicographic model answers the policy at the largest cap; with
    options, one CHEAPEST model per cap builds the front.
    """
    upper = _upper_bounds(problem, caps, singles)
    baseline = baseline_allocations(problem)

    def hint(j: int) -> list[Allocation] | None:
        return singles[j].allocations or (baseline if upper[j] < np.inf else None)

    if not include_options:
        objective = cpsat.Objective.FASTEST if policy is Policy.FASTEST else cpsat.Objective.CHEAPEST
        last = len(caps) - 1
        result = cpsat.solve(problem, objective, int(caps[last]), hint(last), _left(deadline))
        if result.infeasible:
            return _no_complete_plan(problem, policy, deadline)
        allocations = result.allocations or hint(last) or []
        plan = build_plan(problem, allocations)
        if not result.feasible or plan.status is not PlanStatus.COMPLETE:
            return plan, [], Proof.FEASIBLE, "cp-sat", None
        proof = Proof.OPTIMAL if result.optimal else Proof.FEASIBLE
        bound = result.bound_micros / MONEY_SCALE if objective is cpsat.Objective.CHEAPEST else None
        return plan, [], proof, "cp-sat", bound

    front = []
    for j, cap in enumerate(caps.tolist()):
        share = _left(deadline) / (len(caps) - j)
        result = cpsat.solve(problem, cpsat.Objective.CHEAPEST, cap, hint(j), share)
        if result.feasible:
            cost = build_plan(problem, result.allocations).total_cost
            front.append(CapBest(cost, result.allocations, result.optimal,
                                 result.bound_micros / MONEY_SCALE))
        elif result.infeasible:
            front.append(CapBest(np.inf, [], True, np.inf))
        else:
            front.append(CapBest(singles[j].cost, singles[j].allocations, False, -np.inf))
    if all(best.cost == np.inf for best in front):
        return _no_complete_plan(problem, policy, deadline)
    return _report(problem, front, policy, include_options, "cp-sat")


def _left(deadline: float) -> float:
    return max(0.001, deadline - time.perf_counter())


def _report(
    problem: OrderProblem,
    front: list[CapBest],
    policy: Policy,
    include_options: bool,
    method: str,
) -> Outcome:
    """Pick the policy's plan from the front and build the reported plans.

    CHEAPEST takes the smallest cap reaching the lowest cost (ties: fewer days); FASTEST
    the smallest cap with a plan; options keep each cap strictly cheaper than all faster.
    """
    cost = np.array([b.cost for b in front])
    feasible = np.flatnonzero(np.isfinite(cost))
    if policy is Policy.FASTEST:
        chosen = int(feasible[0])
    else:
        cheapest = cost[feasible].min()
        chosen = int(feasible[np.flatnonzero(cost[feasible] <= cheapest + EPSILON)[0]])
    best = front[chosen]
    plan = build_plan(problem, best.allocations)
    options: list[Plan] = []
    if include_options:
        previous = np.inf
        for j in feasible.tolist():
            if cost[j] < previous - EPSILON:
                options.append(build_plan(problem, front[j].allocations))
                previous = cost[j]
    # The choice compares caps, so it is proven only when every cap is.
    proven = all(b.optimal for b in front)
    bound = None
    if not proven:
        bounds = [b.bound for b in front[chosen:]] if policy is not Policy.FASTEST else [best.bound]
        bound = float(min(bounds)) if np.isfinite(min(bounds)) else None
    return plan, options, Proof.OPTIMAL if proven else Proof.FEASIBLE, method, bound


def _no_complete_plan(problem: OrderProblem, policy: Policy, deadline: float) -> Outcome:
    """No complete plan exists: the most units (then cheapest) when partial plans are
    allowed, otherwise nothing, with a reason per line."""
    most = _most_units(problem, policy, deadline)
    if most is None:  # too large to decide exactly in time: stock-level reasons only
        return build_plan(problem, []), [], Proof.FEASIBLE, "cp-sat", None
    allocations, proven, method = most
    shipped = sum((a.units for a in allocations), np.zeros_like(problem.demand))
    reasons = sku_reasons(problem, shipped >= problem.demand)
    if not problem.order.allow_partial:
        allocations = []
    plan = build_plan(problem, allocations, reasons)
    return plan, [], Proof.OPTIMAL if proven else Proof.FEASIBLE, method, None


def _most_units(
    problem: OrderProblem, policy: Policy, deadline: float
) -> tuple[list[Allocation], bool, str] | None:
    """The plan shipping the most units, then best for the policy (empty if nothing ships)."""
    if len(problem.lanes) == 0 or problem.atp.sum() == 0:
        return [], True, "candidates"
    caps = np.unique(problem.lanes.days)
    max_shipments = _tracked_shipments(problem)
    candidates = np.flatnonzero(problem.atp.sum(axis=1) > 0)
    work = len(candidates) * len(caps) * pair_count(tuple(problem.demand.tolist()), max_shipments)
    if work <= DP_WORK_LIMIT:
        dp = run_dp(problem, caps, candidates, max_shipments)
        size = len(dp.shape.units)
        final = dp.final.reshape(len(caps), -1, size).min(axis=1)  # over shipment counts
        reachable = final < INF
        units = np.where(reachable, dp.shape.units[None, :], -1)
        most = units.max()
        if most <= 0:
            return [], True, "dp"
        if policy is Policy.FASTEST:
            j = int(np.flatnonzero((units == most).any(axis=1))[0])
        else:
            j = len(caps) - 1
        loads = np.flatnonzero(units[j] == most)
        load = int(loads[np.argmin(final[j, loads])])
        _, state = dp.best(j, load)
        shipments = dp.reconstruct(j, state)
        return _allocations(problem, shipments, dp.shape.loads, int(caps[j])), True, "dp"
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        return None
    result = cpsat.solve(problem, cpsat.Objective.MOST_UNITS, int(caps[-1]), None, remaining)
    if not result.feasible:
        return None
    return result.allocations, result.optimal, "cp-sat"
