"""Sourcing profiles through the API: PutNetwork takes them (and GetNetwork gives them
back), PlanOrder plans under the order's profile and lists its node costs in each
shipment's cost breakdown, and bad profiles or unknown profile names are INVALID_ARGUMENT
naming every field, with nothing changed."""

from __future__ import annotations

import dataclasses

import grpc
import pytest

from omniroute.model import Channel, Network, NodeAdjustment, NodeKind, Order, SourcingProfile
from omniroute.server.client import OmnirouteClient
from omniroute.server.convert import network_to_proto, order_to_proto

from .test_service import violations

STORES_FIRST = SourcingProfile(
    "stores-first",
    channels=(Channel.WEB,),
    allowed_node_kinds=(NodeKind.DC, NodeKind.STORE),
    node_adjustments=(NodeAdjustment(-1.25, kind=NodeKind.STORE), NodeAdjustment(4.0, "DC1")),
)
DC_ONLY = SourcingProfile("dc-only", allowed_node_kinds=(NodeKind.DC,), max_shipments=1)


def test_plans_follow_the_profile_and_show_its_costs(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    network = dataclasses.replace(tiny_network, sourcing_profiles=(STORES_FIRST, DC_ONLY))
    client.put_network(network)
    served = client.get_network()
    assert [p.id for p in served.sourcing_profiles] == ["stores-first", "dc-only"]
    assert served.sourcing_profiles[0].node_adjustments[1].node_id == "DC1"

    order = tiny_orders["coat-and-jeans"]
    plan = client.plan_order(order).plan  # a WEB order: "stores-first"
    assert plan.shipments
    for shipment in plan.shipments:
        b = shipment.cost_breakdown
        expected = {"DC1": 4.0, "ST1": -1.25, "ST2": -1.25}[shipment.node_id]
        assert b.profile_adjustment == expected
        parts = (
            b.carrier_parcels,
            b.carrier_weight,
            b.handling_shipment,
            b.handling_units,
            b.profile_adjustment,
        )
        assert round(sum(parts) * 100) == round(shipment.cost * 100)

    named = client.plan_order(dataclasses.replace(order, sourcing_profile_id="dc-only")).plan
    assert {s.node_id for s in named.shipments} <= {"DC1"}
    assert len(named.shipments) <= 1
    assert all(s.cost_breakdown.profile_adjustment == 0 for s in named.shipments)


def test_bad_profiles_and_unknown_names_are_refused(
    client: OmnirouteClient, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    client.put_network(dataclasses.replace(tiny_network, sourcing_profiles=(DC_ONLY,)))
    before = client.get_network()
    message = network_to_proto(tiny_network)
    profile = message.sourcing_profiles.add(id="bad", max_distance_km=-5, channels=[9])
    profile.excluded_node_ids.append("NOWHERE")
    profile.node_adjustments.add(cost_per_shipment=1)  # neither a node nor a kind
    profile.node_adjustments.add(node_id="DC1", cost_per_shipment=-1e6)  # below nothing
    with pytest.raises(grpc.RpcError) as caught:
        client.put_network(message)
    assert violations(caught.value) == {
        f"network.sourcingProfiles[0].{field}"
        for field in (
            "channels[0]",
            "excludedNodeIds[0]",
            "maxDistanceKm",
            "nodeAdjustments[0]",
            "nodeAdjustments[1].costPerShipment",
        )
    }
    assert client.get_network() == before

    order = order_to_proto(tiny_orders["coat-and-jeans"])
    order.sourcing_profile_id = "no-such-profile"
    with pytest.raises(grpc.RpcError) as caught:
        client.plan_order(order)
    assert violations(caught.value) == {"order.sourcingProfileId"}
