"""The one place that knows both protobuf and the model: API messages to the engine's and
the ledger's dataclasses and back.

(Files on disk are read and written without protobuf by :mod:`omniroute.files`; this module
only prints API messages as JSON, e.g. ``omniroute plan``'s ``PlanOrderResponse`` lines.)

Outputs are rounded here, and only here (docs/cost-model.md, "Money and rounding"): money
to cents, weights to grams (3 decimals of kg), distances to 0.1 km, fractions (gaps) to 6
decimals. A shipment's cost breakdown is rounded so that its terms still add up to the
shipment's rounded cost, and a plan's ``totalCost`` is the sum of its rounded shipment
costs and its rounded split penalty. The engine, the ledger and scenario computations keep
full precision; messages converted *to* the model are read as given.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from google.longrunning import operations_pb2
from google.protobuf import json_format
from google.protobuf.message import Message
from google.type import date_pb2, timeofday_pb2

from omniroute.availability import Availability
from omniroute.calendars import Calendar, date_of, time_of_day
from omniroute.joint import JointResult
from omniroute.ledger import OperationRecord, OrderView, Reservation, ReturnRecord
from omniroute.ledger.events import Event
from omniroute.model import (
    Alternative,
    CarrierService,
    Channel,
    ChannelFence,
    CostBreakdown,
    Explanation,
    FieldViolation,
    InboundSupply,
    Location,
    Network,
    Node,
    NodeAdjustment,
    NodeKind,
    Order,
    OrderLine,
    Plan,
    PlanResult,
    PlanStats,
    PlanStatus,
    Policy,
    Proof,
    SearchLimit,
    Shipment,
    ShipmentLine,
    Sku,
    SourcingProfile,
    StockChange,
    StockPosition,
    UnfilledLine,
    UnfilledReason,
    ValidationError,
    Zone,
)
from omniroute.planner import Quote
from omniroute.returns import Condition, ReturnItem
from omniroute.scenario import ScenarioKpis
from omniroute.server.application import OrderStatus, PlannedOrder, kpis_of, progress_of
from omniroute.server.errors import operation_status
from omniroute.stock_table import StockTableBuilder
from omniroute.v1 import (
    inventory_service_pb2,
    network_pb2,
    order_pb2,
    order_service_pb2,
    plan_pb2,
    routing_service_pb2,
    scenario_service_pb2,
)

# ----------------------------------------------------------------------------- rounding

MONEY_DECIMALS = 2  # cents
WEIGHT_DECIMALS = 3  # grams, in kg
DISTANCE_DECIMALS = 1  # 0.1 km
FRACTION_DECIMALS = 6  # gaps (0..1)
CENT = Decimal("0.01")


def cents(amount: float) -> int:
    """``amount`` in whole cents, half a cent rounded away from zero (7.125 -> 7.13, as a
    reader rounds), taken from the shortest decimal that reads back as ``amount``."""
    scaled = float(amount) * 100
    if -1e12 < scaled < 1e12:  # (not NaN or infinite: those fail below, as before)
        nearest = round(scaled)
        if abs(abs(scaled - nearest) - 0.5) > 1e-6:
            return nearest  # clearly not half a cent: the float's nearest cent is the decimal's
    return int(Decimal(repr(float(amount))).quantize(CENT, rounding=ROUND_HALF_UP) * 100)


def money(amount: float) -> float:
    """``amount`` rounded to cents (the nearest double to the decimal: no float noise)."""
    return cents(amount) / 100


def bound_beside(bound: float, exact_total: float, shown_total_cents: int) -> float:
    """A lower bound as printed beside a rounded total: that total less the exact distance
    from the bound, in cents, so that a plan proven optimal shows its total as its bound and
    a bound never shows above its total."""
    if not math.isfinite(bound):
        return bound
    return (shown_total_cents - cents(max(0.0, exact_total - bound))) / 100


def plan_total_cents(plan: Plan) -> int:
    """A plan's ``totalCost`` as printed: its rounded shipment costs and split penalty."""
    if not plan.shipments:
        return cents(plan.total_cost)
    return sum(cents(s.cost) for s in plan.shipments) + cents(plan.split_penalty_cost)


def kilograms(weight_kg: float) -> float:
    """A weight rounded to grams."""
    return round(weight_kg, WEIGHT_DECIMALS) + 0.0


def kilometres(distance_km: float) -> float:
    """A distance rounded to 0.1 km."""
    return round(distance_km, DISTANCE_DECIMALS) + 0.0


def fraction(value: float) -> float:
    """A fraction (a gap) rounded to 6 decimals."""
    return round(value, FRACTION_DECIMALS) + 0.0


def apportion_cents(parts: Sequence[float], total_cents: int) -> list[int]:
    """``parts`` in whole cents that sum exactly to ``total_cents`` (largest remainder).

    Each part gets its cents rounded down; the cents still missing go one each to the parts
    that lost the most (ties: the earlier part). Should ``parts`` not add up to the total
    (float noise), the difference is spread the same way (or taken from the parts that lost
    the least)."""
    exact = [part * 100 for part in parts]
    shares = [math.floor(x + 1e-6) for x in exact]  # 1e-6: 28.999999999999996 is 29 cents
    if not shares:
        return shares
    lost = sorted(range(len(shares)), key=lambda i: (shares[i] - exact[i], i))
    missing = total_cents - sum(shares)
    if missing < 0:
        lost.reverse()
    each, rest = divmod(abs(missing), len(shares))
    sign = 1 if missing >= 0 else -1
    for rank, i in enumerate(lost):
        shares[i] += sign * (each + (rank < rest))
    return shares


# ----------------------------------------------------------------------------- to the model


def date_from_proto(
    message: date_pb2.Date, where: str, violations: list[FieldViolation]
) -> datetime.date | None:
    """A full ``google.type.Date``; a violation (and None) for anything else."""
    try:
        return date_of(message.year, message.month, message.day)
    except ValueError as error:
        violations.append(FieldViolation(where, str(error)))
        return None


def date_to_proto(day: datetime.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _time_of_day(
    message: timeofday_pb2.TimeOfDay, where: str, violations: list[FieldViolation]
) -> datetime.time | None:
    """A ``google.type.TimeOfDay`` of whole seconds; a violation (and None) otherwise."""
    try:
        return time_of_day(message.hours, message.minutes, message.seconds, message.nanos)
    except ValueError as error:
        violations.append(FieldViolation(where, str(error)))
        return None


def _calendar_from_proto(
    message: network_pb2.Calendar, where: str, violations: list[FieldViolation]
) -> Calendar:
    holidays = (
        date_from_proto(day, f"{where}.holidays[{j}]", violations)
        for j, day in enumerate(message.holidays)
    )
    return Calendar(
        message.id, frozenset(message.working_days), frozenset(d for d in holidays if d)
    )


def _location(message: network_pb2.Location, present: bool) -> Location | None:
    return Location(message.latitude, message.longitude) if present else None


def location_from_proto(message: network_pb2.Location) -> Location:
    return Location(message.latitude, message.longitude)


def position_to_proto(position: StockPosition) -> network_pb2.StockPosition:
    """A stock position with its reserved units and ATP (as the server reports them)."""
    return network_pb2.StockPosition(
        node_id=position.node_id,
        sku_id=position.sku_id,
        on_hand=position.on_hand,
        safety_stock=position.safety_stock,
        reserved=position.reserved,
        atp=position.atp,
    )


def stock_change_from_proto(update: inventory_service_pb2.StockUpdate) -> StockChange:
    change = update.WhichOneof("on_hand_change")
    return StockChange(
        node_id=update.node_id,
        sku_id=update.sku_id,
        set_on_hand=update.set_on_hand if change == "set_on_hand" else None,
        delta_on_hand=update.delta_on_hand if change == "delta_on_hand" else None,
        safety_stock=update.safety_stock if update.HasField("safety_stock") else None,
    )


def reservation_to_proto(reservation: Reservation) -> inventory_service_pb2.Reservation:
    message = inventory_service_pb2.Reservation(
        id=reservation.id,
        request_id=reservation.request_id,
        order_id=reservation.order_id,
        state=inventory_service_pb2.Reservation.State.Value(reservation.state.value),
        lines=[
            inventory_service_pb2.ReservationLine(
                node_id=line.node_id, sku_id=line.sku_id, quantity=line.quantity
            )
            for line in reservation.lines
        ],
    )
    message.create_time.FromNanoseconds(int(reservation.created * 1e9))
    message.expire_time.FromNanoseconds(int(reservation.expires * 1e9))
    message.update_time.FromNanoseconds(int(reservation.updated * 1e9))
    return message


def availability_to_proto(found: Availability) -> routing_service_pb2.CheckAvailabilityResponse:
    response = routing_service_pb2.CheckAvailabilityResponse()
    for offer in found.nodes:
        entry = response.nodes.add(
            node_id=offer.node_id,
            kind=network_pb2.Node.Kind.Value(offer.kind.value),
            distance_km=kilometres(offer.distance_km),
            pickup=offer.pickup,
            fulfilment=routing_service_pb2.Fulfilment.Value(offer.fulfilment.value),
            ready_days=offer.ready_days,
            service_id=offer.service_id,
            delivery_days=offer.delivery_days,
            cost=money(offer.cost),
        )
        if offer.delivery_date is not None:
            entry.delivery_date.CopyFrom(date_to_proto(offer.delivery_date))
        if offer.ready_date is not None:
            entry.ready_date.CopyFrom(date_to_proto(offer.ready_date))
        for sku_id, units in offer.atp:
            entry.skus.add(sku_id=sku_id, atp=units)
    response.delivery_options.extend(_delivery_option(plan) for plan in found.delivery_options)
    return response


def _delivery_option(plan: Plan) -> routing_service_pb2.DeliveryOption:
    """A plan as a delivery option: its (rounded) total cost, arrival and shipments."""
    message = plan_to_proto(plan)
    return routing_service_pb2.DeliveryOption(
        delivery_days=plan.delivery_days,
        cost=message.total_cost,
        shipments=len(plan.shipments),
        plan=message,
        delivery_date=None if plan.delivery_date is None else date_to_proto(plan.delivery_date),
    )


def return_item_from_proto(line: routing_service_pb2.ReturnLine, where: str) -> ReturnItem:
    """A returned line; an unspecified condition is read as resaleable."""
    conditions = routing_service_pb2.ReturnLine.Condition
    if line.condition and line.condition not in conditions.values():
        names = " or ".join(c.name for c in Condition)
        raise ValidationError(
            [
                FieldViolation(
                    f"{where}.condition", f"unknown condition {line.condition}: must be {names}"
                )
            ],
            where,
        )
    condition = (
        Condition[conditions.Name(line.condition)] if line.condition else Condition.RESALEABLE
    )
    return ReturnItem(line.sku_id, line.quantity, condition)


def joint_to_proto(result: JointResult) -> routing_service_pb2.PlanOrdersResponse:
    """A joint allocation: one response per order and the batch's totals and proof."""
    proof = plan_pb2.PlanStats.OPTIMAL if result.proven else plan_pb2.PlanStats.FEASIBLE
    plans = [plan_to_proto(plan) for plan in result.plans]
    # totals add up what the reader sees: the rounded plan totals, then the penalty
    total = sum(cents(plan.total_cost) for plan in plans)
    penalty = cents(result.objective - result.total_cost)
    objective = total + penalty
    response = routing_service_pb2.PlanOrdersResponse(
        total_cost=total / 100,
        units_unfilled=result.units_unfilled,
        objective=objective / 100,
        lower_bound=bound_beside(result.lower_bound, result.objective, objective),
        proof=proof,
        gap=fraction(result.gap),
        # the sequential plans' objective as far from the printed one as it truly is
        sequential_objective=(objective + cents(result.sequential_objective - result.objective))
        / 100,
    )
    micros = int(result.solve_seconds * 1e6)
    for order_id, plan in zip(result.order_ids, plans, strict=True):
        item = response.responses.add(order_id=order_id, plan=plan)
        item.stats.proof = proof
        item.stats.method = f"joint/{result.method}"
        item.stats.gap = fraction(result.gap)
        item.stats.solve_micros = min(micros, 2**31 - 1)
    return response


def allocation_summary(
    summary: Mapping[str, Any], responses: Sequence[plan_pb2.PlanOrderResponse]
) -> dict[str, Any]:
    """``allocate``'s summary (:func:`omniroute.joint.allocate_in_windows`) with its money
    as the written plans add up: ``totalCost`` is the sum of the responses' rounded
    ``totalCost``, ``objective`` adds the unfilled-unit penalty (and ``opportunityCost`` when
    the allocation priced stock), and the saving is taken from the rounded figures (as :func:`joint_to_proto` does for ``PlanOrders``)."""
    total = sum(cents(r.plan.total_cost) for r in responses)
    penalty = cents(float(summary["unfilledPenalty"]) * int(summary["unitsUnfilled"]))
    penalty += cents(float(summary.get("opportunityCost", 0.0)))  # when stock was priced
    objective, exact = total + penalty, float(summary["objective"])
    saving = cents(float(summary["sequentialObjective"]) - exact)
    return {
        **summary,
        "totalCost": total / 100,
        "objective": objective / 100,
        "lowerBound": bound_beside(float(summary["lowerBound"]), exact, objective),
        "sequentialObjective": (objective + saving) / 100,
        "savingVsSequential": saving / 100,
    }


def quote_to_proto(quote: Quote) -> routing_service_pb2.QuoteDeliveryResponse:
    """The options front as delivery options a checkout can show."""
    return routing_service_pb2.QuoteDeliveryResponse(
        options=[_delivery_option(plan) for plan in quote.options]
    )


KNOWN_KINDS = frozenset(network_pb2.Node.Kind.values()) - {network_pb2.Node.KIND_UNSPECIFIED}


def network_from_proto(message: network_pb2.Network) -> tuple[Network, list[FieldViolation]]:
    """Convert a ``Network`` message; also return what the model cannot represent."""
    violations: list[FieldViolation] = []
    nodes = []
    for i, node in enumerate(message.nodes):
        # its fields' problems before the node's own, as the file reader reports them
        cutoff = (
            _time_of_day(node.cutoff_time, f"nodes[{i}].cutoffTime", violations)
            if node.HasField("cutoff_time")
            else None
        )
        if node.kind == network_pb2.Node.KIND_UNSPECIFIED:
            violations.append(
                FieldViolation(
                    f"nodes[{i}].kind", "is required: DC, STORE, THIRD_PARTY or DROP_SHIP"
                )
            )
        elif node.kind not in KNOWN_KINDS:
            violations.append(
                FieldViolation(
                    f"nodes[{i}].kind",
                    f"unknown kind {node.kind}: must be DC, STORE, THIRD_PARTY or DROP_SHIP",
                )
            )
        nodes.append(
            Node(
                id=node.id,
                kind=NodeKind[network_pb2.Node.Kind.Name(node.kind)]
                if node.kind in KNOWN_KINDS
                else NodeKind.STORE,
                location=_location(node.location, node.HasField("location")),  # type: ignore[arg-type]
                handling_cost_per_shipment=node.handling_cost_per_shipment,
                handling_cost_per_unit=node.handling_cost_per_unit,
                processing_days=node.processing_days,
                service_ids=tuple(node.service_ids),
                pickup=node.pickup,
                daily_shipment_capacity=node.daily_shipment_capacity,
                disabled=node.disabled,
                name=node.name,
                time_zone=node.time_zone,
                calendar_id=node.calendar_id,
                cutoff_time=cutoff,
            )
        )
    services = tuple(
        CarrierService(
            id=s.id,
            carrier=s.carrier,
            name=s.name,
            max_parcel_weight_kg=s.max_parcel_weight_kg,
            zones=tuple(
                Zone(z.max_distance_km, z.base_cost, z.cost_per_kg, z.transit_days) for z in s.zones
            ),
            calendar_id=s.calendar_id,
        )
        for s in message.carrier_services
    )
    skus = tuple(
        Sku(
            s.id,
            s.weight_kg,
            s.name,
            s.ship_alone,
            date_from_proto(s.release_date, f"skus[{k}].releaseDate", violations)
            if s.HasField("release_date")
            else None,
        )
        for k, s in enumerate(message.skus)
    )
    stock = StockTableBuilder()
    items = message.stock
    stock.add(
        [p.node_id for p in items],
        [p.sku_id for p in items],
        [p.on_hand for p in items],
        [p.safety_stock for p in items],
    )
    network = Network(
        nodes=tuple(nodes),
        carrier_services=services,
        skus=skus,
        stock=stock.build(),
        split_penalty=message.split_penalty,
        currency=message.currency,
        time_zone=message.time_zone,
        calendars=tuple(
            _calendar_from_proto(c, f"calendars[{i}]", violations)
            for i, c in enumerate(message.calendars)
        ),
        sourcing_profiles=tuple(
            _profile_from_proto(p, f"sourcingProfiles[{i}]", violations)
            for i, p in enumerate(message.sourcing_profiles)
        ),
        channel_fences=tuple(
            _fence_from_proto(f, f"channelFences[{i}]", violations)
            for i, f in enumerate(message.channel_fences)
        ),
        inbound_supply=tuple(
            inbound_from_proto(x, f"inboundSupply[{i}]", violations)
            for i, x in enumerate(message.inbound_supply)
        ),
    )
    return network, violations


def inbound_from_proto(
    message: network_pb2.InboundSupply, where: str, violations: list[FieldViolation]
) -> InboundSupply:
    """An inbound supply (an unset arrival date is left to validation, which names it)."""
    arrival = (
        date_from_proto(message.arrival_date, f"{where}.arrivalDate", violations)
        if message.HasField("arrival_date")
        else None
    )
    return InboundSupply(
        message.id, message.node_id, message.sku_id, message.quantity, arrival or None
    )


def inbound_to_proto(supply: InboundSupply) -> network_pb2.InboundSupply:
    message = network_pb2.InboundSupply(
        id=supply.id, node_id=supply.node_id, sku_id=supply.sku_id, quantity=supply.quantity
    )
    if supply.arrival_date is not None:
        message.arrival_date.CopyFrom(date_to_proto(supply.arrival_date))
    return message


def _fence_from_proto(
    message: network_pb2.ChannelFence, where: str, violations: list[FieldViolation]
) -> ChannelFence:
    """A channel fence; an unknown channel or kind is a violation (an unspecified channel
    is left to validation, which names it)."""
    channel = _CHANNELS.get(message.channel)
    if channel is None and message.channel != 0:
        violations.append(
            FieldViolation(f"{where}.channel", f"must be {_CHANNEL_NAMES}, not {message.channel}")
        )
    kind = None
    if message.node_kind in KNOWN_KINDS:
        kind = NodeKind[network_pb2.Node.Kind.Name(message.node_kind)]
    elif message.node_kind != network_pb2.Node.KIND_UNSPECIFIED:
        violations.append(
            FieldViolation(f"{where}.nodeKind", f"must be {_KIND_NAMES}, not {message.node_kind}")
        )
    return ChannelFence(
        channel=channel,
        node_id=message.node_id,
        node_kind=kind,
        sku_id=message.sku_id,
        units=message.units,
        share=message.share,
        max_share=message.max_share,
    )


_CHANNELS = {
    number: Channel[name]
    for name, number in network_pb2.Channel.items()
    if name in Channel.__members__
}  # the API's channel numbers (UNSPECIFIED aside) and the model's channels
_CHANNEL_NAMES = "WEB, STORE, CALL_CENTER, MARKETPLACE or WHOLESALE"


def channel_from_proto(number: int) -> Channel | None:
    """The model's channel of an API channel number (None: unspecified or unknown)."""
    return _CHANNELS.get(number)


_KIND_NAMES = "DC, STORE, THIRD_PARTY or DROP_SHIP"


def _profile_from_proto(
    message: network_pb2.SourcingProfile, where: str, violations: list[FieldViolation]
) -> SourcingProfile:
    """A sourcing profile; unspecified or unknown channels and kinds are violations."""
    channels = []
    for i, number in enumerate(message.channels):
        channel = _CHANNELS.get(number)
        if channel is None:
            violations.append(
                FieldViolation(f"{where}.channels[{i}]", f"must be {_CHANNEL_NAMES}, not {number}")
            )
        else:
            channels.append(channel)
    kinds = []
    for i, number in enumerate(message.allowed_node_kinds):
        if number in KNOWN_KINDS:
            kinds.append(NodeKind[network_pb2.Node.Kind.Name(number)])
        else:
            violations.append(
                FieldViolation(
                    f"{where}.allowedNodeKinds[{i}]", f"must be {_KIND_NAMES}, not {number}"
                )
            )
    adjustments = []
    for i, item in enumerate(message.node_adjustments):
        kind = None
        if item.kind in KNOWN_KINDS:
            kind = NodeKind[network_pb2.Node.Kind.Name(item.kind)]
        elif item.kind != network_pb2.Node.KIND_UNSPECIFIED:
            violations.append(
                FieldViolation(
                    f"{where}.nodeAdjustments[{i}].kind", f"must be {_KIND_NAMES}, not {item.kind}"
                )
            )
        adjustments.append(NodeAdjustment(item.cost_per_shipment, item.node_id, kind))
    return SourcingProfile(
        id=message.id,
        channels=tuple(channels),
        allowed_node_kinds=tuple(kinds),
        excluded_node_ids=tuple(message.excluded_node_ids),
        max_distance_km=message.max_distance_km,
        max_shipments=message.max_shipments,
        node_adjustments=tuple(adjustments),
    )


def order_from_proto(message: order_pb2.Order, where: str = "order") -> Order:
    """Convert an ``Order`` message (an unspecified channel is read as WEB); ValidationError,
    located under ``where``, for what no Order can hold (an unknown channel number, a
    createTime outside the Timestamp range)."""
    channel = _CHANNELS.get(message.channel) if message.channel else Channel.WEB
    if channel is None:
        raise ValidationError(
            [
                FieldViolation(
                    f"{where}.channel",
                    f"unknown channel {message.channel}: must be WEB, STORE, CALL_CENTER, "
                    "MARKETPLACE or WHOLESALE",
                )
            ],
            where,
        )
    create_time = ""
    if message.HasField("create_time"):
        try:
            create_time = message.create_time.ToJsonString()
        except (ValueError, OverflowError):
            raise ValidationError(
                [FieldViolation(f"{where}.createTime", "outside 0001-01-01 to 9999-12-31")],
                where,
            ) from None
    promise_date = None
    if message.HasField("promise_date"):
        problems: list[FieldViolation] = []
        promise_date = date_from_proto(message.promise_date, f"{where}.promiseDate", problems)
        if problems:
            raise ValidationError(problems, where)
    return Order(
        id=message.id,
        lines=tuple(
            OrderLine(
                line.id, line.sku_id, line.quantity, line.ship_together_group, line.allow_backorder
            )
            for line in message.lines
        ),
        destination=_location(message.destination, message.HasField("destination")),
        channel=channel,
        promise_days=message.promise_days,
        max_shipments=message.max_shipments,
        excluded_node_ids=tuple(message.excluded_node_ids),
        allow_partial=message.allow_partial,
        pickup_store_id=message.pickup_store_id,
        create_time=create_time,
        customer_id=message.customer_id,
        promise_date=promise_date,
        sourcing_profile_id=message.sourcing_profile_id,
    )


def plan_from_proto(message: plan_pb2.Plan) -> Plan:
    """Convert a ``Plan`` message (as printed by ``omniroute plan``) back to the model."""
    return Plan(
        status=PlanStatus[plan_pb2.Plan.Status.Name(message.status)],
        shipments=tuple(
            Shipment(
                node_id=s.node_id,
                service_id=s.service_id,
                lines=tuple(ShipmentLine(x.line_id, x.sku_id, x.quantity) for x in s.lines),
                weight_kg=s.weight_kg,
                parcels=s.parcels,
                distance_km=s.distance_km,
                cost=s.cost,
                delivery_days=s.delivery_days,
                breakdown=CostBreakdown(
                    s.cost_breakdown.carrier_parcels,
                    s.cost_breakdown.carrier_weight,
                    s.cost_breakdown.handling_shipment,
                    s.cost_breakdown.handling_units,
                    s.cost_breakdown.profile_adjustment,
                ),
                ship_date=_output_date(s, "ship_date"),
                delivery_date=_output_date(s, "delivery_date"),
                backorder=s.backorder,
                preorder=s.preorder,
            )
            for s in message.shipments
        ),
        total_cost=message.total_cost,
        delivery_days=message.delivery_days,
        unfilled_lines=tuple(
            UnfilledLine(
                u.line_id, u.quantity, UnfilledReason[plan_pb2.UnfilledLine.Reason.Name(u.reason)]
            )
            for u in message.unfilled_lines
        ),
        split_penalty_cost=message.split_penalty_cost,
        delivery_date=_output_date(message, "delivery_date"),
        opportunity_cost=message.opportunity_cost,
    )


def _output_date(message: Message, field: str) -> datetime.date | None:
    """A date the service reported (always a full date), or None when absent."""
    if not message.HasField(field):
        return None
    day = getattr(message, field)
    return datetime.date(day.year, day.month, day.day)


def result_from_proto(message: plan_pb2.PlanOrderResponse) -> PlanResult:
    """A ``PlanOrderResponse`` back as a :class:`PlanResult` (explanation not included)."""
    stats = message.stats
    return PlanResult(
        order_id=message.order_id,
        plan=plan_from_proto(message.plan),
        stats=PlanStats(
            proof=Proof[plan_pb2.PlanStats.Proof.Name(stats.proof)],
            method=stats.method,
            solve_micros=stats.solve_micros,
            gap=stats.gap if stats.HasField("gap") else None,
            lower_bound=stats.lower_bound if stats.HasField("lower_bound") else None,
            candidate_nodes=stats.candidate_nodes,
            stopped_by=SearchLimit[plan_pb2.PlanStats.StopReason.Name(stats.stopped_by)]
            if stats.stopped_by
            else None,
            opportunity_costs_version=stats.opportunity_costs_version,
        ),
        options=tuple(plan_from_proto(p) for p in message.options),
    )


POLICIES = {
    number: Policy[name] for name, number in plan_pb2.Policy.items() if name in Policy.__members__
}  # the API's policy numbers (UNSPECIFIED aside) and the model's policies


def policy_from_proto(value: int) -> Policy:
    """``Policy`` enum value to the model; unspecified means CHEAPEST."""
    return POLICIES[value] if value else Policy.CHEAPEST


# ----------------------------------------------------------------------------- to protobuf


def network_to_proto(network: Network) -> network_pb2.Network:
    message = network_pb2.Network(
        split_penalty=network.split_penalty, currency=network.currency, time_zone=network.time_zone
    )
    for profile in network.sourcing_profiles:
        message.sourcing_profiles.add(
            id=profile.id,
            channels=[network_pb2.Channel.Value(c.value) for c in profile.channels],
            allowed_node_kinds=[
                network_pb2.Node.Kind.Value(k.value) for k in profile.allowed_node_kinds
            ],
            excluded_node_ids=profile.excluded_node_ids,
            max_distance_km=profile.max_distance_km,
            max_shipments=profile.max_shipments,
            node_adjustments=[
                network_pb2.NodeAdjustment(
                    node_id=a.node_id,
                    kind=network_pb2.Node.Kind.Value(
                        a.kind.value if a.kind else "KIND_UNSPECIFIED"
                    ),
                    cost_per_shipment=a.cost_per_shipment,
                )
                for a in profile.node_adjustments
            ],
        )
    message.inbound_supply.extend(inbound_to_proto(x) for x in network.inbound_supply)
    for fence in network.channel_fences:
        message.channel_fences.add(
            channel=network_pb2.Channel.Value(
                fence.channel.value if fence.channel else "CHANNEL_UNSPECIFIED"
            ),
            node_id=fence.node_id,
            node_kind=network_pb2.Node.Kind.Value(
                fence.node_kind.value if fence.node_kind else "KIND_UNSPECIFIED"
            ),
            sku_id=fence.sku_id,
            units=fence.units,
            share=fence.share,
            max_share=fence.max_share,
        )
    for calendar in network.calendars:
        message.calendars.add(
            id=calendar.id,
            working_days=sorted(calendar.working_days),
            holidays=[date_to_proto(day) for day in sorted(calendar.holidays)],
        )
    for node in network.nodes:
        message.nodes.add(
            id=node.id,
            kind=network_pb2.Node.Kind.Value(node.kind.value),
            location=network_pb2.Location(
                latitude=node.location.latitude, longitude=node.location.longitude
            ),
            handling_cost_per_shipment=node.handling_cost_per_shipment,
            handling_cost_per_unit=node.handling_cost_per_unit,
            processing_days=node.processing_days,
            service_ids=node.service_ids,
            pickup=node.pickup,
            daily_shipment_capacity=node.daily_shipment_capacity,
            disabled=node.disabled,
            name=node.name,
            time_zone=node.time_zone,
            calendar_id=node.calendar_id,
        )
        if node.cutoff_time is not None:
            cutoff = node.cutoff_time
            message.nodes[-1].cutoff_time.CopyFrom(
                timeofday_pb2.TimeOfDay(
                    hours=cutoff.hour, minutes=cutoff.minute, seconds=cutoff.second
                )
            )
    for service in network.carrier_services:
        message.carrier_services.add(
            id=service.id,
            carrier=service.carrier,
            name=service.name,
            max_parcel_weight_kg=service.max_parcel_weight_kg,
            zones=[
                network_pb2.Zone(
                    max_distance_km=z.max_distance_km,
                    base_cost=z.base_cost,
                    cost_per_kg=z.cost_per_kg,
                    transit_days=z.transit_days,
                )
                for z in service.zones
            ],
            calendar_id=service.calendar_id,
        )
    for sku in network.skus:
        added = message.skus.add(
            id=sku.id, weight_kg=sku.weight_kg, name=sku.name, ship_alone=sku.ship_alone
        )
        if sku.release_date is not None:
            added.release_date.CopyFrom(date_to_proto(sku.release_date))
    for position in network.stock:
        message.stock.add(
            node_id=position.node_id,
            sku_id=position.sku_id,
            on_hand=position.on_hand,
            safety_stock=position.safety_stock,
        )
    return message


def order_to_proto(order: Order) -> order_pb2.Order:
    message = order_pb2.Order(
        id=order.id,
        channel=network_pb2.Channel.Value(order.channel.value),
        lines=[
            order_pb2.OrderLine(
                id=x.id,
                sku_id=x.sku_id,
                quantity=x.quantity,
                ship_together_group=x.ship_together_group,
                allow_backorder=x.allow_backorder,
            )
            for x in order.lines
        ],
        promise_days=order.promise_days,
        max_shipments=order.max_shipments,
        excluded_node_ids=order.excluded_node_ids,
        allow_partial=order.allow_partial,
        pickup_store_id=order.pickup_store_id,
        customer_id=order.customer_id,
        sourcing_profile_id=order.sourcing_profile_id,
    )
    if order.destination is not None:
        message.destination.latitude = order.destination.latitude
        message.destination.longitude = order.destination.longitude
    if order.create_time:
        message.create_time.FromJsonString(order.create_time)
    if order.promise_date is not None:
        message.promise_date.CopyFrom(date_to_proto(order.promise_date))
    return message


def _shipment_to_proto(shipment: Shipment) -> plan_pb2.Shipment:
    """A shipment, rounded: its breakdown's cents add up to its cost's cents."""
    b: CostBreakdown = shipment.breakdown
    cost = cents(shipment.cost)
    terms = [b.carrier_parcels, b.carrier_weight, b.handling_shipment, b.handling_units]
    if b.profile_adjustment:  # only then a part: no stray cent on a profile-less shipment
        terms.append(b.profile_adjustment)
    parts = apportion_cents(terms, cost) + [0]
    return plan_pb2.Shipment(
        node_id=shipment.node_id,
        service_id=shipment.service_id,
        lines=[
            plan_pb2.ShipmentLine(line_id=x.line_id, quantity=x.quantity, sku_id=x.sku_id)
            for x in shipment.lines
        ],
        weight_kg=kilograms(shipment.weight_kg),
        parcels=shipment.parcels,
        distance_km=kilometres(shipment.distance_km),
        cost=cost / 100,
        delivery_days=shipment.delivery_days,
        cost_breakdown=plan_pb2.CostBreakdown(
            carrier_parcels=parts[0] / 100,
            carrier_weight=parts[1] / 100,
            handling_shipment=parts[2] / 100,
            handling_units=parts[3] / 100,
            profile_adjustment=parts[4] / 100,
        ),
        units=shipment.units,
        ship_date=None if shipment.ship_date is None else date_to_proto(shipment.ship_date),
        delivery_date=(
            None if shipment.delivery_date is None else date_to_proto(shipment.delivery_date)
        ),
        backorder=shipment.backorder,
        preorder=shipment.preorder,
    )


def plan_to_proto(plan: Plan) -> plan_pb2.Plan:
    """A plan, rounded: ``totalCost`` is the sum of the rounded shipment costs and the
    rounded split penalty (what a reader adding up the numbers gets)."""
    penalty = cents(plan.split_penalty_cost)
    return plan_pb2.Plan(
        status=plan_pb2.Plan.Status.Value(plan.status.value),
        shipments=[_shipment_to_proto(s) for s in plan.shipments],
        total_cost=plan_total_cents(plan) / 100,
        delivery_days=plan.delivery_days,
        unfilled_lines=[
            plan_pb2.UnfilledLine(
                line_id=u.line_id,
                quantity=u.quantity,
                reason=plan_pb2.UnfilledLine.Reason.Value(u.reason.value),
            )
            for u in plan.unfilled_lines
        ],
        split_penalty_cost=penalty / 100,
        delivery_date=None if plan.delivery_date is None else date_to_proto(plan.delivery_date),
        opportunity_cost=cents(plan.opportunity_cost) / 100,
    )


def _stats_to_proto(stats: PlanStats, plan: Plan) -> plan_pb2.PlanStats:
    message = plan_pb2.PlanStats(
        proof=plan_pb2.PlanStats.Proof.Value(stats.proof.value),
        method=stats.method,
        solve_micros=stats.solve_micros,
        candidate_nodes=stats.candidate_nodes,
        opportunity_costs_version=stats.opportunity_costs_version,
    )
    if stats.stopped_by is not None:
        message.stopped_by = plan_pb2.PlanStats.StopReason.Value(stats.stopped_by.value)
    if stats.gap is not None:
        message.gap = fraction(stats.gap)
    if stats.lower_bound is not None:  # on the objective: total + opportunity cost
        shown = plan_total_cents(plan) + cents(plan.opportunity_cost)
        message.lower_bound = bound_beside(stats.lower_bound, plan.objective, shown)
    return message


def _explanation_to_proto(explanation: Explanation) -> plan_pb2.Explanation:
    def alternative(a: Alternative) -> plan_pb2.Alternative:
        message = plan_pb2.Alternative(name=a.name, verdict=a.verdict)
        if a.plan is not None:
            message.plan.CopyFrom(plan_to_proto(a.plan))
        return message

    return plan_pb2.Explanation(
        summary=explanation.summary,
        alternatives=[alternative(a) for a in explanation.alternatives],
    )


def result_to_proto(result: PlanResult) -> plan_pb2.PlanOrderResponse:
    """A :class:`PlanResult` as the API's ``PlanOrderResponse``."""
    message = plan_pb2.PlanOrderResponse(
        order_id=result.order_id,
        plan=plan_to_proto(result.plan),
        options=[plan_to_proto(p) for p in result.options],
        stats=_stats_to_proto(result.stats, result.plan),
    )
    if result.explanation is not None:
        message.explanation.CopyFrom(_explanation_to_proto(result.explanation))
    return message


# ----------------------------------------------------------------------------- results


def plan_order_response(planned: PlannedOrder) -> plan_pb2.PlanOrderResponse:
    """A planned (maybe reserved) order as the API's ``PlanOrderResponse``."""
    message = result_to_proto(planned.result)
    message.reservation_id = planned.reservation_id
    return message


def order_status_to_proto(status: OrderStatus) -> routing_service_pb2.OrderPlan:
    """A reserved order's plan with the state of each shipment, then its rejections."""
    record = status.record
    states = routing_service_pb2.OrderPlan.ShipmentState
    reasons = routing_service_pb2.RerouteOrderRequest.Reason
    message = routing_service_pb2.OrderPlan(
        order_id=record.order_id,
        reservation_id=record.reservation_id,
        plan=plan_to_proto(record.plan),
    )
    for shipment in record.plan.shipments:
        message.shipments.add(
            node_id=shipment.node_id,
            state=states.Value(status.state.value),
            rerouted=shipment.node_id in record.rerouted,
            lines=[
                plan_pb2.ShipmentLine(line_id=x.line_id, quantity=x.quantity, sku_id=x.sku_id)
                for x in shipment.lines
            ],
        )
    for rejection in record.rejections:
        message.shipments.add(
            node_id=rejection.node_id,
            state=states.REJECTED,
            reason=reasons.Value(rejection.reason.value),
            lines=[
                plan_pb2.ShipmentLine(line_id=line_id, quantity=quantity)
                for line_id, quantity in rejection.lines
            ],
        )
    return message


def order_view_to_proto(view: OrderView) -> order_service_pb2.OrderStatus:
    """An order as it stands: units per line by what happened to them, its confirmed
    shipments, its current plan and its timeline (its events, in commit order)."""
    record = view.record
    planned, shipped = _by_line(record.planned_units()), _by_line(record.shipped_units())
    open_units, cancelled = _by_line(record.open_units()), _by_line(record.cancelled_units())
    delivered: dict[str, int] = {}
    for shipment in record.shipments:
        if shipment.delivered_at > 0:
            for line_id, units in shipment.lines:
                delivered[line_id] = delivered.get(line_id, 0) + units
    message = order_service_pb2.OrderStatus(
        order_id=record.order_id,
        customer_id=record.order.customer_id,
        reservation_id=record.reservation_id,
        state=order_service_pb2.OrderState.Value(record.state().value),
        plan=plan_to_proto(record.plan),
        timeline=[event_to_proto(e) for e in view.timeline],
    )
    skus = {line.id: line.sku_id for line in record.order.lines}
    for line in record.order.lines:
        message.lines.add(
            line_id=line.id,
            sku_id=line.sku_id,
            ordered=line.quantity,
            planned=planned.get(line.id, 0),
            open=open_units.get(line.id, 0),
            shipped=shipped.get(line.id, 0),
            delivered=delivered.get(line.id, 0),
            cancelled=cancelled.get(line.id, 0),
        )
    for shipment in record.shipments:
        entry = message.shipments.add(
            node_id=shipment.node_id,
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            lines=[
                plan_pb2.ShipmentLine(line_id=i, quantity=q, sku_id=skus.get(i, ""))
                for i, q in shipment.lines
            ],
        )
        entry.ship_time.FromNanoseconds(int(shipment.shipped_at * 1e9))
        if shipment.delivered_at > 0:
            entry.delivery_time.FromNanoseconds(int(shipment.delivered_at * 1e9))
    message.update_time.FromNanoseconds(int(record.updated * 1e9))
    return message


def _by_line(units: Mapping[tuple[str, str], int]) -> dict[str, int]:
    """Units per (node, line id) summed per line id."""
    total: dict[str, int] = {}
    for (_, line_id), count in units.items():
        total[line_id] = total.get(line_id, 0) + count
    return total


def return_record_to_proto(record: ReturnRecord) -> routing_service_pb2.ReturnPlan:
    """A recorded return plan: its legs and net cost."""
    message = routing_service_pb2.ReturnPlan(return_id=record.id)
    for leg in record.legs:
        message.legs.add(
            action=routing_service_pb2.ReturnLeg.Action.Value(leg.action.value),
            node_id=leg.node_id,
            service_id=leg.service_id,
            lines=[
                routing_service_pb2.ReturnLine(
                    sku_id=item.sku_id,
                    quantity=item.quantity,
                    condition=routing_service_pb2.ReturnLine.Condition.Value(item.condition.value),
                )
                for item in leg.items
            ],
            distance_km=kilometres(leg.distance_km),
            cost=money(leg.cost),
            value=money(leg.value),
            delivery_days=leg.delivery_days,
        )
    # the sum of the rounded legs, as a reader adds them up
    message.net_cost = sum(cents(leg.cost) - cents(leg.value) for leg in record.legs) / 100
    return message


def operation_to_proto(record: OperationRecord) -> operations_pb2.Operation:
    """A long-running operation: ScenarioMetadata, then ScenarioKpis or the error."""
    progress = progress_of(record)
    metadata = scenario_service_pb2.ScenarioMetadata(
        display_name=progress.display_name,
        orders_done=progress.orders_done,
        orders_total=progress.orders_total,
        cancel_requested=record.cancel_requested,
    )
    metadata.start_time.FromNanoseconds(int(record.created * 1e9))
    metadata.update_time.FromNanoseconds(int(record.updated * 1e9))
    message = operations_pb2.Operation(name=record.name, done=record.done)
    message.metadata.Pack(metadata)
    if record.error is not None:
        message.error.CopyFrom(operation_status(record.error))
    else:
        kpis = kpis_of(record)
        if kpis is not None:
            message.response.Pack(kpis_to_proto(kpis))
    return message


def kpis_to_proto(kpis: ScenarioKpis) -> scenario_service_pb2.ScenarioKpis:
    return scenario_service_pb2.ScenarioKpis(
        orders=kpis.orders,
        orders_shipped=kpis.orders_shipped,
        orders_complete=kpis.orders_complete,
        units_ordered=kpis.units_ordered,
        units_filled=kpis.units_filled,
        total_cost=money(kpis.total_cost),
        cost_per_order=money(kpis.cost_per_order),
        split_rate=kpis.split_rate,
        mean_delivery_days=kpis.mean_delivery_days,
        on_time_rate=kpis.on_time_rate,
        standard_promise_days=kpis.standard_promise_days,
        shipments_by_node=dict(kpis.shipments_by_node),
        orders_by_delivery_days=dict(kpis.orders_by_delivery_days),
    )


def event_to_proto(event: Event) -> inventory_service_pb2.Event:
    """An outbox event (its payload as compact JSON text)."""
    message = inventory_service_pb2.Event(
        cursor=event.seq,
        type=inventory_service_pb2.Event.Type.Value(event.type.value),
        reservation_id=event.reservation_id,
        order_id=event.order_id,
        request_id=event.request_id,
        customer_id=event.customer_id,
        return_id=event.return_id,
        payload_json=json.dumps(event.payload, separators=(",", ":"), sort_keys=True),
    )
    message.time.FromNanoseconds(int(event.at * 1e9))
    return message


# ----------------------------------------------------------------------------- JSON files


def to_json_line(message: Message) -> str:
    """One message as compact proto3 JSON on one line (lowerCamelCase, defaults omitted)."""
    return json.dumps(json_format.MessageToDict(message), separators=(",", ":"))


def to_json_text(message: Message) -> str:
    """One message as indented proto3 JSON (for files people read)."""
    return json.dumps(json_format.MessageToDict(message), indent=1) + "\n"
