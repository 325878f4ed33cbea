"""The one-channel acceptance measurement on its own: what an integrator's client gets.

``python -m benchmarks.one_channel --target HOST:PORT [--noop HOST:PORT] ...``

A client like the one most integrators write: one process, one gRPC channel, every
``PlanOrder`` call multiplexed over it, calls started on an open-loop Poisson schedule and
each call's latency measured from its intended send time (``benchmarks.loadgen`` with one
process and one channel). Against the target service and a no-op ceiling, measured in the
same run:

1. latency at a light load: ``--low-rate`` calls/s (default 50), ``--low-rounds`` rounds
   (default 3) of one step of ``--step-seconds`` against the ceiling then the target, pooled
   per service;
2. capacity: steps of ``--step-seconds`` (default 5) from ``--start`` calls/s, the rate
   multiplied by ``--factor`` each step, both services at each rate in turn, each rising until
   a step's p99 exceeds ``--slo-ms`` (default 50) or any call fails; its capacity is the
   highest rate that held. A failed step is tried once more before the service stops (a
   single noisy step on a shared machine should not end the search; ``--no-retry``: it
   does).

Both services are first warmed up off the clock (``--warmup-seconds`` at ``--start``).
Without ``--noop`` the harness starts the no-op ceiling itself on this machine
(``benchmarks.noop_server``, ``--workers`` processes) answering the target's own response
to a typical order, so both send messages of the same sizes. The requests are the demo
day's orders (seed ``--seed``; the target must serve the demo network, e.g. ``omniroute
demo-data --out DIR`` and ``omniroute serve --network DIR/network.json``) or those of
``--network`` and ``--orders``. Prints the results as JSON on standard output (and to
``--out FILE``) and a summary, with the capacity ratio and the p99 ratio at the light load
against the issue's targets (at least 0.5 and at most 2), on standard error. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc

from benchmarks.loadgen import LoadResult, merge, run_load

CAPACITY_TARGET = 0.5  # the target's capacity over the ceiling's, at least
LOW_LOAD_TARGET = 2.0  # the target's p99 at the light load over the ceiling's, at most


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def demo_requests(
    network_file: Path | None, orders_file: Path | None, seed: int, count: int
) -> list[bytes]:
    """Serialized PlanOrderRequests: of the files' orders, else of the demo day."""
    from omniroute.server.client import OmnirouteClient

    if orders_file is not None and network_file is not None:
        from omniroute.files import read_network, read_orders

        orders = read_orders(orders_file, read_network(network_file))
    else:
        from omniroute.demo_data import demo_dataset

        _, orders = demo_dataset(seed=seed, orders=count)
    return [OmnirouteClient.plan_request(o).SerializeToString() for o in orders[:count]]


def typical_response(target: str, requests: Sequence[bytes], sample: int = 41) -> bytes:
    """The target's answer of median size to the first ``sample`` requests."""
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            "/omniroute.v1.RoutingService/PlanOrder",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        grpc.channel_ready_future(channel).result(timeout=30)
        answers = sorted((call(r, timeout=10) for r in requests[:sample]), key=len)
    return answers[len(answers) // 2]


@contextmanager
def local_noop(response: bytes, workers: int) -> Iterator[str]:
    """``benchmarks.noop_server`` on a free local port until the block ends; yields its
    address once it answers."""
    from omniroute.server.launch import stop
    from omniroute.server.process import free_port

    with tempfile.TemporaryDirectory() as tmp:
        response_file = Path(tmp) / "response.bin"
        response_file.write_bytes(response)
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.noop_server",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--response",
                str(response_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            address = f"localhost:{port}"
            with grpc.insecure_channel(address) as channel:
                grpc.channel_ready_future(channel).result(timeout=60)
            yield address
        finally:
            stop(process)


def load(address: str, requests: list[bytes], rate: float, seconds: float, seed: int) -> LoadResult:
    """One open-loop step over one channel."""
    return run_load(
        address, "unary", requests, rate, seconds, processes=1, channels=1, seed=seed, tag="one"
    )


def step(address: str, requests: list[bytes], rate: float, seconds: float, seed: int) -> dict:
    """One open-loop step over one channel: the load generator's summary."""
    return load(address, requests, rate, seconds, seed).summary()


def holds(summary: dict[str, Any], slo_ms: float) -> bool:
    return summary["p99_ms"] <= slo_ms and summary["errors"] == 0 and summary["shed"] == 0


def measure(
    services: dict[str, str], requests: list[bytes], args: argparse.Namespace
) -> dict[str, Any]:
    """After a warm-up off the clock, the light-load latency, then the capacity search of
    every service, interleaved."""
    for name, address in services.items():
        if args.warmup_seconds > 0:  # connections, caches and lazy set-up of a fresh server
            warm = step(address, requests, args.start, args.warmup_seconds, seed=99)
            log(f"{name} warm-up at {args.start:g}/s: p99 {warm['p99_ms']:.1f} ms (not counted)")
    parts: dict[str, list[LoadResult]] = {name: [] for name in services}
    for round_ in range(args.low_rounds):
        for name, address in services.items():
            parts[name].append(load(address, requests, args.low_rate, args.step_seconds, round_))
    low = {name: merge(results).summary() for name, results in parts.items()}
    for name, summary in low.items():
        log(
            f"{name} at {args.low_rate:g}/s: p50 {summary['p50_ms']:.2f} ms p99 {summary['p99_ms']:.2f} ms"
        )
    steps: dict[str, list[dict[str, Any]]] = {name: [] for name in services}
    rising = dict(services)
    rate, attempts = args.start, 0
    while rising and attempts < args.max_steps:
        attempts += 1
        for name, address in list(rising.items()):
            tries = 1 if args.no_retry else 2
            for _ in range(tries):
                summary = step(address, requests, rate, args.step_seconds, seed=attempts)
                summary["passed"] = holds(summary, args.slo_ms)
                steps[name].append(summary)
                log(
                    f"{name}: offered {rate:,.0f}/s achieved {summary['achieved_rate']:,.0f}/s "
                    f"p99 {summary['p99_ms']:.1f} ms errors {summary['errors']} "
                    f"shed {summary['shed']}"
                )
                if summary["passed"]:
                    break
            else:
                del rising[name]
        rate *= args.factor
    capacity = {
        name: max((s["offered_rate"] for s in done if s["passed"]), default=0.0)
        for name, done in steps.items()
    }
    low_ratio = low["target"]["p99_ms"] / low["noop"]["p99_ms"] if low["noop"]["p99_ms"] else 0.0
    capacity_ratio = capacity["target"] / capacity["noop"] if capacity["noop"] else 0.0
    return {
        "low_load": {
            "rate": args.low_rate,
            "seconds": args.step_seconds,
            "rounds": args.low_rounds,
            **low,
            "p99_ratio": low_ratio,
        },
        "steps": steps,
        "capacity": capacity,
        "capacity_ratio": capacity_ratio,
        "unfinished": sorted(rising),  # still within the SLO at the last rate tried
        "targets": {"capacity_ratio": CAPACITY_TARGET, "low_load_p99_ratio": LOW_LOAD_TARGET},
        "met": {
            "capacity_ratio": capacity_ratio >= CAPACITY_TARGET,
            "low_load_p99_ratio": 0.0 < low_ratio <= LOW_LOAD_TARGET,
        },
    }


def summary_text(result: dict[str, Any]) -> str:
    """The human summary of a run's results."""
    low, cap = result["low_load"], result["capacity"]
    met = {k: "met" if v else "not met" for k, v in result["met"].items()}
    lines = [
        f"one channel, Poisson, {result['config']['step_seconds']:g} s steps, "
        f"SLO p99 <= {result['config']['slo_ms']:g} ms, no errors",
        f"  capacity: target {cap['target']:,.0f} calls/s, no-op {cap['noop']:,.0f} calls/s: "
        f"ratio {result['capacity_ratio']:.2f} (target >= {CAPACITY_TARGET:g}: "
        f"{met['capacity_ratio']})",
        f"  p99 at {low['rate']:g} calls/s: target {low['target']['p99_ms']:.2f} ms, no-op "
        f"{low['noop']['p99_ms']:.2f} ms: ratio {low['p99_ratio']:.2f} "
        f"(target <= {LOW_LOAD_TARGET:g}: {met['low_load_p99_ratio']})",
    ]
    if result["unfinished"]:
        lines.append(
            "  still within the SLO at the last rate tried (raise --max-steps): "
            + ", ".join(result["unfinished"])
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.one_channel",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--target", required=True, help="HOST:PORT of the service measured")
    parser.add_argument(
        "--noop", help="HOST:PORT of a no-op ceiling (default: start one on this machine)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes of the no-op started here (default: one per core)",
    )
    parser.add_argument("--slo-ms", type=float, default=50.0, help="p99 objective (default 50)")
    parser.add_argument("--step-seconds", type=float, default=5.0, help="step length (default 5)")
    parser.add_argument("--start", type=float, default=100.0, help="first rate (default 100/s)")
    parser.add_argument("--factor", type=float, default=1.25, help="rate growth (default 1.25)")
    parser.add_argument("--max-steps", type=int, default=40, help="most rates tried (default 40)")
    parser.add_argument(
        "--low-rate", type=float, default=50.0, help="the light load's rate (default 50/s)"
    )
    parser.add_argument(
        "--warmup-seconds", type=float, default=3.0, help="warm-up per service (default 3 s)"
    )
    parser.add_argument(
        "--low-rounds", type=int, default=3, help="rounds at the light load (default 3)"
    )
    parser.add_argument(
        "--no-retry", action="store_true", help="stop at a service's first failed step"
    )
    parser.add_argument("--seed", type=int, default=7, help="demo day seed (default 7)")
    parser.add_argument("--orders-count", type=int, default=2000, help="requests drawn from")
    parser.add_argument("--network", type=Path, help="network file of --orders")
    parser.add_argument("--orders", type=Path, help="orders file (JSON lines) instead of the demo")
    parser.add_argument("--out", type=Path, help="also write the JSON results here")
    args = parser.parse_args(argv)
    if (args.network is None) != (args.orders is None):
        parser.error("--network and --orders go together")
    if args.factor <= 1 or min(args.start, args.low_rate, args.step_seconds, args.low_rounds) <= 0:
        parser.error(
            "--factor must exceed 1; --start, --low-rate, --step-seconds, --low-rounds be positive"
        )
    from benchmarks.engine_bench import machine

    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    requests = demo_requests(args.network, args.orders, args.seed, args.orders_count)
    result: dict[str, Any] = {
        "benchmark": "one_channel",
        "started": started,
        "command": "python -m benchmarks.one_channel " + " ".join(argv or sys.argv[1:]),
        "machine": machine(),
        "config": {
            k: str(v) if isinstance(v, Path) else v
            for k, v in vars(args).items()
            if k not in ("out",)
        },
        "noop_started_here": args.noop is None,
    }
    log(f"one-channel harness: {args.target} against the no-op ceiling")
    if args.noop is None:
        with local_noop(typical_response(args.target, requests), args.workers) as noop:
            result.update(measure({"noop": noop, "target": args.target}, requests, args))
    else:
        result.update(measure({"noop": args.noop, "target": args.target}, requests, args))
    text = json.dumps(result, indent=1, default=str)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    print(summary_text(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
