"""The cost model of docs/cost-model.md: zones, parcels, shipment costs, plan checking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniroute.cost import parcels_array, parcels_for, quote_shipment, zone_for
from omniroute.geo import distance_km
from omniroute.model import CarrierService, Location, Network, Node, NodeKind, Zone

SERVICE = CarrierService("S", "C", "svc", 5.0, (Zone(50, 8.0, 0.5, 2), Zone(200, 10.0, 0.8, 3)))


def test_zone_edges_are_inclusive() -> None:
    """d == maxDistanceKm is in the zone; just beyond is the next zone or none."""
    assert zone_for(SERVICE, 50.0) is SERVICE.zones[0]
    assert zone_for(SERVICE, 50.000001) is SERVICE.zones[1]
    assert zone_for(SERVICE, 200.0) is SERVICE.zones[1]
    assert zone_for(SERVICE, 200.1) is None


@pytest.mark.parametrize(
    ("weight", "limit", "parcels"),
    [
        (0.0, 5.0, 1),
        (5.0, 5.0, 1),
        (5.01, 5.0, 2),
        (0.1 * 3, 0.3, 1),
        (15.0, 5.0, 3),
        (99.0, 0.0, 1),
    ],
)
def test_parcels(weight: float, limit: float, parcels: int) -> None:
    """ceil(W / limit), at least 1, exact multiples are not rounded up by float noise."""
    assert parcels_for(weight, limit) == parcels
    limit_array = np.array([limit if limit > 0 else np.inf])
    assert parcels_array(np.array([weight]), limit_array)[0] == parcels


def test_vectorised_parcels_match_scalar() -> None:
    """The optimiser's vectorised parcels equal the reported ones on many weights."""
    rng = np.random.default_rng(0)
    weights = np.round(rng.uniform(0, 60, 5000), 3)
    limits = rng.choice([0.5, 1.0, 5.0, 22.0, 25.0], 5000)
    vector = parcels_array(weights, limits)
    assert all(parcels_for(w, m) == p for w, m, p in zip(weights, limits, vector, strict=True))


def test_quote_shipment_matches_formula() -> None:
    """cost = p * base + perKg * W + per-shipment + per-unit * u; days = processing + transit."""
    node = Node("N", NodeKind.DC, Location(-37.8136, 144.9631), 2.0, 0.5, 1, ("S",))
    destination = Location(-37.85, 145.0)
    quote = quote_shipment(node, SERVICE, 7.0, 3, destination)
    assert quote is not None
    assert quote.parcels == 2
    assert quote.delivery_days == 1 + 2
    assert quote.cost == pytest.approx(2 * 8.0 + 0.5 * 7.0 + 2.0 + 0.5 * 3)
    assert quote.breakdown.total == pytest.approx(quote.cost)
    assert quote.distance_km == pytest.approx(distance_km(-37.8136, 144.9631, -37.85, 145.0))


def test_hand_over_at_pickup_store_has_no_carrier_cost() -> None:
    """The pick-up store's own stock costs handling only and is ready after processing."""
    node = Node("ST", NodeKind.STORE, Location(0, 0), 5.0, 1.0, 1, (), pickup=True)
    quote = quote_shipment(node, None, 3.0, 2, Location(0, 0))
    assert quote is not None
    assert (quote.cost, quote.delivery_days, quote.parcels) == (7.0, 1, 0)


def test_out_of_zone_is_none(tiny_network: Network) -> None:
    """A service without a zone for the distance cannot quote."""
    node = tiny_network.nodes[0]
    assert quote_shipment(node, SERVICE, 1.0, 1, Location(-33.87, 151.21)) is None


@given(
    st.floats(-89.9, 89.9),
    st.floats(-180, 180),
    st.floats(-89.9, 89.9),
    st.floats(-180, 180),
)
def test_distances_are_geopys_great_circle(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    """The vectorised distance is geopy's great_circle (the reference implementation)."""
    from geopy.distance import great_circle

    expected = great_circle((lat1, lon1), (lat2, lon2)).km
    assert distance_km(lat1, lon1, lat2, lon2) == pytest.approx(expected, rel=1e-12, abs=1e-9)
