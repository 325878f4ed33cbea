"""Self-contained HTML reports for scenario runs and comparisons.

Every report is one HTML file that opens in any browser without network access: charts and
maps are inline SVG rendered off-screen by matplotlib (text kept as text), maps are drawn
over the country's outline from a packaged data set (:mod:`omniroute.server.maps`).

What a planner reads: what produced each run (changes in words, input files with sizes and
hashes, mode), warnings when compared runs differ in their inputs, KPI tables with plain
headers (rates in percent, money in the network's currency), labelled charts, and maps that
show where orders ship from and, in a comparison, where the orders of a closed node went.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from omniroute.scenario import OrderOutcome, ScenarioKpis, kpi_label  # noqa: E402
from omniroute.server import maps  # noqa: E402

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
  padding: 0 2rem; color: #222; max-width: 1700px; line-height: 1.4; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 2px solid #ddd; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: .35rem .9rem; border-bottom: 1px solid #ddd; text-align: right; }
th { background: #f3f3f3; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; vertical-align: top; }
td ul { margin: 0; padding-left: 1.1rem; }
.better { color: #06702a; font-weight: 600; } .worse { color: #b00020; font-weight: 600; }
.warning { background: #fff4ce; border: 2px solid #e0a800; padding: .6rem 1rem;
  margin: 1rem 0; border-radius: 4px; }
.warning h2 { margin-top: 0; border: none; font-size: 1.1rem; }
.note { color: #555; font-size: .95rem; }
figure { margin: .8rem 0; } figure svg { width: 100%; height: auto; }
code { background: #f3f3f3; padding: 0 .2rem; }
"""


@dataclass(frozen=True)
class RunView:
    """One run as a report shows it.

    ``info`` is the run's ``kpis.json`` document (name, mode, changes, inputs, currency);
    ``nodes`` the changed network's nodes (``nodes.json``)."""

    name: str
    kpis: ScenarioKpis
    outcomes: Sequence[OrderOutcome]
    nodes: Mapping[str, dict]
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """A KPI row (its label is :func:`omniroute.scenario.kpi_label`): how to read the value,
    whether lower is better."""

    key: str
    kind: str  # "count", "money", "rate", "days"
    lower_is_better: bool | None


ROWS = (
    Row("orders", "count", None),
    Row("orders_shipped", "count", False),
    Row("orders_complete", "count", False),
    Row("units_ordered", "count", None),
    Row("units_filled", "count", False),
    Row("total_cost", "money", True),
    Row("cost_per_order", "money", True),
    Row("split_rate", "rate", True),
    Row("mean_delivery_days", "days", True),
    Row("on_time_rate", "rate", False),
)


def currency_of(runs: Sequence[RunView]) -> str:
    """The currency code recorded with the runs ("" when none is)."""
    for run in runs:
        if run.info.get("currency"):
            return str(run.info["currency"])
    return ""


def _value(kind: str, value: float) -> str:
    if kind == "count":
        return f"{int(value):,}"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "rate":
        return f"{100 * value:.1f}"
    return f"{value:.2f}"


def _delta(kind: str, delta: float) -> str:
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    size = abs(delta)
    if kind == "count":
        return f"{sign}{int(size):,}"
    if kind == "money":
        return f"{sign}{size:,.2f}"
    if kind == "rate":
        return f"{sign}{100 * size:.1f} pts"
    return f"{sign}{size:.2f}"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def kpi_table(runs: Sequence[RunView]) -> str:
    """KPIs per run with plain headers; with several runs, the change against the first."""
    currency = currency_of(runs) or "currency"
    base = runs[0].kpis
    head = "".join(
        f"<th>{html.escape(run.name)}</th>"
        + ("" if i == 0 else f"<th>change vs {html.escape(runs[0].name)}</th>")
        for i, run in enumerate(runs)
    )
    rows = []
    for row in ROWS:
        cells = []
        for i, run in enumerate(runs):
            value = getattr(run.kpis, row.key)
            cells.append(f"<td>{_value(row.kind, value)}</td>")
            if i:
                delta = value - getattr(base, row.key)
                css = ""
                if abs(delta) > 1e-9 and row.lower_is_better is not None:
                    css = "better" if (delta < 0) == row.lower_is_better else "worse"
                cells.append(f"<td class='{css}'>{_delta(row.kind, delta)}</td>")
        label = html.escape(kpi_label(row.key, currency))
        rows.append(f"<tr><td>{label}</td>{''.join(cells)}</tr>")
    return f"<table class='kpis'><tr><th>KPI</th>{head}</tr>{''.join(rows)}</table>"


# ----------------------------------------------------------------------------- run inputs


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _plural(count: Any, word: str) -> str:
    return f"{_number(count)} {word}{'' if count == 1 else 's'}"


def _settings(section: Mapping[str, Any], what: str, unit: str) -> list[str]:
    def amount(value: Any) -> str:
        if unit == "shipment" and value == 0:
            return "unlimited"
        return _plural(value, unit)

    out = []
    for kind, value in (section.get("byKind") or {}).items():
        out.append(f"{what} set to {amount(value)} at every {kind} node")
    for node, value in (section.get("byNode") or {}).items():
        out.append(f"{what} set to {amount(value)} at {node}")
    return out


def describe_changes(changes: Mapping[str, Any] | None, currency: str = "") -> list[str]:
    """A changes document in plain words, one sentence per change (empty: no changes)."""
    if not changes:
        return []
    words: list[str] = []
    closed = changes.get("closeNodes") or []
    if closed:
        words.append(f"close {', '.join(map(str, closed))} (ships nothing)")
    for node in changes.get("addNodes") or []:
        where = node.get("location") or {}
        name = f" ({node['name']})" if node.get("name") else ""
        words.append(
            f"add {node.get('kind', 'node')} {node.get('id')}{name} at latitude "
            f"{where.get('latitude')}, longitude {where.get('longitude')}"
        )
    stock = changes.get("addStock") or []
    if stock:
        units = sum(int(p.get("onHand", p.get("quantity", 0)) or 0) for p in stock)
        at = sorted({str(p.get("nodeId")) for p in stock})
        words.append(
            f"add {_plural(len(stock), 'stock position')} ({_plural(units, 'unit')}) at "
            f"{', '.join(at)}"
        )
    rates = changes.get("carrierRates") or {}
    for label, section in (("carrier", "byCarrier"), ("service", "byService")):
        for name, factor in (rates.get(section) or {}).items():
            words.append(f"{label} {name}: prices × {factor:g} ({(factor - 1) * 100:+.0f}%)")
    words += _settings(changes.get("safetyStock") or {}, "safety stock", "unit")
    words += _settings(changes.get("processingDays") or {}, "processing time", "day")
    words += _settings(changes.get("capacity") or {}, "daily shipment capacity", "shipment")
    if changes.get("splitPenalty") is not None:
        unit = f" {currency}" if currency else ""
        words.append(f"split penalty set to {changes['splitPenalty']:g}{unit} per extra shipment")
    known = {
        "closeNodes",
        "addNodes",
        "addStock",
        "carrierRates",
        "safetyStock",
        "processingDays",
        "capacity",
        "splitPenalty",
    }
    for key in changes:
        if key not in known:
            words.append(f"{key}: {changes[key]!r}")
    return words


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return str(count)


def _input_cells(info: Mapping[str, Any]) -> dict[str, str]:
    changes = describe_changes(info.get("changes"), str(info.get("currency", "")))
    items = "".join(f"<li>{html.escape(c)}</li>" for c in changes)
    cells = {
        "changes": f"<ul>{items}</ul>" if items else "none: the base network as it is",
        "mode": html.escape(str(info.get("mode", "not recorded"))),
    }
    inputs = info.get("inputs") or {}
    for role in ("network", "orders"):
        item = inputs.get(role)
        if not item:
            cells[f"{role} file"] = "not recorded (run written by an older omniroute)"
            continue
        extra = f", {item['records']:,} orders" if "records" in item else ""
        cells[f"{role} file"] = (
            f"<code>{html.escape(str(item['path']))}</code><br>{_size(int(item['bytes']))}"
            f"{extra}, SHA-256 <code title='{html.escape(str(item['sha256']))}'>"
            f"{html.escape(str(item['sha256'])[:12])}…</code>"
        )
    seed = info.get("seed")
    cells["seed"] = (
        html.escape(str(seed)) if seed is not None else "none (the replay is deterministic)"
    )
    cells["currency"] = html.escape(str(info.get("currency") or "not recorded"))
    cells["software"] = f"omniroute {html.escape(str(info.get('version', 'not recorded')))}"
    return cells


def inputs_table(runs: Sequence[RunView]) -> str:
    """What produced each run: its changes in words, mode, input files (path, size, hash),
    seed, currency and software, one column per run."""
    cells = [_input_cells(run.info) for run in runs]
    head = "".join(f"<th class='text'>{html.escape(run.name)}</th>" for run in runs)
    rows = "".join(
        f"<tr><td>{key}</td>" + "".join(f"<td class='text'>{c[key]}</td>" for c in cells) + "</tr>"
        for key in cells[0]
    )
    return (
        f"<table class='inputs'><tr><th>run</th>{head}</tr>{rows}</table>"
        "<p class='note'>Mode: sequential plans each order optimally in turn; batch plans "
        "windows of 200 orders jointly. The orders file's hash identifies the order set.</p>"
    )


def warnings_box(warnings: Sequence[str]) -> str:
    """The warnings shown at the top of a comparison (nothing when there are none)."""
    if not warnings:
        return ""
    items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
    return (
        "<div class='warning' role='alert' id='input-warnings'><h2>Warning: these runs did "
        f"not use the same inputs</h2><ul>{items}</ul></div>"
    )


# ----------------------------------------------------------------------------- charts


def _bar_labels(axis: plt.Axes, bars: Any, fmt: Callable[[float], str]) -> None:
    for bar in bars:
        height = bar.get_height()
        axis.annotate(
            fmt(height),
            (bar.get_x() + bar.get_width() / 2, height),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=10,
        )


def _cost_plot(runs: Sequence[RunView]) -> str:
    currency = currency_of(runs) or "currency"
    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 4.5))
    names = [run.name for run in runs]
    bars = left.bar(names, [r.kpis.cost_per_order for r in runs], color="#4878a8")
    _bar_labels(left, bars, lambda v: f"{v:,.2f}")
    left.set_title(f"cost per shipped order ({currency})")
    left.set_ylabel(f"{currency} per shipped order")
    left.margins(y=0.15)
    bars = right.bar(names, [100 * r.kpis.split_rate for r in runs], color="#d08040")
    _bar_labels(right, bars, lambda v: f"{v:.1f}%")
    right.set_title("split rate (%)")
    right.set_ylabel("% of shipped orders sent in more than one parcel")
    right.margins(y=0.15)
    for axis in (left, right):
        axis.tick_params(axis="x", rotation=15)
    figure.tight_layout()
    return maps.svg(figure, "cost per shipped order and split rate")


def _days_plot(runs: Sequence[RunView]) -> str:
    figure, axis = plt.subplots(figsize=(14, 4.5))
    days = sorted({d for run in runs for d in run.kpis.orders_by_delivery_days})
    width = 0.8 / max(len(runs), 1)
    for i, run in enumerate(runs):
        shipped = max(run.kpis.orders_shipped, 1)
        axis.bar(
            [d + (i - (len(runs) - 1) / 2) * width for d in days],
            [100 * run.kpis.orders_by_delivery_days.get(d, 0) / shipped for d in days],
            width,
            label=run.name,
        )
    axis.set_xticks(days)
    axis.set_xlabel("delivery days (from order to delivery)")
    axis.set_ylabel("% of shipped orders")
    axis.set_title("delivery-day distribution (% of shipped orders)")
    axis.legend(title="run")
    figure.tight_layout()
    return maps.svg(figure, "delivery-day distribution")


def _node_plot(runs: Sequence[RunView]) -> str:
    totals: Counter[str] = Counter()
    for run in runs:
        totals.update(run.kpis.shipments_by_node)
    top = [n for n, _ in totals.most_common(20)]
    figure, axis = plt.subplots(figsize=(14, 5))
    width = 0.8 / max(len(runs), 1)
    for i, run in enumerate(runs):
        axis.bar(
            [j + (i - (len(runs) - 1) / 2) * width for j in range(len(top))],
            [run.kpis.shipments_by_node.get(n, 0) for n in top],
            width,
            label=run.name,
        )
    axis.set_xticks(range(len(top)), top, rotation=50, ha="right", fontsize=9)
    axis.set_ylabel("shipments (parcels sent)")
    axis.set_xlabel("shipping node")
    axis.set_title("shipments per node (the 20 busiest nodes)")
    axis.legend(title="run")
    figure.tight_layout()
    return maps.svg(figure, "shipments per node")


def moved_table(base: RunView, run: RunView, limit: int = 15) -> str:
    """Orders whose shipping nodes changed, by (before, after), largest first."""
    moved = maps.moves(base.outcomes, run.outcomes)
    if not moved.by_pair:
        return f"<p>No order changed shipping node in {html.escape(run.name)}.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(old)}</td><td class='text'>{html.escape(new)}</td>"
        f"<td>{count:,}</td></tr>"
        for (old, new), count in list(moved.by_pair.items())[:limit]
    )
    more = len(moved.by_pair) - limit
    note = f"<p class='note'>…and {more:,} smaller moves.</p>" if more > 0 else ""
    return (
        f"<p>{len(moved.orders):,} of {len(run.outcomes):,} orders ship from other nodes in "
        f"{html.escape(run.name)} than in {html.escape(base.name)}.</p>"
        f"<table class='moves'><tr><th>shipped from in {html.escape(base.name)}</th>"
        f"<th class='text'>ships from in {html.escape(run.name)}</th><th>orders</th></tr>{rows}</table>{note}"
    )


def write_report(
    path: Path, title: str, runs: Sequence[RunView], warnings: Sequence[str] = ()
) -> None:
    """One scenario run, or a comparison of several (the first is the base for changes)."""
    currency = currency_of(runs)
    money = f" in {currency}" if currency else ""
    body = [
        warnings_box(warnings),
        "<h2>What produced " + ("these runs" if len(runs) > 1 else "this run") + "</h2>",
        inputs_table(runs),
        "<h2>KPIs</h2>",
        kpi_table(runs),
        f"<p class='note'>Money is{money} (rounded to cents); rates are percentages of "
        "orders. Cost per order, split rate and delivery days are over orders that shipped "
        "anything; on time is the share of all orders shipped complete within their promise "
        f"(or the standard {runs[0].kpis.standard_promise_days} days)."
        + (
            " In the change columns green is better and red worse; “pts” are percentage points."
            if len(runs) > 1
            else ""
        )
        + "</p>",
    ]
    if len(runs) > 1:
        for run in runs[1:]:
            body += [
                f"<h2>Where the orders went: {html.escape(runs[0].name)} → "
                f"{html.escape(run.name)}</h2>",
                moved_table(runs[0], run),
                maps.compare_maps(
                    runs[0].name,
                    runs[0].outcomes,
                    run.name,
                    run.outcomes,
                    runs[0].nodes,
                    run.nodes,
                ),
            ]
    else:
        body += ["<h2>Flows</h2>", maps.single_map(runs[0].name, runs[0].outcomes, runs[0].nodes)]
    body += [
        "<h2>Cost and split rate</h2>",
        _cost_plot(runs),
        "<h2>Delivery days</h2>",
        _days_plot(runs),
        "<h2>Shipments per node</h2>",
        _node_plot(runs),
    ]
    path.write_text(_page(title, "\n".join(body)), encoding="utf-8")
