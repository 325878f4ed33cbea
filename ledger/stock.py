"""Stock positions as callers see them: atomic, idempotent updates, filtered reads, pages,
the change feed other processes follow, and reconciliation against the movement history."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from omniroute.inbound import split_inbound_node_id
from omniroute.ledger import codec, events, idempotency
from omniroute.ledger import network as network_table
from omniroute.ledger.bulk import ImportMode, StockImport
from omniroute.ledger.database import Database, Transaction
from omniroute.ledger.positions import (
    COLUMNS,
    MovementKind,
    last_seq,
    position,
    positions,
    set_many,
)
from omniroute.ledger.reservations import expire_due, held_lines
from omniroute.model import FieldViolation, StockChange, StockPosition, ValidationError

KnownIds = Callable[[Transaction], tuple[set[str], set[str]]]
FILTER_COLUMNS = {
    "node_id": "node_id",
    "sku_id": "sku_id",
    "on_hand": "on_hand",
    "safety_stock": "safety_stock",
    "reserved": "reserved",
    "atp": "CASE WHEN on_hand - reserved - safety_stock > 0 "
    "THEN on_hand - reserved - safety_stock ELSE 0 END",
}
FILTER_OPERATORS = ("=", "!=", "<", "<=", ">", ">=")


MAX_ON_HAND = 2**31 - 1  # on-hand is an int32 in the API


def _real_node(node_id: str) -> str:
    """The node of an inbound node id (``NODE@DATE``: its supply in transit can be read);
    "" for any other id."""
    found = split_inbound_node_id(node_id)
    return found[0] if found else ""


@dataclass(frozen=True, slots=True)
class StockPage:
    """One page of positions and the key to continue after it (None: the last page)."""

    positions: tuple[StockPosition, ...]
    next_after: tuple[str, str] | None
    total: int


class Stock:
    """Reads and updates of stock positions (see the module docstring)."""

    def __init__(self, db: Database, known_ids: KnownIds) -> None:
        self.db = db
        self._known_ids = known_ids  # the node and SKU ids of the current network

    def update(
        self,
        changes: Sequence[StockChange],
        validate_only: bool = False,
        request_id: str = "",
        fingerprint: bytes = b"",
    ) -> list[StockPosition]:
        """Apply all changes atomically, or none: every problem is reported together.

        With a ``request_id`` (AIP-155) a retry of the same request returns the first
        answer and changes nothing.
        """
        with self.db.write() as tx:
            expire_due(tx, time.time())
            if request_id and not validate_only:
                stored = idempotency.seen(tx, request_id, "UpdateStock", fingerprint)
                if stored is not None:
                    return list(codec.loads(list[StockPosition], stored))
            nodes, skus = self._known_ids(tx)
            violations: list[FieldViolation] = []
            pending: dict[tuple[str, str], StockPosition] = {}
            for i, change in enumerate(changes):
                where = f"updates[{i}]"
                if change.node_id not in nodes:
                    violations.append(
                        FieldViolation(f"{where}.nodeId", f"unknown node {change.node_id!r}")
                    )
                if change.sku_id not in skus:
                    violations.append(
                        FieldViolation(f"{where}.skuId", f"unknown SKU {change.sku_id!r}")
                    )
                if (
                    change.set_on_hand is None
                    and change.delta_on_hand is None
                    and change.safety_stock is None
                ):
                    violations.append(FieldViolation(where, "nothing to change"))
                if change.set_on_hand is not None and change.set_on_hand < 0:
                    violations.append(FieldViolation(f"{where}.setOnHand", "must be >= 0"))
                if change.safety_stock is not None and change.safety_stock < 0:
                    violations.append(FieldViolation(f"{where}.safetyStock", "must be >= 0"))
                key = (change.node_id, change.sku_id)
                current = pending.get(key) or position(tx, *key)
                on_hand = current.on_hand
                if change.set_on_hand is not None:
                    on_hand = change.set_on_hand
                if change.delta_on_hand is not None:
                    on_hand += change.delta_on_hand
                    if on_hand < 0:
                        violations.append(
                            FieldViolation(
                                f"{where}.deltaOnHand", f"would make on-hand {on_hand} (< 0)"
                            )
                        )
                    elif on_hand > MAX_ON_HAND:
                        violations.append(
                            FieldViolation(
                                f"{where}.deltaOnHand",
                                f"would make on-hand {on_hand:,} (more than {MAX_ON_HAND:,})",
                            )
                        )
                if 0 <= on_hand < current.reserved:
                    violations.append(
                        FieldViolation(
                            where,
                            f"on-hand {on_hand} would fall below the {current.reserved} reserved",
                        )
                    )
                safety = (
                    current.safety_stock if change.safety_stock is None else change.safety_stock
                )
                pending[key] = StockPosition(
                    change.node_id, change.sku_id, on_hand, safety, current.reserved
                )
            if violations:
                raise ValidationError(violations, "stock update")
            results = list(pending.values())
            if validate_only:
                return results
            rows = []
            for p in results:
                before = position(tx, p.node_id, p.sku_id).on_hand
                rows.append((p.node_id, p.sku_id, p.on_hand, p.safety_stock, p.on_hand - before))
            now = time.time()
            set_many(tx, now, MovementKind.ADJUST, rows, request_id)
            payload: dict[str, object] = {
                "source": "UpdateStock",
                "changed": len(rows),
                "onHandDelta": sum(row[4] for row in rows),
            }
            if len(rows) <= events.MAX_LISTED:  # (a huge batch: the totals only)
                payload["positions"] = [
                    {
                        "nodeId": node,
                        "skuId": sku,
                        "onHand": on_hand,
                        "safetyStock": safety,
                        "onHandDelta": delta,
                    }
                    for node, sku, on_hand, safety, delta in rows
                ]
            event = events.NewEvent(
                events.EventType.STOCK_UPDATED, request_id=request_id, payload=payload
            )
            events.append(tx, now, [event])
            if request_id:
                idempotency.remember(
                    tx, request_id, "UpdateStock", fingerprint, codec.dumps(results)
                )
        return results

    def importer(self, mode: ImportMode) -> StockImport:
        """A bulk import of stock rows (:mod:`omniroute.ledger.bulk`): stage them, then
        apply them in one transaction."""
        return StockImport(self.db, self._known_ids, mode)

    def export(self) -> Iterator[StockPosition]:
        """Every position by node, then SKU, streamed from one consistent read."""
        with self.db.read() as tx:
            yield from positions(tx)

    def get(self, sku_ids: Iterable[str] = (), node_ids: Iterable[str] = ()) -> list[StockPosition]:
        """Positions filtered by SKUs and nodes (empty filter = all), by node then SKU."""
        skus, nodes = list(sku_ids), list(node_ids)
        with self.db.read() as tx:
            known_nodes, known_skus = self._known_ids(tx)
            violations = [
                FieldViolation(f"nodeIds[{i}]", f"unknown node {n!r}")
                for i, n in enumerate(nodes)
                if n not in known_nodes and _real_node(n) not in known_nodes
            ]
            violations += [
                FieldViolation(f"skuIds[{i}]", f"unknown SKU {s!r}")
                for i, s in enumerate(skus)
                if s not in known_skus
            ]
            if violations:
                raise ValidationError(violations, "stock query")
            clauses, params = [], []
            if skus:
                clauses.append(f"sku_id IN ({','.join('?' * len(skus))})")
                params += skus
            if nodes:
                clauses.append(f"node_id IN ({','.join('?' * len(nodes))})")
                params += nodes
            where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
            return list(positions(tx, where, params))

    def page(
        self,
        clauses: Sequence[tuple[str, str, object]],
        size: int,
        after: tuple[str, str] | None = None,
    ) -> StockPage:
        """Up to ``size`` positions for which every ``(column, operator, value)`` clause
        holds, ordered by node then SKU, starting after the key ``after``.

        Columns: node_id, sku_id, on_hand, safety_stock, reserved, atp; operators: =, !=,
        <, <=, >, >=.
        """
        conditions, params = ["1 = 1"], []
        for column, operator, value in clauses:
            if column not in FILTER_COLUMNS or operator not in FILTER_OPERATORS:
                raise ValueError(f"cannot filter on {column} {operator}")
            conditions.append(f"{FILTER_COLUMNS[column]} {operator} ?")
            params.append(value)
        condition = " AND ".join(conditions)
        with self.db.read() as tx:
            total = int(
                tx.execute(f"SELECT count(*) FROM stock WHERE {condition}", params).fetchone()[0]
            )
            page_params: list[object] = list(params)
            keyset = ""
            if after is not None:
                keyset = " AND (node_id > ? OR (node_id = ? AND sku_id > ?))"
                page_params += [after[0], after[0], after[1]]
            rows = tx.execute(
                f"SELECT {COLUMNS} FROM stock WHERE {condition}{keyset} "
                "ORDER BY node_id, sku_id LIMIT ?",
                [*page_params, size + 1],
            ).fetchall()
        found = tuple(StockPosition(*row) for row in rows[:size])
        more = len(rows) > size
        return StockPage(found, (found[-1].node_id, found[-1].sku_id) if more else None, total)

    def changes_since(self, seq: int) -> tuple[int, list[StockPosition]]:
        """Positions changed after ``seq`` (latest values) and the newest seq."""
        with self.db.read() as tx:
            last = last_seq(tx)
            if last == seq:
                return seq, []
            rows = tx.execute(
                "SELECT DISTINCT s.node_id, s.sku_id, s.on_hand, s.safety_stock, s.reserved "
                "FROM stock_changes c JOIN stock s ON s.node_id = c.node_id "
                "AND s.sku_id = c.sku_id WHERE c.seq > ?",
                (seq,),
            ).fetchall()
        return last, [StockPosition(*row) for row in rows]

    def reconciliation_problems(self) -> list[str]:
        """Every position whose reserved units differ from its held lines, or whose on-hand
        and reserved units differ from the sums of its movements since the network was put."""
        problems = []
        with self.db.read() as tx:
            version = network_table.version(tx)
            held: dict[tuple[str, str], int] = {}
            for lines in held_lines(tx).values():
                for line in lines:
                    key = (line.node_id, line.sku_id)
                    held[key] = held.get(key, 0) + line.quantity
            history = {
                (node, sku): (on_hand, reserved)
                for node, sku, on_hand, reserved in tx.execute(
                    "SELECT node_id, sku_id, SUM(on_hand_delta), SUM(reserved_delta) "
                    "FROM movements WHERE network_version = ? GROUP BY node_id, sku_id",
                    (version,),
                )
            }
            for p in positions(tx):
                key = (p.node_id, p.sku_id)
                if p.reserved != held.get(key, 0):
                    problems.append(
                        f"{key}: reserved {p.reserved} but holds total {held.get(key, 0)}"
                    )
                if history.get(key, (0, 0)) != (p.on_hand, p.reserved):
                    problems.append(
                        f"{key}: on-hand/reserved {p.on_hand}/{p.reserved}"
                        f" but movements sum to {history.get(key)}"
                    )
        return problems
