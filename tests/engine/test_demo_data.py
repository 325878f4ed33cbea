"""Demo data: the founding retailer's shape, determinism by seed, validity."""

from __future__ import annotations

from collections import Counter

import pytest

from omniroute.demo_data import demo_dataset, large_dataset
from omniroute.model import Network, NodeKind
from omniroute.validation import network_violations, orders_violations


@pytest.fixture(scope="module")
def demo() -> tuple[Network, list]:
    return demo_dataset(seed=3, orders=3000)


def test_demo_network_shape(demo) -> None:
    """54 stores, 2 DCs, one 3PL, three drop-ship vendors, four carrier services, 2,000 SKUs."""
    network, _ = demo
    kinds = Counter(node.kind for node in network.nodes)
    assert kinds == {
        NodeKind.STORE: 54,
        NodeKind.DC: 2,
        NodeKind.THIRD_PARTY: 1,
        NodeKind.DROP_SHIP: 3,
    }
    assert len(network.skus) == 2000
    assert {s.id for s in network.carrier_services} == {
        "AP-PARCEL",
        "AP-EXPRESS",
        "METRO-SAMEDAY",
        "ROAD-FREIGHT",
    }
    for node in network.nodes:  # all in Australia
        assert -44 < node.location.latitude < -10 and 112 < node.location.longitude < 154


def test_demo_is_valid(demo) -> None:
    """The generated network and orders pass validation."""
    network, orders = demo
    assert network_violations(network) == []
    assert orders_violations(orders, network) == []


def test_drop_ship_vendors_hold_only_their_lines(demo) -> None:
    """Each vendor's stock is its own category; nobody else holds those SKUs."""
    network, _ = demo
    prefix = {"DS-RUGS": "RUG-", "DS-JEWEL": "JEWEL-", "DS-SKIN": "SKIN-"}
    for position in network.stock:
        vendor = next((v for v, p in prefix.items() if position.sku_id.startswith(p)), None)
        assert position.node_id == vendor or (vendor is None and position.node_id not in prefix)


def test_order_mix(demo) -> None:
    """Mostly one or two lines, at most eight (+1 repeated SKU line), some promises and pick-ups."""
    _, orders = demo
    lines = Counter(min(len(o.lines), 9) for o in orders)
    assert lines[1] + lines[2] > 0.6 * len(orders)
    assert max(len(o.lines) for o in orders) <= 9
    assert any(o.pickup_store_id for o in orders)
    assert any(o.promise_days for o in orders)
    assert any(o.max_shipments == 1 for o in orders)
    times = [o.create_time for o in orders]
    assert times == sorted(times)


def test_same_seed_same_data_different_seed_differs() -> None:
    """Generation is a pure function of the seed."""
    assert demo_dataset(seed=5, orders=200) == demo_dataset(seed=5, orders=200)
    assert demo_dataset(seed=5, orders=200) != demo_dataset(seed=6, orders=200)


def test_large_network_is_valid() -> None:
    """The synthetic scale network has the requested size and validates."""
    network, orders = large_dataset(nodes=120, skus=3000, orders=100, seed=1)
    assert len(network.nodes) == 120 and len(network.skus) == 3000
    assert network_violations(network) == []
    assert orders_violations(orders, network) == []
