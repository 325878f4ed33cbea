"""The cost model of docs/cost-model.md, in one place.

Every reported cost is computed here (scalar, exact in double precision). The optimiser's
vectorised cost tables (``omniroute.candidates``) use :func:`parcels_array`, the same formula, and
tests check that the two agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from omniroute.dating import Dating, NetworkDates
from omniroute.geo import distance_km
from omniroute.model import (
    CarrierService,
    CostBreakdown,
    Location,
    Network,
    Node,
    Order,
    Plan,
    PlanStatus,
    Zone,
)
from omniroute.profiles import adjustment_for, allows, profile_for

# Weight / parcel-limit ratios within this of an integer count as that integer, so that
# 3 x 0.1 kg in a 0.3 kg parcel is one parcel despite binary floating point.
PARCEL_TOLERANCE = 1e-9
# Reported costs must match the contract's cost within half a cent (outputs are rounded to
# cents); the 1e-9 absorbs the binary error of a rounded decimal (0.38 - 0.375 > 0.005).
COST_TOLERANCE = 0.005
ROUNDED_TOLERANCE = COST_TOLERANCE + 1e-9


def zone_for(service: CarrierService, distance: float) -> Zone | None:
    """The first zone with ``distance <= maxDistanceKm``; None when the service cannot serve it."""
    for zone in service.zones:
        if distance <= zone.max_distance_km:
            return zone
    return None


def parcels_for(weight_kg: float, max_parcel_weight_kg: float) -> int:
    """``ceil(W / maxParcelWeightKg)``, at least 1; 1 when the service has no limit."""
    if max_parcel_weight_kg <= 0:
        return 1
    return max(1, math.ceil(weight_kg / max_parcel_weight_kg - PARCEL_TOLERANCE))


def parcels_array(weights_kg: np.ndarray, max_parcel_weight_kg: np.ndarray) -> np.ndarray:
    """Vectorised :func:`parcels_for`; ``max_parcel_weight_kg`` is ``inf`` for no limit."""
    ratio = weights_kg / max_parcel_weight_kg
    return np.maximum(1.0, np.ceil(ratio - PARCEL_TOLERANCE))


def alone_parcels(
    alone_units: np.ndarray, units: np.ndarray, rest_weight_kg: np.ndarray, max_parcel: np.ndarray
) -> np.ndarray:
    """Vectorised parcels of loads with ship-alone units: one parcel per ship-alone unit
    plus :func:`parcels_array` of the other units' weight (none without other units)."""
    rest = np.where(units > alone_units, parcels_array(rest_weight_kg, max_parcel), 0.0)
    return alone_units + rest


@dataclass(frozen=True, slots=True)
class ShipmentQuote:
    """Cost and timing of one shipment under the cost model."""

    cost: float
    delivery_days: int
    parcels: int
    distance_km: float
    breakdown: CostBreakdown
    ship_date: date | None = None  # dated orders only
    delivery_date: date | None = None


def quote_shipment(
    node: Node,
    service: CarrierService | None,
    weight_kg: float,
    units: int,
    destination: Location,
    distance: float | None = None,
    dating: Dating | None = None,
    adjustment: float = 0.0,
    alone_units: int = 0,
    rest_weight_kg: float = 0.0,
) -> ShipmentQuote | None:
    """Cost of shipping ``units`` weighing ``weight_kg`` from ``node`` with ``service``.

    ``service=None`` is the pick-up store handing over its own stock: no carrier cost,
    delivery days = the store's processing days. Returns None when the service has no
    zone covering the distance. ``distance`` (km) may be passed when already known. With
    the ``dating`` of a dated order the quote has its ship and delivery dates, and its
    delivery days count from the order's date. ``adjustment`` is the order's sourcing
    profile's cost per shipment from the node (:func:`omniroute.profiles.adjustment_for`).
    ``alone_units`` of the units are of ship-alone SKUs, a parcel each; the parcels of the
    others are counted on their weight ``rest_weight_kg`` (none when there are no others).
    """
    handling_shipment = node.handling_cost_per_shipment
    handling_units = node.handling_cost_per_unit * units
    if service is None:
        breakdown = CostBreakdown(0.0, 0.0, handling_shipment, handling_units, adjustment)
        if dating is not None:
            shipped, delivered, days = dating.shipment(node, None, 0)
            return ShipmentQuote(breakdown.total, days, 0, 0.0, breakdown, shipped, delivered)
        return ShipmentQuote(breakdown.total, node.processing_days, 0, 0.0, breakdown)
    if distance is None:
        distance = distance_km(
            node.location.latitude,
            node.location.longitude,
            destination.latitude,
            destination.longitude,
        )
    zone = zone_for(service, distance)
    if zone is None:
        return None
    if alone_units:
        rest = units > alone_units
        parcels = alone_units + (
            parcels_for(rest_weight_kg, service.max_parcel_weight_kg) if rest else 0
        )
    else:
        parcels = parcels_for(weight_kg, service.max_parcel_weight_kg)
    breakdown = CostBreakdown(
        carrier_parcels=parcels * zone.base_cost,
        carrier_weight=zone.cost_per_kg * weight_kg,
        handling_shipment=handling_shipment,
        handling_units=handling_units,
        profile_adjustment=adjustment,
    )
    if dating is not None:
        shipped, delivered, days = dating.shipment(node, service, zone.transit_days)
        return ShipmentQuote(
            breakdown.total, days, parcels, distance, breakdown, shipped, delivered
        )
    return ShipmentQuote(
        breakdown.total, node.processing_days + zone.transit_days, parcels, distance, breakdown
    )


def destination_of(order: Order, nodes_by_id: Mapping[str, Node]) -> Location:
    """Where the order goes: the pick-up store's location, else the order's destination."""
    if order.pickup_store_id:
        return nodes_by_id[order.pickup_store_id].location
    assert order.destination is not None, "validated orders have a destination"
    return order.destination


def plan_total(shipment_costs: Sequence[float], split_penalty: float) -> float:
    """Sum of shipment costs + ``split_penalty * (shipments - 1)``."""
    if not shipment_costs:
        return 0.0
    return math.fsum(shipment_costs) + split_penalty * (len(shipment_costs) - 1)


def check_plan(
    order: Order,
    network: Network,
    plan: Plan,
    atp: Mapping[tuple[str, str], int],
    full_days: Mapping[str, Iterable[date]] | None = None,
) -> list[str]:
    """Every way ``plan`` breaks the contract for ``order``; empty when it is feasible and
    its reported numbers are the cost model's.

    ``atp`` maps ``(node_id, sku_id)`` to available-to-promise units; ``full_days`` the
    ship dates on which nodes with a daily capacity had no room (by node id). This is the
    independent checker used by tests and benchmarks; it recomputes everything from the
    contract.
    """
    problems: list[str] = []
    nodes = {node.id: node for node in network.nodes}
    services = {service.id: service for service in network.carrier_services}
    weights = {sku.id: sku.weight_kg for sku in network.skus}
    alone = {sku.id for sku in network.skus if sku.ship_alone}
    lines = {line.id: line for line in order.lines}
    destination = destination_of(order, nodes)
    full = {
        i: frozenset(full_days[node.id])
        for i, node in enumerate(network.nodes)
        if full_days and node.id in full_days
    }
    dating = Dating.of(order, NetworkDates(network), full) if order.create_time else None
    limit = dating.limit(order) if dating is not None else (order.promise_days or None)
    profile = profile_for(order, network.sourcing_profiles)
    max_shipments = order.max_shipments or (profile.max_shipments if profile else 0)
    shipped: dict[str, int] = {line_id: 0 for line_id in lines}
    used: dict[tuple[str, str], int] = {}
    seen_nodes: set[str] = set()
    for index, shipment in enumerate(plan.shipments):
        where = f"shipments[{index}]"
        node = nodes.get(shipment.node_id)
        if node is None:
            problems.append(f"{where}: unknown node {shipment.node_id!r}")
            continue
        if shipment.node_id in seen_nodes:
            problems.append(f"{where}: second shipment from node {shipment.node_id!r}")
        seen_nodes.add(shipment.node_id)
        if node.disabled or node.id in order.excluded_node_ids:
            problems.append(f"{where}: node {node.id!r} is disabled or excluded")
        if profile is not None and not allows(profile, node):
            problems.append(f"{where}: sourcing profile {profile.id!r} excludes {node.id!r}")
        weight, units, alone_units, rest_weight = 0.0, 0, 0, 0.0
        for shipment_line in shipment.lines:
            line = lines.get(shipment_line.line_id)
            if line is None or shipment_line.quantity <= 0:
                problems.append(f"{where}: bad line {shipment_line}")
                continue
            shipped[line.id] += shipment_line.quantity
            key = (node.id, line.sku_id)
            used[key] = used.get(key, 0) + shipment_line.quantity
            weight += weights[line.sku_id] * shipment_line.quantity
            units += shipment_line.quantity
            if line.sku_id in alone:
                alone_units += shipment_line.quantity
            else:
                rest_weight += weights[line.sku_id] * shipment_line.quantity
        if shipment.service_id:
            if shipment.service_id not in node.service_ids:
                problems.append(f"{where}: node {node.id!r} does not offer {shipment.service_id!r}")
                continue
            service: CarrierService | None = services[shipment.service_id]
        else:
            if order.pickup_store_id != node.id:
                problems.append(f"{where}: no carrier service outside the pick-up store")
                continue
            service = None
        adjustment = adjustment_for(profile, node) if profile is not None else 0.0
        quote = quote_shipment(
            node,
            service,
            weight,
            units,
            destination,
            dating=dating,
            adjustment=adjustment,
            alone_units=alone_units,
            rest_weight_kg=rest_weight,
        )
        if quote is None:
            problems.append(f"{where}: {shipment.service_id!r} does not reach the destination")
            continue
        if profile is not None and 0 < profile.max_distance_km < quote.distance_km:
            problems.append(
                f"{where}: {quote.distance_km} km is beyond profile {profile.id!r}'s "
                f"{profile.max_distance_km} km"
            )
        if abs(quote.cost - shipment.cost) > ROUNDED_TOLERANCE:
            problems.append(f"{where}: cost {shipment.cost} but the cost model says {quote.cost}")
        if quote.delivery_days != shipment.delivery_days:
            problems.append(
                f"{where}: {shipment.delivery_days} days, model says {quote.delivery_days}"
            )
        if quote.parcels != shipment.parcels:
            problems.append(f"{where}: {shipment.parcels} parcels, model says {quote.parcels}")
        if limit is not None and quote.delivery_days > limit:
            problems.append(f"{where}: {quote.delivery_days} days breaks the promise")
        dates = (shipment.ship_date, shipment.delivery_date)
        if dates != (quote.ship_date, quote.delivery_date):
            problems.append(
                f"{where}: ship and delivery dates {dates}, model says "
                f"{(quote.ship_date, quote.delivery_date)}"
            )
    for (node_id, sku_id), quantity in used.items():
        if quantity > atp.get((node_id, sku_id), 0):
            problems.append(f"node {node_id!r} ships {quantity} of {sku_id!r}, above its ATP")
    if max_shipments and len(plan.shipments) > max_shipments:
        problems.append(f"{len(plan.shipments)} shipments exceed maxShipments {max_shipments}")
    # totalCost adds up the reported shipment costs (each checked against the model above)
    # and the split penalty; rounded to cents, these may differ from the model's total by
    # half a cent per shipment (docs/cost-model.md, "Money and rounding")
    total = plan_total([s.cost for s in plan.shipments], network.split_penalty)
    if abs(total - plan.total_cost) > ROUNDED_TOLERANCE:
        problems.append(
            f"totalCost {plan.total_cost} but its shipments and split penalty add up to {total}"
        )
    days = max((s.delivery_days for s in plan.shipments), default=0)
    if days != plan.delivery_days:
        problems.append(f"deliveryDays {plan.delivery_days} but shipments say {days}")
    latest = max((s.delivery_date for s in plan.shipments if s.delivery_date), default=None)
    if latest != plan.delivery_date:
        problems.append(f"deliveryDate {plan.delivery_date} but shipments say {latest}")
    groups: dict[str, set[str]] = {}  # ship-together group -> the nodes shipping its lines
    for shipment in plan.shipments:
        for shipment_line in shipment.lines:
            line = lines.get(shipment_line.line_id)
            if line is not None and line.ship_together_group:
                groups.setdefault(line.ship_together_group, set()).add(shipment.node_id)
    for group, group_nodes in sorted(groups.items()):
        grouped = [line for line in lines.values() if line.ship_together_group == group]
        if len(group_nodes) > 1 or any(shipped[line.id] != line.quantity for line in grouped):
            problems.append(f"ship-together group {group!r} is not shipped whole from one node")
    unfilled = {u.line_id: u.quantity for u in plan.unfilled_lines}
    for line_id, line in lines.items():
        if shipped[line_id] + unfilled.get(line_id, 0) != line.quantity:
            problems.append(f"line {line_id!r}: shipped + unfilled != quantity")
    complete = all(shipped[line_id] == line.quantity for line_id, line in lines.items())
    expected = (
        PlanStatus.COMPLETE
        if complete
        else PlanStatus.PARTIAL
        if plan.shipments
        else PlanStatus.UNFULFILLABLE
    )
    if plan.status != expected:
        problems.append(f"status {plan.status.value} but the shipments make it {expected.value}")
    if plan.status is PlanStatus.PARTIAL and not order.allow_partial:
        problems.append("partial plan for an order that does not allow partial")
    return problems
