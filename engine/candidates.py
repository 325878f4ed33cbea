"""Candidate generation for one order: which nodes can ship which SKUs by which lanes.

A *lane* is one (node, carrier service) pair that can reach the order's destination within
its promise, with the zone prices resolved for the distance. Everything is vectorised over
the nodes that hold available stock of the order's SKUs, so the work per order grows with
the number of holders, not with the size of the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omniroute.cost import parcels_array
from omniroute.geo import distances_km
from omniroute.model import Location, Order, UnfilledReason
from omniroute.network_index import Inventory, NetworkIndex

HAND_OVER = -1  # lane service index of the pick-up store handing over its own stock


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

    Lines of the same SKU are merged (they share the nodes' stock and cost the same per unit);
    plans are split back into lines by :func:`omniroute.plans.build_plan`.
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

    @property
    def total_units(self) -> int:
        return int(self.demand.sum())

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


def build_problem(order: Order, index: NetworkIndex, inventory: Inventory) -> OrderProblem:
    """Reduce a validated order to an :class:`OrderProblem` against current ATP."""
    skus: list[int] = []
    line_sku: list[int] = []
    demand: list[int] = []
    for line in order.lines:
        s = index.sku_pos[line.sku_id]
        if s in skus:
            k = skus.index(s)
            demand[k] += line.quantity
        else:
            k = len(skus)
            skus.append(s)
            demand.append(line.quantity)
        line_sku.append(k)
    m = len(skus)
    demand_array = np.array(demand, dtype=np.int64)

    # Holders of available stock, restricted to usable nodes (candidates may ship).
    holders, holder_atp = [], []
    for s in skus:
        stock = inventory.sku(s)
        atp = stock.atp()
        has = atp > 0
        holders.append(stock.nodes[has])
        holder_atp.append(atp[has])
    nodes = np.unique(np.concatenate(holders)) if m else np.zeros(0, dtype=np.int64)
    usable = index.usable[nodes]
    if order.excluded_node_ids:
        excluded = [index.node_pos[node_id] for node_id in order.excluded_node_ids]
        usable &= ~np.isin(nodes, excluded)
    nodes = nodes[usable]
    n = len(nodes)
    atp = np.zeros((n, m), dtype=np.int64)
    for k in range(m):
        where = np.searchsorted(nodes, holders[k])
        found = where < n
        found[found] &= nodes[where[found]] == holders[k][found]
        atp[where[found], k] = holder_atp[k][found]
    atp_usable = atp.sum(axis=0)

    pickup = index.node_pos[order.pickup_store_id] if order.pickup_store_id else -1
    if pickup >= 0:
        destination = index.nodes[pickup].location
    else:
        assert order.destination is not None
        destination = order.destination
    distance = distances_km(
        index.latitude[nodes], index.longitude[nodes], destination.latitude, destination.longitude
    )
    lanes = _lanes(index, nodes, distance, pickup)
    reachable = np.zeros(n, dtype=bool)
    reachable[lanes.node] = True
    atp_reachable = atp[reachable].sum(axis=0)
    if order.promise_days > 0:
        lanes = lanes.select(lanes.days <= order.promise_days)
    in_promise = np.zeros(n, dtype=bool)
    in_promise[lanes.node] = True
    atp_in_promise = atp[in_promise].sum(axis=0)

    # Keep only candidates with a lane; renumber the lanes' node column.
    renumber = np.cumsum(in_promise) - 1
    lanes = Lanes(renumber[lanes.node], *(getattr(lanes, f) for f in Lanes.__slots__[1:]))
    return OrderProblem(
        order=order,
        index=index,
        destination=destination,
        sku=np.array(skus, dtype=np.int64),
        demand=demand_array,
        weight=index.sku_weight[skus] if m else np.zeros(0),
        line_sku=tuple(line_sku),
        nodes=nodes[in_promise],
        atp=atp[in_promise],
        distance=distance[in_promise],
        lanes=lanes,
        atp_usable=atp_usable,
        atp_reachable=atp_reachable,
        atp_in_promise=atp_in_promise,
    )


def _lanes(index: NetworkIndex, nodes: np.ndarray, distance: np.ndarray, pickup: int) -> Lanes:
    """Every (candidate, service) pair whose service has a zone covering the distance.

    The pick-up store itself gets one lane with no carrier (docs/cost-model.md, pick-up in store).
    """
    # zone = number of zones whose upper bound is below the distance (first covering zone)
    zone = (index.zone_max_table[None, :, :] < distance[:, None, None]).sum(axis=2)  # (n, S)
    ok = index.offers[nodes] & (zone < index.zone_count[None, :])
    if pickup >= 0:
        ok[nodes == pickup] = False
    node: np.ndarray
    service: np.ndarray
    node, service = np.nonzero(ok)  # row-major: sorted by node, then service
    zone = zone[node, service]
    base = index.zone_base_table[service, zone]
    per_kg = index.zone_per_kg_table[service, zone]
    transit = index.zone_transit_table[service, zone]
    max_parcel = index.max_parcel[service] if len(service) else np.zeros(0)
    at_pickup = np.flatnonzero(nodes == pickup) if pickup >= 0 else np.zeros(0, dtype=np.int64)
    if len(at_pickup):
        node = np.concatenate([node, at_pickup])
        service = np.concatenate([service, np.full(len(at_pickup), HAND_OVER)])
        base = np.concatenate([base, np.zeros(len(at_pickup))])
        per_kg = np.concatenate([per_kg, np.zeros(len(at_pickup))])
        transit = np.concatenate([transit, np.zeros(len(at_pickup), dtype=np.int64)])
        max_parcel = np.concatenate([max_parcel, np.full(len(at_pickup), np.inf)])
        order = np.lexsort((service, node))
        node, service, base, per_kg, transit, max_parcel = (
            a[order] for a in (node, service, base, per_kg, transit, max_parcel)
        )
    global_node = nodes[node]
    return Lanes(
        node=node,
        service=service,
        base=base,
        per_kg=per_kg,
        max_parcel=max_parcel,
        days=index.processing_days[global_node] + transit,
        handling_shipment=index.handling_shipment[global_node],
        handling_unit=index.handling_unit[global_node],
    )
