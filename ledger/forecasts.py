"""Demand forecasts for look-ahead routing: each put is a new version, the latest is in force.

A forecast is stored as the proto3 JSON of its ``DemandForecast`` message, with the weight θ
of its opportunity costs in the routing objective. Servers on the ledger notice a new
version as they notice any commit (the change token) and recompute their opportunity costs
from it (``omniroute.server.live``); see docs/lookahead.md.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from omniroute.ledger.database import Database, Transaction


@dataclass(frozen=True, slots=True)
class StoredForecast:
    """One version of the forecast: its proto3 JSON (a dict), θ (0: the default of the model
    that prices the stock) and when it was put."""

    version: int
    forecast: dict[str, Any]
    theta: float
    created: float


def latest_version(tx: Transaction) -> int:
    """The latest forecast version in a transaction (0: none put)."""
    row = tx.execute("SELECT MAX(version) FROM forecasts").fetchone()
    return int(row[0] or 0)


class Forecasts:
    def __init__(self, database: Database) -> None:
        self.db = database

    def put(self, forecast: dict[str, Any], theta: float) -> int:
        """Store a new version (checked by the caller against the served network); returns
        its version number."""
        body = json.dumps(forecast, separators=(",", ":")).encode()
        with self.db.write() as tx:
            row = tx.execute(
                "INSERT INTO forecasts (forecast, theta, created) VALUES (?, ?, ?) "
                "RETURNING version",
                (body, theta, time.time()),
            ).fetchone()
        return int(row[0])

    def version(self) -> int:
        """The latest version (0: none put)."""
        with self.db.read() as tx:
            return latest_version(tx)

    def latest(self) -> StoredForecast | None:
        """The forecast in force, or None when none was put."""
        with self.db.read() as tx:
            row = tx.execute(
                "SELECT version, forecast, theta, created FROM forecasts "
                "ORDER BY version DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        version, body, theta, created = row
        return StoredForecast(int(version), json.loads(bytes(body)), float(theta), float(created))
