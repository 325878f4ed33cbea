"""Future stock through the real server and ledger: an order the shelf cannot fill is
promised from supply in transit, shipping on or after its arrival; the promised units are
held against the supply (never more than is inbound), wait for it to be received, then ship;
changes that take promised units away re-promise the orders last promised them.
``test_postgres_service.py`` runs these on PostgreSQL too."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import grpc
import pytest

from omniroute.inbound import inbound_node_id
from omniroute.ledger import open_ledger
from omniroute.model import InboundSupply, Network, Order, OrderLine
from omniroute.server.client import OmnirouteClient
from omniroute.v1 import inventory_service_pb2

from .test_service import reason

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()
ARRIVAL = TODAY + timedelta(days=5)


def _rugs(tiny: Network, n: int = 8, order_id: str = "rugs") -> Order:
    return Order(
        order_id,
        (OrderLine("1", "RUG", n),),
        destination=tiny.nodes[0].location,
        create_time=NOW.isoformat().replace("+00:00", "Z"),
        customer_id="C-9",
    )


def _units(response, node: str) -> int:  # type: ignore[no-untyped-def]
    return sum(x.quantity for s in response.plan.shipments if s.node_id == node for x in s.lines)


def _position(client: OmnirouteClient, node: str) -> tuple[int, int]:
    found = client.get_stock(sku_ids=["RUG"], node_ids=[node]).positions
    return (found[0].on_hand, found[0].reserved) if found else (0, 0)


def test_an_order_is_promised_from_supply_in_transit_and_ships_once_received(
    client: OmnirouteClient, tiny_network: Network, db_path: str
) -> None:
    inbound = inbound_node_id("DC1", ARRIVAL)
    short = client.plan_order(_rugs(tiny_network))
    assert short.plan.status != 1 or _units(short, inbound) == 0  # COMPLETE is 1
    assert sum(x.quantity for s in short.plan.shipments for x in s.lines) < 8

    put = client.put_inbound_supply(
        [InboundSupply("PO-1", "DC1", "RUG", 10, ARRIVAL)], request_id="po-1"
    )
    assert [s.id for s in put.supplies] == ["PO-1"]
    assert [s.id for s in client.list_inbound_supply().supplies] == ["PO-1"]
    assert _position(client, inbound) == (10, 0)

    response = client.reserve(_rugs(tiny_network))
    assert response.reservation_id
    assert sum(x.quantity for s in response.plan.shipments for x in s.lines) == 8
    from_transit = [s for s in response.plan.shipments if s.node_id == inbound]
    assert from_transit
    held = _units(response, inbound)
    for shipment in from_transit:
        assert date.fromisoformat(json_date(shipment.ship_date)) >= ARRIVAL
    assert _position(client, inbound) == (10, held)
    assert "rugs" in {o.order_id for o in client.list_orders(node_id="DC1").orders}
    # a second order is promised the rest in transit; re-routing it off the inbound node
    # frees the supply for a cut that re-promises nothing
    second = client.reserve(_rugs(tiny_network, 10 - held, "more-rugs"))
    assert _units(second, inbound) == 10 - held
    assert _position(client, inbound) == (10, 10)
    moved = client.reroute_order(second.reservation_id, inbound)
    assert all(s.node_id != inbound for s in moved.plan.shipments)
    assert _position(client, inbound) == (10, held)
    client.put_inbound_supply([InboundSupply("PO-1", "DC1", "RUG", held, ARRIVAL)])
    assert _position(client, inbound) == (held, held)
    client.put_inbound_supply([InboundSupply("PO-1", "DC1", "RUG", 10, ARRIVAL)])
    # save the sale with a time shows the inbound node and its date; a quote too
    offers = client.availability(
        ["RUG"],
        location=tiny_network.nodes[0].location,
        time=NOW.isoformat().replace("+00:00", "Z"),
    )
    assert any(n.node_id == inbound for n in offers.nodes)
    undated = client.availability(["RUG"], location=tiny_network.nodes[0].location)
    assert all(n.node_id != inbound for n in undated.nodes)

    # the promised units ship once received, not before
    with pytest.raises(grpc.RpcError) as caught:
        client.confirm_shipment("rugs", inbound, "T-1")
    assert reason(caught.value) == "NOT_RECEIVED"
    before = _position(client, "DC1")
    received = client.receive_inbound_supply("PO-1", 10, request_id="rcv-1")
    after = {p.node_id: (p.on_hand, p.reserved) for p in received.positions}
    assert after[inbound] == (held, held)  # the promised units wait for their order
    assert after["DC1"] == (before[0] + 10 - held, before[1])  # the rest is on the shelf
    assert client.receive_inbound_supply("PO-1", 10, request_id="rcv-1") == received
    status = client.confirm_shipment("rugs", inbound, "T-1")
    assert sum(x.shipped for x in status.lines) == held
    assert _position(client, inbound) == (0, 0)
    assert client.list_inbound_supply().supplies == []
    kinds = [
        inventory_service_pb2.Event.Type.Name(e.type) for e in client.watch_events(stop_at_end=True)
    ]
    assert "INBOUND_UPDATED" in kinds and "INBOUND_RECEIVED" in kinds
    # every position still adds up to its movements, and holds to their lines
    ledger = open_ledger(db_path)
    try:
        assert ledger.check() == []
    finally:
        ledger.close()


def json_date(message) -> str:  # type: ignore[no-untyped-def]
    return f"{message.year:04d}-{message.month:02d}-{message.day:02d}"


def test_bad_inbound_supply_changes_nothing(client: OmnirouteClient) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        client.put_inbound_supply(
            [
                InboundSupply("PO-1", "DC1", "RUG", 5, ARRIVAL),
                InboundSupply("PO-2", "NOPE", "NOPE", -1, ARRIVAL),
                InboundSupply("PO-1", "DC1", "RUG", 5, None),
            ]
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for field in (
        "supplies[1].nodeId",
        "supplies[1].skuId",
        "supplies[1].quantity",
        "supplies[2].id",
        "supplies[2].arrivalDate",
    ):
        assert field in caught.value.details(), field
    assert client.list_inbound_supply().supplies == []
    checked = client.put_inbound_supply(
        [InboundSupply("PO-1", "DC1", "RUG", 5, ARRIVAL)], validate_only=True
    )
    assert len(checked.supplies) == 1 and client.list_inbound_supply().supplies == []
    with pytest.raises(grpc.RpcError) as caught:
        client.receive_inbound_supply("PO-9", 1)
    assert reason(caught.value) == "INBOUND_SUPPLY_NOT_FOUND"
    client.put_inbound_supply([InboundSupply("PO-1", "DC1", "RUG", 5, ARRIVAL)])
    with pytest.raises(grpc.RpcError) as caught:
        client.receive_inbound_supply("PO-1", 6)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # a cancelled supply leaves no inbound node behind
    client.put_inbound_supply([InboundSupply("PO-1", "DC1", "RUG", 0, ARRIVAL)])
    assert _position(client, inbound_node_id("DC1", ARRIVAL)) == (0, 0)


def _events(client: OmnirouteClient, kind: str) -> list:  # type: ignore[type-arg]
    number = inventory_service_pb2.Event.Type.Value(kind)
    return [e for e in client.watch_events(stop_at_end=True) if e.type == number]


def test_a_supply_that_slips_or_shrinks_re_promises_its_orders(
    client: OmnirouteClient, tiny_network: Network, db_path: str
) -> None:
    """Two orders promised units of one supply: when its date slips both are promised
    again (from the supply's new date, the cheapest still), with an ORDER_REPROMISED event
    each; when it shrinks to the first order's units the second, promised last, moves to
    other stock or loses the units nothing can ship; the ledger adds up throughout."""
    client.put_inbound_supply([InboundSupply("PO-7", "DC1", "RUG", 10, ARRIVAL)])
    inbound = inbound_node_id("DC1", ARRIVAL)
    first = client.reserve(_rugs(tiny_network, 6, "first"))
    second = client.reserve(_rugs(tiny_network, 6, "second"))
    held_first, held_second = _units(first, inbound), _units(second, inbound)
    assert held_first > 0 and held_second > 0
    assert _position(client, inbound) == (10, held_first + held_second)

    later = ARRIVAL + timedelta(days=3)
    moved = inbound_node_id("DC1", later)
    client.put_inbound_supply([InboundSupply("PO-7", "DC1", "RUG", 10, later)], request_id="slip")
    assert _position(client, inbound) == (0, 0)
    assert _position(client, moved) == (10, held_first + held_second)
    for order_id, held in (("first", held_first), ("second", held_second)):
        status = client.get_order_status(order_id)
        shipments = [s for s in status.plan.shipments if s.node_id == moved]
        assert sum(x.quantity for s in shipments for x in s.lines) == held
        for shipment in shipments:
            assert date.fromisoformat(json_date(shipment.ship_date)) >= later
        kinds = [inventory_service_pb2.Event.Type.Name(e.type) for e in status.timeline]
        assert kinds[-1] == "ORDER_REPROMISED"
    first_plan = client.get_order_status("first").plan
    repromised = _events(client, "ORDER_REPROMISED")
    assert sorted(e.order_id for e in repromised) == ["first", "second"]
    assert {e.request_id for e in repromised} == {"slip"}
    # the same request again changes nothing more
    client.put_inbound_supply([InboundSupply("PO-7", "DC1", "RUG", 10, later)], request_id="slip")
    assert len(_events(client, "ORDER_REPROMISED")) == 2

    vendor_before = _position(client, "VN1")
    client.put_inbound_supply([InboundSupply("PO-7", "DC1", "RUG", held_first, later)])
    assert _position(client, moved) == (held_first, held_first)  # the first order keeps its
    status = client.get_order_status("second")
    assert all(s.node_id != moved for s in status.plan.shipments)
    from_vendor = _position(client, "VN1")[1] - vendor_before[1]
    unfilled = sum(u.quantity for u in status.plan.unfilled_lines)
    assert from_vendor + unfilled == held_second  # moved to the shelf, or no longer promised
    assert sum(x.quantity for s in status.plan.shipments for x in s.lines) + unfilled == 6
    last = _events(client, "ORDER_REPROMISED")[-1]
    assert last.order_id == "second"
    assert client.get_order_status("first").plan == first_plan  # untouched
    ledger = open_ledger(db_path)
    try:
        assert ledger.check() == []
    finally:
        ledger.close()


def test_a_backorder_and_a_pre_order_are_held_and_ship_as_promised(
    client: OmnirouteClient, tiny_network: Network, db_path: str
) -> None:
    """One order: 8 rugs that may wait (4 on a shelf in time, 10 in transit arriving past
    the promise) and 2 coats released in 20 days. The rugs the shelf cannot give are a
    backorder held against the supply; the coats a pre-order shipping from the release;
    the backorder ships once the supply is received."""
    release = TODAY + timedelta(days=20)
    skus = tuple(
        dataclasses.replace(s, release_date=release) if s.id == "COAT" else s
        for s in tiny_network.skus
    )
    client.put_network(dataclasses.replace(tiny_network, skus=skus))
    late = TODAY + timedelta(days=10)
    client.put_inbound_supply([InboundSupply("PO-9", "DC1", "RUG", 10, late)])
    order = dataclasses.replace(
        _rugs(tiny_network, order_id="mixed"),
        lines=(OrderLine("1", "RUG", 8, allow_backorder=True), OrderLine("2", "COAT", 2)),
        promise_days=5,
    )
    plain = dataclasses.replace(order, lines=(OrderLine("1", "RUG", 8), OrderLine("2", "COAT", 2)))
    assert client.plan_order(plain).plan.status != 1  # not COMPLETE without the backorder
    response = client.reserve(order)
    plan = response.plan
    assert plan.status == 1  # COMPLETE
    inbound = inbound_node_id("DC1", late)
    backorders = [s for s in plan.shipments if s.backorder]
    preorders = [s for s in plan.shipments if s.preorder]
    assert [s.node_id for s in backorders] == [inbound]
    assert {x.sku_id for s in preorders for x in s.lines} == {"COAT"}
    for shipment in preorders:
        assert date.fromisoformat(json_date(shipment.ship_date)) >= release
    for shipment in plan.shipments:
        if not (shipment.backorder or shipment.preorder):
            assert shipment.delivery_days <= 5
    held = _units(response, inbound)
    assert held == 8 - sum(
        x.quantity for s in plan.shipments if not s.backorder for x in s.lines if x.sku_id == "RUG"
    )
    assert _position(client, inbound) == (10, held)
    # the backorder ships once the supply is received
    with pytest.raises(grpc.RpcError) as caught:
        client.confirm_shipment("mixed", inbound, "T-B1")
    assert reason(caught.value) == "NOT_RECEIVED"
    client.receive_inbound_supply("PO-9", 10)
    status = client.confirm_shipment("mixed", inbound, "T-B1")
    assert sum(x.shipped for x in status.lines) == held
    ledger = open_ledger(db_path)
    try:
        assert ledger.check() == []
    finally:
        ledger.close()


def test_a_cut_after_a_partial_receipt_re_promises_only_the_orders_it_must(
    client: OmnirouteClient, tiny_network: Network, db_path: str
) -> None:
    """Units received and units still in transit both count: after 4 of 10 units arrive,
    cutting what is still in transit re-promises only the order promised last, as far as
    the rest no longer covers it."""
    client.put_inbound_supply([InboundSupply("PO-8", "DC1", "RUG", 10, ARRIVAL)])
    inbound = inbound_node_id("DC1", ARRIVAL)
    first = client.reserve(_rugs(tiny_network, 6, "first"))
    second = client.reserve(_rugs(tiny_network, 6, "second"))
    held_first, held_second = _units(first, inbound), _units(second, inbound)
    assert held_first > 0 and held_second > 0
    client.receive_inbound_supply("PO-8", 4)
    # received units wait for the orders at the inbound position (the rest is on the shelf)
    waiting = _position(client, inbound)[0] - 6
    assert waiting > 0
    # cut what is in transit so that waiting and transit cover the first order only
    left = max(0, held_first - waiting)
    client.put_inbound_supply([InboundSupply("PO-8", "DC1", "RUG", left, ARRIVAL)])
    assert _position(client, inbound) == (max(held_first, left), held_first)
    assert _units_of(client, "first", inbound) == held_first
    assert _units_of(client, "second", inbound) == 0
    assert [e.order_id for e in _events(client, "ORDER_REPROMISED")] == ["second"]
    ledger = open_ledger(db_path)
    try:
        assert ledger.check() == []
    finally:
        ledger.close()


def _units_of(client: OmnirouteClient, order_id: str, node: str) -> int:
    plan = client.get_order_status(order_id).plan
    return sum(x.quantity for s in plan.shipments if s.node_id == node for x in s.lines)
