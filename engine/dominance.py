"""Exactness-preserving removal of candidates that no optimal plan needs.

Two arguments, both for every policy (they never raise cost, delivery days or shipments):

*Replace*: node ``j`` replaces node ``i`` when ``j`` holds at least ``min(ATP_i, demand)`` of
every SKU and, for every lane of ``i``, has a lane at least as cheap for every load and no
slower. If a plan ships from ``i`` and ``j`` is unused, moving ``i``'s load to ``j`` costs no
more.

*Absorb*: node ``j`` absorbs node ``i`` when ``j`` holds the whole demand of every SKU ``i``
holds and, for every lane ``j`` might use, adding any load of ``i`` to ``j``'s shipment costs
no more than ``i``'s own shipment plus the split penalty it causes. If a plan ships from
both, merging ``i`` into ``j`` costs no more, arrives no later and ships once less.

So a node can go when one node both replaces and absorbs it (whether that node is used or
not, one move applies), or when at least ``max_shipments`` nodes replace it (one of them is
unused by any plan with at most that many shipments).
"""

from __future__ import annotations

import numpy as np

from omniroute.candidates import OrderProblem
from omniroute.cost import PARCEL_TOLERANCE


def dominated_nodes(problem: OrderProblem, max_shipments: int) -> np.ndarray:
    """Boolean mask over candidates: True for nodes that some optimal plan does without.

    Nodes are considered best first (nodes holding the whole demand, then by their cheapest
    one-unit shipment); a node may only be removed thanks to nodes considered before it, so
    every chain of moves ends at a kept node.
    """
    lanes = problem.lanes
    n = len(problem.nodes)
    removed = np.zeros(n, dtype=bool)
    if n < 2:
        return removed
    demand = problem.demand
    held = np.minimum(problem.atp, demand)  # (n, m): the most each node can ship
    holds = held > 0
    per_unit = (
        lanes.per_kg[:, None] * problem.weight[None, :]
        + lanes.handling_unit[:, None]
        + problem.lane_prices(np.arange(len(lanes)))
    )
    starts = np.searchsorted(lanes.node, np.arange(n))  # lanes are sorted by node

    # Lane pairs [a, b] (a: a lane of i, b: a lane of j).
    at_least_as_good = (
        (lanes.handling_shipment[None, :] <= lanes.handling_shipment[:, None])
        & (lanes.handling_unit[None, :] <= lanes.handling_unit[:, None])
        & (lanes.base[None, :] <= lanes.base[:, None])
        & (lanes.per_kg[None, :] <= lanes.per_kg[:, None])
        & (lanes.max_parcel[None, :] >= lanes.max_parcel[:, None])
        & (lanes.days[None, :] <= lanes.days[:, None])
    )
    if problem.price is not None:  # b's node prices every unit no higher than a's
        at_least_as_good &= np.all(per_unit[None, :, :] <= per_unit[:, None, :], axis=2)
    # Absorbing i's heaviest load into b costs at most its units at b's per-unit prices
    # above a's, plus the parcels it needs on b; i's own shipment on a costs at least a's
    # per-shipment handling and one parcel, and its split penalty is saved.
    heaviest = held[lanes.node]  # (L, m) i's largest load, per lane of i
    above = np.maximum(0.0, per_unit[None, :, :] - per_unit[:, None, :])  # [a, b, k]
    units_extra = np.einsum("abk,ak->ab", above, heaviest.astype(np.float64))
    weight = heaviest @ problem.weight
    parcels = np.maximum(
        1.0, np.ceil(weight[:, None] / lanes.max_parcel[None, :] - PARCEL_TOLERANCE)
    )
    absorb_extra = units_extra + lanes.base[None, :] * parcels - lanes.base[:, None]
    absorb_ok = absorb_extra <= (lanes.handling_shipment + problem.index.split_penalty)[:, None]

    # Node pairs [i, j].
    def per_node(table: np.ndarray, over_b: np.ufunc, over_a: np.ufunc) -> np.ndarray:
        by_j = over_b.reduceat(table, starts, axis=1)
        return over_a.reduceat(by_j, starts, axis=0)

    replaces = per_node(at_least_as_good, np.logical_or, np.logical_and)
    replaces &= np.all(problem.atp[None, :, :] >= held[:, None, :], axis=2)
    absorbs = per_node(absorb_ok, np.logical_and, np.logical_and)
    absorbs &= np.all((problem.atp[None, :, :] >= demand) | ~holds[:, None, :], axis=2)
    np.fill_diagonal(replaces, False)
    np.fill_diagonal(absorbs, False)

    whole = np.all(problem.atp >= demand, axis=1)
    cheapest = np.minimum.reduceat(
        lanes.base
        + lanes.handling_shipment
        + np.where(holds[lanes.node], per_unit, np.inf).min(axis=1),
        starts,
    )
    pickup = problem.order.pickup_store_id
    earlier = np.zeros(n, dtype=bool)
    for i in np.lexsort((np.arange(n), cheapest, ~whole)).tolist():
        is_pickup = pickup and problem.index.node_ids[problem.nodes[i]] == pickup
        witness_replace = replaces[i] & earlier
        if not is_pickup and (
            (witness_replace & absorbs[i]).any() or witness_replace.sum() >= max_shipments
        ):
            removed[i] = True
        earlier[i] = True
    return removed
