"""The baseline router: nearest full node, else greedy by distance; always contract-feasible."""

from __future__ import annotations

import pytest

from omniroute.cost import check_plan
from omniroute.model import Network, Order, PlanStatus, Policy, UnfilledReason
from omniroute.network_index import Inventory, NetworkIndex
from omniroute.planner import Planner


@pytest.fixture(scope="module")
def planner(tiny_network: Network) -> Planner:
    return Planner(tiny_network)


def atp_of(planner: Planner) -> dict[tuple[str, str], int]:
    return planner.inventory.atp_map()


def test_every_named_order_is_feasible(
    planner: Planner, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """Every baseline plan of the named orders passes the independent contract check."""
    for order in tiny_orders.values():
        result = planner.plan(order, Policy.BASELINE)
        assert check_plan(order, tiny_network, result.plan, atp_of(planner)) == [], order.id


def test_nearest_full_node(planner: Planner, tiny_orders: dict[str, Order]) -> None:
    """One tee near the DC ships whole from the DC with its cheapest service."""
    plan = planner.plan(tiny_orders["one-tee-melbourne"], Policy.BASELINE).plan
    assert plan.status is PlanStatus.COMPLETE
    assert [(s.node_id, s.service_id) for s in plan.shipments] == [("DC1", "PARCEL")]


def test_greedy_split_by_distance(planner: Planner, tiny_orders: dict[str, Order]) -> None:
    """No node holds a coat (DC safety stock) and jeans; nearest holders split the order."""
    plan = planner.plan(tiny_orders["coat-and-jeans"], Policy.BASELINE).plan
    assert plan.status is PlanStatus.COMPLETE
    assert {s.node_id for s in plan.shipments} == {"DC1", "ST1"}
    assert plan.split_penalty_cost == pytest.approx(2.0)


def test_promise_makes_order_unfulfillable(planner: Planner, tiny_orders: dict[str, Order]) -> None:
    """Next-day coat: the only coats are at stores without a 1-day service to the city."""
    plan = planner.plan(tiny_orders["next-day-coat"], Policy.BASELINE).plan
    assert plan.status is PlanStatus.UNFULFILLABLE
    assert [(u.line_id, u.reason) for u in plan.unfilled_lines] == [
        ("1", UnfilledReason.NO_SERVICE_WITHIN_PROMISE)
    ]


def test_partial_when_allowed(planner: Planner, tiny_orders: dict[str, Order]) -> None:
    """Five coats wanted, three available: the rest is reported out of stock."""
    plan = planner.plan(tiny_orders["too-many-coats"], Policy.BASELINE).plan
    assert plan.status is PlanStatus.PARTIAL
    assert [(u.line_id, u.quantity, u.reason) for u in plan.unfilled_lines] == [
        ("1", 2, UnfilledReason.OUT_OF_STOCK)
    ]


def test_ship_complete_not_possible(planner: Planner, tiny_orders: dict[str, Order]) -> None:
    """A coat and a rug are never at one node: ship-complete fails with that reason."""
    plan = planner.plan(tiny_orders["ship-complete"], Policy.BASELINE).plan
    assert plan.status is PlanStatus.UNFULFILLABLE
    assert {u.reason for u in plan.unfilled_lines} == {UnfilledReason.EXCEEDS_MAX_SHIPMENTS}


def test_excluded_node_is_not_used(planner: Planner, tiny_orders: dict[str, Order]) -> None:
    """Excluding the DC routes to the stores."""
    plan = planner.plan(tiny_orders["no-dc"], Policy.BASELINE).plan
    assert plan.status is PlanStatus.COMPLETE
    assert "DC1" not in {s.node_id for s in plan.shipments}


def test_same_sku_on_two_lines_shares_stock(
    planner: Planner, tiny_orders: dict[str, Order]
) -> None:
    """Three tees over two lines come from one node whose ATP covers both lines."""
    plan = planner.plan(tiny_orders["tee-twice"], Policy.BASELINE).plan
    assert plan.status is PlanStatus.COMPLETE
    assert sum(s.units for s in plan.shipments) == 3


def test_disabled_node_is_not_used(tiny_network: Network, tiny_orders: dict[str, Order]) -> None:
    """A disabled DC never ships."""
    from dataclasses import replace

    nodes = tuple(replace(n, disabled=n.id == "DC1") for n in tiny_network.nodes)
    network = replace(tiny_network, nodes=nodes)
    planner = Planner(network)
    plan = planner.plan(tiny_orders["one-tee-melbourne"], Policy.BASELINE).plan
    assert {s.node_id for s in plan.shipments} == {"ST1"}


def test_reserved_units_are_not_available(
    tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """ATP subtracts reserved units: a fully reserved DC cannot ship tees."""
    from dataclasses import replace

    stock = tuple(
        replace(p, reserved=p.on_hand) if (p.node_id, p.sku_id) == ("DC1", "TEE") else p
        for p in tiny_network.stock
    )
    index = NetworkIndex(tiny_network)
    planner = Planner(tiny_network, Inventory(index, stock))
    plan = planner.plan(tiny_orders["one-tee-melbourne"], Policy.BASELINE).plan
    assert {s.node_id for s in plan.shipments} == {"ST1"}
