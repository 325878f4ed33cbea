"""Daily shipment capacity through the API: dated reservations count against each node's
ship date in the ledger; when a node's day is full, the next order ships from it on its
next working day with room, or from elsewhere when that is cheaper under its promise, and
its dates say so. Releasing a reservation gives its day back."""

from __future__ import annotations

import dataclasses
from datetime import date

from omniroute.model import Network, Order
from omniroute.server.client import OmnirouteClient

from .test_dated_service import dated

MONDAY_MORNING = "2026-12-07T00:00:00Z"  # 11:00 in Melbourne, before the 14:00 cut-off
GEELONG = (-38.15, 144.36)


def _day(message) -> date:
    return date(message.year, message.month, message.day)


def _capacity(network: Network, node_id: str, capacity: int) -> Network:
    nodes = tuple(
        dataclasses.replace(n, daily_shipment_capacity=capacity) if n.id == node_id else n
        for n in network.nodes
    )
    return dataclasses.replace(network, nodes=nodes)


def _tee(order_id: str, tiny_orders: dict[str, Order], **fields) -> Order:
    return dataclasses.replace(
        tiny_orders["one-tee-melbourne"], id=order_id, create_time=MONDAY_MORNING, **fields
    )


def test_a_full_day_moves_the_next_shipment_to_the_next_working_day(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """DC1 ships 2 a day: two reserved tees ship Monday, the third Tuesday (still the
    cheapest node), two days later than the others; a release frees Monday again."""
    client.put_network(_capacity(dated(tiny_network), "DC1", 2))
    held = [client.reserve(_tee(f"t{i}", tiny_orders)) for i in range(3)]
    ships = [[(s.node_id, _day(s.ship_date)) for s in r.plan.shipments] for r in held]
    assert ships[:2] == [[("DC1", date(2026, 12, 7))]] * 2
    assert ships[2] == [("DC1", date(2026, 12, 8))]
    first, third = held[0].plan, held[2].plan
    assert _day(third.delivery_date) > _day(first.delivery_date)
    assert third.delivery_days == first.delivery_days + 1
    assert third.total_cost == first.total_cost

    # an undated order has no ship date: it does not count and is not moved
    undated = client.plan_order(dataclasses.replace(_tee("u", tiny_orders), create_time=""))
    assert [s.node_id for s in undated.plan.shipments] == ["DC1"]

    client.release_reservation(held[0].reservation_id)
    again = client.reserve(_tee("t3", tiny_orders))
    assert [(s.node_id, _day(s.ship_date)) for s in again.plan.shipments] == [
        ("DC1", date(2026, 12, 7))
    ]


def test_a_full_day_sends_the_order_elsewhere_when_that_is_cheaper(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """To Geelong, promised by Thursday: DC1 on Monday is cheapest; once DC1's Monday is
    full, DC1 on Tuesday would arrive Friday by parcel (or Thursday by dearer express), so
    the Geelong store ships it on Monday, arriving Wednesday."""
    client.put_network(_capacity(dated(tiny_network), "DC1", 1))
    to_geelong = dict(
        destination=dataclasses.replace(
            tiny_orders["one-tee-melbourne"].destination, latitude=GEELONG[0], longitude=GEELONG[1]
        ),
        promise_date=date(2026, 12, 10),
    )
    first = client.reserve(_tee("g0", tiny_orders, **to_geelong)).plan
    assert [(s.node_id, _day(s.ship_date)) for s in first.shipments] == [("DC1", date(2026, 12, 7))]
    second = client.reserve(_tee("g1", tiny_orders, **to_geelong)).plan
    assert [(s.node_id, _day(s.ship_date)) for s in second.shipments] == [
        ("ST1", date(2026, 12, 7))
    ]
    assert _day(second.delivery_date) <= date(2026, 12, 10)
    assert second.total_cost > first.total_cost


def test_a_reroute_counts_the_days_it_adds_and_frees_those_it_takes_away(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """DC1 and ST1 ship one a day. x ships from DC1 on Monday, y (DC1's Monday full) on
    Tuesday. DC1 rejects x: it moves to ST1 on Monday, which counts ST1's Monday and gives
    DC1's back, so z ships from DC1 on Monday and w (DC1 excluded) from ST1 on Tuesday;
    y keeps its Tuesday."""
    network = _capacity(_capacity(dated(tiny_network), "DC1", 1), "ST1", 1)
    client.put_network(network)
    x = client.reserve(_tee("x", tiny_orders))
    y = client.reserve(_tee("y", tiny_orders))
    assert [(s.node_id, _day(s.ship_date)) for s in y.plan.shipments] == [
        ("DC1", date(2026, 12, 8))
    ]
    moved = client.reroute_order(x.reservation_id, "DC1", reason="SHORT_PICK")
    assert [(s.node_id, _day(s.ship_date)) for s in moved.plan.shipments] == [
        ("ST1", date(2026, 12, 7))
    ]
    z = client.reserve(_tee("z", tiny_orders))
    assert [(s.node_id, _day(s.ship_date)) for s in z.plan.shipments] == [
        ("DC1", date(2026, 12, 7))
    ]
    w = client.reserve(_tee("w", tiny_orders, excluded_node_ids=("DC1",)))
    assert [(s.node_id, _day(s.ship_date)) for s in w.plan.shipments] == [
        ("ST1", date(2026, 12, 8))
    ]
