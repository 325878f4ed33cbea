"""Dated promises through the API: the network's calendars, time zones and cut-offs go in
with PutNetwork (and network files), a dated PlanOrder answers with dates, and bad dated
input is INVALID_ARGUMENT naming every field."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, time
from pathlib import Path

import grpc
import pytest

from omniroute.calendars import Calendar
from omniroute.files import read_network, write_network
from omniroute.model import Network, Order
from omniroute.server.client import OmnirouteClient
from omniroute.server.convert import network_to_proto, order_to_proto

from .test_service import violations

WEEKDAYS = frozenset(range(1, 6))


def dated(network: Network) -> Network:
    """The tiny network in Melbourne's time, its nodes on weekdays with a 14:00 cut-off and
    Christmas Day off, every carrier on weekdays."""
    calendar = Calendar("VIC", WEEKDAYS, frozenset({date(2026, 12, 25)}))
    return dataclasses.replace(
        network,
        time_zone="Australia/Melbourne",
        calendars=(calendar,),
        nodes=tuple(
            dataclasses.replace(node, calendar_id="VIC", cutoff_time=time(14))
            for node in network.nodes
        ),
        carrier_services=tuple(
            dataclasses.replace(service, calendar_id="VIC") for service in network.carrier_services
        ),
    )


def test_a_dated_order_gets_its_dates_over_grpc(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    client.put_network(dated(tiny_network))
    order = dataclasses.replace(
        tiny_orders["coat-and-jeans"],
        create_time="2026-12-24T04:00:00Z",  # 15:00 in Melbourne
    )
    first = client.plan_order(order)
    again = client.plan_order(order)
    assert first.plan == again.plan  # the same request, the same dates
    plan = first.plan
    assert plan.shipments
    for shipment in plan.shipments:
        ship = date(shipment.ship_date.year, shipment.ship_date.month, shipment.ship_date.day)
        assert ship >= date(2026, 12, 28)  # after the cut-off, over Christmas and a weekend
        assert ship.isoweekday() in WEEKDAYS
    latest = max(
        (s.delivery_date.year, s.delivery_date.month, s.delivery_date.day) for s in plan.shipments
    )
    assert (plan.delivery_date.year, plan.delivery_date.month, plan.delivery_date.day) == latest
    assert plan.delivery_days == (date(*latest) - date(2026, 12, 24)).days

    undated = client.plan_order(dataclasses.replace(order, create_time=""))
    assert not undated.plan.HasField("delivery_date")
    assert not any(s.HasField("ship_date") for s in undated.plan.shipments)


def test_a_dated_network_round_trips_through_files_and_the_ledger(
    tmp_path: Path, client: OmnirouteClient, tiny_network: Network
) -> None:
    network = dated(tiny_network)
    path = tmp_path / "network.json"
    write_network(network, path)
    data = json.loads(path.read_text())
    assert data["timeZone"] == "Australia/Melbourne"
    assert data["calendars"] == [
        {
            "id": "VIC",
            "workingDays": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
            "holidays": [{"year": 2026, "month": 12, "day": 25}],
        }
    ]
    assert data["nodes"][0]["cutoffTime"] == {"hours": 14}
    again = read_network(path)
    assert dataclasses.replace(again, stock=()) == dataclasses.replace(network, stock=())
    client.put_network(again)
    served = client.get_network()
    assert served.time_zone == "Australia/Melbourne"
    assert served.nodes[0].cutoff_time.hours == 14
    assert [c.id for c in served.calendars] == ["VIC"]


def test_bad_dated_input_names_every_field(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    message = network_to_proto(dated(tiny_network))
    message.time_zone = "Mars/Olympus_Mons"
    message.nodes[0].calendar_id = "NOPE"
    message.nodes[1].cutoff_time.hours = 25
    message.calendars.add(id="EMPTY")
    message.calendars[0].holidays.add(year=2026, month=2, day=30)
    message.carrier_services[0].calendar_id = "NOPE"
    before = client.get_network()
    with pytest.raises(grpc.RpcError) as caught:
        client.put_network(message)
    assert violations(caught.value) == {
        f"network.{field}"
        for field in (
            "timeZone",
            "nodes[0].calendarId",
            "nodes[1].cutoffTime",
            "calendars[0].holidays[1]",
            "calendars[1].workingDays",
            "carrierServices[0].calendarId",
        )
    }
    assert client.get_network() == before  # nothing changed

    order = order_to_proto(tiny_orders["coat-and-jeans"])
    order.ClearField("create_time")
    order.promise_date.year, order.promise_date.month, order.promise_date.day = 2026, 12, 24
    with pytest.raises(grpc.RpcError) as caught:
        client.plan_order(order)
    assert violations(caught.value) == {"order.promiseDate"}
    order.promise_date.day = 32
    with pytest.raises(grpc.RpcError) as caught:
        client.plan_order(order)
    assert violations(caught.value) == {"order.promiseDate"}


def test_network_messages_without_dates_are_unchanged(tiny_network: Network) -> None:
    """An undated network's message has none of the dated fields (as before)."""
    message = network_to_proto(tiny_network)
    assert not message.time_zone and not message.calendars
    assert not any(n.HasField("cutoff_time") or n.calendar_id for n in message.nodes)


def test_quotes_and_availability_are_dated_when_the_request_has_a_time(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """At 15:00 on Christmas Eve in Melbourne (after every node's 14:00 cut-off) each
    delivery option arrives on a weekday after Christmas; the Geelong store's items are
    ready for collection on Monday 28 December; without a time there are no dates."""
    client.put_network(dated(tiny_network))
    order = tiny_orders["coat-and-jeans"]
    looking = "2026-12-24T04:00:00Z"
    quote = client.quote(order.lines, order.destination, time=looking)
    assert quote.options
    for option in quote.options:
        arrives = date(
            option.delivery_date.year, option.delivery_date.month, option.delivery_date.day
        )
        assert arrives > date(2026, 12, 28) and arrives.isoweekday() in WEEKDAYS
        assert option.delivery_days == (arrives - date(2026, 12, 24)).days
    assert not any(
        o.HasField("delivery_date") for o in client.quote(order.lines, order.destination).options
    )

    skus = sorted({line.sku_id for line in order.lines})
    found = client.availability(skus, location=order.destination, time=looking)
    geelong = next(n for n in found.nodes if n.node_id == "ST1")
    assert (geelong.ready_date.year, geelong.ready_date.month, geelong.ready_date.day) == (
        2026,
        12,
        28,
    )
    delivering = [n for n in found.nodes if n.service_id]
    assert delivering and all(n.HasField("delivery_date") for n in delivering)
    assert not any(
        n.HasField("ready_date") or n.HasField("delivery_date")
        for n in client.availability(skus, location=order.destination).nodes
    )
