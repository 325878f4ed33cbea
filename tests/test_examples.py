"""The examples in examples/ run as users run them, and the README's worked example gives the
same plan through the Python API as through ``omniroute plan``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format

import omniroute
from omniroute.server.convert import result_to_proto

ROOT = Path(__file__).parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_are_examples() -> None:
    """The examples folder is not empty (so the parametrised test below runs something)."""
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(example: Path, tmp_path: Path) -> None:
    """Each example exits 0 from another directory and prints its results."""
    done = subprocess.run(
        [sys.executable, str(example)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "the example printed nothing"
    assert "Traceback" not in done.stderr


def _masked(response: dict) -> dict:
    response.get("stats", {}).pop("solveMicros", None)
    return response


def test_readme_worked_example_matches_the_cli() -> None:
    """``omniroute plan`` on the example files prints what ``Planner.plan`` returns."""
    data = ROOT / "examples" / "data"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "omniroute.server.cli",
            "plan",
            "--network",
            str(data / "network.json"),
            "--orders",
            str(data / "orders.jsonl"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    printed = [_masked(json.loads(line)) for line in done.stdout.splitlines()]

    network = omniroute.read_network(data / "network.json")
    orders = omniroute.read_orders(data / "orders.jsonl", network)
    planner = omniroute.Planner(network)
    ours = [_masked(json_format.MessageToDict(result_to_proto(planner.plan(o)))) for o in orders]
    assert printed == ours
    assert printed[1]["plan"]["totalCost"] == pytest.approx(32.6)
    assert len(printed[1]["plan"]["shipments"]) == 2
