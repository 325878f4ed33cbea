"""One interceptor for every omniroute RPC: who is calling and whether they may
(``server.auth``), metrics, a log line per call (debug), the audit record of a state-changing
call, and the catch-all that maps any exception to its status (``server.errors``), so that no
call ever ends ``UNKNOWN`` or leaks a traceback to the caller."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from omniroute.ledger.errors import DatabaseUnavailable
from omniroute.model import FieldViolation, ValidationError
from omniroute.server.application import Overloaded
from omniroute.server.auth import (
    ANONYMOUS,
    CALLER,
    Authenticator,
    Principal,
    RateLimited,
    RateLimiter,
    Unauthenticated,
    changes_state,
    require,
    resource_of,
)
from omniroute.server.errors import to_status
from omniroute.server.metrics import Metrics
from omniroute.server.overload import LoopLag

log = logging.getLogger("omniroute.server.calls")
OWN_PREFIXES = ("/omniroute.", "/google.longrunning.")  # ours; health and reflection pass
REFLECTION = "/grpc.reflection."  # needs a valid credential when authentication is on
AuditSink = Callable[[str, str, str, str, str], Awaitable[None]]


SHEDDABLE = {"PlanOrder", "QuoteDelivery", "CheckAvailability", "PlanOrders"}


class ServerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        metrics: Metrics,
        lag: LoopLag | None = None,
        auth: Authenticator | None = None,
        audit: AuditSink | None = None,
        rate: RateLimiter | None = None,
    ) -> None:
        self.metrics = metrics
        self.lag = lag
        self.auth = auth or Authenticator()
        self.audit = audit
        self.rate = rate
        # The wrapped handler of each method, made on its first call (the servicers'
        # handlers do not change while the server runs): a call costs one lookup.
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}
        self._series: dict[tuple[str, str, str, grpc.StatusCode], tuple[Any, Any]] = {}

    def _principal(self, context: grpc.aio.ServicerContext) -> Principal:
        """The caller (its rate spent when there is a limit)."""
        principal = ANONYMOUS
        if self.auth.enabled:
            metadata = context.invocation_metadata() or ()
            principal = self.auth.principal(metadata, context.auth_context())
        if self.rate is not None:
            self.rate.take(principal.name)
        return principal

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None:
            return handler
        known = self._wrapped.get(details.method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self._wrap(handler, details.method)
        self._wrapped[details.method] = (handler, wrapped)
        return wrapped

    def _wrap(self, handler: grpc.RpcMethodHandler, name: str) -> grpc.RpcMethodHandler:
        if name.startswith(REFLECTION) and self.auth.enabled and handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                self._authenticated(handler.stream_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if not name.startswith(OWN_PREFIXES):
            return handler  # health checking (always open) and reflection pass through
        _, service, method = name.split("/")
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, service, method),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._server_stream(handler.unary_stream, service, method),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                self._stream(handler.stream_stream, service, method),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        return handler

    def _authenticated(self, behaviour: Any) -> Any:
        async def call(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
            try:
                self._principal(context)
            except (Unauthenticated, RateLimited) as error:
                await context.abort_with_status(rpc_status.to_status(to_status(error)))
            async for response in behaviour(requests, context):
                yield response

        return call

    def _unary(self, behaviour: Any, service: str, method: str) -> Any:
        sheddable = method in SHEDDABLE
        full = f"{service}/{method}"
        started = self.metrics.started.labels("unary", service, method)

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            start = time.perf_counter()
            started.inc()
            code = grpc.StatusCode.OK
            principal: Principal | None = None
            try:
                _decoded(request)
                principal = self._principal(context)
                require(principal, full, request)
                CALLER.set(principal)
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
                if principal is not None and self.audit and changes_state(full, request):
                    await self._audit(principal, full, request, code.name)

        return call

    async def _audit(self, principal: Principal, method: str, request: Any, outcome: str) -> None:
        if self.audit is not None:
            await audit_call(self.audit, principal, method, request, outcome)

    def _stream(self, behaviour: Any, service: str, method: str) -> Any:
        """A bidirectional stream (StreamPlanOrders): authenticated and authorised once; the
        servicer checks and audits each message."""
        full = f"{service}/{method}"

        async def call(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
            async def responses() -> AsyncIterator[Any]:
                principal = self._principal(context)
                require(principal, full)
                CALLER.set(principal)

                async def decoded() -> AsyncIterator[Any]:
                    async for request in requests:
                        yield _decoded(request)  # one that does not decode ends the stream

                async for response in behaviour(decoded(), context):
                    yield response

            counted = self._counted("bidi_stream", service, method, context, responses)
            async with contextlib.aclosing(counted):  # closed with the call, not by the GC
                async for response in counted:
                    yield response

        return call

    def _server_stream(self, behaviour: Any, service: str, method: str) -> Any:
        """A server-streaming RPC (WatchEvents): authenticated, authorised and counted as
        the other RPCs are."""
        full = f"{service}/{method}"

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            async def responses() -> AsyncIterator[Any]:
                _decoded(request)
                principal = self._principal(context)
                require(principal, full, request)
                CALLER.set(principal)
                async for response in behaviour(request, context):
                    yield response

            counted = self._counted("server_stream", service, method, context, responses)
            async with contextlib.aclosing(counted):
                async for response in counted:
                    yield response

        return call

    async def _counted(
        self,
        kind: str,
        service: str,
        method: str,
        context: grpc.aio.ServicerContext,
        responses: Callable[[], AsyncIterator[Any]],
    ) -> AsyncGenerator[Any, None]:
        """A stream's ``responses`` counted in the metrics, its failures mapped to a status
        once (an abort or cancellation passes through)."""
        start = time.perf_counter()
        self.metrics.started.labels(kind, service, method).inc()
        code = grpc.StatusCode.OK
        try:
            async for response in responses():
                yield response
        except grpc.aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        except (asyncio.CancelledError, GeneratorExit):  # the caller went away mid-stream
            code = grpc.StatusCode.CANCELLED
            raise
        except Exception as error:  # noqa: BLE001
            status = to_status(error)
            code = _status_code(status.code)
            await context.abort_with_status(rpc_status.to_status(status))
        finally:
            self._record(kind, service, method, code, start, None)

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
        series = self._series.get((kind, service, method, code))
        if series is None:
            series = self._series[kind, service, method, code] = (
                self.metrics.handled.labels(kind, service, method, code.name),
                self.metrics.handling.labels(kind, service, method),
            )
        series[0].inc()
        series[1].observe(elapsed)
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


class _Undecodable:
    """A request whose bytes are not a message of the method (the reason kept)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _tolerant(deserialize: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """The method's deserializer, returning :class:`_Undecodable` instead of raising (a
    deserializer that raises ends the call UNKNOWN before any interceptor code runs)."""
    if deserialize is None:
        return None

    def read(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as error:  # noqa: BLE001 - DecodeError, and whatever else it raises
            return _Undecodable(str(error) or type(error).__name__)

    return read


def _decoded(request: Any) -> Any:
    """``request``, or ValidationError (INVALID_ARGUMENT) when it did not decode."""
    if isinstance(request, _Undecodable):
        raise ValidationError(
            [FieldViolation("", f"not a valid protobuf message of the method ({request.reason})")],
            "request",
        )
    return request


async def audit_call(
    sink: AuditSink, principal: Principal, method: str, request: Any, outcome: str
) -> None:
    """Record one state-changing call (or stream message); a failure to record is logged,
    never turned into the call's answer (the call has happened)."""
    try:
        await sink(
            principal.name,
            method,
            str(getattr(request, "request_id", "")),
            resource_of(request),
            outcome,
        )
    except DatabaseUnavailable as error:
        # the database is down: one line per call, not a traceback each (health reports
        # NOT_SERVING meanwhile; the call itself has answered UNAVAILABLE or succeeded)
        log.warning("could not record %s in the audit trail: %s", method, error)
    except Exception:  # noqa: BLE001
        log.exception("could not record %s in the audit trail", method)


def _status_code(value: int) -> grpc.StatusCode:
    for code in grpc.StatusCode:
        if code.value[0] == value:
            return code
    return grpc.StatusCode.INTERNAL
