"""Scenario commands as planners run them (files in, run directories and reports out), a
sweep in parallel processes, and the ScenarioService operation over gRPC."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc

from omniroute.model import Order
from omniroute.server import convert
from omniroute.server.client import OmnirouteClient
from omniroute.v1 import scenario_service_pb2 as scenarios
from omniroute.v1 import scenario_service_pb2_grpc

from .test_service import reason, violations


def omniroute(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    assert (
        omniroute("demo-data", "--out", str(directory), "--orders", "400", "--seed", "5").returncode
        == 0
    )
    return directory


def test_run_and_compare_closing_the_dcs(demo: Path, tmp_path: Path) -> None:
    """Closing both DCs raises cost per order and delivery days; the report shows plots."""
    (tmp_path / "close.json").write_text(json.dumps({"closeNodes": ["DC-MEL", "DC-SYD"]}))
    network, orders = str(demo / "network.json"), str(demo / "orders.jsonl")
    assert (
        omniroute(
            "scenario",
            "run",
            "--network",
            network,
            "--orders",
            orders,
            "--out",
            str(tmp_path / "base"),
        ).returncode
        == 0
    )
    result = omniroute(
        "scenario",
        "run",
        "--network",
        network,
        "--orders",
        orders,
        "--changes",
        str(tmp_path / "close.json"),
        "--out",
        str(tmp_path / "no-dcs"),
    )
    assert result.returncode == 0, result.stderr
    result = omniroute(
        "scenario",
        "compare",
        str(tmp_path / "base"),
        str(tmp_path / "no-dcs"),
        "--out",
        str(tmp_path / "cmp"),
    )
    assert result.returncode == 0, result.stderr
    comparison = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert comparison["deltas"]["no-dcs"]["costPerOrder"] > 0
    assert comparison["deltas"]["no-dcs"]["meanDeliveryDays"] > 0
    html = (tmp_path / "cmp" / "report.html").read_text()
    charts = re.findall(r'<svg role="img" aria-label="([^"]+)"', html)
    assert len(charts) == 5  # before/after flow maps, moved orders, cost, days, nodes
    assert "closed node (ships nothing)" in html  # both DCs marked closed on the map
    kpis = json.loads((tmp_path / "base" / "kpis.json").read_text())
    for key in (
        "orders",
        "unitsOrdered",
        "unitsFilled",
        "totalCost",
        "costPerOrder",
        "splitRate",
        "meanDeliveryDays",
        "onTimeRate",
        "shipmentsByNode",
    ):
        assert key in kpis


def test_invalid_changes_file(demo: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"closeNodes": ["NOWHERE"], "splitPenalty": -1}))
    result = omniroute(
        "scenario",
        "run",
        "--network",
        str(demo / "network.json"),
        "--orders",
        str(demo / "orders.jsonl"),
        "--changes",
        str(tmp_path / "bad.json"),
        "--out",
        str(tmp_path / "x"),
    )
    assert result.returncode == 2
    assert "closeNodes[0]" in result.stderr and "splitPenalty" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x").exists()


def test_sweep_runs_every_combination(demo: Path, tmp_path: Path) -> None:
    grid = {
        "base": {},
        "grid": {"splitPenalty": [0, 10], "carrierRates.byCarrier.Australia Post": [1.0, 1.2]},
    }
    (tmp_path / "grid.json").write_text(json.dumps(grid))
    result = omniroute(
        "scenario",
        "sweep",
        "--network",
        str(demo / "network.json"),
        "--orders",
        str(demo / "orders.jsonl"),
        "--grid",
        str(tmp_path / "grid.json"),
        "--out",
        str(tmp_path / "sweep"),
        "--workers",
        "2",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    assert len(summary) == 4
    by_name = {r["name"]: r for r in summary}
    assert (
        by_name["splitPenalty=0_Australia_Post=1.2"]["totalCost"]
        > by_name["splitPenalty=0_Australia_Post=1.0"]["totalCost"]
    )
    folders = {p.name for p in (tmp_path / "sweep").iterdir() if p.is_dir()}
    assert folders == set(by_name)  # a run's name is its folder's name


def test_scenario_service_operation(client: OmnirouteClient, tiny_orders: dict[str, Order]) -> None:
    """StartScenario returns a google.longrunning operation; polling shows progress, then the
    KPIs packed as ScenarioKpis; retries with the request id return the same operation."""
    stub = scenario_service_pb2_grpc.ScenarioServiceStub(client.channel)
    ops = operations_pb2_grpc.OperationsStub(client.channel)
    request = scenarios.StartScenarioRequest(
        changes=scenarios.ScenarioChanges(close_nodes=["DC1"]),
        request_id="sc-1",
        display_name="no DC1",
        orders=[convert.order_to_proto(o) for o in tiny_orders.values()],
    )
    operation = stub.StartScenario(request)
    assert operation.name.startswith("operations/")
    assert stub.StartScenario(request).name == operation.name  # idempotent
    operation = ops.WaitOperation(
        operations_pb2.WaitOperationRequest(name=operation.name, timeout={"seconds": 30})
    )
    assert operation.done and not operation.HasField("error")
    kpis = scenarios.ScenarioKpis()
    metadata = scenarios.ScenarioMetadata()
    assert operation.response.Unpack(kpis) and operation.metadata.Unpack(metadata)
    assert kpis.orders == len(tiny_orders)
    assert metadata.orders_done == metadata.orders_total == len(tiny_orders)
    assert metadata.display_name == "no DC1"
    assert kpis.shipments_by_node.get("DC1", 0) == 0 and sum(kpis.shipments_by_node.values()) > 0
    again = ops.GetOperation(operations_pb2.GetOperationRequest(name=operation.name))
    assert again.done and again.response == operation.response
    listed = ops.ListOperations(operations_pb2.ListOperationsRequest(page_size=10))
    assert operation.name in {o.name for o in listed.operations}


def test_scenario_service_errors(client: OmnirouteClient) -> None:
    """Bad changes and a missing order list are INVALID_ARGUMENT with every field; unknown
    operations are NOT_FOUND."""
    stub = scenario_service_pb2_grpc.ScenarioServiceStub(client.channel)
    ops = operations_pb2_grpc.OperationsStub(client.channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.StartScenario(
            scenarios.StartScenarioRequest(
                changes=scenarios.ScenarioChanges(
                    close_nodes=["X"], safety_stock=scenarios.NodeSettings(by_kind={"CASTLE": 1})
                )
            )
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(caught.value) == {
        "changes.closeNodes[0]",
        "changes.safetyStock.byKind.CASTLE",
        "orders",
    }
    with pytest.raises(grpc.RpcError) as caught:
        ops.GetOperation(operations_pb2.GetOperationRequest(name="operations/none"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert reason(caught.value) == "OPERATION_NOT_FOUND"
    with pytest.raises(grpc.RpcError) as caught:
        ops.GetOperation(operations_pb2.GetOperationRequest())
    assert violations(caught.value) == {"name"}


def test_cancelled_scenario_ends_cancelled(client: OmnirouteClient) -> None:
    """CancelOperation stops a running replay: the operation ends with CANCELLED."""
    from google.rpc import code_pb2

    from omniroute.demo_data import demo_dataset

    network, orders = demo_dataset(seed=3, orders=3000)
    client.put_network(network)
    stub = scenario_service_pb2_grpc.ScenarioServiceStub(client.channel)
    ops = operations_pb2_grpc.OperationsStub(client.channel)
    operation = stub.StartScenario(
        scenarios.StartScenarioRequest(orders=[convert.order_to_proto(o) for o in orders])
    )
    ops.CancelOperation(operations_pb2.CancelOperationRequest(name=operation.name))
    operation = ops.WaitOperation(
        operations_pb2.WaitOperationRequest(name=operation.name, timeout={"seconds": 60})
    )
    assert operation.done
    assert operation.error.code == code_pb2.CANCELLED
    metadata = scenarios.ScenarioMetadata()
    operation.metadata.Unpack(metadata)
    assert metadata.cancel_requested and metadata.orders_done < len(orders)


def test_run_prints_percent_and_currency_files_keep_fractions(demo: Path, tmp_path: Path) -> None:
    """scenario run prints plain-word KPIs with rates in percent and money with the currency;
    kpis.json keeps rates as fractions; outcomes.jsonl keys are lowerCamelCase, money in cents."""
    result = omniroute(
        "scenario",
        "run",
        "--network",
        str(demo / "network.json"),
        "--orders",
        str(demo / "orders.jsonl"),
        "--out",
        str(tmp_path / "run"),
    )
    assert result.returncode == 0, result.stderr
    kpis = json.loads((tmp_path / "run" / "kpis.json").read_text())
    assert 0 <= kpis["splitRate"] <= 1 and 0 <= kpis["onTimeRate"] <= 1
    assert kpis["costPerOrder"] == round(kpis["costPerOrder"], 2)
    printed = dict(
        re.fullmatch(r"(.+?)  +(\S+)", line).groups()  # type: ignore[union-attr]
        for line in result.stdout.splitlines()[2:]
    )
    assert printed["split rate (%)"] == f"{100 * kpis['splitRate']:.1f}"
    assert printed["on time (%)"] == f"{100 * kpis['onTimeRate']:.1f}"
    assert printed["cost per order (AUD)"] == f"{kpis['costPerOrder']:,.2f}"
    assert printed["orders complete"] == f"{kpis['ordersComplete']:,}"
    assert not any(re.search(r"[a-z][A-Z]", label) for label in printed)  # no camelCase keys
    lines = (tmp_path / "run" / "outcomes.jsonl").read_text().splitlines()
    assert len(lines) == kpis["orders"]
    for line in lines:
        outcome = json.loads(line)
        assert all(re.fullmatch(r"[a-z]+([A-Z][a-z]*)*", key) for key in outcome), outcome
        assert outcome["cost"] == round(outcome["cost"], 2)
