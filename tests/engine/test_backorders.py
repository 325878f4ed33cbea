"""Backorders and pre-orders in the planner (omniroute.backorders): units short within the
promise wait for supply in transit when their line allows it, and units of a SKU not yet
released ship in a part of their own, dated from the release date. Each part is the
optimiser's exact answer; the backorder part is checked against brute force."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import brute_force as bf
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from omniroute.inbound import split_inbound_node_id, with_inbound_nodes
from omniroute.model import (
    InboundSupply,
    Network,
    Order,
    OrderLine,
    PlanStatus,
    Policy,
    Proof,
    ValidationError,
)
from omniroute.planner import Planner
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
    supplies = tuple(
        InboundSupply(
            f"PO-{i}",
            data.draw(st.sampled_from([n.id for n in network.nodes])),
            data.draw(st.sampled_from([s.id for s in network.skus])),
            data.draw(st.integers(1, 3)),
            ORDER_DAY + timedelta(days=data.draw(st.integers(0, 6))),
        )
        for i in range(data.draw(st.integers(1, 3)))
    )
    network = dataclasses.replace(network, inbound_supply=supplies)
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
    )
    planner = Planner(network)
    result = planner.plan(order, Policy.CHEAPEST)
    assert result.stats.proof is Proof.OPTIMAL
    main = planner.plan(
        dataclasses.replace(
            order, lines=tuple(dataclasses.replace(x, allow_backorder=False) for x in order.lines)
        )
    ).plan
    short = {u.line_id: u.quantity for u in main.unfilled_lines}
    waiting = {x.id: short[x.id] for x in order.lines if x.allow_backorder and x.id in short}
    late = [s for s in result.plan.shipments if s.backorder]
    early = [s for s in result.plan.shipments if not s.backorder]
    assert sum(s.cost for s in early) == pytest.approx(sum(s.cost for s in main.shipments), abs=TOL)
    budget = order.max_shipments - len(main.shipments) if order.max_shipments else 0
    if not waiting or (order.max_shipments and budget <= 0):
        assert not late  # nothing to wait for, or no shipment left for it
        return
    augmented, _ = with_inbound_nodes(network)
    used = {s.node_id for s in main.shipments}
    rest = dataclasses.replace(
        order,
        lines=tuple(
            dataclasses.replace(x, quantity=waiting[x.id]) for x in order.lines if x.id in waiting
        ),
        promise_days=0,
        max_shipments=budget,
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
