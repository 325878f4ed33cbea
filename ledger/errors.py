"""What the ledger refuses, as domain errors (mapped to gRPC status codes only by
``omniroute.server.errors``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class LedgerError(Exception):
    """Base of every refusal of the ledger; ``reason`` is an UPPER_SNAKE_CASE word and
    ``metadata`` the ids the caller needs to act on it."""

    reason = "LEDGER_ERROR"

    def __init__(self, message: str, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata = dict(metadata or {})


class NotFound(LedgerError):
    """Something asked for by id does not exist."""


class UnknownReservation(NotFound):
    reason = "RESERVATION_NOT_FOUND"

    def __init__(self, reservation_id: str) -> None:
        super().__init__(f"no reservation {reservation_id!r}", {"reservationId": reservation_id})


class UnknownOrder(NotFound):
    reason = "ORDER_NOT_FOUND"

    def __init__(self, key: str, value: str) -> None:
        super().__init__(f"no reserved order with {key} {value!r}", {key: value})


class UnknownReturn(NotFound):
    reason = "RETURN_NOT_FOUND"

    def __init__(self, return_id: str) -> None:
        super().__init__(f"no planned return {return_id!r}", {"returnId": return_id})


class UnknownInbound(NotFound):
    reason = "INBOUND_SUPPLY_NOT_FOUND"

    def __init__(self, supply_id: str) -> None:
        super().__init__(f"no inbound supply {supply_id!r}", {"supplyId": supply_id})


class UnknownOperation(NotFound):
    reason = "OPERATION_NOT_FOUND"

    def __init__(self, name: str) -> None:
        super().__init__(f"no operation {name!r}", {"name": name})


class NoNetwork(LedgerError):
    """The ledger holds no network yet."""

    reason = "NO_NETWORK"

    def __init__(self) -> None:
        super().__init__(
            "the server has no network yet: call NetworkService.PutNetwork or start it "
            "with --network FILE"
        )


class ReservationNotHeld(LedgerError):
    """The reservation is committed, released or expired, so it cannot change."""

    def __init__(self, reservation_id: str, state: str) -> None:
        super().__init__(
            f"reservation {reservation_id} is {state.lower()}, not held",
            {"reservationId": reservation_id, "state": state},
        )
        self.reason = f"RESERVATION_{state}"
        self.state = state


class NotHeld(LedgerError):
    """A re-route would release units the reservation does not hold at that node."""

    reason = "NOT_HELD"


class RequestIdReused(LedgerError):
    """A request id (AIP-155) was already used for a different request."""

    reason = "REQUEST_ID_REUSED"

    def __init__(self, request_id: str) -> None:
        super().__init__(
            f"request id {request_id!r} was already used for a different request",
            {"requestId": request_id},
        )


class SchemaTooNew(LedgerError):
    """The database was written by a newer omniroute."""

    reason = "SCHEMA_TOO_NEW"


class SchemaUnsupported(LedgerError):
    """The database was written by omniroute 0.1 (before versioned schemas)."""

    reason = "SCHEMA_UNSUPPORTED"


class DatabaseUnavailable(LedgerError):
    """The database cannot be reached now (down, restarting, or the connection dropped):
    the call changed nothing it acknowledged and is safe to retry with the same request id."""

    reason = "DATABASE_UNAVAILABLE"


class Shortage(LedgerError):
    """ATP changed since planning: these positions cannot give the units asked.

    Not an error for callers: the application re-plans on fresh ATP and tries again.
    """

    reason = "SHORTAGE"

    def __init__(self, positions: Sequence[tuple[str, str, int]]) -> None:
        super().__init__(f"not enough ATP at {list(positions)}")
        self.positions = list(positions)


class DayFull(Shortage):
    """A node's ship date filled up since planning: it has no room for another shipment.

    Like :class:`Shortage`, not an error for callers: the application plans again on the
    fresh days (the shipment then moves to the node's next day with room, or elsewhere).
    """

    reason = "DAY_FULL"

    def __init__(self, days: Sequence[tuple[str, str]]) -> None:
        LedgerError.__init__(self, f"no shipment capacity left at {list(days)}")
        self.positions = []
        self.days = list(days)


class ChangedConcurrently(LedgerError):
    """A record changed between reading it and writing its update (re-read and retry)."""

    reason = "CHANGED_CONCURRENTLY"


class OrderRefused(LedgerError):
    """A step of an order's life that makes no sense now: ship what the node does not
    hold, deliver what has not shipped (or twice), cancel what has shipped. ``reason`` says
    which (docs/errors.md)."""

    #: every reason it is raised with
    REASONS = (
        "NODE_HOLDS_NOTHING",
        "SHIPMENT_EXCEEDS_HELD",
        "TRACKING_NUMBER_USED",
        "NOT_SHIPPED",
        "ALREADY_DELIVERED",
        "DELIVERED_BEFORE_SHIPPED",
        "NOTHING_TO_CANCEL",
        "NOT_RECEIVED",
    )

    def __init__(self, reason: str, message: str, metadata: Mapping[str, str]) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"not a reason of OrderRefused: {reason}")
        super().__init__(message, metadata)
        self.reason = reason


class InboundHeld(LedgerError):
    """A change to supply in transit would take away units orders are promised: re-route
    (or cancel) those orders first."""

    reason = "INBOUND_HELD"

    def __init__(
        self, positions: Sequence[tuple[str, str, int]], reservations: Sequence[str]
    ) -> None:
        listed = ", ".join(f"{n} {s} ({held} held)" for n, s, held in positions)
        super().__init__(
            f"the change would leave fewer units in transit than orders are promised at "
            f"{listed}: re-route or cancel them first (reservations {', '.join(reservations)})",
            {
                "position": f"{positions[0][0]}/{positions[0][1]}",
                "reservationIds": ",".join(reservations),
            },
        )
