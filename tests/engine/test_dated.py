"""Dated planning: calendars, cut-offs and time zones give each lane its dates, and the
optimiser is still the brute-force optimum on them (docs/dated-promises.md)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import brute_force as bf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniroute.calendars import Calendar
from omniroute.candidates import build_problem
from omniroute.cost import check_plan, destination_of
from omniroute.dating import HAND_OVER
from omniroute.geo import distance_km
from omniroute.model import (
    CarrierService,
    Location,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    PlanStatus,
    Sku,
    StockPosition,
    UnfilledReason,
    Zone,
)
from omniroute.planner import Planner
from tests.engine.test_optimizer import SETTINGS, check_against_brute_force, instances

TOL = 1e-6
ONE_DAY = timedelta(days=1)
WEEKDAYS = frozenset(range(1, 6))


# ------------------------------------------------------------ the rules, written out plainly


def _working(network: Network, calendar_id: str, day: date) -> bool:
    if not calendar_id:
        return True
    calendar = next(c for c in network.calendars if c.id == calendar_id)
    return day.isoweekday() in calendar.working_days and day not in calendar.holidays


def _next_working(network: Network, calendar_id: str, day: date) -> date:
    while not _working(network, calendar_id, day):
        day += ONE_DAY
    return day


def reference_dates(
    network: Network, order: Order, node: Node, service: CarrierService | None, transit: int
) -> tuple[date, date, int]:
    """(ship date, delivery date, delivery days) of a lane, step by step as the contract
    states them, independently of omniroute.calendars."""
    instant = datetime.fromisoformat(order.create_time.replace("Z", "+00:00"))
    local = instant.astimezone(ZoneInfo(node.time_zone or network.time_zone))
    released = local.date()
    if node.cutoff_time is not None and local.time() > node.cutoff_time:
        released += ONE_DAY
    shipped = _next_working(network, node.calendar_id, released)
    for _ in range(node.processing_days):
        shipped = _next_working(network, node.calendar_id, shipped + ONE_DAY)
    if service is None:
        delivered = shipped
    else:
        delivered = _next_working(network, service.calendar_id, shipped)
        for _ in range(transit):
            delivered = _next_working(network, service.calendar_id, delivered + ONE_DAY)
    ordered = instant.astimezone(ZoneInfo(network.time_zone)).date()
    return shipped, delivered, (delivered - ordered).days


def reference_limit(network: Network, order: Order) -> int | None:
    limits = [order.promise_days] if order.promise_days else []
    if order.promise_date is not None:
        instant = datetime.fromisoformat(order.create_time.replace("Z", "+00:00"))
        ordered = instant.astimezone(ZoneInfo(network.time_zone)).date()
        limits.append((order.promise_date - ordered).days)
    return min(limits) if limits else None


def dated_lanes(network: Network, order: Order) -> bf.DatedLanes:
    return bf.DatedLanes(
        lambda node, service, transit: reference_dates(network, order, node, service, transit)[2],
        reference_limit(network, order),
    )


def check_dates(network: Network, order: Order, plan) -> None:
    """Every shipment's dates are the contract's; the plan's date is the latest. (The
    zone comes from the exact distance, not the reported one, which is rounded.)"""
    nodes = {n.id: n for n in network.nodes}
    services = {s.id: s for s in network.carrier_services}
    destination = destination_of(order, nodes)
    for shipment in plan.shipments:
        node = nodes[shipment.node_id]
        service = services.get(shipment.service_id)
        distance = distance_km(
            node.location.latitude,
            node.location.longitude,
            destination.latitude,
            destination.longitude,
        )
        undated = (
            node.processing_days
            if service is None
            else next(z.transit_days for z in service.zones if distance <= z.max_distance_km)
            + node.processing_days
        )
        expected = reference_dates(network, order, node, service, undated - node.processing_days)
        got = (shipment.ship_date, shipment.delivery_date, shipment.delivery_days)
        assert got == expected, (shipment.node_id, shipment.service_id, got, expected)
    if plan.shipments:
        assert plan.delivery_date == max(s.delivery_date for s in plan.shipments)


# ------------------------------------------------------------------------ random instances

ZONES = ["UTC", "Australia/Sydney", "Australia/Perth", "Australia/Adelaide", "Pacific/Auckland"]


@st.composite
def dated_instances(
    draw: st.DrawFn, base: st.SearchStrategy[tuple[Network, Order]] | None = None
) -> tuple[Network, Order]:
    """The optimiser's random tiny instances with time zones, calendars (weekends, public
    holidays around Christmas), cut-offs, carrier calendars and a dated order."""
    network, order = draw(base if base is not None else instances())
    christmas = [date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)]
    calendars = (
        Calendar("WEEKDAYS", WEEKDAYS, frozenset(christmas)),
        Calendar("SIX-DAYS", frozenset(range(1, 7)), frozenset(christmas[:1])),
        Calendar("TUE-THU", frozenset({2, 4})),
    )
    calendar_ids = ["", "WEEKDAYS", "SIX-DAYS", "TUE-THU"]
    nodes = tuple(
        dataclasses.replace(
            node,
            time_zone=draw(st.sampled_from(["", *ZONES])),
            calendar_id=draw(st.sampled_from(calendar_ids)),
            cutoff_time=draw(st.sampled_from([None, time(12), time(14, 30), time(0, 0, 1)])),
        )
        for node in network.nodes
    )
    services = tuple(
        dataclasses.replace(service, calendar_id=draw(st.sampled_from(calendar_ids)))
        for service in network.carrier_services
    )
    network = dataclasses.replace(
        network,
        nodes=nodes,
        carrier_services=services,
        time_zone=draw(st.sampled_from(ZONES)),
        calendars=calendars,
    )
    instant = datetime(2026, 12, 18, tzinfo=ZoneInfo("UTC")) + timedelta(
        minutes=draw(st.integers(0, 20 * 24 * 60))
    )
    promise_date = None
    if draw(st.integers(0, 2)) == 2:
        promise_date = instant.date() + timedelta(days=draw(st.integers(-1, 8)))
    order = dataclasses.replace(
        order,
        create_time=instant.strftime("%Y-%m-%dT%H:%M:%SZ"),
        promise_date=promise_date,
    )
    return network, order


@SETTINGS
@given(dated_instances())
def test_dated_plans_are_the_brute_force_optimum_with_the_contract_dates(
    instance: tuple[Network, Order],
) -> None:
    """CHEAPEST, FASTEST and the options on dated lanes equal brute force over the dated
    days of the contract's rules; every shipment carries the contract's dates."""
    network, order = instance
    check_against_brute_force(
        network,
        order,
        dated_lanes(network, order),
        lambda plan: check_dates(network, order, plan),
    )


# ------------------------------------------------------------------------ named cases


def _network(**node_fields) -> Network:
    """One DC in Perth shipping with one weekday carrier (2 days' transit), one SKU."""
    dc = Node(
        "PER",
        NodeKind.DC,
        Location(-31.95, 115.86),
        handling_cost_per_shipment=1.0,
        processing_days=1,
        service_ids=("ROAD",),
        **node_fields,
    )
    road = CarrierService(
        "ROAD", "Carrier", "Road", 0.0, (Zone(5000.0, 10.0, 0.0, 2),), calendar_id="WEEKDAYS"
    )
    return Network(
        (dc,),
        (road,),
        (Sku("K", 1.0),),
        (StockPosition("PER", "K", 10),),
        time_zone="Australia/Sydney",
        calendars=(Calendar("WEEKDAYS", WEEKDAYS, frozenset({date(2026, 12, 25)})),),
    )


def _order(create_time: str, **fields) -> Order:
    return Order(
        "o",
        (OrderLine("1", "K", 1),),
        destination=Location(-33.87, 151.21),
        create_time=create_time,
        **fields,
    )


def test_a_cutoff_on_friday_ships_on_monday_and_holidays_move_the_delivery() -> None:
    """Perth, cut-off 14:00, weekdays, 1 processing day; the carrier works weekdays but not
    on Christmas Day. An order placed on Thursday 24 December 2026 at 15:00 in Perth misses
    the cut-off: released Friday 25 (a holiday for the DC's weekday calendar too), so it is
    picked from Monday 28, ships Tuesday 29 and arrives Thursday 31 December."""
    network = _network(calendar_id="WEEKDAYS", cutoff_time=time(14), time_zone="Australia/Perth")
    plan = Planner(network).plan(_order("2026-12-24T07:00:00Z")).plan  # 15:00 in Perth
    (shipment,) = plan.shipments
    assert shipment.ship_date == date(2026, 12, 29)
    assert shipment.delivery_date == date(2026, 12, 31)
    assert plan.delivery_date == date(2026, 12, 31)
    # 18:00 on the 24th in Sydney (the network's time zone): 7 calendar days
    assert plan.delivery_days == 7
    before = Planner(network).plan(_order("2026-12-24T05:00:00Z")).plan  # 13:00 in Perth
    assert before.shipments[0].ship_date == date(2026, 12, 28)  # released Thursday 24th
    assert before.delivery_date == date(2026, 12, 30)


def test_the_promise_date_keeps_only_lanes_that_arrive_by_it() -> None:
    network = _network(calendar_id="WEEKDAYS", time_zone="Australia/Perth")
    order = _order("2026-12-07T01:00:00Z", promise_date=date(2026, 12, 10))  # Monday
    assert Planner(network).plan(order).plan.delivery_date == date(2026, 12, 10)
    late = _order("2026-12-07T01:00:00Z", promise_date=date(2026, 12, 9))
    plan = Planner(network).plan(late).plan
    assert plan.status is PlanStatus.UNFULFILLABLE
    assert plan.unfilled_lines[0].reason is UnfilledReason.NO_SERVICE_WITHIN_PROMISE


def test_delivery_days_count_in_the_network_time_zone() -> None:
    """23:30 on Monday in Sydney is 20:30 on Monday in Perth: same date, and with no
    calendars a 1-day pick and 2-day transit arrive on Thursday, 3 days later. At 01:00
    on Tuesday in Sydney it is still Monday in Perth: the order's date is Tuesday, so the
    same Thursday is 2 days away."""
    network = dataclasses.replace(
        _network(time_zone="Australia/Perth"),
        carrier_services=(dataclasses.replace(_network().carrier_services[0], calendar_id=""),),
    )
    late_monday = Planner(network).plan(_order("2026-12-07T12:30:00Z")).plan
    assert (late_monday.delivery_date, late_monday.delivery_days) == (date(2026, 12, 10), 3)
    early_tuesday = Planner(network).plan(_order("2026-12-07T14:00:00Z")).plan
    assert (early_tuesday.delivery_date, early_tuesday.delivery_days) == (date(2026, 12, 10), 2)


def test_an_undated_order_plans_as_before_and_a_plain_network_keeps_its_days() -> None:
    """Without ``createTime`` nothing is dated; on a network without time zones, cut-offs
    or calendars a dated order has the same plan, with dates added."""
    plain = dataclasses.replace(
        _network(),
        time_zone="UTC",
        calendars=(),
        carrier_services=(dataclasses.replace(_network().carrier_services[0], calendar_id=""),),
    )
    undated = Planner(plain).plan(_order("")).plan
    dated = Planner(plain).plan(_order("2026-12-24T07:00:00Z")).plan
    assert undated.delivery_date is None and undated.shipments[0].ship_date is None
    assert (dated.total_cost, dated.delivery_days) == (undated.total_cost, undated.delivery_days)
    assert dated.shipments[0].ship_date == date(2026, 12, 25)
    assert dated.delivery_date == date(2026, 12, 27)


def test_the_explanation_tells_the_dates_and_what_the_cutoff_cost() -> None:
    network = _network(calendar_id="WEEKDAYS", cutoff_time=time(14), time_zone="Australia/Perth")
    result = Planner(network).plan(_order("2026-12-24T07:00:00Z"), explain=True)
    assert result.explanation is not None
    summary = result.explanation.summary
    assert "arrives Thu 31 Dec 2026" in summary
    assert (
        "PER: released Fri 25 Dec 2026 (placed 15:00 local time, after the 14:00 cut-off), "
        "ships Tue 29 Dec 2026, delivered Thu 31 Dec 2026; placed before the cut-off it "
        "would ship Mon 28 Dec 2026 and arrive Wed 30 Dec 2026"
    ) in summary
    undated = Planner(network).plan(_order(""), explain=True).explanation
    assert undated is not None and "Dates:" not in undated.summary


def test_orders_years_apart_on_one_planner_get_their_own_dates() -> None:
    """The day tables behind dated lanes follow the orders' dates: orders years apart,
    planned one after the other by one planner, each get the dates of the rules."""
    network = _network(calendar_id="WEEKDAYS", cutoff_time=time(14), time_zone="Australia/Perth")
    planner = Planner(network)
    for when in ("2026-12-24T07:00:00Z", "2031-06-06T01:00:00Z", "2019-01-01T00:00:00Z"):
        order = _order(when)
        plan = planner.plan(order).plan
        check_dates(network, order, plan)
        (shipment,) = plan.shipments
        ordered = datetime.fromisoformat(when.replace("Z", "+00:00"))
        local = ordered.astimezone(ZoneInfo("Australia/Sydney")).date()
        assert plan.delivery_days == (shipment.delivery_date - local).days


def _zoned_network() -> Network:
    """Nodes in four time zones (one in the network's) with cut-offs to the second or none,
    node calendars, and carriers with a weekday, a Tuesday-Thursday and no calendar; the
    Sydney store can hand its own stock over for pick-up."""
    weekdays = Calendar("WEEKDAYS", WEEKDAYS, frozenset({date(2026, 10, 5), date(2026, 10, 9)}))
    zones = (Zone(1000.0, 5.0, 0.0, 0), Zone(3000.0, 8.0, 0.0, 2), Zone(9000.0, 12.0, 0.0, 4))
    services = (
        CarrierService("ROAD", "C", "Road", 0.0, zones, calendar_id="WEEKDAYS"),
        CarrierService("TUE-THU", "C", "Van", 0.0, zones[1:], calendar_id="TUE-THU"),
        CarrierService("AIR", "C", "Air", 0.0, zones),
    )
    nodes = (
        ("PER", -31.95, 115.86, "Australia/Perth", time(14), "WEEKDAYS", 1),
        ("SYD", -33.87, 151.21, "", time(15, 0, 30), "WEEKDAYS", 0),
        ("ADL", -34.93, 138.60, "Australia/Adelaide", time(0, 0, 1), "", 2),
        ("AKL", -36.85, 174.76, "Pacific/Auckland", None, "TUE-THU", 0),
    )
    return Network(
        tuple(
            Node(
                node_id,
                NodeKind.STORE if node_id == "SYD" else NodeKind.DC,
                Location(lat, lon),
                processing_days=processing,
                service_ids=tuple(s.id for s in services),
                pickup=node_id == "SYD",
                time_zone=zone,
                cutoff_time=cutoff,
                calendar_id=calendar,
            )
            for node_id, lat, lon, zone, cutoff, calendar, processing in nodes
        ),
        services,
        (Sku("K", 1.0),),
        tuple(StockPosition(node_id, "K", 10) for node_id, *_ in nodes),
        time_zone="Australia/Sydney",
        calendars=(weekdays, Calendar("TUE-THU", frozenset({2, 4}))),
    )


def test_one_planner_dates_every_lane_by_the_rules_through_cutoffs_days_and_dst() -> None:
    """Orders placed over two weeks that cross the start of daylight saving in Sydney,
    Adelaide and Auckland (not Perth), and orders on, a second after and a microsecond
    after each cut-off, dated one after the other on one planner's network (which keeps
    what orders placed at the same moment share): every lane of every order, delivered or
    picked up, has the delivery days of the contract's rules."""
    network = _zoned_network()
    planner = Planner(network)
    index = planner.index
    start = datetime(2026, 9, 23, tzinfo=ZoneInfo("UTC"))
    instants = [start + timedelta(minutes=47 * k) for k in range(14 * 24 * 60 // 47)]
    for zone, cutoff in (("Australia/Perth", time(14)), ("Australia/Sydney", time(15, 0, 30))):
        for day in (date(2026, 10, 2), date(2026, 10, 5)):
            at = datetime.combine(day, cutoff, ZoneInfo(zone))
            instants += [at, at + timedelta(seconds=1), at + timedelta(microseconds=1)]
    destinations = {"": Location(-27.47, 153.03), "SYD": None}  # Brisbane; picked up in Sydney
    for instant in instants:
        create_time = instant.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")
        for pickup, destination in destinations.items():
            order = dataclasses.replace(
                _order(create_time), destination=destination, pickup_store_id=pickup
            )
            undated = build_problem(
                dataclasses.replace(order, create_time=""), index, planner.inventory
            )
            dated = build_problem(order, index, planner.inventory)
            assert len(dated.lanes) == len(undated.lanes) > 0
            for lane in range(len(dated.lanes)):
                node = index.nodes[dated.nodes[dated.lanes.node[lane]]]
                s = int(dated.lanes.service[lane])
                service = None if s == HAND_OVER else index.services[s]
                transit = int(undated.lanes.days[lane]) - node.processing_days
                expected = reference_dates(network, order, node, service, transit)[2]
                assert dated.lanes.days[lane] == expected, (create_time, node.id, service)


def test_dates_past_the_end_of_the_calendar_are_a_validation_error() -> None:
    """An order placed on the calendar's last day cannot ship after it: plan, quote and
    availability say so as a violation of createTime (or time), never a crash."""
    from omniroute.dating import DatesOutOfRange

    network = _network()
    planner = Planner(network)
    order = _order("9999-12-31T23:59:59Z")
    with pytest.raises(DatesOutOfRange) as caught:
        planner.plan(order)
    assert [v.field for v in caught.value.violations] == ["createTime"]
    assert order.destination is not None
    with pytest.raises(DatesOutOfRange) as caught:
        planner.quote(order.lines, order.destination, create_time=order.create_time)
    assert [v.field for v in caught.value.violations] == ["time"]
    with pytest.raises(DatesOutOfRange) as caught:
        planner.availability(
            [order.lines[0].sku_id], location=order.destination, create_time=order.create_time
        )
    assert [v.field for v in caught.value.violations] == ["time"]


def test_full_days_move_the_ship_date_to_the_next_working_day_with_room() -> None:
    """Perth on weekdays, 3 shipments a day: an order of Monday 28 December ships Tuesday
    29 and arrives Thursday 31; with Tuesday and Wednesday full it ships Thursday 31 and
    arrives Monday 4 January (the carrier's two working days: Friday 1, Monday 4). The
    plan passes the checker told of the full days and fails the one that is not; the
    explanation says what a free place on Tuesday would have given."""
    network = _network(calendar_id="WEEKDAYS", time_zone="Australia/Perth")
    nodes = (dataclasses.replace(network.nodes[0], daily_shipment_capacity=3),)
    network = dataclasses.replace(network, nodes=nodes)
    planner = Planner(network)
    order = _order("2026-12-27T23:00:00Z")  # Monday 28 December, 07:00 in Perth
    free = planner.plan(order).plan
    assert (free.shipments[0].ship_date, free.delivery_date) == (
        date(2026, 12, 29),
        date(2026, 12, 31),
    )
    full = {"PER": [date(2026, 12, 29), date(2026, 12, 30)]}
    planner.inventory.set_full_days(full)
    result = planner.plan(order, explain=True)
    (shipment,) = result.plan.shipments
    assert (shipment.ship_date, shipment.delivery_date) == (date(2026, 12, 31), date(2027, 1, 4))
    assert result.plan.delivery_days == free.delivery_days + 4
    atp = planner.inventory.atp_map()
    assert check_plan(order, network, result.plan, atp, full) == []
    assert check_plan(order, network, result.plan, atp) != []
    assert result.explanation is not None
    assert (
        "PER: released Mon 28 Dec 2026, ships Thu 31 Dec 2026, delivered Mon 4 Jan 2027; "
        "Tue 29 Dec 2026 was full (its 3 shipments a day are taken): with a free place that "
        "day it would arrive Thu 31 Dec 2026"
    ) in result.explanation.summary


def test_a_reroute_keeps_the_kept_shipments_dates(tiny_network: Network) -> None:
    """Coat and jeans on Monday 7 December, DC1's Monday full: the jeans ship from DC1 on
    Tuesday, the coat from ST1 on Monday. ST1 then rejects the coat, after DC1's Monday has
    freed up: the coat moves, and the jeans keep the Tuesday they were counted on."""
    from omniroute.files import read_orders
    from tests.conftest import DATA
    from tests.server.test_dated_service import dated

    network = dated(tiny_network)
    order = next(
        o for o in read_orders(DATA / "tiny_orders.jsonl", network) if o.id == "coat-and-jeans"
    )
    order = dataclasses.replace(order, create_time="2026-12-07T00:00:00Z")
    planner = Planner(network)
    planner.inventory.set_full_days({"DC1": [date(2026, 12, 7)]})
    plan = planner.plan(order).plan
    assert [(s.node_id, s.ship_date) for s in plan.shipments] == [
        ("DC1", date(2026, 12, 8)),
        ("ST1", date(2026, 12, 7)),
    ]
    planner.inventory.set_full_days({})
    moved = planner.reroute(order, plan, "ST1").plan
    dates = {s.node_id: s.ship_date for s in moved.shipments}
    assert dates["DC1"] == date(2026, 12, 8)
    assert "ST1" not in dates and len(dates) == 2
