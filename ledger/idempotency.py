"""Idempotency keys (AIP-155): a request id remembers the first answer, so that a retry
(sequential, racing, or after a crash) gets the same answer and changes nothing more.

Answers are stored as bytes (versioned JSON of the model, :mod:`omniroute.ledger.codec`)
inside the same transaction as the change they answer, so the two can never disagree.
"""

from __future__ import annotations

import time

from omniroute.ledger.database import Transaction
from omniroute.ledger.errors import RequestIdReused

KEEP_SECONDS = 48 * 3600.0  # AIP-155 asks for at least 24 hours


def seen(tx: Transaction, request_id: str, method: str, fingerprint: bytes) -> bytes | None:
    """The stored answer of an earlier request with this id (None: a new id).

    Raises :class:`RequestIdReused` when the id was used by another method or request.
    """
    row = tx.execute(
        "SELECT method, fingerprint, answer FROM requests WHERE request_id = ?", (request_id,)
    ).fetchone()
    if row is None:
        return None
    if row[0] != method or bytes(row[1]) != fingerprint:
        raise RequestIdReused(request_id)
    return bytes(row[2])


def remember(
    tx: Transaction, request_id: str, method: str, fingerprint: bytes, answer: bytes
) -> None:
    """Store the answer under ``request_id``; drop keys older than :data:`KEEP_SECONDS`."""
    now = time.time()
    tx.execute(
        "INSERT INTO requests (request_id, method, fingerprint, answer, created) "
        "VALUES (?, ?, ?, ?, ?)",
        (request_id, method, fingerprint, answer, now),
    )
    tx.execute("DELETE FROM requests WHERE created < ?", (now - KEEP_SECONDS,))
