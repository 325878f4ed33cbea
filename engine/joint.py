"""Joint allocation: many orders against shared ATP and each node's daily shipment capacity.

Deciding orders one at a time is myopic: the first order can take the unit a later order
needed more. :func:`allocate` plans a batch together, minimising the total cost of all
plans plus ``unfilled_penalty`` per unit left unfilled (an order that does not allow partial
plans is shipped whole or not at all).

Method:

* *sequential*: every order planned optimally in turn on the stock left by the earlier ones
  (nodes at capacity excluded) — the peer joint allocation must never lose to; also the warm
  start and the fallback.
* *decomposition*: orders are grouped by the stock positions and node capacities they could
  contend for (where the orders that could use a position want more than its ATP); other
  constraints can never bind jointly, so groups are independent.
* *exact* (groups up to ``EXACT_ORDERS`` orders): one mixed-integer programme per group
  over every order's lanes with shared ATP and capacity (``omniroute.joint_model``), solved
  by HiGHS' branch and cut within the time limit; the better of its solution and the sequential plans is kept, and HiGHS' dual bound is
  the group's proven lower bound.
* *lower bound*: the LP relaxation of the same model over the whole batch (HiGHS); the gap
  is reported against the best of that and the groups' MIP bounds. Larger groups get the
  sequential plans with the LP bound (or, beyond ``LP_VARIABLES``, the bound from planning
  every order alone on the full stock, which ignores sharing and is therefore valid).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from omniroute.backorders import in_parts
from omniroute.candidates import OrderProblem, build_problem, with_prices
from omniroute.joint_model import BatchModel, day_capacity_can_fill
from omniroute.model import Network, Order, Plan, PlanResult, PlanStats, PlanStatus, Policy, Proof
from omniroute.network_index import Inventory, NetworkIndex
from omniroute.optimizer import optimise
from omniroute.plans import Allocation, build_plan

if TYPE_CHECKING:
    from omniroute.planner import Planner

EXACT_ORDERS = 400  # groups of contending orders up to this size are solved as one MIP
LP_VARIABLES = 400_000  # above this, the LP bound is skipped
DEFAULT_UNFILLED_PENALTY = 50.0  # currency per unit left unfilled
DEFAULT_TIME_LIMIT = 30.0

Progress = Callable[[str, int, int], None]
"""A progress callback ``(phase, done, total)``: ``phase`` names the step in plain words
(e.g. ``"planning each order in turn"``), ``done`` of ``total`` items of it are finished."""


@dataclass(frozen=True, slots=True)
class JointResult:
    """Plans for a batch, their total, and what is proven about it."""

    order_ids: tuple[str, ...]
    plans: tuple[Plan, ...]
    total_cost: float  # sum of plan costs
    units_unfilled: int
    objective: float  # total cost + penalty * unfilled units
    lower_bound: float  # no allocation of the batch has a lower objective
    method: str
    sequential_objective: float
    solve_seconds: float
    proven: bool = field(default=False)
    opportunity_cost: float = 0.0  # sum of units x prices of the plans (0: no prices)

    @property
    def gap(self) -> float:
        if self.objective <= 0:
            return 0.0
        return max(0.0, (self.objective - self.lower_bound) / self.objective)


def allocate(
    orders: Sequence[Order],
    planner: Planner,
    unfilled_penalty: float = DEFAULT_UNFILLED_PENALTY,
    time_limit: float = DEFAULT_TIME_LIMIT,
    capacity: dict[str, int] | None = None,
    lower_bound: bool = True,
    progress: Progress | None = None,
    prices: np.ndarray | None = None,
) -> JointResult:
    """Allocate ``orders`` jointly against ``planner``'s stock (which is not changed).

    ``prices``: a cost per unit shipped from each stock position, (nodes, SKUs), >= 0 (look-
    ahead: theta x the opportunity costs of ``omniroute.lookahead``), added to the objective
    and reported apart from the plans' costs (``opportunity_cost``).

    ``capacity`` overrides the nodes' ``dailyShipmentCapacity`` (shipments left today).
    ``lower_bound=False`` is the fast mode for callers that need the plans quickly rather
    than a bound (micro-batching): no LP relaxation, and orders that contend with no other
    keep their own optimal plan (the sequential one) unless a model says otherwise.
    ``progress`` (see :data:`Progress`) hears of each phase: the sequential plans, the LP
    bound's model and solve, and the groups solved jointly.

    Orders with backorder lines or pre-order SKUs (:mod:`omniroute.backorders`) are
    planned first, one by one in parts, and the others jointly on the stock they leave:
    the lower bound is then over the allocations in which the first keep their plans.
    """
    parted = [i for i, order in enumerate(orders) if in_parts(order, planner.index)]
    if parted:
        return _allocate_parts_first(
            orders,
            parted,
            planner,
            unfilled_penalty,
            time_limit,
            capacity,
            lower_bound,
            progress,
            prices,
        )
    start = time.perf_counter()
    index = planner.index
    limits = {n.id: n.daily_shipment_capacity for n in index.nodes if n.daily_shipment_capacity}
    limits.update(capacity or {})
    if prices is not None and (prices.shape != (len(index.node_ids), len(index.sku_ids))
                               or not (prices >= 0).all()):  # fmt: skip
        raise ValueError("prices: one cost >= 0 per node and SKU")
    sequential = plan_sequential(orders, index, planner.inventory, limits, progress, prices)

    def objective_of(plans: Sequence[Plan], some: Sequence[Order]) -> float:
        return _objective(plans, some, unfilled_penalty) + _priced(plans, index, prices)

    seq_objective = objective_of(sequential, orders)
    problems = [build_problem(o, index, planner.inventory) for o in orders]
    bound = -np.inf
    size = sum(len(p.lanes) * (len(p.demand) + 2) for p in problems)
    # The model holds a dated order to the room on the day it ships; it does not move it to
    # a later day as the ledger and the sequential plans do, so when the batch could fill a
    # node's day neither its optimum nor its relaxation bounds the batch: only each order
    # alone. When it cannot (fewer orders could ship there that day than the room left),
    # no day is ever full and the model is exact.
    dated_capacity = (
        index.has_capacity
        and any(p.dating is not None for p in problems)
        and day_capacity_can_fill(problems, planner.inventory)
    )
    if lower_bound and size <= LP_VARIABLES and not dated_capacity:
        building = None
        if progress is not None:
            building = partial(progress, "lower bound: building the LP relaxation")
        relaxed = BatchModel(problems, planner.inventory, unfilled_penalty, limits, building)
        relaxed.add_prices(prices)
        if progress:
            progress("lower bound: solving the LP relaxation", 0, 1)
        bound = relaxed.solve(max(1.0, time_limit / 4), relax=True).bound
        if progress:
            progress("lower bound: solving the LP relaxation", 1, 1)
    plans = list(sequential)
    components = _components(problems, index, limits)
    mip_bound, proven = 0.0, True
    for done, group in enumerate(components):
        if progress:
            progress("solving groups of contending orders", done, len(components))
        part_orders = [orders[i] for i in group]
        part_seq = [sequential[i] for i in group]
        if len(group) == 1 and not lower_bound:
            proven = False  # its own optimum; the penalty trade-off is not examined
            continue
        if len(group) == 1 and not part_orders[0].allow_partial:
            # Uncontended and whole-or-nothing: its own proven optimum, or nothing when
            # that costs more than leaving it unfilled.
            i = group[0]
            own = problems[i] if prices is None else with_prices(problems[i], prices)
            alone = optimise(own)
            units = sum(line.quantity for line in orders[i].lines)
            complete = alone.plan.status is PlanStatus.COMPLETE
            if complete and alone.plan.objective <= unfilled_penalty * units:
                plans[i] = alone.plan
                mip_bound += alone.plan.objective
            else:
                plans[i] = build_plan(problems[i], [])
                mip_bound += unfilled_penalty * units
            proven &= alone.stats.proof is Proof.OPTIMAL
            continue
        if len(group) > EXACT_ORDERS:
            proven, mip_bound = False, -np.inf
            continue
        left = time_limit - (time.perf_counter() - start)
        share = max(min(0.5, time_limit), left * len(group) / len(orders))
        model = BatchModel(
            [problems[i] for i in group], planner.inventory, unfilled_penalty, limits
        )
        model.add_prices(prices)
        found = model.solve(share)
        mip_bound += found.bound
        proven &= found.optimal and not dated_capacity
        solution = found.allocations
        if solution is None:
            continue
        joint = [_report(problems[i], allocs) for i, allocs in zip(group, solution, strict=True)]
        if objective_of(joint, part_orders) < objective_of(part_seq, part_orders) - 1e-6:
            for i, plan in zip(group, joint, strict=True):
                plans[i] = plan
    if progress:
        progress("solving groups of contending orders", len(components), len(components))
    bound = max(bound, -np.inf if dated_capacity else mip_bound)
    if not np.isfinite(bound) and lower_bound:
        bound = _alone_bound(problems, orders, unfilled_penalty)
    objective = objective_of(plans, orders)
    if proven:
        bound = max(bound, objective - 1e-6)
    return JointResult(
        order_ids=tuple(o.id for o in orders),
        plans=tuple(plans),
        total_cost=float(sum(p.total_cost for p in plans)),
        units_unfilled=int(sum(_unfilled(p, o) for p, o in zip(plans, orders, strict=True))),
        objective=objective,
        lower_bound=float(min(bound, objective)),
        method="joint" if objective < seq_objective - 1e-6 else "sequential (no better joint plan)",
        sequential_objective=seq_objective,
        solve_seconds=time.perf_counter() - start,
        proven=proven,
        opportunity_cost=_priced(plans, index, prices),
    )


def _priced(plans: Sequence[Plan], index: NetworkIndex, prices: np.ndarray | None) -> float:
    """Units x prices of the stock the plans use (0 without prices)."""
    if prices is None:
        return 0.0
    return float(
        sum(
            line.quantity * prices[index.node_pos[s.node_id], index.sku_pos[line.sku_id]]
            for plan in plans
            for s in plan.shipments
            for line in s.lines
        )
    )


def _components(
    problems: Sequence[OrderProblem], index: NetworkIndex, capacity: dict[str, int]
) -> list[list[int]]:
    """Groups of orders coupled by stock or capacity they could contend for. A position is
    contended when the orders that could use it want more than its ATP; a node when more
    orders could use it than it has shipments left. Other constraints never bind jointly,
    so the groups can be solved separately (exactly)."""
    parent = list(range(len(problems)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    wanted: dict[tuple[int, int], int] = {}
    atp: dict[tuple[int, int], int] = {}
    users: dict[tuple[int, int], list[int]] = {}
    node_users: dict[int, list[int]] = {}
    for o, problem in enumerate(problems):
        for c, node in enumerate(problem.nodes.tolist()):
            node_users.setdefault(node, []).append(o)
            for k, sku in enumerate(problem.sku.tolist()):
                if problem.atp[c, k] > 0:
                    key = (node, sku)
                    wanted[key] = wanted.get(key, 0) + int(
                        min(problem.demand[k], problem.atp[c, k])
                    )
                    atp[key] = int(problem.atp[c, k])
                    users.setdefault(key, []).append(o)
    groups = [users[key] for key in users if wanted[key] > atp[key]]
    groups += [
        os
        for node, os in node_users.items()
        if index.node_ids[node] in capacity and len(os) > capacity[index.node_ids[node]]
    ]
    for group in groups:
        for o in group[1:]:
            parent[root(o)] = root(group[0])
    components: dict[int, list[int]] = {}
    for o in range(len(problems)):
        components.setdefault(root(o), []).append(o)
    return list(components.values())


def _allocate_parts_first(
    orders: Sequence[Order],
    parted: Sequence[int],
    planner: Planner,
    unfilled_penalty: float,
    time_limit: float,
    capacity: dict[str, int] | None,
    lower_bound: bool,
    progress: Progress | None,
    prices: np.ndarray | None,
) -> JointResult:
    """:func:`allocate` of a batch with orders in parts: those first, the rest jointly."""
    from omniroute.planner import Planner

    start = time.perf_counter()
    stock = planner.inventory.copy()
    first = Planner(planner.network, stock, planner.index, validate=False)
    fixed: dict[int, Plan] = {}
    for i in parted:
        fixed[i] = first.plan(orders[i], Policy.CHEAPEST, validate=False, prices=prices).plan
        stock.ship(fixed[i])
        stock.count_shipments((s.node_id, s.ship_date) for s in fixed[i].shipments)
    rest = [order for i, order in enumerate(orders) if i not in fixed]
    joint = None
    if rest:
        left = dict(capacity or {})
        for plan in fixed.values():  # undated shipments take today's capacity
            for shipment in plan.shipments:
                limit = left.get(shipment.node_id)
                node = planner.index.nodes_by_id[shipment.node_id]
                limit = node.daily_shipment_capacity if limit is None else limit
                if limit and shipment.ship_date is None:
                    left[shipment.node_id] = limit - 1
        joint = allocate(
            rest, first, unfilled_penalty, time_limit, left or None, lower_bound, progress, prices
        )
    others = iter(joint.plans if joint is not None else ())
    plans = tuple(fixed[i] if i in fixed else next(others) for i in range(len(orders)))
    unfilled = sum(_unfilled(fixed[i], orders[i]) for i in fixed)
    cost = sum(plan.total_cost for plan in fixed.values())
    priced = sum(plan.opportunity_cost for plan in fixed.values())
    extra = cost + unfilled_penalty * unfilled + priced
    return JointResult(
        tuple(order.id for order in orders),
        plans,
        cost + (joint.total_cost if joint else 0.0),
        unfilled + (joint.units_unfilled if joint else 0),
        extra + (joint.objective if joint else 0.0),
        extra + (joint.lower_bound if joint else 0.0),
        f"{joint.method if joint else 'none'} + {len(fixed)} planned in parts first",
        extra + (joint.sequential_objective if joint else 0.0),
        time.perf_counter() - start,
        joint.proven if joint else True,
        priced + (joint.opportunity_cost if joint else 0.0),
    )


def plan_sequential(
    orders: Sequence[Order],
    index: NetworkIndex,
    inventory: Inventory,
    capacity: dict[str, int],
    progress: Progress | None = None,
    prices: np.ndarray | None = None,
) -> list[Plan]:
    """Each order optimally in turn on the stock and capacity the earlier ones left (with
    ``prices``: for its cost plus the prices of the units it uses, see :meth:`Planner.plan`)."""
    from omniroute.planner import Planner

    stock = inventory.copy()
    planner = Planner(index.network, stock, index=index, validate=False)
    left = dict(capacity)
    plans: list[Plan] = []
    for order in orders:
        if progress and len(plans) % 10 == 0:
            progress("planning each order in turn", len(plans), len(orders))
        # an undated order uses the nodes with shipments left; a dated one ships from a full
        # day's node on its next working day with room (the planner's full days)
        full = () if order.create_time else tuple(n for n, c in left.items() if c <= 0)
        planned = planner.plan(
            replace(order, excluded_node_ids=order.excluded_node_ids + full) if full else order,
            Policy.CHEAPEST,
            validate=False,
            prices=prices,
        ).plan
        plans.append(planned)
        for shipment in planned.shipments:
            if shipment.node_id in left and shipment.ship_date is None:
                left[shipment.node_id] -= 1
        stock.ship(planned)
    if progress:
        progress("planning each order in turn", len(plans), len(orders))
    return plans


def _unfilled(plan: Plan, order: Order) -> int:
    return sum(line.quantity for line in order.lines) - plan.units


def _objective(plans: Sequence[Plan], orders: Sequence[Order], penalty: float) -> float:
    return float(
        sum(p.total_cost + penalty * _unfilled(p, o) for p, o in zip(plans, orders, strict=True))
    )


def _report(problem: OrderProblem, allocations: list[Allocation]) -> Plan:
    if not problem.order.allow_partial:
        shipped = sum((a.units for a in allocations), np.zeros_like(problem.demand))
        if not np.array_equal(shipped, problem.demand):
            allocations = []
    return build_plan(problem, allocations)


def _alone_bound(
    problems: Sequence[OrderProblem], orders: Sequence[Order], penalty: float
) -> float:
    """Each order alone on the full stock: a valid lower bound (it ignores sharing)."""
    total = 0.0
    for problem, order in zip(problems, orders, strict=True):
        plan = optimise(problem).plan
        units = sum(line.quantity for line in order.lines)
        complete = plan.total_cost if plan.status is PlanStatus.COMPLETE else np.inf
        partial = 0.0 if order.allow_partial else np.inf  # a partial order may ship anything
        total += min(complete, penalty * units, partial)
    return total


def _prefixed(progress: Progress, prefix: str) -> Progress:
    def report(phase: str, done: int, total: int) -> None:
        progress(prefix + phase, done, total)

    return report


def allocate_in_windows(
    network: Network,
    orders: Sequence[Order],
    unfilled_penalty: float = DEFAULT_UNFILLED_PENALTY,
    time_limit: float = DEFAULT_TIME_LIMIT,
    window: int = 2000,
    progress: Progress | None = None,
    prices: np.ndarray | None = None,
) -> tuple[dict[str, object], list[PlanResult]]:
    """Allocate ``orders`` jointly, ``window`` at a time in the given order, each window on
    the stock the earlier ones left. Returns the summary (JSON-ready) and one result per
    order (its stats carry the window's proof and gap). ``progress`` hears of every phase
    of every window (prefixed ``window 2/5:`` when there are several); ``prices`` as for
    :func:`allocate`, the same for every window."""
    from omniroute.planner import Planner

    planner = Planner(network)
    stock = planner.inventory.copy()
    results: list[PlanResult] = []
    totals = {"cost": 0.0, "objective": 0.0, "bound": 0.0, "unfilled": 0, "sequential": 0.0,
              "opportunity": 0.0}  # fmt: skip
    proven, methods, seconds = True, set(), 0.0
    windows = [orders[i : i + window] for i in range(0, len(orders), window)]
    for number, batch in enumerate(windows, start=1):
        report = progress
        if progress and len(windows) > 1:
            report = _prefixed(progress, f"window {number}/{len(windows)}: ")
        result = allocate(
            batch,
            Planner(network, stock, index=planner.index),
            unfilled_penalty,
            time_limit,
            progress=report,
            prices=prices,
        )
        proof = Proof.OPTIMAL if result.proven else Proof.FEASIBLE
        for order, plan in zip(batch, result.plans, strict=True):
            stats = PlanStats(
                proof=proof,
                method=f"joint/{result.method}",
                gap=result.gap,
                lower_bound=None,
                solve_micros=int(result.solve_seconds * 1e6 / max(len(batch), 1)),
            )
            results.append(PlanResult(order.id, plan, stats))
            stock.ship(plan)
        totals["cost"] += result.total_cost
        totals["objective"] += result.objective
        totals["bound"] += result.lower_bound
        totals["unfilled"] += result.units_unfilled
        totals["sequential"] += result.sequential_objective
        totals["opportunity"] += result.opportunity_cost
        proven &= result.proven
        methods.add(result.method)
        seconds += result.solve_seconds
    objective = totals["objective"]
    summary: dict[str, object] = {
        "orders": len(orders),
        "windows": len(windows),
        "totalCost": round(totals["cost"], 2),
        "unitsUnfilled": totals["unfilled"],
        "unfilledPenalty": unfilled_penalty,
        "objective": round(objective, 2),
        "lowerBound": round(totals["bound"], 2),
        "proof": "OPTIMAL" if proven else "FEASIBLE",
        "gap": round(max(0.0, (objective - totals["bound"]) / objective), 6) if objective else 0.0,
        "sequentialObjective": round(totals["sequential"], 2),
        "savingVsSequential": round(totals["sequential"] - objective, 2),
        "method": sorted(methods),
        "solveSeconds": round(seconds, 3),
    }
    if prices is not None:
        summary["opportunityCost"] = round(totals["opportunity"], 2)
    return summary, results
