"""An order's life in the ledger, on both backends: a shipment keeps the rest of the hold
past its time, an unshipped hold expires into an EXPIRED order, every step keeps the stock
reconciled with its movements, and the listing columns are rebuilt from the records."""

from __future__ import annotations

import time

from omniroute.ledger import (
    Ledger,
    OrderState,
    ReservationState,
    new_reservation_id,
    plan_lines,
)
from omniroute.ledger import orders as orders_table
from omniroute.model import Network, Order
from omniroute.planner import Planner


def _reserve(store: Ledger, network: Network, order: Order, ttl: float) -> str:
    plan = Planner(network).plan(order).plan
    reservation_id = new_reservation_id()
    store.reservations.reserve(
        reservation_id,
        f"req-{order.id}",
        b"f",
        order.id,
        plan_lines(plan),
        ttl,
        b"answer",
        order=(order, plan),
    )
    return reservation_id


def test_a_shipment_keeps_the_rest_of_the_hold_past_its_time(
    store: Ledger, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    shipping = tiny_orders["coat-and-jeans"]
    idle = tiny_orders["one-tee-melbourne"]
    kept = _reserve(store, tiny_network, shipping, ttl=0.5)
    lapsed = _reserve(store, tiny_network, idle, ttl=0.5)
    record = store.orders.get(shipping.id)
    (node, line), units = max(record.open_units().items(), key=lambda kv: kv[1])
    assert units >= 2
    store.fulfilment.ship(shipping.id, node, [(line, 1)], "T-1")
    time.sleep(0.7)
    assert store.reservations.expire_due() == 1
    assert store.reservations.get(kept).state is ReservationState.HELD
    assert store.reservations.get(lapsed).state is ReservationState.EXPIRED
    held = sum(x.quantity for x in store.reservations.get(kept).lines)
    assert held == sum(store.orders.get(shipping.id).open_units().values())
    assert store.orders.get(shipping.id).state() is OrderState.PARTIALLY_SHIPPED

    view = store.orders.status(idle.id)
    assert view.record.state() is OrderState.EXPIRED
    assert [e.type.value for e in view.timeline] == ["RESERVATION_HELD", "RESERVATION_EXPIRED"]
    assert [
        r.order_id for r in store.orders.page(node_id="DC1", states=[OrderState.EXPIRED]).orders
    ] == ([idle.id] if any(s.node_id == "DC1" for s in view.record.plan.shipments) else [])
    # the rest ships; the stock's movements still add up to it
    store.fulfilment.ship(shipping.id, node, [], "T-2")
    for other in {n for n, _ in store.orders.get(shipping.id).open_units()}:
        store.fulfilment.ship(shipping.id, other, [], f"T-{other}")
    assert store.orders.get(shipping.id).state() is OrderState.SHIPPED
    assert store.reservations.get(kept).state is ReservationState.COMMITTED
    assert store.check() == []


def test_listing_columns_are_rebuilt_from_the_records(
    store: Ledger, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """What migration 6 runs on orders stored before it: customer, state and nodes."""
    from dataclasses import replace

    order = replace(tiny_orders["coat-and-jeans"], customer_id="C-1")
    _reserve(store, tiny_network, order, ttl=60)
    store.fulfilment.cancel(order.id, ["1"])
    before = store.orders.page(customer_id="C-1").orders
    with store.db.write() as tx:
        tx.execute("UPDATE orders SET customer_id = '', state = 'RESERVED'")
        tx.execute("DELETE FROM order_nodes")
    assert store.orders.page(customer_id="C-1").orders == ()
    with store.db.write() as tx:
        orders_table.backfill(tx)
    assert store.orders.page(customer_id="C-1").orders == before
    # an order whose reservation settled before the order records kept shipments: the
    # backfill records how it ended
    committed = replace(tiny_orders["one-tee-melbourne"], customer_id="C-2")
    store.reservations.commit(_reserve(store, tiny_network, committed, ttl=60))
    record = store.orders.get(committed.id)
    with store.db.write() as tx:
        orders_table.save(tx, replace(record, shipments=(), cancellations=()))
    assert store.orders.get(committed.id).open_units()  # as an old record would read
    with store.db.write() as tx:
        orders_table.backfill(tx)
    ended = store.orders.get(committed.id)
    assert not ended.open_units() and ended.state() is OrderState.SHIPPED
    nodes = {s.node_id for s in before[0].plan.shipments}
    for node in nodes:
        assert store.orders.page(node_id=node, states=[OrderState.RESERVED]).orders == before
