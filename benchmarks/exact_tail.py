"""The engine's slow tail: the orders beyond the DP, with and without the branch and bound.

``python -m benchmarks.exact_tail`` plans the demo day (CHEAPEST), keeps the orders whose
method is beyond the DP (``branch-and-bound``, ``enumeration`` or ``cp-sat``), then plans
those orders again, in turn with the branch and bound switched off (the previous path:
enumeration, then CP-SAT) and on, interleaved in one process, several times. It reports
per order the fastest of the repeats, per method and in total, and checks that both paths
give the same cost and delivery days, proven. Prints a summary and, with ``--json FILE``,
writes the figures there (nothing is written to ``benchmarks/results/`` by default).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from omniroute import branch, optimizer
from omniroute.demo_data import demo_dataset
from omniroute.model import Order, PlanResult, Policy, Proof
from omniroute.planner import Planner

TAIL_METHODS = ("branch-and-bound", "enumeration", "cp-sat")


def _base(method: str) -> str:
    return method.split(" (")[0]


class _Switch:
    """Turns the branch and bound off (and back on) for the optimiser."""

    def __init__(self) -> None:
        self.front, self.most = optimizer.FrontSolver._branch, branch.most_units

    def set(self, on: bool) -> None:
        if on:
            optimizer.FrontSolver._branch = self.front  # type: ignore[method-assign]
            branch.most_units = self.most
        else:
            optimizer.FrontSolver._branch = lambda self, j: None  # type: ignore[method-assign]
            branch.most_units = lambda *args: None


def _plan(planner: Planner, order: Order) -> tuple[PlanResult, float]:
    start = time.perf_counter()
    result = planner.plan(order, Policy.CHEAPEST, validate=False)
    return result, (time.perf_counter() - start) * 1000


def measure(orders: int, seed: int, repeats: int) -> dict[str, Any]:
    network, day = demo_dataset(seed=seed, orders=orders)
    planner = Planner(network)
    tail = [o for o in day if _base(_plan(planner, o)[0].stats.method) in TAIL_METHODS]
    switch = _Switch()
    ms: dict[str, dict[str, list[float]]] = {"off": defaultdict(list), "on": defaultdict(list)}
    outcome: dict[str, dict[str, tuple[float, int, bool, str]]] = {"off": {}, "on": {}}
    for repeat in range(repeats):
        for mode in ("off", "on") if repeat % 2 == 0 else ("on", "off"):
            switch.set(mode == "on")
            for order in tail:
                result, elapsed = _plan(planner, order)
                ms[mode][order.id].append(elapsed)
                plan = result.plan
                outcome[mode][order.id] = (
                    plan.total_cost,
                    plan.delivery_days,
                    result.stats.proof is Proof.OPTIMAL,
                    _base(result.stats.method),
                )
    switch.set(True)
    figures: dict[str, Any] = {"orders": orders, "seed": seed, "tail_orders": len(tail)}
    for mode in ("off", "on"):
        best = {order_id: min(times) for order_id, times in ms[mode].items()}
        values = np.array(list(best.values()) or [0.0])
        methods: dict[str, list[float]] = defaultdict(list)
        for order_id, value in best.items():
            methods[outcome[mode][order_id][3]].append(value)
        figures[f"branch_and_bound_{mode}"] = {
            "total_ms": float(values.sum()),
            "mean_ms": float(values.mean()),
            "max_ms": float(values.max()),
            "proven": sum(o[2] for o in outcome[mode].values()),
            "methods": {
                m: {"orders": len(v), "total_ms": float(sum(v)), "max_ms": float(max(v))}
                for m, v in sorted(methods.items())
            },
        }
    figures["same_cost_and_days"] = all(
        abs(outcome["on"][i][0] - outcome["off"][i][0]) <= 1e-6
        and outcome["on"][i][1] == outcome["off"][i][1]
        for i in outcome["on"]
    )
    off, on = figures["branch_and_bound_off"], figures["branch_and_bound_on"]
    figures["speed_up"] = off["total_ms"] / on["total_ms"] if on["total_ms"] else None
    return figures


def summary(figures: dict[str, Any]) -> str:
    lines = [
        f"Demo day ({figures['orders']} orders, seed {figures['seed']}): "
        f"{figures['tail_orders']} orders beyond the DP; fastest of the repeats per order."
    ]
    for mode in ("off", "on"):
        f = figures[f"branch_and_bound_{mode}"]
        lines.append(
            f"  branch and bound {mode:3s}: total {f['total_ms']:8.1f} ms, mean "
            f"{f['mean_ms']:.3f} ms, max {f['max_ms']:.2f} ms, proven {f['proven']}"
        )
        for method, m in f["methods"].items():
            lines.append(
                f"      {method:18s} {m['orders']:4d} orders, {m['total_ms']:8.1f} ms, "
                f"max {m['max_ms']:.2f} ms"
            )
    speed_up = figures["speed_up"]
    ratio = f"; speed-up {speed_up:.1f}x" if speed_up else ""
    lines.append(f"  same cost and days: {figures['same_cost_and_days']}{ratio}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.exact_tail",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    figures = measure(args.orders, args.seed, args.repeats)
    print(summary(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if figures["same_cost_and_days"] else 1


if __name__ == "__main__":
    sys.exit(main())
