"""Turning an allocation (which lane ships how many units of each SKU) into a reported
:class:`~omniroute.model.Plan`, with every number computed by the cost model in ``omniroute.cost``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from omniroute.backorders import flags, release_order, unreleased
from omniroute.candidates import OrderProblem
from omniroute.cost import PARCEL_TOLERANCE, destination_of, plan_total, quote_shipment
from omniroute.dating import HAND_OVER, Dating
from omniroute.model import (
    Order,
    Plan,
    PlanStatus,
    Shipment,
    ShipmentLine,
    UnfilledLine,
    UnfilledReason,
)
from omniroute.network_index import NetworkIndex


@dataclass(frozen=True, slots=True)
class Allocation:
    """One shipment before reporting: a lane and the units per distinct SKU it carries."""

    lane: int
    units: np.ndarray  # (m,) int


@dataclass(frozen=True, slots=True)
class Load:
    """What one shipment carries, as the cost model reads it: its weight and units, and of
    them the ship-alone units and the weight of the others (docs/cost-model.md)."""

    weight_kg: float
    units: int
    alone_units: int
    rest_weight_kg: float


def load_of(index: NetworkIndex, quantities: Iterable[tuple[str, int]]) -> Load:
    """The load of ``(sku_id, units)`` pairs, weights summed pair by pair in the given order
    (as a plan reports its shipments, line by line)."""
    sku_weight, sku_pos = index.sku_weight_kg, index.sku_pos
    alone_of = index.sku_alone_list if index.has_alone else None
    weight = rest = 0.0
    units = alone = 0
    for sku_id, quantity in quantities:
        k = sku_pos[sku_id]
        weight += sku_weight[k] * quantity
        units += quantity
        if alone_of is not None:
            if alone_of[k]:
                alone += quantity
            else:
                rest += sku_weight[k] * quantity
    return Load(weight, units, alone, rest)


def node_lanes(problem: OrderProblem, candidate: int) -> slice:
    """The lanes of one candidate node (lanes are sorted by node)."""
    start, stop = np.searchsorted(problem.lanes.node, [candidate, candidate + 1])
    return slice(int(start), int(stop))


def cheapest_lane(
    problem: OrderProblem, candidate: int, units: np.ndarray, max_days: int | None = None
) -> int:
    """The lane of ``candidate`` that ships ``units`` cheapest (ties: fewer days, then the
    first), or -1; each lane costed as :meth:`~omniroute.candidates.Lanes.costs` does, in
    scalars (a node has a few lanes: numpy's per-call overhead would dominate)."""
    lanes = problem.lanes
    span = node_lanes(problem, candidate)
    weight = float(units @ problem.weight)
    count = int(units.sum())
    alone, rest_weight = 0, weight
    if problem.alone is not None:
        alone = int(units[problem.alone].sum())
        rest_weight = float(units[~problem.alone] @ problem.weight[~problem.alone])
    best, best_key = -1, (math.inf, 0)
    rows = zip(
        range(span.start, span.stop),
        lanes.days[span].tolist(),
        lanes.max_parcel[span].tolist(),
        lanes.base[span].tolist(),
        lanes.per_kg[span].tolist(),
        lanes.handling_shipment[span].tolist(),
        lanes.handling_unit[span].tolist(),
        strict=True,
    )
    for lane, days, max_parcel, base, per_kg, handling_shipment, handling_unit in rows:
        if max_days is not None and days > max_days:
            continue
        parcels = max(1.0, math.ceil(rest_weight / max_parcel - PARCEL_TOLERANCE))
        if alone:
            parcels = alone + (parcels if count > alone else 0)
        cost = parcels * base + per_kg * weight + handling_shipment + handling_unit * count
        if (cost, days) < best_key:
            best, best_key = lane, (cost, days)
    return best


def evaluate(problem: OrderProblem, allocations: Sequence[Allocation]) -> tuple[float, int, int]:
    """(total cost, delivery days, shipments) of allocations under the cost model plus the
    problem's prices, if any (vectorised; the reported plan is re-costed exactly by
    :func:`build_plan`)."""
    if not allocations:
        return 0.0, 0, 0
    lanes = problem.lanes
    chosen = np.array([a.lane for a in allocations])
    units = np.array([a.units for a in allocations])
    counts = units.sum(axis=1).astype(np.float64)
    costs = lanes.cost_each(chosen, units @ problem.weight, counts, problem.alone_loads(units))
    total = float(costs.sum()) + problem.index.split_penalty * (len(allocations) - 1)
    if problem.price is not None:
        total += float((problem.lane_prices(chosen) * units).sum())
    return total, int(lanes.days[chosen].max()), len(allocations)


def sku_reasons(problem: OrderProblem, fillable: np.ndarray | None = None) -> list[UnfilledReason]:
    """For each distinct SKU, the reason to report if it goes unfilled.

    Stock and service reasons come first. When every SKU has the stock and service but the
    order cannot complete, the shipment limit is the cause (``EXCEEDS_MAX_SHIPMENTS``).
    Otherwise a SKU the most-units plan ships in full (``fillable[k]``) waits only for other
    lines (``PARTIAL_NOT_ALLOWED``).
    """
    order = problem.order
    own = [problem.sku_reason(k) for k in range(len(problem.demand))]
    if problem.group is not None:
        own = _group_reasons(problem, own)
    limit_is_cause = order.max_shipments > 0 and not any(own)
    reasons = []
    for k, reason in enumerate(own):
        if reason is None:
            if limit_is_cause:
                reason = UnfilledReason.EXCEEDS_MAX_SHIPMENTS
            elif fillable is not None and fillable[k] and not order.allow_partial:
                reason = UnfilledReason.PARTIAL_NOT_ALLOWED
            elif order.max_shipments > 0:
                reason = UnfilledReason.EXCEEDS_MAX_SHIPMENTS
            else:
                reason = UnfilledReason.PARTIAL_NOT_ALLOWED
        reasons.append(reason)
    return reasons


def _group_reasons(
    problem: OrderProblem, own: list[UnfilledReason | None]
) -> list[UnfilledReason | None]:
    """``NOT_TOGETHER`` for the items of a ship-together group that has the stock and
    service but no candidate holding all of it."""
    assert problem.group is not None
    reasons = list(own)
    for g in set(problem.group.tolist()) - {-1}:
        items = np.flatnonzero(problem.group == g)
        if any(own[k] is not None for k in items.tolist()):
            continue
        if not (problem.atp[:, items] >= problem.demand[items]).all(axis=1).any():
            for k in items.tolist():
                reasons[k] = UnfilledReason.NOT_TOGETHER
    return reasons


def build_plan(
    problem: OrderProblem,
    allocations: Sequence[Allocation],
    reasons: Sequence[UnfilledReason] | None = None,
) -> Plan:
    """Report ``allocations`` as a plan: lines filled in order, costs from the cost model.

    Units of a SKU that appears on several lines fill those lines in order. ``reasons``
    (per distinct SKU) explain unfilled units; by default :func:`sku_reasons`.
    """
    order = problem.order
    index = problem.index
    lanes = problem.lanes
    lines = order.lines
    remaining = [line.quantity for line in lines]
    lines_of_sku: list[list[int]] = [[] for _ in range(len(problem.demand))]
    for i, k in enumerate(problem.line_sku):
        lines_of_sku[k].append(i)
    shipments = []
    distances = {}
    for allocation in allocations:
        lane = allocation.lane
        candidate = int(lanes.node[lane])
        node_id = index.node_ids[problem.nodes[candidate]]
        service_index = int(lanes.service[lane])
        service_id = "" if service_index == HAND_OVER else index.services[service_index].id
        units: dict[str, int] = {}
        for k, quantity in enumerate(allocation.units.tolist()):
            for i in lines_of_sku[k]:
                take = min(quantity, remaining[i])
                if take > 0:
                    line_id = lines[i].id
                    units[line_id] = units.get(line_id, 0) + take
                    remaining[i] -= take
                    quantity -= take
        shipments.append((node_id, service_id, units))
        distances[node_id] = float(problem.distance[candidate])
    line_reasons = None
    if any(remaining):  # reasons only for lines left unfilled
        by_sku = reasons if reasons is not None else sku_reasons(problem)
        line_reasons = {line.id: by_sku[problem.line_sku[i]] for i, line in enumerate(lines)}
    opportunity = 0.0
    if problem.price is not None:
        opportunity = sum(problem.priced(int(lanes.node[a.lane]), a.units) for a in allocations)
    return plan_from_shipments(
        order, index, shipments, line_reasons, distances, problem.dating, opportunity
    )


def plan_from_shipments(
    order: Order,
    index: NetworkIndex,
    shipments: Sequence[tuple[str, str, Mapping[str, int]]],
    reasons: Mapping[str, UnfilledReason] | None = None,
    distances: Mapping[str, float] | None = None,
    dating: Dating | None = None,
    opportunity_cost: float = 0.0,
    backorders: Collection[str] = (),
) -> Plan:
    """Report a plan given as ``(node id, service id, {line id: units})`` shipments, listed
    by node id and costed by the cost model; units not shipped are unfilled with
    ``reasons[line_id]`` (default ``OUT_OF_STOCK``). Service "" is the pick-up store handing
    over its own stock. ``distances`` (km by node) and the order's ``dating`` may be passed
    when already known; ``opportunity_cost`` is the look-ahead's priced part (reported
    apart from the cost). The shipments from ``backorders`` (node ids) are a backorder's
    (:mod:`omniroute.backorders`); those carrying a SKU not yet released are pre-orders,
    dated from the release."""
    if dating is None and order.create_time:
        dating = Dating.of(order, index.dates)
    releases = unreleased(order, index) if index.releases else {}
    marked = bool(releases) or bool(backorders)
    lines = {line.id: line for line in order.lines}
    destination = destination_of(order, index.nodes_by_id)
    shipped = dict.fromkeys(lines, 0)
    profile = index.sourcing.of(order) if index.sourcing.profiles else None
    reported = []
    for node_id, service_id, units in sorted(shipments, key=itemgetter(0)):
        node = index.nodes_by_id[node_id]
        service = index.services[index.service_pos[service_id]] if service_id else None
        shipment_lines = tuple(
            ShipmentLine(line_id, lines[line_id].sku_id, quantity)
            for line_id, quantity in units.items()
            if quantity > 0
        )
        load = load_of(index, ((line.sku_id, line.quantity) for line in shipment_lines))
        for shipment_line in shipment_lines:
            shipped[shipment_line.line_id] += shipment_line.quantity
        distance = distances.get(node_id) if distances else None
        adjustment = profile.cost_at(index.node_pos[node_id]) if profile is not None else 0.0
        release = (
            max((releases[x.sku_id] for x in shipment_lines if x.sku_id in releases), default=None)
            if releases
            else None
        )
        shipment_dating, late_days = dating, 0
        if release is not None and dating is not None:
            shipment_dating = Dating.of(
                release_order(order, release, index.dates), index.dates, dating.full
            )
            assert shipment_dating is not None
            late_days = (shipment_dating.clock.order_date - dating.clock.order_date).days
        quote = quote_shipment(
            node,
            service,
            load.weight_kg,
            load.units,
            destination,
            distance,
            shipment_dating,
            adjustment,
            load.alone_units,
            load.rest_weight_kg,
        )
        if quote is None:
            raise ValueError(f"service {service_id!r} of {node_id} does not reach the destination")
        shipment = Shipment(
            node_id,
            service_id,
            shipment_lines,
            load.weight_kg,
            quote.parcels,
            quote.distance_km,
            quote.cost,
            quote.delivery_days + late_days,  # counted from the order's own date
            quote.breakdown,
            quote.ship_date,
            quote.delivery_date,
        )
        reported.append(flags(shipment, releases, node_id in backorders) if marked else shipment)
    reasons = reasons or {}
    unfilled = tuple(
        UnfilledLine(
            line_id,
            line.quantity - shipped[line_id],
            reasons.get(line_id, UnfilledReason.OUT_OF_STOCK),
        )
        for line_id, line in lines.items()
        if shipped[line_id] < line.quantity
    )
    status = (
        PlanStatus.UNFULFILLABLE
        if not reported
        else PlanStatus.PARTIAL
        if unfilled
        else PlanStatus.COMPLETE
    )
    return Plan(
        status=status,
        shipments=tuple(reported),
        total_cost=plan_total([s.cost for s in reported], index.split_penalty),
        delivery_days=max((s.delivery_days for s in reported), default=0),
        unfilled_lines=unfilled,
        split_penalty_cost=index.split_penalty * max(0, len(reported) - 1),
        delivery_date=max((s.delivery_date for s in reported if s.delivery_date), default=None),
        opportunity_cost=opportunity_cost,
    )


def best_service(
    order: Order, index: NetworkIndex, node_id: str, units: Mapping[str, int]
) -> str | None:
    """The node's cheapest service (ties: fewer days) for these units within the order's
    promise; "" for the pick-up store's hand-over; None when nothing reaches."""
    if order.pickup_store_id == node_id:
        return ""
    node = index.nodes_by_id[node_id]
    destination = destination_of(order, index.nodes_by_id)
    skus = {line.id: line.sku_id for line in order.lines}
    load = load_of(index, ((skus[line_id], q) for line_id, q in units.items()))
    dating = Dating.of(order, index.dates)
    limit = dating.limit(order) if dating is not None else (order.promise_days or None)
    profile = index.sourcing.of(order)
    adjustment = profile.cost_at(index.node_pos[node_id]) if profile is not None else 0.0
    best: tuple[float, int, str] | None = None
    for service_id in node.service_ids:
        service = index.services[index.service_pos[service_id]]
        quote = quote_shipment(
            node,
            service,
            load.weight_kg,
            load.units,
            destination,
            dating=dating,
            adjustment=adjustment,
            alone_units=load.alone_units,
            rest_weight_kg=load.rest_weight_kg,
        )
        if quote is None or (limit is not None and quote.delivery_days > limit):
            continue
        key = (quote.cost, quote.delivery_days, service_id)
        if best is None or key < best:
            best = key
    return None if best is None else best[2]
