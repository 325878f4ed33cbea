"""Backorders and pre-orders in the planner (omniroute.backorders): units short within the
promise wait for supply in transit when their line allows it, and units of a SKU not yet
released ship in a part of their own, dated from the release date. Each part is the
optimiser's exact answer; the backorder part is checked against brute force."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import brute_force as bf
import pytest
from hypothesis import currently_in_test_context, event, given
from hypothesis import strategies as st

from omniroute.inbound import split_inbound_node_id, with_inbound_nodes
from omniroute.model import (
    CarrierService,
    InboundSupply,
    Location,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    PlanStatus,
    Policy,
    Proof,
    Sku,
    StockPosition,
    ValidationError,
    Zone,
)
from omniroute.planner import Planner
from omniroute.scenario import ReplayMode
from tests.engine.test_inbound import CREATED, ORDER_DAY, _delayed
from tests.engine.test_optimizer import SETTINGS, TOL, instances


def _rugs(network: Network, backorder: bool, promise_days: int) -> Order:
    return Order(
        "rugs",
        (OrderLine("1", "RUG", 8, allow_backorder=backorder), OrderLine("2", "TEE", 2)),
        destination=network.nodes[0].location,
        create_time=CREATED,
        promise_days=promise_days,
    )


def test_a_backorder_waits_for_supply_arriving_past_the_promise(tiny_network: Network) -> None:
    """8 rugs, 4 on the vendor's shelf, 10 arriving at DC1 in 10 days, a promise the
    shelf can keep but the supply cannot: a line that allows a backorder gets its 4
    missing units from the supply (marked backorder), the rest of the order keeps its
    promise; without the flag the order is short."""
    arrival = ORDER_DAY + timedelta(days=10)
    network = dataclasses.replace(
        tiny_network, inbound_supply=(InboundSupply("PO-1", "DC1", "RUG", 10, arrival),)
    )
    planner = Planner(network)
    shelf = dataclasses.replace(
        _rugs(tiny_network, False, 0),
        lines=(OrderLine("1", "RUG", 4), OrderLine("2", "TEE", 2)),
    )
    promise = max(s.delivery_days for s in Planner(tiny_network).plan(shelf).plan.shipments)
    assert promise < 10  # the supply cannot keep it
    plain = planner.plan(_rugs(network, False, promise))
    assert plain.plan.status is PlanStatus.UNFULFILLABLE  # not partial: nothing planned

    result = planner.plan(_rugs(network, True, promise))
    plan = result.plan
    assert plan.status is PlanStatus.COMPLETE
    assert result.stats.proof is Proof.OPTIMAL
    late = [s for s in plan.shipments if s.backorder]
    assert [s.node_id for s in late] == [f"DC1@{arrival.isoformat()}"]
    assert sum(x.quantity for x in late[0].lines) == 4
    assert late[0].ship_date is not None and late[0].ship_date >= arrival
    assert late[0].delivery_days > promise
    for shipment in plan.shipments:
        assert not shipment.preorder
        if not shipment.backorder:
            assert shipment.delivery_days <= promise
    assert plan.total_cost == pytest.approx(
        sum(s.cost for s in plan.shipments) + network.split_penalty * (len(plan.shipments) - 1)
    )
    # no supply: nothing to wait for, and the order is short as before
    bare = Planner(tiny_network).plan(_rugs(tiny_network, True, promise))
    assert bare.plan.status is PlanStatus.UNFULFILLABLE
    assert not bare.plan.shipments
    # partial allowed: the shelf's units ship, the rest is unfilled
    partial = Planner(tiny_network).plan(
        dataclasses.replace(_rugs(tiny_network, True, promise), allow_partial=True)
    )
    assert partial.plan.status is PlanStatus.PARTIAL
    assert [(u.line_id, u.quantity) for u in partial.plan.unfilled_lines] == [("1", 4)]


def test_a_backorder_needs_a_dated_order(tiny_network: Network) -> None:
    order = dataclasses.replace(_rugs(tiny_network, True, 0), create_time="")
    with pytest.raises(ValidationError) as caught:
        Planner(tiny_network).plan(order)
    assert [v.field for v in caught.value.violations] == ["lines[0].allowBackorder"]


def test_a_pre_order_ships_from_its_release_date(tiny_network: Network) -> None:
    """Rugs released in 12 days: an order placed before then ships its tees as usual and
    the rugs in a pre-order shipment no earlier than the release, whatever the promise; an
    order placed on the release date is an ordinary order."""
    release = ORDER_DAY + timedelta(days=12)
    skus = tuple(
        dataclasses.replace(s, release_date=release) if s.id == "RUG" else s
        for s in tiny_network.skus
    )
    network = dataclasses.replace(tiny_network, skus=skus)
    planner = Planner(network)
    order = dataclasses.replace(
        _rugs(network, False, 0), lines=(OrderLine("1", "RUG", 3), OrderLine("2", "TEE", 2))
    )
    result = planner.plan(dataclasses.replace(order, promise_days=4))
    plan = result.plan
    assert plan.status is PlanStatus.COMPLETE
    assert result.stats.proof is Proof.OPTIMAL
    early = [s for s in plan.shipments if not s.preorder]
    late = [s for s in plan.shipments if s.preorder]
    assert {x.sku_id for s in early for x in s.lines} == {"TEE"}
    assert {x.sku_id for s in late for x in s.lines} == {"RUG"}
    assert all(s.delivery_days <= 4 for s in early)
    for shipment in late:
        assert shipment.ship_date is not None and shipment.ship_date >= release
        assert shipment.delivery_date is not None
        # delivery days count from the order's own date
        assert shipment.delivery_days == (shipment.delivery_date - ORDER_DAY).days
        assert not shipment.backorder
    # the rugs' part is the plan of the rugs alone ordered on the release date
    on_release = dataclasses.replace(
        order,
        lines=(OrderLine("1", "RUG", 3),),
        create_time=f"{release.isoformat()}T00:00:00+00:00",
    )
    alone = planner.plan(on_release).plan
    assert sum(s.cost for s in late) == pytest.approx(sum(s.cost for s in alone.shipments))
    assert [s.ship_date for s in late] == [s.ship_date for s in alone.shipments]
    # a pre-order alone is still a pre-order, its days counted from the order's date
    only = planner.plan(dataclasses.replace(order, lines=(OrderLine("1", "RUG", 3),))).plan
    assert only.shipments and all(s.preorder for s in only.shipments)
    assert [s.delivery_days for s in only.shipments] == [s.delivery_days for s in late]
    # released: an ordinary order, no pre-order shipment
    after = planner.plan(dataclasses.replace(order, create_time=on_release.create_time)).plan
    assert after.status is PlanStatus.COMPLETE
    assert not any(s.preorder for s in after.shipments)
    # a re-route of the pre-order shipment keeps it a pre-order, dated from the release
    vendor = late[0].node_id
    rerouted = planner.reroute(order, plan, vendor, {})
    for shipment in rerouted.plan.shipments:
        if any(x.sku_id == "RUG" for x in shipment.lines):
            assert shipment.preorder
            assert shipment.ship_date is not None and shipment.ship_date >= release


@SETTINGS
@given(instances(), st.data())
def test_backorder_parts_are_the_brute_force_optimum(
    instance: tuple[Network, Order], data: st.DataObject
) -> None:
    """The main part is the optimiser's partial plan within the promise (itself checked
    against brute force elsewhere); the backorder part is the cheapest plan of the
    remaining units of backorder lines over supply in transit only, by brute force."""
    network, order = instance
    if network.time_zone or network.calendars or any(n.cutoff_time for n in network.nodes):
        return
    network = with_drawn_supplies(network, data, 0, 6)
    flags = data.draw(st.lists(st.booleans(), min_size=len(order.lines), max_size=len(order.lines)))
    order = dataclasses.replace(
        order,
        lines=tuple(
            dataclasses.replace(line, allow_backorder=flag)
            for line, flag in zip(order.lines, flags, strict=True)
        ),
        create_time=CREATED,
        promise_days=data.draw(st.integers(1, 4)),
        promise_date=None,
        allow_partial=True,
        # ship complete is planned whole (test_ship_complete_...)
        max_shipments=0 if order.max_shipments == 1 else order.max_shipments,
    )
    _check_backorder_parts(network, order)


def test_a_backorder_beyond_the_shipment_limit_is_a_backorder() -> None:
    """Found by the property test: the shelf's 4 units fill 2 of 3 lines within the promise
    in the order's 2 shipments; supply arriving today, in time, ships the rest as a third
    shipment, which is the backorder's (beyond the limit), not the promise's."""
    nodes = tuple(
        Node(f"N{i}", NodeKind.DC, Location(-37.8, 145.0), 0.0, 0.0, 0, ("S0",)) for i in range(4)
    )
    service = CarrierService(
        "S0", "C", "svc", 0.0, (Zone(0.0, 1.0, 0.0, 0), Zone(400.0, 1.0, 0.0, 0))
    )
    network = Network(
        nodes,
        (service,),
        (Sku("K0", 0.1), Sku("K1", 0.1)),
        tuple(StockPosition(n.id, k, 1) for n in nodes for k in ("K0", "K1")),
        inbound_supply=(InboundSupply("PO-0", "N0", "K0", 1, ORDER_DAY),),
    )
    order = Order(
        "o",
        (
            OrderLine("0", "K0", 2),
            OrderLine("1", "K0", 2),
            OrderLine("2", "K0", 2, allow_backorder=True),
        ),
        Location(-37.8, 145.0),
        promise_days=1,
        max_shipments=2,
        allow_partial=True,
        create_time=CREATED,
    )
    _check_backorder_parts(network, order)
    plan = Planner(network).plan(order).plan
    assert [s.node_id for s in plan.shipments if s.backorder] == [f"N0@{ORDER_DAY}"]


def with_drawn_supplies(network: Network, data: st.DataObject, first: int, last: int) -> Network:
    """The network with 1 to 3 supplies drawn: any node and SKU, 1 to 3 units, arriving
    ``first`` to ``last`` days after the order's day."""
    supplies = tuple(
        InboundSupply(
            f"PO-{i}",
            data.draw(st.sampled_from([n.id for n in network.nodes])),
            data.draw(st.sampled_from([s.id for s in network.skus])),
            data.draw(st.integers(1, 3)),
            ORDER_DAY + timedelta(days=data.draw(st.integers(first, last))),
        )
        for i in range(data.draw(st.integers(1, 3)))
    )
    return dataclasses.replace(network, inbound_supply=supplies)


def _check_backorder_parts(network: Network, order: Order) -> None:
    planner = Planner(network)
    result = planner.plan(order, Policy.CHEAPEST)
    assert result.stats.proof is Proof.OPTIMAL
    main = planner.plan(
        dataclasses.replace(
            order, lines=tuple(dataclasses.replace(x, allow_backorder=False) for x in order.lines)
        )
    ).plan
    short = {u.line_id: u.quantity for u in main.unfilled_lines}
    # short units of backorder lines wait, with the other short lines of their groups
    groups = {
        x.ship_together_group
        for x in order.lines
        if x.allow_backorder and x.id in short and x.ship_together_group
    }
    waiting = {
        x.id: short[x.id]
        for x in order.lines
        if x.id in short and (x.allow_backorder or x.ship_together_group in groups)
    }
    late = [s for s in result.plan.shipments if s.backorder]
    early = [s for s in result.plan.shipments if not s.backorder]
    assert sum(s.cost for s in early) == pytest.approx(sum(s.cost for s in main.shipments), abs=TOL)
    if not waiting:
        assert not late  # nothing to wait for
        return
    augmented, _ = with_inbound_nodes(network)
    used = {s.node_id for s in main.shipments}
    rest = dataclasses.replace(
        order,
        lines=tuple(
            dataclasses.replace(x, quantity=waiting[x.id]) for x in order.lines if x.id in waiting
        ),
        promise_days=0,
        max_shipments=0,  # a backorder ships on its own, beyond the order's limit
        excluded_node_ids=tuple(
            n.id
            for n in augmented.nodes
            if split_inbound_node_id(n.id) is None
            or n.id in used
            or split_inbound_node_id(n.id)[0] in order.excluded_node_ids  # type: ignore[index]
        ),
    )
    plans = bf.all_plans(rest, augmented, planner.inventory.atp_map(), _delayed(network, ORDER_DAY))
    most = max((p.units for p in plans), default=0)
    if currently_in_test_context():
        event(f"backordered units: {min(most, 2)}")
    assert sum(x.quantity for s in late for x in s.lines) == most
    if most:
        best = bf.cheapest([p for p in plans if p.units == most])
        assert best is not None
        # the backorder part alone: its shipments and the split penalty between them
        late_cost = sum(s.cost for s in late) + network.split_penalty * (len(late) - 1)
        assert late_cost == pytest.approx(best[0], abs=TOL)


def test_joint_allocation_plans_orders_in_parts_first(tiny_network: Network) -> None:
    """A batch with a pre-order: that order is planned part by part first (its coat ships
    from the release), the others jointly on the stock it leaves."""
    release = ORDER_DAY + timedelta(days=18)
    skus = tuple(
        dataclasses.replace(s, release_date=release) if s.id == "COAT" else s
        for s in tiny_network.skus
    )
    network = dataclasses.replace(tiny_network, skus=skus)
    where = network.nodes[0].location
    pre = Order(
        "pre", (OrderLine("1", "COAT", 1), OrderLine("2", "TEE", 1)), where, create_time=CREATED
    )
    others = [Order(f"o{i}", (OrderLine("1", "TEE", 3),), where) for i in range(3)]
    planner = Planner(network)
    result = planner.allocate([others[0], pre, *others[1:]])
    assert result.order_ids == ("o0", "pre", "o1", "o2")
    alone = planner.plan(pre).plan
    assert result.plans[1] == alone
    assert any(s.preorder and s.ship_date and s.ship_date >= release for s in alone.shipments)
    left = planner.inventory.copy()
    left.ship(alone)
    rest = Planner(network, left, planner.index, validate=False).allocate(others)
    assert [result.plans[i] for i in (0, 2, 3)] == list(rest.plans)
    assert result.objective == pytest.approx(rest.objective + alone.total_cost)
    assert result.lower_bound == pytest.approx(rest.lower_bound + alone.total_cost)


def test_quotes_and_availability_date_a_pre_order_from_its_release(
    tiny_network: Network,
) -> None:
    """A cart or a look-up of a SKU not yet released is offered dates from its release,
    counted in days from when the customer looks."""
    release = ORDER_DAY + timedelta(days=15)
    skus = tuple(
        dataclasses.replace(s, release_date=release) if s.id == "COAT" else s
        for s in tiny_network.skus
    )
    planner = Planner(dataclasses.replace(tiny_network, skus=skus))
    where = tiny_network.nodes[0].location
    quote = planner.quote([OrderLine("1", "COAT", 1)], where, create_time=CREATED)
    assert quote.options
    for option in quote.options:
        for shipment in option.shipments:
            assert shipment.preorder
            assert shipment.ship_date is not None and shipment.ship_date >= release
            assert shipment.delivery_date is not None
            assert shipment.delivery_days == (shipment.delivery_date - ORDER_DAY).days
    found = planner.availability(["COAT"], location=where, create_time=CREATED)
    dated = [offer for offer in found.nodes if offer.delivery_date is not None]
    assert dated
    for offer in dated:
        assert offer.delivery_date is not None and offer.delivery_date >= release
        assert offer.delivery_days == (offer.delivery_date - ORDER_DAY).days
    # once released, the same look-up is dated from when the customer looks
    after = planner.availability(
        ["COAT"], location=where, create_time=f"{release.isoformat()}T01:00:00Z"
    )
    assert [o.node_id for o in after.nodes] == [o.node_id for o in found.nodes]


def _released(network: Network, sku_id: str, release: date) -> Network:
    skus = tuple(
        dataclasses.replace(s, release_date=release) if s.id == sku_id else s for s in network.skus
    )
    return dataclasses.replace(network, skus=skus)


def test_ship_complete_orders_wait_whole(tiny_network: Network) -> None:
    """maxShipments 1: an order with a pre-order SKU ships complete from its release; one
    whose backorder line the promise cannot keep waits whole for one shipment."""
    release = ORDER_DAY + timedelta(days=9)
    network = _released(tiny_network, "COAT", release)
    where = tiny_network.nodes[0].location
    both = Order(
        "both",
        (OrderLine("1", "TEE", 1), OrderLine("2", "COAT", 1)),
        where,
        create_time=CREATED,
        max_shipments=1,
        promise_days=3,
    )
    plan = Planner(network).plan(both).plan
    assert plan.status is PlanStatus.COMPLETE
    assert len(plan.shipments) == 1 and plan.shipments[0].preorder
    assert plan.shipments[0].ship_date is not None and plan.shipments[0].ship_date >= release
    arrival = ORDER_DAY + timedelta(days=10)
    supplied = dataclasses.replace(
        tiny_network, inbound_supply=(InboundSupply("PO-1", "DC1", "RUG", 10, arrival),)
    )
    rugs = Order(
        "rugs",
        (OrderLine("1", "RUG", 8, allow_backorder=True),),
        where,
        create_time=CREATED,
        max_shipments=1,
        promise_days=5,
    )
    plan = Planner(supplied).plan(rugs).plan
    assert plan.status is PlanStatus.COMPLETE
    assert [(s.node_id, s.backorder) for s in plan.shipments] == [(f"DC1@{arrival}", True)]
    no_wait = dataclasses.replace(rugs, lines=(OrderLine("1", "RUG", 8),))
    assert Planner(supplied).plan(no_wait).plan.status is PlanStatus.UNFULFILLABLE


def test_a_backordered_line_waits_with_its_ship_together_group(tiny_network: Network) -> None:
    arrival = ORDER_DAY + timedelta(days=10)
    network = dataclasses.replace(
        tiny_network,
        inbound_supply=(
            InboundSupply("PO-1", "DC1", "RUG", 10, arrival),
            InboundSupply("PO-2", "DC1", "TEE", 5, arrival),
        ),
    )
    order = Order(
        "set",
        (
            OrderLine("1", "RUG", 8, "g", allow_backorder=True),
            OrderLine("2", "TEE", 1, "g"),
            OrderLine("3", "JEANS", 1),
        ),
        tiny_network.nodes[0].location,
        create_time=CREATED,
        promise_days=5,
    )
    plan = Planner(network).plan(order).plan
    assert plan.status is PlanStatus.COMPLETE
    group = [s for s in plan.shipments if {x.line_id for x in s.lines} & {"1", "2"}]
    assert len(group) == 1 and group[0].backorder
    assert {x.line_id: x.quantity for x in group[0].lines} == {"1": 8, "2": 1}


def test_a_pre_order_never_ships_before_the_release_in_a_nodes_own_time_zone(
    tiny_network: Network,
) -> None:
    """Network in Sydney, a node in Perth (3 hours behind): the release date holds at the
    node too."""
    release = ORDER_DAY + timedelta(days=9)
    network = _released(tiny_network, "TEE", release)
    nodes = tuple(
        dataclasses.replace(n, time_zone="Australia/Perth") if n.id == "DC1" else n
        for n in network.nodes
    )
    network = dataclasses.replace(network, nodes=nodes, time_zone="Australia/Sydney")
    order = Order(
        "tees",
        (OrderLine("1", "TEE", 5),),
        tiny_network.nodes[0].location,
        create_time=CREATED,
    )
    plan = Planner(network).plan(order).plan
    assert plan.status is PlanStatus.COMPLETE
    for shipment in plan.shipments:
        assert shipment.preorder
        assert shipment.ship_date is not None and shipment.ship_date >= release


def test_a_reroute_never_merges_a_pre_order_into_a_shipment_in_the_promise(
    tiny_network: Network,
) -> None:
    release = ORDER_DAY + timedelta(days=12)
    network = _released(tiny_network, "COAT", release)
    stock = tuple(  # DC1, which ships the jeans, has coats too
        dataclasses.replace(p, on_hand=3, safety_stock=0)
        if (p.node_id, p.sku_id) == ("DC1", "COAT")
        else p
        for p in network.stock
    )
    planner = Planner(dataclasses.replace(network, stock=stock))
    order = Order(
        "mixed",
        (OrderLine("1", "JEANS", 1), OrderLine("2", "COAT", 1)),
        tiny_network.nodes[0].location,
        create_time=CREATED,
        promise_days=4,
    )
    plan = planner.plan(order).plan
    pre = next(s for s in plan.shipments if s.preorder)
    kept = {s.node_id: s for s in plan.shipments if not s.preorder}
    rerouted = planner.reroute(order, plan, pre.node_id, {}).plan
    for shipment in rerouted.shipments:
        if shipment.node_id in kept:
            assert shipment == kept[shipment.node_id]  # untouched, still in the promise
        else:
            assert shipment.preorder and {x.sku_id for x in shipment.lines} == {"COAT"}
            assert shipment.ship_date is not None and shipment.ship_date >= release


def test_a_batch_replay_plans_pre_orders_in_parts(tiny_network: Network) -> None:
    """Scenario replays in batch mode go through joint allocation: a pre-order there is
    still dated from its release, in a shipment of its own."""
    release = ORDER_DAY + timedelta(days=12)
    network = _released(tiny_network, "COAT", release)
    where = tiny_network.nodes[0].location
    orders = [
        Order(
            f"o{i}",
            (OrderLine("1", "JEANS", 1), OrderLine("2", "COAT", 1)),
            where,
            create_time=CREATED,
        )
        for i in range(3)
    ]
    replayed = Planner(network).replay(orders, mode=ReplayMode.BATCH)
    assert [o.status for o in replayed.outcomes] == [PlanStatus.COMPLETE] * 3
    for outcome in replayed.outcomes:
        assert len(outcome.shipments) == 2
        assert outcome.delivery_days >= (release - ORDER_DAY).days
