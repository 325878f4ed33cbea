"""Availability ("save the sale") on the demo network: what store staff expect to see."""

from __future__ import annotations

import pytest

from omniroute.availability import DEFAULT_MAX_PICKUP_DISTANCE_KM, Fulfilment
from omniroute.demo_data import demo_dataset
from omniroute.model import NodeKind, ValidationError
from omniroute.planner import Planner


@pytest.fixture(scope="module")
def planner() -> Planner:
    network, _ = demo_dataset(seed=7, orders=10)
    return Planner(network, validate=False)


@pytest.fixture(scope="module")
def skus(planner: Planner) -> list[str]:
    """SKUs that ST-SYDNEY does not hold but DC-SYD and far-away stores do."""
    found = []
    for sku in planner.index.network.skus:
        holders = {n.node_id for n in planner.availability([sku.id], store_id="ST-SYDNEY").nodes}
        if "DC-SYD" in holders and "ST-SYDNEY" not in holders and len(holders) > 4:
            found.append(sku.id)
        if len(found) == 3:
            return found
    raise AssertionError("the demo network has no such SKUs")


def test_from_sydney_the_nearest_ways_come_first(planner: Planner, skus: list[str]) -> None:
    """From ST-SYDNEY the first option is close by, never a store 500+ km away; pick-up is
    offered only within the radius, and every group is nearest first."""
    for sku in skus:
        nodes = planner.availability([sku], store_id="ST-SYDNEY").nodes
        assert nodes[0].distance_km < 500, nodes[0]
        ways = [n.fulfilment for n in nodes]
        assert ways == sorted(ways, key=list(Fulfilment).index)
        for way in (Fulfilment.PICKUP, Fulfilment.DELIVERY):
            km = [n.distance_km for n in nodes if n.fulfilment is way]
            assert km == sorted(km)
        assert all(
            n.distance_km <= DEFAULT_MAX_PICKUP_DISTANCE_KM
            for n in nodes
            if n.fulfilment is Fulfilment.PICKUP
        )
        # a far pick-up store still shows, as a delivery node
        assert any(n.pickup and n.fulfilment is Fulfilment.DELIVERY for n in nodes)


def test_max_nodes_never_hides_delivery(planner: Planner, skus: list[str]) -> None:
    """With maxNodes 3 a delivery from a DC is present; at most 3 of each kind."""
    for sku in skus:
        nodes = planner.availability([sku], store_id="ST-SYDNEY", max_nodes=3).nodes
        assert any(n.kind is NodeKind.DC and n.fulfilment is Fulfilment.DELIVERY for n in nodes)
        for way in Fulfilment:
            assert sum(n.fulfilment is way for n in nodes) <= 3


def test_pickup_radius(planner: Planner, skus: list[str]) -> None:
    """0 km = any distance (far stores are pick-up again); a negative radius is refused."""
    nodes = planner.availability(skus[:1], store_id="ST-SYDNEY", max_pickup_distance_km=0).nodes
    assert any(n.fulfilment is Fulfilment.PICKUP and n.distance_km > 500 for n in nodes)
    with pytest.raises(ValidationError) as caught:
        planner.availability(skus[:1], store_id="ST-SYDNEY", max_pickup_distance_km=-1)
    assert [v.field for v in caught.value.violations] == ["maxPickupDistanceKm"]
