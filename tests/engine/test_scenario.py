"""Scenarios: change validation, applying changes, KPI arithmetic, replay, determinism."""

from __future__ import annotations

from dataclasses import replace

import pytest

from omniroute.demo_data import demo_dataset
from omniroute.model import (
    Channel,
    Location,
    Network,
    NodeKind,
    Order,
    OrderLine,
    PlanStatus,
    ValidationError,
)
from omniroute.planner import Planner
from omniroute.scenario import OrderOutcome, ReplayMode, apply_changes, kpis
from omniroute.scenario import read_changes as load_changes


def test_every_problem_of_a_changes_document(tiny_network: Network) -> None:
    data = {
        "closeNodes": ["DC1", "NOPE"],
        "carrierRates": {"byCarrier": {"Post": 0, "Nobody": 1.1}, "byService": {"FREIGHT": "x"}},
        "safetyStock": {"byKind": {"STORE": -1, "CASTLE": 1}, "byNode": {"ST1": 1.5}},
        "capacity": {"byWhat": {}},
        "splitPenalty": -2,
        "addNodes": [{"id": "N9", "kind": "MOON"}],
        "surprise": True,
    }
    with pytest.raises(ValidationError) as caught:
        load_changes(data, tiny_network)
    fields = {v.field for v in caught.value.violations}
    assert {
        "closeNodes[1]",
        "carrierRates.byCarrier.Post",
        "carrierRates.byCarrier.Nobody",
        "carrierRates.byService.FREIGHT",
        "safetyStock.byKind.STORE",
        "safetyStock.byKind.CASTLE",
        "safetyStock.byNode.ST1",
        "capacity.byWhat",
        "splitPenalty",
        "addNodes[0]",
        "surprise",
    } <= fields


def test_changed_network_must_be_valid(tiny_network: Network) -> None:
    """A new node with an unknown service is caught in the changed network."""
    data = {
        "addNodes": [
            {
                "id": "DC2",
                "kind": "DC",
                "location": {"latitude": -35, "longitude": 149},
                "serviceIds": ["TELEPORT"],
            }
        ]
    }
    with pytest.raises(ValidationError) as caught:
        load_changes(data, tiny_network)
    assert any("serviceIds" in v.field for v in caught.value.violations)


def test_apply_changes(tiny_network: Network) -> None:
    changes = load_changes(
        {
            "closeNodes": ["DC1"],
            "carrierRates": {"byCarrier": {"Post": 1.5}},
            "safetyStock": {"byKind": {"STORE": 2}, "byNode": {"ST2": 0}},
            "processingDays": {"byNode": {"ST1": 2}},
            "capacity": {"byKind": {"STORE": 5}},
            "splitPenalty": 7.0,
            "addNodes": [
                {
                    "id": "DC2",
                    "kind": "DC",
                    "location": {"latitude": -35.3, "longitude": 149.1},
                    "serviceIds": ["PARCEL"],
                    "handlingCostPerShipment": 1.0,
                }
            ],
            "addStock": [{"nodeId": "DC2", "skuId": "COAT", "onHand": 5}],
        },
        tiny_network,
    )
    changed = apply_changes(tiny_network, changes)
    nodes = {n.id: n for n in changed.nodes}
    assert nodes["DC1"].disabled and not nodes["ST1"].disabled
    assert nodes["ST1"].processing_days == 2 and nodes["ST1"].daily_shipment_capacity == 5
    assert nodes["DC2"].kind is NodeKind.DC
    parcel = next(s for s in changed.carrier_services if s.id == "PARCEL")
    assert parcel.zones[0].base_cost == pytest.approx(12.0) and parcel.zones[
        0
    ].cost_per_kg == pytest.approx(0.75)
    freight = next(s for s in changed.carrier_services if s.id == "FREIGHT")
    assert freight.zones[0].base_cost == 30.0  # another carrier
    safety = {(p.node_id, p.sku_id): p.safety_stock for p in changed.stock}
    assert (
        safety[("ST1", "TEE")] == 2 and safety[("ST2", "COAT")] == 0 and safety[("DC1", "TEE")] == 0
    )
    assert changed.split_penalty == 7.0 and ("DC2", "COAT") in safety
    assert tiny_network.nodes[0].disabled is False  # the base is unchanged


def outcome(
    i: int,
    status: str,
    ordered: int,
    filled: int,
    cost: float,
    days: int,
    promise: int,
    ships: tuple,
) -> OrderOutcome:
    return OrderOutcome(
        f"o{i}",
        Channel.WEB,
        PlanStatus(status),
        ordered,
        filled,
        cost,
        days,
        promise,
        ships,
        (0.0, 0.0),
    )


def test_kpi_arithmetic() -> None:
    """Four hand-checked orders."""
    outcomes = [
        outcome(1, "COMPLETE", 2, 2, 10.0, 2, 0, (("A", 2),)),  # on time (standard 5)
        outcome(2, "COMPLETE", 3, 3, 30.0, 6, 0, (("A", 1), ("B", 2))),  # late vs standard
        outcome(3, "PARTIAL", 4, 1, 20.0, 3, 3, (("B", 1),)),  # not complete
        outcome(4, "UNFULFILLABLE", 1, 0, 0.0, 0, 2, ()),
    ]
    k = kpis(outcomes)
    assert (k.orders, k.orders_shipped, k.orders_complete) == (4, 3, 2)
    assert (k.units_ordered, k.units_filled) == (10, 6)
    assert k.total_cost == 60.0 and k.cost_per_order == 20.0
    assert k.split_rate == pytest.approx(1 / 3, abs=1e-6)
    assert k.mean_delivery_days == pytest.approx(11 / 3, abs=1e-6)
    assert k.on_time_rate == 0.25
    assert k.shipments_by_node == {"A": 2, "B": 2}
    assert k.orders_by_delivery_days == {2: 1, 3: 1, 6: 1}


def test_replay_depletes_stock_and_shares_capacity(tiny_network: Network) -> None:
    """Three coats in stock: the fourth coat order goes unfilled. With a capacity of one
    shipment a day at ST1, the second dated Geelong order ships from ST1 the next day (its
    day is full, and ST1 is still the cheapest); an undated one, which has no ship date,
    goes elsewhere (the replay's one day of capacity)."""
    orders = [
        Order(
            f"c{i}",
            (OrderLine("1", "COAT", 1),),
            destination=Location(-38.15, 144.36),
            create_time=f"2026-11-27T00:00:0{i}Z",
        )
        for i in range(4)
    ]
    outcomes = Planner(tiny_network).replay(orders).outcomes
    assert [o.status.value for o in outcomes] == ["COMPLETE"] * 3 + ["UNFULFILLABLE"]
    limited = apply_changes(
        tiny_network, load_changes({"capacity": {"byNode": {"ST1": 1}}}, tiny_network)
    )
    outcomes = Planner(limited).replay(orders[:2]).outcomes
    assert [o.shipments[0][0] for o in outcomes] == ["ST1", "ST1"]
    assert outcomes[1].delivery_days == outcomes[0].delivery_days + 1
    undated = [replace(o, create_time="") for o in orders[:2]]
    outcomes = Planner(limited).replay(undated).outcomes
    assert [o.shipments[0][0] for o in outcomes] == ["ST1", "ST2"]


def test_replay_is_deterministic(tiny_network: Network, tiny_orders: dict[str, Order]) -> None:
    """The same orders replayed twice give the same outcomes, in both modes."""
    orders = list(tiny_orders.values())
    planner = Planner(tiny_network)
    assert planner.replay(orders) == planner.replay(orders)
    batch = ReplayMode.BATCH
    assert planner.replay(orders, mode=batch) == planner.replay(orders, mode=batch)


def test_closing_both_dcs_costs_more_and_takes_longer() -> None:
    """On the demo network, closing both DCs raises cost per order and delivery days."""
    network, orders = demo_dataset(seed=7, orders=600)
    base = Planner(network).replay(orders).kpis
    closed = apply_changes(network, load_changes({"closeNodes": ["DC-MEL", "DC-SYD"]}, network))
    without = Planner(closed).replay(orders).kpis
    assert without.cost_per_order > base.cost_per_order
    assert without.mean_delivery_days > base.mean_delivery_days
    assert without.shipments_by_node.get("DC-MEL", 0) == 0


def test_replay_orders_by_instant_not_by_text(tiny_network: Network) -> None:
    """An order at 09:30:00Z replays before one at 09:30:00.500Z, although its text sorts
    after it."""
    destination = Location(-37.56, 143.86)  # Ballarat
    later = Order(
        "later", (OrderLine("1", "COAT", 1),), destination, create_time="2026-11-27T09:30:00.500Z"
    )
    first = Order(
        "first", (OrderLine("1", "COAT", 1),), destination, create_time="2026-11-27T09:30:00Z"
    )
    outcomes = Planner(tiny_network).replay([later, first]).outcomes
    assert [o.order_id for o in outcomes] == ["first", "later"]
