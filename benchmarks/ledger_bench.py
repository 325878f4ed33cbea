"""Ledger benchmark: reservations per second and latency, through the store alone (SQLite
``synchronous`` FULL and NORMAL, PostgreSQL; one or two processes) and through one server on
SQLite (plan + hold; one or two workers); then SQLite beside PostgreSQL with 1, 2 and 3
server replicas.

Run ``python -m benchmarks.ledger_bench [--seconds 6] [--rounds 3] [--postgres URI]``.
Orders come from the demo day; every measurement starts from a fresh ledger holding the demo
network.

A replica is a separate ``omniroute serve`` process with one worker, on its own port; the
client threads are spread over the replicas (thread t calls replica t mod n). The replicas
share one ledger: a SQLite file (which only works on one host) or a PostgreSQL database.
The replica rows run in rounds, every configuration once a round, and pool them.

Without ``--postgres``, the benchmark starts a throwaway PostgreSQL server on this machine
with the tests' start-up code (``tests/pg.py``), but durable (fsync and synchronous_commit
on), and removes it at the end; with ``--postgres URI`` it uses that server, creating an
empty database per measurement and dropping it afterwards (the user needs CREATEDB).
``--sqlite-only`` leaves PostgreSQL out. ``--quick`` (the smoke test) runs only the replica
rows, with 1 and 2 replicas, one round of a second each.

Results go to ``benchmarks/results/ledger.json`` and ``ledger.md`` (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from benchmarks.engine_bench import machine
from benchmarks.harness import omniroute_server, wait_planning
from omniroute.demo_data import demo_dataset
from omniroute.files import write_network
from omniroute.ledger import ReservationLine, Shortage, new_reservation_id, open_ledger, plan_lines
from omniroute.model import Network, Order
from omniroute.planner import Planner
from omniroute.server.client import OmnirouteClient
from omniroute.server.launch import ServerDidNotStart, serve_process

RESULTS = Path(__file__).parent / "results"
REPLICAS = (1, 2, 3)
QUICK_REPLICAS = (1, 2)
QUICK_SECONDS = 1.0
ROUNDS = 3  # of the replica rows: the machine is shared, so each row pools 3 rounds
QUICK_ORDERS = 2_000  # of the demo day (the full run makes 20,000)


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
    db: str,
    network: Network,
    lines: list[list[ReservationLine]],
    synchronous: str,
    processes: int,
    seconds: float,
) -> dict[str, Any]:
    """Pre-planned holds straight into the ledger at ``db`` (a new SQLite file or an empty
    PostgreSQL database), from ``processes`` processes, for ``seconds``."""
    ledger = open_ledger(db, synchronous=synchronous)
    ledger.put_network(network)
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
    ledger = open_ledger(db)
    try:
        check = ledger.check()
    finally:
        ledger.close()
    latencies = [x for r in results for x in r[0]]
    summary = summarise(latencies, max(r[2] for r in results), sum(r[1] for r in results))
    summary["ledger_check_problems"] = len(check)
    return summary


@dataclass
class Loop:
    """What a closed loop of client threads measured."""

    latencies: list[float]  # seconds, of the calls answered with a reservation
    reservation_ids: set[str]  # the reservations acknowledged to the clients
    errors: Counter[str]  # failed calls by status code name
    wall: float  # seconds from the first call to the last answer


def closed_loop(
    clients: Sequence[OmnirouteClient], orders: Sequence[Order], seconds: float, threads: int
) -> Loop:
    """``threads`` client threads, thread t on ``clients[t % len(clients)]``, each sending
    ``PlanOrder`` with reserve (a fresh request id per order) and its next call only when the
    last is answered, for ``seconds``."""
    end = time.perf_counter() + seconds
    counter = iter(range(10**9))

    def loop(t: int) -> tuple[list[float], set[str], Counter[str]]:
        mine: list[float] = []
        held: set[str] = set()
        errors: Counter[str] = Counter()
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
                    held.add(response.reservation_id)
            except grpc.RpcError as error:  # counted by status, reported
                errors[error.code().name] += 1
        return mine, held, errors

    result = Loop([], set(), Counter(), 0.0)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for mine, held, errors in pool.map(loop, range(threads)):
            result.latencies += mine
            result.reservation_ids |= held
            result.errors += errors
    result.wall = time.perf_counter() - started
    return result


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
            loop = closed_loop(clients, orders, seconds, threads)
            for client in clients:
                client.close()
        check = open_ledger(db).check()
    summary = summarise(loop.latencies, loop.wall, sum(loop.errors.values()))
    summary["ledger_check_problems"] = len(check)
    return summary


# ------------------------------------------------------------------------------- replicas


class PostgresDatabases:
    """Fresh databases on one PostgreSQL server (``uri`` names any database on it that the
    user may connect to): one per configuration, dropped after it."""

    def __init__(self, uri: str, started_here: bool) -> None:
        import psycopg

        from omniroute.ledger.postgres import redacted

        self.uri = uri
        self.started_here = started_here
        try:
            with psycopg.connect(uri, autocommit=True, connect_timeout=10) as connection:
                self.settings = {
                    name: str(connection.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
                    for name in SETTINGS_SHOWN
                }
        except psycopg.Error as error:
            raise SystemExit(
                f"error: cannot connect to PostgreSQL at {redacted(uri)}: {error}"
            ) from None

    @contextmanager
    def fresh(self) -> Iterator[str]:
        """A new empty database (its URI) until the block ends."""
        import psycopg

        from omniroute.ledger.postgres import redacted
        from tests.pg import drop_database, fresh_database

        try:
            uri = fresh_database(self.uri, migrated=False)
        except psycopg.Error as error:
            raise SystemExit(
                f"error: cannot create a database on {redacted(self.uri)} (the benchmark "
                f"makes one per measurement: the user needs CREATEDB): {error}"
            ) from None
        try:
            yield uri
        finally:
            drop_database(uri)


SETTINGS_SHOWN = ("server_version", "fsync", "synchronous_commit", "full_page_writes")
# The throwaway server as durable as SQLite with synchronous=FULL: every commit synced to disk
# before it is acknowledged (the tests' server runs with fsync off, for speed).
DURABLE = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"


@contextmanager
def postgres(uri: str | None) -> Iterator[PostgresDatabases]:
    """The PostgreSQL server at ``uri``, or, without one, a throwaway server started here on
    this machine with durable settings (and removed when the block ends)."""
    if uri:
        yield PostgresDatabases(uri, started_here=False)
        return
    from tests.pg import Server

    class DurableServer(Server):
        SETTINGS = f"-c shared_buffers=128MB {DURABLE}"

    server = DurableServer.start_new()
    try:
        yield PostgresDatabases(server.uri, started_here=True)
    finally:
        server.destroy()


def acknowledged_missing(ledger_target: str, acknowledged: set[str]) -> int:
    """How many acknowledged reservations the ledger does not hold (must be 0)."""
    ledger = open_ledger(ledger_target)
    try:
        with ledger.db.read() as tx:
            stored = {row[0] for row in tx.execute("SELECT id FROM reservations")}
    finally:
        ledger.close()
    return len(acknowledged - stored)


def through_replicas(
    target: str,
    backend: str,
    network: Network,
    orders: Sequence[Order],
    replicas: int,
    seconds: float,
    threads: int,
) -> Round:
    """PlanOrder with reserve through ``replicas`` separate ``serve`` processes (one worker
    each) on the ledger at ``target``, which starts empty."""
    ledger = open_ledger(target)
    ledger.put_network(network)
    ledger.close()
    extra = ["--synchronous", "FULL"] if backend == "SQLite" else []
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        ports = []
        for index in range(replicas):
            log = stack.enter_context((logs / f"replica-{index}.log").open("wb"))
            try:
                _, port = stack.enter_context(
                    serve_process(
                        "--db", target, "--workers", "1", "--log-level", "warning", *extra,
                        output=log, ready_timeout=90,
                    )
                )  # fmt: skip
            except ServerDidNotStart as error:
                output = Path(log.name).read_text(errors="replace")[-3000:]
                raise SystemExit(
                    f"error: replica {index} on {backend}: {error}:\n{output}"
                ) from None
            wait_planning(port, orders[0])
            ports.append(port)
        clients = [stack.enter_context(OmnirouteClient(f"localhost:{port}")) for port in ports]
        loop = closed_loop(clients, orders, seconds, threads)
    ledger = open_ledger(target)
    try:
        check = ledger.check()
    finally:
        ledger.close()
    return Round(loop, acknowledged_missing(target, loop.reservation_ids), len(check))


@dataclass
class Round:
    """One configuration's measurement in one round, and the ledger checked after it."""

    loop: Loop
    missing: int  # acknowledged reservations the ledger does not hold
    problems: int  # Ledger.check() problems


def replica_rows(
    network: Network,
    orders: Sequence[Order],
    databases: PostgresDatabases | None,
    replica_counts: Sequence[int],
    seconds: float,
    threads: int,
    rounds: int,
) -> list[dict[str, Any]]:
    """Every configuration (backend, replicas) once per round, the rounds one after the
    other (so that the machine's other load falls on all configurations alike); each row
    pools its rounds."""
    configs = [
        (backend, replicas)
        for backend in (("SQLite", "PostgreSQL") if databases else ("SQLite",))
        for replicas in replica_counts
    ]
    measured: dict[tuple[str, int], list[Round]] = {config: [] for config in configs}
    for number in range(1, rounds + 1):
        for backend, replicas in configs:
            print(f"round {number}/{rounds}: {backend}, {replicas} replica(s)", file=sys.stderr)
            with ExitStack() as stack:
                if backend == "SQLite":
                    tmp = stack.enter_context(tempfile.TemporaryDirectory())
                    target = str(Path(tmp) / "ledger.db")
                else:
                    assert databases is not None
                    target = stack.enter_context(databases.fresh())
                measured[(backend, replicas)].append(
                    through_replicas(target, backend, network, orders, replicas, seconds, threads)
                )
    rows = []
    for (backend, replicas), results in measured.items():
        latencies = [x for r in results for x in r.loop.latencies]
        errors: Counter[str] = sum((r.loop.errors for r in results), Counter())
        row = summarise(latencies, sum(r.loop.wall for r in results), sum(errors.values()))
        rows.append(
            {
                "path": "replicas",
                "backend": backend,
                "replicas": replicas,
                **row,
                "rounds_per_second": [len(r.loop.latencies) / r.loop.wall for r in results],
                "errors": dict(sorted(errors.items())),
                "acknowledged_missing": sum(r.missing for r in results),
                "ledger_check_problems": sum(r.problems for r in results),
            }
        )
    return rows


def single_host_rows(
    network: Network,
    orders: Sequence[Order],
    databases: PostgresDatabases | None,
    seconds: float,
    threads: int,
) -> list[dict[str, Any]]:
    """The store alone (SQLite FULL and NORMAL, then PostgreSQL, 1 and 2 processes) and one
    server on SQLite (FULL and NORMAL, 1 and 2 workers)."""
    rows = []
    lines = planned_lines(orders[:8000], Planner(network))
    stores = [("SQLite", "FULL"), ("SQLite", "NORMAL")] + (
        [("PostgreSQL", "—")] if databases else []
    )
    for backend, synchronous in stores:
        for processes in (1, 2):
            print(f"store alone, {backend} {synchronous}, {processes} process(es)", file=sys.stderr)
            with ExitStack() as stack:
                if backend == "SQLite":
                    db = str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "l.db")
                else:
                    assert databases is not None
                    db = stack.enter_context(databases.fresh())
                row = store_alone(db, network, lines, synchronous, processes, seconds)
            rows.append(
                {"path": "store", "backend": backend, "synchronous": synchronous,
                 "processes": processes, **row}
            )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        network_file = Path(tmp) / "network.json"
        write_network(network, network_file)
        for synchronous in ("FULL", "NORMAL"):
            for workers in (1, 2):
                print(f"server, SQLite {synchronous}, {workers} worker(s)", file=sys.stderr)
                row = through_server(network_file, orders, synchronous, workers, seconds, threads)
                rows.append(
                    {"path": "server (plan + hold)", "backend": "SQLite",
                     "synchronous": synchronous, "processes": workers, **row}
                )  # fmt: skip
    return rows


# --------------------------------------------------------------------------------- report


def _postgres_text(pg: dict[str, Any] | None) -> str:
    if pg is None:
        return "No PostgreSQL rows (`--sqlite-only`)."
    where = (
        "started by the benchmark on this machine, over TCP on 127.0.0.1"
        if pg["started_here"]
        else "given with `--postgres`"
    )
    settings = pg["settings"]
    return (
        f"PostgreSQL {settings['server_version']}: {where}, fsync {settings['fsync']}, "
        f"synchronous_commit {settings['synchronous_commit']}, full_page_writes "
        f"{settings['full_page_writes']} (each commit synced to disk before it is "
        "acknowledged, as SQLite's `synchronous=FULL` does)."
    )


def _rounds_text(rounds: int, seconds: float) -> str:
    if rounds == 1:
        return f"Each row is one measurement of {seconds:g} s."
    return (
        f"{rounds} rounds, each measuring every configuration for {seconds:g} s in turn, so "
        "that changes in the machine's other load fall on all of them alike; a row pools its "
        "rounds (reservations over their total time, percentiles over all their calls), and "
        "shows each round's reservations/s."
    )


def markdown(result: dict[str, Any]) -> str:
    """The readable summary of a run (``ledger.md``), made from its JSON alone."""
    config, host = result["config"], result["machine"]
    load = result["load_average"]
    lines = [
        "# Ledger benchmark",
        "",
        f"Run {result['started']} on {host['cpu']} ({host['cores']} cores), Python "
        f"{host['python']}. Command: `{result['command']}`, {config['seconds']:g} s per "
        "measurement. "
        f"Clients run on the same machine ({config['threads']} closed-loop threads through "
        "the server: each sends its next call when the last is answered). "
        f"{_postgres_text(result['postgres'])} The machine is shared with other jobs (1-minute "
        f"load average {load['start']:.2f} at the start, {load['end']:.2f} at the end, this "
        "run's own processes included), so compare rows of this run with each other (ratios), "
        "not with other runs.",
    ]
    store = [r for r in result["rows"] if r["path"] != "replicas"]
    if store:
        lines += [
            "",
            "## The store alone, and one server",
            "",
            "Store rows hold pre-planned lines straight into a fresh ledger from 1 or 2 "
            "processes (stock runs out for some: shortages, rolled back); `synchronous` is "
            "SQLite's. Server rows plan and hold each order through gRPC PlanOrder with "
            "reserve: one `serve` with 1 or 2 worker processes on a SQLite file.",
            "",
            "| backend | path | synchronous | processes | reservations/s | p50 ms | p99 ms | "
            "max ms | shortages or errors | ledger problems |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in store:
            lines.append(
                f"| {r.get('backend', 'SQLite')} | {r['path']} | {r['synchronous']} | "
                f"{r['processes']} | {r['per_second']:,.0f} | {r['p50_ms']:.2f} | "
                f"{r['p99_ms']:.2f} | {r['max_ms']:.1f} | {r['failures']} | "
                f"{r['ledger_check_problems']} |"
            )
    replicas = [r for r in result["rows"] if r["path"] == "replicas"]
    if replicas:
        counts = sorted({r["replicas"] for r in replicas})
        base = next((r for r in replicas if r["backend"] == "SQLite" and r["replicas"] == 1), None)
        lines += [
            "",
            f"## {' beside '.join(dict.fromkeys(r['backend'] for r in replicas))}, "
            f"{counts[0]}{f' to {counts[-1]}' if len(counts) > 1 else ''} replicas",
            "",
            "PlanOrder with reserve through N separate `omniroute serve` processes (replicas, "
            "one worker each, each on its own port), the client threads spread evenly over "
            "them; each measurement starts from a fresh ledger holding the demo network. "
            f"{_rounds_text(config.get('rounds', 1), config['seconds'])} SQLite: one "
            "file shared by the replicas (so one host), `synchronous=FULL`. Replicas, "
            f"PostgreSQL and the clients all share the machine's {host['cores']} cores, so "
            "more replicas cannot add throughput here: the rows show what sharing one ledger "
            'costs, not what more hosts would give. "missing" counts acknowledged reservations '
            "that the ledger does not hold afterwards.",
            "",
            "| backend | replicas | reservations/s | each round | vs SQLite, 1 replica | "
            "p50 ms | p99 ms | max ms | failed calls | missing | ledger problems |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in replicas:
            ratio = f"{r['per_second'] / base['per_second']:.2f}×" if base else "—"
            errors = ", ".join(f"{n} {code}" for code, n in r["errors"].items())
            lines.append(
                f"| {r['backend']} | {r['replicas']} | {r['per_second']:,.0f} | "
                f"{', '.join(f'{x:,.0f}' for x in r['rounds_per_second'])} | {ratio} | "
                f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.1f} | "
                f"{r['failures']}{f' ({errors})' if errors else ''} | "
                f"{r['acknowledged_missing']} | {r['ledger_check_problems']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ledger_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="per configuration (default 6)")
    parser.add_argument("--threads", type=int, default=8, help="client threads through the server")
    parser.add_argument(
        "--postgres",
        metavar="URI",
        help="a PostgreSQL server to use (libpq URI; the user needs CREATEDB); default: start "
        "a throwaway one",
    )
    parser.add_argument(
        "--sqlite-only",
        action="store_true",
        help="replica rows on SQLite alone (no PostgreSQL)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: only the replica rows, with {' and '.join(map(str, QUICK_REPLICAS))} "
        f"replicas, {QUICK_SECONDS:g} s each (unless --seconds is given), {QUICK_ORDERS:,} "
        "orders",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help=f"rounds of the replica rows, each configuration once a round (default {ROUNDS}; "
        "1 with --quick)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.threads < 1 or (args.rounds is not None and args.rounds < 1):
        parser.error("--seconds must be above 0, --threads and --rounds at least 1")
    if args.rounds is None:
        args.rounds = 1 if args.quick else ROUNDS
    if args.sqlite_only and args.postgres:
        parser.error("--sqlite-only and --postgres exclude each other")
    given = argv if argv is not None else sys.argv[1:]
    if args.quick and not any(a.startswith("--seconds") for a in given):
        args.seconds = QUICK_SECONDS
    command = "python -m benchmarks.ledger_bench " + " ".join(
        a for a in given if not a.startswith("--out") and a != str(args.out)
    )
    load_start = os.getloadavg()[0]
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    network, orders = demo_dataset(seed=7, orders=QUICK_ORDERS if args.quick else 20_000)
    rows: list[dict[str, Any]] = []
    pg_info: dict[str, Any] | None = None
    with ExitStack() as stack:
        databases = None if args.sqlite_only else stack.enter_context(postgres(args.postgres))
        if databases:
            pg_info = {"started_here": databases.started_here, "settings": databases.settings}
        if not args.quick:
            rows += single_host_rows(network, orders, databases, args.seconds, args.threads)
        counts = QUICK_REPLICAS if args.quick else REPLICAS
        rows += replica_rows(
            network, orders, databases, counts, args.seconds, args.threads, args.rounds
        )
    result: dict[str, Any] = {
        "benchmark": "ledger",
        "started": started,
        "command": command.strip(),
        "machine": {**machine(), "note": "clients, servers and PostgreSQL on this one machine"},
        "load_average": {"start": load_start, "end": os.getloadavg()[0]},
        "config": {
            "seconds": args.seconds,
            "threads": args.threads,
            "rounds": args.rounds,
            "quick": args.quick,
        },
        "postgres": pg_info,
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ledger.json").write_text(json.dumps(result, indent=1) + "\n")
    text = markdown(result)
    (args.out / "ledger.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
