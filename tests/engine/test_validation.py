"""Validation lists every violation of a network or an order, each with its JSON path."""

from __future__ import annotations

from dataclasses import replace

import pytest

from omniroute.model import Location, Network, Order, OrderLine, StockPosition, Zone
from omniroute.validation import network_violations, order_violations, orders_violations


def fields(violations) -> set[str]:
    return {v.field for v in violations}


def test_tiny_network_is_valid(tiny_network: Network) -> None:
    """The named instance has no violations."""
    assert network_violations(tiny_network) == []


def test_network_lists_every_violation(tiny_network: Network) -> None:
    """Many problems at once are all reported, not just the first."""
    nodes = list(tiny_network.nodes)
    nodes[0] = replace(nodes[0], location=Location(91.0, -200.0), service_ids=("PARCEL", "NOPE"))
    nodes[1] = replace(nodes[1], id=nodes[2].id, handling_cost_per_unit=-1.0)
    nodes[3] = replace(nodes[3], pickup=True)
    services = list(tiny_network.carrier_services)
    services[0] = replace(
        services[0],
        zones=(Zone(200, 1, 1, 1), Zone(100, 1, 1, 1)),
        max_parcel_weight_kg=float("nan"),
    )
    skus = list(tiny_network.skus)
    skus[1] = replace(skus[1], id=skus[0].id, weight_kg=-0.5)
    stock = list(tiny_network.stock) + [
        StockPosition("GHOST", "TEE", 1),
        StockPosition("DC1", "UNKNOWN", -3),
        tiny_network.stock[0],
    ]
    bad = replace(
        tiny_network,
        nodes=tuple(nodes),
        carrier_services=tuple(services),
        skus=tuple(skus),
        stock=tuple(stock),
        split_penalty=-1.0,
    )
    found = fields(network_violations(bad))
    assert {
        "nodes[0].location.latitude",
        "nodes[0].location.longitude",
        "nodes[0].serviceIds[1]",
        "nodes[2].id",
        "nodes[1].handlingCostPerUnit",
        "nodes[3].pickup",
        "carrierServices[0].zones[1].maxDistanceKm",
        "carrierServices[0].maxParcelWeightKg",
        "skus[1].id",
        "skus[1].weightKg",
        "stock[8].nodeId",
        "stock[9].skuId",
        "stock[9].onHand",
        "stock[10]",
        "splitPenalty",
    } <= found


def test_order_lists_every_violation(tiny_network: Network) -> None:
    """An order with many problems reports each of them."""
    order = Order(
        id="",
        lines=(OrderLine("1", "TEE", 0), OrderLine("1", "NOPE", 1)),
        destination=Location(-95.0, 181.0),
        promise_days=-1,
        max_shipments=-2,
        excluded_node_ids=("NOWHERE",),
        pickup_store_id="ST2",  # a store without pick-up
    )
    found = fields(order_violations(order, tiny_network))
    assert found == {
        "id",
        "lines[0].quantity",
        "lines[1].id",
        "lines[1].skuId",
        "destination.latitude",
        "destination.longitude",
        "promiseDays",
        "maxShipments",
        "excludedNodeIds[0]",
        "pickupStoreId",
    }


def test_order_needs_lines_and_destination(tiny_network: Network) -> None:
    """An empty order without a destination is rejected on both counts."""
    found = fields(order_violations(Order(id="x", lines=()), tiny_network))
    assert found == {"lines", "destination"}


def test_pickup_order_needs_no_destination(tiny_network: Network) -> None:
    """A pick-up order takes its destination from the store."""
    order = Order(id="x", lines=(OrderLine("1", "TEE", 1),), pickup_store_id="ST1")
    assert order_violations(order, tiny_network) == []


def test_duplicate_order_ids(tiny_network: Network, tiny_orders: dict[str, Order]) -> None:
    """Two orders with the same id in one batch are reported."""
    order = tiny_orders["one-tee-melbourne"]
    assert fields(orders_violations([order, order], tiny_network)) == {"orders[1].id"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"node_id": "NOWHERE"}, "stock[2].nodeId"),
        ({"sku_id": "NOPE"}, "stock[2].skuId"),
        ({"on_hand": -1}, "stock[2].onHand"),
        ({"safety_stock": -2}, "stock[2].safetyStock"),
        ({"on_hand": float("nan")}, "stock[2].onHand"),
    ],
)
def test_each_stock_problem_alone_is_found(
    tiny_network: Network, change: dict[str, object], field: str
) -> None:
    """The column-wise check of a clean stock list misses no single problem."""
    stock = list(tiny_network.stock)
    stock[2] = replace(stock[2], **change)  # type: ignore[arg-type]
    assert network_violations(tiny_network) == []
    assert field in fields(network_violations(replace(tiny_network, stock=tuple(stock))))


def test_a_position_twice_alone_is_found(tiny_network: Network) -> None:
    stock = (*tiny_network.stock, tiny_network.stock[0])
    found = fields(network_violations(replace(tiny_network, stock=stock)))
    assert found == {f"stock[{len(stock) - 1}]"}


def test_parcel_limits_and_sku_weights_that_no_carrier_could_charge_are_refused(
    tiny_network: Network,
) -> None:
    """A parcel limit of a subnormal double once made the parcel count infinite (found by
    the fuzzer): limits outside [1 g, 100 t] and SKUs heavier than 100 t are refused."""
    services = list(tiny_network.carrier_services)
    services[0] = replace(services[0], max_parcel_weight_kg=5e-324)
    services[1] = replace(services[1], max_parcel_weight_kg=0.0)  # no limit: fine
    skus = list(tiny_network.skus)
    skus[0] = replace(skus[0], weight_kg=1e300)
    bad = replace(tiny_network, carrier_services=tuple(services), skus=tuple(skus))
    fields = {v.field for v in network_violations(bad)}
    assert fields == {"carrierServices[0].maxParcelWeightKg", "skus[0].weightKg"}
