"""Exact enumeration of node sets for orders with many units (too many for the DP's state
space) and few shipments.

*Relaxation*: charge every shipment one parcel (the true parcel count is at least one), so
that a shipment costs its lane's fixed part plus a per-unit price per SKU. For a fixed set
of nodes with fixed lanes the cheapest allocation is then per SKU: fill from the cheapest
node up to its ATP, then the next (a greedy that is exact for linear costs). Sets are
enumerated by size with branch and bound: a set's bound uses each node's cheapest fixed
part and cheapest per-unit prices over its lanes, and only sets whose bound beats the best
plan so far have their lane combinations expanded. The best true plan found bounds the
number of shipments worth trying (``most_shipments``), which stops the search.

*Proof*: the relaxation's best plan is re-costed with its true parcel counts. When no
shipment needs a second parcel, its true cost equals the lower bound, so it is optimal.
Otherwise the caller falls back to CP-SAT with this plan as warm start and the relaxation as
the bound.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from math import comb

import numpy as np

from omniroute.candidates import OrderProblem
from omniroute.plans import Allocation, evaluate

SET_LIMIT = 60_000  # node sets of one size whose bound is computed
ROW_LIMIT = 100_000  # lane combinations expanded per size
EPSILON = 1e-7


@dataclass(frozen=True, slots=True)
class Relaxed:
    """The relaxation's optimum at one cap and the true cost of its plan."""

    lower_bound: float  # no complete plan within the cap costs less
    allocations: list[Allocation]
    true_cost: float
    ships: int

    @property
    def proven(self) -> bool:
        return self.true_cost <= self.lower_bound + EPSILON


def solve_relaxed(
    problem: OrderProblem,
    cap: int,
    keep: np.ndarray,
    upper: float,
    most_shipments: Callable[[float], int],
) -> Relaxed | None:
    """The one-parcel relaxation's optimum within ``cap`` over the ``keep`` candidates, or
    None when the search would be too large or finds nothing cheaper than ``upper``.

    ``most_shipments(cost)`` bounds the shipments of any plan costing at most ``cost``.
    """
    lanes = problem.lanes
    usable = np.flatnonzero((lanes.days <= cap) & keep[lanes.node])
    if len(usable) == 0:
        return None
    demand = problem.demand.astype(np.float64)
    penalty = problem.index.split_penalty
    fixed = lanes.base[usable] + lanes.handling_shipment[usable] + penalty
    held = problem.atp[lanes.node[usable]] > 0
    per_unit = (
        lanes.per_kg[usable, None] * problem.weight[None, :]
        + lanes.handling_unit[usable, None]
        + problem.lane_prices(usable)
    )
    per_unit = np.where(held, per_unit, np.inf)
    usable, fixed, per_unit = _undominated(lanes.node[usable], usable, fixed, per_unit)
    lane_node = lanes.node[usable]
    nodes, first = np.unique(lane_node, return_index=True)
    slot = np.searchsorted(nodes, lane_node)  # node position of each lane
    node_fixed = np.minimum.reduceat(fixed, first)
    node_unit = np.minimum.reduceat(per_unit, first, axis=0)
    node_atp = problem.atp[nodes]
    lanes_of = [np.flatnonzero(slot == i) for i in range(len(nodes))]

    best_relaxed, best, best_true = np.inf, None, upper
    size = 1
    while size <= min(most_shipments(best_true), len(nodes)):
        if comb(len(nodes), size) > SET_LIMIT:
            return None
        sets = np.array(list(itertools.combinations(range(len(nodes)), size)), dtype=np.int64)
        bound, _ = _greedy(sets, node_fixed, node_unit, node_atp, demand)
        promising = sets[bound - penalty < min(best_relaxed, best_true) - EPSILON]
        if len(promising):
            rows = _lane_rows(promising, lanes_of)
            if rows is None:
                return None
            cost, fills = _greedy(rows, fixed, per_unit, problem.atp[lane_node], demand)
            pick = int(np.argmin(cost))
            if cost[pick] - penalty < best_relaxed - EPSILON:
                best_relaxed = float(cost[pick]) - penalty
                best = [
                    Allocation(int(usable[lane]), fills[pick, j].astype(np.int64))
                    for j, lane in enumerate(rows[pick].tolist())
                    if fills[pick, j].sum() > 0
                ]
                best_true = min(best_true, evaluate(problem, best)[0])
        size += 1
    if best is None:
        return None
    true_cost, _, ships = evaluate(problem, best)
    return Relaxed(best_relaxed, best, true_cost, ships)


def _lane_rows(sets: np.ndarray, lanes_of: list[np.ndarray]) -> np.ndarray | None:
    """Every choice of one lane per node for each set, as rows of lane positions."""
    counts = np.array([len(lanes) for lanes in lanes_of])
    total = int(np.prod(counts[sets], axis=1).sum())
    if total > ROW_LIMIT:
        return None
    rows = [
        combo
        for subset in sets.tolist()
        for combo in itertools.product(*(lanes_of[i].tolist() for i in subset))
    ]
    return np.array(rows, dtype=np.int64).reshape(-1, sets.shape[1])


def _undominated(
    node: np.ndarray, lane_ids: np.ndarray, fixed: np.ndarray, per_unit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop lanes another lane of the same node beats on fixed and every per-unit price."""
    keep = np.ones(len(lane_ids), dtype=bool)
    for a in range(len(lane_ids)):
        for b in np.flatnonzero((node == node[a]) & keep).tolist():
            if b == a:
                continue
            no_worse = fixed[b] <= fixed[a] and np.all(per_unit[b] <= per_unit[a])
            better = fixed[b] < fixed[a] or np.any(per_unit[b] < per_unit[a])
            if no_worse and (better or b < a):
                keep[a] = False
                break
    return lane_ids[keep], fixed[keep], per_unit[keep]


def _greedy(
    rows: np.ndarray, fixed: np.ndarray, per_unit: np.ndarray, atp: np.ndarray, demand: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Relaxed cost of each row (one entry per shipment) and its fills ``(rows, size, m)``:
    per SKU, units go to the cheapest entry first, up to its ATP. Infeasible rows cost inf."""
    price = per_unit[rows]  # (R, s, m)
    stock = np.minimum(atp[rows], demand).astype(np.float64)
    order = np.argsort(price, axis=1, kind="stable")
    price_sorted = np.take_along_axis(price, order, axis=1)
    stock_sorted = np.take_along_axis(stock, order, axis=1)
    before = np.cumsum(stock_sorted, axis=1) - stock_sorted
    fill_sorted = np.clip(demand[None, None, :] - before, 0.0, stock_sorted)
    variable = np.where(
        fill_sorted > 0, fill_sorted * np.where(np.isfinite(price_sorted), price_sorted, 0.0), 0.0
    )
    cost = fixed[rows].sum(axis=1) + variable.sum(axis=(1, 2))
    cost = np.where(np.all(fill_sorted.sum(axis=1) >= demand, axis=1), cost, np.inf)
    fills = np.empty_like(fill_sorted)
    np.put_along_axis(fills, order, fill_sorted, axis=1)
    return cost, fills
