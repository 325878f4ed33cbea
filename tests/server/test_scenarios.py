"""Scenario commands as planners run them (files in, run directories and reports out), a
sweep in parallel processes, and the ScenarioService operation over gRPC."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from omniroute.v1 import scenario_service_pb2 as scenarios
from omniroute.v1 import scenario_service_pb2_grpc

from omniroute.model import Order
from omniroute.server import convert
from omniroute.server.client import OmnirouteClient

from .test_service import reason, violations


def omniroute(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", *args], capture_output=True, text=True, timeout=600
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
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 4
    for image in images:
        assert base64.b64decode(image).startswith(b"\x89PNG")
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
        by_name["splitPenalty=0_Australia Post=1.2"]["totalCost"]
        > by_name["splitPenalty=0_Australia Post=1.0"]["totalCost"]
    )


def test_scenario_service_operation(client: OmnirouteClient, tiny_orders: dict[str, Order]) -> None:
    """StartScenario returns an operation; polling shows progress then the KPIs."""
    stub = scenario_service_pb2_grpc.ScenarioServiceStub(client.channel)
    request = scenarios.StartScenarioRequest(
        changes_json=json.dumps({"closeNodes": ["DC1"]}),
        request_id="sc-1",
        orders=[convert.order_to_proto(o) for o in tiny_orders.values()],
    )
    operation = stub.StartScenario(request)
    assert operation.name.startswith("operations/")
    assert stub.StartScenario(request).name == operation.name  # idempotent
    deadline = time.monotonic() + 30
    while not operation.done and time.monotonic() < deadline:
        time.sleep(0.05)
        operation = stub.GetOperation(scenarios.GetOperationRequest(name=operation.name))
    assert operation.done and not operation.HasField("error")
    assert operation.response.orders == len(tiny_orders)
    assert operation.metadata.orders_done == operation.metadata.orders_total == len(tiny_orders)
    assert json.loads(operation.response.kpis_json)["shipmentsByNode"].get("DC1", 0) == 0


def test_scenario_service_errors(client: OmnirouteClient) -> None:
    stub = scenario_service_pb2_grpc.ScenarioServiceStub(client.channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.StartScenario(scenarios.StartScenarioRequest(changes_json='{"closeNodes": ["X"]}'))
    assert violations(caught.value) == {"changesJson.closeNodes[0]", "orders"}
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetOperation(scenarios.GetOperationRequest(name="operations/none"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert reason(caught.value) == "OPERATION_NOT_FOUND"
