"""The omniroute CLI, run as a user runs it: a subprocess with files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from omniroute.cost import check_plan
from omniroute.files import read_network, read_orders
from omniroute.network_index import Inventory, NetworkIndex


def omniroute(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_help_for_every_command() -> None:
    """--help works for the program and each command."""
    for command in ([], ["demo-data"], ["plan"], ["demo"]):
        result = omniroute(*command, "--help")
        assert result.returncode == 0 and "usage: omniroute" in result.stdout


def test_demo_data_same_seed_same_bytes(tmp_path: Path) -> None:
    """Two runs with one seed write identical files; another seed writes different ones."""
    for name, seed in (("a", "4"), ("b", "4"), ("c", "5")):
        result = omniroute(
            "demo-data", "--out", str(tmp_path / name), "--seed", seed, "--orders", "300"
        )
        assert result.returncode == 0, result.stderr
    for file in ("network.json", "orders.jsonl"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
        assert (tmp_path / "a" / file).read_bytes() != (tmp_path / "c" / file).read_bytes()


def test_plan_baseline_on_generated_data(tmp_path: Path) -> None:
    """Baseline plans of unseen generated data are contract-feasible with exact costs."""
    omniroute("demo-data", "--out", str(tmp_path), "--seed", "11", "--orders", "400")
    result = omniroute(
        "plan",
        "--network",
        str(tmp_path / "network.json"),
        "--orders",
        str(tmp_path / "orders.jsonl"),
        "--policy",
        "baseline",
    )
    assert result.returncode == 0, result.stderr
    network = read_network(tmp_path / "network.json")
    orders = {o.id: o for o in read_orders(tmp_path / "orders.jsonl", network)}
    atp = Inventory.from_network(NetworkIndex(network)).atp_map()
    responses = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["orderId"] for r in responses] == list(orders)
    for response in responses:
        plan = plan_from_json(response["plan"])
        assert check_plan(orders[response["orderId"]], network, plan, atp) == []


def test_bad_files_exit_2_listing_problems(tmp_path: Path, data_dir: Path) -> None:
    """A bad orders file: exit 2, every problem on stderr, no traceback."""
    orders = tmp_path / "orders.jsonl"
    orders.write_text(
        '{"id": "a", "lines": []}\n{"id": "a", "destination": {"latitude": 99, "longitude": 0}, '
        '"lines": [{"id": "1", "skuId": "TEE", "quantity": -1}]}\n'
    )
    result = omniroute(
        "plan",
        "--network",
        str(data_dir / "tiny_network.json"),
        "--orders",
        str(orders),
        "--policy",
        "baseline",
    )
    assert result.returncode == 2
    for expected in (
        "line 1: lines",
        "line 1: destination",
        "line 2: id",
        "line 2: destination.latitude",
        "line 2: lines[0].quantity",
    ):
        assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_is_a_clear_error(data_dir: Path) -> None:
    """A missing file is reported by name without a traceback."""
    result = omniroute("plan", "--network", "/no/such/file.json", "--orders", "x.jsonl")
    assert result.returncode == 2 and "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def plan_from_json(data: dict):
    """Read a plan back from the printed JSON through the proto conversion."""
    from google.protobuf import json_format

    from omniroute.server.convert import plan_from_proto
    from omniroute.v1 import plan_pb2

    return plan_from_proto(json_format.ParseDict(data, plan_pb2.Plan()))
