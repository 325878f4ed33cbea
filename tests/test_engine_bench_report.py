"""The engine benchmark's demo-day report: the mean beside p50/p99/max, omniroute's time per
order against the targets, and the time per method (no speed asserted)."""

from __future__ import annotations

import argparse

import pytest

from benchmarks import engine_bench


def test_demo_report_has_mean_targets_and_methods() -> None:
    """On a short demo day, every peer's methods account for all its orders and all its time,
    the per-method means weighted by their counts give the overall mean, and engine.md puts
    the mean and p99 beside the targets with a row per method; look-ahead is timed with λ
    from rates per SKU (the day) and from baskets (scarce batches of 200 orders)."""
    args = argparse.Namespace(seed=7, orders=120, naive_orders=6, naive_time_limit=10.0)
    demo = engine_bench.demo_benchmark(args)
    for peer in demo["peers"].values():
        methods = peer["by_method"]
        assert sum(m["orders"] for m in methods.values()) == peer["orders"]
        assert {k: m["orders"] for k, m in methods.items()} == peer["methods"]
        assert sum(m["time_share"] for m in methods.values()) == pytest.approx(1.0)
        weighted = sum(m["mean_ms"] * m["orders"] for m in methods.values()) / peer["orders"]
        assert weighted == pytest.approx(peer["latency_ms"]["mean"])
        for m in methods.values():
            assert m["mean_ms"] > 0 and m["p99_ms"] > 0
    ours = demo["peers"]["omniroute"]["latency_ms"]
    assert demo["targets_ms"] == {"mean": 0.1, "p99": 2.0}
    assert demo["targets_met"] == {"mean": ours["mean"] <= 0.1, "p99": ours["p99"] <= 2.0}
    result = {
        "started": "now",
        "command": "test",
        "config": {"seed": 7},
        "machine": engine_bench.machine(),
        "demo": demo,
    }
    text = engine_bench.markdown(result)
    assert "| peer | orders | mean ms | p50 ms | p99 ms | max ms |" in text
    assert f"| mean | {ours['mean']:.3f} ms | <= 0.1 ms: " in text
    assert f"| p99 | {ours['p99']:.3f} ms | <= 2 ms: " in text
    ahead = demo["lookahead"]
    assert ahead["orders"] == 120 and ahead["baskets"]["orders"] == 1000
    assert ahead["theta"] == 2 and ahead["baskets"]["theta"] == 1
    assert ahead["baskets"]["priced_positions"] > 0
    for run in (ahead, ahead["baskets"]):
        assert f"mean {run['mean_ratio']:.2f}x" in text
    for method, m in demo["peers"]["omniroute"]["by_method"].items():
        assert f"| {method} | {m['orders']:,} | {m['mean_ms']:.3f} |" in text
