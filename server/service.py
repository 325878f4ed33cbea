"""gRPC servicers: each method converts the request, calls the engine, converts the result.

Failures are raised, not handled here: the interceptor in ``server.interceptors`` maps every
exception to its status in one place (``server.errors``).

Planning runs in a small thread pool so that the event loop stays responsive (health checks,
cancellations); CP-SAT releases the GIL while it searches. Every solve gets a budget: the
smaller of the request's ``timeout`` and the RPC deadline (less a margin to answer), and it
is cancelled when the caller goes away.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from omniroute.v1 import (
    inventory_service_pb2,
    inventory_service_pb2_grpc,
    network_pb2,
    network_service_pb2,
    network_service_pb2_grpc,
    order_pb2,
    plan_pb2,
    routing_service_pb2,
    routing_service_pb2_grpc,
)

from omniroute.availability import availability
from omniroute.budget import Budget, SolverNeeded
from omniroute.joint import DEFAULT_UNFILLED_PENALTY, allocate
from omniroute.model import (
    FieldViolation,
    Order,
    OrderLine,
    PlanResult,
    Policy,
    Reservation,
    ReservationLine,
    ValidationError,
)
from omniroute.optimizer import DEFAULT_TIME_LIMIT
from omniroute.planner import Planner
from omniroute.reroute import Reroute, reroute
from omniroute.returns import DEFAULT_UNIT_VALUE, plan_return
from omniroute.validation import network_violations, order_violations, orders_violations
from omniroute.server import convert
from omniroute.server.batching import MicroBatcher
from omniroute.server.errors import Aborted, DeadlineExceeded, to_status
from omniroute.server.live import LiveNetwork
from omniroute.server.metrics import Metrics
from omniroute.server.store import DEFAULT_TTL, Shortage, Store

log = logging.getLogger("omniroute.server")
T = TypeVar("T")
M = TypeVar("M", bound=Message)

ANSWER_MARGIN = 0.005  # seconds kept back from the deadline to send the answer
RESERVE_ATTEMPTS = 4  # plan-and-hold attempts before ABORTED
STREAM_WINDOW = 64  # requests in progress per StreamPlanOrders stream
INLINE_NETWORKS = 8  # planners kept for requests that carry their own network


class Engine:
    """What the servicers share in one process: the live network, a thread pool, metrics."""

    def __init__(
        self, store: Store, metrics: Metrics, threads: int = 2, reservation_ttl: float = DEFAULT_TTL
    ) -> None:
        self.store = store
        self.reservation_ttl = reservation_ttl
        self.batcher: MicroBatcher | None = None  # set by the server when micro-batching
        self.live = LiveNetwork(store)
        self.metrics = metrics
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="plan")
        self._inline: OrderedDict[bytes, Planner] = OrderedDict()

    async def run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn)

    def inline_planner(self, message: network_pb2.Network) -> Planner:
        """A planner for a network sent with the request (validated; cached by content)."""
        key = message.SerializeToString(deterministic=True)
        planner = self._inline.get(key)
        if planner is None:
            network, violations = convert.network_from_proto(message)
            violations += network_violations(network)
            if violations:
                raise ValidationError(
                    [FieldViolation(f"network.{v.field}", v.description) for v in violations],
                    "network",
                )
            planner = Planner(network)
            self._inline[key] = planner
            if len(self._inline) > INLINE_NETWORKS:
                self._inline.popitem(last=False)
        else:
            self._inline.move_to_end(key)
        return planner

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def budget_for(timeout: object, has_timeout: bool, context: grpc.aio.ServicerContext) -> Budget:
    """The solve budget: the smaller of the request timeout and the RPC deadline."""
    seconds = DEFAULT_TIME_LIMIT
    if has_timeout:
        seconds = min(seconds, timeout.ToTimedelta().total_seconds())  # type: ignore[attr-defined]
    remaining = context.time_remaining()
    if remaining is not None:
        if remaining <= ANSWER_MARGIN:
            raise DeadlineExceeded("DEADLINE_TOO_SHORT", "the call's deadline has passed")
        seconds = min(seconds, remaining - ANSWER_MARGIN)
    return Budget(seconds)


def _timeout_violations(message: object, has_timeout: bool) -> list[FieldViolation]:
    if has_timeout and message.ToTimedelta().total_seconds() <= 0:  # type: ignore[attr-defined]
        return [FieldViolation("timeout", "must be positive")]
    return []


class OmnichannelFlows:
    """RerouteOrder, GetOrderPlan and PlanReturn (mixed into the routing servicer)."""

    engine: Engine

    async def RerouteOrder(
        self, request: routing_service_pb2.RerouteOrderRequest, context: grpc.aio.ServicerContext
    ) -> routing_service_pb2.OrderPlan:
        violations = []
        for field, value in (
            ("reservationId", request.reservation_id),
            ("nodeId", request.node_id),
            ("requestId", request.request_id),
        ):
            if not value:
                violations.append(FieldViolation(field, "is required"))
        if request.reason not in routing_service_pb2.RerouteOrderRequest.Reason.values():
            violations.append(FieldViolation("reason", f"unknown reason {request.reason}"))
        for i, line in enumerate(request.lines):
            if not line.line_id or line.quantity <= 0:
                violations.append(
                    FieldViolation(f"lines[{i}]", "needs a lineId and a positive quantity")
                )
        if violations:
            raise ValidationError(violations, "RerouteOrderRequest")
        return await self.engine.run(lambda: self._reroute(request))

    def _reroute(
        self, request: routing_service_pb2.RerouteOrderRequest
    ) -> routing_service_pb2.OrderPlan:
        store, live = self.engine.store, self.engine.live
        fingerprint = request.SerializeToString(deterministic=True)
        stored = store.find_request(request.request_id, "RerouteOrder", fingerprint)
        if stored is not None:
            return _unblob(routing_service_pb2.OrderPlan, stored)
        record = store.order_record(reservation_id=request.reservation_id)
        order = convert.order_from_proto(_unblob(order_pb2.Order, str(record["order_blob"])))
        plan = convert.plan_from_proto(_unblob(plan_pb2.Plan, str(record["plan_blob"])))
        rejections = list(record["rejections"])  # type: ignore[arg-type]
        avoid = [r["node_id"] for r in rejections]
        rejected: dict[str, int] = {}
        for line in request.lines:
            rejected[line.line_id] = rejected.get(line.line_id, 0) + line.quantity
        reason = routing_service_pb2.RerouteOrderRequest.Reason.Name(request.reason)
        for _ in range(RESERVE_ATTEMPTS):
            result = reroute(live.planner(), order, plan, request.node_id, rejected, avoid)
            rejection = {
                "node_id": request.node_id,
                "reason": reason,
                "lines": sorted(result.rejected.items()),
            }
            rerouted = sorted(set(record["rerouted"]) | result.rerouted)  # type: ignore[arg-type]

            def answer(
                result: Reroute = result,
                rerouted: list[str] = rerouted,
                rejection: dict = rejection,
            ) -> str:
                return _blob(
                    convert.order_plan_to_proto(
                        order.id,
                        request.reservation_id,
                        result.plan,
                        "HELD",
                        rerouted,
                        [*rejections, rejection],
                    )
                )

            try:
                text = store.reroute(
                    request.reservation_id,
                    request.request_id,
                    fingerprint,
                    result.release,
                    result.hold,
                    _blob(convert.plan_to_proto(result.plan)),
                    sorted(result.rerouted),
                    rejection,
                    answer,
                )
            except Shortage:
                live.refresh(force=True)
                continue
            live.refresh(force=True)
            return _unblob(routing_service_pb2.OrderPlan, text)
        raise Aborted(
            "STOCK_CHANGED",
            "stock changed while re-routing; retry the call",
            {"reservationId": request.reservation_id},
        )

    async def GetOrderPlan(
        self, request: routing_service_pb2.GetOrderPlanRequest, context: grpc.aio.ServicerContext
    ) -> routing_service_pb2.OrderPlan:
        if not request.order_id:
            raise ValidationError([FieldViolation("orderId", "is required")], "GetOrderPlanRequest")

        def read() -> routing_service_pb2.OrderPlan:
            record = self.engine.store.order_record(order_id=request.order_id)
            reservation = self.engine.store.get_reservation(str(record["reservation_id"]))
            plan = convert.plan_from_proto(_unblob(plan_pb2.Plan, str(record["plan_blob"])))
            return convert.order_plan_to_proto(
                request.order_id,
                reservation.id,
                plan,
                reservation.state,
                record["rerouted"],
                record["rejections"],
            )  # type: ignore[arg-type]

        return await self.engine.run(read)

    async def PlanReturn(
        self, request: routing_service_pb2.PlanReturnRequest, context: grpc.aio.ServicerContext
    ) -> routing_service_pb2.ReturnPlan:
        planner = self.engine.live.planner()
        index = planner.index
        violations = []
        if not request.lines:
            violations.append(FieldViolation("lines", "at least one line is required"))
        for i, line in enumerate(request.lines):
            if line.sku_id not in index.sku_pos:
                violations.append(
                    FieldViolation(f"lines[{i}].skuId", f"unknown SKU {line.sku_id!r}")
                )
            if line.quantity <= 0:
                violations.append(FieldViolation(f"lines[{i}].quantity", "must be > 0"))
        if request.store_id:
            node = index.nodes_by_id.get(request.store_id)
            if node is None or node.kind.value != "STORE":
                violations.append(FieldViolation("storeId", f"{request.store_id!r} is not a store"))
        elif not request.HasField("origin"):
            violations.append(FieldViolation("origin", "is required (or give storeId)"))
        if request.unit_value < 0:
            violations.append(FieldViolation("unitValue", "must be >= 0"))
        if not request.request_id:
            violations.append(FieldViolation("requestId", "is required (AIP-155)"))
        if violations:
            raise ValidationError(violations, "PlanReturnRequest")
        items = [convert.return_item_from_proto(line) for line in request.lines]
        origin = convert.location_from_proto(request.origin) if request.HasField("origin") else None
        legs = await self.engine.run(
            lambda: plan_return(
                index,
                planner.inventory,
                items,
                origin,
                request.store_id,
                request.unit_value or DEFAULT_UNIT_VALUE,
            )
        )
        return_id, stored = await self.engine.run(
            lambda: self.engine.store.plan_return(
                request.request_id,
                request.SerializeToString(deterministic=True),
                convert.return_legs_to_json(legs),
            )
        )
        return convert.return_plan_from_json(return_id, stored)


class RoutingServicer(OmnichannelFlows, routing_service_pb2_grpc.RoutingServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------------- PlanOrder

    async def PlanOrder(
        self, request: routing_service_pb2.PlanOrderRequest, context: grpc.aio.ServicerContext
    ) -> plan_pb2.PlanOrderResponse:
        return await self._plan(request, context)

    async def StreamPlanOrders(
        self,
        request_iterator: AsyncIterator[routing_service_pb2.PlanOrderRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[plan_pb2.PlanOrderResponse]:
        # Requests are planned as they arrive (a slow one does not hold up the next) and
        # answered in order; at most STREAM_WINDOW are in progress per stream.
        pending: asyncio.Queue[asyncio.Future[plan_pb2.PlanOrderResponse] | None] = asyncio.Queue(
            maxsize=STREAM_WINDOW
        )

        async def answer(
            request: routing_service_pb2.PlanOrderRequest,
        ) -> plan_pb2.PlanOrderResponse:
            try:
                return await self._plan(request, context)
            except Exception as error:  # this request fails; the stream goes on
                return plan_pb2.PlanOrderResponse(order_id=request.order.id, error=to_status(error))

        async def read() -> None:
            try:
                async for request in request_iterator:
                    await pending.put(asyncio.ensure_future(answer(request)))
            finally:
                await pending.put(None)

        reader = asyncio.ensure_future(read())
        try:
            while (future := await pending.get()) is not None:
                yield await future
        finally:
            reader.cancel()

    async def PlanOrders(
        self, request: routing_service_pb2.PlanOrdersRequest, context: grpc.aio.ServicerContext
    ) -> routing_service_pb2.PlanOrdersResponse:
        planner = (
            self.engine.inline_planner(request.network)
            if request.HasField("network")
            else self.engine.live.planner()
        )
        orders = [convert.order_from_proto(o) for o in request.orders]
        violations = [
            FieldViolation(f"orders{v.field[len('orders') :]}", v.description)
            for v in orders_violations(orders, planner.index.network)
        ]
        if not orders:
            violations.append(FieldViolation("orders", "at least one order is required"))
        if request.unfilled_penalty < 0:
            violations.append(FieldViolation("unfilledPenalty", "must be >= 0"))
        violations += _timeout_violations(request.timeout, request.HasField("timeout"))
        if violations:
            raise ValidationError(violations, "PlanOrdersRequest")
        if request.validate_only:
            return routing_service_pb2.PlanOrdersResponse()
        budget = budget_for(request.timeout, request.HasField("timeout"), context)
        penalty = request.unfilled_penalty or DEFAULT_UNFILLED_PENALTY
        result = await self.engine.run(
            lambda: allocate(orders, planner, penalty, time_limit=max(0.5, budget.remaining()))
        )
        return convert.joint_to_proto(result)

    async def _plan(
        self, request: routing_service_pb2.PlanOrderRequest, context: grpc.aio.ServicerContext
    ) -> plan_pb2.PlanOrderResponse:
        planner = (
            self.engine.inline_planner(request.network)
            if request.HasField("network")
            else self.engine.live.planner()
        )
        order = convert.order_from_proto(request.order)
        if request.HasField("order"):
            violations = [
                FieldViolation(f"order.{v.field}", v.description)
                for v in order_violations(order, planner.index.lookup)
            ]
        else:
            violations = [FieldViolation("order", "is required")]
        violations += _timeout_violations(request.timeout, request.HasField("timeout"))
        if request.policy not in plan_pb2.Policy.values():
            violations.append(FieldViolation("policy", f"unknown policy {request.policy}"))
        if request.reserve and not request.request_id:
            violations.append(FieldViolation("requestId", "is required with reserve (AIP-155)"))
        if request.reserve and request.HasField("network"):
            violations.append(
                FieldViolation(
                    "network", "reserve holds the server's stock: send no inline network with it"
                )
            )
        if violations:
            raise ValidationError(violations, "PlanOrderRequest")
        if request.validate_only:
            return plan_pb2.PlanOrderResponse(order_id=order.id)
        policy = convert.policy_from_proto(request.policy)
        budget = budget_for(request.timeout, request.HasField("timeout"), context)
        context.add_done_callback(lambda _: budget.cancel())

        def plan(planner: Planner) -> PlanResult:
            result = planner.plan(
                order,
                policy,
                include_options=request.include_options,
                explain=request.include_explanation,
                budget=budget,
            )
            self.engine.metrics.observe_plan(result)
            return result

        if request.reserve:
            return await self.engine.run(lambda: self._plan_and_reserve(request, order, plan))
        batcher = self.engine.batcher
        if (
            batcher is not None
            and policy is Policy.CHEAPEST
            and not request.include_options
            and not request.include_explanation
            and not request.HasField("network")
        ):
            return convert.result_to_proto(await batcher.plan(order))
        # Plan on the event loop: the fast paths take well under a millisecond and a thread
        # hop would cost more (GIL hand-over). Orders that need a longer search (a large DP,
        # enumeration, CP-SAT) are planned again on the pool, so the loop stays responsive.
        budget.inline = True
        try:
            result = plan(planner)
        except SolverNeeded:
            budget.inline = False
            result = await self.engine.run(lambda: plan(planner))
        return convert.result_to_proto(result)

    def _plan_and_reserve(
        self,
        request: routing_service_pb2.PlanOrderRequest,
        order: Order,
        plan: Callable[[Planner], PlanResult],
    ) -> plan_pb2.PlanOrderResponse:
        """Plan on current ATP and hold the plan atomically; on a shortage (ATP changed since
        planning) refresh and re-plan, a bounded number of times. Retries of the same request
        id return the first response."""
        store, live = self.engine.store, self.engine.live
        same = routing_service_pb2.PlanOrderRequest()
        same.CopyFrom(request)
        same.ClearField("timeout")  # a retry may wait longer; it is still the same request
        fingerprint = same.SerializeToString(deterministic=True)
        stored = store.find_request(request.request_id, "PlanOrder", fingerprint)
        if stored is not None:
            return plan_pb2.PlanOrderResponse.FromString(base64.b64decode(stored))
        for _ in range(RESERVE_ATTEMPTS):
            result = plan(live.planner())
            response = convert.result_to_proto(result)
            if not result.plan.shipments:
                return response  # nothing to hold
            lines = [
                ReservationLine(s.node_id, line.sku_id, line.quantity)
                for s in result.plan.shipments
                for line in s.lines
            ]

            def answer(reservation_id: str, response: plan_pb2.PlanOrderResponse = response) -> str:
                response.reservation_id = reservation_id
                return base64.b64encode(response.SerializeToString()).decode()

            try:
                text = store.reserve(
                    request.request_id,
                    fingerprint,
                    order.id,
                    lines,
                    self.engine.reservation_ttl,
                    answer,
                    order_blob=_blob(request.order),
                    plan_blob=_blob(response.plan),
                )
            except Shortage:
                live.refresh(force=True)
                continue
            live.refresh(force=True)
            return plan_pb2.PlanOrderResponse.FromString(base64.b64decode(text))
        raise Aborted(
            "STOCK_CHANGED",
            f"stock changed while planning {RESERVE_ATTEMPTS} times in a row; retry the call",
            {"orderId": order.id},
        )

    # ------------------------------------------------------------------------- QuoteDelivery

    async def QuoteDelivery(
        self, request: routing_service_pb2.QuoteDeliveryRequest, context: grpc.aio.ServicerContext
    ) -> routing_service_pb2.QuoteDeliveryResponse:
        planner = (
            self.engine.inline_planner(request.network)
            if request.HasField("network")
            else self.engine.live.planner()
        )
        order = Order(
            id="quote",
            lines=tuple(
                OrderLine(line.id or str(i + 1), line.sku_id, line.quantity)
                for i, line in enumerate(request.lines)
            ),
            destination=(
                convert.location_from_proto(request.destination)
                if request.HasField("destination")
                else None
            ),
            pickup_store_id=request.pickup_store_id,
        )
        violations = order_violations(order, planner.index.lookup)
        violations = [
            FieldViolation(
                v.field.replace("id", "lines") if v.field == "id" else v.field, v.description
            )
            for v in violations
        ]
        violations += _timeout_violations(request.timeout, request.HasField("timeout"))
        if violations:
            raise ValidationError(violations, "QuoteDeliveryRequest")
        budget = budget_for(request.timeout, request.HasField("timeout"), context)
        context.add_done_callback(lambda _: budget.cancel())
        result: PlanResult = await self.engine.run(
            lambda: planner.plan(order, include_options=True, budget=budget)
        )
        self.engine.metrics.observe_plan(result)
        return convert.quote_to_proto(result)

    # ------------------------------------------------------------------------- CheckAvailability

    async def CheckAvailability(
        self,
        request: routing_service_pb2.CheckAvailabilityRequest,
        context: grpc.aio.ServicerContext,
    ) -> routing_service_pb2.CheckAvailabilityResponse:
        planner = (
            self.engine.inline_planner(request.network)
            if request.HasField("network")
            else self.engine.live.planner()
        )
        return await self.engine.run(lambda: check_availability(planner, request))


def check_availability(
    planner: Planner, request: routing_service_pb2.CheckAvailabilityRequest
) -> routing_service_pb2.CheckAvailabilityResponse:
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
    if request.max_nodes < 0:
        violations.append(FieldViolation("maxNodes", "must be >= 0"))
    if violations:
        raise ValidationError(violations, "CheckAvailabilityRequest")
    location = (
        convert.location_from_proto(request.location) if request.HasField("location") else None
    )
    found = availability(
        planner, list(request.sku_ids), request.store_id, location, request.max_nodes or 20
    )
    return convert.availability_to_proto(found)


def _blob(message: Message) -> str:
    return base64.b64encode(message.SerializeToString(deterministic=True)).decode()


def _unblob(cls: type[M], text: str) -> M:
    return cls.FromString(base64.b64decode(text))


def _require_reservation_id(reservation_id: str) -> None:
    if not reservation_id:
        raise ValidationError([FieldViolation("reservationId", "is required")], "request")


class NetworkServicer(network_service_pb2_grpc.NetworkServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def PutNetwork(
        self, request: network_service_pb2.PutNetworkRequest, context: grpc.aio.ServicerContext
    ) -> network_service_pb2.PutNetworkResponse:
        network, violations = convert.network_from_proto(request.network)
        violations += network_violations(network)
        if not request.HasField("network"):
            violations = [FieldViolation("network", "is required")]
        if violations:
            raise ValidationError(
                [FieldViolation(f"network.{v.field}", v.description) for v in violations], "network"
            )
        response = network_service_pb2.PutNetworkResponse(
            nodes=len(network.nodes), skus=len(network.skus), stock_positions=len(network.stock)
        )
        if request.validate_only:
            return response
        version = await self.engine.run(lambda: self.engine.store.put_network(network))
        self.engine.live.refresh(force=True)
        response.version = str(version)
        return response

    async def GetNetwork(
        self, request: network_service_pb2.GetNetworkRequest, context: grpc.aio.ServicerContext
    ) -> network_pb2.Network:
        network = self.engine.live.planner().index.network
        if request.include_stock:
            positions = await self.engine.run(lambda: self.engine.store.get_stock())
            message = convert.network_to_proto(network)
            del message.stock[:]
            message.stock.extend(convert.position_to_proto(p) for p in positions)
            return message
        message = convert.network_to_proto(network)
        del message.stock[:]
        return message


class InventoryServicer(inventory_service_pb2_grpc.InventoryServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def UpdateStock(
        self, request: inventory_service_pb2.UpdateStockRequest, context: grpc.aio.ServicerContext
    ) -> inventory_service_pb2.UpdateStockResponse:
        self.engine.live.planner()  # a network must exist
        changes = [convert.stock_change_from_proto(u) for u in request.updates]
        if not changes:
            raise ValidationError(
                [FieldViolation("updates", "at least one update is required")], "UpdateStockRequest"
            )
        positions = await self.engine.run(
            lambda: self.engine.store.update_stock(
                changes,
                validate_only=request.validate_only,
                request_id=request.request_id,
                fingerprint=request.SerializeToString(deterministic=True),
            )
        )
        if not request.validate_only:
            self.engine.live.refresh(force=True)
        return inventory_service_pb2.UpdateStockResponse(
            positions=[convert.position_to_proto(p) for p in positions]
        )

    async def CommitReservation(
        self,
        request: inventory_service_pb2.CommitReservationRequest,
        context: grpc.aio.ServicerContext,
    ) -> inventory_service_pb2.Reservation:
        return await self._settle(request.reservation_id, self.engine.store.commit)

    async def ReleaseReservation(
        self,
        request: inventory_service_pb2.ReleaseReservationRequest,
        context: grpc.aio.ServicerContext,
    ) -> inventory_service_pb2.Reservation:
        return await self._settle(request.reservation_id, self.engine.store.release)

    async def _settle(
        self, reservation_id: str, settle: Callable[[str], Reservation]
    ) -> inventory_service_pb2.Reservation:
        _require_reservation_id(reservation_id)
        reservation = await self.engine.run(lambda: settle(reservation_id))
        self.engine.live.refresh(force=True)
        return convert.reservation_to_proto(reservation)

    async def GetReservation(
        self,
        request: inventory_service_pb2.GetReservationRequest,
        context: grpc.aio.ServicerContext,
    ) -> inventory_service_pb2.Reservation:
        _require_reservation_id(request.reservation_id)
        reservation = await self.engine.run(
            lambda: self.engine.store.get_reservation(request.reservation_id)
        )
        return convert.reservation_to_proto(reservation)

    async def ReceiveReturn(
        self, request: inventory_service_pb2.ReceiveReturnRequest, context: grpc.aio.ServicerContext
    ) -> inventory_service_pb2.ReceiveReturnResponse:
        if not request.return_id:
            raise ValidationError(
                [FieldViolation("returnId", "is required")], "ReceiveReturnRequest"
            )
        positions = await self.engine.run(
            lambda: self.engine.store.receive_return(request.return_id)
        )
        self.engine.live.refresh(force=True)
        return inventory_service_pb2.ReceiveReturnResponse(
            positions=[convert.position_to_proto(p) for p in positions]
        )

    async def GetStock(
        self, request: inventory_service_pb2.GetStockRequest, context: grpc.aio.ServicerContext
    ) -> inventory_service_pb2.GetStockResponse:
        self.engine.live.planner()
        positions = await self.engine.run(
            lambda: self.engine.store.get_stock(list(request.sku_ids), list(request.node_ids))
        )
        return inventory_service_pb2.GetStockResponse(
            positions=[convert.position_to_proto(p) for p in positions]
        )
