"""The ledger: what omniroute stores, behind a database seam.

>>> from omniroute.ledger import open_ledger
>>> ledger = open_ledger("omniroute.db")          # SQLite file, schema migrated
>>> version = ledger.put_network(network)          # the network and its stock
>>> ledger.reservations.commit(reservation_id)     # shipped

Concerns, one module each: :mod:`~omniroute.ledger.stock` (positions, updates, change feed,
reconciliation), :mod:`~omniroute.ledger.reservations` (holds, commit, release, expiry,
re-routes), :mod:`~omniroute.ledger.orders` (reserved orders),
:mod:`~omniroute.ledger.idempotency` (request ids), :mod:`~omniroute.ledger.operations`
(long-running operations), :mod:`~omniroute.ledger.returns`; the backend is
:mod:`~omniroute.ledger.database` with the migrations of :mod:`~omniroute.ledger.schema`.
Stored values are versioned JSON of the model (:mod:`~omniroute.ledger.codec`). Failures are
the domain errors of :mod:`~omniroute.ledger.errors`.
"""

from omniroute.ledger.audit import AuditRecord
from omniroute.ledger.database import Database, SqliteDatabase, open_database
from omniroute.ledger.errors import (
    ChangedConcurrently,
    DatabaseUnavailable,
    DayFull,
    LedgerError,
    NoNetwork,
    NotFound,
    NotHeld,
    OrderRefused,
    RequestIdReused,
    ReservationNotHeld,
    SchemaTooNew,
    SchemaUnsupported,
    Shortage,
    UnknownOperation,
    UnknownOrder,
    UnknownReservation,
    UnknownReturn,
)
from omniroute.ledger.ledger import Ledger, open_ledger
from omniroute.ledger.orders import OrderPage, OrderView
from omniroute.ledger.records import (
    CancelCause,
    Cancellation,
    OperationError,
    OperationRecord,
    OrderRecord,
    OrderState,
    Rejection,
    RejectionReason,
    Reservation,
    ReservationLine,
    ReservationState,
    ReturnRecord,
    ReturnState,
    ShipmentRecord,
)
from omniroute.ledger.reservations import new_reservation_id, plan_lines
from omniroute.ledger.ship_days import ShipDay, ShipDays

__all__ = [
    "AuditRecord",
    "CancelCause",
    "Cancellation",
    "ChangedConcurrently",
    "Database",
    "DatabaseUnavailable",
    "DayFull",
    "Ledger",
    "LedgerError",
    "NoNetwork",
    "NotFound",
    "NotHeld",
    "OperationError",
    "OperationRecord",
    "OrderPage",
    "OrderRecord",
    "OrderRefused",
    "OrderState",
    "OrderView",
    "Rejection",
    "RejectionReason",
    "RequestIdReused",
    "Reservation",
    "ReservationLine",
    "ReservationNotHeld",
    "ReservationState",
    "ReturnRecord",
    "ReturnState",
    "SchemaTooNew",
    "SchemaUnsupported",
    "ShipDay",
    "ShipmentRecord",
    "ShipDays",
    "Shortage",
    "SqliteDatabase",
    "UnknownOperation",
    "UnknownOrder",
    "UnknownReservation",
    "UnknownReturn",
    "new_reservation_id",
    "open_database",
    "open_ledger",
    "plan_lines",
]
