"""Readable text tables for planners: one order's plan with its cost breakdown and why the
alternatives lost (``omniroute explain``), and plan lists (``omniroute demo``)."""

from __future__ import annotations

from collections.abc import Sequence

from omniroute.model import Order, Plan, PlanResult, PlanStatus


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], indent: str = "  ") -> str:
    """Columns aligned; numbers right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    numeric = [all(_is_number(row[i]) for row in rows) and rows for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return (indent + "  ".join(parts)).rstrip()

    return "\n".join(
        [line(list(headers)), line(["-" * w for w in widths]), *(line(r) for r in cells)]
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def shipments_table(plan: Plan) -> str:
    rows: list[list[object]] = []
    for s in plan.shipments:
        b = s.breakdown
        rows.append(
            [
                s.node_id,
                s.service_id or "(pick-up)",
                s.units,
                round(s.weight_kg, 2),
                s.parcels,
                round(s.distance_km, 1),
                b.carrier_parcels,
                b.carrier_weight,
                b.handling_shipment + b.handling_units,
                s.cost,
                s.delivery_days,
            ]
        )
    text = table(
        [
            "node",
            "service",
            "units",
            "kg",
            "parcels",
            "km",
            "parcels $",
            "per-kg $",
            "handling $",
            "cost",
            "days",
        ],
        rows,
    )
    if plan.split_penalty_cost:
        text += f"\n  + split penalty {plan.split_penalty_cost:,.2f}"
    return text


def explain_text(order: Order, result: PlanResult, currency: str) -> str:
    """The plan of one order, its cost breakdown and the alternatives it beat."""
    plan = result.plan
    units = sum(line.quantity for line in order.lines)
    where = (
        f"pick-up at {order.pickup_store_id}"
        if order.pickup_store_id
        else (
            f"to {order.destination.latitude:.4f}, {order.destination.longitude:.4f}"
            if order.destination
            else ""
        )
    )
    promise = f", promise {order.promise_days} day(s)" if order.promise_days else ""
    limit = f", at most {order.max_shipments} shipment(s)" if order.max_shipments else ""
    out = [
        f"Order {order.id} ({order.channel.value}, {len(order.lines)} line(s), {units} unit(s), "
        f"{where}{promise}{limit})"
    ]
    stats = result.stats
    gap = f", gap {100 * stats.gap:.2f}%" if stats.gap else ""
    out.append(
        f"Plan: {plan.status.value}, {plan.total_cost:,.2f} {currency}, "
        f"{plan.delivery_days} day(s), {len(plan.shipments)} shipment(s) — "
        f"{stats.proof.value} by {stats.method}{gap}, {stats.solve_micros / 1000:.2f} ms"
    )
    if plan.shipments:
        out.append(shipments_table(plan))
    if plan.unfilled_lines:
        out.append(
            table(
                ["unfilled line", "quantity", "reason"],
                [[u.line_id, u.quantity, u.reason.value] for u in plan.unfilled_lines],
            )
        )
    if result.options:
        out.append("Options (delivery days vs cost):")
        out.append(
            table(
                ["days", "cost", "shipments"],
                [[p.delivery_days, p.total_cost, len(p.shipments)] for p in result.options],
            )
        )
    if result.explanation:
        out.append(f"Why: {result.explanation.summary}")
        rows: list[list[object]] = []
        for alternative in result.explanation.alternatives:
            p = alternative.plan
            complete = p is not None and p.status is PlanStatus.COMPLETE
            rows.append(
                [
                    alternative.name,
                    p.total_cost if p is not None and complete else "-",
                    p.delivery_days if p is not None and complete else "-",
                    alternative.verdict,
                ]
            )
        out.append(table(["alternative", "cost", "days", "verdict"], rows))
    return "\n".join(out)
