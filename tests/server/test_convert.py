"""The conversion layer: JSON files <-> protobuf <-> model, and error reporting."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st

from omniroute.cost import check_plan
from omniroute.demo_data import demo_dataset
from omniroute.files import read_network, read_orders, write_network, write_orders
from omniroute.joint import allocate_in_windows
from omniroute.model import Network, Order, Policy, ValidationError
from omniroute.planner import Planner
from omniroute.server.convert import (
    allocation_summary,
    apportion_cents,
    availability_to_proto,
    bound_beside,
    cents,
    joint_to_proto,
    network_from_proto,
    network_to_proto,
    order_from_proto,
    order_to_proto,
    plan_from_proto,
    quote_to_proto,
    result_to_proto,
    to_json_line,
)
from omniroute.v1 import plan_pb2


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


# ----------------------------------------------------------------------------- rounding

# Decimals of every double an output message carries (docs/cost-model.md, "Money and
# rounding"); a double field not named here fails the test until it is classified.
OUTPUT_DECIMALS = {
    "weight_kg": 3,
    "distance_km": 1,
    "gap": 6,
    **dict.fromkeys(
        [
            "cost",
            "total_cost",
            "split_penalty_cost",
            "carrier_parcels",
            "carrier_weight",
            "handling_shipment",
            "handling_units",
            "profile_adjustment",
            "lower_bound",
            "objective",
            "sequential_objective",
            "net_cost",
            "value",
        ],
        2,
    ),
}


def doubles(message: Message, path: str = "") -> list[tuple[str, str, float]]:
    """(path, field name, value) of every double set anywhere in ``message``."""
    found = []
    for field, value in message.ListFields():
        where = f"{path}.{field.name}"
        values = value if field.is_repeated else [value]
        for i, item in enumerate(values):
            if field.type == FieldDescriptor.TYPE_DOUBLE:
                found.append((f"{where}[{i}]", field.name, item))
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                found += doubles(item, f"{where}[{i}]")
    return found


def assert_clean(message: Message) -> None:
    """Every double has at most its decimals, also as JSON text (no 32.147999999999996)."""
    for where, name, value in doubles(message):
        assert name in OUTPUT_DECIMALS, f"unclassified double {where}"
        decimals = OUTPUT_DECIMALS[name]
        assert value == round(value, decimals), f"{where} = {value!r}"
        assert len(repr(value).partition(".")[2]) <= decimals, f"{where} = {value!r}"
    for number in re.findall(r"-?\d+\.(\d+)", to_json_line(message)):
        assert len(number) <= 6, to_json_line(message)


def to_cents(amount: float) -> int:
    assert amount == round(amount, 2)
    return round(amount * 100)


def assert_adds_up(plan: Message) -> None:
    """Breakdown terms sum to each shipment's cost; totalCost = costs + split penalty."""
    for s in plan.shipments:
        b = s.cost_breakdown
        terms = [
            b.carrier_parcels,
            b.carrier_weight,
            b.handling_shipment,
            b.handling_units,
            b.profile_adjustment,
        ]
        assert sum(to_cents(t) for t in terms) == to_cents(s.cost), s
    if plan.shipments:
        shipped = sum(to_cents(s.cost) for s in plan.shipments)
        assert shipped + to_cents(plan.split_penalty_cost) == to_cents(plan.total_cost)


@pytest.fixture(scope="module")
def demo() -> tuple[Network, list[Order]]:
    network, orders = demo_dataset(seed=5, orders=300)
    return network, orders


def test_plan_responses_carry_clean_numbers(demo: tuple[Network, list[Order]]) -> None:
    """Over many demo orders (options and explanations too): money in cents, weights in
    grams, distances in 0.1 km, breakdowns adding up, and still within the contract's
    half a cent per shipment of the cost model (check_plan)."""
    network, orders = demo
    planner = Planner(network, validate=False)
    atp = planner.inventory.atp_map()
    shipments = noisy = 0
    for order in orders:
        result = planner.plan(order, Policy.CHEAPEST, options=True, explain=True)
        message = result_to_proto(result)
        assert_clean(message)
        plans = [message.plan, *message.options]
        plans += [a.plan for a in message.explanation.alternatives if a.HasField("plan")]
        for plan in plans:
            assert_adds_up(plan)
        rounded = plan_from_proto(message.plan)
        assert check_plan(order, network, rounded, atp) == [], order.id
        assert abs(rounded.total_cost - result.plan.total_cost) <= 0.005 * (
            len(rounded.shipments) + 1
        )
        shipments += len(rounded.shipments)
        noisy += sum(s.cost != round(s.cost, 2) for s in result.plan.shipments)
    assert shipments > 300 and noisy > 0  # the model's numbers did need rounding


def test_batch_quote_and_availability_carry_clean_numbers(
    demo: tuple[Network, list[Order]],
) -> None:
    """PlanOrders, QuoteDelivery and CheckAvailability answers are rounded the same way."""
    network, orders = demo
    planner = Planner(network, validate=False)
    batch = joint_to_proto(planner.allocate(orders[:12], time_limit=2.0))
    assert_clean(batch)
    for item in batch.responses:
        assert_adds_up(item.plan)
    assert to_cents(batch.total_cost) == sum(to_cents(r.plan.total_cost) for r in batch.responses)
    for order in orders[:20]:
        quote = quote_to_proto(planner.quote(order.lines, order.destination))
        assert_clean(quote)
        for option in quote.options:
            assert option.cost == option.plan.total_cost
            assert_adds_up(option.plan)
        skus = [line.sku_id for line in order.lines]
        assert_clean(availability_to_proto(planner.availability(skus, store_id="ST-SYDNEY")))
        assert_clean(availability_to_proto(planner.availability(skus, location=order.destination)))


def test_allocate_summary_adds_up_the_written_plans(demo: tuple[Network, list[Order]]) -> None:
    """``allocate``'s summary.json totals are the sums of its plans.jsonl totals, in cents."""
    network, orders = demo
    summary, results = allocate_in_windows(network, orders[:30], 50.0, 2.0, window=12)
    plans = [result_to_proto(r) for r in results]
    written = allocation_summary(summary, plans)
    for message in plans:
        assert_clean(message)
    total = sum(to_cents(p.plan.total_cost) for p in plans)
    assert to_cents(written["totalCost"]) == total
    penalty = round(50.0 * 100) * written["unitsUnfilled"]
    assert to_cents(written["objective"]) == total + penalty
    assert to_cents(written["savingVsSequential"]) == to_cents(
        written["sequentialObjective"]
    ) - to_cents(written["objective"])
    assert abs(written["totalCost"] - float(summary["totalCost"])) < 0.005 * (len(plans) + 1)
    assert written["gap"] == summary["gap"] and written["orders"] == 30


@given(
    st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=6),
)
def test_apportioned_cents_add_up(parts: list[float]) -> None:
    """Largest remainder: the shares sum to the rounded total, each within a cent of its part."""
    total = round(round(math.fsum(parts), 2) * 100)
    shares = apportion_cents(parts, total)
    assert sum(shares) == total
    assert all(
        abs(share - 100 * part) < 1 + 1e-6 for share, part in zip(shares, parts, strict=True)
    )


def test_half_a_cent_rounds_up_as_a_reader_rounds() -> None:
    """7.125 is 7.13 and 2.675 is 2.68 (not half-to-even, not the double's binary value)."""
    assert [cents(x) for x in (0.125, 7.125, 2.675, 32.147999999999996, -0.125)] == [
        13,
        713,
        268,
        3215,
        -13,
    ]
    assert cents(np.float64(7.125)) == 713 and cents(3) == 300  # numpy scalars, ints


def test_bounds_and_savings_are_printed_beside_their_rounded_totals() -> None:
    """A plan whose shipments round down shows its total as its bound when proven optimal;
    a batch equal to its sequential plans shows no saving (3 x 0.334 prints 0.99, not 1.00)."""
    summary = {
        "totalCost": 1.002,
        "objective": 1.002,
        "lowerBound": 1.002,
        "sequentialObjective": 1.002,
        "unfilledPenalty": 50.0,
        "unitsUnfilled": 0,
    }
    plans = [plan_pb2.PlanOrderResponse(plan=plan_pb2.Plan(total_cost=0.33)) for _ in range(3)]
    written = allocation_summary(summary, plans)
    assert written["objective"] == written["lowerBound"] == written["sequentialObjective"] == 0.99
    assert written["savingVsSequential"] == 0.0
    assert bound_beside(10.25, 10.25, 1024) == 10.24  # optimal: the bound is the printed total
    assert bound_beside(10.0, 10.25, 1026) == 10.01  # 0.25 below the total stays 0.25 below
