"""Micro-batching benchmark: what allocating orders that arrive together jointly buys in cost,
and what the batching window costs in latency.

* cost: the demo day replayed in time order, stock depleting, (a) each order optimally in
  turn, (b) windows of W orders allocated jointly, for W matching a 20 ms window at several
  peak rates (objective = cost + 50 per unfilled unit);
* latency: PlanOrder through the server with and without ``--batch-window-ms 20`` under the
  same concurrent load.

Run ``python -m benchmarks.batching_bench``; results in ``benchmarks/results/batching.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.engine_bench import machine
from benchmarks.harness import omniroute_server
from omniroute.demo_data import demo_dataset
from omniroute.files import write_network
from omniroute.joint import DEFAULT_UNFILLED_PENALTY
from omniroute.planner import Planner
from omniroute.scenario import Replay, ReplayMode
from omniroute.server.client import OmnirouteClient

RESULTS = Path(__file__).parent / "results"


def objective(replay: Replay) -> float:
    k = replay.kpis
    return k.total_cost + DEFAULT_UNFILLED_PENALTY * (k.units_ordered - k.units_filled)


def latency(network_file: Path, orders, window_ms: float, calls: int, threads: int) -> dict:  # type: ignore[no-untyped-def]
    with (
        tempfile.TemporaryDirectory() as tmp,
        omniroute_server(
            network_file, Path(tmp) / "b.db", 1, "--batch-window-ms", str(window_ms)
        ) as (port, _),
        OmnirouteClient(f"localhost:{port}") as client,
    ):

        def one(i: int) -> float:
            start = time.perf_counter()
            client.plan_order(orders[i % len(orders)])
            return time.perf_counter() - start

        with ThreadPoolExecutor(threads) as pool:
            ms = np.array(list(pool.map(one, range(calls)))) * 1000
    return {
        "window_ms": window_ms,
        "calls": calls,
        "threads": threads,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.batching_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--orders", type=int, default=1500, help="orders of the demo day replayed")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    network, orders = demo_dataset(seed=7, orders=20_000)
    day = orders[: args.orders]
    planner = Planner(network)
    sequential = objective(planner.replay(day))
    rows = []
    for rate in (250, 1000, 2500):  # orders/s at peak; a 20 ms window holds rate/50 orders
        window = max(2, rate // 50)
        start = time.perf_counter()
        batched = objective(
            planner.replay(day, mode=ReplayMode.BATCH, window=window, time_limit=1.0)
        )
        rows.append(
            {
                "peak_orders_per_s": rate,
                "window_orders": window,
                "sequential": sequential,
                "batched": batched,
                "saving": sequential - batched,
                "saving_share": (sequential - batched) / sequential,
                "seconds": time.perf_counter() - start,
            }
        )
        print(rows[-1], file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        network_file = Path(tmp) / "network.json"
        write_network(network, network_file)
        lat = [latency(network_file, orders, w, 1500, 16) for w in (0.0, 20.0)]
    result: dict[str, Any] = {
        "benchmark": "batching",
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "orders": len(day),
        "cost": rows,
        "latency": lat,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "batching.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# Micro-batching benchmark",
        "",
        f"Run {result['started']} on {result['machine']['cpu']}; `python -m benchmarks.batching_bench`.",
        "",
        f"Cost: the first {len(day):,} orders of the demo day replayed in time order with stock "
        "depleting; objective = cost + 50 per unfilled unit; a 20 ms window at the peak rate.",
        "",
        "| peak orders/s | orders per window | sequential | batched | saving | saving % |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['peak_orders_per_s']:,} | {r['window_orders']} | {r['sequential']:,.2f} | "
            f"{r['batched']:,.2f} | {r['saving']:,.2f} | {100 * r['saving_share']:.2f}% |"
        )
    lines += [
        "",
        "Latency: 1,500 PlanOrder calls from 16 client threads, one server process.",
        "",
        "| batch window | p50 ms | p99 ms |",
        "|---:|---:|---:|",
    ]
    for r in lat:
        lines.append(f"| {r['window_ms']:.0f} ms | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |")
    text = "\n".join(lines) + "\n"
    (args.out / "batching.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
