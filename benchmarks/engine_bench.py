"""Engine benchmark: the optimiser against the baseline and a naive exact peer, on one core.

Run ``make bench-engine`` (or ``python -m benchmarks.engine_bench --help``). It plans the
demo day with

* ``omniroute``: the optimiser (CHEAPEST), fast paths then CP-SAT;
* ``baseline``: the rule-based router (nearest full node, else greedy by distance);
* ``naive-cp-sat``: one CP-SAT model per order (the same model, one worker, no fast paths,
  no pruning, no warm start) on a sample of the day,

and the optimiser on the large synthetic network at several sizes to show how latency
grows with the number of nodes. Set-up (data generation, indexing) is off the clock; each
order is timed from its validated model to its reported plan. Results go to
``benchmarks/results/engine.json`` (machine-readable) and ``engine.md`` (summary), with a
description of the machine, and a summary is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from omniroute import cpsat
from omniroute.candidates import build_problem
from omniroute.demo_data import demo_dataset, large_dataset
from omniroute.model import Order, Plan, PlanStatus, Policy
from omniroute.planner import Planner
from omniroute.plans import build_plan
from omniroute.server.progress import progress

RESULTS = Path(__file__).parent / "results"


@dataclass
class Outcome:
    order_id: str
    plan: Plan
    seconds: float
    proven: bool
    method: str


def run_optimiser(
    planner: Planner, orders: Sequence[Order], policy: Policy, label: str
) -> list[Outcome]:
    outcomes = []
    for order in progress(orders, len(orders), label):
        start = time.perf_counter()
        result = planner.plan(order, policy, validate=False)  # validated when read
        elapsed = time.perf_counter() - start
        outcomes.append(
            Outcome(
                order.id,
                result.plan,
                elapsed,
                result.stats.proof.value == "OPTIMAL",
                result.stats.method,
            )
        )
    return outcomes


def run_naive(planner: Planner, orders: Sequence[Order], time_limit: float) -> list[Outcome]:
    """One CP-SAT model per order: no bounds, no DP, no pruning, no hint."""
    outcomes = []
    for order in progress(orders, len(orders), "naive-cp-sat"):
        start = time.perf_counter()
        problem = build_problem(order, planner.index, planner.inventory)
        if len(problem.lanes):
            caps = int(problem.lanes.days.max())
            result = cpsat.solve(problem, cpsat.Objective.CHEAPEST, caps, None, time_limit)
            plan = build_plan(problem, result.allocations if result.feasible else [])
            proven = result.optimal or result.infeasible
        else:
            plan, proven = build_plan(problem, []), True
        elapsed = time.perf_counter() - start
        outcomes.append(Outcome(order.id, plan, elapsed, proven, "cp-sat"))
    return outcomes


def latency(outcomes: Sequence[Outcome]) -> dict[str, float]:
    ms = np.array([o.seconds for o in outcomes]) * 1000
    return {
        "p50": float(np.percentile(ms, 50)),
        "p90": float(np.percentile(ms, 90)),
        "p99": float(np.percentile(ms, 99)),
        "max": float(ms.max()),
        "mean": float(ms.mean()),
    }


def summary(outcomes: Sequence[Outcome], common: set[str]) -> dict[str, Any]:
    """KPIs of one peer; cost KPIs over ``common`` (orders every peer completed)."""
    chosen = [o for o in outcomes if o.order_id in common]
    cost = sum(o.plan.total_cost for o in chosen)
    busy = sum(o.seconds for o in outcomes)
    return {
        "orders": len(outcomes),
        "complete": sum(o.plan.status is PlanStatus.COMPLETE for o in outcomes),
        "latency_ms": latency(outcomes),
        "throughput_orders_per_s": len(outcomes) / busy if busy else 0.0,
        "total_cost": cost,
        "cost_per_order": cost / max(len(chosen), 1),
        "proven_share": sum(o.proven for o in outcomes) / max(len(outcomes), 1),
        "split_rate": sum(len(o.plan.shipments) > 1 for o in chosen) / max(len(chosen), 1),
        "mean_delivery_days": statistics.fmean(o.plan.delivery_days for o in chosen)
        if chosen
        else 0.0,
        "methods": dict(Counter(o.method for o in outcomes).most_common()),
    }


def complete_ids(*runs: Sequence[Outcome]) -> set[str]:
    sets = [{o.order_id for o in run if o.plan.status is PlanStatus.COMPLETE} for run in runs]
    return set.intersection(*sets)


def demo_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    network, orders = demo_dataset(seed=args.seed, orders=args.orders)
    planner = Planner(network)
    ours = run_optimiser(planner, orders, Policy.CHEAPEST, "omniroute")
    baseline = run_optimiser(planner, orders, Policy.BASELINE, "baseline")
    step = max(1, len(orders) // args.naive_orders)
    sample = orders[::step][: args.naive_orders]
    naive = run_naive(planner, sample, args.naive_time_limit)
    common = complete_ids(ours, baseline)
    saving = [
        b.plan.total_cost - o.plan.total_cost
        for o, b in zip(ours, baseline, strict=True)
        if o.order_id in common
    ]
    by_id = {o.order_id: o for o in ours}
    sampled_ours = [by_id[o.order_id] for o in naive]
    both = complete_ids(sampled_ours, naive)
    cost_diff = [
        abs(by_id[n.order_id].plan.total_cost - n.plan.total_cost)
        for n in naive
        if n.order_id in both and n.proven
    ]
    result: dict[str, Any] = {
        "orders": len(orders),
        "peers": {
            "omniroute": summary(ours, common),
            "baseline": summary(baseline, common),
            "naive-cp-sat": summary(naive, both),
            "omniroute-on-naive-sample": summary(sampled_ours, both),
        },
        "saving_vs_baseline": {
            "total": float(sum(saving)),
            "share": float(
                sum(saving)
                / max(sum(b.plan.total_cost for b in baseline if b.order_id in common), 1e-9)
            ),
            "orders_costlier_than_baseline": int(sum(s < -0.005 for s in saving)),
        },
        "naive_sample": {
            "orders": len(naive),
            "max_cost_difference": float(max(cost_diff, default=0.0)),
            "orders_compared": len(cost_diff),
        },
    }
    ours_sample = result["peers"]["omniroute-on-naive-sample"]["throughput_orders_per_s"]
    naive_rate = result["peers"]["naive-cp-sat"]["throughput_orders_per_s"]
    result["throughput_ratio_vs_naive"] = ours_sample / naive_rate if naive_rate else None
    return result


def scale_benchmark(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for nodes in args.scale_nodes:
        network, orders = large_dataset(
            nodes=nodes, skus=args.scale_skus, orders=args.scale_orders, seed=args.seed
        )
        planner = Planner(network)
        outcomes = run_optimiser(planner, orders, Policy.CHEAPEST, f"{nodes} nodes")
        rows.append(
            {
                "nodes": nodes,
                "skus": args.scale_skus,
                "stock_positions": len(network.stock),
                "orders": len(orders),
                "latency_ms": latency(outcomes),
                "proven_share": sum(o.proven for o in outcomes) / len(outcomes),
                "methods": dict(Counter(o.method for o in outcomes).most_common()),
            }
        )
    return rows


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import ortools

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "ortools": getattr(ortools, "__version__", "?"),
        "note": "one core: one process, CP-SAT with one worker",
    }


def markdown(result: dict[str, Any]) -> str:
    demo = result["demo"]
    peers = demo["peers"]
    lines = [
        "# Engine benchmark",
        "",
        f"Run {result['started']} on {result['machine']['cpu']} ({result['machine']['cores']} cores; "
        f"{result['machine']['note']}), Python {result['machine']['python']}, "
        f"OR-Tools {result['machine']['ortools']}. Command: `{result['command']}`.",
        "",
        f"## Demo day ({demo['orders']:,} orders, seed {result['config']['seed']})",
        "",
        "| peer | orders | p50 ms | p99 ms | max ms | orders/s | cost/order | proven | split rate | mean days |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, p in peers.items():
        lat = p["latency_ms"]
        lines.append(
            f"| {name} | {p['orders']:,} | {lat['p50']:.3f} | {lat['p99']:.2f} | {lat['max']:.1f} | "
            f"{p['throughput_orders_per_s']:,.0f} | {p['cost_per_order']:.2f} | "
            f"{100 * p['proven_share']:.1f}% | {100 * p['split_rate']:.1f}% | {p['mean_delivery_days']:.2f} |"
        )
    saving = demo["saving_vs_baseline"]
    lines += [
        "",
        "Cost columns cover the orders every peer in the comparison completed (the naive peer and "
        "its omniroute row: the naive sample).",
        "",
        f"- Saving against the baseline: {saving['total']:,.2f} ({100 * saving['share']:.1f}%); "
        f"orders where omniroute costs more than the baseline: {saving['orders_costlier_than_baseline']}.",
        f"- Throughput against the naive exact peer on the same sample: "
        f"{demo['throughput_ratio_vs_naive']:.1f}x; largest cost difference on "
        f"{demo['naive_sample']['orders_compared']} orders both proved: "
        f"{demo['naive_sample']['max_cost_difference']:.6f}.",
        f"- Methods (omniroute): {peers['omniroute']['methods']}",
        "",
        f"## Scaling with the number of nodes (large synthetic network, {result['config']['scale_skus']:,} SKUs)",
        "",
        "| nodes | stock positions | orders | p50 ms | p90 ms | p99 ms | max ms | proven |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["scale"]:
        lat = row["latency_ms"]
        lines.append(
            f"| {row['nodes']:,} | {row['stock_positions']:,} | {row['orders']:,} | {lat['p50']:.3f} | "
            f"{lat['p90']:.3f} | {lat['p99']:.2f} | {lat['max']:.1f} | {100 * row['proven_share']:.1f}% |"
        )
    if result.get("scale_ratios"):
        r = result["scale_ratios"]
        lines += [
            "",
            f"Latency at {r['nodes']} nodes over {r['base']} nodes: p50 {r['p50']:.2f}x, "
            f"p99 {r['p99']:.2f}x.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.engine_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--orders", type=int, default=20_000, help="demo-day orders (default 20,000)"
    )
    parser.add_argument(
        "--naive-orders",
        type=int,
        default=2000,
        help="orders for the naive CP-SAT peer, sampled evenly (default 2,000)",
    )
    parser.add_argument(
        "--naive-time-limit", type=float, default=10.0, help="seconds per naive solve"
    )
    parser.add_argument(
        "--scale-nodes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[100, 300, 1000, 3000],
        help="network sizes (default 100,300,1000,3000)",
    )
    parser.add_argument(
        "--scale-orders", type=int, default=1000, help="orders per size (default 1,000)"
    )
    parser.add_argument("--scale-skus", type=int, default=50_000, help="SKUs of the large network")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke test")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)
    if args.quick:
        args.orders, args.naive_orders, args.scale_orders = 2000, 200, 200
        args.scale_nodes, args.scale_skus = [100, 300], 5000
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    result: dict[str, Any] = {
        "benchmark": "engine",
        "started": started,
        "command": " ".join(["python -m benchmarks.engine_bench", *(argv or sys.argv[1:])]),
        "config": {k: v for k, v in vars(args).items() if k != "out"},
        "machine": machine(),
    }
    result["demo"] = demo_benchmark(args)
    result["scale"] = scale_benchmark(args)
    rows = result["scale"]
    base = next((r for r in rows if r["nodes"] == 100), rows[0] if rows else None)
    top = next((r for r in rows if r["nodes"] == 1000), rows[-1] if rows else None)
    if base and top and base is not top:
        result["scale_ratios"] = {
            "base": base["nodes"],
            "nodes": top["nodes"],
            "p50": top["latency_ms"]["p50"] / base["latency_ms"]["p50"],
            "p99": top["latency_ms"]["p99"] / base["latency_ms"]["p99"],
        }
    args.out.mkdir(parents=True, exist_ok=True)
    name = "engine-quick" if args.quick else "engine"
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    text = markdown(result)
    (args.out / f"{name}.md").write_text(text)
    print(text)
    print(f"wrote {args.out / (name + '.json')} and {args.out / (name + '.md')}")
    return 0


Runner = Callable[..., list[Outcome]]

if __name__ == "__main__":
    sys.exit(main())
