"""Sourcing profiles (docs/sourcing-profiles.md): compiled into the optimisation, the plans
are the brute-force optimum under the profile's exclusions, kinds, distance limit,
shipment limit and node costs; orders without a profile plan exactly as before."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniroute import optimizer
from omniroute.cost import check_plan, quote_shipment
from omniroute.files import network_from_json, network_to_json, order_from_json
from omniroute.geo import distance_km
from omniroute.model import (
    Channel,
    Location,
    Network,
    Node,
    NodeAdjustment,
    NodeKind,
    Order,
    OrderLine,
    Plan,
    Policy,
    Proof,
    SourcingProfile,
)
from omniroute.planner import Planner
from omniroute.validation import network_violations, order_violations
from tests.engine.test_optimizer import SETTINGS, check_against_brute_force, instances

CHANNELS = [Channel.WEB, Channel.STORE, Channel.MARKETPLACE]


def _floor(network: Network, nodes: list[Node]) -> float:
    """The lowest adjustment the contract allows for all of ``nodes``."""
    base = {s.id: min(z.base_cost for z in s.zones) for s in network.carrier_services}
    return max(
        -(n.handling_cost_per_shipment + (0.0 if n.pickup else min(base[s] for s in n.service_ids)))
        for n in nodes
    )


@st.composite
def profile_instances(
    draw: st.DrawFn, base: st.SearchStrategy[tuple[Network, Order]] | None = None
) -> tuple[Network, Order]:
    """The optimiser's random tiny instances with one or two sourcing profiles (kinds,
    exclusions, a distance limit, a shipment limit, node and kind costs, some negative) and
    an order that names a profile, matches one by channel, or matches none."""
    network, order = draw(base if base is not None else instances())
    if draw(st.booleans()):  # more stock: more plans for the node costs to choose from
        stock = tuple(dataclasses.replace(p, on_hand=p.on_hand + 3) for p in network.stock)
        network = dataclasses.replace(network, stock=stock)
    assert order.destination is not None
    spot = order.destination
    distances = [
        distance_km(n.location.latitude, n.location.longitude, spot.latitude, spot.longitude)
        for n in network.nodes
    ]
    profiles = []
    for p in range(draw(st.integers(1, 2))):
        adjustments = []
        for _ in range(draw(st.integers(0, 3))):
            if draw(st.booleans()):
                node = draw(st.sampled_from(network.nodes))
                floor = _floor(network, [node])
                cost = draw(st.sampled_from([floor, floor / 2, 2.5, 8.0, 20.0]))
                adjustments.append(NodeAdjustment(cost, node_id=node.id))
            else:
                kind = draw(st.sampled_from([NodeKind.DC, NodeKind.STORE]))
                of_kind = [n for n in network.nodes if n.kind is kind]
                floor = _floor(network, of_kind) if of_kind else -1.0
                cost = draw(st.sampled_from([floor, floor / 2, 2.5, 8.0, 20.0]))
                adjustments.append(NodeAdjustment(cost, kind=kind))
        profiles.append(
            SourcingProfile(
                id=f"P{p}",
                channels=tuple(draw(st.lists(st.sampled_from(CHANNELS), max_size=2, unique=True))),
                allowed_node_kinds=draw(
                    st.sampled_from([(), (), (), (NodeKind.DC,), (NodeKind.STORE, NodeKind.DC)])
                ),
                excluded_node_ids=tuple(
                    draw(st.lists(st.sampled_from([n.id for n in network.nodes]), max_size=1))
                ),
                max_distance_km=draw(st.sampled_from([0.0, 0.0, 0.0, *distances, 120.0])),
                max_shipments=draw(st.sampled_from([0, 0, 0, 1, 2])),
                node_adjustments=tuple(adjustments),
            )
        )
    network = dataclasses.replace(network, sourcing_profiles=tuple(profiles))
    named = draw(st.sampled_from(["", *(p.id for p in profiles)]))
    order = dataclasses.replace(
        order, channel=draw(st.sampled_from(CHANNELS)), sourcing_profile_id=named
    )
    assert network_violations(network) == [], network_violations(network)
    return network, order


def _check_breakdown(network: Network, order: Order, plan: Plan) -> None:
    """Each shipment lists the profile's cost for its node, and its cost includes it."""
    named = {p.id: p for p in network.sourcing_profiles}
    profile = named.get(order.sourcing_profile_id) or next(
        (p for p in network.sourcing_profiles if order.channel in p.channels), None
    )
    nodes = {n.id: n for n in network.nodes}
    for shipment in plan.shipments:
        node = nodes[shipment.node_id]
        expected = 0.0
        if profile is not None:
            own = [a for a in profile.node_adjustments if a.node_id == node.id]
            kind = [a for a in profile.node_adjustments if not a.node_id and a.kind is node.kind]
            expected = (own or kind)[0].cost_per_shipment if own or kind else 0.0
        assert shipment.breakdown.profile_adjustment == pytest.approx(expected)
        assert shipment.breakdown.total == pytest.approx(shipment.cost)


@SETTINGS
@given(profile_instances())
def test_plans_under_sourcing_profiles_are_the_brute_force_optimum(
    instance: tuple[Network, Order],
) -> None:
    """CHEAPEST, FASTEST and the options under a profile equal brute force over the plans
    the profile allows, costed with its node costs; every plan lists them."""
    network, order = instance
    check_against_brute_force(
        network, order, check=lambda plan: _check_breakdown(network, order, plan)
    )


@SETTINGS
@given(profile_instances())
def test_every_search_method_honours_the_profiles(instance: tuple[Network, Order]) -> None:
    """With the DP off (branch and bound), and with only CP-SAT left, the optima under a
    profile (negative node costs included) are brute force's too."""
    network, order = instance
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimizer, "DP_STATE_LIMIT", 0)
        check_against_brute_force(network, order)
        patch.setattr(optimizer.branch, "most_units", lambda *args: None)
        patch.setattr(optimizer.FrontSolver, "_enumerate", lambda self, j: None)
        patch.setattr(optimizer.FrontSolver, "_branch", lambda self, j: None)
        check_against_brute_force(network, order)


# ------------------------------------------------------------------------ named cases


BASE = {
    "nodes": [
        {
            "id": "DC",
            "kind": "DC",
            "location": {"latitude": -33.9, "longitude": 151.0},
            "handlingCostPerShipment": 3,
            "serviceIds": ["ROAD"],
        },
        {
            "id": "STORE",
            "kind": "STORE",
            "location": {"latitude": -37.8, "longitude": 144.9},
            "handlingCostPerShipment": 1,
            "serviceIds": ["ROAD"],
        },
    ],
    "carrierServices": [
        {
            "id": "ROAD",
            "zones": [
                {"maxDistanceKm": 100, "baseCost": 5, "transitDays": 1},
                {"maxDistanceKm": 2000, "baseCost": 9, "transitDays": 3},
            ],
        }
    ],
    "skus": [{"id": "TEE", "weightKg": 0.3}],
    "stock": [
        {"nodeId": "DC", "skuId": "TEE", "onHand": 10},
        {"nodeId": "STORE", "skuId": "TEE", "onHand": 10},
    ],
}
MELBOURNE = Location(-37.81, 144.96)  # 1 km from the store, 710 km from the DC


def _network(*profiles: dict) -> Network:
    """A DC in Sydney and a store in Melbourne, both holding the SKU, with ``profiles``
    (JSON); read as a file is."""
    network, violations = network_from_json({**BASE, "sourcingProfiles": list(profiles)})
    assert violations == [] and network is not None
    return network


def _order(**fields) -> Order:
    return Order(
        **{"id": "o", "lines": (OrderLine("1", "TEE", 1),), "destination": MELBOURNE, **fields}
    )


def test_without_a_profile_for_its_channel_an_order_plans_as_before() -> None:
    """A profile for another channel changes nothing; the breakdown shows no profile cost."""
    plain = Planner(_network()).plan(_order())
    other = Planner(_network({"id": "shops", "channels": ["STORE"], "allowedNodeKinds": ["DC"]}))
    planned = other.plan(_order())
    assert planned.plan == plain.plan
    assert [s.node_id for s in planned.plan.shipments] == ["STORE"]
    assert planned.plan.shipments[0].breakdown.profile_adjustment == 0.0


def test_a_channel_profile_limits_kinds_and_a_named_one_wins() -> None:
    """The first profile for the channel applies (DCs only: the far DC ships); an order
    naming another profile gets that one instead."""
    network = _network(
        {"id": "dc-only", "channels": ["WEB"], "allowedNodeKinds": ["DC"]},
        {"id": "web-too", "channels": ["WEB"]},
        {"id": "anything"},
    )
    planner = Planner(network)
    by_channel = planner.plan(_order()).plan
    assert [s.node_id for s in by_channel.shipments] == ["DC"]
    named = planner.plan(_order(sourcing_profile_id="anything")).plan
    assert [s.node_id for s in named.shipments] == ["STORE"]


def test_node_costs_steer_the_optimum_and_are_in_the_cost() -> None:
    """A cost on stores makes the DC cheaper; the plan's cost and breakdown include the
    adjustment; a negative one for the DC (a preference) lowers its shipments' cost."""
    store_cost = _network(
        {
            "id": "p",
            "channels": ["WEB"],
            "nodeAdjustments": [{"kind": "STORE", "costPerShipment": 30}],
        }
    )
    plan = Planner(store_cost).plan(_order()).plan
    assert [s.node_id for s in plan.shipments] == ["DC"]  # 9 + 3 + 0.0 < 5 + 1 + 30
    prefer_dc = _network(
        {
            "id": "p",
            "channels": ["WEB"],
            "nodeAdjustments": [{"nodeId": "DC", "costPerShipment": -7}],
        }
    )
    result = Planner(prefer_dc).plan(_order())
    shipment = result.plan.shipments[0]
    assert shipment.node_id == "DC" and result.stats.proof is Proof.OPTIMAL
    assert shipment.breakdown.profile_adjustment == -7.0
    assert shipment.cost == pytest.approx(9 + 3 - 7)
    assert result.plan.total_cost == pytest.approx(5.0)


def test_distance_and_shipment_limits() -> None:
    """Beyond maxDistanceKm a node has no lane (the store alone is near); the profile's
    maxShipments applies when the order sets none, the order's own wins."""
    near = Planner(_network({"id": "p", "channels": ["WEB"], "maxDistanceKm": 50}))
    order = _order(lines=(OrderLine("1", "TEE", 12),), allow_partial=True)
    plan = near.plan(order).plan
    assert [(s.node_id, s.units) for s in plan.shipments] == [("STORE", 10)]
    one = Planner(_network({"id": "p", "channels": ["WEB"], "maxShipments": 1}))
    assert len(one.plan(order).plan.shipments) == 1
    assert len(one.plan(dataclasses.replace(order, max_shipments=2)).plan.shipments) == 2


def test_profiles_round_trip_through_files_and_bad_ones_are_refused() -> None:
    """A network's profiles survive writing and reading; bad profiles and unknown profile
    names get a violation each."""
    network = _network(
        {
            "id": "p",
            "channels": ["WEB", "MARKETPLACE"],
            "allowedNodeKinds": ["DC", "STORE"],
            "excludedNodeIds": ["DC"],
            "maxDistanceKm": 500,
            "maxShipments": 2,
            "nodeAdjustments": [{"kind": "STORE", "costPerShipment": -1.5}],
        }
    )
    again, violations = network_from_json(network_to_json(network))
    assert violations == [] and again is not None
    assert again.sourcing_profiles == network.sourcing_profiles
    bad, _ = network_from_json(
        {
            **BASE,
            "sourcingProfiles": [
                {
                    "id": "p",
                    "excludedNodeIds": ["NOWHERE"],
                    "maxDistanceKm": -1,
                    "nodeAdjustments": [
                        {"nodeId": "DC", "kind": "DC", "costPerShipment": 1},
                        {"nodeId": "GHOST", "costPerShipment": 1},
                        {"kind": "STORE", "costPerShipment": -7},
                    ],
                },
                {"id": "p"},
            ],
        }
    )
    assert bad is not None
    fields = sorted(v.field for v in network_violations(bad))
    assert fields == [
        "sourcingProfiles[0].excludedNodeIds[0]",
        "sourcingProfiles[0].maxDistanceKm",
        "sourcingProfiles[0].nodeAdjustments[0]",
        "sourcingProfiles[0].nodeAdjustments[1].nodeId",
        "sourcingProfiles[0].nodeAdjustments[2].costPerShipment",
        "sourcingProfiles[1].id",
    ]
    fine = _network(
        {"id": "p", "nodeAdjustments": [{"kind": "STORE", "costPerShipment": -6}]}
    )  # the store's floor: -(1 + 5) = -6
    assert fine is not None
    order, problems = order_from_json(
        {"id": "o", "lines": [{"id": "1", "skuId": "TEE", "quantity": 1}],
         "destination": {"latitude": -37.8, "longitude": 145}, "sourcingProfileId": "nope"}
    )  # fmt: skip
    assert problems == [] and order is not None
    assert [v.field for v in order_violations(order, network)] == ["sourcingProfileId"]


def test_check_plan_holds_plans_to_the_profile() -> None:
    """The independent checker refuses a plan from a node the profile excludes or with a
    cost that leaves out the profile's node cost."""
    network = _network(
        {"id": "p", "channels": ["WEB"], "allowedNodeKinds": ["STORE"],
         "nodeAdjustments": [{"kind": "STORE", "costPerShipment": 2}]}
    )  # fmt: skip
    planner = Planner(network)
    atp = planner.inventory.atp_map()
    plan = planner.plan(_order(), Policy.CHEAPEST).plan
    assert check_plan(_order(), network, plan, atp) == []
    unprofiled = dataclasses.replace(network, sourcing_profiles=())
    other = Planner(unprofiled).plan(_order(excluded_node_ids=("STORE",))).plan
    problems = check_plan(_order(), network, other, atp)
    assert any("excludes 'DC'" in p for p in problems), problems
    cheap = Planner(unprofiled).plan(_order()).plan
    assert any("cost model says" in p for p in check_plan(_order(), network, cheap, atp))
    quote = quote_shipment(network.nodes[1], network.carrier_services[0], 0.3, 1, MELBOURNE)
    assert quote is not None and quote.breakdown.profile_adjustment == 0.0
