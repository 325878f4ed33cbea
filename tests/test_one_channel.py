"""The one-channel harness (`python -m benchmarks.one_channel`) runs against a real
`omniroute serve` and a real no-op ceiling, and reports well-formed results. No speed is
asserted."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import one_channel
from benchmarks.harness import omniroute_server, wait_planning
from omniroute.demo_data import demo_dataset
from omniroute.files import write_network


@pytest.mark.slow
def test_one_channel_harness_against_real_servers(tmp_path: Path) -> None:
    """Brief steps (0.5 s, at most two rates) over one channel: the JSON names both services' steps,
    capacities, the light-load latencies and the ratios, all finite numbers, and the
    summary on standard error states the ratios against the targets."""
    network, orders = demo_dataset(seed=7, orders=200)
    network_file = tmp_path / "network.json"
    write_network(network, network_file)
    requests = one_channel.demo_requests(None, None, seed=7, count=200)
    with omniroute_server(network_file, tmp_path / "ledger.db", 1) as (port, _):
        target = f"localhost:{port}"
        wait_planning(port, orders[0])
        response = one_channel.typical_response(target, requests)
        with one_channel.local_noop(response, workers=1) as noop:
            command = [
                sys.executable,
                "-m",
                "benchmarks.one_channel",
                "--target",
                target,
                "--noop",
                noop,
                "--step-seconds",
                "0.5",
                "--start",
                "40",
                "--factor",
                "2",
                "--max-steps",
                "2",
                "--low-rounds",
                "1",
                "--warmup-seconds",
                "0.2",
                "--orders-count",
                "200",
                "--out",
                str(tmp_path / "one.json"),
            ]
            run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    assert result == json.loads((tmp_path / "one.json").read_text())
    assert result["benchmark"] == "one_channel"
    assert not result["noop_started_here"]
    assert set(result["steps"]) == set(result["capacity"]) == {"noop", "target"}
    for name in ("noop", "target"):
        steps = result["steps"][name]
        # two rates at most, a failed step tried once more
        assert 1 <= len(steps) <= 4 and steps[0]["offered_rate"] == 40
        assert {s["offered_rate"] for s in steps} <= {40, 80}
        for step in steps:
            assert step["calls"] > 0 and step["ok"] + step["errors"] + step["shed"] == step["calls"]
            assert 0 < step["p50_ms"] <= step["p99_ms"] <= step["max_ms"] < 60_000
            assert step["passed"] == (step["p99_ms"] <= 50 and step["errors"] == 0)
        assert result["capacity"][name] in {0.0, *(s["offered_rate"] for s in steps if s["passed"])}
        low = result["low_load"][name]
        assert low["calls"] > 0 and low["errors"] == 0
        assert 0 < low["p50_ms"] <= low["p99_ms"] < 60_000
    assert result["low_load"]["rate"] == 50 and result["low_load"]["rounds"] == 1
    for ratio in (result["capacity_ratio"], result["low_load"]["p99_ratio"]):
        assert math.isfinite(ratio) and ratio >= 0
    assert result["low_load"]["p99_ratio"] > 0
    assert result["targets"] == {"capacity_ratio": 0.5, "low_load_p99_ratio": 2.0}
    assert "capacity: target" in run.stderr and "p99 at 50 calls/s" in run.stderr


def test_one_channel_harness_rejects_half_an_order_file() -> None:
    """--network without --orders is a usage error (exit 2), not a traceback."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.one_channel",
            "--target",
            "localhost:1",
            "--network",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "--network and --orders go together" in run.stderr and "Traceback" not in run.stderr
