"""Network availability ("save the sale"): the ways a customer can still get some SKUs.

From a store's point of view: in this store now; at another pick-up store near enough to
collect from (how far, ready when); delivered from any node (price, arrival). Entries come
in that order, each group nearest first; with a customer location, the delivery options
front (price vs. arrival) for one unit of each available SKU is added.

A pick-up store farther than ``max_pickup_distance_km`` (default
:data:`DEFAULT_MAX_PICKUP_DISTANCE_KM`) is not offered for collection: nobody drives 600 km
to collect a shirt; it is listed as a delivery node instead, ranked by distance with the
DCs. ``max_nodes`` caps each group separately, so a long list of stores never hides the
nodes that can deliver.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from omniroute.backorders import release_order, unreleased
from omniroute.calendars import OrderClock
from omniroute.candidates import OrderProblem, build_problem
from omniroute.cost import quote_shipment
from omniroute.dating import HAND_OVER
from omniroute.geo import distances_km
from omniroute.model import Channel, Location, NodeKind, Order, OrderLine, Plan, Policy
from omniroute.network_index import NODE_KINDS
from omniroute.optimizer import optimise
from omniroute.plans import load_of

if TYPE_CHECKING:
    from omniroute.planner import Planner

DEFAULT_MAX_NODES = 20  # entries per group (pick-up stores, delivery nodes) when not given
DEFAULT_MAX_PICKUP_DISTANCE_KM = 50.0  # farther pick-up stores are offered as delivery only


class Fulfilment(enum.Enum):
    IN_STORE = "IN_STORE"
    PICKUP = "PICKUP"
    DELIVERY = "DELIVERY"


@dataclass(frozen=True, slots=True)
class NodeOffer:
    node_id: str
    kind: NodeKind
    fulfilment: Fulfilment
    distance_km: float
    atp: tuple[tuple[str, int], ...]  # (SKU id, units available)
    pickup: bool
    ready_days: int  # pick-up: the store's processing days
    service_id: str = ""  # the cheapest way to ship one unit of each SKU it holds
    delivery_days: int = 0
    cost: float = 0.0
    delivery_date: date | None = None  # dated requests: of that shipment
    ready_date: date | None = None  # dated requests, pick-up stores: ready for collection


@dataclass(frozen=True, slots=True)
class Availability:
    nodes: tuple[NodeOffer, ...]
    delivery_options: tuple[Plan, ...]


def availability(
    planner: Planner,
    sku_ids: Sequence[str],
    store_id: str = "",
    location: Location | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_pickup_distance_km: float = DEFAULT_MAX_PICKUP_DISTANCE_KM,
    create_time: str = "",
    channel: Channel | None = None,
) -> Availability:
    """Where the SKUs are (validated input: known SKUs, a store or a location), as orders
    of ``channel`` may take them (channel fences and caps applied; default: STORE with a
    store, a sale the store's staff saves, else WEB).

    Every node holding any of the SKUs is ranked (in this store, pick-up stores within
    ``max_pickup_distance_km`` (0: any distance), then every other node as a delivery node,
    each group nearest first) with array operations; only the first ``max_nodes`` of each
    group are costed and described, so the work grows with the holders at array speed, not
    with a plan per holder, and delivery is never crowded out by pick-up stores.
    """
    index, inventory = planner.index, planner.inventory
    store = index.nodes_by_id.get(store_id) if store_id else None
    here = store.location if store else location
    assert here is not None
    destination = location or here  # delivery goes to the customer, else to the store
    skus = list(dict.fromkeys(sku_ids))
    if channel is None:
        channel = Channel.STORE if store is not None else Channel.WEB
    stocks = [inventory.sku_for(index.sku_pos[sku_id], channel) for sku_id in skus]
    atps = [stock.atp() for stock in stocks]
    holding = [stock.nodes[atp > 0] for stock, atp in zip(stocks, atps, strict=True)]
    holds = np.zeros(len(index.nodes), dtype=bool)
    for held in holding:
        holds[held] = True
    if not create_time and len(index.inbound_nodes):  # supply in transit: dated offers only
        holds[index.inbound_nodes] = False
    nodes = np.flatnonzero(holds & index.usable)
    distance = distances_km(
        index.latitude[nodes], index.longitude[nodes], here.latitude, here.longitude
    )
    collect = (index.kind[nodes] == NODE_KINDS.index(NodeKind.STORE)) & index.pickup[nodes]
    if max_pickup_distance_km > 0:  # too far to collect from: it can still deliver
        # on the distance as reported (0.1 km): a store shown at 50.0 km is within 50 km
        collect &= np.round(distance, 1) <= max_pickup_distance_km
    way = np.where(collect, 1, 2)
    if store is not None:
        way[nodes == index.node_pos[store.id]] = 0
    ranked = np.lexsort((index.id_rank[nodes], distance, way))
    # the first max_nodes of each group: position within the group < max_nodes
    grouped = way[ranked]
    first = ranked[np.arange(len(ranked)) - np.searchsorted(grouped, grouped) < max_nodes]

    top = nodes[first]
    order = Order(
        "availability",
        tuple(OrderLine(str(i), s, 1) for i, s in enumerate(skus)),
        destination=destination,
        channel=channel,
        create_time=create_time,
    )
    # a SKU not yet released: the offers are dated from its release (the latest asked)
    releases = unreleased(order, index)
    late_days = 0
    if releases:
        order = release_order(order, max(releases.values()), index.dates)
        late_days = (
            OrderClock.of(order.create_time, index.dates.time_zone).order_date
            - OrderClock.of(create_time, index.dates.time_zone).order_date
        ).days
    problem = build_problem(order, index, inventory)
    dating = problem.dating
    ship = _cheapest_shipments(problem, top)
    # units available per top node and SKU (stock arrays are sorted by node)
    units_at = []
    for stock, atp in zip(stocks, atps, strict=True):
        where = np.searchsorted(stock.nodes, top)
        found = where < len(stock.nodes)
        found[found] = stock.nodes[where[found]] == top[found]
        units = np.zeros(len(top), dtype=np.int64)
        units[found] = atp[where[found]]
        units_at.append(units)
    ways = (Fulfilment.IN_STORE, Fulfilment.PICKUP, Fulfilment.DELIVERY)
    offers = []
    for i, node in enumerate(top.tolist()):
        n = index.nodes[node]
        service, days, cost, delivered = ship[i]
        days += late_days if service or delivered else 0  # counted from the request's date
        ready = dating.shipment(n, None, 0)[0] if dating is not None and n.pickup else None
        offers.append(
            NodeOffer(
                n.id,
                n.kind,
                ways[int(way[first[i]])],
                float(distance[first[i]]),
                tuple(
                    (sku_id, int(units[i]))
                    for sku_id, units in zip(skus, units_at, strict=True)
                    if units[i] > 0
                ),
                n.pickup,
                n.processing_days,
                service,
                days,
                cost,
                delivered,
                ready,
            )
        )
    options: tuple[Plan, ...] = ()
    available = [s for s, held in zip(skus, holding, strict=True) if index.usable[held].any()]
    if location is not None and available:
        quote = Order(
            "availability",
            tuple(OrderLine(str(i), s, 1) for i, s in enumerate(available)),
            destination=location,
            channel=channel,
            create_time=create_time,
        )
        if available == skus and not releases:  # the order ranked above: reuse its problem
            options = optimise(problem, Policy.CHEAPEST, include_options=True).options
        else:
            options = planner.plan(quote, Policy.CHEAPEST, options=True, validate=False).options
    return Availability(tuple(offers), options)


def _cheapest_shipments(
    problem: OrderProblem, nodes: np.ndarray
) -> list[tuple[str, int, float, date | None]]:
    """For each node, (service id, delivery days, cost, delivery date of a dated problem) of
    the cheapest way to ship one unit of every SKU of ``problem`` it holds to the problem's
    destination (ties: fewer days, then lane order); ("", 0, 0.0, None) when it has no lane
    there. The choice of
    :func:`omniroute.plans.cheapest_lane`, for all the nodes' lanes at once, costed by the
    cost model's own quote."""
    index, lanes = problem.index, problem.lanes
    position = np.full(len(index.nodes), -1, dtype=np.int64)
    position[problem.nodes] = np.arange(len(problem.nodes))
    candidates = position[nodes]
    valid = np.flatnonzero(candidates >= 0)
    loads = (problem.atp[candidates[valid]] > 0).astype(np.int64)  # (valid, m)
    weights = np.array([float(load @ problem.weight) for load in loads])
    counts = loads.sum(axis=1)
    starts = np.searchsorted(lanes.node, candidates[valid])
    stops = np.searchsorted(lanes.node, candidates[valid] + 1)
    owner = np.repeat(np.arange(len(valid)), stops - starts)
    lane = (
        np.concatenate([np.arange(a, b) for a, b in zip(starts, stops, strict=True)])
        if len(valid)
        else np.zeros(0, dtype=np.int64)
    )
    alone = problem.alone_loads(loads)
    if alone is not None:
        alone = (alone[0][owner], alone[1][owner])
    cost = lanes.cost_each(lane, weights[owner], counts[owner], alone)
    ranked = np.lexsort((lane, lanes.days[lane], cost, owner))
    best = np.full(len(valid), -1, dtype=np.int64)
    firsts = ranked[np.r_[True, owner[ranked][1:] != owner[ranked][:-1]]] if len(lane) else ranked
    for at in firsts.tolist():
        if np.isfinite(cost[at]):
            best[owner[at]] = lane[at]
    found: list[tuple[str, int, float, date | None]] = [("", 0, 0.0, None)] * len(nodes)
    for v, i in enumerate(valid.tolist()):
        if best[v] < 0:
            continue
        service_index = int(lanes.service[best[v]])
        service = None if service_index == HAND_OVER else index.services[service_index]
        # one unit of each SKU it holds, summed line by line as a plan reports its shipments
        skus = problem.sku[np.flatnonzero(loads[v])].tolist()
        load = load_of(index, ((index.sku_ids[s], 1) for s in skus))
        quote = quote_shipment(
            index.nodes[int(nodes[i])],
            service,
            load.weight_kg,
            load.units,
            problem.destination,
            float(problem.distance[candidates[i]]),
            problem.dating,
            problem.profile.cost_at(int(nodes[i])) if problem.profile is not None else 0.0,
            load.alone_units,
            load.rest_weight_kg,
        )
        if quote is not None:  # it is: the lane reaches the destination
            found[i] = (
                service.id if service else "",
                quote.delivery_days,
                quote.cost,
                quote.delivery_date,
            )
    return found
