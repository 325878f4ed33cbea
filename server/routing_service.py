"""RoutingService: each method reads its request into a command, runs it in the application
layer and converts the result (``omniroute.server.requests`` -> ``application`` ->
``convert``). Failures are raised; the interceptor maps them to a status
(``omniroute.server.errors``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import grpc
from google.rpc import code_pb2

from omniroute.budget import Budget
from omniroute.server import convert, requests
from omniroute.server.application import Application
from omniroute.server.auth import CALLER, ROUTING, changes_state, require
from omniroute.server.errors import to_status
from omniroute.server.interceptors import audit_call
from omniroute.v1 import plan_pb2, routing_service_pb2, routing_service_pb2_grpc

STREAM = f"{ROUTING}/StreamPlanOrders"

STREAM_WINDOW = 64  # requests in progress per StreamPlanOrders stream


def call_budget(
    app: Application, context: grpc.aio.ServicerContext, timeout: float | None
) -> Budget:
    """The solve budget of a call, cancelled when the call ends (deadline, cancel, done)."""
    budget = app.budget(timeout, context.time_remaining())
    context.add_done_callback(lambda _: budget.cancel())
    return budget


class RoutingServicer(routing_service_pb2_grpc.RoutingServiceServicer):
    def __init__(self, app: Application, planners: requests.Planners) -> None:
        self.app = app
        self.planners = planners

    async def PlanOrder(
        self, request: routing_service_pb2.PlanOrderRequest, context: grpc.aio.ServicerContext
    ) -> plan_pb2.PlanOrderResponse:
        return await self._plan(request, lambda timeout: call_budget(self.app, context, timeout))

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
    ) -> AsyncIterator[plan_pb2.PlanOrderResponse]:
        # Requests are planned as they arrive (a slow one does not hold up the next) and
        # answered in order; at most STREAM_WINDOW are in progress per stream. When the
        # stream ends, the solves still running stop.
        pending: asyncio.Queue[asyncio.Future[plan_pb2.PlanOrderResponse] | None] = asyncio.Queue(
            maxsize=STREAM_WINDOW
        )
        running: set[Budget] = set()

        def stop_all(_: object) -> None:
            for budget in list(running):
                budget.cancel()

        context.add_done_callback(stop_all)

        async def answer(
            request: routing_service_pb2.PlanOrderRequest,
        ) -> plan_pb2.PlanOrderResponse:
            mine: list[Budget] = []

            def budget_of(timeout: float | None) -> Budget:
                budget = self.app.budget(timeout, context.time_remaining())
                mine.append(budget)
                running.add(budget)
                return budget

            caller = CALLER.get()
            try:
                require(caller, STREAM, request)  # a reserving message needs routing.reserve
                response = await self._plan(request, budget_of)
            except Exception as error:  # this request fails; the stream goes on
                response = plan_pb2.PlanOrderResponse(
                    order_id=request.order.id, error=to_status(error)
                )
            finally:
                running.difference_update(mine)
            if self.app.audit is not None and changes_state(STREAM, request):
                outcome = (
                    code_pb2.Code.Name(response.error.code) if response.HasField("error") else "OK"
                )
                await audit_call(self.app.audit, caller, STREAM, request, outcome)
            return response

        failed: list[Exception] = []  # why reading the stream stopped, if it failed

        async def read() -> None:
            try:
                async for request in request_iterator:
                    await pending.put(asyncio.ensure_future(answer(request)))
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
