"""Self-contained HTML reports with plots (PNG images inlined) for scenarios and comparisons.

matplotlib renders off-screen (Agg); every report is one HTML file that opens in any browser
without network access.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from omniroute.scenario import HEADLINE_KPIS, OrderOutcome, ScenarioKpis, camel_case  # noqa: E402

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: .3rem .8rem; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.up { color: #b00; } .down { color: #070; }
img { max-width: 100%; margin: .5rem 0; }
"""
LOWER_IS_BETTER = {"total_cost", "cost_per_order", "split_rate", "mean_delivery_days"}
Run = tuple[str, ScenarioKpis, Sequence[OrderOutcome]]


def _png(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def _cost_plot(runs: Sequence[Run]) -> str:
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    names = [name for name, _, _ in runs]
    left.bar(names, [k.cost_per_order for _, k, _ in runs], color="#4878a8")
    left.set_title("cost per shipped order")
    left.tick_params(axis="x", rotation=20)
    right.bar(names, [100 * k.split_rate for _, k, _ in runs], color="#d08040")
    right.set_title("split rate (%)")
    right.tick_params(axis="x", rotation=20)
    return _png(figure)


def _days_plot(runs: Sequence[Run]) -> str:
    figure, axis = plt.subplots(figsize=(11, 3.6))
    days = sorted({d for _, k, _ in runs for d in k.orders_by_delivery_days})
    width = 0.8 / max(len(runs), 1)
    for i, (name, k, _) in enumerate(runs):
        shipped = max(k.orders_shipped, 1)
        axis.bar(
            [d + i * width for d in days],
            [100 * k.orders_by_delivery_days.get(d, 0) / shipped for d in days],
            width,
            label=name,
        )
    axis.set_xlabel("delivery days")
    axis.set_ylabel("% of shipped orders")
    axis.set_title("delivery-day distribution")
    axis.legend()
    return _png(figure)


def _node_plot(runs: Sequence[Run]) -> str:
    totals: Counter[str] = Counter()
    for _, k, _ in runs:
        totals.update(k.shipments_by_node)
    top = [n for n, _ in totals.most_common(20)]
    figure, axis = plt.subplots(figsize=(11, 4))
    width = 0.8 / max(len(runs), 1)
    for i, (name, k, _) in enumerate(runs):
        axis.bar(
            [j + i * width for j in range(len(top))],
            [k.shipments_by_node.get(n, 0) for n in top],
            width,
            label=name,
        )
    axis.set_xticks(
        [j + 0.4 - width / 2 for j in range(len(top))], top, rotation=60, ha="right", fontsize=8
    )
    axis.set_ylabel("shipments")
    axis.set_title("node utilisation (top 20 nodes)")
    axis.legend()
    return _png(figure)


def _flow_map(runs: Sequence[Run], nodes: dict[str, dict], sample: int = 600) -> str:
    """Lines from shipping node to destination for a sample of shipments, per scenario."""
    figure, axes = plt.subplots(1, len(runs), figsize=(5.5 * len(runs), 5), squeeze=False)
    for axis, (name, _, outcomes) in zip(axes[0], runs, strict=True):
        step = max(1, len(outcomes) // sample)
        for outcome in outcomes[::step]:
            lat, lon = outcome.destination
            for node_id, _units in outcome.shipments:
                node = nodes.get(node_id)
                if node:
                    axis.plot(
                        [node["lon"], lon],
                        [node["lat"], lat],
                        color="#4878a8",
                        alpha=0.15,
                        linewidth=0.6,
                    )
        for node in nodes.values():
            color = (
                "#999"
                if node.get("disabled")
                else {"DC": "#b00", "THIRD_PARTY": "#d08040", "DROP_SHIP": "#707"}.get(
                    node["kind"], "#070"
                )
            )
            size = 40 if node["kind"] != "STORE" else 8
            axis.scatter(
                node["lon"],
                node["lat"],
                s=size,
                c=color,
                zorder=3,
                marker="x" if node.get("disabled") else "o",
            )
        axis.set_title(f"{name}: node → destination flows")
        axis.set_xlabel("longitude")
        axis.set_ylabel("latitude")
        axis.set_aspect("equal", adjustable="datalim")
    return _png(figure)


def _kpi_table(runs: Sequence[Run]) -> str:
    base = runs[0][1]
    head = "".join(
        f"<th>{html.escape(name)}</th>" + ("" if i == 0 else "<th>Δ</th>")
        for i, (name, _, _) in enumerate(runs)
    )
    rows = []
    for key in HEADLINE_KPIS:
        cells = []
        for i, (_, k, _) in enumerate(runs):
            cells.append(f"<td>{_fmt(getattr(k, key))}</td>")
            if i:
                delta = getattr(k, key) - getattr(base, key)
                better = (delta < 0) == (key in LOWER_IS_BETTER)
                css = "" if abs(delta) < 1e-12 else ("down" if better else "up")
                sign = "+" if delta > 0 else ""
                cells.append(f"<td class='{css}'>{sign}{_fmt(delta)}</td>")
        rows.append(f"<tr><td>{camel_case(key)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>KPI</th>{head}</tr>{''.join(rows)}</table>"


def write_report(
    path: Path,
    title: str,
    runs: Sequence[Run],
    nodes: dict[str, dict],
) -> None:
    """One scenario or a comparison of several (the first is the base for the deltas)."""
    body = [
        "<h2>KPIs</h2>",
        _kpi_table(runs),
        "<p>Cost per order, split rate and delivery days are over orders that shipped; on-time "
        "rate is the share of all orders shipped complete within their promise (or the "
        f"standard {runs[0][1].standard_promise_days} days).</p>",
        "<h2>Cost and split rate</h2>",
        _cost_plot(runs),
        "<h2>Delivery days</h2>",
        _days_plot(runs),
        "<h2>Node utilisation</h2>",
        _node_plot(runs),
        "<h2>Flows</h2>",
        _flow_map(runs, nodes),
    ]
    path.write_text(_page(title, "\n".join(body)))
