"""Network availability ("save the sale"): the ways a customer can still get some SKUs.

From a store's point of view: in this store now; at another pick-up store (how far, ready
when); delivered from any node (price, arrival). Entries come in that order, each group
nearest first; with a customer location, the delivery options front (price vs. arrival)
for one unit of each available SKU is added.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from omniroute.candidates import build_problem
from omniroute.geo import distance_km
from omniroute.model import Location, NodeKind, Order, OrderLine, Plan, Policy
from omniroute.plans import Allocation, build_plan, cheapest_lane

if TYPE_CHECKING:
    from omniroute.planner import Planner


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


@dataclass(frozen=True, slots=True)
class Availability:
    nodes: tuple[NodeOffer, ...]
    delivery_options: tuple[Plan, ...]


def availability(
    planner: Planner,
    sku_ids: Sequence[str],
    store_id: str = "",
    location: Location | None = None,
    max_nodes: int = 20,
) -> Availability:
    """Where the SKUs are (validated input: known SKUs, a store or a location)."""
    index, inventory = planner.index, planner.inventory
    store = index.nodes_by_id.get(store_id) if store_id else None
    here = store.location if store else location
    assert here is not None
    destination = location or here  # delivery goes to the customer, else to the store
    skus = list(dict.fromkeys(sku_ids))
    held: dict[int, list[tuple[str, int]]] = {}
    for sku_id in skus:
        stock = inventory.sku(index.sku_pos[sku_id])
        atp = stock.atp()
        for node, units in zip(stock.nodes[atp > 0].tolist(), atp[atp > 0].tolist(), strict=True):
            if index.usable[node]:
                held.setdefault(node, []).append((sku_id, units))
    order = Order(
        "availability",
        tuple(OrderLine(str(i), s, 1) for i, s in enumerate(skus)),
        destination=destination,
    )
    problem = build_problem(order, index, inventory)
    candidate_of = {int(n): c for c, n in enumerate(problem.nodes.tolist())}

    offers = []
    for node, units in held.items():
        n = index.nodes[node]
        distance = distance_km(
            n.location.latitude, n.location.longitude, here.latitude, here.longitude
        )
        if store is not None and n.id == store.id:
            way = Fulfilment.IN_STORE
        elif n.kind is NodeKind.STORE and n.pickup:
            way = Fulfilment.PICKUP
        else:
            way = Fulfilment.DELIVERY
        service, days, cost = "", 0, 0.0
        candidate = candidate_of.get(node)
        if candidate is not None:
            load = (problem.atp[candidate] > 0).astype(np.int64)
            lane = cheapest_lane(problem, candidate, load)
            if lane >= 0:
                shipment = build_plan(problem, [Allocation(lane, load)]).shipments[0]
                service, days, cost = shipment.service_id, shipment.delivery_days, shipment.cost
        offers.append(
            NodeOffer(
                n.id,
                n.kind,
                way,
                distance,
                tuple(units),
                n.pickup,
                n.processing_days,
                service,
                days,
                cost,
            )
        )
    rank = {Fulfilment.IN_STORE: 0, Fulfilment.PICKUP: 1, Fulfilment.DELIVERY: 2}
    offers.sort(key=lambda o: (rank[o.fulfilment], o.distance_km, o.node_id))
    options: tuple[Plan, ...] = ()
    available = [s for s in skus if any(s == sku for units in held.values() for sku, _ in units)]
    if location is not None and available:
        quote = Order(
            "availability",
            tuple(OrderLine(str(i), s, 1) for i, s in enumerate(available)),
            destination=location,
        )
        options = planner.plan(quote, Policy.CHEAPEST, options=True, validate=False).options
    return Availability(tuple(offers[:max_nodes]), options)
