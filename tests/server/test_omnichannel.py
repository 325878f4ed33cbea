"""Omnichannel flows end to end through real gRPC calls on the SQLite store: pick up in store,
re-route on rejection, return anywhere, the order view."""

from __future__ import annotations

import grpc
import pytest

from omniroute.ledger import open_ledger
from omniroute.model import Location, Order, OrderLine
from omniroute.server.client import OmnirouteClient
from omniroute.v1 import inventory_service_pb2 as inv
from omniroute.v1 import network_pb2, plan_pb2
from omniroute.v1 import routing_service_pb2 as routing

from .conftest import ServerThread
from .test_service import reason, violations

MELBOURNE = Location(-37.85, 145.0)
Reason = routing.RerouteOrderRequest.Reason
State = routing.OrderPlan.ShipmentState


def reserve(client: OmnirouteClient, order: Order, request_id: str) -> plan_pb2.PlanOrderResponse:
    request = OmnirouteClient.plan_request(order)
    request.reserve, request.request_id = True, request_id
    return client.routing.PlanOrder(request)


def reserved(client: OmnirouteClient) -> dict[tuple[str, str], int]:
    return {(p.node_id, p.sku_id): p.reserved for p in client.get_stock().positions if p.reserved}


# ----------------------------------------------------------------------------- pick up in store


def test_pickup_from_the_stores_own_stock(client: OmnirouteClient) -> None:
    """The store holds the tees: handed over there, no carrier cost, ready after processing."""
    order = Order("p1", (OrderLine("1", "TEE", 2),), pickup_store_id="ST1")
    plan = client.plan_order(order).plan
    assert [(s.node_id, s.service_id) for s in plan.shipments] == [("ST1", "")]
    shipment = plan.shipments[0]
    assert (
        shipment.cost_breakdown.carrier_parcels == 0 and shipment.cost_breakdown.carrier_weight == 0
    )
    assert plan.delivery_days == 0  # the store's processing days


def test_pickup_shipped_to_the_store(client: OmnirouteClient) -> None:
    """The store has no jeans: they ship to it; the days say when they are ready."""
    order = Order("p2", (OrderLine("1", "JEANS", 1),), pickup_store_id="ST1")
    plan = client.plan_order(order).plan
    assert plan.status == plan_pb2.Plan.COMPLETE
    assert all(s.node_id != "ST1" and s.service_id for s in plan.shipments)
    assert plan.delivery_days == max(s.delivery_days for s in plan.shipments) > 0


def test_pickup_at_a_store_without_pickup_is_invalid(client: OmnirouteClient) -> None:
    order = Order("p3", (OrderLine("1", "JEANS", 1),), pickup_store_id="ST2")
    with pytest.raises(grpc.RpcError) as caught:
        client.plan_order(order)
    assert violations(caught.value) == {"order.pickupStoreId"}


# ----------------------------------------------------------------------------- re-route


def test_reroute_on_rejection(
    server: ServerThread, client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    """The store rejects the coat: only the coat is re-planned, the rest kept, holds moved."""
    first = reserve(client, tiny_orders["coat-and-jeans"], "res-1")
    # ST1 and ST2 ship the coat for the same cost: either may be planned; the other takes over
    nodes = {s.node_id for s in first.plan.shipments}
    (store,) = nodes - {"DC1"}
    assert "DC1" in nodes and store in ("ST1", "ST2")
    other = "ST1" if store == "ST2" else "ST2"
    assert reserved(client) == {("DC1", "JEANS"): 4, (store, "COAT"): 1}

    request = routing.RerouteOrderRequest(
        reservation_id=first.reservation_id,
        node_id=store,
        reason=Reason.SHORT_PICK,
        request_id="reroute-1",
        lines=[plan_pb2.ShipmentLine(line_id="1", quantity=1)],
    )
    rerouted = client.routing.RerouteOrder(request)
    nodes = {s.node_id for s in rerouted.plan.shipments}
    assert nodes == {"DC1", other} and store not in nodes
    assert sum(s.units for s in rerouted.plan.shipments) == 5  # units conserved
    assert reserved(client) == {("DC1", "JEANS"): 4, (other, "COAT"): 1}
    states = {(s.node_id, s.state, s.rerouted) for s in rerouted.shipments}
    assert states == {
        ("DC1", State.HELD, False),
        (other, State.HELD, True),
        (store, State.REJECTED, False),
    }

    again = client.routing.RerouteOrder(request)  # a retry changes nothing
    assert again == rerouted
    assert reserved(client) == {("DC1", "JEANS"): 4, (other, "COAT"): 1}
    assert (
        client.routing.GetOrderPlan(routing.GetOrderPlanRequest(order_id="coat-and-jeans"))
        == rerouted
    )

    # The other rejects too: no coat can be held (DC1's is safety stock), the first stays excluded.
    second = client.routing.RerouteOrder(
        routing.RerouteOrderRequest(
            reservation_id=first.reservation_id,
            node_id=other,
            reason=Reason.DAMAGED,
            request_id="reroute-2",
        )
    )
    assert {s.node_id for s in second.plan.shipments} == {"DC1"}
    assert second.plan.status == plan_pb2.Plan.PARTIAL
    assert [(u.line_id, u.quantity) for u in second.plan.unfilled_lines] == [("1", 1)]
    assert reserved(client) == {("DC1", "JEANS"): 4}
    assert [s.node_id for s in second.shipments if s.state == State.REJECTED] == [store, other]
    assert open_ledger(server.config.db).check() == []

    committed = client.inventory.CommitReservation(
        inv.CommitReservationRequest(reservation_id=first.reservation_id)
    )
    assert [(line.node_id, line.sku_id, line.quantity) for line in committed.lines] == [
        ("DC1", "JEANS", 4)
    ]
    view = client.routing.GetOrderPlan(routing.GetOrderPlanRequest(order_id="coat-and-jeans"))
    assert {s.node_id: s.state for s in view.shipments if s.state != State.REJECTED} == {
        "DC1": State.COMMITTED
    }


def test_reroute_errors(client: OmnirouteClient, tiny_orders: dict[str, Order]) -> None:
    first = reserve(client, tiny_orders["coat-and-jeans"], "res-2")
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.RerouteOrder(
            routing.RerouteOrderRequest(reservation_id=first.reservation_id)
        )
    assert violations(caught.value) == {"nodeId", "requestId"}
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.RerouteOrder(
            routing.RerouteOrderRequest(
                reservation_id=first.reservation_id, node_id="VN1", request_id="x"
            )
        )
    assert violations(caught.value) == {"nodeId"}
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.RerouteOrder(
            routing.RerouteOrderRequest(
                reservation_id=first.reservation_id,
                node_id="DC1",
                request_id="y",
                lines=[plan_pb2.ShipmentLine(line_id="2", quantity=9)],
            )
        )
    assert violations(caught.value) == {"lines[0]"}
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.RerouteOrder(
            routing.RerouteOrderRequest(reservation_id="R-unknown", node_id="DC1", request_id="z")
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert reason(caught.value) == "ORDER_NOT_FOUND"
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.GetOrderPlan(routing.GetOrderPlanRequest(order_id="never-reserved"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


# ----------------------------------------------------------------------------- returns


def test_return_anywhere(server: ServerThread, client: OmnirouteClient) -> None:
    """Handed in at a store: a resaleable coat is restocked there unless a node needs it more;
    an item needing inspection goes to the DC; stock changes only when received (once)."""
    request = routing.PlanReturnRequest(
        store_id="ST2",
        request_id="ret-1",
        lines=[
            routing.ReturnLine(sku_id="COAT", quantity=1, condition=routing.ReturnLine.RESALEABLE),
            routing.ReturnLine(
                sku_id="JEANS", quantity=1, condition=routing.ReturnLine.NEEDS_INSPECTION
            ),
        ],
    )
    plan = client.routing.PlanReturn(request)
    legs = {leg.action: leg for leg in plan.legs}
    assert set(legs) == {routing.ReturnLeg.RESTOCK_HERE, routing.ReturnLeg.INSPECT_AT_DC} or set(
        legs
    ) == {routing.ReturnLeg.SEND_TO_NODE, routing.ReturnLeg.INSPECT_AT_DC}
    assert legs[routing.ReturnLeg.INSPECT_AT_DC].node_id == "DC1"
    assert plan.net_cost == pytest.approx(sum(leg.cost - leg.value for leg in plan.legs))
    assert client.routing.PlanReturn(request).return_id == plan.return_id  # idempotent

    before = {(p.node_id, p.sku_id): p.on_hand for p in client.get_stock().positions}
    received = client.inventory.ReceiveReturn(inv.ReceiveReturnRequest(return_id=plan.return_id))
    after = {(p.node_id, p.sku_id): p.on_hand for p in client.get_stock().positions}
    for leg in plan.legs:
        for line in leg.lines:
            key = (leg.node_id, line.sku_id)
            assert after[key] == before.get(key, 0) + line.quantity
    assert len(received.positions) == 2
    client.inventory.ReceiveReturn(inv.ReceiveReturnRequest(return_id=plan.return_id))
    assert {(p.node_id, p.sku_id): p.on_hand for p in client.get_stock().positions} == after
    assert open_ledger(server.config.db).check() == []


def test_return_goes_where_it_is_needed(client: OmnirouteClient) -> None:
    """A customer's parcel return of a coat goes to the node short of coats (DC1: its one coat
    is safety stock) when that beats the cost."""
    plan = client.routing.PlanReturn(
        routing.PlanReturnRequest(
            origin=network_pb2.Location(latitude=-37.82, longitude=144.97),
            request_id="ret-2",
            unit_value=50.0,
            lines=[routing.ReturnLine(sku_id="COAT", quantity=1)],
        )
    )
    assert [(leg.action, leg.node_id) for leg in plan.legs] == [
        (routing.ReturnLeg.SEND_TO_NODE, "DC1")
    ]
    assert plan.legs[0].value == 50.0 and plan.legs[0].service_id


def test_return_validation(client: OmnirouteClient) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        client.routing.PlanReturn(
            routing.PlanReturnRequest(
                lines=[routing.ReturnLine(sku_id="NOPE", quantity=0)], unit_value=-1
            )
        )
    assert violations(caught.value) == {
        "lines[0].skuId",
        "lines[0].quantity",
        "origin",
        "unitValue",
        "requestId",
    }
    with pytest.raises(grpc.RpcError) as caught:
        client.inventory.ReceiveReturn(inv.ReceiveReturnRequest(return_id="RT-unknown"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
