"""The audit trail: one row per state-changing call (who, what, on which resource, how it
ended), written by the server's interceptor and read by ``omniroute audit``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from omniroute.ledger.database import Database


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One state-changing call.

    ``at`` is seconds since the epoch; ``principal`` the caller (a token's name, a client
    certificate's subject, or ``anonymous`` when the server authenticates nobody);
    ``method`` the full RPC name; ``outcome`` the status code name (``OK``, ``ABORTED``...).
    """

    at: float
    principal: str
    method: str
    request_id: str
    resource: str
    outcome: str


class Audit:
    def __init__(self, database: Database) -> None:
        self.db = database

    def record(
        self, principal: str, method: str, request_id: str, resource: str, outcome: str
    ) -> None:
        """Append one record (its own transaction: recorded whatever the call's outcome)."""
        with self.db.write() as tx:
            tx.execute(
                "INSERT INTO audit (at, principal, method, request_id, resource, outcome) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (time.time(), principal, method, request_id, resource, outcome),
            )

    def records(self, since: float = 0.0, principal: str = "") -> Iterator[AuditRecord]:
        """Records at or after ``since``, oldest first, optionally of one principal."""
        query = (
            "SELECT at, principal, method, request_id, resource, outcome FROM audit WHERE at >= ?"
        )
        params: list[object] = [since]
        if principal:
            query += " AND principal = ?"
            params.append(principal)
        with self.db.read() as tx:
            rows = tx.execute(query + " ORDER BY seq", params).fetchall()
        for row in rows:
            yield AuditRecord(*row)
