"""RoutingService: each method reads its request into a command, runs it in the application
layer and converts the result (``omniroute.server.requests`` -> ``application`` ->
``convert``). Failures are raised; the interceptor maps them to a status
(``omniroute.server.errors``).

PlanOrder calls and StreamPlanOrders messages may be planned by another worker process
(``omniroute.server.dispatch``): the request goes there as bytes with the call's deadline,
and that process's answer (a serialized response, or the status of its failure) is returned
unchanged."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from omniroute.budget import Budget
from omniroute.server import convert, requests
from omniroute.server.application import Application, PlannedOrder
from omniroute.server.auth import CALLER, ROUTING, changes_state, require
from omniroute.server.dispatch import Dispatcher, PeerGone
from omniroute.server.errors import to_status
from omniroute.server.interceptors import audit_call
from omniroute.v1 import plan_pb2, routing_service_pb2, routing_service_pb2_grpc

STREAM = f"{ROUTING}/StreamPlanOrders"

STREAM_WINDOW = 64  # requests in progress per StreamPlanOrders stream
# Trailing metadata of PlanOrder: the process ids of the worker that holds the connection
# and of the one that planned the call (another one when it was forwarded).
SERVED_BY, PLANNED_BY = "omniroute-served-by", "omniroute-planned-by"
PID = str(os.getpid())


class PlannedElsewhere(Exception):
    """A peer process's failure to plan a forwarded request, with its status."""

    def __init__(self, status: status_pb2.Status) -> None:
        super().__init__(status.message)
        self.status = status


def call_budget(
    app: Application, context: grpc.aio.ServicerContext, timeout: float | None
) -> Budget:
    """The solve budget of a call, cancelled when the call ends (deadline, cancel, done)."""
    budget = app.budget(timeout, context.time_remaining())
    context.add_done_callback(lambda _: budget.cancel())
    return budget


def _serialized(response: Any) -> bytes:
    """A response message's bytes; bytes (a peer's answer) as they are."""
    return response if type(response) is bytes else response.SerializeToString()


def add_to_server(servicer: RoutingServicer, server: grpc.aio.Server) -> None:
    """Register RoutingService, its PlanOrder answers passing through as bytes when a peer
    process planned them."""
    handlers: dict[str, grpc.RpcMethodHandler] = {}

    class Capture:
        def add_generic_rpc_handlers(self, _: object) -> None:
            pass

        def add_registered_method_handlers(self, _: str, found: dict) -> None:
            handlers.update(found)

    routing_service_pb2_grpc.add_RoutingServiceServicer_to_server(servicer, Capture())
    for name in ("PlanOrder", "StreamPlanOrders"):
        handlers[name] = handlers[name]._replace(response_serializer=_serialized)  # type: ignore[attr-defined]
    service = "omniroute.v1.RoutingService"
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    server.add_registered_method_handlers(service, handlers)


class RoutingServicer(routing_service_pb2_grpc.RoutingServiceServicer):
    def __init__(
        self,
        app: Application,
        planners: requests.Planners,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        self.app = app
        self.planners = planners
        self.dispatcher = dispatcher

    async def PlanOrder(
        self, request: routing_service_pb2.PlanOrderRequest, context: grpc.aio.ServicerContext
    ) -> plan_pb2.PlanOrderResponse | bytes:
        link = self._peer(request)
        if link is not None:
            try:
                answer = await self._forward(link, request, context.time_remaining())
            except PlannedElsewhere as failed:  # its status, as the peer made it
                await context.abort_with_status(rpc_status.to_status(failed.status))
            except PeerGone:
                pass  # planned here instead
            else:
                context.set_trailing_metadata(((SERVED_BY, PID), (PLANNED_BY, str(link.pid))))
                return answer
        context.set_trailing_metadata(((SERVED_BY, PID), (PLANNED_BY, PID)))
        return await self._plan(request, lambda timeout: call_budget(self.app, context, timeout))

    def _peer(self, request: routing_service_pb2.PlanOrderRequest) -> Any:
        """The peer process to plan ``request``, or None to plan it here (an inline network
        is not sent around, and micro-batching plans calls together where they arrive)."""
        if self.dispatcher is None or self.app.batcher is not None:
            return None
        if request.HasField("network"):
            return None
        return self.dispatcher.choose()

    @staticmethod
    async def _forward(
        link: Any, request: routing_service_pb2.PlanOrderRequest, remaining: float | None
    ) -> bytes:
        """The peer's PlanOrderResponse bytes; PlannedElsewhere with its status."""
        deadline = 0.0 if remaining is None else time.monotonic() + remaining
        ok, answer = await link.call(request.SerializeToString(), deadline)
        if not ok:
            raise PlannedElsewhere(status_pb2.Status.FromString(answer))
        return answer

    def plan_bytes(
        self, payload: bytes, deadline: float
    ) -> tuple[bool, bytes] | Awaitable[tuple[bool, bytes]]:
        """Plan a request a peer forwarded (its bytes, its call's deadline or 0): (True,
        PlanOrderResponse bytes) or (False, the google.rpc.Status bytes of its failure); at
        once when it is planned here and now (most orders), else an awaitable of the same
        (a hold, or a search for the planning pool)."""
        budgets: list[Budget] = []
        later = False
        try:
            request = routing_service_pb2.PlanOrderRequest.FromString(payload)
            command = requests.plan_order(request, self.planners)
            if command.validate_only:
                return True, plan_pb2.PlanOrderResponse(
                    order_id=command.order.id
                ).SerializeToString()
            remaining = None if deadline == 0.0 else deadline - time.monotonic()
            budgets.append(self.app.budget(command.timeout, remaining))
            started = self.app.start_plan(command, budgets[0])
            if not isinstance(started, PlannedOrder):
                later = True
                return self._answer_later(started, budgets[0])
            return True, convert.plan_order_response(started).SerializeToString()
        except Exception as error:  # noqa: BLE001 - its status goes back to the caller
            return False, to_status(error).SerializeToString()
        finally:
            if not later:
                for budget in budgets:  # done: stop any search still running
                    budget.cancel()

    @staticmethod
    async def _answer_later(started: Awaitable[PlannedOrder], budget: Budget) -> tuple[bool, bytes]:
        try:
            planned = await started
            return True, convert.plan_order_response(planned).SerializeToString()
        except Exception as error:  # noqa: BLE001 - its status goes back to the caller
            return False, to_status(error).SerializeToString()
        finally:  # done, or cancelled by the front: stop any search
            budget.cancel()

    async def _plan(
        self,
        request: routing_service_pb2.PlanOrderRequest,
        budget_of: Callable[[float | None], Budget],
    ) -> plan_pb2.PlanOrderResponse:
        command = requests.plan_order(request, self.planners)
        if command.validate_only:
            return plan_pb2.PlanOrderResponse(order_id=command.order.id)
        planned = await self.app.plan_order(command, budget_of(command.timeout))
        return convert.plan_order_response(planned)

    async def StreamPlanOrders(
        self,
        request_iterator: AsyncIterator[routing_service_pb2.PlanOrderRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[plan_pb2.PlanOrderResponse | bytes]:
        # Requests are planned as they arrive (a slow one does not hold up the next) and
        # answered in order; at most STREAM_WINDOW are in progress per stream. When the
        # stream ends, the solves still running stop.
        pending: asyncio.Queue[asyncio.Future[plan_pb2.PlanOrderResponse | bytes] | None] = (
            asyncio.Queue(maxsize=STREAM_WINDOW)
        )
        running: set[Budget] = set()
        answering: set[asyncio.Future[plan_pb2.PlanOrderResponse | bytes]] = set()

        def stop_all(_: object) -> None:
            for budget in list(running):
                budget.cancel()
            for task in list(answering):  # (a peer planning one is told to stop)
                task.cancel()

        context.add_done_callback(stop_all)

        async def answer(
            request: routing_service_pb2.PlanOrderRequest,
        ) -> plan_pb2.PlanOrderResponse | bytes:
            mine: list[Budget] = []

            def budget_of(timeout: float | None) -> Budget:
                budget = self.app.budget(timeout, context.time_remaining())
                mine.append(budget)
                running.add(budget)
                return budget

            caller = CALLER.get()
            response: plan_pb2.PlanOrderResponse | bytes
            try:
                require(caller, STREAM, request)  # a reserving message needs routing.reserve
                link = self._peer(request)
                forwarded: bytes | None = None
                if link is not None:
                    with contextlib.suppress(PeerGone):  # gone: planned here instead
                        forwarded = await self._forward(link, request, context.time_remaining())
                response = (
                    forwarded if forwarded is not None else await self._plan(request, budget_of)
                )
            except PlannedElsewhere as failed:
                response = plan_pb2.PlanOrderResponse(
                    order_id=request.order.id, error=failed.status
                )
            except Exception as error:  # this request fails; the stream goes on
                response = plan_pb2.PlanOrderResponse(
                    order_id=request.order.id, error=to_status(error)
                )
            finally:
                running.difference_update(mine)
            if self.app.audit is not None and changes_state(STREAM, request):
                outcome = (
                    code_pb2.Code.Name(response.error.code)
                    if not isinstance(response, bytes) and response.HasField("error")
                    else "OK"
                )
                await audit_call(self.app.audit, caller, STREAM, request, outcome)
            return response

        failed: list[Exception] = []  # why reading the stream stopped, if it failed

        async def read() -> None:
            try:
                async for request in request_iterator:
                    task = asyncio.ensure_future(answer(request))
                    answering.add(task)
                    task.add_done_callback(answering.discard)
                    await pending.put(task)
            except Exception as error:  # noqa: BLE001 - ends the stream once answered so far
                failed.append(error)
            finally:
                await pending.put(None)

        reader = asyncio.ensure_future(read())
        try:
            while (future := await pending.get()) is not None:
                yield await future
        finally:
            reader.cancel()
        if failed:  # e.g. a message that does not decode: the stream ends with its status
            raise failed[0]

    async def PlanOrders(
        self, request: routing_service_pb2.PlanOrdersRequest, context: grpc.aio.ServicerContext
    ) -> routing_service_pb2.PlanOrdersResponse:
        command = requests.plan_orders(request, self.planners)
        if command.validate_only:
            return routing_service_pb2.PlanOrdersResponse()
        result = await self.app.plan_orders(
            command, call_budget(self.app, context, command.timeout)
        )
        return convert.joint_to_proto(result)

    async def QuoteDelivery(
        self, request: routing_service_pb2.QuoteDeliveryRequest, context: grpc.aio.ServicerContext
    ) -> routing_service_pb2.QuoteDeliveryResponse:
        command = requests.quote_delivery(request, self.planners)
        quote = await self.app.quote(command, call_budget(self.app, context, command.timeout))
        return convert.quote_to_proto(quote)

    async def CheckAvailability(
        self,
        request: routing_service_pb2.CheckAvailabilityRequest,
        context: grpc.aio.ServicerContext,
    ) -> routing_service_pb2.CheckAvailabilityResponse:
        command = requests.check_availability(request, self.planners)
        return convert.availability_to_proto(await self.app.availability(command))

    async def RerouteOrder(
        self, request: routing_service_pb2.RerouteOrderRequest, context: grpc.aio.ServicerContext
    ) -> routing_service_pb2.OrderPlan:
        command = requests.reroute_order(request)
        return convert.order_status_to_proto(await self.app.reroute(command))

    async def GetOrderPlan(
        self, request: routing_service_pb2.GetOrderPlanRequest, context: grpc.aio.ServicerContext
    ) -> routing_service_pb2.OrderPlan:
        status = await self.app.order_status(requests.order_id(request))
        return convert.order_status_to_proto(status)

    async def PlanReturn(
        self, request: routing_service_pb2.PlanReturnRequest, context: grpc.aio.ServicerContext
    ) -> routing_service_pb2.ReturnPlan:
        command = requests.plan_return(request, self.planners)
        return convert.return_record_to_proto(await self.app.plan_return(command))
