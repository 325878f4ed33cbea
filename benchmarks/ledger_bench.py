"""Ledger benchmark: reservations per second and latency, through the store alone and through
the server (plan + hold), with SQLite ``synchronous`` FULL and NORMAL, and one or two server
processes.

Run ``python -m benchmarks.ledger_bench [--seconds 6]``. Orders come from the demo day; the
store and server use a fresh copy of the demo network per configuration. Results go to
``benchmarks/results/ledger.json`` and ``ledger.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
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
from omniroute.ledger import ReservationLine, Shortage, new_reservation_id, open_ledger, plan_lines
from omniroute.model import Order
from omniroute.planner import Planner
from omniroute.server.client import OmnirouteClient

RESULTS = Path(__file__).parent / "results"


def summarise(latencies: list[float], seconds: float, failures: int) -> dict[str, Any]:
    ms = np.array(latencies) * 1000 if latencies else np.zeros(1)
    return {
        "reservations": len(latencies),
        "per_second": len(latencies) / seconds if seconds else 0.0,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "failures": failures,  # store: shortages (stock ran out); server: failed calls
    }


def planned_lines(orders: Sequence[Order], planner: Planner) -> list[list[ReservationLine]]:
    """What each order would hold (planned once, off the clock)."""
    result = []
    for order in orders:
        lines = plan_lines(planner.plan(order).plan)
        if lines:
            result.append(lines)
    return result


def _store_worker(
    db: str,
    synchronous: str,
    lines: list[list[tuple[str, str, int]]],
    offset: int,
    seconds: float,
    queue: Any,
) -> None:
    ledger = open_ledger(db, synchronous=synchronous)
    latencies, failures = [], 0
    began = time.perf_counter()
    end = began + seconds
    i = 0
    while time.perf_counter() < end and i < len(lines):
        start = time.perf_counter()
        try:
            reservation_id = new_reservation_id()
            ledger.reservations.reserve(
                reservation_id,
                f"s-{offset}-{i}",
                b"x",
                "o",
                [ReservationLine(*x) for x in lines[i]],
                3600,
                reservation_id.encode(),
            )
            latencies.append(time.perf_counter() - start)
        except Shortage:
            failures += 1
        i += 1
    ledger.close()
    queue.put((latencies, failures, time.perf_counter() - began))


def store_alone(
    network_file: Path,
    lines: list[list[ReservationLine]],
    synchronous: str,
    processes: int,
    seconds: float,
) -> dict[str, Any]:
    from omniroute.files import read_network

    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "ledger.db")
        ledger = open_ledger(db, synchronous=synchronous)
        ledger.put_network(read_network(network_file))
        ledger.close()
        plain = [[(x.node_id, x.sku_id, x.quantity) for x in ls] for ls in lines]
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        share = len(plain) // processes
        workers = [
            context.Process(
                target=_store_worker,
                args=(db, synchronous, plain[p * share : (p + 1) * share], p, seconds, queue),
            )
            for p in range(processes)
        ]
        for w in workers:
            w.start()
        results = [queue.get() for _ in workers]
        for w in workers:
            w.join()
        check = open_ledger(db).check()
    latencies = [x for r in results for x in r[0]]
    summary = summarise(latencies, max(r[2] for r in results), sum(r[1] for r in results))
    summary["ledger_check_problems"] = len(check)
    return summary


def through_server(
    network_file: Path,
    orders: Sequence[Order],
    synchronous: str,
    workers: int,
    seconds: float,
    threads: int,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "server.db"
        with omniroute_server(network_file, db, workers, "--synchronous", synchronous) as (port, _):
            clients = [OmnirouteClient(f"localhost:{port}") for _ in range(max(2, workers))]
            latencies: list[float] = []
            failures = 0
            end = time.perf_counter() + seconds
            counter = iter(range(10**9))

            def loop(t: int) -> tuple[list[float], int]:
                mine, failed = [], 0
                client = clients[t % len(clients)]
                while time.perf_counter() < end:
                    i = next(counter)
                    request = OmnirouteClient.plan_request(orders[i % len(orders)])
                    request.reserve, request.request_id = True, f"b-{i}"
                    start = time.perf_counter()
                    try:
                        response = client.routing.PlanOrder(request, timeout=30)
                        if response.reservation_id:
                            mine.append(time.perf_counter() - start)
                    except Exception:  # noqa: BLE001 - counted, reported
                        failed += 1
                return mine, failed

            started = time.perf_counter()
            with ThreadPoolExecutor(threads) as pool:
                for mine, failed in pool.map(loop, range(threads)):
                    latencies += mine
                    failures += failed
            wall = time.perf_counter() - started
            for client in clients:
                client.close()
        check = open_ledger(db).check()
    summary = summarise(latencies, wall, failures)
    summary["ledger_check_problems"] = len(check)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ledger_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="per configuration (default 6)")
    parser.add_argument("--threads", type=int, default=8, help="client threads through the server")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    network, orders = demo_dataset(seed=7, orders=20_000)
    with tempfile.TemporaryDirectory() as tmp:
        network_file = Path(tmp) / "network.json"
        write_network(network, network_file)
        lines = planned_lines(orders[:8000], Planner(network))
        rows = []
        for synchronous in ("FULL", "NORMAL"):
            for processes in (1, 2):
                print(
                    f"store alone, synchronous={synchronous}, {processes} process(es)",
                    file=sys.stderr,
                )
                rows.append(
                    {
                        "path": "store",
                        "synchronous": synchronous,
                        "processes": processes,
                        **store_alone(network_file, lines, synchronous, processes, args.seconds),
                    }
                )
        for synchronous in ("FULL", "NORMAL"):
            for workers in (1, 2):
                print(f"server, synchronous={synchronous}, {workers} worker(s)", file=sys.stderr)
                rows.append(
                    {
                        "path": "server (plan + hold)",
                        "synchronous": synchronous,
                        "processes": workers,
                        **through_server(
                            network_file, orders, synchronous, workers, args.seconds, args.threads
                        ),
                    }
                )
    result: dict[str, Any] = {
        "benchmark": "ledger",
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "config": {"seconds": args.seconds, "threads": args.threads},
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ledger.json").write_text(json.dumps(result, indent=1) + "\n")
    lines_md = [
        "# Ledger benchmark",
        "",
        f"Run {result['started']} on {result['machine']['cpu']} ({result['machine']['cores']} cores). "
        f"Command: `python -m benchmarks.ledger_bench --seconds {args.seconds}`. Clients run on the "
        f"same machine ({args.threads} threads through the server). Store rows hold pre-planned "
        f"lines (stock runs out for some: shortages, rolled back); server rows plan and hold "
        f"each order through gRPC PlanOrder with reserve.",
        "",
        "| path | synchronous | processes | reservations/s | p50 ms | p99 ms | max ms | shortages or errors | ledger problems |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines_md.append(
            f"| {r['path']} | {r['synchronous']} | {r['processes']} | {r['per_second']:,.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.1f} | {r['failures']} | "
            f"{r['ledger_check_problems']} |"
        )
    text = "\n".join(lines_md) + "\n"
    (args.out / "ledger.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
