"""One interceptor for every omniroute RPC: metrics, a log line per call (debug), and the
catch-all that maps any exception to its status (``server.errors``), so that no call ever
ends ``UNKNOWN`` or leaks a traceback to the caller."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from omniroute.server.application import Overloaded
from omniroute.server.errors import to_status
from omniroute.server.metrics import Metrics
from omniroute.server.overload import LoopLag

log = logging.getLogger("omniroute.server.calls")
OWN_PREFIXES = ("/omniroute.", "/google.longrunning.")  # ours; health and reflection pass


SHEDDABLE = {"PlanOrder", "QuoteDelivery", "CheckAvailability", "PlanOrders"}


class ServerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, metrics: Metrics, lag: LoopLag | None = None) -> None:
        self.metrics = metrics
        self.lag = lag

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or not details.method.startswith(OWN_PREFIXES):
            return handler  # health checking and reflection pass through
        _, service, method = details.method.split("/")
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, service, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                self._stream(handler.stream_stream, service, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _unary(self, behaviour: Any, service: str, method: str) -> Any:
        sheddable = method in SHEDDABLE

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            start = time.perf_counter()
            self.metrics.started.labels("unary", service, method).inc()
            code = grpc.StatusCode.OK
            try:
                if sheddable and self.lag is not None and self.lag.overloaded:
                    self.metrics.shed.inc()
                    raise Overloaded(
                        "the server is overloaded; retry with backoff",
                        {"loopLagMs": f"{self.lag.lag * 1000:.1f}"},
                    )
                return await behaviour(request, context)
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except Exception as error:  # noqa: BLE001 - the one place every failure is mapped
                status = to_status(error)
                code = _status_code(status.code)
                await context.abort_with_status(rpc_status.to_status(status))
            finally:
                self._record("unary", service, method, code, start, request)

        return call

    def _stream(self, behaviour: Any, service: str, method: str) -> Any:
        async def call(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
            start = time.perf_counter()
            self.metrics.started.labels("bidi_stream", service, method).inc()
            code = grpc.StatusCode.OK
            try:
                async for response in behaviour(requests, context):
                    yield response
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except Exception as error:  # noqa: BLE001
                status = to_status(error)
                code = _status_code(status.code)
                await context.abort_with_status(rpc_status.to_status(status))
            finally:
                self._record("bidi_stream", service, method, code, start, None)

        return call

    def _record(
        self,
        kind: str,
        service: str,
        method: str,
        code: grpc.StatusCode,
        start: float,
        request: Any,
    ) -> None:
        elapsed = time.perf_counter() - start
        self.metrics.handled.labels(kind, service, method, code.name).inc()
        self.metrics.handling.labels(kind, service, method).observe(elapsed)
        if log.isEnabledFor(logging.DEBUG):
            fields = {
                "method": f"{service}/{method}",
                "code": code.name,
                "ms": round(elapsed * 1e3, 3),
            }
            order = getattr(request, "order", None)
            if order is not None and order.id:
                fields["orderId"] = order.id
            log.debug("call", extra={"fields": fields})


def _status_code(value: int) -> grpc.StatusCode:
    for code in grpc.StatusCode:
        if code.value[0] == value:
            return code
    return grpc.StatusCode.INTERNAL
