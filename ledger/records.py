"""Typed records the ledger reads and writes (no dicts, no API messages)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from omniroute.model import Order, Plan
from omniroute.returns import ReturnLegPlan


class ReservationState(enum.Enum):
    """A reservation is HELD until it is committed (shipped), released or expires."""

    HELD = "HELD"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class ReservationLine:
    """Units of one SKU held at one node."""

    node_id: str
    sku_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Reservation:
    """Units held for an order: all lines or none (times are Unix seconds)."""

    id: str
    request_id: str
    order_id: str
    state: ReservationState
    lines: tuple[ReservationLine, ...]
    created: float
    expires: float
    updated: float


class RejectionReason(enum.Enum):
    """Why a node gave up its part of an order."""

    SHORT_PICK = "SHORT_PICK"
    DAMAGED = "DAMAGED"
    CAPACITY = "CAPACITY"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A node rejected some units of a reserved order (at: Unix seconds)."""

    node_id: str
    reason: RejectionReason
    lines: tuple[tuple[str, int], ...]  # (line id, units), by line id
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """A reserved order as it stands: what was ordered, its current plan, what happened."""

    order_id: str
    reservation_id: str
    order: Order
    plan: Plan
    rerouted: tuple[str, ...] = ()  # nodes whose shipment is new or grew by re-routing
    rejections: tuple[Rejection, ...] = ()
    updated: float = 0.0


class ReturnState(enum.Enum):
    PLANNED = "PLANNED"
    RECEIVED = "RECEIVED"


@dataclass(frozen=True, slots=True)
class ReturnRecord:
    """A planned return; its units go on hand when it is received."""

    id: str
    request_id: str
    state: ReturnState
    legs: tuple[ReturnLegPlan, ...]
    created: float
    updated: float


@dataclass(frozen=True, slots=True)
class OperationError:
    """Why a long-running operation failed: a status code name (``INVALID_ARGUMENT``, ...),
    a message, and for invalid input every field violation as ``(field, description)``."""

    code: str
    message: str
    violations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class OperationRecord:
    """A long-running operation (AIP-151): progress, then a result or an error.

    ``result`` and ``metadata`` are values stored with :mod:`omniroute.ledger.codec` by the
    caller that runs the operation (e.g. a scenario's KPIs).
    """

    name: str
    request_id: str
    kind: str
    done: bool
    progress_done: int
    progress_total: int
    metadata: bytes | None
    result: bytes | None
    error: OperationError | None
    cancel_requested: bool
    created: float
    updated: float
