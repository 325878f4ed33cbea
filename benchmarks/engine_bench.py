"""Engine benchmark: the optimiser against the baseline and a naive exact peer, on one core.

Run ``make bench-engine`` (or ``python -m benchmarks.engine_bench --help``). It plans the
demo day with

* ``omniroute``: the optimiser (CHEAPEST), fast paths then CP-SAT;
* ``baseline``: the rule-based router (nearest full node, else greedy by distance);
* ``naive-cp-sat``: one CP-SAT model per order (the same model, one worker, no fast paths,
  no pruning, no warm start) on a sample of the day,

and, in the scale suite, the optimiser on a national network
(:func:`omniroute.demo_data.national_dataset`: stores around US metros, best sellers in
nearly every store, Zipf demand, orders of 1-9 lines) at several numbers of stores. Each
size runs in fresh processes: one generates the network and its orders and writes them to
files; another, whose peak memory is reported, times a plain ``json.load`` of the network
file, then loading as a user does (``read_network``, ``read_orders``, ``Planner``), then
(after ``gc.freeze()``, as the server does) plans, quotes and asks availability for every
order. Set-up (data generation, indexing) is off the clock for the demo day; each order is
timed from its validated model to its reported plan. Per peer the mean, p50, p99 and max time
per order are reported, per method that made the plans its orders, mean, p99 and share of the
time, and omniroute's mean and p99 beside the targets (``TARGETS_MS``; recorded, not asserted). Results go to
``benchmarks/results/engine.json`` (machine-readable) and ``engine.md`` (summary), with a
description of the machine, and a summary is printed; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.joint_bench import scarce_batch
from omniroute import cpsat
from omniroute.candidates import build_problem
from omniroute.demo_data import demo_dataset, national_dataset, with_australian_calendars
from omniroute.evaluation import default_regions, perfect_forecast
from omniroute.files import read_network, read_orders, write_network, write_orders
from omniroute.geo import distances_km
from omniroute.lookahead import BASKET_THETA, opportunity_costs
from omniroute.model import Network, NodeKind, Order, Plan, PlanResult, PlanStatus, Policy
from omniroute.planner import Planner
from omniroute.plans import build_plan
from omniroute.server.progress import progress

RESULTS = Path(__file__).parent / "results"
# the demo day's targets for omniroute's time per order (issue 17), recorded beside the
# measurements, not asserted
TARGETS_MS = {"mean": 0.1, "p99": 2.0}


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


def by_method(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float]]:
    """Per method that made the plans (most orders first): orders, mean and p99 time per
    order (ms), and the method's share of all the peer's time."""
    busy = sum(o.seconds for o in outcomes) or 1.0
    groups: dict[str, list[float]] = {}
    for o in outcomes:
        groups.setdefault(o.method, []).append(o.seconds)
    out = {}
    for method, seconds in sorted(groups.items(), key=lambda item: -len(item[1])):
        ms = np.array(seconds) * 1000
        out[method] = {
            "orders": len(seconds),
            "mean_ms": float(ms.mean()),
            "p99_ms": float(np.percentile(ms, 99)),
            "time_share": float(sum(seconds) / busy),
        }
    return out


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
        "by_method": by_method(outcomes),
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
    result["dated"] = dated_benchmark(network, orders)
    result["lookahead"] = lookahead_benchmark(network, orders)
    measured = result["peers"]["omniroute"]["latency_ms"]
    result["targets_ms"] = dict(TARGETS_MS)
    result["targets_met"] = {k: measured[k] <= v for k, v in TARGETS_MS.items()}
    return result


DATED_TARGET = 1.3  # dated orders' mean time per order over undated ones, at most


def dated_benchmark(network: Network, orders: Sequence[Order]) -> dict[str, Any]:
    """The demo day on the demo network with real dates (time zones, holidays, cut-offs,
    weekday carriers: ``with_australian_calendars``), each order planned undated (without
    its ``createTime``) and dated, one right after the other so that both see the same
    machine; CHEAPEST.

    The cyclic garbage collector is off while the orders are timed (as in ``timeit``): once
    the heap holds the day's plans, each of its few full collections takes a tenth of a
    second or more and lands in whichever order happens to cross its threshold; a handful
    of them move one side's mean by up to a third and decide the ratio either way."""
    planner = Planner(with_australian_calendars(network), validate=False)
    undated_orders = [replace(order, create_time="") for order in orders]
    undated, dated = back_to_back(
        [partial(planner.plan, order, validate=False) for order in undated_orders],
        [partial(planner.plan, order, validate=False) for order in orders],
        [order.id for order in orders],
        "dated vs undated",
    )
    common = complete_ids(undated, dated)
    summaries = {"undated": summary(undated, common), "dated": summary(dated, common)}
    ratio = summaries["dated"]["latency_ms"]["mean"] / summaries["undated"]["latency_ms"]["mean"]
    return {
        "network": "demo network with_australian_calendars",
        "orders": len(orders),
        "peers": summaries,
        "mean_ratio": ratio,
        "target_ratio": DATED_TARGET,
        "target_met": ratio <= DATED_TARGET,
    }


def back_to_back(
    first: Sequence[Callable[[], PlanResult]],
    second: Sequence[Callable[[], PlanResult]],
    ids: Sequence[str],
    label: str,
) -> tuple[list[Outcome], list[Outcome]]:
    """Each order's two plannings timed one right after the other, so that both see the
    same machine, with the cyclic garbage collector off (see :func:`dated_benchmark`)."""
    outcomes: tuple[list[Outcome], list[Outcome]] = ([], [])
    gc.collect()
    gc.disable()
    try:
        for i in progress(range(len(ids)), len(ids), label):
            for target, call in zip(outcomes, (first[i], second[i]), strict=True):
                start = time.perf_counter()
                result = call()
                elapsed = time.perf_counter() - start
                proven = result.stats.proof.value == "OPTIMAL"
                target.append(Outcome(ids[i], result.plan, elapsed, proven, result.stats.method))
    finally:
        gc.enable()
    return outcomes


LOOKAHEAD_TARGET = 1.2  # look-ahead's mean time per order over myopic, at most


BASKET_BATCHES = (1, 2, 3, 4, 5)  # seeds of the scarce batches priced from baskets
BASKET_BATCH_ORDERS = 200  # orders per batch, as in benchmarks.lookahead_bench
BASKET_BATCH_RATIO = 1.0  # stock/demand of those batches


def lookahead_benchmark(network: Network, orders: Sequence[Order]) -> dict[str, Any]:
    """Planning with look-ahead prices (θ·λ) against myopic planning (CHEAPEST), each order
    one right after the other on the same stock, for both ways of computing λ
    (:func:`omniroute.lookahead.opportunity_costs`, with its default θ):

    * ``units`` (the top level of the result): the demo day, λ from the rates per SKU of
      the day's own demand (the perfect forecast of ``omniroute lookahead evaluate``, whose
      20,000 baskets are too many for the basket LP) on the network's stock, so that the
      best sellers' stock is priced;
    * ``baskets``: scarce demo batches (``BASKET_BATCH_ORDERS`` orders, stock/demand
      ``BASKET_BATCH_RATIO``, seeds ``BASKET_BATCHES``, as in the look-ahead benchmark),
      λ from each batch's own orders as baskets on its stock.

    Computing λ (off the clock of the orders) is reported apart."""
    planner = Planner(network, validate=False)
    index = planner.index
    start = time.perf_counter()
    forecast = perfect_forecast(index, default_regions(index, orders), orders, 1.0)
    costs = opportunity_costs(index, planner.inventory, replace(forecast, baskets=()))
    lambda_s = time.perf_counter() - start
    prices = costs.theta * costs.matrix(index)
    day = priced_against_myopic(
        [(planner, order, prices) for order in orders], "myopic vs look-ahead (units)"
    )
    day.update(
        theta=costs.theta,
        forecast="perfect (the day's orders), horizon 1 day, rates per SKU",
        priced_positions=int((prices > 0).sum()),
        stock_positions=int(prices.size),
        lambda_seconds=lambda_s,
    )
    calls: list[tuple[Planner, Order, np.ndarray]] = []
    priced_positions = stock_positions = 0
    start = time.perf_counter()
    for seed in BASKET_BATCHES:
        batch_network, batch = scarce_batch(seed, BASKET_BATCH_ORDERS, BASKET_BATCH_RATIO)
        batch_planner = Planner(batch_network, validate=False)
        batch_index = batch_planner.index
        batch_forecast = perfect_forecast(
            batch_index, default_regions(batch_index, batch), batch, 1.0
        )
        batch_costs = opportunity_costs(batch_index, batch_planner.inventory, batch_forecast)
        assert batch_costs.model == "baskets", batch_costs.model
        batch_prices = batch_costs.theta * batch_costs.matrix(batch_index)
        priced_positions += int((batch_prices > 0).sum())
        stock_positions += int(batch_prices.size)
        calls += [(batch_planner, order, batch_prices) for order in batch]
    baskets_s = time.perf_counter() - start
    baskets = priced_against_myopic(calls, "myopic vs look-ahead (baskets)")
    baskets.update(
        theta=BASKET_THETA,
        forecast=f"perfect (each batch's own orders as baskets), {len(BASKET_BATCHES)} "
        f"batches of {BASKET_BATCH_ORDERS} orders at stock/demand {BASKET_BATCH_RATIO:g}",
        priced_positions=priced_positions,
        stock_positions=stock_positions,
        lambda_seconds=baskets_s,
    )
    return day | {"baskets": baskets}


def priced_against_myopic(
    calls: Sequence[tuple[Planner, Order, np.ndarray]], label: str
) -> dict[str, Any]:
    """Each (planner, order, prices) planned myopic and with the prices, back to back: the
    time per order of both and their ratios."""
    myopic, priced = back_to_back(
        [partial(planner.plan, order, validate=False) for planner, order, _ in calls],
        [partial(planner.plan, order, validate=False, prices=p) for planner, order, p in calls],
        [order.id for _, order, _ in calls],
        label,
    )
    common = complete_ids(myopic, priced)
    summaries = {"myopic": summary(myopic, common), "look-ahead": summary(priced, common)}
    mean = {k: s["latency_ms"]["mean"] for k, s in summaries.items()}
    p50 = {k: s["latency_ms"]["p50"] for k, s in summaries.items()}
    p99 = {k: s["latency_ms"]["p99"] for k, s in summaries.items()}
    ratio = mean["look-ahead"] / mean["myopic"]

    def route(outcome: Outcome) -> list[tuple[str, str]]:
        return [(s.node_id, s.service_id) for s in outcome.plan.shipments]

    changed = sum(route(a) != route(b) for a, b in zip(myopic, priced, strict=True))
    return {
        "orders": len(calls),
        "plans_changed": changed,
        "opportunity_cost": float(sum(o.plan.opportunity_cost for o in priced)),
        "peers": summaries,
        "mean_ratio": ratio,
        "p50_ratio": p50["look-ahead"] / p50["myopic"],
        "p99_ratio": p99["look-ahead"] / p99["myopic"],
        "target_ratio": LOOKAHEAD_TARGET,
        "target_met": ratio <= LOOKAHEAD_TARGET,
    }


# ----------------------------------------------------------------------------- scale suite


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentiles(values: Sequence[float], *qs: int) -> dict[str, float]:
    data = np.asarray(values, dtype=np.float64)
    out = {f"p{q}": float(np.percentile(data, q)) for q in qs}
    out["max"] = float(data.max())
    out["mean"] = float(data.mean())
    return out


def scale_generate(stores: int, orders: int, skus: int, seed: int, folder: Path) -> dict[str, Any]:
    """Write the national network and its orders to ``folder`` (run in its own process, so
    that generation does not count towards the measuring child's peak memory)."""
    start = time.perf_counter()
    network, order_list = national_dataset(stores=stores, skus=skus, orders=orders, seed=seed)
    write_network(network, folder / "network.json")
    write_orders(order_list, folder / "orders.jsonl")
    return {"generate_s": time.perf_counter() - start}


def nearest_pickup_stores(network: Network, orders: Sequence[Order]) -> list[str]:
    """The store each order's availability is asked for: its pick-up store when it has one,
    else the pick-up store nearest its destination."""
    stores = [n for n in network.nodes if n.kind is NodeKind.STORE and n.pickup]
    lat = np.array([n.location.latitude for n in stores])
    lon = np.array([n.location.longitude for n in stores])
    chosen = []
    for order in orders:
        if order.pickup_store_id or order.destination is None:
            chosen.append(order.pickup_store_id or stores[0].id)
        else:
            d = distances_km(lat, lon, order.destination.latitude, order.destination.longitude)
            chosen.append(stores[int(np.argmin(d))].id)
    return chosen


def timed(calls: Sequence[Callable[[], Any]], label: str) -> tuple[list[float], list[Any]]:
    """Run each call once (after the first ten as a warm-up), timing it in ms."""
    for call in calls[:10]:
        call()
    ms, results = [], []
    for call in progress(calls, len(calls), label):
        start = time.perf_counter()
        results.append(call())
        ms.append((time.perf_counter() - start) * 1000)
    return ms, results


def scale_child(folder: Path, label: str) -> dict[str, Any]:
    """Measure one size in this process: load as a user does, then plan, quote and ask
    availability for every order. Peak memory is this process's."""
    network_path, orders_path = folder / "network.json", folder / "orders.jsonl"
    gc.collect()
    start = time.perf_counter()
    with open(network_path, encoding="utf-8") as handle:
        data = json.load(handle)
    json_load_s = time.perf_counter() - start
    del data
    gc.collect()

    start = time.perf_counter()
    network = read_network(network_path)
    orders = read_orders(orders_path, network)
    planner = Planner(network, validate=False)
    load_s = time.perf_counter() - start
    rss_loaded_mb = current_rss_mb()

    gc.collect()
    gc.freeze()  # as the server does with its long-lived network data
    plan_ms, results = timed(
        [partial(planner.plan, order, validate=False) for order in orders], f"{label}: plan"
    )
    quote_ms, _ = timed(
        [
            partial(planner.quote, order.lines, order.destination, validate=False)
            for order in orders
        ],
        f"{label}: quote",
    )
    stores = nearest_pickup_stores(network, orders)
    availability_ms, _ = timed(
        [
            partial(
                planner.availability,
                [line.sku_id for line in order.lines],
                store_id=store,
                location=order.destination,
                validate=False,
            )
            for order, store in zip(orders, stores, strict=True)
        ],
        f"{label}: availability",
    )
    candidates = [r.stats.candidate_nodes for r in results]
    return {
        "nodes": len(network.nodes),
        "stores": sum(n.kind is NodeKind.STORE for n in network.nodes),
        "skus": len(network.skus),
        "stock_positions": len(network.stock),
        "orders": len(orders),
        "lines_per_order": statistics.fmean(len(o.lines) for o in orders),
        "network_file_mb": network_path.stat().st_size / 2**20,
        "json_load_s": json_load_s,
        "load_s": load_s,
        "load_vs_json": load_s / json_load_s,
        "rss_after_load_mb": rss_loaded_mb,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "latency_ms": percentiles(plan_ms, 50, 90, 99),
        "proven_share": sum(r.stats.proof.value == "OPTIMAL" for r in results) / len(results),
        "methods": dict(Counter(r.stats.method for r in results).most_common()),
        "candidate_nodes": {
            "p50": float(np.percentile(candidates, 50)),
            "max": int(max(candidates)),
        },
        "quote_ms": percentiles(quote_ms, 50, 99),
        "availability_ms": percentiles(availability_ms, 50, 99),
    }


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_child(*arguments: str) -> dict[str, Any]:
    """``python -m benchmarks.engine_bench ARGUMENTS`` in a fresh process; its last line of
    standard output is a JSON object (progress goes to the shared standard error)."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.engine_bench", *arguments],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def scale_benchmark(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Per size: generate and write the national network in one child process, then load,
    plan, quote and ask availability in another (so peak memory is per size)."""
    rows = []
    for stores in args.scale_nodes:
        label = f"{stores:,} stores"
        with tempfile.TemporaryDirectory(prefix="omniroute-scale-") as tmp:
            log(f"scale: {label}: generating {args.scale_orders} orders")
            start = time.perf_counter()
            common = ["--scale-dir", tmp, "--seed", str(args.seed)]
            generated = run_child(
                "--scale-generate",
                str(stores),
                "--scale-orders",
                str(args.scale_orders),
                "--scale-skus",
                str(args.scale_skus),
                *common,
            )
            log(f"scale: {label}: generated in {generated['generate_s']:.1f} s; measuring")
            measure_start = time.perf_counter()
            row = run_child("--scale-child", str(stores), *common)
            row["measure_wall_s"] = time.perf_counter() - measure_start
            row["generate_s"] = generated["generate_s"]
            row["wall_s"] = time.perf_counter() - start
        rows.append({"stores_requested": stores, **row})
        log(
            f"scale: {label}: {row['nodes']:,} nodes, {row['stock_positions']:,} positions; "
            f"load {row['load_s']:.2f} s, peak {row['peak_rss_mb']:,.0f} MB, "
            f"plan p99 {row['latency_ms']['p99']:.2f} ms; {row['wall_s']:.0f} s in all"
        )
    return rows


def scale_ratios(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The largest size against the smallest."""
    if len(rows) < 2:
        return None
    base = min(rows, key=lambda r: r["nodes"])
    top = max(rows, key=lambda r: r["nodes"])
    if base is top:
        return None
    return {
        "base": base["nodes"],
        "nodes": top["nodes"],
        "p50": top["latency_ms"]["p50"] / base["latency_ms"]["p50"],
        "p99": top["latency_ms"]["p99"] / base["latency_ms"]["p99"],
        "load": top["load_s"] / base["load_s"],
        "peak_rss": top["peak_rss_mb"] / base["peak_rss_mb"],
    }


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
    lines = [
        "# Engine benchmark",
        "",
        f"Run {result['started']} on {result['machine']['cpu']} ({result['machine']['cores']} cores; "
        f"{result['machine']['note']}), Python {result['machine']['python']}, "
        f"OR-Tools {result['machine']['ortools']}. Command: `{result['command']}`.",
    ]
    if "demo" in result:
        lines += demo_markdown(result)
    if "scale" in result:
        lines += scale_markdown(result)
    return "\n".join(lines) + "\n"


def demo_markdown(result: dict[str, Any]) -> list[str]:
    demo = result["demo"]
    peers = demo["peers"]
    lines = [
        "",
        f"## Demo day ({demo['orders']:,} orders, seed {result['config']['seed']})",
        "",
        "| peer | orders | mean ms | p50 ms | p99 ms | max ms | orders/s | cost/order | proven | split rate | mean days |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, p in peers.items():
        lat = p["latency_ms"]
        lines.append(
            f"| {name} | {p['orders']:,} | {lat['mean']:.3f} | {lat['p50']:.3f} | "
            f"{lat['p99']:.2f} | {lat['max']:.1f} | "
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
    ]
    lines += targets_markdown(demo)
    lines += dated_markdown(demo)
    lines += lookahead_markdown(demo)
    return lines


def lookahead_markdown(demo: dict[str, Any]) -> list[str]:
    ahead = demo.get("lookahead")
    if not ahead:
        return []
    lines = ["", "### Look-ahead prices beside myopic routing"]
    runs = [("λ from rates per SKU: the demo day", ahead)]
    if "baskets" in ahead:
        runs.append(("λ from baskets: scarce demo batches", ahead["baskets"]))
    for title, run in runs:
        met = "met" if run["target_met"] else "not met"
        lines += [
            "",
            f"**{title}.** Planned myopic (CHEAPEST) and with θ·λ per unit (θ = "
            f"{run['theta']:g}; λ from the {run['forecast']}: {run['priced_positions']:,} of "
            f"{run['stock_positions']:,} stock positions priced, computed in "
            f"{run['lambda_seconds']:.1f} s), one after the other.",
            "",
            *paired_table(run["peers"], "split rate", lambda p: f"{100 * p['split_rate']:.1f}%"),
            "",
            f"Look-ahead over myopic, time per order: mean {run['mean_ratio']:.2f}x "
            f"(target <= {run['target_ratio']:g}x: {met}), p50 {run['p50_ratio']:.2f}x, "
            f"p99 {run['p99_ratio']:.2f}x. The prices changed the route of "
            f"{run['plans_changed']:,} of {run['orders']:,} orders "
            f"(opportunity cost of the look-ahead plans: {run['opportunity_cost']:,.2f}).",
        ]
    return lines


def paired_table(
    peers: dict[str, dict[str, Any]], last: str, cell: Callable[[dict[str, Any]], str]
) -> list[str]:
    """The time per order of two plannings of the same orders (:func:`back_to_back`), with
    the share proven and one more column (``last``, each peer's ``cell``)."""
    lines = [
        f"| orders | mean ms | p50 ms | p99 ms | max ms | proven | {last} |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, p in peers.items():
        lat = p["latency_ms"]
        lines.append(
            f"| {name} | {lat['mean']:.3f} | {lat['p50']:.3f} | {lat['p99']:.2f} | "
            f"{lat['max']:.1f} | {100 * p['proven_share']:.1f}% | {cell(p)} |"
        )
    return lines


def dated_markdown(demo: dict[str, Any]) -> list[str]:
    dated = demo.get("dated")
    if not dated:
        return []
    lines = [
        "",
        "### Dated orders beside undated ones",
        "",
        f"The demo day on the demo network with real dates ({dated['network']}: time zones, "
        "national holidays, cut-offs, weekday carriers), each order planned without and with "
        "its createTime, one after the other (CHEAPEST).",
        "",
        *paired_table(dated["peers"], "mean days", lambda p: f"{p['mean_delivery_days']:.2f}"),
    ]
    met = "met" if dated["target_met"] else "not met"
    lines += [
        "",
        f"Dated over undated, mean time per order: {dated['mean_ratio']:.2f}x "
        f"(target <= {dated['target_ratio']:g}x: {met}).",
    ]
    return lines


def targets_markdown(demo: dict[str, Any]) -> list[str]:
    """omniroute's time per order against the targets, and per method (runs since they were
    recorded)."""
    ours = demo["peers"]["omniroute"]
    if "by_method" not in ours:
        return []
    lat, targets = ours["latency_ms"], demo.get("targets_ms", TARGETS_MS)
    lines = [
        "",
        "### omniroute's time per order against the targets",
        "",
        "| | measured | target |",
        "|---|---:|---|",
    ]
    for key in ("mean", "p99"):
        met = "met" if lat[key] <= targets[key] else "not met"
        lines.append(f"| {key} | {lat[key]:.3f} ms | <= {targets[key]:g} ms: {met} |")
    lines += [
        f"| p50 | {lat['p50']:.3f} ms | |",
        f"| max | {lat['max']:.1f} ms | |",
        f"| proven optimal | {100 * ours['proven_share']:.1f}% | 100% |",
        "",
        "Per method (the method that made the plan):",
        "",
        "| method | orders | mean ms | p99 ms | share of the time |",
        "|---|---:|---:|---:|---:|",
    ]
    for method, m in ours["by_method"].items():
        lines.append(
            f"| {method} | {m['orders']:,} | {m['mean_ms']:.3f} | {m['p99_ms']:.2f} | "
            f"{100 * m['time_share']:.1f}% |"
        )
    return lines


def scale_markdown(result: dict[str, Any]) -> list[str]:
    rows = result["scale"]
    config = result["config"]
    lines = [
        "",
        f"## Scaling with the number of stores (national network, {config['scale_skus']:,} SKUs, "
        f"{config['scale_orders']:,} orders per size, seed {config['seed']})",
        "",
        "Each size in a fresh process. load: `read_network` + `read_orders` + `Planner` "
        "(validate=False), against a plain `json.load` of the network file; peak: the "
        "process's peak resident memory (ru_maxrss); then, after `gc.freeze()`, every order "
        "planned (CHEAPEST), quoted and asked availability (its pick-up store, else the "
        "pick-up store nearest its destination), after a warm-up of 10. Times in ms unless "
        "marked.",
        "",
        "| nodes | stock positions | load s | json.load s | load/json | peak MB | plan p50 | "
        "plan p99 | plan max | proven | quote p50 | quote p99 | avail. p50 | avail. p99 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lat, quote, avail = row["latency_ms"], row["quote_ms"], row["availability_ms"]
        lines.append(
            f"| {row['nodes']:,} | {row['stock_positions']:,} | {row['load_s']:.2f} | "
            f"{row['json_load_s']:.2f} | {row['load_vs_json']:.1f}x | {row['peak_rss_mb']:,.0f} | "
            f"{lat['p50']:.3f} | {lat['p99']:.2f} | {lat['max']:.1f} | "
            f"{100 * row['proven_share']:.1f}% | {quote['p50']:.3f} | {quote['p99']:.2f} | "
            f"{avail['p50']:.3f} | {avail['p99']:.2f} |"
        )
    lines.append("")
    for row in rows:
        lines.append(
            f"- {row['stores']:,} stores ({row['nodes']:,} nodes, network file "
            f"{row['network_file_mb']:,.0f} MB, {row['lines_per_order']:.1f} lines per order): "
            f"candidate nodes p50 {row['candidate_nodes']['p50']:.0f}, max "
            f"{row['candidate_nodes']['max']:,}; methods {row['methods']}; "
            f"{row['wall_s']:.0f} s in all ({row['generate_s']:.0f} s generating)."
        )
    if result.get("scale_ratios"):
        r = result["scale_ratios"]
        lines += [
            "",
            f"At {r['nodes']:,} nodes against {r['base']:,}: plan p50 {r['p50']:.2f}x, "
            f"p99 {r['p99']:.2f}x; load {r['load']:.2f}x; peak memory {r['peak_rss']:.2f}x.",
        ]
    return lines


def sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


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
        type=sizes,
        nargs="+",
        default=[[1000, 5000, 10_000]],
        metavar="STORES",
        help="numbers of stores of the national network, e.g. 1000 5000 or 1000,5000 "
        "(default 1000 5000 10000)",
    )
    parser.add_argument(
        "--scale-orders", type=int, default=300, help="orders per size (default 300)"
    )
    parser.add_argument(
        "--scale-skus", type=int, default=30_000, help="SKUs of the national network (30,000)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke test")
    parser.add_argument(
        "--skip-demo",
        action="store_true",
        help="the scale suite only (results named engine-scale.*, engine-quick-scale.*)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    # one size of the scale suite in a child process (prints one JSON object)
    parser.add_argument("--scale-generate", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scale-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.scale_nodes = [n for group in args.scale_nodes for n in group]
    if args.scale_generate is not None:
        generated = scale_generate(
            args.scale_generate, args.scale_orders, args.scale_skus, args.seed, args.scale_dir
        )
        print(json.dumps(generated))
        return 0
    if args.scale_child is not None:
        print(json.dumps(scale_child(args.scale_dir, f"{args.scale_child:,} stores")))
        return 0
    if args.quick:
        args.orders, args.naive_orders, args.scale_orders = 2000, 200, 100
        args.scale_nodes = [300, 1000]
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    child_only = {"out", "scale_generate", "scale_child", "scale_dir"}
    result: dict[str, Any] = {
        "benchmark": "engine",
        "started": started,
        "command": " ".join(["python -m benchmarks.engine_bench", *(argv or sys.argv[1:])]),
        "config": {k: v for k, v in vars(args).items() if k not in child_only},
        "machine": machine(),
    }
    if not args.skip_demo:
        result["demo"] = demo_benchmark(args)
    result["scale"] = scale_benchmark(args)
    ratios = scale_ratios(result["scale"])
    if ratios:
        result["scale_ratios"] = ratios
    args.out.mkdir(parents=True, exist_ok=True)
    name = "engine-quick" if args.quick else "engine"
    if args.skip_demo:
        name += "-scale"  # never replace the full results with a partial run
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    text = markdown(result)
    (args.out / f"{name}.md").write_text(text)
    print(text)
    print(f"wrote {args.out / (name + '.json')} and {args.out / (name + '.md')}")
    return 0


Runner = Callable[..., list[Outcome]]

if __name__ == "__main__":
    sys.exit(main())
