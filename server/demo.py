"""``omniroute demo``: the main job on the embedded default.

Writes the demo retailer's network and a day of orders, starts the real gRPC service on an
embedded SQLite store (one worker process per core), routes a sample of the day through real
``PlanOrder`` calls from a pool of client threads, prints a table and a summary (orders/s,
latency, cost against the baseline, why orders are incomplete, what the saving costs in
delivery days), and shuts the service down with SIGTERM. ``--offline`` (:func:`offline`)
plans the whole day in this process instead.

Progress (data generation, server start, routing) is drawn on stderr when it is a terminal
or ``OMNIROUTE_PROGRESS=1`` forces it (:mod:`omniroute.server.progress`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from omniroute.demo_data import demo_dataset
from omniroute.files import read_network, read_orders, write_network, write_orders
from omniroute.model import (
    InboundSupply,
    Network,
    NodeKind,
    Order,
    OrderLine,
    PlanResult,
    PlanStatus,
    Policy,
    Proof,
    Sku,
    counted,
)
from omniroute.scenario import kpis, outcomes_of
from omniroute.server.client import OmnirouteClient
from omniroute.server.convert import result_from_proto, result_to_proto, to_json_line
from omniroute.server.launch import serve_process, stop
from omniroute.server.progress import ProgressBar, progress
from omniroute.server.tables import (
    REASON_WORDS,
    incomplete_by_reason,
    method_label,
    money,
    percent,
    proof_label,
    table,
)

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
            progress(
                pool.map(one, range(len(orders))),
                len(orders),
                f"routing through gRPC ({policy.lower()})",
                unit="orders",
            )
        )
    wall = time.perf_counter() - start
    for client in clients:
        client.close()
    return [d[0] for d in done], [d[1] for d in done], wall


def write_demo_data(directory: Path, seed: int, day: int) -> tuple[Network, list[Order]]:
    """Generate the demo retailer's network and day, write them to ``directory`` and say so."""
    directory.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    bar = ProgressBar(1, f"generating the demo network and {day:,} orders", live=True)
    network, orders = demo_dataset(seed=seed, orders=day)
    network = with_new_release(network, orders)
    write_network(network, directory / "network.json")
    write_orders(orders, directory / "orders.jsonl")
    bar.update(1)
    bar.close()
    stores = sum(node.kind.value == "STORE" for node in network.nodes)
    print(
        f"demo data: {len(network.nodes)} nodes ({stores} stores), {len(network.skus):,} SKUs, "
        f"{len(network.stock):,} stock positions, {len(orders):,} orders -> {directory}/ "
        f"({time.perf_counter() - start:.1f} s)",
        flush=True,
    )
    return network, orders


def run(directory: Path, seed: int, day: int, sample: int, workers: int) -> int:
    """The demo through the gRPC service; 0 when the server stopped cleanly."""
    network, orders = write_demo_data(directory, seed, day)
    db = directory / "omniroute.db"
    for leftover in directory.glob("omniroute.db*"):
        leftover.unlink()
    log_file = directory / "server.log"
    processes = f"{workers} worker process{'es' if workers != 1 else ''}"
    with log_file.open("wb") as log:
        starting = ProgressBar(1, f"starting omniroute serve ({processes})", live=True)
        with serve_process(
            "--db",
            str(db),
            "--network",
            str(directory / "network.json"),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            output=log,
        ) as (server, port):
            starting.update(1)
            starting.close()
            print(
                f"omniroute serving on localhost:{port} ({processes}, store {db}, log {log_file})",
                flush=True,
            )
            chosen = orders[:sample]
            optimal, latency, wall = route(f"localhost:{port}", chosen, "CHEAPEST")
            baseline, _, _ = route(f"localhost:{port}", chosen, "BASELINE")
            life = order_life(f"localhost:{port}", orders[sample:])
            future = future_stock(f"localhost:{port}", network, orders[-1])
            code = stop(server)
    print()
    print(plans_table(optimal, network.currency))
    ms = np.array(latency) * 1000
    print()
    print(
        f"{len(chosen):,} orders routed through gRPC PlanOrder in {wall:.1f} s: "
        f"{len(chosen) / wall:,.0f} orders/s from {CLIENT_THREADS} client threads; "
        f"call latency p50 {np.percentile(ms, 50):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms"
    )
    print(summary(chosen, optimal, baseline, network))
    print()
    print(life)
    print()
    print(future)
    print(f"server stopped with SIGTERM (exit status {code})")
    return 0 if code == 0 else 1


LIFE_ORDERS = 6  # orders the demo reserves and takes through shipping, delivery and a cancel


def order_life(target: str, orders: Sequence[Order]) -> str:
    """Reserve a few orders of the day and take them through their life with OrderService:
    each ships (the first one unit at a time: a partial shipment, then the rest) and is
    delivered, but one order of several units ships one unit and cancels the rest. Returns
    what happened, with that order's status as a call-centre agent reads it."""
    from omniroute.server.tables import order_status_text

    with OmnirouteClient(target) as client:
        reserved: list[Order] = []
        for order in orders:
            if len(reserved) == LIFE_ORDERS:
                break
            if client.reserve(order).reservation_id:
                reserved.append(order)
        several = [o for o in reserved[1:] if sum(x.quantity for x in o.lines) > 1]
        cancelled = several[-1] if several else None
        shipments = deliveries = released = 0
        for n, order in enumerate(reserved):
            plan = client.get_order_status(order.id).plan
            for i, shipment in enumerate(plan.shipments):
                units = [(x.line_id, x.quantity) for x in shipment.lines]
                partial = i == 0 and (n == 0 or order is cancelled) and sum(q for _, q in units) > 1
                if partial:  # one unit first
                    first = [(units[0][0], 1)]
                    client.confirm_shipment(
                        order.id, shipment.node_id, f"TRK-{n}-{i}a", first, carrier="demo"
                    )
                    shipments += 1
                if order is cancelled and (partial or i > 0):
                    break  # the rest is cancelled below
                client.confirm_shipment(order.id, shipment.node_id, f"TRK-{n}-{i}", carrier="demo")
                shipments += 1
            if order is cancelled:
                status = client.cancel_order(order.id, reason="the customer changed their mind")
                released = sum(x.cancelled for x in status.lines)
            for shipment in client.get_order_status(order.id).shipments:
                client.confirm_delivery(order.id, shipment.tracking_number)
                deliveries += 1
        example = cancelled or (reserved[0] if reserved else None)
        shown = client.get_order_status(example.id) if example is not None else None
    cancel = (
        f", 1 cancelled after its first shipment ({counted(released, 'unshipped unit')} released)"
        if cancelled is not None
        else ""
    )
    head = (
        f"order life (OrderService): {counted(len(reserved), 'order')} reserved, "
        f"{counted(shipments, 'shipment')} confirmed with tracking numbers, {deliveries:,} "
        f"delivered{cancel}"
    )
    return head if shown is None else f"{head}\n\n{order_status_text(shown)}"


NEW_RELEASE = "NEW-0001"  # the demo's pre-order SKU: released two weeks after the day
RELEASE_AFTER = 14  # days after the day of orders
RELEASE_PO = "PO-NEW-0001"  # its first delivery, to a DC in transit
BACKORDER_PO = "PO-BACKORDER"  # the demo's purchase order for a SKU out of stock


def with_new_release(network: Network, orders: Sequence[Order]) -> Network:
    """The demo network with a SKU released two weeks after the day of ``orders`` (no order
    of the day asks for it) and its first delivery in transit to the first DC."""
    day = _order_day(orders[0])
    dc = next(node for node in network.nodes if node.kind is NodeKind.DC)
    release = day + timedelta(days=RELEASE_AFTER)
    return replace(
        network,
        skus=(
            *network.skus,
            Sku(NEW_RELEASE, 0.4, "new release (pre-order)", release_date=release),
        ),
        inbound_supply=(
            *network.inbound_supply,
            InboundSupply(RELEASE_PO, dc.id, NEW_RELEASE, 30, release - timedelta(days=4)),
        ),
    )


def _order_day(order: Order) -> date:
    return datetime.fromisoformat(order.create_time.replace("Z", "+00:00")).date()


def future_stock(target: str, network: Network, example: Order) -> str:
    """Sell what is not on a shelf yet, through the service: a purchase order for a SKU out
    of stock everywhere, an order whose line of it may wait (a backorder) beside a line
    that ships now, a pre-order of the new release, and the purchase order slipping three
    days (the backorder is promised again). Returns what happened, with the backordered
    order's status as an agent reads it."""
    from omniroute.server.tables import order_status_text

    on_hand: dict[str, int] = {}
    for p in network.stock:
        on_hand[p.sku_id] = on_hand.get(p.sku_id, 0) + max(0, p.on_hand - p.safety_stock)
    missing = next((s.id for s in network.skus if not on_hand.get(s.id) and not s.release_date), "")
    if not missing:
        return "future stock: every SKU is on a shelf somewhere (no backorder to show)"
    day = _order_day(example)
    dc = [node for node in network.nodes if node.kind is NodeKind.DC][-1]
    arrival = day + timedelta(days=9)
    backorder = replace(
        example,
        id="BACKORDER-1",
        lines=(
            replace(example.lines[0], id="1"),
            OrderLine("2", missing, 2, allow_backorder=True),
        ),
        promise_days=5,
        promise_date=None,
        allow_partial=False,
        customer_id="C-DEMO",
    )
    preorder = replace(
        example,
        id="PREORDER-1",
        lines=(OrderLine("1", NEW_RELEASE, 1),),
        promise_days=0,
        promise_date=None,
        customer_id="C-DEMO",
    )
    with OmnirouteClient(target) as client:
        client.put_inbound_supply([InboundSupply(BACKORDER_PO, dc.id, missing, 12, arrival)])
        back = client.reserve(backorder).plan
        pre = client.reserve(preorder).plan
        slipped = arrival + timedelta(days=3)
        client.put_inbound_supply([InboundSupply(BACKORDER_PO, dc.id, missing, 12, slipped)])
        status = client.get_order_status(backorder.id)
    release = day + timedelta(days=RELEASE_AFTER)

    def dates(plan: Any, flag: str) -> str:
        shipments = [s for s in plan.shipments if getattr(s, flag)]
        if not shipments:
            return "nothing"
        return ", ".join(
            f"{s.units} from {s.node_id} shipping {_date(s.ship_date)}" for s in shipments
        )

    lines = [
        f"future stock: {BACKORDER_PO}, 12 x {missing} (on no shelf) to {dc.id} arriving "
        f"{arrival.isoformat()};",
        f"  backorder: {backorder.id} keeps its 5-day promise for its line 1 and waits for "
        f"{missing}: {dates(back, 'backorder')}",
        f"  pre-order: {preorder.id} of {NEW_RELEASE} (released {release.isoformat()}): "
        f"{dates(pre, 'preorder')}",
        f"  {BACKORDER_PO} slipped to {slipped.isoformat()}: {backorder.id} promised again: "
        f"{dates(status.plan, 'backorder')}",
    ]
    return "\n".join(lines) + "\n\n" + order_status_text(status)


def _date(value: Any) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def offline(directory: Path, seed: int, day: int) -> int:
    """Plan the whole demo day in this process (no server) and compare with the baseline."""
    from omniroute.server.cli import plan_all

    write_demo_data(directory, seed, day)
    network = read_network(directory / "network.json")  # the files are the interface
    orders = read_orders(directory / "orders.jsonl", network)
    optimal = plan_all(network, orders, Policy.CHEAPEST)
    baseline = plan_all(network, orders, Policy.BASELINE)
    for name, results in (("optimal", optimal), ("baseline", baseline)):
        with open(directory / f"plans-{name}.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(to_json_line(result_to_proto(r)) + "\n" for r in results)
    print(f"plans -> {directory}/plans-optimal.jsonl and {directory}/plans-baseline.jsonl")
    print()
    print(plans_table(optimal, network.currency))
    print()
    print(summary(orders, optimal, baseline, network))
    return 0


def plans_table(results: Sequence[PlanResult], currency: str, rows: int = 10) -> str:
    """A few plans (split ones first), with how each was decided in plain words."""
    splits = [r for r in results if len(r.plan.shipments) > 1][: rows // 2 - 1]
    shown = splits + [r for r in results[:rows] if r not in splits][: rows - len(splits)]
    return table(
        ["order", "shipments", "ship from", f"cost ({currency})", "days", "proof", "decided by"],
        [
            [
                r.order_id,
                len(r.plan.shipments),
                ", ".join(s.node_id for s in r.plan.shipments) or "-",
                r.plan.total_cost if r.plan.shipments else "-",
                r.plan.delivery_days if r.plan.shipments else "-",
                proof_label(r),
                method_label(r.stats.method),
            ]
            for r in shown
        ],
        "",
    )


def summary(
    orders: Sequence[Order],
    optimal: Sequence[PlanResult],
    baseline: Sequence[PlanResult],
    network: Network,
) -> str:
    """Optimiser against the baseline on the same orders: the KPIs side by side (money and
    delivery days over the orders both plan complete), why orders are incomplete, and what
    the saving costs in delivery days (only what the plans show)."""
    currency = network.currency
    both = [
        i
        for i, (a, b) in enumerate(zip(optimal, baseline, strict=True))
        if a.plan.status is PlanStatus.COMPLETE and b.plan.status is PlanStatus.COMPLETE
    ]

    def column(results: Sequence[PlanResult]) -> list[float | int | str]:
        status = [r.plan.status for r in results]
        common = kpis(
            outcomes_of([orders[i] for i in both], [results[i].plan for i in both], network)
        )
        micros = sorted(r.stats.solve_micros for r in results)
        proven = sum(r.stats.proof is Proof.OPTIMAL for r in results)
        return [
            status.count(PlanStatus.COMPLETE),
            status.count(PlanStatus.PARTIAL),
            status.count(PlanStatus.UNFULFILLABLE),
            common.total_cost,
            common.cost_per_order,
            f"{100 * common.split_rate:.1f}",
            common.mean_delivery_days,
            f"{100 * proven / max(len(results), 1):.1f}",
            _quantile(micros, 0.5) / 1000,
            _quantile(micros, 0.99) / 1000,
        ]

    names = [
        "complete orders",
        "shipped in part",
        "not shipped",
        f"cost of orders both complete ({currency})",
        f"cost per order ({currency})",
        "split rate (%)",
        "mean delivery days",
        "proven optimal (%)",
        "plan time p50 (ms)",
        "plan time p99 (ms)",
    ]
    ours, theirs = column(optimal), column(baseline)
    rows = [[name, a, b] for name, a, b in zip(names, ours, theirs, strict=True)]
    lines = [table(["KPI", "omniroute", "baseline"], rows, "")]

    incomplete = [len(optimal) - int(ours[0]), len(baseline) - int(theirs[0])]
    if any(incomplete):
        why = [incomplete_by_reason(optimal), incomplete_by_reason(baseline)]
        lines.append("")
        lines.append(
            f"{incomplete[0]:,} of {len(optimal):,} orders are incomplete "
            f"(baseline: {incomplete[1]:,}), by reason:"
        )
        lines.append(
            table(
                ["why incomplete", "omniroute", "baseline"],
                [
                    [words, why[0][reason], why[1][reason]]
                    for reason, words in REASON_WORDS.items()
                    if why[0][reason] or why[1][reason]
                ],
                "",
            )
        )
    lines.append("")
    cost_ours, cost_theirs = float(ours[3]), float(theirs[3])
    saving = cost_theirs - cost_ours
    share = saving / cost_theirs if cost_theirs > 0 else 0.0
    lines.append(
        f"omniroute saves {money(saving, currency)} ({percent(share)}) on {len(both):,} "
        f"orders both complete; {len(optimal):,} orders planned."
    )
    lines.append(_delivery_comment(orders, optimal, baseline, both, share))
    return "\n".join(lines)


def _delivery_comment(
    orders: Sequence[Order],
    optimal: Sequence[PlanResult],
    baseline: Sequence[PlanResult],
    both: Sequence[int],
    saving_share: float,
) -> str:
    """One line on delivery days against the baseline, over the orders both complete."""
    if not both:
        return "no order is complete under both policies; nothing to compare."
    ours = np.array([optimal[i].plan.delivery_days for i in both])
    theirs = np.array([baseline[i].plan.delivery_days for i in both])
    later, sooner = int((ours > theirs).sum()), int((ours < theirs).sum())
    difference = float(ours.mean() - theirs.mean())
    promised = [i for i in both if orders[i].promise_days]
    missed = sum(optimal[i].plan.delivery_days > orders[i].promise_days for i in promised)
    if missed == 0:
        promise = (
            f"all {len(promised):,} orders with a delivery promise still meet it"
            if promised
            else "no order has a delivery promise"
        )
    else:
        promise = f"{missed:,} of {len(promised):,} orders with a delivery promise miss it"
    if difference >= 0.005:
        cost = f"{percent(saving_share)} lower cost" if saving_share > 0 else "no saving"
        return (
            f"omniroute trades {difference:.2f} days on average for {cost} "
            f"({counted(later, 'order')} {'arrives' if later == 1 else 'arrive'} later than the "
            f"baseline's plan, {sooner:,} sooner); "
            f"{promise}."
        )
    if difference <= -0.005:
        return (
            f"omniroute also delivers {-difference:.2f} days sooner on average "
            f"({counted(sooner, 'order')} sooner than the baseline's plan, {later:,} later); "
            f"{promise}."
        )
    return f"mean delivery days are the same as the baseline's; {promise}."


def _quantile(sorted_values: Sequence[int], q: float) -> float:
    if not sorted_values:
        return 0.0
    return float(sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))])
