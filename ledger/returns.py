"""Returns: a planned return is recorded (idempotent by request id); its units go on hand
at each leg's node when it is received, once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from omniroute.ledger import codec, events, idempotency, orders
from omniroute.ledger.database import Database, Transaction
from omniroute.ledger.errors import UnknownReturn
from omniroute.ledger.positions import position, receive
from omniroute.ledger.records import ReturnRecord, ReturnState
from omniroute.model import StockPosition
from omniroute.returns import ReturnLegPlan


def _find(tx: Transaction, return_id: str) -> ReturnRecord:
    row = tx.execute(
        "SELECT id, request_id, state, legs, created, updated, order_id FROM returns WHERE id = ?",
        (return_id,),
    ).fetchone()
    if row is None:
        raise UnknownReturn(return_id)
    legs = codec.loads(tuple[ReturnLegPlan, ...], bytes(row[3]))
    return ReturnRecord(row[0], row[1], ReturnState(row[2]), legs, row[4], row[5], row[6])


def _legs_json(legs: Sequence[ReturnLegPlan]) -> list[dict[str, object]]:
    """Where a return's units go, as event payload data."""
    return [
        {
            "nodeId": leg.node_id,
            "action": leg.action.name,
            "items": [{"skuId": i.sku_id, "quantity": i.quantity} for i in leg.items],
        }
        for leg in legs
    ]


class Returns:
    def __init__(self, db: Database) -> None:
        self.db = db

    def plan(
        self,
        request_id: str,
        fingerprint: bytes,
        legs: Sequence[ReturnLegPlan],
        order_id: str = "",
    ) -> ReturnRecord:
        """Record a planned return (of the reserved order ``order_id``, when given: its
        events then carry the order's id and customer); a retry with the same request id
        returns the first. :class:`UnknownOrder` when ``order_id`` names no reserved order."""
        now = time.time()
        with self.db.write() as tx:
            stored = idempotency.seen(tx, request_id, "PlanReturn", fingerprint)
            if stored is not None:
                return _find(tx, codec.loads(str, stored))
            customer_id = orders.require(tx, order_id).order.customer_id if order_id else ""
            record = ReturnRecord(
                "RT-" + uuid.uuid4().hex[:20],
                request_id,
                ReturnState.PLANNED,
                tuple(legs),
                now,
                now,
                order_id,
            )
            tx.execute(
                "INSERT INTO returns (id, request_id, state, legs, created, updated, order_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    request_id,
                    record.state.value,
                    codec.dumps(record.legs),
                    now,
                    now,
                    record.order_id,
                ),
            )
            event = events.NewEvent(
                events.EventType.RETURN_PLANNED,
                request_id=request_id,
                return_id=record.id,
                order_id=order_id,
                customer_id=customer_id,
                payload={"legs": _legs_json(record.legs)},
            )
            events.append(tx, now, [event])
            idempotency.remember(tx, request_id, "PlanReturn", fingerprint, codec.dumps(record.id))
        return record

    def receive(self, return_id: str) -> list[StockPosition]:
        """Put a planned return's units on hand at each leg's node (once); the positions."""
        now = time.time()
        with self.db.write() as tx:
            record = _find(tx, return_id)
            touched: list[tuple[str, str]] = []
            for leg in record.legs:
                for item in leg.items:
                    touched.append((leg.node_id, item.sku_id))
                    if record.state is ReturnState.PLANNED:
                        receive(tx, now, leg.node_id, item.sku_id, item.quantity, return_id)
            if record.state is ReturnState.PLANNED:  # receiving again changes nothing
                found = orders.find(tx, record.order_id) if record.order_id else None
                event = events.NewEvent(
                    events.EventType.RETURN_RECEIVED,
                    request_id=record.request_id,
                    return_id=return_id,
                    order_id=record.order_id,
                    customer_id=found.order.customer_id if found else "",
                    payload={"legs": _legs_json(record.legs)},
                )
                events.append(tx, now, [event])
            tx.execute(
                "UPDATE returns SET state = ?, updated = ? WHERE id = ?",
                (ReturnState.RECEIVED.value, now, return_id),
            )
            return [position(tx, n, s) for n, s in dict.fromkeys(touched)]
