"""The served network (without its stock), one row per version."""

from __future__ import annotations

import time
from dataclasses import replace

from omniroute.ledger import codec, events
from omniroute.ledger.database import Transaction
from omniroute.model import Network


def version(tx: Transaction) -> int:
    """The current network version (0: no network yet)."""
    row = tx.execute("SELECT max(version) FROM network").fetchone()
    return int(row[0] or 0)


def load(tx: Transaction) -> tuple[Network, int] | None:
    """The current network (no stock) and its version, or None."""
    row = tx.execute(
        "SELECT network, version FROM network ORDER BY version DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return codec.load_as(Network, bytes(row[0])), int(row[1])


def store(tx: Transaction, network: Network) -> int:
    """Store ``network`` (its stock is kept in the stock table) as the next version."""
    new = version(tx) + 1
    now = time.time()
    tx.execute(
        "INSERT INTO network (version, network, created) VALUES (?, ?, ?)",
        (new, codec.dumps(replace(network, stock=())), now),
    )
    tx.execute("DELETE FROM network WHERE version < ?", (new,))
    event = events.NewEvent(
        events.EventType.NETWORK_REPLACED,
        payload={
            "version": new,
            "nodes": len(network.nodes),
            "skus": len(network.skus),
            "carrierServices": len(network.carrier_services),
            "stockPositions": len(network.stock),
        },
    )
    events.append(tx, now, [event])
    return new
