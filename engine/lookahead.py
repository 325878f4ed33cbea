"""What a unit of stock will be worth tomorrow: opportunity costs from a demand forecast.

Routing each order to its cheapest plan today can spend the unit that the next customers
near that node needed. Look-ahead routing prices every unit of stock by the expected cost of
losing it: λ(node, SKU), the dual value of the node's inventory in a fluid model of the
demand still to come (Acimovic & Graves, 2015).

*Forecast* (:class:`DemandForecast`): demand regions (each a centre; an order's destination
belongs to the nearest), online demand per (region, SKU, order class: the orders' delivery
promise in days, channel, sourcing profile, excluded nodes and pick-up store,
:class:`OrderClass`) and store demand per (store, SKU) (walk-ins: units only that store's
shelf can serve), in units per day over a horizon; a cost per lost unit per SKU (by
default twice the dearest cost of shipping one unit of it from any node to any region,
:func:`default_lost_sale_cost`); and optionally a markdown cost per unit still at a node
when the horizon ends.
:func:`estimate_forecast` makes one from an order history when none is given.

*Model*, per SKU ``k`` over the horizon: the demand classes are the forecast's (region,
order class) pairs, each served as an order of one unit to the region's centre of that class
would be (``c_nj``: the cheapest cost of shipping one unit from node ``n`` on the lanes
:func:`omniroute.candidates.build_problem` gives such an order, so promises, channel fences,
sourcing profiles and exclusions count; no lane, no arc: demand that only some nodes may
serve prices those nodes' stock), and the stores' own demand ``W_s``; ``L``
is the lost-sale cost, ``a_n`` the node's ATP and ``m_n`` its markdown cost::

    min  sum_nj (c_nj - m_n) f_nj - sum_s m_s g_s + L (sum_j u_j + sum_s v_s)
    s.t. sum_j f_nj + g_n <= a_n          (dual -μ_n)   stock of node n
         sum_n f_nj + u_j = D_j                        online demand of class j
         g_s + v_s = W_s                               store demand at store s (its own shelf)
         f, g, u, v >= 0

μ_n is what one unit less at node ``n`` would add to the cost of serving the horizon's
demand, net of the markdown a unit used now saves: λ_n = max(0, μ_n - m_n), 0 where stock is
plentiful, up to ``L`` where it is the last unit near demand (a unit that would otherwise be
marked down counts 0, never less, so every shipment still costs at least its shipping). The
duals of one LP are unstable (a dual jumps where demand meets stock), so the demand is
sampled (Poisson around the forecast) and λ averaged over the samples, then capped at ``L``.
With whole units of demand and stock the LP is degenerate wherever demand meets stock, and
HiGHS may then return any dual between the value of one unit *more* and the cost of one
unit *less*. Routing spends units, so λ must be the second: each LP (sampled or not) has
the stock ``a_n - ε_n``, with ``ε_n`` random and summing to under half a unit over the
nodes. That point lies just below the stock in every node's direction and crosses no other
break of the cost (those are whole units apart), so its duals are the costs of one unit
less. The LPs are solved by HiGHS (dual simplex), one small LP per SKU with forecast demand.

*Baskets* (:class:`Basket`, :func:`basket_costs`): a forecast may also list the kinds of
order it expects, each an order (lines, destination or pick-up store, class) with a rate
per day. With 1 to :data:`MAX_BASKETS` of them, λ comes from them instead: each sample
draws every basket's count over the horizon and solves the LP relaxation of joint
allocation of those orders (:class:`omniroute.joint_model.BatchModel`: the exact cost
model, so parcels, one shipment per node, shipment limits and the lines an order wants
together count, which the per-SKU model above cannot see), the lost-sale cost as the
penalty per unit not shipped and the markdown as a credit per unit shipped; λ is the
stock rows' duals less the markdown, at the stock just below its level as above. ``k``
orders of one basket are, in the LP relaxation, the basket once with its bounds ``k``
times as large, so the model is built once and each sample rescales the bounds. θ
defaults to :data:`BASKET_THETA` for these prices (:attr:`OpportunityCosts.theta`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import highspy
import numpy as np

from omniroute.candidates import OrderProblem, build_problem
from omniroute.cost import parcels_array
from omniroute.geo import distances_km
from omniroute.joint_model import BatchModel, Rows, new_highs
from omniroute.model import (
    Channel,
    Location,
    NodeKind,
    Order,
    OrderLine,
    PlanResult,
)
from omniroute.network_index import Inventory, NetworkIndex

if TYPE_CHECKING:
    from omniroute.planner import Planner

DEFAULT_SAMPLES = 16  # demand samples λ is averaged over
# λ from baskets when a forecast has at most MAX_BASKETS of them and their LP at most
# MAX_BASKET_COLUMNS columns (it solves in seconds; a day of thousands of orders would take
# minutes per sample: such forecasts are priced from their rates per SKU)
MAX_BASKETS = 2_000
MAX_BASKET_COLUMNS = 30_000
BASKET_SECONDS = 30.0  # time limit of one sample's LP (one that runs out is left out)
LOST_SALE_FACTOR = 2.0  # default lost-sale cost: this times the dearest one-unit shipment
DEFAULT_HALF_LIFE_DAYS = 7.0  # weight of an order in an estimate halves with this age
DEFAULT_PRIOR_UNITS = 5.0  # pseudo-units pulling a SKU's regional split toward the total's
# weight of the opportunity cost in the routing objective (docs/lookahead.md#measured): with
# λ from rates per SKU, 2 closes the most of the gap where stock is scarce and in the Jasin &
# Sinha setting, 1 where it is plentiful; with λ from baskets, 1 (larger θ closed less on the
# batches tried)
DEFAULT_THETA = 2.0
BASKET_THETA = 1.0


@dataclass(frozen=True, slots=True)
class OrderClass:
    """What decides which nodes and lanes may serve a forecast's online demand: the orders'
    delivery promise in days (0: none), channel (its fences and sourcing profile apply),
    named sourcing profile ("": the channel's), excluded nodes (sorted, no repeats) and
    pick-up store ("": delivered to the customer; else collected there, from its own shelf
    or shipped to it by other nodes)."""

    promise_days: int = 0
    channel: Channel = Channel.WEB
    sourcing_profile_id: str = ""
    excluded_node_ids: tuple[str, ...] = ()
    pickup_store_id: str = ""

    @classmethod
    def of(cls, order: Order) -> OrderClass:
        """The class of ``order``."""
        return cls(
            order.promise_days,
            order.channel,
            order.sourcing_profile_id,
            tuple(sorted(set(order.excluded_node_ids))),
            order.pickup_store_id,
        )

    def order(self, order_id: str, lines: tuple[OrderLine, ...], destination: Location) -> Order:
        """An order of this class (partial plans allowed)."""
        return Order(
            id=order_id,
            lines=lines,
            destination=destination,
            channel=self.channel,
            promise_days=self.promise_days,
            excluded_node_ids=self.excluded_node_ids,
            allow_partial=True,
            pickup_store_id=self.pickup_store_id,
            sourcing_profile_id=self.sourcing_profile_id,
        )


OnlineKey = tuple[str, str, OrderClass]  # (region id, SKU id, the orders' class)


@dataclass(frozen=True, slots=True)
class Basket:
    """A kind of order the forecast expects ``rate`` times a day: ``order``'s lines (its
    basket), destination or pick-up store and class. ``walkin``: a walk-in customer at the
    order's pick-up store, served only from that store's shelf, at no shipping cost."""

    order: Order
    rate: float
    walkin: bool = False


@dataclass(frozen=True, slots=True)
class DemandRegion:
    """A demand region: the destinations nearer to ``centre`` than to any other centre."""

    id: str
    centre: Location


@dataclass(frozen=True, slots=True)
class DemandForecast:
    """Expected demand over ``horizon_days`` (rates in units per day; module docstring)."""

    horizon_days: float
    regions: tuple[DemandRegion, ...]
    online: Mapping[OnlineKey, float]  # (region, SKU, order class) -> units per day
    store: Mapping[tuple[str, str], float] = field(default_factory=dict)  # (store, SKU)
    lost_sale_cost: Mapping[str, float] = field(default_factory=dict)  # SKU -> per unit
    markdown_cost: Mapping[tuple[str, str], float] = field(default_factory=dict)  # (node, SKU)
    baskets: tuple[Basket, ...] = ()  # the orders' baskets; when given, λ comes from them

    def region_of(self, location: Location) -> str:
        """The id of the region whose centre is nearest to ``location``."""
        latitudes = np.array([r.centre.latitude for r in self.regions])
        longitudes = np.array([r.centre.longitude for r in self.regions])
        distances = distances_km(latitudes, longitudes, location.latitude, location.longitude)
        return self.regions[int(np.argmin(distances))].id

    def over(self, horizon_days: float, factor: float = 1.0) -> DemandForecast:
        """The same rates times ``factor`` (a biased forecast) over another horizon."""
        return DemandForecast(
            horizon_days,
            self.regions,
            {key: rate * factor for key, rate in self.online.items()},
            {key: rate * factor for key, rate in self.store.items()},
            self.lost_sale_cost,
            self.markdown_cost,
            tuple(Basket(b.order, b.rate * factor, b.walkin) for b in self.baskets),
        )


@dataclass(frozen=True, slots=True)
class OpportunityCosts:
    """λ per stock position (node id, SKU id) -> currency per unit; absent positions: 0."""

    prices: Mapping[tuple[str, str], float]
    samples: int
    model: str = "units"  # "baskets": from the forecast's baskets; "units": its rates per SKU

    @property
    def theta(self) -> float:
        """The default weight of these prices in the routing objective
        (:data:`BASKET_THETA` or :data:`DEFAULT_THETA`)."""
        return BASKET_THETA if self.model == "baskets" else DEFAULT_THETA

    def of(self, node_id: str, sku_id: str) -> float:
        return self.prices.get((node_id, sku_id), 0.0)

    def matrix(self, index: NetworkIndex) -> np.ndarray:
        """λ as a (nodes, SKUs) array of the network's positions."""
        out = np.zeros((len(index.node_ids), len(index.sku_ids)))
        for (node_id, sku_id), value in self.prices.items():
            out[index.node_pos[node_id], index.sku_pos[sku_id]] = value
        return out


class Shipping:
    """One-unit shipping from some nodes (indices) to some centres (rows of latitude,
    longitude): the zone each service the node offers puts each centre in, worked out once
    and reused for every SKU's costs (:meth:`costs`)."""

    def __init__(self, index: NetworkIndex, nodes: np.ndarray, centres: np.ndarray) -> None:
        self.index = index
        self.nodes = nodes
        self.shape = (len(nodes), len(centres))
        distance = np.empty(self.shape)
        for j, (latitude, longitude) in enumerate(centres.tolist()):
            distance[:, j] = distances_km(
                index.latitude[nodes], index.longitude[nodes], latitude, longitude
            )
        self.zones: list[tuple[int, np.ndarray, np.ndarray]] = []  # service, zone, reached
        for s in range(len(index.services)):
            offered = index.offers[nodes, s]
            if not offered.any():
                continue
            zone = (distance[:, :, None] > index.zone_max_table[s][None, None, :]).sum(axis=2)
            self.zones.append((s, zone, offered[:, None] & (zone < index.zone_count[s])))

    def costs(self, sku: int) -> np.ndarray:
        """(nodes, centres): the cheapest cost of shipping one unit of SKU ``sku`` from each
        node to each centre by any service the node offers (inf when none reaches it).
        Promises and pick-up are left out: this prices demand that has not been placed
        yet."""
        index, nodes = self.index, self.nodes
        weight = float(index.sku_weight[sku])
        best = np.full(self.shape, np.inf)
        handling_shipment = index.handling_shipment[nodes][:, None]
        handling_unit = index.handling_unit[nodes][:, None]
        for s, zone, reached in self.zones:
            parcels = parcels_array(np.array([weight]), index.max_parcel[[s]])[0]
            cost = (
                parcels * index.zone_base_table[s, zone]
                + index.zone_per_kg_table[s, zone] * weight
                + handling_shipment
                + handling_unit
            )
            best = np.where(reached, np.minimum(best, cost), best)
        return best


def unit_costs(index: NetworkIndex, sku: int, nodes: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """:meth:`Shipping.costs` of one SKU (for many, build one :class:`Shipping`)."""
    return Shipping(index, nodes, centres).costs(sku)


def region_shipping(index: NetworkIndex, regions: Sequence[DemandRegion]) -> Shipping:
    """One-unit shipping from every node to the regions' centres."""
    centres = np.array([[r.centre.latitude, r.centre.longitude] for r in regions])
    return Shipping(index, np.arange(len(index.nodes)), centres.reshape(-1, 2))


def default_lost_sale_cost(
    index: NetworkIndex,
    regions: Sequence[DemandRegion],
    sku: int,
    shipping: Shipping | None = None,
) -> float:
    """Twice the dearest finite cost of shipping one unit of ``sku`` from any node to any
    region centre (at least 1 currency unit); ``shipping``: :func:`region_shipping` of the
    regions, when already made (it serves every SKU)."""
    shipping = shipping if shipping is not None else region_shipping(index, regions)
    costs = shipping.costs(sku)
    finite = costs[np.isfinite(costs)]
    return LOST_SALE_FACTOR * max(1.0, float(finite.max()) if len(finite) else 1.0)


def class_costs(
    index: NetworkIndex,
    inventory: Inventory,
    forecast: DemandForecast,
) -> dict[int, tuple[list[OnlineKey], dict[tuple[int, int], float]]]:
    """Per SKU index with online demand: its demand classes (forecast keys) and the cheapest
    one-unit cost ``c_nj`` per (node index, class position), from one
    :func:`~omniroute.candidates.build_problem` per (region, order class) for an order of
    that class of one unit of each of its SKUs to the region's centre."""
    centres = {r.id: r.centre for r in forecast.regions}
    by_class: dict[tuple[str, OrderClass], list[str]] = {}
    for region_id, sku_id, kind in forecast.online:
        by_class.setdefault((region_id, kind), []).append(sku_id)
    out: dict[int, tuple[list[OnlineKey], dict[tuple[int, int], float]]] = {}
    for c, ((region_id, kind), sku_ids) in enumerate(by_class.items()):
        lines = tuple(OrderLine(str(i), s, 1) for i, s in enumerate(sku_ids))
        order = kind.order(f"forecast:{region_id}:{c}", lines, centres[region_id])
        problem = build_problem(order, index, inventory)
        lanes = problem.lanes
        for i, sku_id in enumerate(sku_ids):
            k = index.sku_pos[sku_id]
            keys, costs = out.setdefault(k, ([], {}))
            j = len(keys)
            keys.append((region_id, sku_id, kind))
            item = problem.line_sku[i]
            weight = np.full(len(lanes), float(problem.weight[item]))
            one = (
                parcels_array(weight, lanes.max_parcel) * lanes.base
                + lanes.per_kg * weight
                + lanes.handling_shipment
                + lanes.handling_unit
            )
            holds = problem.atp[lanes.node, item] > 0
            for node, cost in zip(
                problem.nodes[lanes.node[holds]].tolist(), one[holds].tolist(), strict=True
            ):
                costs[(node, j)] = min(cost, costs.get((node, j), math.inf))
    return out


def opportunity_costs(
    index: NetworkIndex,
    inventory: Inventory,
    forecast: DemandForecast,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> OpportunityCosts:
    """λ for every stock position of every SKU with forecast demand (see the module
    docstring), averaged over ``samples`` Poisson samples of the horizon's demand (0: the
    expected demand itself, unsampled). From the forecast's baskets when it has from 1 to
    :data:`MAX_BASKETS` of them (:func:`basket_costs`, unless their LP has more than
    :data:`MAX_BASKET_COLUMNS` columns or no sample's LP solves in time), else from its
    rates per SKU."""
    if uses_baskets(forecast):
        from_baskets = basket_costs(index, inventory, forecast, samples, seed)
        if from_baskets is not None:
            return from_baskets
    classes = class_costs(index, inventory, forecast)
    store: dict[int, dict[int, float]] = {}
    for (store_id, sku_id), rate in forecast.store.items():
        at_stores = store.setdefault(index.sku_pos[sku_id], {})
        node = index.node_pos[store_id]
        at_stores[node] = at_stores.get(node, 0.0) + rate
    rng = np.random.default_rng(seed)
    horizon = forecast.horizon_days
    prices: dict[tuple[str, str], float] = {}
    lost_sale = _LostSaleCosts(index, forecast)
    for k in sorted(set(classes) | set(store)):
        stock = inventory.sku(k)
        held = stock.atp() > 0
        nodes, atp = stock.nodes[held], stock.atp()[held].astype(np.float64)
        if len(nodes) == 0:
            continue
        sku_id = index.sku_ids[k]
        lost = lost_sale(k)
        keys, arcs = classes.get(k, ([], {}))
        row_of = {int(n): i for i, n in enumerate(nodes.tolist())}
        costs = np.full((len(nodes), len(keys)), np.inf)
        for (node, j), cost in arcs.items():
            if node in row_of:
                costs[row_of[node], j] = cost
        markdown = np.array([forecast.markdown_cost.get((index.node_ids[n], sku_id), 0.0)
                             for n in nodes.tolist()])  # fmt: skip
        rates = np.array([forecast.online[key] for key in keys], dtype=np.float64)
        walk = [(row_of[s], rate) for s, rate in store.get(k, {}).items() if s in row_of]
        walk_rows = np.array([r for r, _ in walk], dtype=np.int64)
        walk_rates = np.array([rate for _, rate in walk], dtype=np.float64)
        model = _SkuModel(costs, markdown, atp, walk_rows, lost)
        total = np.zeros(len(nodes))
        if samples == 0:  # the expected demand itself
            total = model.duals(rates * horizon, walk_rates * horizon, _just_less(atp, rng))
        for _ in range(samples):
            demand = rng.poisson(rates * horizon).astype(np.float64)
            walks = rng.poisson(walk_rates * horizon).astype(np.float64)
            total += model.duals(demand, walks, _just_less(atp, rng))
        values = np.minimum(np.maximum(total / max(samples, 1) - markdown, 0.0), lost)
        for n, value in zip(nodes.tolist(), values.tolist(), strict=True):
            if value > 0:
                prices[(index.node_ids[n], sku_id)] = value
    return OpportunityCosts(prices, samples)


def basket_costs(
    index: NetworkIndex,
    inventory: Inventory,
    forecast: DemandForecast,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> OpportunityCosts | None:
    """λ from the forecast's baskets: the stock rows' duals of the LP relaxation of joint
    allocation (:class:`omniroute.joint_model.BatchModel`, the exact cost model: parcels,
    shipments, lanes, promises, fences, limits) of the orders the horizon brings, the
    lost-sale cost as the penalty per unit not shipped and the markdown as a credit per
    unit shipped (module docstring, *Baskets*).

    Each sample draws every basket's count over the horizon (Poisson around its rate;
    ``samples=0``: the expected count itself). ``k`` copies of one order in the LP
    relaxation are the order once with its bounds ``k`` times as large, so the model is
    built once, one block per basket, and each sample only rescales the blocks' bounds
    (HiGHS re-solves from the last basis). λ averages the samples whose LP solved within
    :data:`BASKET_SECONDS`. None when none did or the LP has more than
    :data:`MAX_BASKET_COLUMNS` columns (the caller prices from the rates per SKU)."""
    rng = np.random.default_rng(seed)
    baskets = [b for b in forecast.baskets if b.rate > 0]
    if not baskets:
        return OpportunityCosts({}, samples, "baskets")
    problems = [basket_problem(b.order, b.walkin, index, inventory) for b in baskets]
    n_skus = len(index.sku_ids)
    lost = np.zeros(n_skus)
    lost_sale = _LostSaleCosts(index, forecast)
    for k in sorted({int(k) for p in problems for k in p.sku.tolist()}):
        lost[k] = lost_sale(k)
    markdown = np.zeros((len(index.node_ids), n_skus))
    for (node_id, sku_id), value in forecast.markdown_cost.items():
        markdown[index.node_pos[node_id], index.sku_pos[sku_id]] = value
    model = BatchModel(problems, inventory, lost, {})
    if model.columns > MAX_BASKET_COLUMNS:
        return None
    first, positions = model.position_rows
    if model.columns == 0 or len(positions) == 0:
        return OpportunityCosts({}, samples, "baskets")
    model.add_prices(-markdown)  # a unit used by the horizon's orders is not marked down
    highs = new_highs()
    model.load(highs, BASKET_SECONDS, relax=True)
    # each column and row scales with its basket's count (the shared rows: with nothing)
    col_of = np.repeat(np.arange(len(baskets)), [len(r) for r in model.order_columns])
    row_lower, row_upper = model.rows.bounds()
    row_of = np.full(model.rows.count, -1)
    for b, rows in enumerate(model.order_rows):
        row_of[rows.start : rows.stop] = b
    own_rows = row_of >= 0
    finite_lower, finite_upper = np.isfinite(row_lower), np.isfinite(row_upper)
    stock_rows = np.arange(first, first + len(positions), dtype=np.int32)
    atp = model.position_atp(positions).astype(np.float64)
    every_column = np.arange(model.columns, dtype=np.int32)
    every_row = np.arange(model.rows.count, dtype=np.int32)
    expected = np.array([b.rate for b in baskets]) * forecast.horizon_days
    total = np.zeros(len(positions))
    solved = 0  # samples whose LP solved (one without orders: λ = 0 without an LP)
    for _ in range(max(samples, 1)):
        counts = rng.poisson(expected).astype(np.float64) if samples else expected
        stock = _just_less(atp, rng)
        if counts.sum() == 0:
            solved += 1
            continue
        factor = counts[col_of]
        highs.changeColsBounds(model.columns, every_column, model.lower * factor,  # type: ignore[attr-defined]
                               model.upper * factor)  # fmt: skip
        rows_factor = np.where(own_rows, counts[np.maximum(row_of, 0)], 1.0)
        lower, upper = row_lower.copy(), row_upper.copy()  # infinite bounds stay
        lower[finite_lower] *= rows_factor[finite_lower]
        upper[finite_upper] *= rows_factor[finite_upper]
        upper[stock_rows] = stock
        highs.changeRowsBounds(model.rows.count, every_row, lower, upper)  # type: ignore[attr-defined]
        highs.setOptionValue("time_limit", highs.getRunTime() + BASKET_SECONDS)  # per sample
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            continue
        duals = np.asarray(highs.getSolution().row_dual)[first : first + len(positions)]
        total += np.maximum(0.0, -duals)
        solved += 1
    if not solved:
        return None
    nodes, skus = positions // n_skus, positions % n_skus
    values = np.minimum(np.maximum(total / solved - markdown[nodes, skus], 0.0), lost[skus])
    prices = {
        (index.node_ids[n], index.sku_ids[k]): value
        for n, k, value in zip(nodes.tolist(), skus.tolist(), values.tolist(), strict=True)
        if value > 0
    }
    return OpportunityCosts(prices, samples, "baskets")


class _LostSaleCosts:
    """The forecast's lost-sale cost of a SKU (by index), or the default where it names none
    (:func:`default_lost_sale_cost`; the regions' shipping made once, on first need)."""

    def __init__(self, index: NetworkIndex, forecast: DemandForecast) -> None:
        self.index, self.forecast = index, forecast
        self.shipping: Shipping | None = None

    def __call__(self, k: int) -> float:
        cost = self.forecast.lost_sale_cost.get(self.index.sku_ids[k])
        if cost is not None:
            return cost
        if self.shipping is None:
            self.shipping = region_shipping(self.index, self.forecast.regions)
        return default_lost_sale_cost(self.index, self.forecast.regions, k, self.shipping)


def uses_baskets(forecast: DemandForecast) -> bool:
    """Whether λ of ``forecast`` comes from its baskets: it has from 1 to
    :data:`MAX_BASKETS` of them with a rate."""
    return 0 < sum(b.rate > 0 for b in forecast.baskets) <= MAX_BASKETS


def basket_problem(
    order: Order, walkin: bool, index: NetworkIndex, inventory: Inventory
) -> OrderProblem:
    """``order`` reduced against the stock (:func:`omniroute.candidates.build_problem`);
    a ``walkin``'s lanes cost nothing (it takes what its store's shelf has)."""
    problem = build_problem(order, index, inventory)
    if not walkin:
        return problem
    free = np.zeros(len(problem.lanes))
    lanes = replace(problem.lanes, base=free, per_kg=free, handling_shipment=free,
                    handling_unit=free)  # fmt: skip
    return replace(problem, lanes=lanes)


def _just_less(atp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``atp`` less a random fraction of a unit at each node, the fractions summing to under
    half a unit: a point just below the current stock in every node's direction, so that
    the LP's duals there are the costs of one unit less (module docstring)."""
    return atp - rng.uniform(0.0, 0.5 / len(atp), len(atp))


class _SkuModel:
    """One SKU's LP (module docstring), built once per stock and solved for each demand
    sample by changing the demand rows' bounds (HiGHS re-solves from the last basis).
    ``costs``: (nodes, classes), inf where a node has no arc to a class."""

    def __init__(
        self,
        costs: np.ndarray,
        markdown: np.ndarray,
        atp: np.ndarray,
        walk_rows: np.ndarray,
        lost: float,
    ) -> None:
        n, r = costs.shape
        self.n, self.demand_rows = n, r + len(walk_rows)
        arcs_n, arcs_r = np.nonzero(np.isfinite(costs))
        w = len(walk_rows)
        # columns: f (arcs), g (store demand served), u (classes' lost units), v (store's lost)
        n_cols = len(arcs_n) + w + r + w
        cost = np.concatenate([
            costs[arcs_n, arcs_r] - markdown[arcs_n],
            -markdown[walk_rows],
            np.full(r + w, lost),
        ])  # fmt: skip
        highs = self.highs = new_highs()
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
        zero = np.zeros(self.demand_rows)
        model_rows = Rows()
        model_rows.add_entries(
            np.concatenate([np.full(n, -highspy.kHighsInf), zero]),
            np.concatenate([atp, zero]),
            rows,
        )
        model_rows.into(highs)
        self.rows = np.arange(n, n + self.demand_rows, dtype=np.int32)
        self.stock_rows = np.arange(n, dtype=np.int32)
        self.no_floor = np.full(n, -highspy.kHighsInf)

    def duals(self, demand: np.ndarray, walks: np.ndarray, stock: np.ndarray) -> np.ndarray:
        """μ per node for one demand sample (online classes', then the stores') with
        ``stock`` units at the nodes."""
        if demand.sum() + walks.sum() == 0:
            return np.zeros(self.n)
        wanted = np.concatenate([demand, walks]).astype(np.float64)
        # in highspy's binding, not in its type stubs
        self.highs.changeRowsBounds(self.demand_rows, self.rows, wanted, wanted)  # type: ignore[attr-defined]
        self.highs.changeRowsBounds(self.n, self.stock_rows, self.no_floor, stock)  # type: ignore[attr-defined]
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return np.zeros(self.n)
        return np.maximum(0.0, -np.asarray(self.highs.getSolution().row_dual[: self.n]))


def estimate_forecast(
    orders: Iterable[Order],
    index: NetworkIndex,
    regions: Sequence[DemandRegion],
    horizon_days: float,
    span_days: float,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    prior_units: float = DEFAULT_PRIOR_UNITS,
    ages_days: Sequence[float] | None = None,
    walkins: Iterable[Order] = (),
) -> DemandForecast:
    """A forecast from an order history covering ``span_days``.

    Each order's units count with weight ``0.5 ** (age / half_life_days)`` (``ages_days``,
    one per order; all 0 when not given), so recent demand counts more. An order is online
    demand of the region of its destination (a pick-up order: of its store's location) in
    the order's class (:meth:`OrderClass.of`: its promise, channel, sourcing profile,
    excluded nodes and pick-up store). A SKU's daily rate is its weighted units over the
    span's weighted length; its online split over (region, class) pairs is its own weighted
    split shrunk toward the split of all online demand by ``prior_units`` pseudo-units, so a
    SKU seen a few times is spread like the rest rather than only where it was seen
    (``prior_units=0``: the history's own split). ``walkins`` (each naming its store as
    ``pickup_store_id``, counted with weight 1, as of age 0) are store demand: only that
    store's shelf serves them. Every order and walk-in is also a basket
    (:class:`Basket`) at its weight over the span's weighted length per day, so λ of a
    history of up to :data:`MAX_BASKETS` orders and walk-ins comes from baskets
    (:func:`basket_costs`).
    """
    forecast = DemandForecast(horizon_days, tuple(regions), {})
    orders = list(orders)
    ages = list(ages_days) if ages_days is not None else [0.0] * len(orders)
    classes: dict[tuple[str, OrderClass], int] = {}  # (region, class) -> column
    by_sku: dict[str, dict[int, float]] = {}
    store: dict[tuple[str, str], float] = {}
    walkins = list(walkins)
    for walkin in walkins:
        for line in walkin.lines:
            key = (walkin.pickup_store_id, line.sku_id)
            store[key] = store.get(key, 0.0) + line.quantity
    for order, age in zip(orders, ages, strict=True):
        weight = 0.5 ** (age / half_life_days)
        if order.pickup_store_id:
            destination = index.nodes[index.node_pos[order.pickup_store_id]].location
        elif order.destination is not None:
            destination = order.destination
        else:
            continue
        region = forecast.region_of(destination)
        j = classes.setdefault((region, OrderClass.of(order)), len(classes))
        for line in order.lines:
            units = by_sku.setdefault(line.sku_id, {})
            units[j] = units.get(j, 0.0) + weight * line.quantity
    # the span's weighted length: the integral of the weight over the span, in days
    effective = (
        half_life_days / math.log(2) * (1 - 0.5 ** (span_days / half_life_days))
        if ages_days is not None
        else span_days
    )
    keys = list(classes)
    overall = np.zeros(len(keys))
    counts: dict[str, np.ndarray] = {}
    for sku_id, units in by_sku.items():
        row = np.zeros(len(keys))
        for j, value in units.items():
            row[j] = value
        counts[sku_id] = row
        overall += row
    share = overall / overall.sum() if overall.sum() > 0 else overall
    online: dict[OnlineKey, float] = {}
    for sku_id, row in counts.items():
        total = row.sum()
        split = (row + prior_units * share) / (total + prior_units)
        for j, value in enumerate((total / effective * split).tolist()):
            if value > 0:
                online[(keys[j][0], sku_id, keys[j][1])] = value
    rates = {key: units / effective for key, units in store.items() if units > 0}
    baskets = [Basket(o, 0.5 ** (age / half_life_days) / effective)
               for o, age in zip(orders, ages, strict=True)]  # fmt: skip
    baskets += [Basket(w, 1 / effective, walkin=True) for w in walkins]
    return DemandForecast(horizon_days, tuple(regions), online, rates, baskets=tuple(baskets))


def node_regions(
    index: NetworkIndex, kinds: Sequence[NodeKind] = (NodeKind.STORE,)
) -> list[DemandRegion]:
    """Demand regions centred on the network's nodes of ``kinds`` (stores by default): a
    destination belongs to its nearest store's region."""
    return [DemandRegion(node.id, node.location) for node in index.nodes if node.kind in kinds] or [
        DemandRegion(node.id, node.location) for node in index.nodes
    ]


def default_theta(forecast: DemandForecast) -> float:
    """θ for ``forecast``'s λ as far as the forecast alone tells: :data:`BASKET_THETA` when
    it has baskets to price from (:func:`uses_baskets`), else :data:`DEFAULT_THETA`. The
    prices themselves say which model made them (:attr:`OpportunityCosts.theta`)."""
    return BASKET_THETA if uses_baskets(forecast) else DEFAULT_THETA


class LookaheadPolicy:
    """Look-ahead routing for a replay (:func:`omniroute.evaluation.replay`): each order by
    the engine with θ·λ as its prices (:meth:`Planner.plan`), λ from
    :func:`opportunity_costs` on the stock left, refreshed every ``refresh`` orders over the
    demand still to come (``forecast``'s rates over ``remaining(order)`` days); ``theta``
    None: the default of the prices' model (:attr:`OpportunityCosts.theta`)."""

    def __init__(
        self,
        forecast: DemandForecast,
        remaining: Callable[[Order], float],
        theta: float | None = None,
        refresh: int = 10,
        samples: int = DEFAULT_SAMPLES,
        seed: int = 0,
    ) -> None:
        self.forecast = forecast
        self.remaining = remaining
        self.theta = theta
        self.refresh = max(1, refresh)
        self.samples = samples
        self.seed = seed
        self.routed = 0
        self.prices: np.ndarray | None = None
        self.refreshes = 0
        self.model = ""  # the model of the first prices ("baskets" or "units")
        self.theta_used = 0.0  # ... and the θ they were weighted with

    def __call__(self, planner: Planner, order: Order) -> PlanResult:
        if self.prices is None or self.routed % self.refresh == 0:
            forecast = self.forecast.over(max(0.0, self.remaining(order)))
            costs = opportunity_costs(
                planner.index, planner.inventory, forecast, self.samples,
                seed=self.seed + self.refreshes,
            )  # fmt: skip
            theta = costs.theta if self.theta is None else self.theta
            self.prices = theta * costs.matrix(planner.index)  # θ·λ per unit
            if not self.refreshes:
                self.model, self.theta_used = costs.model, theta
            self.refreshes += 1
        self.routed += 1
        return planner.plan(order, prices=self.prices, validate=False)
