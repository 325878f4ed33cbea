"""``omniroute demo``: the main job on the embedded default.

Writes the demo retailer's network and a day of orders, starts the real gRPC service on an
embedded SQLite store (one worker process per core), routes a sample of the day through real
``PlanOrder`` calls from a pool of client threads, prints a table and a summary (orders/s,
latency, cost against the baseline), and shuts the service down with SIGTERM.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from omniroute.demo_data import demo_dataset
from omniroute.files import write_network, write_orders
from omniroute.model import Order, PlanResult
from omniroute.server.client import OmnirouteClient
from omniroute.server.convert import result_from_proto
from omniroute.server.launch import serve_process, stop
from omniroute.server.progress import progress
from omniroute.server.tables import table

CLIENT_THREADS = 8


def route(
    target: str, orders: list[Order], policy: str
) -> tuple[list[PlanResult], list[float], float]:
    """Plan ``orders`` through gRPC from a pool of threads; results, latencies (s), wall time."""
    clients = [OmnirouteClient(target) for _ in range(2)]

    def one(i: int) -> tuple[PlanResult, float]:
        start = time.perf_counter()
        response = clients[i % 2].plan_order(orders[i], policy=policy)
        return result_from_proto(response), time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        done = list(
            progress(pool.map(one, range(len(orders))), len(orders), f"gRPC {policy.lower()}")
        )
    wall = time.perf_counter() - start
    for client in clients:
        client.close()
    return [d[0] for d in done], [d[1] for d in done], wall


def run(directory: Path, seed: int, day: int, sample: int, workers: int) -> int:
    from omniroute.server.cli import compare  # the side-by-side KPI table

    directory.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    network, orders = demo_dataset(seed=seed, orders=day)
    write_network(network, directory / "network.json")
    write_orders(orders, directory / "orders.jsonl")
    stores = sum(node.kind.value == "STORE" for node in network.nodes)
    print(
        f"demo data: {len(network.nodes)} nodes ({stores} stores), {len(network.skus):,} SKUs, "
        f"{len(network.stock):,} stock positions, {len(orders):,} orders -> {directory}/ "
        f"({time.perf_counter() - start:.1f} s)"
    )

    db = directory / "omniroute.db"
    for leftover in directory.glob("omniroute.db*"):
        leftover.unlink()
    log_file = directory / "server.log"
    with (
        log_file.open("wb") as log,
        serve_process(
            "--db",
            str(db),
            "--network",
            str(directory / "network.json"),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            output=log,
        ) as (server, port),
    ):
        print(
            f"omniroute serving on localhost:{port} ({workers} worker processes, store {db}, "
            f"log {log_file})"
        )
        chosen = orders[:sample]
        optimal, latency, wall = route(f"localhost:{port}", chosen, "CHEAPEST")
        baseline, _, _ = route(f"localhost:{port}", chosen, "BASELINE")
        code = stop(server)
    splits = [r for r in optimal if len(r.plan.shipments) > 1][:4]
    shown = splits + [r for r in optimal[:10] if r not in splits][: 10 - len(splits)]
    print()
    print(
        table(
            ["order", "shipments", "nodes", "cost", "days", "proof", "method"],
            [
                [
                    r.order_id,
                    len(r.plan.shipments),
                    ", ".join(s.node_id for s in r.plan.shipments),
                    r.plan.total_cost,
                    r.plan.delivery_days,
                    r.stats.proof.value,
                    r.stats.method,
                ]
                for r in shown
            ],
            "",
        )
    )
    ms = np.array(latency) * 1000
    print()
    print(
        f"{len(chosen):,} orders routed through gRPC PlanOrder in {wall:.1f} s: "
        f"{len(chosen) / wall:,.0f} orders/s from {CLIENT_THREADS} client threads; "
        f"call latency p50 {np.percentile(ms, 50):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms"
    )
    print(compare(chosen, optimal, baseline, network))
    print(f"server stopped with SIGTERM (exit status {code})")
    return 0 if code == 0 else 1
