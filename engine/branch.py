"""Exact branch and bound for orders with few candidate nodes and many units.

Orders with too many units for the DP's state space, but few candidate nodes (a few DCs
holding a large order), are solved exactly by ``omniroute._exact`` (``engine/_exact.cpp``):
best first over the sets of nodes, a lane per node and a number of parcels per shipment,
each bounded by a Lagrangian relaxation of the parcels' weight limits, and a depth-first
search over the units of each SKU within them. Unlike the one-parcel relaxation of
:mod:`omniroute.enumeration`, it counts parcels exactly, so its best plan is proven
whether or not a shipment needs a second parcel.

The search gives up (and the caller falls back to CP-SAT) beyond :data:`COMBO_LIMIT`
combinations of nodes and lanes or :data:`NODE_LIMIT` search nodes, so its time is bounded.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb

import numpy as np

from omniroute import _exact
from omniroute.candidates import OrderProblem
from omniroute.model import Policy
from omniroute.plans import Allocation, evaluate

COMBO_LIMIT = 2_000  # node sets x lane choices the search may order
NODE_LIMIT = 50_000  # search nodes (about 20 ms) before the caller falls back to CP-SAT
SUBSET_LIMIT = 64  # node sets the most-units search compares
EPSILON = 1e-6  # currency units: costs closer than this tie


@dataclass(frozen=True, slots=True)
class Branched:
    """What one search found: its best plan (empty: no plan within the cap), whether it is
    proven best, and a lower bound on every plan."""

    proven: bool
    allocations: list[Allocation]
    cost: float  # of the plan under the cost model (inf when there is none)
    ships: int
    bound: float


def search(
    problem: OrderProblem,
    cap: int,
    keep: np.ndarray,
    most: int,
    upper: float = np.inf,
    demand: np.ndarray | None = None,
) -> Branched | None:
    """The best complete plan within ``cap`` (lowest cost, then fewest shipments) from the
    ``keep`` candidates with at most ``most`` shipments, for ``demand`` (default the
    order's); None when the order has too many combinations to search.

    ``upper`` is the cost of a plan known to exist among them (inf: none known). The plan is
    proven best when the search finishes; one with a shipment's weight at a parcel edge is
    re-costed by the cost model first and proven only when the two costs agree.
    """
    args = list(problem.core_args())
    if demand is not None:
        args[1] = np.asarray(demand, dtype=np.int64)
    status, result_cost, bound, lanes, units, _, edge = _exact.search(
        *args,
        cap,
        keep,
        problem.index.split_penalty,
        most,
        upper,
        COMBO_LIMIT,
        NODE_LIMIT,
    )
    if status == 2:
        return None
    allocations = [
        Allocation(int(lane), load.astype(np.int64))
        for lane, load in zip(lanes.tolist(), units, strict=True)
    ]
    if not allocations:
        return Branched(status == 0, [], np.inf, 0, float(bound))
    cost = float(result_cost)
    ships = len(allocations)
    proven = status == 0
    if edge:  # the search's arithmetic may count parcels unlike the cost model's here
        cost = float(evaluate(problem, allocations)[0])
        proven = proven and abs(cost - float(result_cost)) <= EPSILON
    return Branched(proven, allocations, cost, ships, min(float(bound), cost))


def most_units(problem: OrderProblem, caps: np.ndarray, policy: Policy) -> list[Allocation] | None:
    """With ``maxShipments`` > 1, the plan shipping the most units, then the best for the
    policy (CHEAPEST: at the largest cap; FASTEST: at the smallest cap reaching the most
    units), proven; None when there are too many node sets or a search gives up.

    A set of at most ``maxShipments`` nodes with lanes within the cap can ship, of each SKU,
    the smaller of its demand and the set's stock, and no more; so the most units are the
    best set's, and a plan shipping that many ships exactly that from its own set. The best
    such plan is the best of the searches over the sets that reach the most units, each for
    its own demand.
    """
    limit = problem.order.max_shipments
    lanes = problem.lanes
    held = np.minimum(problem.atp, problem.demand[None, :])

    def sets_at(cap: int) -> list[tuple[int, ...]] | None:
        nodes = np.unique(lanes.node[lanes.days <= cap]).tolist()
        sizes = range(1, min(limit, len(nodes)) + 1)
        if sum(comb(len(nodes), size) for size in sizes) > SUBSET_LIMIT:
            return None
        return [subset for size in sizes for subset in itertools.combinations(nodes, size)]

    def units_of(subset: tuple[int, ...]) -> np.ndarray:
        return np.minimum(held[list(subset)].sum(axis=0), problem.demand)

    top = sets_at(int(caps[-1]))
    if top is None:
        return None
    most = max((int(units_of(subset).sum()) for subset in top), default=0)
    if most == 0:
        return []
    chosen_cap, reaching = int(caps[-1]), top
    if policy is Policy.FASTEST:
        for cap in caps.tolist():
            subsets = sets_at(int(cap))
            if subsets is None:
                return None
            if any(int(units_of(subset).sum()) == most for subset in subsets):
                chosen_cap, reaching = int(cap), subsets
                break
    best: Branched | None = None
    for subset in reaching:
        shipped = units_of(subset)
        if int(shipped.sum()) != most:
            continue
        keep = np.zeros(len(problem.nodes), dtype=bool)
        keep[list(subset)] = True
        found = search(problem, chosen_cap, keep, len(subset), demand=shipped)
        if found is None or not found.proven:
            return None
        if not found.allocations:
            continue
        if (
            best is None
            or found.cost < best.cost - EPSILON
            or (found.cost <= best.cost + EPSILON and found.ships < best.ships)
        ):
            best = found
    return best.allocations if best is not None else None
