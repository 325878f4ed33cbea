"""The one place that maps failures to gRPC status codes.

* :class:`omniroute.model.ValidationError` -> ``INVALID_ARGUMENT`` with one
  ``google.rpc.BadRequest`` listing every field violation;
* the ledger's domain errors (:mod:`omniroute.ledger.errors`) and the application's
  failures (:class:`omniroute.server.application.ServiceFailure`) -> their code below, with
  one ``google.rpc.ErrorInfo`` (``reason`` in UPPER_SNAKE_CASE, domain ``omniroute.dev``,
  metadata keys in lowerCamelCase);
* anything else -> ``INTERNAL`` with an incident id (the traceback goes to the log only).

Every reason, code and metadata key a client can see is listed in ``docs/errors.md``.
"""

from __future__ import annotations

import logging
import uuid

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from omniroute.ledger import errors as ledger
from omniroute.ledger.records import OperationError
from omniroute.model import FieldViolation, ValidationError
from omniroute.server import application as app
from omniroute.server import auth

DOMAIN = "omniroute.dev"
log = logging.getLogger("omniroute.server")

CODES: tuple[tuple[type[Exception], grpc.StatusCode], ...] = (
    (auth.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (auth.MissingScope, grpc.StatusCode.PERMISSION_DENIED),
    (auth.RateLimited, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (ledger.NotFound, grpc.StatusCode.NOT_FOUND),
    (ledger.RequestIdReused, grpc.StatusCode.ALREADY_EXISTS),
    (ledger.ReservationNotHeld, grpc.StatusCode.FAILED_PRECONDITION),
    (ledger.NotHeld, grpc.StatusCode.FAILED_PRECONDITION),
    (ledger.NoNetwork, grpc.StatusCode.FAILED_PRECONDITION),
    (ledger.SchemaTooNew, grpc.StatusCode.FAILED_PRECONDITION),
    (ledger.SchemaUnsupported, grpc.StatusCode.FAILED_PRECONDITION),
    (ledger.DatabaseUnavailable, grpc.StatusCode.UNAVAILABLE),  # retry, same requestId
    (ledger.Shortage, grpc.StatusCode.ABORTED),
    (ledger.ChangedConcurrently, grpc.StatusCode.ABORTED),
    (app.StockChanged, grpc.StatusCode.ABORTED),
    (app.DeadlineTooShort, grpc.StatusCode.DEADLINE_EXCEEDED),
    (app.Overloaded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (ledger.LedgerError, grpc.StatusCode.FAILED_PRECONDITION),
    (app.ServiceFailure, grpc.StatusCode.FAILED_PRECONDITION),
)


def code_of(error: BaseException) -> grpc.StatusCode:
    """The status code a failure maps to."""
    if isinstance(error, ValidationError):
        return grpc.StatusCode.INVALID_ARGUMENT
    if isinstance(error, NotImplementedError):
        return grpc.StatusCode.UNIMPLEMENTED
    for cls, code in CODES:
        if isinstance(error, cls):
            return code
    return grpc.StatusCode.INTERNAL


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


DETAILS_BUDGET = 4000  # bytes of field violations in one status (trailers are small)
LONGEST = 300  # characters of one field path or description in a status


def _short(text: str) -> str:
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


def camel(key: str) -> str:
    """An ErrorInfo metadata key in lowerCamelCase (``order_id`` -> ``orderId``), the one
    spelling of every key the server sends (docs/errors.md)."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def bad_request(violations: list[FieldViolation], summary: str) -> status_pb2.Status:
    """``INVALID_ARGUMENT`` with a ``BadRequest``: the violations in order, as many as fit
    in :data:`DETAILS_BUDGET` (then one more entry saying how many were left out), each
    path and description cut at :data:`LONGEST` characters."""
    kept: list[error_details_pb2.BadRequest.FieldViolation] = []
    size = 0
    for v in violations:
        entry = error_details_pb2.BadRequest.FieldViolation(
            field=_short(v.field), description=_short(v.description)
        )
        size += entry.ByteSize()
        if size > DETAILS_BUDGET:
            break
        kept.append(entry)
    if len(kept) < len(violations):
        kept.append(
            error_details_pb2.BadRequest.FieldViolation(
                field="", description=f"and {len(violations) - len(kept):,} more violations"
            )
        )
    detail = error_details_pb2.BadRequest(field_violations=kept)
    message = f"{summary}: " + "; ".join(f"{v.field}: {v.description}" for v in kept[:5])
    if len(violations) > 5:
        message += f"; and {len(violations) - 5:,} more (see details)"
    return status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT, message=message, details=[_packed(detail)]
    )


def to_status(error: BaseException) -> status_pb2.Status:
    """The ``google.rpc.Status`` a failure maps to (also used per message in streams)."""
    if isinstance(error, ValidationError):
        return bad_request(error.violations, f"invalid {error.subject}")
    if isinstance(error, ledger.LedgerError | app.ServiceFailure):
        # ids the caller sent may be quoted back: cut them so the trailers stay small
        metadata = {camel(key): _short(str(value)) for key, value in error.metadata.items()}
        info = error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=metadata)
        return status_pb2.Status(
            code=code_of(error).value[0],
            message=_short(error.message),
            details=[_packed(info)],
        )
    if isinstance(error, NotImplementedError):
        return status_pb2.Status(code=code_pb2.UNIMPLEMENTED, message="method not implemented")
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


def operation_status(error: OperationError) -> status_pb2.Status:
    """The status of a failed long-running operation, from what the ledger recorded."""
    if error.violations:
        return bad_request(
            [FieldViolation(field, description) for field, description in error.violations],
            error.message.splitlines()[0] if error.message else "invalid input",
        )
    try:
        code = code_pb2.Code.Value(error.code)
    except ValueError:
        code = code_pb2.INTERNAL
    return status_pb2.Status(code=code, message=error.message)


async def abort(context: grpc.aio.ServicerContext, error: BaseException) -> None:
    """End the call with the status ``error`` maps to (never returns)."""
    await context.abort_with_status(rpc_status.to_status(to_status(error)))
