"""Reading requests: one function per request message, turning it into the application's
command or raising :class:`~omniroute.model.ValidationError` with every field violation.

Field paths use the JSON (lowerCamelCase) names of the API, e.g. ``order.lines[0].quantity``.
The planner a request plans against (the served network, or a network sent with the
request) is chosen here, once, by :class:`Planners`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from omniroute.availability import DEFAULT_MAX_NODES, DEFAULT_MAX_PICKUP_DISTANCE_KM
from omniroute.files import forecast_from_json
from omniroute.joint import DEFAULT_UNFILLED_PENALTY
from omniroute.ledger import OrderState, RejectionReason
from omniroute.ledger.events import EventType
from omniroute.model import Channel, FieldViolation, Network, Order, OrderLine, ValidationError
from omniroute.planner import Planner
from omniroute.returns import DEFAULT_UNIT_VALUE
from omniroute.scenario import ReplayMode, apply_changes, parse_changes
from omniroute.server import convert
from omniroute.server.application import (
    Application,
    AvailabilityCommand,
    CancelCommand,
    DeliverCommand,
    ListOrdersCommand,
    ListStockCommand,
    PlanOrderCommand,
    PlanOrdersCommand,
    PutForecastCommand,
    PutInboundCommand,
    PutNetworkCommand,
    QuoteCommand,
    ReceiveInboundCommand,
    RerouteCommand,
    ReturnCommand,
    Routing,
    ScenarioCommand,
    ShipCommand,
    UpdateStockCommand,
)
from omniroute.v1 import (
    inventory_service_pb2,
    network_pb2,
    network_service_pb2,
    order_service_pb2,
    routing_service_pb2,
    scenario_service_pb2,
)
from omniroute.validation import (
    location_violations,
    network_violations,
    order_violations,
    orders_violations,
)

INLINE_NETWORKS = 8  # planners kept for requests that carry their own network
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10_000
MAX_REQUEST_ID = 128  # characters of a request id (AIP-155 suggests 36 to 128)


@dataclass(frozen=True)
class Limits:
    """What one request may ask for (``serve --max-order-lines``, ``--max-batch-orders``):
    larger requests are refused with INVALID_ARGUMENT before any work is done on them."""

    order_lines: int = 1_000  # lines in one order (or SKUs in one availability check)
    batch_orders: int = 10_000  # orders in one PlanOrders call
    network_nodes: int = 50_000  # nodes of a network sent in a request (PutNetwork, inline)
    network_skus: int = 2_000_000  # SKUs of such a network (its positions: the 64 MiB limit)


def network_size_violations(message: network_pb2.Network, prefix: str, limits: Limits) -> None:
    """Refuse a network message beyond the limits before it is converted."""
    _refuse_oversized(
        prefix,
        message,
        [
            _too_many(len(message.nodes), limits.network_nodes, f"{prefix}.nodes", "nodes"),
            _too_many(len(message.skus), limits.network_skus, f"{prefix}.skus", "SKUs"),
        ],
    )


def _too_many(count: int, limit: int, field: str, what: str) -> FieldViolation | None:
    if count <= limit:
        return None
    return FieldViolation(field, f"at most {limit:,} {what} in one request (got {count:,})")


INT32_MAX = 2**31 - 1


def _units_violations(orders: Sequence[Order]) -> list[FieldViolation]:
    """The units of a batch are counted in int32 fields of the answer (unfilled units, KPIs)."""
    units = sum(max(0, line.quantity) for order in orders for line in order.lines)
    if units <= INT32_MAX:
        return []
    return [FieldViolation("orders", f"at most {INT32_MAX:,} units in one request (got {units:,})")]


def _refuse_oversized(
    subject: str, request: Any, checks: Sequence[FieldViolation | None] = ()
) -> None:
    """Refuse at once (before converting anything) what exceeds the limits: counts of
    repeated fields, and the length of the request id."""
    violations = [v for v in checks if v is not None]
    request_id = getattr(request, "request_id", "")
    if len(request_id) > MAX_REQUEST_ID:
        violations.append(
            FieldViolation(
                "requestId", f"at most {MAX_REQUEST_ID} characters (got {len(request_id):,})"
            )
        )
    _raise(violations, subject)


class Planners:
    """The planner of a request: the served network's, or one for a network sent with the
    request (validated once and kept for the next requests carrying the same bytes)."""

    def __init__(self, app: Application, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits or Limits()
        self._inline: OrderedDict[bytes, Planner] = OrderedDict()

    def served(self) -> Planner:
        return self.app.live.planner()

    def of(self, request: Message) -> Planner:
        """``request.network`` when it is set, else the served network."""
        if not request.HasField("network"):  # type: ignore[attr-defined]
            return self.served()
        message: network_pb2.Network = request.network  # type: ignore[attr-defined]
        network_size_violations(message, "network", self.limits)
        key = hashlib.sha256(message.SerializeToString(deterministic=True)).digest()
        planner = self._inline.get(key)
        if planner is None:
            network = put_network_model(message, "network")
            planner = Planner(network, validate=False)
            self._inline[key] = planner
            if len(self._inline) > INLINE_NETWORKS:
                self._inline.popitem(last=False)
        else:
            self._inline.move_to_end(key)
        return planner


def put_network_model(message: network_pb2.Network, prefix: str):  # -> Network
    """A network message as the model, or ValidationError with every violation."""
    network, violations = convert.network_from_proto(message)
    violations += network_violations(network)
    if violations:
        raise ValidationError(
            [FieldViolation(f"{prefix}.{v.field}", v.description) for v in violations], prefix
        )
    return network


def _prefixed(violations: Sequence[FieldViolation], prefix: str) -> list[FieldViolation]:
    return [FieldViolation(f"{prefix}.{v.field}", v.description) for v in violations]


def _timeout(request: Any, violations: list[FieldViolation]) -> float | None:
    if not request.HasField("timeout"):
        return None
    try:
        seconds = request.timeout.ToTimedelta().total_seconds()
    except (ValueError, OverflowError):
        violations.append(FieldViolation("timeout", "out of range"))
        return None
    if seconds <= 0:
        violations.append(FieldViolation("timeout", "must be positive"))
    return seconds


def _raise(violations: list[FieldViolation], subject: str) -> None:
    if violations:
        raise ValidationError(violations, subject)


def _required(pairs: Sequence[tuple[str, str]], violations: list[FieldViolation]) -> None:
    for field, value in pairs:
        if not value:
            violations.append(FieldViolation(field, "is required"))


# ----------------------------------------------------------------------------- routing


def plan_order(
    request: routing_service_pb2.PlanOrderRequest, planners: Planners
) -> PlanOrderCommand:
    limit = planners.limits.order_lines
    lines = _too_many(len(request.order.lines), limit, "order.lines", "lines")
    _refuse_oversized("PlanOrderRequest", request, [lines])
    planner = planners.of(request)
    order = convert.order_from_proto(request.order)
    if request.HasField("order"):
        violations = _prefixed(order_violations(order, planner.index.lookup), "order")
    else:
        violations = [FieldViolation("order", "is required")]
    timeout = _timeout(request, violations)
    if request.policy and request.policy not in convert.POLICIES:
        violations.append(FieldViolation("policy", f"unknown policy {request.policy}"))
    if request.reserve and not request.request_id:
        violations.append(FieldViolation("requestId", "is required with reserve (AIP-155)"))
    if request.reserve and request.HasField("network"):
        violations.append(
            FieldViolation(
                "network", "reserve holds the server's stock: send no inline network with it"
            )
        )
    routing = _routing(request, violations)
    _raise(violations, "PlanOrderRequest")
    return PlanOrderCommand(
        planner=planner,
        order=order,
        policy=convert.policy_from_proto(request.policy),
        options=request.include_options,
        explain=request.include_explanation,
        reserve=request.reserve,
        request_id=request.request_id,
        timeout=timeout,
        inline_network=request.HasField("network"),
        validate_only=request.validate_only,
        routing=routing,
    )


def _routing(
    request: routing_service_pb2.PlanOrderRequest, violations: list[FieldViolation]
) -> Routing:
    name = routing_service_pb2.PlanOrderRequest.Routing.Name
    try:
        routing = Routing(name(request.routing))
    except ValueError:
        violations.append(FieldViolation("routing", f"unknown routing {request.routing}"))
        return Routing.AUTO
    if routing is Routing.LOOKAHEAD and request.HasField("network"):
        violations.append(
            FieldViolation(
                "routing",
                "LOOKAHEAD prices the server's stock by its forecast: not with an inline network",
            )
        )
    return routing


def put_demand_forecast(
    request: network_service_pb2.PutDemandForecastRequest, network: Network
) -> PutForecastCommand:
    """The forecast checked against the served ``network`` (every violation listed)."""
    from google.protobuf import json_format

    violations: list[FieldViolation] = []
    if not request.HasField("forecast"):
        violations.append(FieldViolation("forecast", "is required"))
    forecast = type(request.forecast)()
    forecast.CopyFrom(request.forecast)
    for i, basket in enumerate(forecast.baskets):  # JSON cannot carry a bad timestamp
        if basket.order.HasField("create_time"):
            try:
                basket.order.create_time.ToJsonString()
            except (ValueError, OverflowError):
                violations.append(FieldViolation(
                    f"forecast.baskets[{i}].order.createTime",
                    "not a valid timestamp between 0001-01-01 and 9999-12-31",
                ))  # fmt: skip
                basket.order.ClearField("create_time")
    data = json_format.MessageToDict(forecast)
    _, found = forecast_from_json(data, network)
    violations += _prefixed(found, "forecast")
    theta = request.theta if request.HasField("theta") else 0.0  # 0: the model's default
    if request.HasField("theta") and not (math.isfinite(theta) and theta > 0):
        violations.append(FieldViolation("theta", "must be a finite number > 0"))
    _raise(violations, "PutDemandForecastRequest")
    return PutForecastCommand(data, theta, request.validate_only)


def plan_orders(
    request: routing_service_pb2.PlanOrdersRequest, planners: Planners
) -> PlanOrdersCommand:
    limits = planners.limits
    _refuse_oversized(
        "PlanOrdersRequest",
        request,
        [_too_many(len(request.orders), limits.batch_orders, "orders", "orders")]
        + [
            _too_many(len(o.lines), limits.order_lines, f"orders[{i}].lines", "lines")
            for i, o in enumerate(request.orders)
        ],
    )
    planner = planners.of(request)
    orders = tuple(
        convert.order_from_proto(o, f"orders[{i}]") for i, o in enumerate(request.orders)
    )
    violations = orders_violations(orders, planner.network) + _units_violations(orders)
    if not orders:
        violations.append(FieldViolation("orders", "at least one order is required"))
    if request.unfilled_penalty < 0:
        violations.append(FieldViolation("unfilledPenalty", "must be >= 0"))
    timeout = _timeout(request, violations)
    _raise(violations, "PlanOrdersRequest")
    return PlanOrdersCommand(
        planner,
        orders,
        request.unfilled_penalty
        if request.HasField("unfilled_penalty")
        else DEFAULT_UNFILLED_PENALTY,
        timeout,
        request.validate_only,
    )


def quote_delivery(
    request: routing_service_pb2.QuoteDeliveryRequest, planners: Planners
) -> QuoteCommand:
    limit = planners.limits.order_lines
    _refuse_oversized(
        "QuoteDeliveryRequest", request, [_too_many(len(request.lines), limit, "lines", "lines")]
    )
    planner = planners.of(request)
    lines = tuple(
        OrderLine(line.id or str(i + 1), line.sku_id, line.quantity)
        for i, line in enumerate(request.lines)
    )
    destination = (
        convert.location_from_proto(request.destination)
        if request.HasField("destination")
        else None
    )
    order = Order("quote", lines, destination=destination, pickup_store_id=request.pickup_store_id)
    violations = [v for v in order_violations(order, planner.index.lookup) if v.field != "id"]
    timeout = _timeout(request, violations)
    create_time = _time(request, violations)
    channel = _channel(request.channel, violations) or Channel.WEB
    _raise(violations, "QuoteDeliveryRequest")
    return QuoteCommand(
        planner, lines, destination, request.pickup_store_id, timeout, create_time, channel
    )


def _channel(number: int, violations: list[FieldViolation]) -> Channel | None:
    """A request's optional channel (None: unset); an unknown number is a violation."""
    channel = convert.channel_from_proto(number)
    if number and channel is None:
        violations.append(FieldViolation("channel", f"is not a channel: {number}"))
    return channel


def _time(
    request: routing_service_pb2.QuoteDeliveryRequest
    | routing_service_pb2.CheckAvailabilityRequest,
    violations: list[FieldViolation],
) -> str:
    """The request's ``time`` as RFC 3339 ("" when unset); a violation when out of range."""
    if not request.HasField("time"):
        return ""
    try:
        return request.time.ToJsonString()
    except (ValueError, OverflowError):
        violations.append(FieldViolation("time", "outside 0001-01-01 to 9999-12-31"))
        return ""


def check_availability(
    request: routing_service_pb2.CheckAvailabilityRequest, planners: Planners
) -> AvailabilityCommand:
    limit = planners.limits.order_lines
    _refuse_oversized(
        "CheckAvailabilityRequest",
        request,
        [_too_many(len(request.sku_ids), limit, "skuIds", "SKUs")],
    )
    planner = planners.of(request)
    index = planner.index
    violations: list[FieldViolation] = []
    if not request.sku_ids:
        violations.append(FieldViolation("skuIds", "at least one SKU is required"))
    for i, sku_id in enumerate(request.sku_ids):
        if sku_id not in index.sku_pos:
            violations.append(FieldViolation(f"skuIds[{i}]", f"unknown SKU {sku_id!r}"))
    if request.store_id and request.store_id not in index.nodes_by_id:
        violations.append(FieldViolation("storeId", f"unknown node {request.store_id!r}"))
    if not request.store_id and not request.HasField("location"):
        violations.append(FieldViolation("location", "is required (or give storeId)"))
    if request.HasField("location"):
        violations += location_violations("location", convert.location_from_proto(request.location))
    if request.max_nodes < 0:
        violations.append(FieldViolation("maxNodes", "must be >= 0"))
    pickup_km = (
        request.max_pickup_distance_km
        if request.HasField("max_pickup_distance_km")
        else DEFAULT_MAX_PICKUP_DISTANCE_KM
    )
    if not 0 <= pickup_km < math.inf:
        violations.append(
            FieldViolation("maxPickupDistanceKm", "must be a finite number >= 0 (0 = any distance)")
        )
    create_time = _time(request, violations)
    channel = _channel(request.channel, violations)
    _raise(violations, "CheckAvailabilityRequest")
    location = (
        convert.location_from_proto(request.location) if request.HasField("location") else None
    )
    return AvailabilityCommand(
        planner,
        tuple(request.sku_ids),
        request.store_id,
        location,
        request.max_nodes or DEFAULT_MAX_NODES,
        pickup_km,
        create_time,
        channel,
    )


def reroute_order(request: routing_service_pb2.RerouteOrderRequest) -> RerouteCommand:
    _refuse_oversized("RerouteOrderRequest", request)
    violations: list[FieldViolation] = []
    _required(
        [
            ("reservationId", request.reservation_id),
            ("nodeId", request.node_id),
            ("requestId", request.request_id),
        ],
        violations,
    )
    reasons = routing_service_pb2.RerouteOrderRequest.Reason
    if request.reason not in reasons.values():
        violations.append(FieldViolation("reason", f"unknown reason {request.reason}"))
    rejected: dict[str, int] = {}
    for i, line in enumerate(request.lines):
        if not line.line_id or line.quantity <= 0:
            violations.append(
                FieldViolation(f"lines[{i}]", "needs a lineId and a positive quantity")
            )
        else:
            rejected[line.line_id] = rejected.get(line.line_id, 0) + line.quantity
    _raise(violations, "RerouteOrderRequest")
    reason = (
        RejectionReason[reasons.Name(request.reason)] if request.reason else RejectionReason.OTHER
    )
    return RerouteCommand(
        request.reservation_id,
        request.node_id,
        tuple(sorted(rejected.items())),
        reason,
        request.request_id,
    )


def order_id(
    request: routing_service_pb2.GetOrderPlanRequest | order_service_pb2.GetOrderStatusRequest,
) -> str:
    violations: list[FieldViolation] = []
    _required([("orderId", request.order_id)], violations)
    _raise(violations, type(request).__name__)
    return request.order_id


def plan_return(
    request: routing_service_pb2.PlanReturnRequest, planners: Planners
) -> ReturnCommand:
    _refuse_oversized("PlanReturnRequest", request)
    planner = planners.served()
    items = tuple(
        convert.return_item_from_proto(line, f"lines[{i}]") for i, line in enumerate(request.lines)
    )
    origin = convert.location_from_proto(request.origin) if request.HasField("origin") else None
    violations: list[FieldViolation] = []
    _return_violations(planner, request, violations)
    if not request.request_id:
        violations.append(FieldViolation("requestId", "is required (AIP-155)"))
    _raise(violations, "PlanReturnRequest")
    return ReturnCommand(
        planner,
        items,
        origin,
        request.store_id,
        request.unit_value or DEFAULT_UNIT_VALUE,
        request.request_id,
        request.order_id,
    )


def _return_violations(
    planner: Planner,
    request: routing_service_pb2.PlanReturnRequest,
    violations: list[FieldViolation],
) -> None:
    index = planner.index
    if not request.lines:
        violations.append(FieldViolation("lines", "at least one line is required"))
    for i, line in enumerate(request.lines):
        if line.sku_id not in index.sku_pos:
            violations.append(FieldViolation(f"lines[{i}].skuId", f"unknown SKU {line.sku_id!r}"))
        if line.quantity <= 0:
            violations.append(FieldViolation(f"lines[{i}].quantity", "must be > 0"))
    if request.store_id:
        node = index.nodes_by_id.get(request.store_id)
        if node is None or node.kind.value != "STORE":
            violations.append(FieldViolation("storeId", f"{request.store_id!r} is not a store"))
    elif not request.HasField("origin"):
        violations.append(FieldViolation("origin", "is required (or give storeId)"))
    if not (math.isfinite(request.unit_value) and request.unit_value >= 0):
        violations.append(FieldViolation("unitValue", "must be a finite number >= 0"))
    if request.HasField("origin"):
        violations += location_violations("origin", convert.location_from_proto(request.origin))


# ----------------------------------------------------------------------------- inventory


def update_stock(request: inventory_service_pb2.UpdateStockRequest) -> UpdateStockCommand:
    _refuse_oversized("UpdateStockRequest", request)
    changes = tuple(convert.stock_change_from_proto(u) for u in request.updates)
    if not changes:
        raise ValidationError(
            [FieldViolation("updates", "at least one update is required")], "UpdateStockRequest"
        )
    return UpdateStockCommand(changes, request.request_id, request.validate_only)


def reservation_id(request: Any) -> str:
    violations: list[FieldViolation] = []
    _required([("reservationId", request.reservation_id)], violations)
    _raise(violations, type(request).__name__)
    return str(request.reservation_id)


def watch_events(
    request: inventory_service_pb2.WatchEventsRequest,
) -> tuple[int, tuple[EventType, ...]]:
    """WatchEvents: the cursor to start after and the event types wanted (empty: all);
    ``stop_at_end`` is read by the servicer."""
    violations: list[FieldViolation] = []
    if request.after_cursor < 0:
        violations.append(
            FieldViolation("afterCursor", f"must be >= 0, got {request.after_cursor}")
        )
    names = inventory_service_pb2.Event.Type
    types: list[EventType] = []
    for i, number in enumerate(request.types):
        name = names.Name(number) if number in names.values() else ""
        if not name or number == 0:
            violations.append(
                FieldViolation(
                    f"types[{i}]",
                    f"unknown event type {number}: must be one of "
                    + ", ".join(t.value for t in EventType),
                )
            )
        else:
            types.append(EventType(name))
    _raise(violations, "WatchEventsRequest")
    return int(request.after_cursor), tuple(dict.fromkeys(types))


def return_id(request: inventory_service_pb2.ReceiveReturnRequest) -> str:
    violations: list[FieldViolation] = []
    _required([("returnId", request.return_id)], violations)
    _raise(violations, "ReceiveReturnRequest")
    return request.return_id


# ----------------------------------------------------------------------------- inbound


def put_inbound_supply(
    request: inventory_service_pb2.PutInboundSupplyRequest,
) -> PutInboundCommand:
    violations: list[FieldViolation] = []
    supplies = tuple(
        convert.inbound_from_proto(x, f"supplies[{i}]", violations)
        for i, x in enumerate(request.supplies)
    )
    _raise(violations, "PutInboundSupplyRequest")  # the rest is checked by the ledger
    return PutInboundCommand(supplies, request.request_id, request.validate_only)


def receive_inbound_supply(
    request: inventory_service_pb2.ReceiveInboundSupplyRequest,
) -> ReceiveInboundCommand:
    violations: list[FieldViolation] = []
    _required([("supplyId", request.supply_id)], violations)
    if request.quantity <= 0:
        violations.append(FieldViolation("quantity", f"must be > 0, got {request.quantity}"))
    _raise(violations, "ReceiveInboundSupplyRequest")
    return ReceiveInboundCommand(request.supply_id, request.quantity, request.request_id)


# ----------------------------------------------------------------------------- order life

MAX_ORDERS_PAGE = 1000  # ListOrders page size cap (and its default below)
DEFAULT_ORDERS_PAGE = 50


def _seconds(message: Any, name: str, field: str, violations: list[FieldViolation]) -> float | None:
    """An optional Timestamp field as Unix seconds (None: not set)."""
    if not message.HasField(name):
        return None
    stamp = getattr(message, name)
    if stamp.seconds <= 0 or not 0 <= stamp.nanos < 1_000_000_000:
        violations.append(FieldViolation(field, "must be a time after 1970-01-01T00:00:00Z"))
        return None
    return stamp.seconds + stamp.nanos / 1e9


def confirm_shipment(request: order_service_pb2.ConfirmShipmentRequest) -> ShipCommand:
    violations: list[FieldViolation] = []
    _required(
        [
            ("orderId", request.order_id),
            ("nodeId", request.node_id),
            ("trackingNumber", request.tracking_number),
            ("requestId", request.request_id),
        ],
        violations,
    )
    for i, line in enumerate(request.lines):
        if not line.line_id:
            violations.append(FieldViolation(f"lines[{i}].lineId", "is required"))
        if line.quantity <= 0:
            violations.append(
                FieldViolation(f"lines[{i}].quantity", f"must be > 0, got {line.quantity}")
            )
    shipped_at = _seconds(request, "ship_time", "shipTime", violations)
    _raise(violations, "ConfirmShipmentRequest")
    return ShipCommand(
        request.order_id,
        request.node_id,
        tuple((line.line_id, line.quantity) for line in request.lines),
        request.tracking_number,
        request.carrier,
        shipped_at,
        request.request_id,
    )


def confirm_delivery(request: order_service_pb2.ConfirmDeliveryRequest) -> DeliverCommand:
    violations: list[FieldViolation] = []
    _required(
        [
            ("orderId", request.order_id),
            ("trackingNumber", request.tracking_number),
            ("requestId", request.request_id),
        ],
        violations,
    )
    delivered_at = _seconds(request, "delivery_time", "deliveryTime", violations)
    _raise(violations, "ConfirmDeliveryRequest")
    return DeliverCommand(
        request.order_id, request.tracking_number, delivered_at, request.request_id
    )


def cancel_order(request: order_service_pb2.CancelOrderRequest) -> CancelCommand:
    violations: list[FieldViolation] = []
    _required([("orderId", request.order_id), ("requestId", request.request_id)], violations)
    seen: set[str] = set()
    for i, line_id in enumerate(request.line_ids):
        if not line_id:
            violations.append(FieldViolation(f"lineIds[{i}]", "must not be empty"))
        elif line_id in seen:
            violations.append(FieldViolation(f"lineIds[{i}]", f"repeats line {line_id!r}"))
        seen.add(line_id)
    _raise(violations, "CancelOrderRequest")
    return CancelCommand(
        request.order_id, tuple(request.line_ids), request.reason, request.request_id
    )


def list_orders(request: order_service_pb2.ListOrdersRequest) -> ListOrdersCommand:
    violations: list[FieldViolation] = []
    if not request.customer_id and not request.node_id:
        violations.append(FieldViolation("customerId", "customerId or nodeId is required"))
    if not 0 <= request.page_size <= MAX_ORDERS_PAGE:
        violations.append(
            FieldViolation("pageSize", f"must be 0 to {MAX_ORDERS_PAGE}, got {request.page_size}")
        )
    names = order_service_pb2.OrderState
    states: tuple[OrderState, ...] = ()
    if request.state:
        if request.state not in names.values():
            violations.append(FieldViolation("state", f"is not an order state: {request.state}"))
        else:
            states = (OrderState(names.Name(request.state)),)
    filters = _orders_filter(request)
    after = ""
    if request.page_token:
        found = _read_token(request.page_token, filters, violations, width=1)
        after = found[0] if found else ""
    _raise(violations, "ListOrdersRequest")
    return ListOrdersCommand(
        request.customer_id,
        request.node_id,
        states,
        request.page_size or DEFAULT_ORDERS_PAGE,
        after,
    )


def _orders_filter(request: order_service_pb2.ListOrdersRequest) -> str:
    """The filters a ListOrders page token is bound to."""
    return json.dumps([request.customer_id, request.node_id, request.state])


def orders_page_token(after: str | None, request: order_service_pb2.ListOrdersRequest) -> str:
    return page_token((after,) if after is not None else None, _orders_filter(request))


# AIP-160 subset: comparisons joined by AND.
FILTER_FIELDS = {
    "node_id": str,
    "sku_id": str,
    "on_hand": int,
    "safety_stock": int,
    "reserved": int,
    "atp": int,
}
_CLAUSE = re.compile(
    r'\s*(?P<field>[a-z_]+)\s*(?P<op><=|>=|!=|=|<|>)\s*(?P<value>"(?:[^"\\]|\\.)*"|-?\d+)\s*$'
)


def stock_filter(text: str) -> tuple[tuple[str, str, Any], ...]:
    """Parse a ListStockPositions filter, e.g. ``sku_id = "TEE-0001" AND atp > 0``."""
    if not text.strip():
        return ()
    clauses = []
    violations = []
    for i, part in enumerate(re.split(r"\s+AND\s+", text.strip())):
        match = _CLAUSE.match(part)
        if match is None:
            violations.append(
                FieldViolation(
                    "filter",
                    f"clause {i + 1} {part.strip()!r} is not `field op value` "
                    '(e.g. sku_id = "TEE-0001" AND atp > 0)',
                )
            )
            continue
        field, op, raw = match["field"], match["op"], match["value"]
        kind = FILTER_FIELDS.get(field)
        if kind is None:
            violations.append(
                FieldViolation("filter", f"unknown field {field!r}; use {', '.join(FILTER_FIELDS)}")
            )
            continue
        if kind is str:
            if not raw.startswith('"'):
                violations.append(FieldViolation("filter", f"{field} takes a quoted string"))
                continue
            try:
                value: Any = json.loads(raw)
                value.encode()  # a lone surrogate cannot be compared with stored text
            except ValueError:  # JSONDecodeError, UnicodeEncodeError
                violations.append(
                    FieldViolation("filter", f"{field}: {raw[:80]} is not a valid quoted string")
                )
                continue
        else:
            if raw.startswith('"'):
                violations.append(FieldViolation("filter", f"{field} takes a whole number"))
                continue
            value = int(raw)
            if not -(2**63) <= value < 2**63:
                violations.append(FieldViolation("filter", f"{field}: {raw} is out of range"))
                continue
        clauses.append((field, op, value))
    _raise(violations, "ListStockPositionsRequest")
    return tuple(clauses)


def list_stock_positions(
    request: inventory_service_pb2.ListStockPositionsRequest,
) -> ListStockCommand:
    violations: list[FieldViolation] = []
    if request.page_size < 0:
        violations.append(FieldViolation("pageSize", "must be >= 0"))
    try:
        clauses = stock_filter(request.filter)
    except ValidationError as error:
        violations += error.violations
        clauses = ()
    after = None
    if request.page_token:
        found = _read_token(request.page_token, request.filter, violations)
        after = (found[0], found[1]) if found else None
    _raise(violations, "ListStockPositionsRequest")
    size = min(MAX_PAGE_SIZE, request.page_size or DEFAULT_PAGE_SIZE)
    return ListStockCommand(clauses, size, after)


def page_token(after: tuple[str, ...] | None, filter_text: str) -> str:
    """An opaque token for the page after ``after`` (bound to the filter it was made for)."""
    if after is None:
        return ""
    data = {"after": list(after), "filter": _digest(filter_text)}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _digest(filter_text: str) -> str:
    return hashlib.sha256(filter_text.strip().encode()).hexdigest()[:16]


def _read_token(
    token: str, filter_text: str, violations: list[FieldViolation], width: int = 2
) -> tuple[str, ...] | None:
    """The ``width`` keys a page token continues after (None: a violation is added)."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        after = tuple(str(key) for key in data["after"])
        if len(after) != width:
            raise ValueError("not a token of this list")
        same_filter = data["filter"] == _digest(filter_text)
    except (ValueError, KeyError, IndexError, TypeError):
        violations.append(FieldViolation("pageToken", "is not a token this server gave out"))
        return None
    if not same_filter:
        violations.append(
            FieldViolation("pageToken", "was made for another filter: send the same filter")
        )
        return None
    return after


# ----------------------------------------------------------------------------- network


def put_network(
    request: network_service_pb2.PutNetworkRequest, limits: Limits | None = None
) -> PutNetworkCommand:
    if not request.HasField("network"):
        raise ValidationError([FieldViolation("network", "is required")], "PutNetworkRequest")
    network_size_violations(request.network, "network", limits or Limits())
    return PutNetworkCommand(put_network_model(request.network, "network"), request.validate_only)


# ----------------------------------------------------------------------------- scenarios


def start_scenario(
    request: scenario_service_pb2.StartScenarioRequest, planners: Planners
) -> ScenarioCommand:
    _refuse_oversized("StartScenarioRequest", request)
    from google.protobuf import json_format

    base = planners.served().network
    violations: list[FieldViolation] = []
    changes = json_format.MessageToDict(request.changes) if request.HasField("changes") else {}
    changed = base
    try:
        changed = apply_changes(base, parse_changes(changes, base))
    except ValidationError as error:
        violations += _prefixed(error.violations, "changes")
    orders = tuple(
        convert.order_from_proto(o, f"orders[{i}]") for i, o in enumerate(request.orders)
    )
    if not orders:
        violations.append(FieldViolation("orders", "at least one order is required"))
    violations += orders_violations(orders, changed) + _units_violations(orders)
    modes = scenario_service_pb2.StartScenarioRequest.Mode
    if request.mode not in modes.values():
        violations.append(FieldViolation("mode", f"unknown mode {request.mode}"))
    _raise(violations, "StartScenarioRequest")
    mode = ReplayMode.BATCH if request.mode == modes.BATCH else ReplayMode.SEQUENTIAL
    return ScenarioCommand(changed, orders, mode, request.display_name, request.request_id, changes)


def operation_name(request: Any) -> str:
    violations: list[FieldViolation] = []
    _required([("name", request.name)], violations)
    _raise(violations, type(request).__name__)
    return str(request.name)


def list_operations(request: Any) -> tuple[int, str]:
    """(page size, name to start after) of a ListOperations request."""
    violations: list[FieldViolation] = []
    if request.page_size < 0:
        violations.append(FieldViolation("pageSize", "must be >= 0"))
    if request.filter:
        violations.append(FieldViolation("filter", "filtering operations is not supported"))
    after = ""
    if request.page_token:
        try:
            after = base64.urlsafe_b64decode(request.page_token.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            violations.append(FieldViolation("pageToken", "is not a token this server gave out"))
    _raise(violations, "ListOperationsRequest")
    return min(MAX_PAGE_SIZE, request.page_size or 100), after


def operations_token(after: str | None) -> str:
    return base64.urlsafe_b64encode(after.encode()).decode() if after else ""
