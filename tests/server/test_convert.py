"""The conversion layer: JSON files <-> protobuf <-> model, and error reporting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omniroute.files import read_network, read_orders, write_network, write_orders
from omniroute.model import Network, Order, Policy, ValidationError
from omniroute.planner import Planner
from omniroute.server.convert import (
    network_from_proto,
    network_to_proto,
    order_from_proto,
    order_to_proto,
    result_to_proto,
    to_json_line,
)


def test_network_round_trip(tiny_network: Network, tmp_path: Path) -> None:
    """model -> proto -> model is the identity, and so is writing and reading the file."""
    back, violations = network_from_proto(network_to_proto(tiny_network))
    assert violations == [] and back == tiny_network
    write_network(tiny_network, tmp_path / "n.json")
    assert read_network(tmp_path / "n.json") == tiny_network


def test_order_round_trip(
    tiny_network: Network, tiny_orders: dict[str, Order], tmp_path: Path
) -> None:
    """Orders survive proto and JSON-lines round trips unchanged."""
    for order in tiny_orders.values():
        assert order_from_proto(order_to_proto(order)) == order
    write_orders(tiny_orders.values(), tmp_path / "o.jsonl")
    assert read_orders(tmp_path / "o.jsonl", tiny_network) == list(tiny_orders.values())


def test_response_json_uses_contract_names(
    tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """PlanOrderResponse JSON has the field names of docs/cost-model.md."""
    result = Planner(tiny_network).plan(tiny_orders["coat-and-jeans"], Policy.BASELINE)
    data = json.loads(to_json_line(result_to_proto(result)))
    assert set(data) >= {"orderId", "plan", "stats"}
    assert set(data["plan"]) >= {"status", "shipments", "totalCost", "deliveryDays"}
    shipment = data["plan"]["shipments"][0]
    assert set(shipment) >= {
        "nodeId",
        "serviceId",
        "lines",
        "weightKg",
        "parcels",
        "distanceKm",
        "cost",
        "deliveryDays",
    }
    assert data["stats"]["proof"] == "FEASIBLE" and data["stats"]["method"] == "baseline"


def test_bad_network_file_lists_every_problem(tiny_network: Network, tmp_path: Path) -> None:
    """A network with several problems raises one error that names each of them."""
    data = json.loads(network_to_json(tiny_network))
    data["nodes"][0]["location"]["latitude"] = 123
    data["nodes"][1]["kind"] = "KIND_UNSPECIFIED"
    data["skus"][0]["weightKg"] = -1
    data["stock"][0]["nodeId"] = "NOPE"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValidationError) as caught:
        read_network(path)
    assert {v.field for v in caught.value.violations} == {
        "nodes[0].location.latitude",
        "nodes[1].kind",
        "skus[0].weightKg",
        "stock[0].nodeId",
    }


def test_wrongly_typed_json_is_a_violation(tmp_path: Path) -> None:
    """JSON that does not fit the schema is reported, not raised as a crash."""
    path = tmp_path / "bad.json"
    path.write_text('{"nodes": [{"id": "A", "kind": "CASTLE"}]}')
    with pytest.raises(ValidationError) as caught:
        read_network(path)
    assert "CASTLE" in str(caught.value)


def test_bad_orders_file_reports_line_numbers(tiny_network: Network, tmp_path: Path) -> None:
    """Each bad order is located by its line number; broken JSON lines too."""
    path = tmp_path / "orders.jsonl"
    path.write_text(
        '{"id": "a", "destination": {"latitude": 1, "longitude": 2}, "lines": '
        '[{"id": "1", "skuId": "TEE", "quantity": 1}]}\n'
        "{not json\n"
        '{"id": "b", "lines": [{"id": "1", "skuId": "NOPE", "quantity": 0}]}\n'
    )
    with pytest.raises(ValidationError) as caught:
        read_orders(path, tiny_network)
    assert {v.field for v in caught.value.violations} == {
        "line 2",
        "line 3: lines[0].skuId",
        "line 3: lines[0].quantity",
        "line 3: destination",
    }


def network_to_json(network: Network) -> str:
    from omniroute.server.convert import to_json_text

    return to_json_text(network_to_proto(network))
