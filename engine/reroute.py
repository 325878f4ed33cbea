"""Re-route on rejection: a node cannot ship its part of an order (short pick, damage,
capacity). Keep the rest of the plan, never use that node again for the order, and plan only
the missing units (from current ATP, which already counts the order's other holds). A dated
order's kept shipments keep their ship dates; new ones are dated past full days."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from omniroute.backorders import in_parts
from omniroute.dating import Dating
from omniroute.model import FieldViolation, Order, Plan, Policy, ValidationError
from omniroute.plans import best_service, plan_from_shipments

if TYPE_CHECKING:
    from omniroute.planner import Planner


@dataclass(frozen=True, slots=True)
class Reroute:
    """The order's new plan and the holds to change."""

    plan: Plan
    release: tuple[tuple[str, str, int], ...]  # (node, SKU, units) the rejecting node gives up
    hold: tuple[tuple[str, str, int], ...]  # (node, SKU, units) newly held elsewhere
    rerouted: frozenset[str]  # nodes whose shipment is new or grew
    rejected: dict[str, int]  # line id -> units rejected


def reroute(
    planner: Planner,
    order: Order,
    plan: Plan,
    node_id: str,
    rejected: Mapping[str, int],
    avoid: Iterable[str] = (),
) -> Reroute:
    """Re-plan the units ``node_id`` rejects (all it ships when ``rejected`` is empty),
    avoiding it and every node in ``avoid`` (earlier rejections)."""
    shipments = {s.node_id: s for s in plan.shipments}
    shipment = shipments.get(node_id)
    if shipment is None:
        raise ValidationError(
            [FieldViolation("nodeId", f"{node_id!r} ships nothing in this plan")],
            "RerouteOrderRequest",
        )
    ships = {line.line_id: line.quantity for line in shipment.lines}
    rejected = dict(rejected) or dict(ships)
    violations = [
        FieldViolation(
            f"lines[{i}]",
            f"{node_id} ships {ships.get(line_id, 0)} of line {line_id!r}, not {quantity}",
        )
        for i, (line_id, quantity) in enumerate(rejected.items())
        if quantity <= 0 or quantity > ships.get(line_id, 0)
    ]
    if violations:
        raise ValidationError(violations, "RerouteOrderRequest")
    return _replan(planner, order, plan, {node_id: rejected}, (*avoid, node_id))


def repromise(
    planner: Planner, order: Order, plan: Plan, moved: Mapping[str, Mapping[str, int]]
) -> Reroute:
    """Promise again the units ``moved`` takes from nodes (node id -> line id -> units),
    e.g. supply in transit whose date slipped or whose quantity shrank: the rest of the
    plan stays, and the units are planned on ``planner``'s stock (which no longer has
    them where they were); nodes that no longer exist are not used again.
    ``Reroute.rejected`` is the units moved per line."""
    gone = [node_id for node_id in moved if node_id not in planner.index.node_pos]
    return _replan(planner, order, plan, moved, gone)


def _replan(
    planner: Planner,
    order: Order,
    plan: Plan,
    moved: Mapping[str, Mapping[str, int]],
    avoid: Iterable[str],
) -> Reroute:
    """Take ``moved`` (node id -> line id -> units) out of the plan and plan those units
    again, avoiding ``avoid``: the :class:`Reroute` of both."""
    kept: dict[str, dict[str, int]] = {
        s.node_id: {line.line_id: line.quantity for line in s.lines} for s in plan.shipments
    }
    rejected: dict[str, int] = {}
    for node_id, lines in moved.items():
        for line_id, quantity in lines.items():
            kept[node_id][line_id] -= quantity
            rejected[line_id] = rejected.get(line_id, 0) + quantity
    kept = {n: {k: q for k, q in lines.items() if q > 0} for n, lines in kept.items()}
    kept = {n: lines for n, lines in kept.items() if lines}
    services = {s.node_id: s.service_id for s in plan.shipments}

    sku_of = {line.id: line.sku_id for line in order.lines}
    line_of = {line.id: line for line in order.lines}
    known = planner.index.node_pos
    missing = replace(
        order,
        id=f"{order.id}/reroute",
        lines=tuple(replace(line_of[line_id], quantity=q) for line_id, q in rejected.items()),
        excluded_node_ids=tuple(
            n for n in dict.fromkeys((*order.excluded_node_ids, *avoid)) if n in known
        ),
        allow_partial=True,
        max_shipments=0,
    )
    on = planner
    if kept and in_parts(order, planner.index):
        # parts must not merge (a pre-order's units into a shipment in the promise, or the
        # reverse): the missing units are planned on nodes the kept shipments do not use
        on = planner.restricted([sku_of[line_id] for line_id in rejected], kept)
    extra = on.plan(missing, Policy.CHEAPEST, validate=False).plan
    added: dict[str, dict[str, int]] = {
        s.node_id: {line.line_id: line.quantity for line in s.lines} for s in extra.shipments
    }
    combined = {n: dict(lines) for n, lines in kept.items()}
    for n, lines in added.items():
        target = combined.setdefault(n, {})
        for line_id, quantity in lines.items():
            target[line_id] = target.get(line_id, 0) + quantity
        services[n] = next(s.service_id for s in extra.shipments if s.node_id == n)
    for n in set(added) & set(kept):  # a shipment that grew may be cheaper by another service
        choice = best_service(order, planner.index, n, combined[n])
        if choice is not None:
            services[n] = choice
    reasons = {u.line_id: u.reason for u in extra.unfilled_lines}
    # kept shipments keep the days they were counted on; new ones ship past full days
    index = planner.index
    fixed = {
        index.node_pos[s.node_id]: s.ship_date
        for s in plan.shipments
        if s.node_id in kept and s.ship_date is not None
    }
    dating = Dating.of(order, index.dates, planner.inventory.full_days, fixed)
    new_plan = plan_from_shipments(
        order,
        index,
        [(n, services[n], lines) for n, lines in combined.items()],
        reasons,
        dating=dating,
        backorders={s.node_id for s in plan.shipments if s.backorder and s.node_id in kept}
        | {s.node_id for s in extra.shipments if s.backorder},
    )
    release = tuple(
        (node_id, sku_of[line_id], q)
        for node_id, lines in moved.items()
        for line_id, q in lines.items()
    )
    hold = tuple(
        (n, sku_of[line_id], q) for n, lines in added.items() for line_id, q in lines.items()
    )
    return Reroute(new_plan, release, hold, frozenset(added), rejected)
