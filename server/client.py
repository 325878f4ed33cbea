"""A small typed Python client for the omniroute API, used by the CLI and the benchmarks.

Retries are gRPC's own, configured by the API's service config
(``omniroute/v1/service_config.json``, package data of ``omniroute.v1``): only
``UNAVAILABLE`` (the server is starting, restarting or draining) is retried, up to 5
attempts with exponential backoff from 50 ms; every other status is raised to the caller as
:class:`grpc.RpcError`. A call's timeout is its deadline, covering all its attempts. Calls
accept the engine's model objects or protobuf messages.

Every RPC a caller needs has a helper here, and every helper goes through the same channel,
so through that retry policy: plan (:meth:`OmnirouteClient.plan_order`), plan and hold
(:meth:`~OmnirouteClient.reserve`), commit / release / read a reservation, re-route, read
an order's plan, plan a batch jointly, quote, check availability, plan and receive a
return, update and read stock, and run a scenario to its KPIs. Helpers of state-changing
calls that are idempotent by ``request_id`` generate one when it is not given, so that
gRPC's retries of that call (which resend the same request) are safe.

>>> with OmnirouteClient("localhost:50051") as client:
...     response = client.reserve(order)
...     client.commit_reservation(response.reservation_id)
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf import json_format
from google.rpc import status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from omniroute.model import InboundSupply, Location, Network, Order, OrderLine, ShipmentLine
from omniroute.server import convert
from omniroute.v1 import (
    inventory_service_pb2,
    inventory_service_pb2_grpc,
    network_pb2,
    network_service_pb2,
    network_service_pb2_grpc,
    order_pb2,
    order_service_pb2,
    order_service_pb2_grpc,
    plan_pb2,
    routing_service_pb2,
    routing_service_pb2_grpc,
    scenario_service_pb2,
    scenario_service_pb2_grpc,
)

T = TypeVar("T")
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_ATTEMPTS = 5  # gRPC caps a retry policy's maxAttempts at 5
# Reconnect soon after a failed connection attempt (gRPC waits 1 s, then up to 2 min, by
# default), so that the retries of a call (about 0.75 s of backoff in all) to a server that is
# starting or restarting can reach it; at most as long apart as the retry policy's maxBackoff.
RECONNECT_BACKOFF_MS = 50
MAX_RECONNECT_BACKOFF_MS = 2_000


def service_config(retries: int | None = None) -> dict[str, Any]:
    """The API's gRPC service config (``omniroute/v1/service_config.json``).

    ``retries`` (when not None) replaces each retry policy's ``maxAttempts`` with
    ``retries + 1`` attempts, at most :data:`MAX_ATTEMPTS`; 0 drops the retry policies.
    """
    text = (resources.files("omniroute.v1") / "service_config.json").read_text("utf-8")
    config: dict[str, Any] = json.loads(text)
    if retries is not None:
        for method in config.get("methodConfig", []):
            if retries <= 0:
                method.pop("retryPolicy", None)
            elif "retryPolicy" in method:
                method["retryPolicy"]["maxAttempts"] = min(retries + 1, MAX_ATTEMPTS)
    return config


def channel_options(retries: int | None = None) -> list[tuple[str, str | int]]:
    """Channel options of the client: message limits, the service config with its retry
    policy (``retries`` as for :func:`service_config`), and reconnection soon after a failed
    connection attempt."""
    return [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.service_config", json.dumps(service_config(retries))),
        ("grpc.enable_retries", 0 if retries is not None and retries <= 0 else 1),
        ("grpc.initial_reconnect_backoff_ms", RECONNECT_BACKOFF_MS),
        ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS),
    ]


class OperationFailed(Exception):
    """A long-running operation (a scenario) ended with an error; ``status`` is its
    ``google.rpc.Status`` (code, message and details, as a failed call would carry)."""

    def __init__(self, name: str, status: status_pb2.Status) -> None:
        super().__init__(f"operation {name} failed: {status.message}")
        self.name = name
        self.status = status


def new_request_id() -> str:
    """A fresh request id (AIP-155) for an idempotent call."""
    return str(uuid.uuid4())


def _duration(seconds: float | None, message: Any) -> None:
    if seconds is not None:
        message.FromNanoseconds(int(seconds * 1e9))


def _order(order: Order | order_pb2.Order) -> order_pb2.Order:
    return convert.order_to_proto(order) if isinstance(order, Order) else order


def _location(location: Location | network_pb2.Location) -> network_pb2.Location:
    if isinstance(location, Location):
        return network_pb2.Location(latitude=location.latitude, longitude=location.longitude)
    return location


def _order_line(line: OrderLine | order_pb2.OrderLine) -> order_pb2.OrderLine:
    if isinstance(line, OrderLine):
        return order_pb2.OrderLine(id=line.id, sku_id=line.sku_id, quantity=line.quantity)
    return line


def _shipment_line(line: ShipmentLine | plan_pb2.ShipmentLine) -> plan_pb2.ShipmentLine:
    if isinstance(line, ShipmentLine):
        return plan_pb2.ShipmentLine(
            line_id=line.line_id, sku_id=line.sku_id, quantity=line.quantity
        )
    return line


def _return_line(
    line: routing_service_pb2.ReturnLine | tuple[str, int] | tuple[str, int, str],
) -> routing_service_pb2.ReturnLine:
    if isinstance(line, routing_service_pb2.ReturnLine):
        return line
    sku_id, quantity, *rest = line
    condition = str(rest[0]).upper() if rest else "RESALEABLE"
    return routing_service_pb2.ReturnLine(
        sku_id=sku_id,
        quantity=quantity,
        condition=routing_service_pb2.ReturnLine.Condition.Value(condition),
    )


class OmnirouteClient:
    """Stubs for RoutingService, InventoryService, OrderService, NetworkService,
    ScenarioService and google.longrunning.Operations on one channel, with a typed helper
    for every call.

    Each helper takes ``timeout`` (seconds, the call's deadline over all its attempts;
    default: the client's ``timeout``) and returns the response message; a failed call
    raises :class:`grpc.RpcError` (its details are described in ``docs/errors.md``).
    """

    def __init__(
        self,
        target: str,
        timeout: float = 30.0,
        retries: int | None = None,
        *,
        tls_ca: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        token: str | None = None,
        server_name: str | None = None,
    ) -> None:
        """``timeout``: the default deadline of a call, in seconds. ``retries``: None = as the
        service config says (up to 4 retries of UNAVAILABLE); 0 = none; n = up to n (at
        most 4).

        With ``tls_ca`` (PEM file of the CA that signed the server's certificate) the channel
        uses TLS; ``tls_cert`` and ``tls_key`` present a client certificate (mTLS);
        ``server_name`` overrides the name checked against the server's certificate. With
        ``token`` every call sends ``authorization: Bearer TOKEN`` (over TLS only).
        """
        options = channel_options(retries)
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        if tls_ca or token:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=Path(tls_ca).read_bytes() if tls_ca else None,
                private_key=Path(tls_key).read_bytes() if tls_key else None,
                certificate_chain=Path(tls_cert).read_bytes() if tls_cert else None,
            )
            if token:
                credentials = grpc.composite_channel_credentials(
                    credentials, grpc.access_token_call_credentials(token)
                )
            self.channel = grpc.secure_channel(target, credentials, options=options)
        else:
            self.channel = grpc.insecure_channel(target, options=options)
        self.timeout = timeout
        self.routing = routing_service_pb2_grpc.RoutingServiceStub(self.channel)
        self.inventory = inventory_service_pb2_grpc.InventoryServiceStub(self.channel)
        self.network = network_service_pb2_grpc.NetworkServiceStub(self.channel)
        self.scenarios = scenario_service_pb2_grpc.ScenarioServiceStub(self.channel)
        self.orders = order_service_pb2_grpc.OrderServiceStub(self.channel)
        self.operations = operations_pb2_grpc.OperationsStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def __enter__(self) -> OmnirouteClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel (calls in flight are cancelled)."""
        self.channel.close()

    def _call(self, fn: Callable[..., T], request: object, timeout: float | None = None) -> T:
        # gRPC retries UNAVAILABLE itself (the service config), within the one deadline.
        return fn(request, timeout=timeout or self.timeout)

    def wait_until_serving(self, timeout: float = 30.0) -> None:
        """Block until health checking reports SERVING (or raise TimeoutError)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = self.health.Check(health_pb2.HealthCheckRequest(), timeout=2.0).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not become SERVING in time")
            time.sleep(0.05)

    # ------------------------------------------------------------------------- routing

    def plan_order(
        self,
        order: Order | order_pb2.Order,
        policy: str = "CHEAPEST",
        include_options: bool = False,
        include_explanation: bool = False,
        solve_timeout: float | None = None,
        timeout: float | None = None,
        network: Network | None = None,
        *,
        validate_only: bool = False,
        routing: str = "",
    ) -> plan_pb2.PlanOrderResponse:
        """``PlanOrder``: the best plan for ``policy`` (CHEAPEST, FASTEST or BASELINE);
        nothing is held. ``solve_timeout`` bounds the search (seconds); ``network`` plans
        statelessly against that network instead of the served one; ``routing`` MYOPIC or
        LOOKAHEAD (default: look-ahead when a forecast is in force)."""
        request = self.plan_request(
            order, policy, include_options, include_explanation, solve_timeout, network
        )
        request.validate_only = validate_only
        if routing:
            request.routing = routing_service_pb2.PlanOrderRequest.Routing.Value(routing.upper())
        return self._call(self.routing.PlanOrder, request, timeout)

    def reserve(
        self,
        order: Order | order_pb2.Order,
        policy: str = "CHEAPEST",
        request_id: str | None = None,
        include_options: bool = False,
        solve_timeout: float | None = None,
        timeout: float | None = None,
        routing: str = "",
    ) -> plan_pb2.PlanOrderResponse:
        """``PlanOrder`` with ``reserve``: plan and hold the plan's stock atomically; the
        response's ``reservation_id`` names the hold (empty when nothing could be planned).
        ``request_id`` (generated when None) makes gRPC's retries return the first answer;
        to repeat the call yourself (after a deadline, say), pass the same id again."""
        request = self.plan_request(order, policy, include_options, False, solve_timeout)
        request.reserve = True
        if routing:
            request.routing = routing_service_pb2.PlanOrderRequest.Routing.Value(routing.upper())
        request.request_id = request_id or new_request_id()
        return self._call(self.routing.PlanOrder, request, timeout)

    @staticmethod
    def plan_request(
        order: Order | order_pb2.Order,
        policy: str = "CHEAPEST",
        include_options: bool = False,
        include_explanation: bool = False,
        solve_timeout: float | None = None,
        network: Network | None = None,
    ) -> routing_service_pb2.PlanOrderRequest:
        """The ``PlanOrderRequest`` that :meth:`plan_order` sends (for streams)."""
        request = routing_service_pb2.PlanOrderRequest(
            order=_order(order),
            policy=plan_pb2.Policy.Value(policy.upper()),
            include_options=include_options,
            include_explanation=include_explanation,
        )
        if solve_timeout is not None:
            _duration(solve_timeout, request.timeout)
        if network is not None:
            request.network.CopyFrom(convert.network_to_proto(network))
        return request

    def stream_plan_orders(
        self, requests: Iterable[routing_service_pb2.PlanOrderRequest], timeout: float | None = None
    ) -> Iterator[plan_pb2.PlanOrderResponse]:
        """``StreamPlanOrders``: one response per request, in order (failed requests carry
        ``error``). A stream is not retried; ``timeout`` None means no deadline."""
        return iter(self.routing.StreamPlanOrders(iter(requests), timeout=timeout))

    def plan_orders(
        self,
        orders: Iterable[Order | order_pb2.Order],
        unfilled_penalty: float | None = None,
        solve_timeout: float | None = None,
        timeout: float | None = None,
        network: Network | None = None,
        *,
        validate_only: bool = False,
    ) -> routing_service_pb2.PlanOrdersResponse:
        """``PlanOrders``: a batch allocated jointly against shared stock and capacity,
        with the lower bound, proof and gap; nothing is held."""
        request = routing_service_pb2.PlanOrdersRequest(
            orders=[_order(o) for o in orders], validate_only=validate_only
        )
        if unfilled_penalty is not None:
            request.unfilled_penalty = unfilled_penalty
        if solve_timeout is not None:
            _duration(solve_timeout, request.timeout)
        if network is not None:
            request.network.CopyFrom(convert.network_to_proto(network))
        return self._call(self.routing.PlanOrders, request, timeout)

    def quote(
        self,
        lines: Iterable[OrderLine | order_pb2.OrderLine],
        destination: Location | network_pb2.Location | None = None,
        pickup_store_id: str = "",
        timeout: float | None = None,
        time: str = "",
        channel: str = "",
    ) -> routing_service_pb2.QuoteDeliveryResponse:
        """``QuoteDelivery``: delivery options (days, price, shipments) for a cart sent to
        ``destination`` or picked up at ``pickup_store_id``; nothing is reserved. ``time``
        (RFC 3339, e.g. now) dates the options as an order placed then; ``channel`` (e.g.
        ``"MARKETPLACE"``, default WEB) whose channel fences apply."""
        request = routing_service_pb2.QuoteDeliveryRequest(
            lines=[_order_line(x) for x in lines],
            pickup_store_id=pickup_store_id,
            channel=network_pb2.Channel.Value(channel.upper() or "CHANNEL_UNSPECIFIED"),
        )
        if time:
            request.time.FromJsonString(time)
        if destination is not None:
            request.destination.CopyFrom(_location(destination))
        return self._call(self.routing.QuoteDelivery, request, timeout)

    def quote_delivery(
        self, request: routing_service_pb2.QuoteDeliveryRequest, timeout: float | None = None
    ) -> routing_service_pb2.QuoteDeliveryResponse:
        """``QuoteDelivery`` with a request built by the caller (see :meth:`quote`)."""
        return self._call(self.routing.QuoteDelivery, request, timeout)

    def availability(
        self,
        sku_ids: Iterable[str],
        store_id: str = "",
        location: Location | network_pb2.Location | None = None,
        max_nodes: int = 0,
        max_pickup_distance_km: float | None = None,
        timeout: float | None = None,
        time: str = "",
        channel: str = "",
    ) -> routing_service_pb2.CheckAvailabilityResponse:
        """``CheckAvailability``: the ways to get ``sku_ids`` from a store and/or to a
        customer ``location`` (in store, pick-up elsewhere, delivery; 0 ``max_nodes``: the
        server's default). Pick-up stores farther than ``max_pickup_distance_km`` are
        offered as delivery (None: the server's default of 50 km; 0: any distance).
        ``time`` (RFC 3339, e.g. now) adds delivery and ready dates; ``channel`` whose
        stock to show (default STORE with a store, else WEB)."""
        request = routing_service_pb2.CheckAvailabilityRequest(
            sku_ids=list(sku_ids),
            store_id=store_id,
            max_nodes=max_nodes,
            channel=network_pb2.Channel.Value(channel.upper() or "CHANNEL_UNSPECIFIED"),
        )
        if time:
            request.time.FromJsonString(time)
        if max_pickup_distance_km is not None:
            request.max_pickup_distance_km = max_pickup_distance_km
        if location is not None:
            request.location.CopyFrom(_location(location))
        return self._call(self.routing.CheckAvailability, request, timeout)

    def check_availability(
        self, request: routing_service_pb2.CheckAvailabilityRequest, timeout: float | None = None
    ) -> routing_service_pb2.CheckAvailabilityResponse:
        """``CheckAvailability`` with a request built by the caller (see :meth:`availability`)."""
        return self._call(self.routing.CheckAvailability, request, timeout)

    def reroute_order(
        self,
        reservation_id: str,
        node_id: str,
        lines: Iterable[ShipmentLine | plan_pb2.ShipmentLine] = (),
        reason: str = "OTHER",
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> routing_service_pb2.OrderPlan:
        """``RerouteOrder``: ``node_id`` rejects its part of a reserved order (``lines``;
        none: all it ships) for ``reason`` (SHORT_PICK, DAMAGED, CAPACITY, OTHER); only the
        missing units are re-planned and held. ``request_id`` is generated when None."""
        request = routing_service_pb2.RerouteOrderRequest(
            reservation_id=reservation_id,
            node_id=node_id,
            lines=[_shipment_line(x) for x in lines],
            reason=routing_service_pb2.RerouteOrderRequest.Reason.Value(reason.upper()),
            request_id=request_id or new_request_id(),
        )
        return self._call(self.routing.RerouteOrder, request, timeout)

    def get_order_plan(
        self, order_id: str, timeout: float | None = None
    ) -> routing_service_pb2.OrderPlan:
        """``GetOrderPlan``: a reserved order's current plan and each shipment's state."""
        return self._call(
            self.routing.GetOrderPlan,
            routing_service_pb2.GetOrderPlanRequest(order_id=order_id),
            timeout,
        )

    def plan_return(
        self,
        lines: Iterable[routing_service_pb2.ReturnLine | tuple[str, int] | tuple[str, int, str]],
        origin: Location | network_pb2.Location | None = None,
        store_id: str = "",
        unit_value: float | None = None,
        request_id: str | None = None,
        timeout: float | None = None,
        order_id: str = "",
    ) -> routing_service_pb2.ReturnPlan:
        """``PlanReturn``: where returned items go, handed in at ``store_id`` or sent from
        ``origin``. A line is a ``ReturnLine`` or ``(sku_id, quantity[, condition])``
        (condition RESALEABLE, the default, or NEEDS_INSPECTION). Stock changes only when
        :meth:`receive_return` is called with the plan's ``return_id``. ``order_id``: the
        reserved order the items came from (the return joins its timeline)."""
        request = routing_service_pb2.PlanReturnRequest(
            lines=[_return_line(x) for x in lines],
            store_id=store_id,
            request_id=request_id or new_request_id(),
            order_id=order_id,
        )
        if origin is not None:
            request.origin.CopyFrom(_location(origin))
        if unit_value is not None:
            request.unit_value = unit_value
        return self._call(self.routing.PlanReturn, request, timeout)

    def receive_return(
        self, return_id: str, timeout: float | None = None
    ) -> inventory_service_pb2.ReceiveReturnResponse:
        """``ReceiveReturn``: the planned return arrived; its units go into stock."""
        return self._call(
            self.inventory.ReceiveReturn,
            inventory_service_pb2.ReceiveReturnRequest(return_id=return_id),
            timeout,
        )

    # ------------------------------------------------------------------------- inbound

    def put_inbound_supply(
        self,
        supplies: Iterable[InboundSupply | network_pb2.InboundSupply],
        request_id: str | None = None,
        validate_only: bool = False,
        timeout: float | None = None,
    ) -> inventory_service_pb2.PutInboundSupplyResponse:
        """``PutInboundSupply``: create or replace supplies in transit by id (quantity 0
        cancels one); dated orders may then be promised their units."""
        request = inventory_service_pb2.PutInboundSupplyRequest(
            supplies=[
                x if isinstance(x, network_pb2.InboundSupply) else convert.inbound_to_proto(x)
                for x in supplies
            ],
            request_id=request_id or new_request_id(),
            validate_only=validate_only,
        )
        return self._call(self.inventory.PutInboundSupply, request, timeout)

    def list_inbound_supply(
        self, node_id: str = "", timeout: float | None = None
    ) -> inventory_service_pb2.ListInboundSupplyResponse:
        """``ListInboundSupply``: the supplies with units in transit (to ``node_id``)."""
        return self._call(
            self.inventory.ListInboundSupply,
            inventory_service_pb2.ListInboundSupplyRequest(node_id=node_id),
            timeout,
        )

    def receive_inbound_supply(
        self,
        supply_id: str,
        quantity: int,
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> inventory_service_pb2.ReceiveInboundSupplyResponse:
        """``ReceiveInboundSupply``: ``quantity`` units of the supply arrived."""
        request = inventory_service_pb2.ReceiveInboundSupplyRequest(
            supply_id=supply_id, quantity=quantity, request_id=request_id or new_request_id()
        )
        return self._call(self.inventory.ReceiveInboundSupply, request, timeout)

    # ------------------------------------------------------------------------- order life

    def confirm_shipment(
        self,
        order_id: str,
        node_id: str,
        tracking_number: str,
        lines: Iterable[tuple[str, int]] = (),
        carrier: str = "",
        ship_time: float | None = None,
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> order_service_pb2.OrderStatus:
        """``ConfirmShipment``: ``node_id`` shipped ``lines`` ((line id, units); empty: all
        it holds for the order) under ``tracking_number`` (``ship_time``: Unix seconds,
        default now)."""
        request = order_service_pb2.ConfirmShipmentRequest(
            order_id=order_id,
            node_id=node_id,
            lines=[plan_pb2.ShipmentLine(line_id=i, quantity=q) for i, q in lines],
            carrier=carrier,
            tracking_number=tracking_number,
            request_id=request_id or new_request_id(),
        )
        if ship_time is not None:
            request.ship_time.FromNanoseconds(int(ship_time * 1e9))
        return self._call(self.orders.ConfirmShipment, request, timeout)

    def confirm_delivery(
        self,
        order_id: str,
        tracking_number: str,
        delivery_time: float | None = None,
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> order_service_pb2.OrderStatus:
        """``ConfirmDelivery``: the shipment with ``tracking_number`` arrived."""
        request = order_service_pb2.ConfirmDeliveryRequest(
            order_id=order_id,
            tracking_number=tracking_number,
            request_id=request_id or new_request_id(),
        )
        if delivery_time is not None:
            request.delivery_time.FromNanoseconds(int(delivery_time * 1e9))
        return self._call(self.orders.ConfirmDelivery, request, timeout)

    def cancel_order(
        self,
        order_id: str,
        line_ids: Iterable[str] = (),
        reason: str = "",
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> order_service_pb2.OrderStatus:
        """``CancelOrder``: cancel ``line_ids`` (empty: the whole order); the units not yet
        shipped are released."""
        request = order_service_pb2.CancelOrderRequest(
            order_id=order_id,
            line_ids=list(line_ids),
            reason=reason,
            request_id=request_id or new_request_id(),
        )
        return self._call(self.orders.CancelOrder, request, timeout)

    def get_order_status(
        self, order_id: str, timeout: float | None = None
    ) -> order_service_pb2.OrderStatus:
        """``GetOrderStatus``: the order's units by state, shipments and timeline."""
        return self._call(
            self.orders.GetOrderStatus,
            order_service_pb2.GetOrderStatusRequest(order_id=order_id),
            timeout,
        )

    def list_orders(
        self,
        customer_id: str = "",
        node_id: str = "",
        state: str = "",
        page_size: int = 0,
        page_token: str = "",
        timeout: float | None = None,
    ) -> order_service_pb2.ListOrdersResponse:
        """``ListOrders``: one page of a customer's orders or a node's (``state``: a name
        such as ``"RESERVED"``, default any)."""
        request = order_service_pb2.ListOrdersRequest(
            customer_id=customer_id,
            node_id=node_id,
            state=order_service_pb2.OrderState.Value(
                state.upper() if state else "ORDER_STATE_UNSPECIFIED"
            ),
            page_size=page_size,
            page_token=page_token,
        )
        return self._call(self.orders.ListOrders, request, timeout)

    # ------------------------------------------------------------------------- reservations

    def commit_reservation(
        self, reservation_id: str, timeout: float | None = None
    ) -> inventory_service_pb2.Reservation:
        """``CommitReservation``: the order shipped; on-hand goes down by the held units."""
        return self._call(
            self.inventory.CommitReservation,
            inventory_service_pb2.CommitReservationRequest(reservation_id=reservation_id),
            timeout,
        )

    def release_reservation(
        self, reservation_id: str, timeout: float | None = None
    ) -> inventory_service_pb2.Reservation:
        """``ReleaseReservation``: the order was cancelled; the held units are available."""
        return self._call(
            self.inventory.ReleaseReservation,
            inventory_service_pb2.ReleaseReservationRequest(reservation_id=reservation_id),
            timeout,
        )

    def get_reservation(
        self, reservation_id: str, timeout: float | None = None
    ) -> inventory_service_pb2.Reservation:
        """``GetReservation``: a reservation's state, lines and times."""
        return self._call(
            self.inventory.GetReservation,
            inventory_service_pb2.GetReservationRequest(reservation_id=reservation_id),
            timeout,
        )

    def watch_events(
        self,
        after_cursor: int = 0,
        types: Iterable[str] = (),
        stop_at_end: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """``WatchEvents``: the ledger's events after ``after_cursor`` (0: from the first),
        oldest first, then new ones as they commit; only ``types`` (names such as
        ``"RESERVATION_HELD"``) when given; with ``stop_at_end`` the stream ends once caught
        up. Returns the call: iterate it for ``Event`` messages, ``cancel()`` it to stop. A
        stream is not retried: after an error (UNAVAILABLE when the server drains) call again
        with the last ``Event.cursor`` received. ``timeout`` None means no deadline."""
        request = inventory_service_pb2.WatchEventsRequest(
            after_cursor=after_cursor,
            types=[inventory_service_pb2.Event.Type.Value(t) for t in types],
            stop_at_end=stop_at_end,
        )
        return self.inventory.WatchEvents(request, timeout=timeout)

    # ------------------------------------------------------------------------- network, stock

    def put_demand_forecast(
        self,
        forecast: dict[str, Any],
        theta: float | None = None,
        validate_only: bool = False,
        timeout: float | None = None,
    ) -> network_service_pb2.PutDemandForecastResponse:
        """``PutDemandForecast``: the forecast (its proto3 JSON) for look-ahead routing."""
        from google.protobuf import json_format

        request = network_service_pb2.PutDemandForecastRequest(validate_only=validate_only)
        json_format.ParseDict(forecast, request.forecast)
        if theta is not None:
            request.theta = theta
        return self._call(self.network.PutDemandForecast, request, timeout)

    def put_network(
        self,
        network: Network | network_pb2.Network,
        validate_only: bool = False,
        timeout: float | None = None,
    ) -> network_service_pb2.PutNetworkResponse:
        """``PutNetwork``: replace the served network and its stock (validated first)."""
        message = convert.network_to_proto(network) if isinstance(network, Network) else network
        return self._call(
            self.network.PutNetwork,
            network_service_pb2.PutNetworkRequest(network=message, validate_only=validate_only),
            timeout,
        )

    def get_network(
        self, include_stock: bool = False, timeout: float | None = None
    ) -> network_pb2.Network:
        """``GetNetwork``: the served network, with its stock when ``include_stock``."""
        return self._call(
            self.network.GetNetwork,
            network_service_pb2.GetNetworkRequest(include_stock=include_stock),
            timeout,
        )

    def update_stock(
        self,
        updates: inventory_service_pb2.UpdateStockRequest
        | Iterable[inventory_service_pb2.StockUpdate],
        request_id: str | None = None,
        validate_only: bool = False,
        timeout: float | None = None,
    ) -> inventory_service_pb2.UpdateStockResponse:
        """``UpdateStock``: set or add to on-hand and set safety stock, all or nothing.

        ``updates`` is a whole request (sent as it is) or the ``StockUpdate`` messages, for
        which a request id is generated when ``request_id`` is None (a retry then never
        applies a delta twice)."""
        if isinstance(updates, inventory_service_pb2.UpdateStockRequest):
            request = updates
        else:
            request = inventory_service_pb2.UpdateStockRequest(
                updates=list(updates),
                request_id=request_id or new_request_id(),
                validate_only=validate_only,
            )
        return self._call(self.inventory.UpdateStock, request, timeout)

    def get_stock(
        self,
        sku_ids: Iterable[str] = (),
        node_ids: Iterable[str] = (),
        timeout: float | None = None,
    ) -> inventory_service_pb2.GetStockResponse:
        """``GetStock``: positions (onHand, reserved, safetyStock, atp) of these SKUs at
        these nodes (empty: all)."""
        return self._call(
            self.inventory.GetStock,
            inventory_service_pb2.GetStockRequest(sku_ids=list(sku_ids), node_ids=list(node_ids)),
            timeout,
        )

    def list_stock_positions(
        self, filter: str = "", page_size: int = 0, timeout: float | None = None
    ) -> Iterator[network_pb2.StockPosition]:
        """``ListStockPositions``, every page: the positions matching ``filter`` (e.g.
        ``'sku_id = "TEE-0001" AND atp > 0'``), by node then SKU; each page is one call."""
        token = ""
        while True:
            page = self._call(
                self.inventory.ListStockPositions,
                inventory_service_pb2.ListStockPositionsRequest(
                    page_size=page_size, page_token=token, filter=filter
                ),
                timeout,
            )
            yield from page.stock_positions
            token = page.next_page_token
            if not token:
                return

    # ------------------------------------------------------------------------- scenarios

    def start_scenario(
        self,
        orders: Iterable[Order | order_pb2.Order],
        changes: scenario_service_pb2.ScenarioChanges | Mapping[str, Any] | None = None,
        mode: str = "SEQUENTIAL",
        display_name: str = "",
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> operations_pb2.Operation:
        """``StartScenario``: replay ``orders`` against the served network changed by
        ``changes`` (a ``ScenarioChanges`` or its JSON form, e.g. ``{"closeNodes":
        ["DC-SYD"]}``) as a long-running operation; see :meth:`wait_for_scenario`.
        ``request_id`` (generated when None) makes a retry return the same operation."""
        request = scenario_service_pb2.StartScenarioRequest(
            orders=[_order(o) for o in orders],
            mode=scenario_service_pb2.StartScenarioRequest.Mode.Value(mode.upper()),
            display_name=display_name,
            request_id=request_id or new_request_id(),
        )
        if isinstance(changes, scenario_service_pb2.ScenarioChanges):
            request.changes.CopyFrom(changes)
        elif changes is not None:
            json_format.ParseDict(dict(changes), request.changes)
        return self._call(self.scenarios.StartScenario, request, timeout)

    def get_operation(self, name: str, timeout: float | None = None) -> operations_pb2.Operation:
        """``Operations.GetOperation``: an operation as it stands."""
        return self._call(
            self.operations.GetOperation, operations_pb2.GetOperationRequest(name=name), timeout
        )

    def cancel_operation(self, name: str, timeout: float | None = None) -> None:
        """``Operations.CancelOperation``: ask a running scenario to stop."""
        self._call(
            self.operations.CancelOperation,
            operations_pb2.CancelOperationRequest(name=name),
            timeout,
        )

    def wait_for_scenario(
        self, operation: operations_pb2.Operation | str, timeout: float = 600.0
    ) -> scenario_service_pb2.ScenarioKpis:
        """Wait until the scenario is done (``Operations.WaitOperation`` calls of up to 30 s
        each) and return its KPIs; :class:`OperationFailed` when it failed or
        was cancelled, :class:`TimeoutError` when not done within ``timeout`` seconds."""
        name = operation if isinstance(operation, str) else operation.name
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            wait = min(30.0, max(0.0, left))
            request = operations_pb2.WaitOperationRequest(name=name)
            request.timeout.FromNanoseconds(int(wait * 1e9))
            done = self._call(self.operations.WaitOperation, request, wait + self.timeout)
            if done.done:
                if done.HasField("error"):
                    raise OperationFailed(name, done.error)
                kpis = scenario_service_pb2.ScenarioKpis()
                done.response.Unpack(kpis)
                return kpis
            if left <= 0:
                raise TimeoutError(f"scenario {name} is not done after {timeout:g} s")

    def run_scenario(
        self,
        orders: Iterable[Order | order_pb2.Order],
        changes: scenario_service_pb2.ScenarioChanges | Mapping[str, Any] | None = None,
        mode: str = "SEQUENTIAL",
        display_name: str = "",
        timeout: float = 600.0,
    ) -> scenario_service_pb2.ScenarioKpis:
        """:meth:`start_scenario` then :meth:`wait_for_scenario`: the scenario's KPIs."""
        started = self.start_scenario(orders, changes, mode, display_name)
        return self.wait_for_scenario(started, timeout)
