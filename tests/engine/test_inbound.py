"""Future stock in the planner: supply in transit is promised to dated orders, shipping no
earlier than its arrival plus the node's processing days, at the brute-force optimum over
every dated option; undated orders and orders excluding the node never use it."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import brute_force as bf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniroute.inbound import inbound_node_id, split_inbound_node_id, with_inbound_nodes
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
from omniroute.validation import require_valid_network
from tests.engine.test_optimizer import SETTINGS, TOL, instances

ORDER_DAY = date(2026, 12, 7)
CREATED = "2026-12-07T01:00:00Z"  # a Monday, in UTC (the instances' networks have no zones)


def test_an_order_the_shelf_cannot_fill_is_promised_from_supply_in_transit(
    tiny_network: Network,
) -> None:
    """8 rugs: the vendor holds 4. With 10 inbound at DC1 in 5 days the order is complete,
    the inbound units ship on or after the arrival (plus DC1's processing days); without
    the supply it is short."""
    order = Order(
        "rugs",
        (OrderLine("1", "RUG", 8),),
        destination=tiny_network.nodes[0].location,
        create_time=CREATED,
    )
    short = Planner(tiny_network).plan(order)
    assert short.plan.status is not PlanStatus.COMPLETE
    arrival = ORDER_DAY + timedelta(days=5)
    network = dataclasses.replace(
        tiny_network, inbound_supply=(InboundSupply("PO-1", "DC1", "RUG", 10, arrival),)
    )
    result = Planner(network).plan(order)
    assert result.plan.status is PlanStatus.COMPLETE
    assert result.stats.proof is Proof.OPTIMAL
    dc1 = next(n for n in tiny_network.nodes if n.id == "DC1")
    inbound = [s for s in result.plan.shipments if split_inbound_node_id(s.node_id)]
    assert inbound
    for shipment in inbound:
        assert shipment.node_id == inbound_node_id("DC1", arrival)
        assert shipment.ship_date is not None
        assert shipment.ship_date >= arrival + timedelta(days=dc1.processing_days)
    # the same order without a createTime has no date to compare the arrival with
    undated = Planner(network).plan(dataclasses.replace(order, create_time=""))
    assert undated.plan.status is not PlanStatus.COMPLETE
    # nor may an order that excludes the node take its supply
    excluding = dataclasses.replace(order, excluded_node_ids=("DC1",))
    assert Planner(network).plan(excluding).plan.status is not PlanStatus.COMPLETE


def _delayed(network: Network, order_day: date) -> bf.DatedLanes:
    """Lane days on a network without zones or calendars: processing + transit, and for an
    inbound node the days from the order's date to its arrival first."""

    def days(node, service, transit: int) -> int:  # type: ignore[no-untyped-def]
        found = split_inbound_node_id(node.id)
        wait = max(0, (found[1] - order_day).days) if found else 0
        return wait + node.processing_days + transit

    return bf.DatedLanes(days, None)


@SETTINGS
@given(instances(), st.data())
def test_inbound_plans_are_the_brute_force_optimum(
    instance: tuple[Network, Order], data: st.DataObject
) -> None:
    network, order = instance
    if network.time_zone or network.calendars or any(n.cutoff_time for n in network.nodes):
        return
    supplies = tuple(
        InboundSupply(
            f"PO-{i}",
            data.draw(st.sampled_from([n.id for n in network.nodes])),
            data.draw(st.sampled_from([s.id for s in network.skus])),
            data.draw(st.integers(1, 3)),
            ORDER_DAY + timedelta(days=data.draw(st.integers(-1, 4))),
        )
        for i in range(data.draw(st.integers(1, 3)))
    )
    network = dataclasses.replace(network, inbound_supply=supplies)
    order = dataclasses.replace(order, create_time=CREATED, promise_days=0, promise_date=None)
    planner = Planner(network)
    augmented, _ = with_inbound_nodes(network)
    # an order that excludes a node excludes its supply in transit too
    excluded = {
        n.id
        for n in augmented.nodes
        if (split_inbound_node_id(n.id) or ("",))[0] in order.excluded_node_ids
    }
    reference = dataclasses.replace(
        order, excluded_node_ids=(*order.excluded_node_ids, *sorted(excluded))
    )
    plans = bf.all_plans(
        reference, augmented, planner.inventory.atp_map(), _delayed(network, ORDER_DAY)
    )
    expected = bf.cheapest(bf.complete(order, plans))
    result = planner.plan(order, Policy.CHEAPEST)
    assert result.stats.proof is Proof.OPTIMAL
    if expected is None:
        assert result.plan.status is not PlanStatus.COMPLETE
        return
    got = (result.plan.objective, result.plan.delivery_days, len(result.plan.shipments))
    assert got[0] == pytest.approx(expected[0], abs=TOL), (got, expected)
    assert got[1:] == expected[1:], (got, expected)
    for shipment in result.plan.shipments:
        found = split_inbound_node_id(shipment.node_id)
        if found:
            node = next(n for n in network.nodes if n.id == found[0])
            assert shipment.ship_date == max(ORDER_DAY, found[1]) + timedelta(
                days=node.processing_days
            )


def test_bad_inbound_supply_is_named(tiny_network: Network) -> None:
    bad = dataclasses.replace(
        tiny_network,
        inbound_supply=(
            InboundSupply("PO-1", "NOPE", "RUG", 1, ORDER_DAY),
            InboundSupply("PO-1", "DC1", "NOPE", 0, None),
        ),
    )
    with pytest.raises(ValidationError) as caught:
        require_valid_network(bad)
    assert [v.field for v in caught.value.violations] == [
        "inboundSupply[0].nodeId",
        "inboundSupply[1].id",
        "inboundSupply[1].skuId",
        "inboundSupply[1].quantity",
        "inboundSupply[1].arrivalDate",
    ]
