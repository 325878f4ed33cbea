"""What a unit of stock will be worth tomorrow: opportunity costs from a demand forecast.

Routing each order to its cheapest plan today can spend the unit that the next customers
near that node needed. Look-ahead routing prices every unit of stock by the expected cost of
losing it: λ(node, SKU), the dual value of the node's inventory in a fluid model of the
demand still to come (Acimovic & Graves, 2015).

*Forecast* (:class:`DemandForecast`): demand regions (each a centre; an order's destination
belongs to the nearest), online demand per (region, SKU) and walk-in demand per (store,
SKU) in units per day, a horizon, and a cost per lost unit per SKU (by default twice the
dearest cost of shipping one unit of it from any node that can hold it to any region,
:func:`default_lost_sale_cost`). :func:`estimate_forecast` makes one from the order
history when none is given.

*Model*, per SKU ``k`` over the horizon (``D_r`` online demand of region ``r``, ``W_s``
walk-in demand at store ``s``, ``c_nr`` the cheapest cost of shipping one unit from node
``n`` to the centre of ``r``, ``L`` the lost-sale cost, ``a_n`` the node's ATP)::

    min  sum_nr c_nr f_nr + L (sum_r u_r + sum_s v_s)
    s.t. sum_r f_nr + g_n <= a_n          (dual -λ_n)   stock of node n
         sum_n f_nr + u_r = D_r                        online demand of region r
         g_s + v_s = W_s                               walk-ins at store s (its own stock)
         f, g, u, v >= 0

λ_n is what one unit less at node ``n`` would add to the cost of serving the horizon's
demand: 0 where stock is plentiful, up to ``L`` where it is the last unit near demand. The
duals of one LP are unstable (a dual jumps where demand meets stock), so the demand is
sampled (Poisson around the forecast) and λ averaged over the samples, then capped at ``L``.
The LP is solved by HiGHS (dual simplex), one small LP per SKU with forecast demand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

from omniroute.cost import parcels_array
from omniroute.geo import distances_km
from omniroute.model import Location, NodeKind, Order
from omniroute.network_index import Inventory, NetworkIndex

DEFAULT_SAMPLES = 16  # demand samples λ is averaged over
LOST_SALE_FACTOR = 2.0  # default lost-sale cost: this times the dearest one-unit shipment
DEFAULT_HALF_LIFE_DAYS = 7.0  # weight of an order in an estimate halves with this age
DEFAULT_PRIOR_UNITS = 5.0  # pseudo-units pulling a SKU's regional split toward the total's


@dataclass(frozen=True, slots=True)
class DemandRegion:
    """A demand region: the destinations nearer to ``centre`` than to any other centre."""

    id: str
    centre: Location


@dataclass(frozen=True, slots=True)
class DemandForecast:
    """Expected demand over ``horizon_days`` (rates in units per day)."""

    horizon_days: float
    regions: tuple[DemandRegion, ...]
    online: Mapping[tuple[str, str], float]  # (region id, SKU id) -> units per day
    walkin: Mapping[tuple[str, str], float] = field(default_factory=dict)  # (store, SKU)
    lost_sale_cost: Mapping[str, float] = field(default_factory=dict)  # SKU -> per unit

    def region_of(self, location: Location) -> str:
        """The id of the region whose centre is nearest to ``location``."""
        latitudes = np.array([r.centre.latitude for r in self.regions])
        longitudes = np.array([r.centre.longitude for r in self.regions])
        distances = distances_km(latitudes, longitudes, location.latitude, location.longitude)
        return self.regions[int(np.argmin(distances))].id


@dataclass(frozen=True, slots=True)
class OpportunityCosts:
    """λ per stock position (node id, SKU id) -> currency per unit; absent positions: 0."""

    prices: Mapping[tuple[str, str], float]
    samples: int

    def of(self, node_id: str, sku_id: str) -> float:
        return self.prices.get((node_id, sku_id), 0.0)


def unit_costs(index: NetworkIndex, sku: int, nodes: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(nodes, regions): the cheapest cost of shipping one unit of SKU ``sku`` from each of
    ``nodes`` (indices) to each centre (rows of latitude, longitude) by any service the node
    offers (inf when none reaches it). Promises and pick-up are left out: this prices
    demand that has not been placed yet."""
    weight = float(index.sku_weight[sku])
    best = np.full((len(nodes), len(centres)), np.inf)
    for j, (latitude, longitude) in enumerate(centres.tolist()):
        distance = distances_km(index.latitude[nodes], index.longitude[nodes], latitude, longitude)
        for s in range(len(index.services)):
            offered = index.offers[nodes, s]
            if not offered.any():
                continue
            zone = (distance[:, None] > index.zone_max_table[s][None, :]).sum(axis=1)
            reachable = offered & (zone < index.zone_count[s])
            parcels = parcels_array(np.array([weight]), index.max_parcel[[s]])[0]
            cost = (
                parcels * index.zone_base_table[s, zone]
                + index.zone_per_kg_table[s, zone] * weight
                + index.handling_shipment[nodes]
                + index.handling_unit[nodes]
            )
            best[:, j] = np.where(reachable, np.minimum(best[:, j], cost), best[:, j])
    return best


def default_lost_sale_cost(index: NetworkIndex, regions: Sequence[DemandRegion], sku: int) -> float:
    """Twice the dearest finite cost of shipping one unit of ``sku`` from any node to any
    region centre (at least 1 currency unit)."""
    centres = np.array([[r.centre.latitude, r.centre.longitude] for r in regions])
    costs = unit_costs(index, sku, np.arange(len(index.nodes)), centres)
    finite = costs[np.isfinite(costs)]
    return LOST_SALE_FACTOR * max(1.0, float(finite.max()) if len(finite) else 1.0)


def opportunity_costs(
    index: NetworkIndex,
    inventory: Inventory,
    forecast: DemandForecast,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> OpportunityCosts:
    """λ for every stock position of every SKU with forecast demand (see the module
    docstring), averaged over ``samples`` Poisson samples of the horizon's demand (0: the
    expected demand itself, unsampled)."""
    region_pos = {r.id: i for i, r in enumerate(forecast.regions)}
    centres = np.array([[r.centre.latitude, r.centre.longitude] for r in forecast.regions])
    online: dict[int, np.ndarray] = {}
    for (region_id, sku_id), rate in forecast.online.items():
        k = index.sku_pos[sku_id]
        online.setdefault(k, np.zeros(len(forecast.regions)))[region_pos[region_id]] += rate
    walkin: dict[int, dict[int, float]] = {}
    for (store_id, sku_id), rate in forecast.walkin.items():
        k = index.sku_pos[sku_id]
        store = index.node_pos[store_id]
        walkin.setdefault(k, {})[store] = walkin.get(k, {}).get(store, 0.0) + rate
    rng = np.random.default_rng(seed)
    prices: dict[tuple[str, str], float] = {}
    for k in sorted(set(online) | set(walkin)):
        stock = inventory.sku(k)
        held = stock.atp() > 0
        nodes, atp = stock.nodes[held], stock.atp()[held].astype(np.float64)
        if len(nodes) == 0:
            continue
        sku_id = index.sku_ids[k]
        lost = forecast.lost_sale_cost.get(sku_id)
        if lost is None:
            lost = default_lost_sale_cost(index, forecast.regions, k)
        rates = online.get(k, np.zeros(len(forecast.regions)))
        costs = unit_costs(index, k, nodes, centres)
        stores = walkin.get(k, {})
        store_rows = np.array([int(np.searchsorted(nodes, s)) for s in stores], dtype=np.int64)
        present = [
            i
            for i, s in enumerate(stores)
            if store_rows[i] < len(nodes) and nodes[store_rows[i]] == s
        ]
        walk_rates = np.array(list(stores.values()), dtype=np.float64)[present]
        walk_rows = store_rows[present]
        total = np.zeros(len(nodes))
        if samples == 0:  # the expected demand itself
            total = _duals(costs, atp, rates * forecast.horizon_days, walk_rows,
                           walk_rates * forecast.horizon_days, lost)  # fmt: skip
        for _ in range(samples):
            demand = rng.poisson(rates * forecast.horizon_days).astype(np.float64)
            walks = rng.poisson(walk_rates * forecast.horizon_days).astype(np.float64)
            total += _duals(costs, atp, demand, walk_rows, walks, lost)
        for n, value in zip(nodes.tolist(), (total / max(samples, 1)).tolist(), strict=True):
            if value > 0:
                prices[(index.node_ids[n], sku_id)] = min(value, lost)
    return OpportunityCosts(prices, samples)


def _duals(
    costs: np.ndarray,
    atp: np.ndarray,
    demand: np.ndarray,
    walk_rows: np.ndarray,
    walks: np.ndarray,
    lost: float,
) -> np.ndarray:
    """λ per node of one SKU's LP (module docstring) for one demand sample."""
    n, r = costs.shape
    if demand.sum() + walks.sum() == 0:
        return np.zeros(n)
    arcs_n, arcs_r = np.nonzero(np.isfinite(costs) & (demand[None, :] > 0))
    w = len(walk_rows)
    # columns: f (arcs), g (walk-ins served), u (regions' lost units), v (walk-ins lost)
    n_cols = len(arcs_n) + w + r + w
    cost = np.concatenate([costs[arcs_n, arcs_r], np.zeros(w), np.full(r + w, lost)])
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.addVars(n_cols, np.zeros(n_cols), np.full(n_cols, highspy.kHighsInf))
    highs.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), cost)
    f0, g0, u0, v0 = 0, len(arcs_n), len(arcs_n) + w, len(arcs_n) + w + r
    rows: list[tuple[int, int, float]] = []  # (row, column, value)
    for i, (a, b) in enumerate(zip(arcs_n.tolist(), arcs_r.tolist(), strict=True)):
        rows += [(a, f0 + i, 1.0), (n + b, f0 + i, 1.0)]
    for i, row in enumerate(walk_rows.tolist()):
        rows += [(row, g0 + i, 1.0), (n + r + i, g0 + i, 1.0), (n + r + i, v0 + i, 1.0)]
    rows += [(n + j, u0 + j, 1.0) for j in range(r)]
    lower = np.concatenate([np.full(n, -highspy.kHighsInf), demand, walks])
    upper = np.concatenate([atp, demand, walks])
    entries = sorted(rows)
    row_index = np.array([e[0] for e in entries], dtype=np.int64)
    starts = np.searchsorted(row_index, np.arange(len(lower))).astype(np.int32)
    highs.addRows(
        len(lower),
        lower,
        upper,
        len(entries),
        starts,
        np.array([e[1] for e in entries], dtype=np.int32),
        np.array([e[2] for e in entries]),
    )
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return np.zeros(n)
    return np.maximum(0.0, -np.asarray(highs.getSolution().row_dual[:n]))


def estimate_forecast(
    orders: Iterable[Order],
    index: NetworkIndex,
    regions: Sequence[DemandRegion],
    horizon_days: float,
    span_days: float,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    prior_units: float = DEFAULT_PRIOR_UNITS,
    ages_days: Sequence[float] | None = None,
) -> DemandForecast:
    """A forecast from an order history covering ``span_days``.

    Each order's units count with weight ``0.5 ** (age / half_life_days)`` (``ages_days``,
    one per order; all 0 when not given), so recent demand counts more. A SKU's daily rate
    is its weighted units over the span's weighted length; its split over regions is its own
    weighted split shrunk toward the split of all demand by ``prior_units`` pseudo-units,
    so a SKU seen a few times is spread like the rest rather than only where it was seen.
    Orders for pick-up count at the pick-up store's region.
    """
    forecast = DemandForecast(horizon_days, tuple(regions), {})
    orders = list(orders)
    ages = list(ages_days) if ages_days is not None else [0.0] * len(orders)
    by_sku: dict[str, np.ndarray] = {}
    overall = np.zeros(len(regions))
    region_pos = {r.id: i for i, r in enumerate(regions)}
    for order, age in zip(orders, ages, strict=True):
        weight = 0.5 ** (age / half_life_days)
        if order.pickup_store_id:
            location = index.nodes_by_id[order.pickup_store_id].location
        elif order.destination is not None:
            location = order.destination
        else:
            continue
        r = region_pos[forecast.region_of(location)]
        for line in order.lines:
            units = weight * line.quantity
            by_sku.setdefault(line.sku_id, np.zeros(len(regions)))[r] += units
            overall[r] += units
    if not by_sku:
        return forecast
    share = overall / overall.sum()
    # the span's weighted length: the integral of the weight over the span, in days
    effective = (
        half_life_days / math.log(2) * (1 - 0.5 ** (span_days / half_life_days))
        if ages_days is not None
        else span_days
    )
    online: dict[tuple[str, str], float] = {}
    for sku_id, counts in by_sku.items():
        total = counts.sum()
        split = (counts + prior_units * share) / (total + prior_units)
        for r, value in enumerate((total / effective * split).tolist()):
            if value > 0:
                online[(regions[r].id, sku_id)] = value
    return DemandForecast(horizon_days, tuple(regions), online)


def node_regions(
    index: NetworkIndex, kinds: Sequence[NodeKind] = (NodeKind.STORE,)
) -> list[DemandRegion]:
    """Demand regions centred on the network's nodes of ``kinds`` (stores by default): a
    destination belongs to its nearest store's region."""
    return [DemandRegion(node.id, node.location) for node in index.nodes if node.kind in kinds] or [
        DemandRegion(node.id, node.location) for node in index.nodes
    ]
