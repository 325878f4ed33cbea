"""The rebuilt Jasin & Sinha instance is a valid network whose costs are the paper's."""

from __future__ import annotations

import pytest

from benchmarks.jasin_sinha import KM_PER_MILE, PACKAGE, PER_UNIT, PER_UNIT_MILE, Setting, instance
from omniroute.cost import quote_shipment
from omniroute.geo import distance_km
from omniroute.network_index import NetworkIndex
from omniroute.validation import network_violations, order_violations


def test_instance_is_valid_and_priced_like_the_paper() -> None:
    network, orders, rates = instance(Setting(orders=300, seed=3))
    assert network_violations(network) == []
    lookup = NetworkIndex(network).lookup
    assert all(order_violations(order, lookup) == [] for order in orders)
    assert len(network.nodes) == 10 and len(network.skus) == 100 and len(orders) == 300
    assert [o.create_time for o in orders] == sorted(o.create_time for o in orders)
    assert all(1 <= len(o.lines) <= 10 for o in orders)
    assert sum(rates.values()) > 0
    service = network.carrier_services[0]
    centre = network.nodes[0]
    for order in orders[:50]:
        units = len(order.lines)
        quote = quote_shipment(centre, service, float(units), units, order.destination)
        assert quote is not None
        miles = distance_km(centre.location.latitude, centre.location.longitude,
                            order.destination.latitude, order.destination.longitude) / KM_PER_MILE  # fmt: skip
        paper = PACKAGE + units * (PER_UNIT + PER_UNIT_MILE * miles)
        assert quote.cost == pytest.approx(paper, abs=units * 0.0028)
