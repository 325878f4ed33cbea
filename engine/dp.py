"""Exact dynamic programme over nodes for orders with few units.

State: how many units of each distinct SKU are already covered (a vector ``c <= demand``),
optionally with the number of shipments used (when ``maxShipments`` binds). Nodes are added
one at a time; each either ships nothing or ships one load ``q`` (``c + q <= demand``,
``q <= ATP``) with its cheapest lane for that load. Because every node is decided once,
"at most one shipment per node" and ATP hold by construction, so the optimum over all
states is the exact optimum of the cost model (docs/cost-model.md) for the order, for every
delivery-day cap at once (one row per cap).

Values are integers: micro-units of currency times ``SHIP_SCALE`` plus the shipment count,
so that ties in cost are broken by fewer shipments. The split penalty is charged on every
shipment and refunded once at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from omniroute.candidates import OrderProblem

MONEY_SCALE = 1_000_000  # micro-units of currency
SHIP_SCALE = 1 << 10  # value = micros * SHIP_SCALE + shipments
INF = 1 << 61  # INF + INF still fits in int64


@dataclass(frozen=True, slots=True)
class DemandShape:
    """Index arithmetic for all sub-vectors of one demand vector (cached per demand)."""

    demand: tuple[int, ...]
    max_shipments: int  # 0 = the count is not tracked
    loads: np.ndarray  # (S, m) every load vector q <= demand, mixed-radix order
    units: np.ndarray  # (S,) units of each load
    states: int  # S * (max_shipments + 1) when counting, else S
    pair_from: np.ndarray  # (P,) state before adding a load
    pair_load: np.ndarray  # (P,) load index (< S)
    target: np.ndarray  # (T,) distinct states reached, ascending
    starts: np.ndarray  # (T,) first pair of each target (pairs are sorted by target)

    @property
    def full(self) -> int:
        """Load index of the whole demand."""
        return len(self.units) - 1

    def pairs_of(self, state: int) -> slice:
        """The pairs reaching ``state``."""
        t = int(np.searchsorted(self.target, state))
        stop = int(self.starts[t + 1]) if t + 1 < len(self.starts) else len(self.pair_from)
        return slice(int(self.starts[t]), stop)


def pair_count(demand: tuple[int, ...], max_shipments: int) -> int:
    """Number of (state, load) transitions: the DP's work per node and cap."""
    count = 1
    for d in demand:
        count *= (d + 1) * (d + 2) // 2
    return (count - state_count(demand)) * max(1, max_shipments)


def state_count(demand: tuple[int, ...]) -> int:
    """Number of covered-demand vectors ``c <= demand``."""
    count = 1
    for d in demand:
        count *= d + 1
    return count


@lru_cache(maxsize=4096)
def demand_shape(demand: tuple[int, ...], max_shipments: int = 0) -> DemandShape:
    """Build (and cache) the index arithmetic for ``demand``."""
    radix = np.array(demand, dtype=np.int64) + 1
    strides = np.ones(len(demand), dtype=np.int64)
    for k in range(len(demand) - 2, -1, -1):
        strides[k] = strides[k + 1] * radix[k + 1]
    size = int(np.prod(radix))
    loads = np.stack(np.unravel_index(np.arange(size), tuple(radix.tolist())), axis=1)
    # All (c, q) with c + q <= demand, built one SKU at a time (no S x S intermediate).
    before = np.zeros(1, dtype=np.int64)
    load = np.zeros(1, dtype=np.int64)
    for k, d in enumerate(demand):
        c_k, q_k = np.nonzero(np.add.outer(np.arange(d + 1), np.arange(d + 1)) <= d)
        before = (before[:, None] + c_k[None, :] * strides[k]).ravel()
        load = (load[:, None] + q_k[None, :] * strides[k]).ravel()
    keep = load > 0
    before, load = before[keep], load[keep]
    after = before + load  # no carries: c + q <= demand component-wise
    if max_shipments:
        shifts = np.arange(max_shipments, dtype=np.int64) * size
        before_all = (shifts[:, None] + before[None, :]).ravel()
        after = (shifts[:, None] + size + after[None, :]).ravel()
        load = np.tile(load, max_shipments)
        before = before_all
        states = size * (max_shipments + 1)
    else:
        states = size
    order = np.argsort(after, kind="stable")
    before, load, after = before[order], load[order], after[order]
    target, starts = np.unique(after, return_index=True)
    return DemandShape(
        demand=demand,
        max_shipments=max_shipments,
        loads=loads,
        units=loads.sum(axis=1),
        states=states,
        pair_from=before,
        pair_load=load,
        target=target,
        starts=starts,
    )


def shipment_values(
    problem: OrderProblem, shape: DemandShape, caps: np.ndarray, nodes: np.ndarray
) -> np.ndarray:
    """DP value of one shipment of every load from each of ``nodes`` under every cap.

    Shape ``(len(nodes), len(caps), S)``; ``INF`` where the load exceeds the node's ATP or
    no lane of the node arrives within the cap. Load 0 has value 0 (no shipment).
    """
    lanes = problem.lanes
    row = np.full(len(problem.nodes), -1)
    row[nodes] = np.arange(len(nodes))
    use = np.flatnonzero(row[lanes.node] >= 0)
    lane_row = row[lanes.node[use]]
    weight = shape.loads @ problem.weight
    fits = np.all(shape.loads[None, :, :] <= problem.atp[nodes][:, None, :], axis=2)  # (n, S)
    cost = lanes.select(use).costs(weight, shape.units.astype(np.float64))  # (L', S)
    penalty = round(problem.index.split_penalty * MONEY_SCALE)
    value = (np.rint(cost * MONEY_SCALE).astype(np.int64) + penalty) * SHIP_SCALE + 1
    value[~fits[lane_row]] = INF
    days = lanes.days[use]
    result = np.full((len(nodes), len(caps), len(weight)), INF, dtype=np.int64)
    for j, cap in enumerate(caps.tolist()):
        ok = days <= cap
        np.minimum.at(result[:, j, :], lane_row[ok], value[ok])
    result[:, :, 0] = 0
    return result


def keep_top(values: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep, for every cap and load, only the ``keep`` cheapest nodes (and ties).

    Exact when no optimal plan has more than ``keep`` shipments: if a plan ships load ``q``
    from a node outside the ``keep`` cheapest for ``q``, one of those cheapest is unused by
    the plan (it has at most ``keep - 1`` other shipments) and can ship ``q`` instead for no
    more cost, within the same cap. Returns the reduced values and the surviving nodes.
    """
    n = values.shape[0]
    if n > keep:
        threshold = np.partition(values, keep - 1, axis=0)[keep - 1]
        mask = (values <= threshold[None]) & (values < INF)
        mask[:, :, 0] = True
        values = np.where(mask, values, INF)
    alive = np.flatnonzero((values[:, :, 1:] < INF).any(axis=(1, 2)))
    return values[alive], alive


@dataclass(frozen=True, slots=True)
class DpResult:
    """The final DP table and what is needed to reconstruct any of its plans."""

    shape: DemandShape
    caps: np.ndarray
    candidates: np.ndarray
    values: np.ndarray  # (n, nD, S) shipment values
    history: list[np.ndarray]  # table after each candidate, each (nD, states)

    @property
    def final(self) -> np.ndarray:
        return self.history[-1]

    def best(self, cap_index: int, load: int) -> tuple[int, int]:
        """(value, state) of the best plan covering exactly ``load`` under a cap."""
        if not self.shape.max_shipments:
            return int(self.final[cap_index, load]), load
        size = len(self.shape.units)
        column = self.final[cap_index, load::size]
        count = int(np.argmin(column))
        return int(column[count]), count * size + load

    def reconstruct(self, cap_index: int, state: int) -> list[tuple[int, int]]:
        """The (candidate, load index) shipments of the plan ending in ``state``."""
        shape = self.shape
        shipments = []
        for i in range(len(self.candidates) - 1, -1, -1):
            now = self.history[i + 1][cap_index]
            before = self.history[i][cap_index]
            if now[state] == before[state]:
                continue
            pairs = shape.pairs_of(state)
            sources = shape.pair_from[pairs]
            loads = shape.pair_load[pairs]
            totals = before[sources] + self.values[i, cap_index, loads]
            hit = int(np.flatnonzero(totals == now[state])[0])
            shipments.append((int(self.candidates[i]), int(loads[hit])))
            state = int(sources[hit])
        return shipments


def run_dp(
    shape: DemandShape, caps: np.ndarray, candidates: np.ndarray, values: np.ndarray
) -> DpResult:
    """Exact optimum for every cap and every covered state over ``candidates``, whose
    shipment values (rows aligned with ``candidates``) are ``values``."""
    table = np.full((len(caps), shape.states), INF, dtype=np.int64)
    table[:, 0] = 0
    history = [table]
    for i in range(len(candidates)):
        step = table[:, shape.pair_from] + values[i][:, shape.pair_load]
        best = np.minimum.reduceat(step, shape.starts, axis=1)
        table = table.copy()
        table[:, shape.target] = np.minimum(np.minimum(table[:, shape.target], best), INF)
        history.append(table)
    return DpResult(shape, caps, candidates, values, history)
