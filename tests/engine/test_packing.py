"""Ship-together groups and ship-alone SKUs: plans are the brute-force optimum under both
rules (a group's lines whole from one node; a ship-alone unit a parcel of its own, charged
its zone's base cost), every plan passes the independent checker, and reasons say when no
node holds a whole group."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniroute.cost import check_plan, quote_shipment
from omniroute.files import network_from_json, order_from_json
from omniroute.model import (
    Location,
    Network,
    Order,
    OrderLine,
    PlanStatus,
    Proof,
    UnfilledReason,
)
from omniroute.planner import Planner
from tests.engine.test_dated import check_dates, dated_instances, dated_lanes
from tests.engine.test_optimizer import SETTINGS, check_against_brute_force, instances
from tests.engine.test_profiles import profile_instances


@st.composite
def packed_instances(
    draw: st.DrawFn, base: st.SearchStrategy[tuple[Network, Order]] | None = None
) -> tuple[Network, Order]:
    """The optimiser's random tiny instances with some SKUs shipping alone and some lines
    in ship-together groups (a SKU may be on lines of two groups)."""
    network, order = draw(base if base is not None else instances())
    skus = tuple(
        dataclasses.replace(sku, ship_alone=draw(st.integers(0, 2)) == 2) for sku in network.skus
    )
    network = dataclasses.replace(network, skus=skus)
    lines = tuple(
        dataclasses.replace(line, ship_together_group=draw(st.sampled_from(["", "", "A", "B"])))
        for line in order.lines
    )
    return network, dataclasses.replace(order, lines=lines)


@SETTINGS
@given(packed_instances())
def test_packed_plans_are_the_brute_force_optimum(instance: tuple[Network, Order]) -> None:
    """CHEAPEST, FASTEST, the options and the most units of a partial order equal brute
    force over the plans that keep the groups whole and count ship-alone parcels."""
    check_against_brute_force(*instance)


# ------------------------------------------------------------------------ named cases

NETWORK = {
    "nodes": [
        {
            "id": "DC",
            "kind": "DC",
            "location": {"latitude": -33.9, "longitude": 151.0},
            "handlingCostPerShipment": 2,
            "serviceIds": ["ROAD"],
        },
        {
            "id": "STORE",
            "kind": "STORE",
            "location": {"latitude": -33.8, "longitude": 151.2},
            "handlingCostPerShipment": 1,
            "serviceIds": ["ROAD"],
        },
    ],
    "carrierServices": [
        {
            "id": "ROAD",
            "maxParcelWeightKg": 10,
            "zones": [{"maxDistanceKm": 100, "baseCost": 5, "costPerKg": 0.5, "transitDays": 1}],
        }
    ],
    "skus": [
        {"id": "SOFA", "weightKg": 30, "shipAlone": True},
        {"id": "CUSHION", "weightKg": 1},
        {"id": "LAMP", "weightKg": 2},
    ],
    "stock": [
        {"nodeId": "DC", "skuId": "SOFA", "onHand": 5},
        {"nodeId": "DC", "skuId": "LAMP", "onHand": 5},
        {"nodeId": "STORE", "skuId": "CUSHION", "onHand": 5},
        {"nodeId": "STORE", "skuId": "LAMP", "onHand": 5},
    ],
}
HOME = Location(-33.85, 151.1)


def _network(**changes) -> Network:
    network, violations = network_from_json({**NETWORK, **changes})
    assert violations == [] and network is not None
    return network


def test_a_ship_alone_unit_is_a_parcel_of_its_own() -> None:
    """Two sofas and a lamp from the DC: 2 sofa parcels + 1 parcel for the lamp, the per-kg
    charge on all 62 kg; the file reader and writer keep the flag."""
    network = _network()
    order = Order("o", (OrderLine("1", "SOFA", 2), OrderLine("2", "LAMP", 1)), HOME)
    planner = Planner(network)
    result = planner.plan(order)
    assert result.stats.proof is Proof.OPTIMAL
    (shipment,) = [s for s in result.plan.shipments if s.node_id == "DC"]
    lamp_here = any(line.sku_id == "LAMP" for line in shipment.lines)
    assert shipment.parcels == 2 + lamp_here
    assert check_plan(order, network, result.plan, planner.inventory.atp_map()) == []
    dc = network.nodes[0]
    alone_only = quote_shipment(dc, network.carrier_services[0], 60.0, 2, HOME, alone_units=2)
    assert alone_only is not None and alone_only.parcels == 2  # no parcel for nothing else
    assert alone_only.cost == pytest.approx(2 * 5 + 0.5 * 60 + 2)


def test_a_group_ships_whole_from_one_node_or_not_at_all() -> None:
    """A lamp and cushions in one group: only the store holds both, so both come from it
    although the lamp alone would be cheaper... from wherever; a group no node holds whole
    is NOT_TOGETHER."""
    network = _network()
    lines = (
        OrderLine("1", "LAMP", 1, "set"),
        OrderLine("2", "CUSHION", 2, "set"),
        OrderLine("3", "SOFA", 1),
    )
    order = Order("o", lines, HOME)
    planner = Planner(network)
    plan = planner.plan(order).plan
    assert plan.status is PlanStatus.COMPLETE
    nodes = {line.line_id: s.node_id for s in plan.shipments for line in s.lines}
    assert nodes == {"1": "STORE", "2": "STORE", "3": "DC"}
    assert check_plan(order, network, plan, planner.inventory.atp_map()) == []

    apart = Order(
        "o", (OrderLine("1", "SOFA", 1, "set"), OrderLine("2", "CUSHION", 1, "set")), HOME
    )
    nothing = planner.plan(apart).plan
    assert nothing.status is PlanStatus.UNFULFILLABLE
    assert {u.reason for u in nothing.unfilled_lines} == {UnfilledReason.NOT_TOGETHER}
    partial = planner.plan(dataclasses.replace(apart, allow_partial=True)).plan
    assert partial.status is PlanStatus.UNFULFILLABLE  # a group ships whole or not at all

    read, problems = order_from_json(
        {"id": "o", "destination": {"latitude": -33.85, "longitude": 151.1},
         "lines": [{"id": "1", "skuId": "LAMP", "quantity": 1, "shipTogetherGroup": "set"}]}
    )  # fmt: skip
    assert problems == [] and read is not None
    assert read.lines[0].ship_together_group == "set"


@SETTINGS
@given(packed_instances(profile_instances(dated_instances())))
def test_every_rule_at_once_is_the_brute_force_optimum(instance: tuple[Network, Order]) -> None:
    """Calendars, time zones, cut-offs, a dated order (maybe with a promise date), sourcing
    profiles, ship-together groups and ship-alone SKUs together: CHEAPEST, FASTEST and the
    options equal brute force over the contract's dated days, and every plan carries the
    contract's dates."""
    network, order = instance
    check_against_brute_force(
        network,
        order,
        dated_lanes(network, order),
        lambda plan: check_dates(network, order, plan),
    )


def test_a_group_name_longer_than_an_id_is_refused() -> None:
    from omniroute.validation import order_violations

    order = Order("o", (OrderLine("1", "LAMP", 1, "g" * 300),), HOME)
    assert [v.field for v in order_violations(order, _network())] == ["lines[0].shipTogetherGroup"]
