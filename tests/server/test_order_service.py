"""OrderService through the real gRPC server and ledger: shipments (partial, then the
rest), deliveries, cancellations after a shipment, the order's timeline, lists by customer
and node, and every transition that makes no sense refused without changing anything.
``tests/server/test_postgres_service.py`` runs the same tests on PostgreSQL."""

from __future__ import annotations

import dataclasses
import json

import grpc
import pytest

from omniroute.model import Order, ShipmentLine
from omniroute.server.cli import main
from omniroute.server.client import OmnirouteClient
from omniroute.v1 import inventory_service_pb2, order_service_pb2

from .conftest import ServerThread
from .test_service import reason

State = order_service_pb2.OrderState
EventType = inventory_service_pb2.Event.Type


def _reserve(client: OmnirouteClient, order: Order, customer: str) -> dict[str, dict[str, int]]:
    """Reserve ``order`` for ``customer``; its plan as units per node, per line id."""
    response = client.reserve(dataclasses.replace(order, customer_id=customer))
    assert response.reservation_id
    planned: dict[str, dict[str, int]] = {}
    for shipment in response.plan.shipments:
        for line in shipment.lines:
            lines = planned.setdefault(shipment.node_id, {})
            lines[line.line_id] = lines.get(line.line_id, 0) + line.quantity
    return planned


def _stock(client: OmnirouteClient) -> dict[tuple[str, str], tuple[int, int]]:
    """(on hand, reserved) per position."""
    return {(p.node_id, p.sku_id): (p.on_hand, p.reserved) for p in client.get_stock().positions}


def _refused(call, code: grpc.StatusCode = grpc.StatusCode.FAILED_PRECONDITION) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call()
    assert caught.value.code() == code, caught.value.details()
    return reason(caught.value) if code != grpc.StatusCode.INVALID_ARGUMENT else ""


def _multi_unit_node(planned: dict[str, dict[str, int]]) -> tuple[str, str, int]:
    """A (node, line, units) of the plan with at least two units."""
    return next((n, i, q) for n, lines in planned.items() for i, q in lines.items() if q >= 2)


def test_partial_shipment_second_shipment_and_delivery(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    """Reserve -> ship part -> ship the rest -> deliver each: the status shows every step in
    order with its tracking number, and stock moves by exactly the shipped units."""
    order = tiny_orders["coat-and-jeans"]
    before = _stock(client)
    planned = _reserve(client, order, "C-1")
    node, line, units = _multi_unit_node(planned)
    sku = {x.id: x.sku_id for x in order.lines}[line]

    first = client.confirm_shipment(
        order.id, node, "TRACK-1", [(line, 1)], carrier="auspost", request_id="ship-1"
    )
    assert first.state == State.PARTIALLY_SHIPPED
    row = next(x for x in first.lines if x.line_id == line)
    assert (row.shipped, row.open) == (1, units - 1)
    on_hand, reserved = before[(node, sku)]
    assert _stock(client)[(node, sku)] == (on_hand - 1, units - 1)
    # a retry returns the first answer and ships nothing more
    again = client.confirm_shipment(
        order.id, node, "TRACK-1", [(line, 1)], carrier="auspost", request_id="ship-1"
    )
    assert again == first
    assert _stock(client)[(node, sku)] == (on_hand - 1, units - 1)

    # the rest, one shipment per node (everything each node still holds)
    tracking = ["TRACK-1"]
    for i, other in enumerate(sorted(planned)):
        tracking.append(f"TRACK-{i + 2}")
        status = client.confirm_shipment(order.id, other, tracking[-1])
    assert status.state == State.SHIPPED
    assert all(x.open == 0 and x.shipped == x.ordered for x in status.lines)
    after = _stock(client)
    for other, lines in planned.items():
        for line_id, count in lines.items():
            key = (other, {x.id: x.sku_id for x in order.lines}[line_id])
            assert after[key] == (before[key][0] - count, 0)

    for number in tracking[:-1]:
        status = client.confirm_delivery(order.id, number)
        assert status.state == State.SHIPPED
    status = client.confirm_delivery(order.id, tracking[-1])
    assert status.state == State.DELIVERED
    assert [s.tracking_number for s in status.shipments] == tracking
    assert all(s.HasField("delivery_time") for s in status.shipments)

    timeline = client.get_order_status(order.id).timeline
    kinds = [EventType.Name(e.type) for e in timeline]
    n = len(tracking)
    assert kinds == [
        "RESERVATION_HELD",
        *["SHIPMENT_CONFIRMED"] * n,
        "RESERVATION_COMMITTED",
        *["DELIVERY_CONFIRMED"] * n,
    ]
    shipped = [json.loads(e.payload_json)["trackingNumber"] for e in timeline[1 : n + 1]]
    delivered = [json.loads(e.payload_json)["trackingNumber"] for e in timeline[n + 2 :]]
    assert shipped == tracking and delivered == tracking
    assert [e.cursor for e in timeline] == sorted(e.cursor for e in timeline)
    # the same events are on the stream, with the order's customer
    stream = [e for e in client.watch_events(stop_at_end=True) if e.order_id == order.id]
    assert [e.cursor for e in stream] == [e.cursor for e in timeline]
    assert {e.customer_id for e in stream} == {"C-1"}


def test_cancel_after_a_shipment_releases_exactly_the_unshipped_units(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    order = tiny_orders["coat-and-jeans"]
    skus = {x.id: x.sku_id for x in order.lines}
    before = _stock(client)
    planned = _reserve(client, order, "C-2")
    node, line, _ = _multi_unit_node(planned)
    client.confirm_shipment(order.id, node, "T-1", [(line, 1)])

    status = client.cancel_order(order.id, reason="customer changed their mind")
    assert status.state == State.SHIPPED  # what shipped stays shipped
    after = _stock(client)
    for other, lines in planned.items():
        for line_id in lines:
            key = (other, skus[line_id])
            gone = 1 if (other, line_id) == (node, line) else 0
            assert after[key] == (before[key][0] - gone, 0), key
    cancelled = {x.line_id: x.cancelled for x in status.lines}
    shipped = {x.line_id: x.shipped for x in status.lines}
    for x in order.lines:
        assert cancelled[x.id] + shipped[x.id] == x.quantity
    event = status.timeline[-1]
    assert EventType.Name(status.timeline[-2].type) == "ORDER_CANCELLED"
    assert EventType.Name(event.type) == "RESERVATION_COMMITTED"
    assert json.loads(event.payload_json)["cause"] == "ORDER_CANCELLED"
    released = json.loads(status.timeline[-2].payload_json)
    assert released["units"] == sum(sum(v.values()) for v in planned.values()) - 1
    assert released["reason"] == "customer changed their mind"

    # nothing is left to cancel or ship; the shipped parcel can still be delivered
    assert _refused(lambda: client.cancel_order(order.id)) == "NOTHING_TO_CANCEL"
    assert _refused(lambda: client.confirm_shipment(order.id, node, "T-2")) == (
        "NODE_HOLDS_NOTHING"
    )
    assert client.confirm_delivery(order.id, "T-1").state == State.DELIVERED
    assert _stock(client) == after


def test_cancel_some_lines_and_then_the_rest(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    order = tiny_orders["coat-and-jeans"]
    before = _stock(client)
    _reserve(client, order, "C-3")
    status = client.cancel_order(order.id, ["1"])
    assert status.state == State.RESERVED
    assert [(x.line_id, x.cancelled, x.open) for x in status.lines] == [("1", 1, 0), ("2", 0, 4)]
    assert _refused(lambda: client.cancel_order(order.id, ["1"])) == "NOTHING_TO_CANCEL"
    status = client.cancel_order(order.id, ["2"])
    assert status.state == State.CANCELLED
    assert EventType.Name(status.timeline[-1].type) == "RESERVATION_RELEASED"
    assert _stock(client) == before
    reservation = client.get_reservation(status.reservation_id)
    assert reservation.state == inventory_service_pb2.Reservation.RELEASED


def test_nonsensical_transitions_are_refused_and_change_nothing(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    order = tiny_orders["coat-and-jeans"]
    planned = _reserve(client, order, "C-4")
    node, line, units = _multi_unit_node(planned)
    elsewhere = next(n for n in ("DC1", "ST1", "ST2", "VN1") if n not in planned)
    client.confirm_shipment(order.id, node, "T-1", [(line, 1)])
    stock, status = _stock(client), client.get_order_status(order.id)

    refusals = {
        "NODE_HOLDS_NOTHING": lambda: client.confirm_shipment(order.id, elsewhere, "T-2"),
        "SHIPMENT_EXCEEDS_HELD": lambda: client.confirm_shipment(
            order.id, node, "T-2", [(line, units)]
        ),
        "TRACKING_NUMBER_USED": lambda: client.confirm_shipment(order.id, node, "T-1"),
        "NOT_SHIPPED": lambda: client.confirm_delivery(order.id, "T-9"),
        "DELIVERED_BEFORE_SHIPPED": lambda: client.confirm_delivery(
            order.id, "T-1", delivery_time=1_000_000.0
        ),
    }
    for expected, call in refusals.items():
        assert _refused(call) == expected
    assert _stock(client) == stock and client.get_order_status(order.id) == status
    client.confirm_delivery(order.id, "T-1", request_id="deliver-1")
    delivered = client.get_order_status(order.id)
    assert _refused(lambda: client.confirm_delivery(order.id, "T-1")) == "ALREADY_DELIVERED"
    # a retry of the delivery gets its first answer; another call under its id is refused
    assert client.confirm_delivery(order.id, "T-1", request_id="deliver-1").state == (
        delivered.state
    )
    assert _refused(
        lambda: client.cancel_order(order.id, request_id="deliver-1"),
        grpc.StatusCode.ALREADY_EXISTS,
    ) == ("REQUEST_ID_REUSED")
    # bad input: INVALID_ARGUMENT, every field named
    with pytest.raises(grpc.RpcError) as caught:
        client.orders.ConfirmShipment(
            order_service_pb2.ConfirmShipmentRequest(
                order_id=order.id, lines=[{"line_id": "", "quantity": 0}]
            )
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for field in ("nodeId", "trackingNumber", "requestId", "lines[0].lineId", "lines[0].quantity"):
        assert field in caught.value.details()
    _refused(
        lambda: client.confirm_shipment(order.id, node, "T-3", [("no-such-line", 1)]),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    _refused(lambda: client.get_order_status("no-such-order"), grpc.StatusCode.NOT_FOUND)
    _refused(lambda: client.cancel_order("no-such-order"), grpc.StatusCode.NOT_FOUND)
    assert _stock(client) == stock
    now = client.get_order_status(order.id)
    assert [e.cursor for e in now.timeline] == [e.cursor for e in delivered.timeline]
    assert now.lines == delivered.lines and now.shipments == delivered.shipments


def test_list_orders_by_customer_and_by_node(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    ids = ["one-tee-melbourne", "coat-and-jeans", "rug-sydney"]
    plans = {i: _reserve(client, tiny_orders[i], "C-5") for i in ids}
    _reserve(client, tiny_orders["tee-twice"], "C-6")
    client.cancel_order("rug-sydney")

    seen, token = [], ""
    while True:
        page = client.list_orders(customer_id="C-5", page_size=1, page_token=token)
        seen += [(o.order_id, State.Name(o.state)) for o in page.orders]
        assert all(not o.timeline for o in page.orders)
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted((i, "CANCELLED" if i == "rug-sydney" else "RESERVED") for i in ids)
    reserved = client.list_orders(customer_id="C-5", state="RESERVED").orders
    assert sorted(o.order_id for o in reserved) == ["coat-and-jeans", "one-tee-melbourne"]
    node = next(iter(plans["coat-and-jeans"]))
    at_node = client.list_orders(node_id=node).orders
    expected = {i for i, p in plans.items() if node in p}
    assert expected <= {o.order_id for o in at_node}
    assert all(any(s.node_id == node for s in o.plan.shipments) for o in at_node)
    # a token is bound to its filters; a list needs a customer or a node
    first = client.list_orders(customer_id="C-5", page_size=1)
    _refused(
        lambda: client.list_orders(customer_id="C-6", page_token=first.next_page_token),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    _refused(lambda: client.list_orders(), grpc.StatusCode.INVALID_ARGUMENT)


def test_a_return_of_the_order_joins_its_timeline(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    order = tiny_orders["one-tee-melbourne"]
    _reserve(client, order, "C-7")
    client.confirm_shipment(order.id, next(iter(_plan_nodes(client, order.id))), "T-1")
    client.confirm_delivery(order.id, "T-1")
    returned = client.plan_return([("TEE", 1)], store_id="ST1", order_id=order.id)
    client.receive_return(returned.return_id)
    timeline = client.get_order_status(order.id).timeline
    kinds = [EventType.Name(e.type) for e in timeline]
    assert kinds[-2:] == ["RETURN_PLANNED", "RETURN_RECEIVED"]
    assert {e.customer_id for e in timeline} == {"C-7"}
    _refused(
        lambda: client.plan_return([("TEE", 1)], store_id="ST1", order_id="no-such-order"),
        grpc.StatusCode.NOT_FOUND,
    )


def _plan_nodes(client: OmnirouteClient, order_id: str) -> list[str]:
    return [s.node_id for s in client.get_order_status(order_id).plan.shipments]


def test_cli_order_status_and_list(
    server: ServerThread,
    client: OmnirouteClient,
    tiny_orders: dict[str, Order],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`omniroute order status` and `order list` against the server, as an agent reads them."""
    order = tiny_orders["coat-and-jeans"]
    planned = _reserve(client, order, "C-8")
    node, line, _ = _multi_unit_node(planned)
    client.confirm_shipment(order.id, node, "TRACK-77", [(line, 1)], carrier="auspost")
    capsys.readouterr()

    assert main(["order", "status", order.id, "--server", server.target]) == 0
    out = capsys.readouterr().out
    assert f"order {order.id} (customer C-8): PARTIALLY_SHIPPED" in out
    assert "TRACK-77" in out and "auspost" in out
    timeline = out.split("timeline", 1)[1].strip().splitlines()
    assert "routed and held" in timeline[0] and "tracking TRACK-77" in timeline[1]

    assert main(["order", "list", "--customer", "C-8", "--server", server.target]) == 0
    out = capsys.readouterr().out
    assert order.id in out and "PARTIALLY_SHIPPED" in out
    assert (
        main(["order", "list", "--node", node, "--state", "shipped", "--server", server.target])
        == 0
    )
    assert "no orders" in capsys.readouterr().out
    assert main(["order", "status", order.id, "--json", "--server", server.target]) == 0
    as_json = json.loads(capsys.readouterr().out)
    assert as_json["state"] == "PARTIALLY_SHIPPED"
    assert as_json["shipments"][0]["trackingNumber"] == "TRACK-77"

    assert main(["order", "status", "nope", "--server", server.target]) == 2
    assert "NOT_FOUND" in capsys.readouterr().err
    assert main(["order", "list", "--server", server.target]) == 2
    assert "--customer" in capsys.readouterr().err
    assert main(["order", "status", "x", "--server", "localhost:1", "--timeout", "2"]) == 2
    assert "no omniroute server answers at localhost:1" in capsys.readouterr().err


def test_commit_release_and_reroute_are_recorded_in_the_order(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    """The older calls keep the order's status true: CommitReservation ships every open unit
    (no tracking number), ReleaseReservation cancels them; a re-route after a partial
    shipment moves only open units, and shipped units cannot be rejected."""
    committed = tiny_orders["coat-and-jeans"]
    planned = _reserve(client, committed, "C-10")
    node, line, units = _multi_unit_node(planned)
    client.confirm_shipment(committed.id, node, "T-1", [(line, 1)])
    status = client.get_order_status(committed.id)
    client.commit_reservation(status.reservation_id)
    status = client.get_order_status(committed.id)
    assert status.state == State.SHIPPED
    assert all(x.open == 0 and x.shipped == x.ordered for x in status.lines)
    assert [s.tracking_number for s in status.shipments][0] == "T-1"
    assert all(s.tracking_number == "" for s in status.shipments[1:])

    released = tiny_orders["one-tee-melbourne"]
    _reserve(client, released, "C-10")
    status = client.get_order_status(released.id)
    client.release_reservation(status.reservation_id)
    status = client.get_order_status(released.id)
    assert status.state == State.CANCELLED
    assert [(x.cancelled, x.open) for x in status.lines] == [(1, 0)]
    assert EventType.Name(status.timeline[-1].type) == "RESERVATION_RELEASED"

    rerouted = tiny_orders["tee-twice"]
    planned = _reserve(client, rerouted, "C-10")
    node = next(iter(planned))
    first_line = next(iter(planned[node]))
    client.confirm_shipment(rerouted.id, node, "T-2", [(first_line, 1)])
    reservation = client.get_order_status(rerouted.id).reservation_id
    assert sum(planned[node].values()) > 1 and planned[node][first_line] == 1
    with pytest.raises(grpc.RpcError) as caught:  # the shipped unit cannot be rejected
        client.reroute_order(
            reservation, node, [ShipmentLine(first_line, "TEE", 1)], request_id="rr-0"
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(caught.value) == "NOT_HELD"
    moved = client.reroute_order(reservation, node, request_id="rr-1")  # all it still holds
    assert moved.reservation_id == reservation
    after = client.get_order_status(rerouted.id)
    assert sum(x.shipped for x in after.lines) == 1
    assert sum(x.open for x in after.lines) + 1 == sum(x.planned for x in after.lines)
    assert all(
        s.node_id != node
        for s in after.plan.shipments
        if any(x.line_id != first_line for x in s.lines)
    )
