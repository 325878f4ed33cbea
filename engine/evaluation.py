"""Replaying a day of orders under a routing policy, and what hindsight could have done.

*Replay* (:func:`replay`): orders in time order (``createTime``, then file order) against the
network's stock, depleting it; each order is planned as if it allowed partial plans, so a
policy ships every unit some node can ship when the order arrives (the engine's partial
plans ship the most units first) and loses only the rest, at the lost-sale cost ``P`` each.
``totalCost = shippingCost + P·lostUnits``.

*Hindsight* (:func:`hindsight`): all orders known in advance, on the same initial stock.

* ``clairvoyantLowerBound``: the LP relaxation of the joint allocation model
  (``omniroute.joint_model``) over every order with the unfilled penalty ``P``: no
  allocation in hindsight, with or without any rule, costs less.
* ``hindsightCost`` ``H``: the best allocation in hindsight that, like the policies, loses a
  unit of an order only when no node that could ship it to that order still had it after
  the order was served. The joint model plus, per order ``t`` and SKU ``k``, a binary
  ``z_tk`` ("something of k is lost"): ``shipped_tk + d_tk z_tk >= d_tk``, and for every
  node ``n`` that order could be served from, the units of ``k`` taken from ``n`` by orders
  up to ``t`` are at least ``atp_nk z_tk`` (cumulative sums as running columns). Solved by
  HiGHS within a time limit: exact when proven, else its dual bound (a lower bound on
  ``H``, which makes a gap closed measured against it an underestimate).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import highspy
import numpy as np

from omniroute.candidates import build_problem
from omniroute.files import timestamp_key
from omniroute.joint_model import INF, BatchModel, new_highs
from omniroute.model import Network, Order, PlanResult, Policy
from omniroute.network_index import NetworkIndex
from omniroute.planner import Planner

Route = Callable[[Planner, Order], PlanResult]
"""A routing policy: the plan of one order against the planner's current stock."""


def myopic(planner: Planner, order: Order) -> PlanResult:
    """Today's CHEAPEST on the stock left."""
    return planner.plan(order, Policy.CHEAPEST, validate=False)


@dataclass(frozen=True, slots=True)
class Replayed:
    """One policy's replay: its plans (in replay order) and what they cost."""

    orders: tuple[Order, ...]  # in replay order
    results: tuple[PlanResult, ...]
    shipping_cost: float
    lost_units: int
    total_cost: float


def in_time_order(orders: Sequence[Order]) -> list[Order]:
    """Orders by ``createTime`` (orders without one keep their place among equals)."""
    return sorted(orders, key=lambda o: timestamp_key(o.create_time) if o.create_time else (0, 0))


def replay(
    network: Network, orders: Sequence[Order], route: Route, lost_sale_cost: float
) -> Replayed:
    """Replay ``orders`` in time order under ``route`` (module docstring)."""
    base = Planner(network, validate=False)
    stock = base.inventory.copy()
    planner = Planner(network, stock, index=base.index, validate=False)
    ordered = [replace(o, allow_partial=True) for o in in_time_order(orders)]
    results = []
    shipping, lost = 0.0, 0
    for order in ordered:
        result = route(planner, order)
        results.append(result)
        stock.ship(result.plan)
        shipping += result.plan.total_cost
        lost += sum(line.quantity for line in order.lines) - result.plan.units
    return Replayed(
        tuple(ordered), tuple(results), shipping, lost, shipping + lost_sale_cost * lost
    )


@dataclass(frozen=True, slots=True)
class Hindsight:
    """What hindsight could have done (module docstring)."""

    lower_bound: float  # clairvoyantLowerBound: the LP relaxation, no rule
    cost: float  # the best allocation found under the rule (inf: none found)
    bound: float  # a proven lower bound on H (= cost when proven)
    proven: bool
    seconds: float

    @property
    def best_known(self) -> float:
        """H when proven, else the proven lower bound on it."""
        return self.cost if self.proven else self.bound


def hindsight(
    network: Network, orders: Sequence[Order], lost_sale_cost: float, time_limit: float = 60.0
) -> Hindsight:
    """The clairvoyant lower bound and the hindsight cost H of ``orders`` (module docstring)."""
    start = time.perf_counter()
    planner = Planner(network, validate=False)
    index, inventory = planner.index, planner.inventory
    ordered = [replace(o, allow_partial=True) for o in in_time_order(orders)]
    problems = [build_problem(o, index, inventory) for o in ordered]
    model = BatchModel(problems, inventory, lost_sale_cost, {})
    if model.columns == 0:  # nothing can ship: every unit is lost
        return Hindsight(model.offset, model.offset, model.offset, True, 0.0)
    relaxed = model.solve(time_limit, relax=True).bound
    highs = new_highs()
    model.load(highs, time_limit)
    _add_rule(highs, model, index)
    highs.run()
    info = highs.getInfo()
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else -np.inf
    status = highs.getModelStatus()
    feasible = info.primal_solution_status == int(highspy.SolutionStatus.kSolutionStatusFeasible)
    cost = float(info.objective_function_value) if feasible else np.inf
    proven = status == highspy.HighsModelStatus.kOptimal
    return Hindsight(
        lower_bound=relaxed,
        cost=cost,
        bound=cost if proven else max(bound, relaxed),
        proven=proven,
        seconds=time.perf_counter() - start,
    )


def _add_rule(highs: highspy.Highs, model: BatchModel, index: NetworkIndex) -> None:
    """The hindsight rule's columns and rows (module docstring) on a loaded model."""
    n_skus = len(index.sku_ids)
    columns = model.columns
    running: dict[int, int] = {}  # position key -> its running column (units taken so far)
    lower: list[float] = []
    upper: list[float] = []
    entries: list[tuple[int, int, float]] = []  # (row, column, value)
    rows = 0
    new_columns: list[tuple[float, float, bool]] = []  # (lower, upper, integer)

    def column(lo: float, hi: float, integer: bool) -> int:
        nonlocal columns
        new_columns.append((lo, hi, integer))
        columns += 1
        return columns - 1

    atp = {}
    for o, problem in enumerate(model.problems):
        cols, nodes, skus = model.x_columns(o)
        keys = nodes * n_skus + skus
        for k in np.unique(skus).tolist():
            mine = skus == k
            demand = float(problem.demand[int(np.flatnonzero(problem.sku == k)[0])])
            z = column(0.0, 1.0, True)
            # shipped + d z >= d
            for c in cols[mine].tolist():
                entries.append((rows, c, 1.0))
            entries.append((rows, z, demand))
            lower.append(demand)
            upper.append(INF)
            rows += 1
            for key in np.unique(keys[mine]).tolist():
                taken_now = cols[mine & (keys == key)]
                before = running.get(key)
                after = column(0.0, INF, False)
                # after = before + taken now
                entries.append((rows, after, 1.0))
                if before is not None:
                    entries.append((rows, before, -1.0))
                for c in taken_now.tolist():
                    entries.append((rows, c, -1.0))
                lower.append(0.0)
                upper.append(0.0)
                rows += 1
                running[key] = after
                if key not in atp:
                    atp[key] = float(model.position_atp(np.array([key]))[0])
                # after >= atp z: everything there was taken when anything is lost
                entries.append((rows, after, 1.0))
                entries.append((rows, z, -atp[key]))
                lower.append(0.0)
                upper.append(INF)
                rows += 1
    if not new_columns:
        return
    lo, hi, integer = (np.array(v) for v in zip(*new_columns, strict=True))
    count = len(new_columns)
    highs.addVars(count, lo.astype(np.float64), hi.astype(np.float64))
    added = np.arange(model.columns, model.columns + count, dtype=np.int32)
    kind = np.where(
        integer, int(highspy.HighsVarType.kInteger), int(highspy.HighsVarType.kContinuous)
    ).astype(np.uint8)
    highs.changeColsIntegrality(count, added, kind)
    entries.sort()
    row = np.array([e[0] for e in entries], dtype=np.int64)
    starts = np.searchsorted(row, np.arange(rows)).astype(np.int32)
    highs.addRows(
        rows,
        np.array(lower),
        np.array(upper),
        len(entries),
        starts,
        np.array([e[1] for e in entries], dtype=np.int32),
        np.array([e[2] for e in entries], dtype=np.float64),
    )
