"""Validation at the edge: every violation of a network or order, each with its field path.

Paths use the JSON (lowerCamelCase) field names of the files and the API, e.g.
``nodes[3].location.latitude``. Inside the engine the data are trusted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from omniroute.calendars import is_time_zone
from omniroute.model import (
    FieldViolation,
    Location,
    Network,
    Node,
    NodeKind,
    Order,
    SourcingProfile,
    StockPosition,
    ValidationError,
)
from omniroute.profiles import adjustment_index
from omniroute.stock_table import StockTable

MAX_ID = 256  # characters of any id (node, SKU, service, order, line)
MAX_DESCRIPTION = 400  # characters of a violation's description (it may quote the input)
MIN_PARCEL_KG = 0.001  # a parcel weight limit below a gram is a mistake (0: no limit)
MAX_WEIGHT_KG = 100_000.0  # of one unit of a SKU, or of a parcel: 100 tonnes
MAX_MONEY = (
    1e9  # of any one cost (a base cost, a handling cost, the split penalty): sums stay finite
)


class _Collector:
    """Accumulates violations under a path prefix."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.violations: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        path = f"{self.prefix}.{field}" if self.prefix and field else (self.prefix or field)
        if len(description) > MAX_DESCRIPTION:  # a huge value quoted back: cut it short
            description = description[: MAX_DESCRIPTION - 1] + "…"
        self.violations.append(FieldViolation(path, description))

    def non_negative(self, field: str, value: float) -> None:
        if not math.isfinite(value):
            self.add(field, f"must be a finite number, got {value}")
        elif value < 0:
            self.add(field, f"must be >= 0, got {value}")

    def money(self, field: str, value: float) -> None:
        """A cost: finite, >= 0 and at most :data:`MAX_MONEY` (so that sums of costs stay
        finite)."""
        self.non_negative(field, value)
        if math.isfinite(value) and value > MAX_MONEY:
            self.add(field, f"must be at most {MAX_MONEY:,.0f}, got {value:g}")

    def identifier(self, field: str, value: str, seen: set[str], what: str) -> None:
        if not value:
            self.add(field, f"{what} id is required")
        elif len(value) > MAX_ID:
            self.add(field, f"{what} id is longer than {MAX_ID} characters ({len(value):,})")
        elif value in seen:
            self.add(field, f"duplicate {what} id {value!r}")
        seen.add(value)


def location_violations(field: str, location: Location | None) -> list[FieldViolation]:
    """Problems of a required point: missing, or a latitude or longitude out of range or not
    a number."""
    out = _Collector()
    _location(out, field, location)
    return out.violations


def _location(out: _Collector, field: str, location: Location | None) -> None:
    if location is None:
        out.add(field, "is required")
        return
    if not (math.isfinite(location.latitude) and -90.0 <= location.latitude <= 90.0):
        out.add(f"{field}.latitude", f"must be within [-90, 90], got {location.latitude}")
    if not (math.isfinite(location.longitude) and -180.0 <= location.longitude <= 180.0):
        out.add(f"{field}.longitude", f"must be within [-180, 180], got {location.longitude}")


def _calendars(out: _Collector, network: Network) -> set[str]:
    """Check the network's calendars; their ids."""
    ids: set[str] = set()
    for i, calendar in enumerate(network.calendars):
        where = f"calendars[{i}]"
        out.identifier(f"{where}.id", calendar.id, ids, "calendar")
        unknown = sorted(d for d in calendar.working_days if not 1 <= d <= 7)
        if unknown:
            out.add(
                f"{where}.workingDays",
                f"unknown days {unknown}: each is MONDAY ... SUNDAY (not unspecified)",
            )
        if not calendar.working_days:
            out.add(f"{where}.workingDays", "at least one working day is required")
    return ids


def _calendar_ref(out: _Collector, where: str, calendar_id: str, ids: set[str]) -> None:
    if calendar_id and calendar_id not in ids:
        out.add(where, f"unknown calendar {calendar_id!r}")


def network_violations(network: Network) -> list[FieldViolation]:
    """Every problem with ``network``; empty when it is valid."""
    out = _Collector()
    calendar_ids = _calendars(out, network)
    if network.time_zone and not is_time_zone(network.time_zone):
        out.add("timeZone", f"unknown time zone {network.time_zone[:100]!r} (an IANA id, e.g. UTC)")
    service_ids: set[str] = set()
    for i, service in enumerate(network.carrier_services):
        where = f"carrierServices[{i}]"
        out.identifier(f"{where}.id", service.id, service_ids, "carrier service")
        _calendar_ref(out, f"{where}.calendarId", service.calendar_id, calendar_ids)
        limit = service.max_parcel_weight_kg
        out.non_negative(f"{where}.maxParcelWeightKg", limit)
        if limit and math.isfinite(limit) and not MIN_PARCEL_KG <= limit <= MAX_WEIGHT_KG:
            out.add(
                f"{where}.maxParcelWeightKg",
                f"must be 0 (no limit) or within [{MIN_PARCEL_KG}, {MAX_WEIGHT_KG:g}] kg, "
                f"got {limit}",
            )
        if not service.zones:
            out.add(f"{where}.zones", "at least one zone is required")
        previous = -math.inf
        for j, zone in enumerate(service.zones):
            zone_path = f"{where}.zones[{j}]"
            out.non_negative(f"{zone_path}.maxDistanceKm", zone.max_distance_km)
            if zone.max_distance_km <= previous:
                out.add(
                    f"{zone_path}.maxDistanceKm",
                    f"zones must be strictly ascending by maxDistanceKm "
                    f"({zone.max_distance_km} follows {previous})",
                )
            previous = max(previous, zone.max_distance_km)
            out.money(f"{zone_path}.baseCost", zone.base_cost)
            out.money(f"{zone_path}.costPerKg", zone.cost_per_kg)
            out.non_negative(f"{zone_path}.transitDays", zone.transit_days)

    node_ids: set[str] = set()
    for i, node in enumerate(network.nodes):
        where = f"nodes[{i}]"
        out.identifier(f"{where}.id", node.id, node_ids, "node")
        _location(out, f"{where}.location", node.location)
        out.money(f"{where}.handlingCostPerShipment", node.handling_cost_per_shipment)
        out.money(f"{where}.handlingCostPerUnit", node.handling_cost_per_unit)
        out.non_negative(f"{where}.processingDays", node.processing_days)
        out.non_negative(f"{where}.dailyShipmentCapacity", node.daily_shipment_capacity)
        if node.pickup and node.kind is not NodeKind.STORE:
            out.add(f"{where}.pickup", "only stores can be pick-up points")
        if node.time_zone and not is_time_zone(node.time_zone):
            out.add(f"{where}.timeZone", f"unknown time zone {node.time_zone[:100]!r} (an IANA id)")
        _calendar_ref(out, f"{where}.calendarId", node.calendar_id, calendar_ids)
        offered: set[str] = set()
        for j, service_id in enumerate(node.service_ids):
            if service_id not in service_ids:
                out.add(f"{where}.serviceIds[{j}]", f"unknown carrier service {service_id!r}")
            elif service_id in offered:
                out.add(f"{where}.serviceIds[{j}]", f"service {service_id!r} listed twice")
            offered.add(service_id)

    sku_ids: set[str] = set()
    for i, sku in enumerate(network.skus):
        out.identifier(f"skus[{i}].id", sku.id, sku_ids, "SKU")
        out.non_negative(f"skus[{i}].weightKg", sku.weight_kg)
        if math.isfinite(sku.weight_kg) and sku.weight_kg > MAX_WEIGHT_KG:
            out.add(f"skus[{i}].weightKg", f"must be <= {MAX_WEIGHT_KG:g} kg, got {sku.weight_kg}")

    if not _stock_is_clean(network.stock, node_ids, sku_ids):
        _stock_violations(out, network.stock, node_ids, sku_ids)

    out.money("splitPenalty", network.split_penalty)
    _profiles(out, network, node_ids)
    _fences(out, network, node_ids, sku_ids)
    _inbound(out, network, node_ids, sku_ids)
    return out.violations


def _inbound(out: _Collector, network: Network, node_ids: set[str], sku_ids: set[str]) -> None:
    """Check the inbound supply: unique ids, known nodes and SKUs, units > 0, a date, and
    no inbound node id (``NODE@DATE``) that is the id of a node of the network."""
    from omniroute.inbound import inbound_node_id

    ids: set[str] = set()
    for i, supply in enumerate(network.inbound_supply):
        where = f"inboundSupply[{i}]"
        out.identifier(f"{where}.id", supply.id, ids, "inbound supply")
        if supply.node_id not in node_ids:
            out.add(f"{where}.nodeId", f"unknown node {supply.node_id!r}")
        if supply.sku_id not in sku_ids:
            out.add(f"{where}.skuId", f"unknown SKU {supply.sku_id!r}")
        if supply.quantity <= 0:
            out.add(f"{where}.quantity", f"must be > 0, got {supply.quantity}")
        if supply.arrival_date is None:
            out.add(f"{where}.arrivalDate", "is required")
        elif inbound_node_id(supply.node_id, supply.arrival_date) in node_ids:
            out.add(
                f"{where}.nodeId",
                f"the network has a node named {inbound_node_id(supply.node_id, supply.arrival_date)!r}, "
                "the id its inbound node would take: rename that node",
            )


def _fences(out: _Collector, network: Network, node_ids: set[str], sku_ids: set[str]) -> None:
    """Check the channel fences: a channel, known node and SKU, at most one of a node and a
    node kind, exactly one of units, share and maxShare (each in range), and no two entries
    of one channel and kind with the same scope (which would leave the winner unclear)."""
    scopes: dict[tuple[object, ...], int] = {}
    for i, fence in enumerate(network.channel_fences):
        where = f"channelFences[{i}]"
        if fence.channel is None:
            out.add(f"{where}.channel", "is required")
        if fence.node_id and fence.node_kind is not None:
            out.add(where, "set at most one of nodeId and nodeKind")
        elif fence.node_id and fence.node_id not in node_ids:
            out.add(f"{where}.nodeId", f"unknown node {fence.node_id!r}")
        if fence.sku_id and fence.sku_id not in sku_ids:
            out.add(f"{where}.skuId", f"unknown SKU {fence.sku_id!r}")
        amounts = [
            name
            for name, value in (
                ("units", fence.units),
                ("share", fence.share),
                ("maxShare", fence.max_share),
            )
            if value != 0
        ]
        if len(amounts) != 1:
            out.add(where, "set exactly one of units, share and maxShare")
        if fence.units < 0:
            out.add(f"{where}.units", f"must be > 0, got {fence.units}")
        for name, value in (("share", fence.share), ("maxShare", fence.max_share)):
            if value != 0 and not (math.isfinite(value) and 0 < value <= 1):
                out.add(f"{where}.{name}", f"must be more than 0 and at most 1, got {value}")
        scope = (fence.channel, fence.is_cap, fence.node_id, fence.node_kind, fence.sku_id)
        if scope in scopes:
            out.add(
                where,
                f"has the scope of channelFences[{scopes[scope]}] (same channel, kind, node "
                "and SKU): merge them",
            )
        scopes.setdefault(scope, i)


def _profiles(out: _Collector, network: Network, node_ids: set[str]) -> None:
    """Check the sourcing profiles: ids, node references, limits, and that no adjustment
    makes a shipment cost less than nothing (the optimiser's bounds rely on it)."""
    ids: set[str] = set()
    for i, profile in enumerate(network.sourcing_profiles):
        where = f"sourcingProfiles[{i}]"
        out.identifier(f"{where}.id", profile.id, ids, "sourcing profile")
        for j, node_id in enumerate(profile.excluded_node_ids):
            if node_id not in node_ids:
                out.add(f"{where}.excludedNodeIds[{j}]", f"unknown node {node_id!r}")
        out.non_negative(f"{where}.maxDistanceKm", profile.max_distance_km)
        out.non_negative(f"{where}.maxShipments", profile.max_shipments)
        malformed: set[int] = set()
        for j, adjustment in enumerate(profile.node_adjustments):
            at = f"{where}.nodeAdjustments[{j}]"
            if bool(adjustment.node_id) == (adjustment.kind is not None):
                out.add(at, "set exactly one of nodeId and kind")
                malformed.add(j)
            elif adjustment.node_id and adjustment.node_id not in node_ids:
                out.add(f"{at}.nodeId", f"unknown node {adjustment.node_id!r}")
            if not math.isfinite(adjustment.cost_per_shipment) or (
                abs(adjustment.cost_per_shipment) > MAX_MONEY
            ):
                out.add(
                    f"{at}.costPerShipment",
                    f"must be a finite number of at most {MAX_MONEY:,.0f} either way, got "
                    f"{adjustment.cost_per_shipment:g}",
                )
                malformed.add(j)
        _no_negative_shipments(out, network, profile, where, malformed)


def _no_negative_shipments(
    out: _Collector, network: Network, profile: SourcingProfile, where: str, skip: set[int]
) -> None:
    """Each adjustment at least minus the cheapest fixed cost of a shipment from every node
    it applies to: the node's handling cost per shipment plus its cheapest zone base cost
    (0 for a pick-up store's hand-over)."""
    if not profile.node_adjustments:
        return
    base = {
        s.id: min((z.base_cost for z in s.zones), default=0.0) for s in network.carrier_services
    }
    reported = set(skip)  # malformed adjustments are reported already
    for node in network.nodes:
        j = adjustment_index(profile, node)
        if j is None or j in reported:
            continue
        cheapest = (
            0.0 if node.pickup else min((base.get(s, 0.0) for s in node.service_ids), default=0.0)
        )
        floor = -(node.handling_cost_per_shipment + cheapest)
        cost = profile.node_adjustments[j].cost_per_shipment
        if cost < floor - 1e-9:
            reported.add(j)
            out.add(
                f"{where}.nodeAdjustments[{j}].costPerShipment",
                f"{cost} would make a shipment from node {node.id!r} cost less than nothing: "
                f"at least {floor:g} (its handling cost per shipment and cheapest base cost)",
            )


def _stock_is_clean(stock: Sequence[StockPosition], node_ids: set[str], sku_ids: set[str]) -> bool:
    """Whether every position has a known node and SKU, no (node, SKU) comes twice and the
    quantities are whole numbers >= 0: column by column, in C loops (millions of positions
    in a fraction of a second). When not, :func:`_stock_violations` says where."""
    if not isinstance(stock, StockTable):
        for name in ("on_hand", "safety_stock"):
            if not set(map(type, map(attrgetter(name), stock))) <= {int}:
                return False
        stock = StockTable.of(stock)
    table = stock.recoded(sorted(node_ids), sorted(sku_ids))
    if len(table.unknown()):
        return False
    keys = np.sort(table.keys())
    if np.any(keys[1:] == keys[:-1]):  # a (node, SKU) twice
        return False
    return not len(table) or (table.on_hand.min() >= 0 and table.safety_stock.min() >= 0)


def _stock_violations(
    out: _Collector, stock: Sequence[StockPosition], node_ids: set[str], sku_ids: set[str]
) -> None:
    positions: set[tuple[str, str]] = set()
    for i, position in enumerate(stock):
        where = f"stock[{i}]"
        if position.node_id not in node_ids:
            out.add(f"{where}.nodeId", f"unknown node {position.node_id!r}")
        if position.sku_id not in sku_ids:
            out.add(f"{where}.skuId", f"unknown SKU {position.sku_id!r}")
        key = (position.node_id, position.sku_id)
        if key in positions:
            out.add(where, f"second stock position for node {key[0]!r} and SKU {key[1]!r}")
        positions.add(key)
        out.non_negative(f"{where}.onHand", position.on_hand)
        out.non_negative(f"{where}.safetyStock", position.safety_stock)


@dataclass(frozen=True, slots=True)
class Lookup:
    """Ids of a network for validating many orders (build once with :func:`lookup_of`)."""

    nodes: Mapping[str, Node]
    sku_ids: Set[str]
    profile_ids: Set[str] = frozenset()


def lookup_of(network: Network) -> Lookup:
    return Lookup(
        {node.id: node for node in network.nodes},
        frozenset(s.id for s in network.skus),
        frozenset(p.id for p in network.sourcing_profiles),
    )


def order_violations(
    order: Order, network: Network | Lookup, prefix: str = ""
) -> list[FieldViolation]:
    """Every problem with ``order`` against ``network``; empty when it is valid.

    Pass a :class:`Lookup` (e.g. ``NetworkIndex.lookup``) when validating many orders.
    """
    out = _Collector(prefix)
    lookup = network if isinstance(network, Lookup) else lookup_of(network)
    nodes, sku_ids = lookup.nodes, lookup.sku_ids
    if not order.id:
        out.add("id", "order id is required")
    elif len(order.id) > MAX_ID:
        out.add("id", f"order id is longer than {MAX_ID} characters ({len(order.id):,})")
    if len(order.customer_id) > MAX_ID:
        out.add(
            "customerId",
            f"customer id is longer than {MAX_ID} characters ({len(order.customer_id):,})",
        )
    if not order.lines:
        out.add("lines", "an order needs at least one line")
    line_ids: set[str] = set()
    for i, line in enumerate(order.lines):
        out.identifier(f"lines[{i}].id", line.id, line_ids, "line")
        if line.sku_id not in sku_ids:
            out.add(f"lines[{i}].skuId", f"unknown SKU {line.sku_id!r}")
        if line.quantity <= 0:
            out.add(f"lines[{i}].quantity", f"must be > 0, got {line.quantity}")
        if len(line.ship_together_group) > MAX_ID:
            out.add(
                f"lines[{i}].shipTogetherGroup",
                f"is longer than {MAX_ID} characters ({len(line.ship_together_group):,})",
            )
        if line.allow_backorder and not order.create_time:
            out.add(
                f"lines[{i}].allowBackorder",
                "needs the order's createTime (a backorder waits for supply in transit, "
                "which only dated orders are promised)",
            )
    if order.pickup_store_id:
        store = nodes.get(order.pickup_store_id)
        if store is None:
            out.add("pickupStoreId", f"unknown node {order.pickup_store_id!r}")
        elif store.kind is not NodeKind.STORE or not store.pickup:
            out.add("pickupStoreId", f"node {store.id!r} is not a pick-up store")
        if order.destination is not None:
            _location(out, "destination", order.destination)
    else:
        _location(out, "destination", order.destination)
    out.non_negative("promiseDays", order.promise_days)
    if order.promise_date is not None and not order.create_time:
        out.add("promiseDate", "needs createTime (the date counts from when it was placed)")
    out.non_negative("maxShipments", order.max_shipments)
    for i, node_id in enumerate(order.excluded_node_ids):
        if node_id not in nodes:
            out.add(f"excludedNodeIds[{i}]", f"unknown node {node_id!r}")
    if order.sourcing_profile_id and order.sourcing_profile_id not in lookup.profile_ids:
        out.add(
            "sourcingProfileId", f"unknown sourcing profile {order.sourcing_profile_id[:100]!r}"
        )
    return out.violations


def orders_violations(orders: Iterable[Order], network: Network) -> list[FieldViolation]:
    """Violations of many orders; paths are prefixed ``orders[i]`` and ids must be unique."""
    violations: list[FieldViolation] = []
    seen: set[str] = set()
    lookup = lookup_of(network)
    for i, order in enumerate(orders):
        violations += order_violations(order, lookup, prefix=f"orders[{i}]")
        if order.id and order.id in seen:
            violations.append(FieldViolation(f"orders[{i}].id", f"duplicate order id {order.id!r}"))
        seen.add(order.id)
    return violations


def require_valid_network(network: Network) -> Network:
    """Return ``network`` or raise :class:`ValidationError` with all its violations."""
    violations = network_violations(network)
    if violations:
        raise ValidationError(violations, "network")
    return network
