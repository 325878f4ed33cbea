"""The one place that maps domain failures to gRPC status codes (DESIGN section 4).

* :class:`engine.model.ValidationError` -> ``INVALID_ARGUMENT`` with one
  ``google.rpc.BadRequest`` listing every field violation;
* :class:`ServiceError` subclasses -> their code with one ``google.rpc.ErrorInfo``
  (``reason`` in UPPER_SNAKE_CASE, domain ``omniroute.dev``);
* anything else -> ``INTERNAL`` with an incident id (the traceback goes to the log only).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from omniroute.model import FieldViolation, ValidationError

DOMAIN = "omniroute.dev"
log = logging.getLogger("omniroute.server")


class ServiceError(Exception):
    """A state-dependent failure with a gRPC code and an ErrorInfo reason."""

    code = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(
        self, reason: str, message: str, metadata: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(ServiceError):
    code = grpc.StatusCode.ABORTED


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS


class Overloaded(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceeded(ServiceError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def bad_request(violations: list[FieldViolation], summary: str) -> status_pb2.Status:
    detail = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in violations
        ]
    )
    message = f"{summary}: " + "; ".join(str(v) for v in violations[:5])
    if len(violations) > 5:
        message += f"; and {len(violations) - 5} more (see details)"
    return status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT, message=message, details=[_packed(detail)]
    )


def to_status(error: BaseException) -> status_pb2.Status:
    """The ``google.rpc.Status`` a failure maps to (also used per message in streams)."""
    if isinstance(error, ValidationError):
        return bad_request(error.violations, f"invalid {error.subject}")
    if isinstance(error, ServiceError):
        info = error_details_pb2.ErrorInfo(
            reason=error.reason, domain=DOMAIN, metadata=error.metadata
        )
        return status_pb2.Status(
            code=error.code.value[0], message=error.message, details=[_packed(info)]
        )
    incident = uuid.uuid4().hex[:12]
    log.exception("internal error (incident %s)", incident, exc_info=error)
    info = error_details_pb2.ErrorInfo(
        reason="INTERNAL_ERROR", domain=DOMAIN, metadata={"incident": incident}
    )
    return status_pb2.Status(
        code=code_pb2.INTERNAL,
        message=f"internal error; incident {incident} is logged on the server",
        details=[_packed(info)],
    )


async def abort(context: grpc.aio.ServicerContext, error: BaseException) -> None:
    """End the call with the status ``error`` maps to (never returns)."""
    await context.abort_with_status(rpc_status.to_status(to_status(error)))
