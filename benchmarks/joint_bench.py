"""Joint allocation on scarce batches: objective, proven bound and time, against planning each
order in turn.

Each batch is drawn from a day of demo orders (seed 7 network); the stock of every SKU the
batch wants is cut to ``ratio`` x the batch's demand of it (x a random factor of 0.8-1.2),
spread over the nodes that held it in proportion to what they held, so that orders contend
for scattered units. :func:`omniroute.joint.allocate` then runs with its defaults (30 s time
limit, unfilled penalty 50), exactly as ``omniroute allocate`` would.

For every batch the plans are checked here, independently of the solver: no stock position
gives more units than its ATP, no whole-or-nothing order is shipped in part, and the objective
is recomputed from the plans (cost + penalty x unfilled units).

``python -m benchmarks.joint_bench [--quick] [--out DIR]`` prints a JSON summary on stdout
and a table on stderr, and writes ``DIR/joint.json`` and ``DIR/joint.md``
(``joint-quick.*`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from omniroute.demo_data import demo_dataset
from omniroute.joint import DEFAULT_TIME_LIMIT, DEFAULT_UNFILLED_PENALTY, allocate
from omniroute.model import Network, Order
from omniroute.planner import Planner

RESULTS = Path(__file__).parent / "results"
# (seed, orders, stock / demand of the batch's SKUs)
BATCHES = [
    (101, 40, 1.0),
    (102, 40, 1.2),
    (103, 40, 1.5),
    (104, 50, 1.1),
    (105, 60, 1.3),
    (106, 60, 0.9),
    (201, 200, 1.1),
    (202, 400, 1.2),
]
QUICK = [(101, 40, 1.0), (105, 60, 1.3)]
DAY_ORDERS = 4000


def scarce_batch(seed: int, orders: int, ratio: float) -> tuple[Network, list[Order]]:
    """A batch of ``orders`` demo orders and the demo network with their SKUs made scarce
    (see the module docstring)."""
    rng = np.random.default_rng(seed)
    network, day = demo_dataset(seed=7, orders=DAY_ORDERS)
    batch = [day[i] for i in sorted(rng.choice(len(day), orders, replace=False).tolist())]
    demand: dict[str, int] = {}
    for order in batch:
        for line in order.lines:
            demand[line.sku_id] = demand.get(line.sku_id, 0) + line.quantity
    kept = [p for p in network.stock if p.sku_id not in demand]
    holders: dict[str, list] = {}
    for position in network.stock:
        if position.sku_id in demand:
            holders.setdefault(position.sku_id, []).append(position)
    for sku_id, positions in holders.items():
        total = max(1, round(demand[sku_id] * ratio * rng.uniform(0.8, 1.2)))
        weights = np.array([max(p.on_hand, 1) for p in positions], dtype=np.float64)
        shares = rng.multinomial(total, weights / weights.sum())
        for position, units in zip(positions, shares.tolist(), strict=True):
            if units:
                kept.append(replace(position, on_hand=units + position.safety_stock, reserved=0))
    return replace(network, stock=tuple(kept)), batch


def check(network: Network, orders: Sequence[Order], result: Any, penalty: float) -> float:
    """The objective recomputed from the plans, after checking them (raises on a violation)."""
    atp = Planner(network).inventory.atp_map()
    taken: dict[tuple[str, str], int] = {}
    objective = 0.0
    for order, plan in zip(orders, result.plans, strict=True):
        wanted = sum(line.quantity for line in order.lines)
        if not order.allow_partial and plan.units not in (0, wanted):
            raise AssertionError(f"order {order.id} must ship whole but ships {plan.units}")
        for shipment in plan.shipments:
            for line in shipment.lines:
                key = (shipment.node_id, line.sku_id)
                taken[key] = taken.get(key, 0) + line.quantity
        objective += plan.total_cost + penalty * (wanted - plan.units)
    for key, units in taken.items():
        if units > atp.get(key, 0):
            raise AssertionError(f"{key} gives {units} units, ATP {atp.get(key, 0)}")
    return objective


def run(batches: Sequence[tuple[int, int, float]]) -> list[dict[str, Any]]:
    rows = []
    for seed, size, ratio in batches:
        network, orders = scarce_batch(seed, size, ratio)
        planner = Planner(network)
        start = time.perf_counter()
        result = allocate(orders, planner)
        seconds = time.perf_counter() - start
        recomputed = check(network, orders, result, DEFAULT_UNFILLED_PENALTY)
        row = {
            "seed": seed,
            "orders": size,
            "stockToDemand": ratio,
            "objective": round(result.objective, 6),
            "recomputedObjective": round(recomputed, 6),
            "lowerBound": round(result.lower_bound, 6),
            "gap": round(result.gap, 8),
            "proven": result.proven,
            "sequentialObjective": round(result.sequential_objective, 6),
            "savingVsSequential": round(result.sequential_objective - result.objective, 6),
            "unitsUnfilled": result.units_unfilled,
            "seconds": round(seconds, 3),
        }
        rows.append(row)
        print(
            f"  {size:>4} orders (seed {seed}, stock {ratio:.1f}x demand): objective "
            f"{result.objective:,.2f}, gap {100 * result.gap:.2f}%, "
            f"{'proven' if result.proven else 'not proven'}, {seconds:.2f} s",
            file=sys.stderr,
            flush=True,
        )
    return rows


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Joint allocation on scarce batches",
        "",
        f"Run {result['started']} on {result['machine']}, Python {result['python']}. "
        f"Command: `{result['command']}`. Defaults of `omniroute allocate`: time limit "
        f"{DEFAULT_TIME_LIMIT:.0f} s, unfilled penalty {DEFAULT_UNFILLED_PENALTY:.0f} per unit.",
        "",
        "| orders | seed | stock / demand | objective | lower bound | gap (%) | proven "
        "| planning each in turn | saving (%) | unfilled units | seconds |",
        "|---:|---:|---:|---:|---:|---:|:---|---:|---:|---:|---:|",
    ]
    for row in result["batches"]:
        saving = 100 * row["savingVsSequential"] / max(row["sequentialObjective"], 1e-9)
        lines.append(
            f"| {row['orders']} | {row['seed']} | {row['stockToDemand']:.1f} | "
            f"{row['objective']:,.2f} | {row['lowerBound']:,.2f} | {100 * row['gap']:.2f} | "
            f"{'yes' if row['proven'] else 'no'} | {row['sequentialObjective']:,.2f} | "
            f"{saving:.1f} | {row['unitsUnfilled']} | {row['seconds']:.2f} |"
        )
    lines += [
        "",
        "Every batch's plans were checked independently of the solver (no position gives "
        "more than its ATP, whole-or-nothing orders ship whole or not at all, the objective "
        "recomputed from the plans equals the reported one).",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.joint_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="two 40-60 order batches only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)
    command = "python -m benchmarks.joint_bench" + (" --quick" if args.quick else "")
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    print("joint allocation on scarce batches:", file=sys.stderr)
    rows = run(QUICK if args.quick else BATCHES)
    for row in rows:
        if abs(row["objective"] - row["recomputedObjective"]) > 1e-6 * max(1, row["objective"]):
            raise AssertionError(f"batch {row['seed']}: reported objective is not the plans'")
    result = {
        "started": started,
        "command": command,
        "machine": f"{platform.processor() or platform.machine()}",
        "python": platform.python_version(),
        "batches": rows,
        "allProven": all(row["proven"] for row in rows),
        "maxGap": max(row["gap"] for row in rows),
        "maxSeconds": max(row["seconds"] for row in rows),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    name = "joint-quick" if args.quick else "joint"
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"{name}.md").write_text(markdown(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
