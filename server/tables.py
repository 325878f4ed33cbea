"""Readable text for planners: one order's plan with its cost breakdown and why the
alternatives lost (``omniroute explain``), plan lists and summaries (``omniroute demo``,
``allocate``, ``scenario run`` / ``sweep``).

Human displays follow one convention: rates as percent with one decimal ("split rate (%)",
"2.4%"), money to cents with the network's currency code, plain-word headers, and readable
labels for the optimiser's method names. Files keep fractions and lowerCamelCase keys.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from omniroute.model import Order, Plan, PlanResult, PlanStatus, Proof, UnfilledReason, counted
from omniroute.v1 import plan_pb2


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


_NUMBER_TEXT = re.compile(r"[-+]?[\d,]*\.?\d+%?( [A-Z]{3})?|<0\.1%|-")


def _is_number(value: object) -> bool:
    """Numbers, and numbers already formatted as text (``15.6%``, ``1,234.56 AUD``, ``-``
    for none)."""
    if isinstance(value, str):
        return bool(_NUMBER_TEXT.fullmatch(value))
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def shipments_table(plan: plan_pb2.Plan, currency: str) -> str:
    """A plan's shipments as the API reports them (rounded: weights to grams, distances to
    0.1 km, money to cents), each cost broken down so that the columns add up (with a
    column for the sourcing profile's node costs when a shipment has one)."""
    rows: list[list[object]] = []
    profiled = any(s.cost_breakdown.profile_adjustment for s in plan.shipments)
    for s in plan.shipments:
        b = s.cost_breakdown
        waits = " (backorder)" if s.backorder else " (pre-order)" if s.preorder else ""
        rows.append(
            [
                s.node_id + waits,
                s.service_id or "hand-over in store",
                s.units,
                f"{s.weight_kg:,.3f}",
                s.parcels,
                f"{s.distance_km:,.1f}",
                b.carrier_parcels,
                b.carrier_weight,
                (round(b.handling_shipment * 100) + round(b.handling_units * 100)) / 100,
                *([b.profile_adjustment] if profiled else []),
                s.cost,
                s.delivery_days,
            ]
        )
    text = table(
        [
            "node",
            "carrier service",
            "units",
            "weight (kg)",
            "parcels",
            "distance (km)",
            f"parcel charge ({currency})",
            f"weight charge ({currency})",
            f"handling ({currency})",
            *([f"sourcing profile ({currency})"] if profiled else []),
            f"cost ({currency})",
            "days",
        ],
        rows,
    )
    if plan.split_penalty_cost:
        text += (
            f"\n  + split penalty {money(plan.split_penalty_cost, currency)} for "
            f"{len(plan.shipments)} shipments = total {money(plan.total_cost, currency)}"
        )
    return text


def explain_text(order: Order, result: PlanResult, currency: str) -> str:
    """The plan of one order, its cost breakdown and the alternatives it beat, with the
    numbers the API reports (:func:`omniroute.server.convert.plan_to_proto` rounds them)."""
    from omniroute.server.convert import plan_to_proto

    plan = plan_to_proto(result.plan)
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
        f"Order {order.id} ({order.channel.value.lower().replace('_', ' ')} order, "
        f"{len(order.lines)} line(s), {units} unit(s), {where}{promise}{limit})"
    ]
    stats = result.stats
    out.append(
        f"Plan: {result.plan.status.value.lower()}, {money(plan.total_cost, currency)}, "
        f"{plan.delivery_days} day(s), {len(plan.shipments)} shipment(s) — "
        f"{proof_label(result)}, planned in {stats.solve_micros / 1000:.2f} ms"
        f"\nMethod: {method_label(stats.method)}"
    )
    if plan.shipments:
        out.append(shipments_table(plan, currency))
    if result.plan.unfilled_lines:
        out.append(
            table(
                ["unfilled line", "units", "reason"],
                [
                    [u.line_id, u.quantity, REASON_WORDS.get(u.reason, u.reason.value)]
                    for u in result.plan.unfilled_lines
                ],
            )
        )
    if result.options:
        out.append("Options (delivery days against cost):")
        out.append(
            table(
                ["days", f"cost ({currency})", "shipments"],
                [
                    [p.delivery_days, plan_to_proto(p).total_cost, len(p.shipments)]
                    for p in result.options
                ],
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
                    plan_to_proto(p).total_cost if p is not None and complete else "-",
                    p.delivery_days if p is not None and complete else "-",
                    alternative.verdict,
                ]
            )
        out.append(table(["alternative", f"cost ({currency})", "days", "verdict"], rows))
    return "\n".join(out)


# ----------------------------------------------------------------------------- units and words


def percent(fraction: float) -> str:
    """A rate (fraction 0..1) as percent with one decimal: ``0.1562`` -> ``15.6%``; a rate
    above zero that would round to 0.0 reads ``<0.1%``."""
    if 0 < fraction < 0.0005:
        return "<0.1%"
    return f"{100 * fraction:.1f}%"


def money(amount: float, currency: str) -> str:
    """``1,234.56 AUD``: rounded to cents, with the currency code."""
    return f"{amount:,.2f} {currency}".rstrip()


REASON_WORDS = {
    UnfilledReason.OUT_OF_STOCK: "out of stock everywhere",
    UnfilledReason.NO_SERVICE_TO_DESTINATION: "no carrier reaches the address",
    UnfilledReason.NO_SERVICE_WITHIN_PROMISE: "stock too far away to meet the promise",
    UnfilledReason.EXCEEDS_MAX_SHIPMENTS: "needs more shipments than the order allows",
    UnfilledReason.NOT_TOGETHER: "no one node holds all of a ship-together group",
    UnfilledReason.PARTIAL_NOT_ALLOWED: "the rest could ship, but no partial delivery allowed",
}
"""Reason codes of unfilled lines in plain words, most fundamental first."""


def incomplete_reason(plan: Plan) -> UnfilledReason | None:
    """Why a plan is incomplete, as one reason: the most fundamental of its unfilled lines'
    reasons (an order whose other lines are ``PARTIAL_NOT_ALLOWED`` counts under the reason
    of the line that cannot ship); None for a complete plan."""
    reasons = {u.reason for u in plan.unfilled_lines}
    for reason in REASON_WORDS:
        if reason in reasons:
            return reason
    return None


def incomplete_by_reason(results: Sequence[PlanResult]) -> Counter[UnfilledReason]:
    """Incomplete orders counted by :func:`incomplete_reason`."""
    return Counter(
        reason
        for r in results
        if r.plan.status is not PlanStatus.COMPLETE
        and (reason := incomplete_reason(r.plan)) is not None
    )


_METHOD_WORDS = {
    "candidates": "stock check, no search needed",
    "single-node-bound": "one node, proven by a bound",
    "dp": "exact search (dynamic programming)",
    "branch-and-bound": "exact search (branch and bound)",
    "enumeration": "exact search (enumeration)",
    "cp-sat": "CP-SAT solver",
    "baseline": "baseline rule (nearest node with stock)",
    "joint": "joint allocation of the batch",
    "sequential (no better joint plan)": "each order in turn (no better joint plan)",
}


def method_label(method: str) -> str:
    """The optimiser's method name in plain words: ``single-node-bound (2 parts)`` ->
    ``one node per part, proven by a bound (2 independent parts)``."""
    prefix = ""
    if method.startswith("joint/"):
        prefix, method = "joint allocation: ", method.removeprefix("joint/")
    match = re.fullmatch(r"(.*) \((\d+) parts\)", method)
    if not match:
        return prefix + _METHOD_WORDS.get(method, method)
    method, parts = match.group(1), f" ({match.group(2)} independent parts)"
    if method == "single-node-bound":
        return prefix + "one node per part, proven by a bound" + parts
    return prefix + _METHOD_WORDS.get(method, method) + parts


def proof_label(result: PlanResult) -> str:
    """``proven optimal``, or ``feasible, within 2.4% of optimal`` / ``feasible``."""
    stats = result.stats
    if stats.proof is Proof.OPTIMAL:
        return "proven optimal"
    if stats.gap is not None:
        return f"feasible, within {percent(stats.gap)} of optimal"
    return "feasible"


def allocate_text(summary: Mapping[str, Any], currency: str) -> str:
    """The ``allocate`` summary for people: money with the currency, the gap in percent."""
    windows = int(summary["windows"])
    proven = summary["proof"] == "OPTIMAL"
    methods = ", ".join(method_label(m) for m in summary["method"]) or "-"
    rows = [
        ["total cost", money(summary["totalCost"], currency)],
        ["units left unfilled", f"{summary['unitsUnfilled']:,}"],
        *(
            [["opportunity cost of the stock used", money(summary["opportunityCost"], currency)]]
            if "opportunityCost" in summary
            else []
        ),
        [
            f"objective (cost + {money(summary['unfilledPenalty'], currency)} per unfilled unit"
            + (" + opportunity cost)" if "opportunityCost" in summary else ")"),
            money(summary["objective"], currency),
        ],
        ["lower bound (no allocation is cheaper)", money(summary["lowerBound"], currency)],
        ["gap to the lower bound", percent(float(summary["gap"]))],
        ["proof", "proven optimal" if proven else "feasible (not proven optimal)"],
        [
            "saving against planning each order in turn",
            money(summary["savingVsSequential"], currency),
        ],
        ["method", methods],
    ]
    head = (
        f"allocated {summary['orders']:,} orders in {windows:,} window{'s' if windows != 1 else ''}"
        f" ({summary['solveSeconds']:.1f} s)"
    )
    return head + "\n" + table(["result", "value"], rows, "")


def lookahead_text(summary: Mapping[str, Any], currency: str) -> str:
    """The ``lookahead evaluate`` summary for people: one row per policy and hindsight."""
    rows = []
    gaps = summary["gapClosed"]
    for name, figures in summary["policies"].items():
        gap = gaps.get(name)
        rows.append([
            name,
            money(figures["shippingCost"], currency),
            f"{figures['lostUnits']:,}",
            money(figures["totalCost"], currency),
            "-" if gap is None else percent(float(gap)),
        ])  # fmt: skip
    proven = "proven" if summary["hindsightProven"] else "lower bound"
    rows.append(["hindsight (" + proven + ")", "", "", money(summary["hindsightCost"], currency),
                 percent(1.0)])  # fmt: skip
    rows.append(["clairvoyant lower bound", "", "", money(summary["clairvoyantLowerBound"], currency),
                 ""])  # fmt: skip
    forecast = (
        "perfect forecast (the orders' own rates and baskets)"
        if summary["forecast"] == "perfect"
        else "forecast from --forecast"
    )
    model = "baskets" if summary.get("opportunityCosts") == "baskets" else "rates per SKU"
    head = (
        f"replayed {summary['orders']:,} orders, {forecast}; lost sale "
        f"{money(summary['lostSaleCost'], currency)} per unit; λ from {model}, "
        f"theta {summary['theta']:g}"
    )
    table_text = table(["policy", "shipping", "lost units", "total cost", "gap closed"], rows, "")
    return head + "\n" + table_text


def kpi_cell(name: str, value: float | int) -> str:
    """One KPI value for a table: rates as ``15.6`` under a "(%)" label, money to cents,
    means to two decimals, counts with thousands separators."""
    from omniroute.scenario import MONEY_KPIS, RATE_KPIS, snake_case

    field_name = snake_case(name)
    if field_name in RATE_KPIS:
        return f"{100.0 * value:.1f}"
    if field_name in MONEY_KPIS or isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def kpi_table(columns: Mapping[str, Mapping[str, Any]], names: Sequence[str], currency: str) -> str:
    """KPIs side by side, one column per run: plain-word labels with units ("split rate
    (%)", "cost per order (AUD)") and values as :func:`kpi_cell` shows them. ``columns`` maps
    a column heading to KPI values by lowerCamelCase key; ``names`` are the KPIs to show."""
    from omniroute.scenario import camel_case, kpi_label

    rows = [
        [kpi_label(name, currency)]
        + [kpi_cell(name, values[camel_case(name)]) for values in columns.values()]
        for name in names
    ]
    return table(["KPI", *columns], rows, "")


# ----------------------------------------------------------------------------- order status


def _when(stamp: Any) -> str:
    """A Timestamp as RFC 3339 UTC to the second ("" when unset)."""
    return stamp.ToJsonString()[:19] + "Z" if stamp.seconds else ""


def event_summary(event: Any) -> str:
    """One line on what an order event says (from its JSON payload)."""
    data = json.loads(event.payload_json or "{}")

    def units(lines: Sequence[Mapping[str, Any]]) -> str:
        return ", ".join(
            f"{x.get('nodeId', '') + ' ' if 'nodeId' in x else ''}"
            f"{x.get('skuId') or x.get('lineId')} x{x['quantity']}"
            for x in lines
        )

    name = type(event).Type.Name(event.type)
    if name == "RESERVATION_HELD":
        return f"routed and held: {units(data.get('lines', []))}"
    if name == "ORDER_REROUTED":
        moved = ", ".join(data.get("reroutedNodeIds", [])) or "no new node"
        return f"{data.get('nodeId')} rejected ({data.get('reason')}): re-routed to {moved}"
    if name == "ORDER_REPROMISED":
        ships = ", ".join(data.get("shipFromNodeIds", [])) or "nothing"
        lost = int(data.get("unpromisedUnits", 0))
        tail = f"; {counted(lost, 'unit')} no longer promised" if lost else ""
        return f"supply {', '.join(data.get('nodeIds', []))} changed: now ships from {ships}{tail}"
    if name == "SHIPMENT_CONFIRMED":
        carrier = f" by {data['carrier']}" if data.get("carrier") else ""
        return (
            f"{data.get('nodeId')} shipped {units(data.get('lines', []))}{carrier}, "
            f"tracking {data.get('trackingNumber')}"
        )
    if name == "DELIVERY_CONFIRMED":
        return f"delivered: tracking {data.get('trackingNumber')} from {data.get('nodeId')}"
    if name == "ORDER_CANCELLED":
        why = f" ({data['reason']})" if data.get("reason") else ""
        return f"cancelled {counted(int(data.get('units', 0)), 'unshipped unit')}{why}"
    if name in ("RESERVATION_COMMITTED", "RESERVATION_RELEASED", "RESERVATION_EXPIRED"):
        settled = name.split("_", 1)[1].lower()
        causes = {
            ("committed", "ORDER_SHIPPED"): " (every unit shipped)",
            ("committed", "ORDER_CANCELLED"): " (what shipped; the rest cancelled)",
            ("released", "ORDER_CANCELLED"): " (the order cancelled)",
            ("released", "NETWORK_REPLACED"): " (the network replaced)",
        }
        return f"reservation {settled}{causes.get((settled, data.get('cause', '')), '')}"
    if name in ("RETURN_PLANNED", "RETURN_RECEIVED"):
        legs = ", ".join(
            f"{leg['nodeId']} {leg['action'].replace('_', ' ').lower()}"
            for leg in data.get("legs", [])
        )
        return f"return {event.return_id} {name.split('_', 1)[1].lower()}: {legs}"
    return name.replace("_", " ").lower()


def order_status_text(status: Any) -> str:
    """An ``OrderStatus`` for a call-centre agent: units per line, shipments with tracking
    numbers, and the timeline."""
    state = type(status).DESCRIPTOR.fields_by_name["state"].enum_type.values_by_number
    head = f"order {status.order_id}"
    if status.customer_id:
        head += f" (customer {status.customer_id})"
    parts = [
        f"{head}: {state[status.state].name}, reservation {status.reservation_id}, "
        f"updated {_when(status.update_time)}",
        "",
        table(
            ["line", "SKU", "ordered", "planned", "open", "shipped", "delivered", "cancelled"],
            [
                [
                    x.line_id,
                    x.sku_id,
                    x.ordered,
                    x.planned,
                    x.open,
                    x.shipped,
                    x.delivered,
                    x.cancelled,
                ]
                for x in status.lines
            ],
        ),
    ]
    if status.shipments:
        parts += [
            "",
            "shipments",
            table(
                ["from", "carrier", "tracking", "units", "shipped", "delivered"],
                [
                    [
                        s.node_id,
                        s.carrier or "-",
                        s.tracking_number or "-",
                        ", ".join(f"{x.sku_id or x.line_id} x{x.quantity}" for x in s.lines),
                        _when(s.ship_time),
                        _when(s.delivery_time) or "-",
                    ]
                    for s in status.shipments
                ],
            ),
        ]
    if status.timeline:
        parts += [
            "",
            "timeline",
            *(f"  {_when(e.time)}  {event_summary(e)}" for e in status.timeline),
        ]
    return "\n".join(parts)


def orders_list_text(orders: Sequence[Any]) -> str:
    """One row per order: id, customer, state, units open / shipped / cancelled, nodes."""
    if not orders:
        return "  no orders"
    names = type(orders[0]).DESCRIPTOR.fields_by_name["state"].enum_type.values_by_number
    return table(
        ["order", "customer", "state", "open", "shipped", "cancelled", "nodes", "updated"],
        [
            [
                o.order_id,
                o.customer_id or "-",
                names[o.state].name,
                sum(x.open for x in o.lines),
                sum(x.shipped for x in o.lines),
                sum(x.cancelled for x in o.lines),
                " ".join(s.node_id for s in o.plan.shipments),
                _when(o.update_time),
            ]
            for o in orders
        ],
    )
