"""Scenario runs, comparisons and sweeps for planners (``omniroute scenario ...``).

A run directory holds ``kpis.json`` (the :class:`~omniroute.scenario.ScenarioKpis` with the
run's name, mode, changes, currency and input files' fingerprints), ``outcomes.jsonl`` (one compact line per order),
``nodes.json`` (the changed network's nodes, for maps) and ``report.html``.

:func:`run_scenario_task` is one run from file paths and a changes document. A sweep
(:func:`sweep`) reads the network and orders once and runs every combination with
:func:`sweep_task`, in local processes or as Ray tasks (:mod:`omniroute.server.executors`);
a task returns its run directory's files, which the sweep writes, so both executors write
the same bytes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import omniroute
from omniroute.files import read_forecast, read_network, read_orders
from omniroute.lookahead import DemandForecast, opportunity_costs
from omniroute.model import FieldViolation, Network, Order, ValidationError
from omniroute.planner import Planner
from omniroute.scenario import (
    HEADLINE_KPIS,
    Changes,
    OrderOutcome,
    ReplayMode,
    ScenarioKpis,
    apply_changes,
    camel_case,
    read_changes,
)
from omniroute.server.executors import EXECUTORS, TaskFailure, in_processes, on_ray
from omniroute.server.progress import ProgressBar
from omniroute.server.reports import RunView, write_report


def run_scenario_task(
    network_path: str,
    orders_path: str,
    changes: Mapping[str, Any] | None,
    mode: str,
    out_dir: str,
    name: str = "",
    show_progress: bool | None = False,
    forecast_path: str | None = None,
    theta: float | None = None,
) -> dict[str, Any]:
    """Replay the orders against the changed network; write the run directory; return the
    contents of its ``kpis.json``. With ``forecast_path``, every order is routed look-ahead
    (cost + ``theta`` x the opportunity costs the forecast gives the changed network's
    stock at the start; ``theta`` None: their model's default,
    :attr:`omniroute.lookahead.OpportunityCosts.theta`)."""
    network = read_network(network_path)
    changed = apply_changes(network, read_changes(changes, network))
    orders = read_orders(orders_path, changed)
    forecast = read_forecast(forecast_path, changed) if forecast_path else None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    inputs: dict[str, Any] = {
        "network": fingerprint(network_path),
        "orders": {**fingerprint(orders_path), "records": len(orders)},
    }
    lookahead = None
    if forecast is not None and forecast_path is not None:
        inputs["forecast"] = fingerprint(forecast_path)
        lookahead = (forecast, theta)
    return _replay_into(
        out,
        network,
        changed,
        orders,
        changes,
        mode,
        name or out.name,
        inputs,
        show_progress,
        lookahead,
    )


def _replay_into(
    out: Path,
    network: Network,
    changed: Network,
    orders: Sequence[Order],
    changes: Mapping[str, Any] | None,
    mode: str,
    name: str,
    inputs: Mapping[str, Any],
    show_progress: bool | None = False,
    lookahead: tuple[DemandForecast, float | None] | None = None,
) -> dict[str, Any]:
    """Replay ``orders`` on ``changed`` and write the run directory ``out`` (the one writer
    of run directories, for ``scenario run`` and every executor of a sweep); ``lookahead``:
    (forecast, θ or None for the default of the prices' model) to route by."""
    planner = Planner(changed, validate=False)
    prices = None
    if lookahead is not None:
        forecast, weight = lookahead
        costs = opportunity_costs(planner.index, planner.inventory, forecast)
        theta = costs.theta if weight is None else weight
        prices = theta * costs.matrix(planner.index)
    bar = ProgressBar(len(orders), f"replaying {name}", show_progress)

    def advance(done: int, _total: int) -> None:
        bar.update(done)

    replay = planner.replay(
        orders, mode=ReplayMode(mode.upper()), progress=advance, validate=False, prices=prices
    )
    bar.close()
    result = replay.kpis.to_json()
    if lookahead is not None and prices is not None:
        result["lookahead"] = {
            "theta": theta,
            "pricedPositions": int(np.count_nonzero(prices)),
        }
    result["name"] = name
    result["mode"] = mode.lower()
    result["changes"] = dict(changes or {})
    result["currency"] = network.currency
    result["inputs"] = dict(inputs)
    result["version"] = omniroute.__version__
    (out / "kpis.json").write_text(json.dumps(result, indent=1) + "\n")
    with open(out / "outcomes.jsonl", "w", encoding="utf-8") as handle:
        for outcome in replay.outcomes:
            handle.write(json.dumps(outcome.to_json(), separators=(",", ":")) + "\n")
    nodes = _nodes(changed, {n.id for n in network.nodes})
    (out / "nodes.json").write_text(json.dumps(nodes) + "\n")
    write_report(
        out / "report.html",
        f"Scenario {result['name']}",
        [RunView(result["name"], replay.kpis, replay.outcomes, nodes, result)],
    )
    return result


def fingerprint(path: str | Path) -> dict[str, Any]:
    """An input file as a run records it: absolute path, size in bytes and SHA-256."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {
        "path": str(Path(path).resolve()),
        "bytes": Path(path).stat().st_size,
        "sha256": digest.hexdigest(),
    }


def _nodes(network: Network, base_ids: set[str]) -> dict[str, dict]:
    return {
        n.id: {
            "kind": n.kind.value,
            "lat": n.location.latitude,
            "lon": n.location.longitude,
            "disabled": n.disabled,
            "added": n.id not in base_ids,
            "name": n.name,
        }
        for n in network.nodes
    }


def load_run(directory: str | Path) -> tuple[str, ScenarioKpis, list[OrderOutcome], dict]:
    """A run directory written by :func:`run_scenario_task`: name, KPIs, outcomes, nodes
    (the whole ``kpis.json`` is :func:`run_info`)."""
    path = Path(directory)
    try:
        result = json.loads((path / "kpis.json").read_text())
        nodes = json.loads((path / "nodes.json").read_text())
        outcomes = [
            OrderOutcome.from_json(json.loads(line))
            for line in (path / "outcomes.jsonl").read_text().splitlines()
            if line.strip()
        ]
        kpis = ScenarioKpis.from_json(result)
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise ValidationError(
            [FieldViolation(str(path), f"not a scenario run directory: {error}")], "scenario run"
        ) from None
    return result.get("name", path.name), kpis, outcomes, nodes


def compare(directories: list[str], out_dir: str) -> dict[str, Any]:
    """Side-by-side KPIs with deltas against the first run, and an HTML report with plots."""
    runs = [load_run(d) for d in directories]
    infos = [run_info(d) for d in directories]
    warnings = input_warnings([name for name, *_ in runs], infos)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    nodes: dict[str, dict] = {}
    for *_, run_nodes in runs:
        nodes.update(run_nodes)
    base = runs[0][1]
    table = {
        name: {camel_case(key): getattr(kpis, key) for key in HEADLINE_KPIS}
        for name, kpis, _, _ in runs
    }
    deltas = {
        name: {
            camel_case(key): round(getattr(kpis, key) - getattr(base, key), 6)
            for key in HEADLINE_KPIS
        }
        for name, kpis, _, _ in runs
    }
    comparison = {"base": runs[0][0], "kpis": table, "deltas": deltas, "warnings": warnings}
    (out / "compare.json").write_text(json.dumps(comparison, indent=1) + "\n")
    write_report(
        out / "report.html",
        "Scenario comparison: " + " vs ".join(name for name, *_ in runs),
        [
            RunView(name, kpis, outcomes, run_nodes, info)
            for (name, kpis, outcomes, run_nodes), info in zip(runs, infos, strict=True)
        ],
        warnings,
    )
    return comparison


def run_info(directory: str | Path) -> dict[str, Any]:
    """A run's ``kpis.json`` document: KPIs plus name, mode, changes, currency, inputs."""
    try:
        info = json.loads((Path(directory) / "kpis.json").read_text())
    except (OSError, ValueError) as error:
        raise ValidationError(
            [FieldViolation(str(directory), f"not a scenario run directory: {error}")],
            "scenario run",
        ) from None
    return info if isinstance(info, dict) else {}


def input_warnings(names: Sequence[str], infos: Sequence[Mapping[str, Any]]) -> list[str]:
    """Why runs may not compare like with like: a different network file, order set or
    mode than the first run, or runs that do not record their inputs."""
    warnings = []
    base, base_info = names[0], infos[0]
    for name, info in zip(names, infos, strict=True):
        if not info.get("inputs"):
            warnings.append(
                f"run {name!r} does not record its input files (written by an older "
                "omniroute): re-run it to check that the runs used the same network and orders"
            )
    for name, info in zip(names[1:], infos[1:], strict=True):
        for role, what in (("network", "network file"), ("orders", "order set")):
            mine = (info.get("inputs") or {}).get(role)
            theirs = (base_info.get("inputs") or {}).get(role)
            if mine and theirs and mine.get("sha256") != theirs.get("sha256"):
                warnings.append(
                    f"run {name!r} used a different {what} than the base run {base!r} "
                    f"({mine.get('path')} vs {theirs.get('path')}): its KPI changes mix the "
                    "scenario's changes with different inputs"
                )
        if info.get("mode") != base_info.get("mode"):
            warnings.append(
                f"run {name!r} was replayed in {info.get('mode')} mode, the base run {base!r} "
                f"in {base_info.get('mode')} mode: the planning method differs, not only the "
                "scenario"
            )
    return warnings


def _grid(spec: dict) -> list[tuple[str, dict]]:
    """Expand ``{"base": {...}, "grid": {"a.b.c": [v1, v2], ...}}`` into named changes."""
    if not isinstance(spec, dict):
        raise ValidationError(
            [FieldViolation("(root)", 'must be an object {"base": {...}, "grid": {...}}')], "sweep"
        )
    base = spec.get("base", {})
    grid = spec.get("grid", {})
    if not isinstance(base, dict):
        raise ValidationError([FieldViolation("base", "must be a changes object")], "sweep")
    if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
        raise ValidationError(
            [FieldViolation("grid", "must map change paths to non-empty lists")], "sweep"
        )
    # A run is named by the last key of each grid path (the whole path where two paths share
    # a last key) and its value; the name is also its directory's name, so it may hold only
    # letters, digits and - _ . = (anything else becomes _).
    last = [path.split(".")[-1] for path in grid]
    labels = [key if last.count(key) == 1 else path for key, path in zip(last, grid, strict=True)]
    runs: list[tuple[str, dict]] = []
    for values in itertools.product(*grid.values()):
        changes = json.loads(json.dumps(base))
        parts = []
        for path, label, value in zip(grid, labels, values, strict=True):
            target = changes
            keys = path.split(".")
            for depth, key in enumerate(keys[:-1]):
                target = target.setdefault(key, {})
                if not isinstance(target, dict):
                    inside = ".".join(keys[: depth + 1])
                    raise ValidationError(
                        [
                            FieldViolation(
                                f"grid[{path!r}]",
                                f"goes inside {inside!r}, which the base sets to a value, not "
                                "an object",
                            )
                        ],
                        "sweep",
                    )
            target[keys[-1]] = value
            parts.append(f"{label}={value}")
        name = unique = safe("_".join(parts)) or "base"
        number = 1
        while any(unique == other for other, _ in runs):  # one folder each
            number += 1
            unique = f"{name}-{number}"
        runs.append((unique, changes))
    return runs


SWEEP_KEYS = (
    "name",
    "costPerOrder",
    "totalCost",
    "splitRate",
    "meanDeliveryDays",
    "onTimeRate",
    "unitsFilled",
)

RUN_FILES = ("kpis.json", "outcomes.jsonl", "nodes.json", "report.html")


@dataclass(frozen=True, slots=True)
class RunFiles:
    """What one run of a sweep produced: its ``kpis.json`` document and the bytes of every
    file of its run directory (the executor's worker may not share the driver's disk)."""

    kpis: dict[str, Any]
    files: dict[str, bytes]


def sweep_task(
    network: Network,
    orders: Sequence[Order],
    inputs: Mapping[str, Any],
    run: tuple[str, Mapping[str, Any], str],
) -> RunFiles:
    """One run of a sweep: ``run`` = (name, changes, mode) replayed on the shared, already
    read and validated ``network`` and ``orders``; the run directory's files as bytes."""
    name, changes, mode = run
    changed = apply_changes(network, read_changes(changes, network))
    with tempfile.TemporaryDirectory(prefix="omniroute-run-") as folder:
        kpis = _replay_into(Path(folder), network, changed, orders, changes, mode, name, inputs)
        files = {file: (Path(folder) / file).read_bytes() for file in RUN_FILES}
    return RunFiles(kpis, files)


class SweepFailed(Exception):
    """Some runs of a sweep failed; the others' run directories and ``sweep.json`` were
    written. ``failures`` holds (run name, :class:`~omniroute.server.executors.TaskFailure`)."""

    def __init__(self, failures: list[tuple[str, TaskFailure]], completed: int, out: Path):
        self.failures = failures
        self.completed = completed
        self.out = out
        lines = [f"run {name} failed: {failure}" for name, failure in failures]
        super().__init__(
            f"{len(failures)} of {len(failures) + completed} runs failed; the {completed} "
            f"completed runs are written to {out} (and listed in {out / 'sweep.json'}):\n"
            + "\n".join(lines)
        )


def sweep(
    network_path: str,
    orders_path: str,
    grid_path: str,
    mode: str,
    out_dir: str,
    workers: int | None = None,
    executor: str = "processes",
    ray_address: str | None = None,
    show_progress: bool | None = None,
) -> list[dict[str, Any]]:
    """Run every combination of the grid, with a progress bar; return ``sweep.json``.

    The grid, the network and the orders are read and every run validated before any run
    starts. ``executor`` is ``processes`` (a pool of ``workers`` local processes, default
    one per core) or ``ray`` (Ray tasks: on the cluster at ``ray_address``, else on a
    local Ray with ``workers`` CPUs); both write the same bytes. Each run's directory is
    written as soon as it finishes; when runs fail the others still finish and are kept,
    ``sweep.json`` lists the completed ones, and :class:`SweepFailed` names the failures.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; known: {', '.join(EXECUTORS)}")
    try:
        spec = json.loads(Path(grid_path).read_text())
    except FileNotFoundError:
        raise ValidationError([FieldViolation(grid_path, "no such file")], "sweep") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationError([FieldViolation(grid_path, f"not JSON: {error}")], "sweep") from None
    runs = _grid(spec)
    network = read_network(network_path)
    problems = []
    parsed: list[tuple[str, Changes]] = []
    for name, changes in runs:  # validate every run before starting any
        try:
            parsed.append((name, read_changes(changes, network)))
        except ValidationError as error:
            problems += [
                FieldViolation(f"{name}: {v.field}", v.description) for v in error.violations
            ]
    if problems:
        raise ValidationError(problems, "sweep")
    orders = _sweep_orders(orders_path, network, parsed)
    inputs = {
        "network": fingerprint(network_path),
        "orders": {**fingerprint(orders_path), "records": len(orders)},
    }
    out = Path(out_dir)  # made by the first run written, so a sweep that cannot start leaves none
    shared = (network, orders, inputs)  # read once: to each process, or into Ray's store once
    tasks = [(name, changes, mode) for name, changes in runs]
    if executor == "ray":
        finished = on_ray(sweep_task, shared, tasks, ray_address, workers)
    else:
        finished = in_processes(sweep_task, shared, tasks, workers or os.cpu_count() or 1)
    results: dict[int, dict[str, Any]] = {}
    failures: list[tuple[int, TaskFailure]] = []
    bar = ProgressBar(len(tasks), "sweep", show_progress, unit="runs", live=True)
    try:
        with closing(finished):  # stops the executor (and a Ray it started) on any error
            for index, outcome in finished:
                if isinstance(outcome, RunFiles):
                    _write_run_files(out / tasks[index][0], outcome.files)
                    results[index] = outcome.kpis
                else:
                    failures.append((index, outcome))
                bar.update(len(results) + len(failures))
    finally:
        bar.close()
    summary = [{k: results[i][k] for k in SWEEP_KEYS} for i in sorted(results)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(summary, indent=1) + "\n")
    if failures:
        raise SweepFailed(
            [(tasks[i][0], failure) for i, failure in sorted(failures)], len(results), out
        )
    return summary


def _sweep_orders(
    orders_path: str, network: Network, runs: list[tuple[str, Changes]]
) -> list[Order]:
    """The orders, read once, and valid on every run's changed network. Only added nodes
    change whether an order is valid (a pick-up store or excluded node that exists only in
    some runs), so the orders are checked once per distinct set of added nodes."""
    orders: list[Order] | None = None
    problems: list[FieldViolation] = []
    checked: set[tuple] = set()
    for name, changes in runs:
        added = tuple(sorted((n.id, n.kind.value, n.pickup) for n in changes.add_nodes))
        if added in checked:
            continue
        checked.add(added)
        try:
            valid = read_orders(orders_path, apply_changes(network, changes))
        except ValidationError as error:
            if len(runs) == 1 or not any(r[1].add_nodes for r in runs):
                raise  # the same for every run: as scenario run reports it
            problems += [
                FieldViolation(f"{name}: {v.field}", v.description) for v in error.violations
            ]
            continue
        orders = orders if orders is not None else valid
    if problems or orders is None:
        raise ValidationError(problems, f"sweep: orders file {orders_path}")
    return orders


def _write_run_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """A run directory from a task's files, each file replaced whole (never half written)."""
    folder.mkdir(parents=True, exist_ok=True)
    for file, content in files.items():
        partial = folder / f".{file}.partial"
        partial.write_bytes(content)
        os.replace(partial, folder / file)


def safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.=" else "_" for c in name)
