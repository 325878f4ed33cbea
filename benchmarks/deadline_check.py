"""Deadlines on a big network: the heaviest orders through a real server, each with a short
deadline, must all come back with a plan; a simple order afterwards must be answered at once.

    python -m benchmarks.deadline_check --network FILE --orders FILE \\
        [--heaviest 40] [--deadline-ms 200] [--workers 1] [--out FILE.json]

The heaviest orders are the ones the planner takes longest on in this process (measured
first, in process, on the same files). Then ``omniroute serve --network FILE`` is started
(the network imported into a fresh SQLite ledger in a temporary directory), each heavy order
is sent once as ``PlanOrder`` with the deadline, and the fastest order of the file is sent
last. Prints one JSON object (stdout) and a one-line summary (stderr); exits 1 when any
heavy order got no plan.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from omniroute import Planner, read_network, read_orders
from omniroute.server.client import OmnirouteClient
from omniroute.server.launch import serve_process
from omniroute.server.progress import progress
from omniroute.v1 import plan_pb2


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", required=True, help="network file (proto3 JSON)")
    parser.add_argument("--orders", required=True, help="orders file (JSON lines)")
    parser.add_argument("--heaviest", type=int, default=40, help="orders sent (default 40)")
    parser.add_argument("--deadline-ms", type=float, default=200.0, help="per call (200)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    parser.add_argument("--out", help="also write the JSON result here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    network = read_network(args.network)
    orders = read_orders(args.orders, network)
    planner = Planner(network, validate=False)
    log(
        f"loaded {len(network.nodes):,} nodes, {len(network.stock):,} positions in "
        f"{time.perf_counter() - start:.1f} s"
    )
    seconds = []
    for order in progress(orders, len(orders), "ranking orders in process"):
        began = time.perf_counter()
        planner.plan(order, validate=False)
        seconds.append(time.perf_counter() - began)
    ranked = np.argsort(seconds)[::-1]
    heavy = [orders[i] for i in ranked[: args.heaviest].tolist()]
    simple = orders[int(ranked[-1])]
    del planner

    deadline = args.deadline_ms / 1000
    calls: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "ledger.db")
        log(f"starting omniroute serve on {args.network} ({args.workers} worker(s))")
        began = time.perf_counter()
        with (
            serve_process(
                "--db",
                db,
                "--network",
                args.network,
                "--workers",
                str(args.workers),
                ready_timeout=600.0,
            ) as (_, port),
            OmnirouteClient(f"localhost:{port}", retries=0) as client,
        ):
            ready = time.perf_counter() - began
            for order in progress(heavy, len(heavy), f"heavy orders, {args.deadline_ms:g} ms"):
                calls.append(call(client, order, deadline, seconds[orders.index(order)]))
            after = call(client, simple, 1.0, seconds[orders.index(simple)])
    answered = sum(c["code"] == "OK" for c in calls)
    latency = np.array([c["ms"] for c in calls])
    result = {
        "network": args.network,
        "nodes": len(network.nodes),
        "stock_positions": len(network.stock),
        "server_ready_s": ready,
        "deadline_ms": args.deadline_ms,
        "heavy_orders": len(calls),
        "answered_with_a_plan": answered,
        "codes": dict(Counter(c["code"] for c in calls)),
        "statuses": dict(Counter(c["status"] for c in calls if c["code"] == "OK")),
        "proofs": dict(Counter(c["proof"] for c in calls if c["code"] == "OK")),
        "latency_ms": {
            "p50": float(np.percentile(latency, 50)),
            "max": float(latency.max()),
        },
        "simple_after": after,
        "calls": calls,
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    log(
        f"{answered} of {len(calls)} heavy orders answered with a plan within "
        f"{args.deadline_ms:g} ms (max {latency.max():.1f} ms; in process up to "
        f"{max(c['in_process_ms'] for c in calls):.1f} ms); a simple order "
        f"after them: {after['code']} in {after['ms']:.1f} ms"
    )
    return 0 if answered == len(calls) and after["code"] == "OK" else 1


def call(client: OmnirouteClient, order: Any, deadline: float, in_process: float) -> dict[str, Any]:
    """One PlanOrder with ``deadline`` seconds: its code, plan status, proof and latency."""
    began = time.perf_counter()
    try:
        response = client.plan_order(order, timeout=deadline)
    except grpc.RpcError as error:
        return {
            "order_id": order.id,
            "code": error.code().name,
            "status": "",
            "proof": "",
            "ms": 1000 * (time.perf_counter() - began),
            "in_process_ms": 1000 * in_process,
        }
    return {
        "order_id": order.id,
        "code": "OK",
        "status": plan_pb2.Plan.Status.Name(response.plan.status),
        "proof": plan_pb2.PlanStats.Proof.Name(response.stats.proof),
        "ms": 1000 * (time.perf_counter() - began),
        "in_process_ms": 1000 * in_process,
    }


if __name__ == "__main__":
    sys.exit(main())
