"""Backorders and pre-orders: units promised past the order's promise (docs/future-stock.md).

An order is planned in **parts** when it has lines that allow a backorder or lines of a SKU
not yet released on the order's date:

1. the **main part**, every released line, planned as any order within its promise;
2. the **backorder**: the units of lines with ``allow_backorder`` that the main part could
   not fill within the promise (with the other lines of their ship-together groups),
   planned from supply in transit only (inbound nodes, see :mod:`omniroute.inbound`) with
   the promise lifted, i.e. they wait for the supply;
3. one **pre-order** part per release date: the lines of SKUs released on that date (with
   their ship-together groups), planned as if the order had been placed on the release date
   (so no unit ships before it), from shelf and supply in transit, with the promise lifted.

The order's ``max_shipments`` bounds the main part; the backorder and the pre-orders ship
on their own. An order that ships complete (``max_shipments`` 1) is planned whole instead:
with a pre-order SKU, as a pre-order from the latest release; with backorder lines the
promise cannot keep, with the promise lifted, in one shipment from shelf or supply.

Each part is planned exactly by the optimiser, on the stock of nodes the earlier parts do
not ship from (a plan has at most one shipment per node), so the combined plan is proven
optimal for this lexicographic objective: the best plan within the promise first, then the
cheapest way to wait for the rest. Parts use disjoint stock: a backorder only inbound nodes
the main part left alone, a pre-order only SKUs the other parts do not carry. When the order does not
allow a partial plan and some part leaves units unfilled, nothing is planned.

A shipment is a pre-order when it carries a SKU not yet released (:func:`flags`), and a
backorder when it is the backorder part's; a plan rebuilt from shipments (a re-route, a
re-promise) keeps them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from omniroute.calendars import OrderClock, zone
from omniroute.model import (
    Order,
    OrderLine,
    Plan,
    PlanResult,
    PlanStats,
    Proof,
    Shipment,
    UnfilledReason,
)

if TYPE_CHECKING:
    from omniroute.dating import NetworkDates
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
    for line in order.lines:  # (a plain loop: this runs for every order planned)
        if line.allow_backorder:
            return True
    return bool(index.releases) and bool(unreleased(order, index))


def release_order(order: Order, release: date, dates: NetworkDates) -> Order:
    """The order as if placed when ``release`` has begun at every node (the latest of the
    nodes' local midnights), with its promise lifted: how a pre-order's units are dated,
    so that no node ships them before the release date in its own time zone."""
    zones = {key[0] for key in dates.class_keys} or {dates.time_zone}
    instant = max(datetime.combine(release, time(0), zone(name)) for name in zones)
    return replace(
        order,
        create_time=instant.astimezone(UTC).isoformat(),
        promise_days=0,
        promise_date=None,
    )


def flags(shipment: Shipment, releases: Mapping[str, date], backorder: bool) -> Shipment:
    """The shipment with its flags set: ``preorder`` when it carries a SKU of ``releases``
    (not yet released on the order's date), else ``backorder`` as given."""
    preorder = any(line.sku_id in releases for line in shipment.lines)
    backorder = backorder and not preorder
    if preorder == shipment.preorder and backorder == shipment.backorder:
        return shipment
    return replace(shipment, preorder=preorder, backorder=backorder)


Rebuild = Callable[
    [Order, Sequence[Shipment], Mapping[str, UnfilledReason], float, Collection[str]], Plan
]


def plan_in_parts(
    order: Order,
    index: NetworkIndex,
    solve: Solver,
    rebuild: Rebuild,
) -> PlanResult:
    """Plan ``order`` part by part (see the module docstring). ``solve`` plans one part
    exactly, on the stock of the nodes it may use (not those of earlier parts; supply in
    transit only, for a backorder); ``rebuild`` reports the combined shipments as the
    order's plan."""
    releases = unreleased(order, index)
    parts: list[PlanResult] = []
    used: set[str] = set()

    def run(part: Order, supply_only: bool = False) -> PlanResult:
        result = solve(part, frozenset(used), supply_only)
        parts.append(result)
        used.update(s.node_id for s in result.plan.shipments)
        return result

    if order.max_shipments == 1:  # ship complete: the whole order waits, in one shipment
        return _complete_in_one(order, index, releases, run, rebuild)
    late = _late_lines(order, releases)
    main_lines = tuple(line for line in order.lines if line.id not in late)
    backorder_ids = {line.id for line in main_lines if line.allow_backorder}
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
    waiting = _waiting(main_lines, short, backorder_ids)
    waits: set[str] = set()  # the backorder's nodes
    if waiting and (order.allow_partial or waiting.keys() == short.keys()):
        by_id = {line.id: line for line in main_lines}
        backorder = run(
            replace(
                order,
                lines=tuple(replace(by_id[i], quantity=q) for i, q in waiting.items()),
                promise_days=0,
                promise_date=None,
                allow_partial=True,
                max_shipments=0,
            ),
            supply_only=True,
        )
        filled = _filled(backorder.plan)
        for line_id in waiting:
            short[line_id] -= filled.get(line_id, 0)
        waits = {s.node_id for s in backorder.plan.shipments}
    for release in sorted(set(late.values())):
        lines = tuple(line for line in order.lines if late.get(line.id) == release)
        part = run(
            replace(
                release_order(order, release, index.dates),
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
    stats = _combined_stats(parts)
    if short and not order.allow_partial:
        reasons = {
            line.id: reasons.get(line.id, UnfilledReason.PARTIAL_NOT_ALLOWED)
            for line in order.lines
        }
        return PlanResult(order.id, rebuild(order, (), reasons, 0.0, ()), stats)
    shipments = [s for part in parts for s in part.plan.shipments]
    opportunity = sum(part.plan.opportunity_cost for part in parts)
    return PlanResult(order.id, rebuild(order, shipments, reasons, opportunity, waits), stats)


def _complete_in_one(
    order: Order,
    index: NetworkIndex,
    releases: Mapping[str, date],
    run: Callable[[Order], PlanResult],
    rebuild: Rebuild,
) -> PlanResult:
    """An order that ships complete (``max_shipments`` 1): with a pre-order SKU, all of it
    is one pre-order from the latest release; with backorder lines the promise cannot keep,
    all of it waits, promise lifted, for the cheapest single shipment (shelf or supply in
    transit)."""
    waits: set[str] = set()
    if releases:
        whole = release_order(order, max(releases.values()), index.dates)
        result = run(whole)
    else:
        result = run(replace(order, allow_partial=True))
        short = {u.line_id for u in result.plan.unfilled_lines}
        if not short:
            return result
        backorder = {line.id for line in order.lines if line.allow_backorder}
        if not (order.allow_partial or short <= backorder):
            return run(order)  # a line that may not wait is short: as any order
        result = run(replace(order, promise_days=0, promise_date=None))
        waits = {s.node_id for s in result.plan.shipments}  # the whole order waited
    return PlanResult(
        order.id,
        rebuild(
            order,
            result.plan.shipments,
            {u.line_id: u.reason for u in result.plan.unfilled_lines},
            result.plan.opportunity_cost,
            waits,
        ),
        result.stats,
    )


def _waiting(
    lines: Sequence[OrderLine], short: Mapping[str, int], backorder_ids: set[str]
) -> dict[str, int]:
    """The units that wait for supply: those short of backorder lines, with those short of
    the other lines of their ship-together groups (a group ships together, so it waits
    together)."""
    groups = {
        line.ship_together_group
        for line in lines
        if line.id in backorder_ids and line.id in short and line.ship_together_group
    }
    return {
        line.id: short[line.id]
        for line in lines
        if line.id in short and (line.id in backorder_ids or line.ship_together_group in groups)
    }


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


def _combined_stats(parts: Sequence[PlanResult]) -> PlanStats:
    """The proof of a plan in parts: optimal when every part is; otherwise the gap of the
    sum of the parts' objectives over the sum of their lower bounds (an optimal part is its
    own bound), unknown when a part has none."""
    stats = [part.stats for part in parts]
    if len(stats) == 1:
        return stats[0]
    proven = all(s.proof is Proof.OPTIMAL for s in stats)
    bounds = [
        part.plan.objective if part.stats.proof is Proof.OPTIMAL else part.stats.lower_bound
        for part in parts
    ]
    known = [b for b in bounds if b is not None]
    bound = sum(known) if len(known) == len(bounds) else None
    total = sum(part.plan.objective for part in parts)
    gap = None
    if not proven and bound is not None:
        gap = max(0.0, (total - bound) / total) if total > 0 else 0.0
    methods = list(dict.fromkeys(s.method for s in stats))
    return PlanStats(
        Proof.OPTIMAL if proven else Proof.FEASIBLE,
        " + ".join(methods),
        sum(s.solve_micros for s in stats),
        gap,
        bound,
        max((s.candidate_nodes for s in stats), default=0),
        next((s.stopped_by for s in stats if s.stopped_by is not None), None),
        stats[0].opportunity_costs_version,
    )
