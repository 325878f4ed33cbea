"""Typed records the ledger reads and writes (no dicts, no API messages)."""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
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


class OrderState(enum.Enum):
    """Where a reserved order is in its life (see :meth:`OrderRecord.state`)."""

    RESERVED = "RESERVED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class ShipmentRecord:
    """Units a node confirmed shipped (times: Unix seconds; ``delivered_at`` 0: not yet)."""

    node_id: str
    lines: tuple[tuple[str, int], ...]  # (line id, units), by line id
    tracking_number: str = ""  # "" for units committed by CommitReservation
    carrier: str = ""
    shipped_at: float = 0.0
    delivered_at: float = 0.0


class CancelCause(enum.Enum):
    """Why held units of an order stopped being held without shipping."""

    CANCELLED = "CANCELLED"  # CancelOrder
    RELEASED = "RELEASED"  # ReleaseReservation
    EXPIRED = "EXPIRED"  # the hold passed its expire time
    NETWORK_REPLACED = "NETWORK_REPLACED"  # PutNetwork dropped the hold's positions


@dataclass(frozen=True, slots=True)
class Cancellation:
    """Units of an order given up at one node before they shipped."""

    node_id: str
    lines: tuple[tuple[str, int], ...]  # (line id, units), by line id
    cause: CancelCause
    reason: str = ""  # the caller's words, for CancelOrder
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """A reserved order as it stands: what was ordered, its current plan, what happened.

    Units are accounted per (node, order line): the plan's units there are open (held, to
    ship), shipped or cancelled; :meth:`open_units` is what is still held.
    """

    order_id: str
    reservation_id: str
    order: Order
    plan: Plan
    rerouted: tuple[str, ...] = ()  # nodes whose shipment is new or grew by re-routing
    rejections: tuple[Rejection, ...] = ()
    updated: float = 0.0
    shipments: tuple[ShipmentRecord, ...] = ()  # confirmed, in confirmation order
    cancellations: tuple[Cancellation, ...] = ()

    def planned_units(self) -> dict[tuple[str, str], int]:
        """Units of the current plan per (node, line id)."""
        planned: dict[tuple[str, str], int] = {}
        for shipment in self.plan.shipments:
            for line in shipment.lines:
                key = (shipment.node_id, line.line_id)
                planned[key] = planned.get(key, 0) + line.quantity
        return planned

    def shipped_units(self) -> dict[tuple[str, str], int]:
        """Units confirmed shipped per (node, line id)."""
        return _units((s.node_id, s.lines) for s in self.shipments)

    def cancelled_units(self) -> dict[tuple[str, str], int]:
        """Units given up before shipping per (node, line id)."""
        return _units((c.node_id, c.lines) for c in self.cancellations)

    def open_units(self) -> dict[tuple[str, str], int]:
        """Units still held to ship per (node, line id) (only positive counts)."""
        shipped, cancelled = self.shipped_units(), self.cancelled_units()
        left = {
            key: units - shipped.get(key, 0) - cancelled.get(key, 0)
            for key, units in self.planned_units().items()
        }
        return {key: units for key, units in left.items() if units > 0}

    def open_by_node(
        self, line_ids: Collection[str] | None = None
    ) -> dict[str, tuple[tuple[str, int], ...]]:
        """The open units per node as (line id, units), by line id; of ``line_ids`` only
        when given."""
        by_node: dict[str, list[tuple[str, int]]] = {}
        for (node_id, line_id), units in sorted(self.open_units().items()):
            if line_ids is None or line_id in line_ids:
                by_node.setdefault(node_id, []).append((line_id, units))
        return {node_id: tuple(lines) for node_id, lines in by_node.items()}

    def state(self) -> OrderState:
        """RESERVED or PARTIALLY_SHIPPED while units are held; then SHIPPED, DELIVERED
        (every shipment delivered), CANCELLED or EXPIRED (nothing shipped)."""
        shipped = bool(self.shipments)
        if self.open_units():
            return OrderState.PARTIALLY_SHIPPED if shipped else OrderState.RESERVED
        if shipped:
            delivered = all(s.delivered_at > 0 for s in self.shipments)
            return OrderState.DELIVERED if delivered else OrderState.SHIPPED
        expired = any(c.cause is CancelCause.EXPIRED for c in self.cancellations)
        return OrderState.EXPIRED if expired else OrderState.CANCELLED


def _units(
    entries: Iterable[tuple[str, tuple[tuple[str, int], ...]]],
) -> dict[tuple[str, str], int]:
    total: dict[tuple[str, str], int] = {}
    for node_id, lines in entries:
        for line_id, units in lines:
            total[(node_id, line_id)] = total.get((node_id, line_id), 0) + units
    return total


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
    order_id: str = ""  # the reserved order the items came from ("": not given)


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
