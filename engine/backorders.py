"""Backorders and pre-orders: units promised past the order's promise (docs/future-stock.md).

An order is planned in **parts** when it has lines that allow a backorder or lines of a SKU
not yet released on the order's date:

1. the **main part**, every released line, planned as any order within its promise;
2. the **backorder**: the units of lines with ``allow_backorder`` that the main part could
   not fill within the promise, planned from supply in transit only (inbound nodes, see
   :mod:`omniroute.inbound`) with the promise lifted, i.e. they wait for the supply, in the
   shipments the order's ``max_shipments`` leaves;
3. one **pre-order** part per release date: the lines of SKUs released on that date (with
   their ship-together groups), planned as if the order had been placed on the release date
   (so no unit ships before it), from shelf and supply in transit, with the promise lifted.

Each part is planned exactly by the optimiser, on the stock of nodes the earlier parts do
not ship from (a plan has at most one shipment per node), so the combined plan is proven
optimal for this lexicographic objective: the best plan within the promise first, then the
cheapest way to wait for the rest. Parts use disjoint stock: a backorder only inbound nodes the main part
left alone, a pre-order only SKUs the other parts do not carry. When the order does not
allow a partial plan and some part leaves units unfilled, nothing is planned.

A shipment's flags follow from what it carries and when it arrives (:func:`flags`), so a
plan rebuilt from shipments (a re-route, a re-promise) reports them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from omniroute.calendars import OrderClock, zone
from omniroute.model import (
    Order,
    Plan,
    PlanResult,
    PlanStats,
    Proof,
    Shipment,
    UnfilledReason,
)

if TYPE_CHECKING:
    from omniroute.network_index import NetworkIndex

# (part, nodes it may not ship from, from supply in transit only)
Solver = Callable[[Order, frozenset[str], bool], PlanResult]


def unreleased(order: Order, index: NetworkIndex) -> dict[str, date]:
    """Release date of each SKU of the order not yet released on the order's date (a dated
    order; undated orders are not dated against release dates)."""
    releases = index.releases
    if not releases or not order.create_time:
        return {}
    skus = {line.sku_id for line in order.lines} & releases.keys()
    if not skus:
        return {}
    today = OrderClock.of(order.create_time, index.dates.time_zone).order_date
    return {sku: releases[sku] for sku in skus if releases[sku] > today}


def in_parts(order: Order, index: NetworkIndex) -> bool:
    """Whether the order is planned in parts (backorder lines or unreleased SKUs)."""
    return any(line.allow_backorder for line in order.lines) or bool(unreleased(order, index))


def release_order(order: Order, release: date, time_zone: str) -> Order:
    """The order as if placed at the start of ``release`` (the network's time zone), with
    its promise lifted: how a pre-order's units are dated."""
    instant = datetime.combine(release, time(0), zone(time_zone))
    return replace(
        order,
        create_time=instant.isoformat(),
        promise_days=0,
        promise_date=None,
    )


def flags(
    order: Order,
    shipment: Shipment,
    releases: Mapping[str, date],
    limit: int | None,
) -> Shipment:
    """The shipment with its ``preorder`` (it carries an unreleased SKU) and ``backorder``
    (it arrives past the promise: ``limit`` delivery days) flags set."""
    preorder = any(line.sku_id in releases for line in shipment.lines)
    backorder = not preorder and limit is not None and shipment.delivery_days > limit
    if preorder == shipment.preorder and backorder == shipment.backorder:
        return shipment
    return replace(shipment, preorder=preorder, backorder=backorder)


def plan_in_parts(
    order: Order,
    index: NetworkIndex,
    solve: Solver,
    rebuild: Callable[[Order, Sequence[Shipment], Mapping[str, UnfilledReason], float], Plan],
) -> PlanResult:
    """Plan ``order`` part by part (see the module docstring). ``solve`` plans one part
    exactly, on the stock of the nodes it may use (not those of earlier parts; supply in
    transit only, for a backorder); ``rebuild`` reports the combined shipments as the
    order's plan."""
    releases = unreleased(order, index)
    late = _late_lines(order, releases)
    main_lines = tuple(line for line in order.lines if line.id not in late)
    backorder_ids = {line.id for line in main_lines if line.allow_backorder}
    parts: list[PlanResult] = []
    used: set[str] = set()

    def run(part: Order, supply_only: bool = False) -> PlanResult:
        result = solve(part, frozenset(used), supply_only)
        parts.append(result)
        used.update(s.node_id for s in result.plan.shipments)
        return result

    short: dict[str, int] = {}
    reasons: dict[str, UnfilledReason] = {}
    if main_lines:
        main = run(
            replace(
                order,
                lines=main_lines,
                allow_partial=order.allow_partial or bool(backorder_ids),
            )
        )
        for unfilled in main.plan.unfilled_lines:
            short[unfilled.line_id] = unfilled.quantity
            reasons[unfilled.line_id] = unfilled.reason
    waiting = {line_id: units for line_id, units in short.items() if line_id in backorder_ids}
    budget = order.max_shipments - len(used) if order.max_shipments else 0  # 0: no limit
    if (
        waiting
        and (order.allow_partial or waiting.keys() == short.keys())
        and (budget > 0 or not order.max_shipments)
    ):
        by_id = {line.id: line for line in main_lines}
        backorder = run(
            replace(
                order,
                lines=tuple(replace(by_id[i], quantity=q) for i, q in waiting.items()),
                promise_days=0,
                promise_date=None,
                allow_partial=True,
                max_shipments=budget,
            ),
            supply_only=True,
        )
        filled = _filled(backorder.plan)
        for line_id in waiting:
            short[line_id] -= filled.get(line_id, 0)
    for release in sorted(set(late.values())):
        lines = tuple(line for line in order.lines if late.get(line.id) == release)
        part = run(
            replace(
                release_order(order, release, index.dates.time_zone),
                lines=lines,
                allow_partial=True,
                max_shipments=0,
            )
        )
        for unfilled in part.plan.unfilled_lines:
            short[unfilled.line_id] = unfilled.quantity
            reasons[unfilled.line_id] = unfilled.reason
    short = {line_id: units for line_id, units in short.items() if units > 0}
    if len(parts) == 1 and not short and not late:
        return parts[0]  # complete within the promise: the main part is the plan
    stats = _combined_stats([part.stats for part in parts])
    if short and not order.allow_partial:
        reasons = {
            line.id: reasons.get(line.id, UnfilledReason.PARTIAL_NOT_ALLOWED)
            for line in order.lines
        }
        return PlanResult(order.id, rebuild(order, (), reasons, 0.0), stats)
    shipments = [s for part in parts for s in part.plan.shipments]
    opportunity = sum(part.plan.opportunity_cost for part in parts)
    return PlanResult(order.id, rebuild(order, shipments, reasons, opportunity), stats)


def _late_lines(order: Order, releases: Mapping[str, date]) -> dict[str, date]:
    """Line id -> release date of every pre-order line: lines of unreleased SKUs, with the
    lines of their ship-together groups (a group waits for its latest release)."""
    if not releases:
        return {}
    group_release: dict[str, date] = {}
    for line in order.lines:
        release = releases.get(line.sku_id)
        if release is not None and line.ship_together_group:
            group = line.ship_together_group
            group_release[group] = max(release, group_release.get(group, release))
    late = {}
    for line in order.lines:
        release = group_release.get(line.ship_together_group) or releases.get(line.sku_id)
        if release is not None:
            late[line.id] = release
    return late


def _filled(plan: Plan) -> dict[str, int]:
    filled: dict[str, int] = {}
    for shipment in plan.shipments:
        for line in shipment.lines:
            filled[line.line_id] = filled.get(line.line_id, 0) + line.quantity
    return filled


def _combined_stats(stats: Sequence[PlanStats]) -> PlanStats:
    """The proof of a plan in parts: optimal when every part is; otherwise the largest gap
    and the sum of the parts' bounds."""
    if len(stats) == 1:
        return stats[0]
    proven = all(s.proof is Proof.OPTIMAL for s in stats)
    gaps = [s.gap for s in stats if s.gap is not None]
    bounds = [s.lower_bound for s in stats]
    methods = list(dict.fromkeys(s.method for s in stats))
    return PlanStats(
        Proof.OPTIMAL if proven else Proof.FEASIBLE,
        " + ".join(methods),
        sum(s.solve_micros for s in stats),
        None if proven else max(gaps, default=None),
        None if any(b is None for b in bounds) else sum(b for b in bounds if b is not None),
        max((s.candidate_nodes for s in stats), default=0),
        next((s.stopped_by for s in stats if s.stopped_by is not None), None),
        stats[0].opportunity_costs_version,
    )
