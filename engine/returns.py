"""Return anywhere: where returned units should go.

A resaleable unit is worth ``unit_value`` at a node while the node is short of it (its ATP
is below its safety stock plus one on the shelf); the return goes, as one parcel, to the
destination with the lowest cost minus value: back on the shelf of the store where it was
handed in (handling only), or shipped to the store or DC that needs it most. Units that need
inspection go to the cheapest DC. Drop-ship vendors and disabled nodes receive nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from omniroute.cost import quote_shipment
from omniroute.model import Location, NodeKind
from omniroute.network_index import Inventory, NetworkIndex

DEFAULT_UNIT_VALUE = 10.0


class Condition(enum.Enum):
    RESALEABLE = "RESALEABLE"
    NEEDS_INSPECTION = "NEEDS_INSPECTION"


class Action(enum.Enum):
    RESTOCK_HERE = "RESTOCK_HERE"
    SEND_TO_NODE = "SEND_TO_NODE"
    INSPECT_AT_DC = "INSPECT_AT_DC"


@dataclass(frozen=True, slots=True)
class ReturnItem:
    sku_id: str
    quantity: int
    condition: Condition


@dataclass(frozen=True, slots=True)
class ReturnLegPlan:
    action: Action
    node_id: str
    service_id: str
    items: tuple[ReturnItem, ...]
    distance_km: float
    cost: float
    value: float
    delivery_days: int


@dataclass(frozen=True, slots=True)
class ReturnPlan:
    """Where the returned items go: one leg per condition."""

    legs: tuple[ReturnLegPlan, ...]

    @property
    def net_cost(self) -> float:
        """Cost of the legs minus the value of the units where they can sell."""
        return sum(leg.cost - leg.value for leg in self.legs)


def plan_return(
    index: NetworkIndex,
    inventory: Inventory,
    items: Sequence[ReturnItem],
    origin: Location | None,
    store_id: str = "",
    unit_value: float = DEFAULT_UNIT_VALUE,
) -> ReturnPlan:
    """The legs of a return (validated input: known SKUs, an origin or a store)."""
    if store_id:
        origin = index.nodes_by_id[store_id].location
    assert origin is not None
    legs = []
    resaleable = tuple(i for i in items if i.condition is Condition.RESALEABLE)
    inspect = tuple(i for i in items if i.condition is Condition.NEEDS_INSPECTION)
    if resaleable:
        legs.append(_best_leg(index, inventory, resaleable, origin, store_id, unit_value, False))
    if inspect:
        legs.append(_best_leg(index, inventory, inspect, origin, store_id, 0.0, True))
    return ReturnPlan(tuple(leg for leg in legs if leg is not None))


def _best_leg(
    index: NetworkIndex,
    inventory: Inventory,
    items: tuple[ReturnItem, ...],
    origin: Location,
    store_id: str,
    unit_value: float,
    inspection: bool,
) -> ReturnLegPlan | None:
    weight = sum(index.sku_weight[index.sku_pos[i.sku_id]] * i.quantity for i in items)
    units = sum(i.quantity for i in items)
    best: tuple[float, int, float, ReturnLegPlan] | None = None
    for node in index.nodes:
        if node.disabled or node.kind is NodeKind.DROP_SHIP:
            continue
        if inspection and node.kind is not NodeKind.DC:
            continue
        value = (
            0.0
            if inspection
            else unit_value
            * sum(min(i.quantity, _need(inventory, node.id, i.sku_id)) for i in items)
        )
        handling = node.handling_cost_per_unit * units
        if node.id == store_id and not inspection:
            leg = ReturnLegPlan(
                Action.RESTOCK_HERE, node.id, "", items, 0.0, handling, value, node.processing_days
            )
            rank = 0
        else:
            quote = None
            for service_id in node.service_ids:  # the cheapest return label to this node
                q = quote_shipment(
                    node, index.services[index.service_pos[service_id]], weight, units, origin
                )
                if q is not None and (
                    quote is None
                    or (q.cost, q.delivery_days) < (quote[1].cost, quote[1].delivery_days)
                ):
                    quote = (service_id, q)
            if quote is None:
                continue
            service_id, q = quote
            # carrier cost of the parcel plus receiving handling (the per-shipment pick and
            # pack handling of an outbound shipment does not apply to receiving)
            cost = q.breakdown.carrier_parcels + q.breakdown.carrier_weight + handling
            days = q.delivery_days - node.processing_days
            action = Action.INSPECT_AT_DC if inspection else Action.SEND_TO_NODE
            leg = ReturnLegPlan(
                action, node.id, service_id, items, q.distance_km, cost, value, days
            )
            rank = 1
        key = (leg.cost - leg.value, rank, leg.distance_km, leg)
        if best is None or key[:3] < best[:3]:
            best = key
    return None if best is None else best[3]


def _need(inventory: Inventory, node_id: str, sku_id: str) -> int:
    """Units the node is short of: below its safety stock plus one on the shelf (0 when the
    node does not range the SKU)."""
    stock = inventory.sku(inventory.index.sku_pos[sku_id])
    node = inventory.index.node_pos[node_id]
    where = int(np.searchsorted(stock.nodes, node))
    if where >= len(stock.nodes) or stock.nodes[where] != node:
        return 0
    target = int(stock.safety_stock[where]) + 1
    available = int(stock.on_hand[where] - stock.reserved[where])
    return max(0, target - available)
