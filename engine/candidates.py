"""Candidate generation for one order: which nodes can ship which SKUs by which lanes.

A *lane* is one (node, carrier service) pair that can reach the order's destination within
its promise, with the zone prices resolved for the distance. Everything is vectorised over
the nodes that hold available stock of the order's SKUs, so the work per order grows with
the number of holders, not with the size of the network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from omniroute.cost import alone_parcels, parcels_array
from omniroute.dating import Dating
from omniroute.model import Location, Order, UnfilledReason
from omniroute.network_index import Inventory, NetworkIndex
from omniroute.profiles import CompiledProfile

_NONE = np.zeros(0, dtype=np.int64)  # no excluded nodes
_NO_ADJUSTMENT = np.zeros(0)  # no sourcing profile costs
_NO_PRICE = np.zeros(0)  # no prices per unit (myopic routing)


@dataclass(frozen=True, slots=True)
class Lanes:
    """Parallel arrays, one entry per lane, sorted by node then service."""

    node: np.ndarray  # candidate index (into OrderProblem.nodes)
    service: np.ndarray  # index into NetworkIndex.services, or HAND_OVER
    base: np.ndarray  # zone base cost per parcel
    per_kg: np.ndarray  # zone cost per kg
    max_parcel: np.ndarray  # kg; inf when unlimited
    days: np.ndarray  # node processing days + zone transit days
    handling_shipment: np.ndarray
    handling_unit: np.ndarray

    def __len__(self) -> int:
        return len(self.node)

    def select(self, mask: np.ndarray) -> Lanes:
        return Lanes(*(getattr(self, f)[mask] for f in Lanes.__slots__))

    def cost_each(
        self,
        lane: np.ndarray,
        weight: np.ndarray,
        units: np.ndarray,
        alone: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Shipment cost of each lane in ``lane`` for its own load (``weight[i]`` kg,
        ``units[i]`` units): :meth:`costs` element by element. ``alone``: the loads'
        ship-alone units and the weight of their other units, when any SKU ships alone."""
        if alone is None:
            parcels = parcels_array(weight, self.max_parcel[lane])
        else:
            parcels = alone_parcels(alone[0], units, alone[1], self.max_parcel[lane])
        return (
            parcels * self.base[lane]
            + self.per_kg[lane] * weight
            + self.handling_shipment[lane]
            + self.handling_unit[lane] * units
        )

    def costs(self, weight: np.ndarray, units: np.ndarray) -> np.ndarray:
        """Shipment cost of every lane (rows) for every load (columns) under the cost model."""
        w = weight[None, :]
        parcels = parcels_array(w, self.max_parcel[:, None])
        return (
            parcels * self.base[:, None]
            + self.per_kg[:, None] * w
            + self.handling_shipment[:, None]
            + self.handling_unit[:, None] * units[None, :]
        )


@dataclass(frozen=True, slots=True)
class OrderProblem:
    """One order reduced to arrays: demand per distinct SKU, candidate nodes, lanes.

    Lines of the same SKU are merged into one *item* (they share the nodes' stock and cost
    the same per unit); plans are split back into lines by
    :func:`omniroute.plans.build_plan`. Lines of a ship-together group are merged only with
    lines of the same group, so an item is a (SKU, group) pair and ``sku`` may repeat.
    ``order`` is the order as planned: its sourcing profile's ``maxShipments`` applied when
    it sets none.
    """

    order: Order
    index: NetworkIndex
    destination: Location
    sku: np.ndarray  # (m,) SKU index of each distinct SKU, in order of first appearance
    demand: np.ndarray  # (m,) units ordered per distinct SKU
    weight: np.ndarray  # (m,) kg per unit
    line_sku: tuple[int, ...]  # for each order line, its position in ``sku``
    nodes: np.ndarray  # (n,) node index of each candidate
    atp: np.ndarray  # (n, m) ATP of each candidate for each SKU
    distance: np.ndarray  # (n,) km from each candidate to the destination
    lanes: Lanes
    atp_usable: np.ndarray  # (m,) ATP at nodes neither disabled nor excluded
    atp_reachable: np.ndarray  # (m,) ... of which at nodes with a lane to the destination
    atp_in_promise: np.ndarray  # (m,) ... of which at nodes with a lane within the promise
    dating: Dating | None = None  # the order's dates (None: an undated order)
    profile: CompiledProfile | None = None  # the order's sourcing profile (None: none)
    alone: np.ndarray | None = None  # (m,) whether each item's SKU ships alone (None: none)
    group: np.ndarray | None = None  # (m,) each item's ship-together group, -1 (None: none)
    # (n, m) a price per unit of each item at each candidate on top of the cost model, >= 0:
    # the look-ahead's opportunity cost (None: myopic routing, see omniroute.lookahead.priced)
    price: np.ndarray | None = None

    @property
    def total_units(self) -> int:
        return int(self.demand.sum())

    @property
    def packed(self) -> bool:
        """Whether the order has ship-alone SKUs or ship-together groups: its items are
        then (SKU, group) pairs, several items may share a SKU's stock, and only the
        CP-SAT model (which knows both rules) plans it."""
        return self.alone is not None or self.group is not None

    def alone_loads(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """For loads ``units`` (rows of units per item): their ship-alone units and the
        weight of their other units; None when no SKU of the order ships alone."""
        if self.alone is None:
            return None
        alone = units[..., self.alone].sum(axis=-1)
        rest = units[..., ~self.alone] @ self.weight[~self.alone]
        return alone, rest

    def core_args(self) -> tuple[np.ndarray, ...]:
        """The arrays ``omniroute._core`` reads: ATP, demand, weights, the lanes and the
        prices per unit (empty without)."""
        lanes = self.lanes
        return (
            self.atp,
            self.demand,
            self.weight,
            lanes.node,
            lanes.base,
            lanes.per_kg,
            lanes.max_parcel,
            lanes.days,
            lanes.handling_shipment,
            lanes.handling_unit,
            _NO_PRICE if self.price is None else self.price,
        )

    def lane_prices(self, lane: np.ndarray) -> np.ndarray | float:
        """The price per unit of each item on each lane of ``lane`` (rows): its node's row of
        :attr:`price`, or 0 without prices."""
        return 0.0 if self.price is None else self.price[self.lanes.node[lane]]

    def priced(self, candidate: int, units: np.ndarray) -> float:
        """What ``units`` (per item) cost at ``candidate`` on top of the cost model (in
        scalars: numpy's matmul of a few ints and floats takes five times as long)."""
        if self.price is None:
            return 0.0
        row = self.price[candidate].tolist()
        return float(sum(p * q for p, q in zip(row, units.tolist(), strict=True)))

    def sku_reason(self, k: int) -> UnfilledReason | None:
        """Why SKU ``k`` cannot be fully shipped on stock and service grounds (None: it can)."""
        need = self.demand[k]
        if self.atp_usable[k] < need:
            return UnfilledReason.OUT_OF_STOCK
        if self.atp_reachable[k] < need:
            return UnfilledReason.NO_SERVICE_TO_DESTINATION
        if self.atp_in_promise[k] < need:
            return UnfilledReason.NO_SERVICE_WITHIN_PROMISE
        return None


def with_prices(problem: OrderProblem, prices: np.ndarray) -> OrderProblem:
    """``problem`` with a price per unit of each item at each candidate, from ``prices`` (a
    (nodes, SKUs) array over the index, >= 0: the look-ahead's weighted opportunity costs);
    when they are all zero for this order, the problem stays as it is (myopic)."""
    price = _price_rows(prices, problem.nodes, problem.sku)
    return problem if price is None else replace(problem, price=price)


def _price_rows(prices: np.ndarray, nodes: np.ndarray, skus: np.ndarray) -> np.ndarray | None:
    """The candidates' rows of ``prices`` for the items' SKUs; None when all are zero."""
    price = prices[nodes[:, None], skus[None, :]]
    if not np.count_nonzero(price):  # (a fifth of the time of .any() on small arrays)
        return None
    return price.astype(np.float64, copy=False)


def build_problem(
    order: Order, index: NetworkIndex, inventory: Inventory, prices: np.ndarray | None = None
) -> OrderProblem:
    """Reduce a validated order to an :class:`OrderProblem` against current ATP.

    The candidates are the usable, not excluded nodes holding ATP of any of the order's SKUs
    with at least one lane within the promise, their distances those of
    :func:`omniroute.geo.distances_km`; one call of ``omniroute._core`` finds them, their
    lanes and the stock figures, with work that grows with the holders, not the network.
    The order's sourcing profile is compiled in: its exclusions join the order's, its
    distance limit leaves farther nodes without lanes, its node costs are added to the
    lanes' handling cost per shipment, and its ``maxShipments`` applies when the order
    sets none. ``prices`` (see :func:`with_prices`) price the candidates' units.
    """
    keys: list[tuple[int, str]] = []  # (SKU, ship-together group) of each item
    skus: list[int] = []
    line_sku: list[int] = []
    demand: list[int] = []
    for line in order.lines:
        key = (index.sku_pos[line.sku_id], line.ship_together_group)
        if key in keys:
            k = keys.index(key)
            demand[k] += line.quantity
        else:
            k = len(keys)
            keys.append(key)
            skus.append(key[0])
            demand.append(line.quantity)
        line_sku.append(k)
    group = None
    if any(g for _, g in keys):
        names = sorted({g for _, g in keys} - {""})
        group = np.array([names.index(g) if g else -1 for _, g in keys])
    alone = index.sku_alone[skus] if index.has_alone and len(skus) else None
    if alone is not None and not alone.any():
        alone = None
    stocks = [inventory.sku_for(s, order.channel) for s in skus]
    pickup = index.node_pos[order.pickup_store_id] if order.pickup_store_id else -1
    if pickup >= 0:
        destination = index.nodes[pickup].location
    else:
        assert order.destination is not None
        destination = order.destination
    excluded = (
        np.array([index.node_pos[node_id] for node_id in order.excluded_node_ids], dtype=np.int64)
        if order.excluded_node_ids
        else _NONE
    )
    profile = index.sourcing.of(order) if index.sourcing.profiles else None
    max_distance, adjustment = 0.0, _NO_ADJUSTMENT
    if profile is not None:
        if len(profile.excluded):
            excluded = np.union1d(excluded, profile.excluded)
        if profile.max_shipments(order) != order.max_shipments:
            order = replace(order, max_shipments=profile.max_shipments(order))
        max_distance, adjustment = profile.max_distance_km, profile.adjustment
    if len(index.inbound_nodes):  # supply in transit: dated orders only, and as its node
        excluded = _inbound_excluded(index, order, excluded)
    # A dated order's promise is a limit on its dated days. The core applies it when those
    # are the undated days (no time zones, cut-offs or calendars in play) and it is at least
    # a day (0 means no promise to the core); otherwise lanes are dated and kept here.
    # prices gathered by the core when they are float64 in C order (no copy per order)
    core_prices = None
    if prices is not None and prices.dtype == np.float64 and prices.flags.c_contiguous:
        core_prices = prices
    dating = Dating.of(order, index.dates, inventory.full_days)
    if dating is None:
        limit, core_limit, dated_lanes = None, order.promise_days, False
    else:
        limit = dating.limit(order)
        dated_lanes = index.dates.calendared or bool(inventory.full_days) or bool(index.arrivals)
        core_limit = limit if limit is not None and limit >= 1 and not dated_lanes else 0
    (
        nodes,
        atp,
        distance,
        lane_node,
        lane_service,
        lane_base,
        lane_per_kg,
        lane_max_parcel,
        lane_days,
        lane_hs,
        lane_hu,
        atp_usable,
        atp_reachable,
        atp_in_promise,
        price,
    ) = index.core.problem(
        [stock.nodes for stock in stocks],
        [stock.on_hand for stock in stocks],
        [stock.safety_stock for stock in stocks],
        [stock.reserved for stock in stocks],
        excluded,
        destination.latitude,
        destination.longitude,
        pickup,
        core_limit,
        max_distance,
        adjustment,
        core_prices,
        skus,
    )
    if prices is not None and core_prices is None:  # not float64 in C order: gathered here
        price = _price_rows(prices, nodes, np.array(skus, dtype=np.int64))
    lanes = Lanes(
        lane_node,
        lane_service,
        lane_base,
        lane_per_kg,
        lane_max_parcel,
        lane_days,
        lane_hs,
        lane_hu,
    )
    if dated_lanes:
        assert dating is not None
        days = dating.lane_days(nodes[lane_node], lane_service, index.processing_days, lane_days)
        lanes = replace(lanes, days=days)
    if limit is not None and core_limit == 0:  # a promise the core did not apply
        kept_nodes = nodes
        nodes, atp, distance, lanes = _within(limit, nodes, atp, distance, lanes)
        atp_in_promise = atp.sum(axis=0)
        if price is not None and len(nodes) < len(kept_nodes):
            price = price[np.isin(kept_nodes, nodes)]
            price = price if np.count_nonzero(price) else None
    sku = np.array(skus, dtype=np.int64)
    return OrderProblem(
        order=order,
        index=index,
        destination=destination,
        sku=sku,
        demand=np.array(demand, dtype=np.int64),
        weight=index.sku_weight[skus] if skus else np.zeros(0),
        line_sku=tuple(line_sku),
        nodes=nodes,
        atp=atp,
        distance=distance,
        lanes=lanes,
        atp_usable=atp_usable,
        atp_reachable=atp_reachable,
        atp_in_promise=atp_in_promise,
        dating=dating,
        profile=profile,
        alone=alone,
        group=group,
        price=price,
    )


def _inbound_excluded(index: NetworkIndex, order: Order, excluded: np.ndarray) -> np.ndarray:
    """``excluded`` with the inbound nodes an order may not use: all of them for an
    undated order (their arrival has no date to compare with), else those of the nodes it
    excludes."""
    if not order.create_time:
        return np.union1d(excluded, index.inbound_nodes)
    extra = [v for node in excluded.tolist() for v in index.inbound_of.get(node, ())]
    return np.union1d(excluded, np.array(extra, dtype=np.int64)) if extra else excluded


def _within(
    limit: int, nodes: np.ndarray, atp: np.ndarray, distance: np.ndarray, lanes: Lanes
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Lanes]:
    """The lanes of at most ``limit`` days and the candidates left with one."""
    lanes = lanes.select(lanes.days <= limit)
    kept = np.unique(lanes.node)
    if len(kept) < len(nodes):
        renumber = np.full(len(nodes), -1, dtype=lanes.node.dtype)
        renumber[kept] = np.arange(len(kept), dtype=lanes.node.dtype)
        lanes = Lanes(renumber[lanes.node], *(getattr(lanes, f) for f in Lanes.__slots__[1:]))
        nodes, atp, distance = nodes[kept], atp[kept], distance[kept]
    return nodes, atp, distance, lanes
