"""Future stock through the real server and ledger: an order the shelf cannot fill is
promised from supply in transit, shipping on or after its arrival; the promised units are
held against the supply (never more than is inbound), wait for it to be received, then ship;
changes that would take promised units away are refused. ``test_postgres_service.py`` runs
these on PostgreSQL too."""

from __future__ import annotations

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
    # the supply cannot be cut below what is promised, nor moved while promised
    for change in (
        InboundSupply("PO-1", "DC1", "RUG", held - 1, ARRIVAL),
        InboundSupply("PO-1", "DC1", "RUG", 10, ARRIVAL + timedelta(days=2)),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            client.put_inbound_supply([change])
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason(caught.value) == "INBOUND_HELD"
    assert _position(client, inbound) == (10, held)
    assert "rugs" in {o.order_id for o in client.list_orders(node_id="DC1").orders}
    # a second order is promised the rest in transit; re-routing it off the inbound node
    # (as INBOUND_HELD asks) frees the supply for a cut
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
