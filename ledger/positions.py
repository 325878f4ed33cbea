"""Stock positions inside a transaction: reads, holds, the movement history and the change
feed. Used by every ledger concern that moves units (:mod:`omniroute.ledger.stock`,
reservations, returns, the network).

ATP = ``max(0, on_hand - reserved - safety_stock)``. Units are held by one conditional
update per position that succeeds only while ATP covers it (:func:`hold`), so neither
concurrent threads nor concurrent processes can oversell.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat

from omniroute.ledger import network as network_table
from omniroute.ledger.database import Transaction
from omniroute.ledger.errors import Shortage
from omniroute.model import StockPosition
from omniroute.stock_table import StockTable, StockTableBuilder

COLUMNS = "node_id, sku_id, on_hand, safety_stock, reserved"
FETCH = 100_000  # rows read at a time for a whole-stock table


class MovementKind:
    """The kinds of movement in the history (one row per change to a position)."""

    IMPORT = "IMPORT"
    ADJUST = "ADJUST"
    HOLD = "HOLD"
    COMMIT = "COMMIT"
    RELEASE = "RELEASE"
    EXPIRE = "EXPIRE"
    RETURN = "RETURN"


def position(tx: Transaction, node_id: str, sku_id: str) -> StockPosition:
    """One position (zeros when the node does not hold the SKU)."""
    row = tx.execute(
        "SELECT on_hand, safety_stock, reserved FROM stock WHERE node_id = ? AND sku_id = ?",
        (node_id, sku_id),
    ).fetchone()
    return StockPosition(node_id, sku_id, *(row or (0, 0, 0)))


def positions(
    tx: Transaction, where: str = "", params: Sequence[object] = ()
) -> Iterator[StockPosition]:
    """Positions matching an SQL ``where`` clause, ordered by node then SKU."""
    query = f"SELECT {COLUMNS} FROM stock{where} ORDER BY node_id, sku_id"
    for row in tx.execute(query, params):
        yield StockPosition(*row)


def stock_table(tx: Transaction) -> StockTable:
    """Every position as a columnar table (rows fetched and converted a batch at a time, so
    millions of positions never exist as Python objects all at once)."""
    cursor = tx.execute(f"SELECT {COLUMNS} FROM stock")
    builder = StockTableBuilder()
    while rows := cursor.fetchmany(FETCH):
        nodes, skus, on_hand, safety, reserved = zip(*rows, strict=True)
        builder.add(nodes, skus, on_hand, safety, reserved)
    return builder.build()


def move(
    tx: Transaction,
    now: float,
    kind: str,
    node_id: str,
    sku_id: str,
    on_hand_delta: int,
    reserved_delta: int,
    reference: str,
) -> None:
    """Append to the movement history and to the change feed."""
    tx.execute(
        "INSERT INTO movements (network_version, at, kind, node_id, sku_id, on_hand_delta, "
        "reserved_delta, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            network_table.version(tx),
            now,
            kind,
            node_id,
            sku_id,
            on_hand_delta,
            reserved_delta,
            reference,
        ),
    )
    tx.execute("INSERT INTO stock_changes (node_id, sku_id) VALUES (?, ?)", (node_id, sku_id))


def set_many(
    tx: Transaction,
    now: float,
    kind: str,
    changes: Sequence[tuple[str, str, int, int, int]],
    reference: str,
) -> None:
    """Set the on-hand and safety stock of many positions at once, each given as ``(node,
    SKU, on-hand, safety stock, on-hand delta)``, creating positions not held before (their
    reserved units 0, others' kept): one movement and one change-feed row each, as
    :func:`move` writes them, by ``executemany``."""
    version = network_table.version(tx)
    tx.executemany(
        f"INSERT INTO stock ({COLUMNS}) VALUES (?, ?, ?, ?, 0) ON CONFLICT (node_id, sku_id) "
        "DO UPDATE SET on_hand = excluded.on_hand, safety_stock = excluded.safety_stock",
        [(node, sku, on_hand, safety) for node, sku, on_hand, safety, _ in changes],
    )
    tx.executemany(
        "INSERT INTO movements (network_version, at, kind, node_id, sku_id, on_hand_delta, "
        "reserved_delta, reference) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        [(version, now, kind, node, sku, delta, reference) for node, sku, _, _, delta in changes],
    )
    tx.executemany(
        "INSERT INTO stock_changes (node_id, sku_id) VALUES (?, ?)",
        [(node, sku) for node, sku, *_ in changes],
    )


def set_from(tx: Transaction, now: float, kind: str, source: str, reference: str) -> None:
    """:func:`set_many` for the positions of ``source``, a table or view of the ledger's own
    (never user input) with the columns ``node_id, sku_id, new_on_hand, new_safety,
    on_hand_delta``: three set-based statements, for millions of positions at once (in
    node, then SKU order, which keeps the B-tree writes and the change feed local)."""
    tx.execute(
        f"INSERT INTO stock ({COLUMNS}) SELECT node_id, sku_id, new_on_hand, new_safety, 0 "
        f"FROM {source} WHERE true ORDER BY node_id, sku_id ON CONFLICT (node_id, sku_id) "
        "DO UPDATE SET on_hand = excluded.on_hand, safety_stock = excluded.safety_stock"
    )
    tx.execute(
        "INSERT INTO movements (network_version, at, kind, node_id, sku_id, on_hand_delta, "
        "reserved_delta, reference) SELECT ?, ?, ?, node_id, sku_id, on_hand_delta, 0, ? "
        f"FROM {source} ORDER BY node_id, sku_id",
        (network_table.version(tx), now, kind, reference),
    )
    tx.execute(
        f"INSERT INTO stock_changes (node_id, sku_id) SELECT node_id, sku_id FROM {source} "
        "ORDER BY node_id, sku_id"
    )


def hold(
    tx: Transaction, now: float, reservation_id: str, wanted: Mapping[tuple[str, str], int]
) -> None:
    """Hold every position or raise :class:`Shortage` (the caller's transaction then rolls
    back). One conditional update per position: it succeeds only while ATP covers it."""
    short = []
    for (node_id, sku_id), quantity in wanted.items():
        cursor = tx.execute(
            "UPDATE stock SET reserved = reserved + ? WHERE node_id = ? AND sku_id = ? "
            "AND on_hand - reserved - safety_stock >= ?",
            (quantity, node_id, sku_id, quantity),
        )
        if cursor.rowcount == 0:
            short.append((node_id, sku_id, quantity))
    if short:
        raise Shortage(short)
    for (node_id, sku_id), quantity in wanted.items():
        tx.execute(
            "INSERT INTO reservation_lines (reservation_id, node_id, sku_id, quantity) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (reservation_id, node_id, sku_id) "
            "DO UPDATE SET quantity = reservation_lines.quantity + excluded.quantity",
            (reservation_id, node_id, sku_id, quantity),
        )
        move(tx, now, MovementKind.HOLD, node_id, sku_id, 0, quantity, reservation_id)


def unreserve(
    tx: Transaction,
    now: float,
    kind: str,
    node_id: str,
    sku_id: str,
    quantity: int,
    shipped: int,
    reference: str,
    settle_inbound: bool = True,
) -> None:
    """Give up ``quantity`` reserved units, ``shipped`` of them leaving on-hand too
    (``settle_inbound`` False: an inbound position is left for the caller to settle)."""
    tx.execute(
        "UPDATE stock SET on_hand = on_hand - ?, reserved = reserved - ? "
        "WHERE node_id = ? AND sku_id = ?",
        (shipped, quantity, node_id, sku_id),
    )
    move(tx, now, kind, node_id, sku_id, -shipped, -quantity, reference)
    if settle_inbound and "@" in node_id:  # inbound: received units no order holds go on hand
        from omniroute.ledger.inbound import settle

        settle(tx, now, node_id, sku_id, reference)


def receive(
    tx: Transaction, now: float, node_id: str, sku_id: str, quantity: int, reference: str
) -> None:
    """Put returned units on hand (creating the position if the node did not range it)."""
    tx.execute(
        f"INSERT INTO stock ({COLUMNS}) VALUES (?, ?, ?, 0, 0) ON CONFLICT (node_id, sku_id) "
        "DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand",
        (node_id, sku_id, quantity),
    )
    move(tx, now, MovementKind.RETURN, node_id, sku_id, quantity, 0, reference)


def replace_all(
    tx: Transaction, stock: StockTable, reserved: Mapping[tuple[str, str], int], version: int
) -> None:
    """Replace every position (a new network): each starts its history with an IMPORT.
    Written a chunk of positions at a time (millions of positions in bounded memory)."""
    now = time.time()
    reference = f"network-{version}"
    tx.execute("DELETE FROM stock")
    for chunk in stock.chunks():
        keys = list(
            zip(
                map(stock.node_ids.__getitem__, chunk.node.tolist()),
                map(stock.sku_ids.__getitem__, chunk.sku.tolist()),
                strict=True,
            )
        )
        held = map(reserved.get, keys, repeat(0)) if reserved else repeat(0)
        rows = [
            (node, sku, on_hand, safety, units)
            for (node, sku), on_hand, safety, units in zip(
                keys, chunk.on_hand.tolist(), chunk.safety_stock.tolist(), held, strict=False
            )
        ]
        tx.executemany(f"INSERT INTO stock ({COLUMNS}) VALUES (?, ?, ?, ?, ?)", rows)
        tx.executemany(
            "INSERT INTO movements (network_version, at, kind, node_id, sku_id, on_hand_delta, "
            "reserved_delta, reference) VALUES (?, ?, 'IMPORT', ?, ?, ?, ?, ?)",
            [(version, now, n, s, on_hand, held, reference) for n, s, on_hand, _, held in rows],
        )
    tx.execute("INSERT INTO stock_changes (node_id, sku_id) VALUES ('', '')")  # a new version


def last_seq(tx: Transaction) -> int:
    row = tx.execute("SELECT max(seq) FROM stock_changes").fetchone()
    return int(row[0] or 0)
