"""Scenario runs, comparisons and sweeps for planners (``omniroute scenario ...``).

A run directory holds ``kpis.json``, ``outcomes.jsonl`` (one compact line per order),
``nodes.json`` (the changed network's nodes, for maps) and ``report.html``.

:func:`run_scenario_task` is a pure function of file paths and a changes document, so a
sweep's tasks can run in local processes (``omniroute scenario sweep``) or, unchanged, on a
cluster (e.g. ``ray.remote(run_scenario_task)``).
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from omniroute.model import FieldViolation, Network, ValidationError
from omniroute.scenario import (
    HEADLINE_KPIS,
    OrderOutcome,
    apply_changes,
    kpis,
    parse_changes,
    replay,
)
from omniroute.server.convert import nodes_from_json, read_network, read_orders, stock_from_json
from omniroute.server.progress import ProgressBar, progress
from omniroute.server.reports import write_report


def load_changes(source: str | Path | dict | None, network: Network):  # -> Changes
    """A changes document from a file (or a dict), validated against ``network``."""
    if source is None:
        data: Any = {}
    elif isinstance(source, dict):
        data = source
    else:
        try:
            data = json.loads(Path(source).read_text())
        except FileNotFoundError:
            raise ValidationError(
                [FieldViolation(str(source), "no such file")], "changes"
            ) from None
        except (OSError, json.JSONDecodeError) as error:
            raise ValidationError(
                [FieldViolation(str(source), f"not JSON: {error}")], "changes"
            ) from None
    return parse_changes(data, network, nodes_from_json, stock_from_json)


def run_scenario_task(
    network_path: str,
    orders_path: str,
    changes: dict | None,
    mode: str,
    out_dir: str,
    name: str = "",
    show_progress: bool = False,
) -> dict[str, Any]:
    """Replay the orders against the changed network; write the run directory; return KPIs."""
    network = read_network(network_path)
    changed = apply_changes(network, load_changes(changes, network))
    orders = read_orders(orders_path, changed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bar = ProgressBar(len(orders), f"replaying {name or out.name}", show_progress)
    outcomes = replay(changed, orders, mode=mode, progress=lambda done, _total: bar.update(done))
    bar.close()
    result = kpis(outcomes)
    result["name"] = name or out.name
    result["mode"] = mode
    result["changes"] = changes or {}
    (out / "kpis.json").write_text(json.dumps(result, indent=1) + "\n")
    with open(out / "outcomes.jsonl", "w", encoding="utf-8") as handle:
        for outcome in outcomes:
            handle.write(json.dumps(asdict(outcome), separators=(",", ":")) + "\n")
    nodes = _nodes(changed)
    (out / "nodes.json").write_text(json.dumps(nodes) + "\n")
    write_report(
        out / "report.html",
        f"Scenario {result['name']}",
        [(result["name"], result, outcomes)],
        nodes,
    )
    return result


def _nodes(network: Network) -> dict[str, dict]:
    return {
        n.id: {
            "kind": n.kind.value,
            "lat": n.location.latitude,
            "lon": n.location.longitude,
            "disabled": n.disabled,
        }
        for n in network.nodes
    }


def load_run(directory: str | Path) -> tuple[str, dict, list[OrderOutcome], dict]:
    path = Path(directory)
    try:
        result = json.loads((path / "kpis.json").read_text())
        nodes = json.loads((path / "nodes.json").read_text())
        outcomes = []
        for line in (path / "outcomes.jsonl").read_text().splitlines():
            data = json.loads(line)
            data["shipments"] = tuple(tuple(s) for s in data["shipments"])
            data["destination"] = tuple(data["destination"])
            outcomes.append(OrderOutcome(**data))
    except (OSError, json.JSONDecodeError, TypeError, KeyError) as error:
        raise ValidationError(
            [FieldViolation(str(path), f"not a scenario run directory: {error}")], "scenario run"
        ) from None
    return result.get("name", path.name), result, outcomes, nodes


def compare(directories: list[str], out_dir: str) -> dict[str, Any]:
    """Side-by-side KPIs with deltas against the first run, and an HTML report with plots."""
    runs = [load_run(d) for d in directories]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    nodes: dict[str, dict] = {}
    for *_, run_nodes in runs:
        nodes.update(run_nodes)
    base = runs[0][1]
    table = {name: {key: result[key] for key in HEADLINE_KPIS} for name, result, _, _ in runs}
    deltas = {
        name: {k: round(v - base[k], 6) for k, v in row.items()} for name, row in table.items()
    }
    comparison = {"base": runs[0][0], "kpis": table, "deltas": deltas}
    (out / "compare.json").write_text(json.dumps(comparison, indent=1) + "\n")
    write_report(
        out / "report.html",
        "Scenario comparison",
        [(name, result, outcomes) for name, result, outcomes, _ in runs],
        nodes,
    )
    return comparison


def _grid(spec: dict) -> list[tuple[str, dict]]:
    """Expand ``{"base": {...}, "grid": {"a.b.c": [v1, v2], ...}}`` into named changes."""
    base = spec.get("base", {})
    grid = spec.get("grid", {})
    if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
        raise ValidationError(
            [FieldViolation("grid", "must map change paths to non-empty lists")], "sweep"
        )
    runs = []
    for values in itertools.product(*grid.values()):
        changes = json.loads(json.dumps(base))
        parts = []
        for path, value in zip(grid, values, strict=True):
            target = changes
            keys = path.split(".")
            for key in keys[:-1]:
                target = target.setdefault(key, {})
            target[keys[-1]] = value
            parts.append(f"{keys[-1]}={value}")
        runs.append(("_".join(parts) or "base", changes))
    return runs


def _task(args: tuple) -> dict[str, Any]:
    return run_scenario_task(*args)


def sweep(
    network_path: str, orders_path: str, grid_path: str, mode: str, out_dir: str, workers: int
) -> list[dict[str, Any]]:
    """Run every combination of the grid in parallel local processes, with a progress bar."""
    spec = json.loads(Path(grid_path).read_text())
    runs = _grid(spec)
    network = read_network(network_path)
    problems = []
    for name, changes in runs:  # validate every run before starting any
        try:
            load_changes(changes, network)
        except ValidationError as error:
            problems += [
                FieldViolation(f"{name}: {v.field}", v.description) for v in error.violations
            ]
    if problems:
        raise ValidationError(problems, "sweep")
    out = Path(out_dir)
    tasks = [
        (network_path, orders_path, changes, mode, str(out / safe(name)), name)
        for name, changes in runs
    ]
    with multiprocessing.get_context("spawn").Pool(max(1, workers)) as pool:
        results = list(progress(pool.imap(_task, tasks), len(tasks), "sweep", sys.stderr.isatty()))
    summary = [
        {
            k: r[k]
            for k in (
                "name",
                "costPerOrder",
                "totalCost",
                "splitRate",
                "meanDeliveryDays",
                "onTimeRate",
                "unitsFilled",
            )
        }
        for r in results
    ]
    (out / "sweep.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.=" else "_" for c in name)
