"""What people see of results: one unit convention (fractions in files, percent in human
displays, money with its currency), plain words instead of method names and reason codes,
honest demo summaries, and progress bars that move (drawn on stderr when forced)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omniroute.joint import allocate
from omniroute.model import Network, Order
from omniroute.planner import Planner
from omniroute.server import progress as progress_module
from omniroute.server.progress import (
    PhaseProgress,
    ProgressBar,
    duration_text,
    progress_wanted,
    rate_text,
)
from omniroute.server.tables import kpi_cell, method_label, percent


def omniroute(*args: str, forced: bool | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user does; ``forced`` sets OMNIROUTE_PROGRESS (None: unset)."""
    env = dict(os.environ)
    env.pop("OMNIROUTE_PROGRESS", None)
    if forced is not None:
        env["OMNIROUTE_PROGRESS"] = "1" if forced else "0"
    return subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def bar_lines(stderr: str) -> list[str]:
    """The successive states of the progress bars drawn on stderr."""
    return [line.rstrip() for line in re.split(r"[\r\n]", stderr) if "[" in line]


# ----------------------------------------------------------------------------- progress


def test_rates_read_naturally_at_every_speed() -> None:
    """Fast items per second, slow ones per minute, very slow ones as seconds each; never 0/s."""
    assert rate_text(5000, 2.0) == "2,500/s"
    assert rate_text(3, 2.0) == "1.5/s"
    assert rate_text(2, 60.0) == "2.0/min"
    assert rate_text(1, 150.0) == "150 s each"
    assert rate_text(0, 10.0) == ""
    assert duration_text(7.9) == "7 s" and duration_text(125) == "2 min 05 s"


def test_forced_bar_shows_count_rate_and_time_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A forced bar on slow items (a sweep's runs) shows runs/min and the time left."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    bar = ProgressBar(8, "sweep", enabled=True, unit="runs")
    bar.start -= 120  # two minutes in
    bar.update(3)
    bar.close()
    lines = bar_lines(stderr.getvalue())
    assert lines[0].startswith("sweep [....") and "0/8 runs" in lines[0]
    assert "sweep [###########" in lines[-1] and "3/8 runs" in lines[-1]
    assert "3/8 runs  1.5/min" in lines[-1] and "2 min 00 s, about 3 min 20 s left" in lines[-1]
    assert stderr.getvalue().endswith("\n")


def test_bar_silent_unless_terminal_or_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off when stderr is no terminal; OMNIROUTE_PROGRESS=1 forces it on, =0 off."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.delenv("OMNIROUTE_PROGRESS", raising=False)
    assert progress_wanted() is False
    list(progress_module.progress(range(5), 5, "quiet"))
    assert stderr.getvalue() == ""
    monkeypatch.setenv("OMNIROUTE_PROGRESS", "1")
    assert progress_wanted() is True and progress_wanted(False) is False
    monkeypatch.setenv("OMNIROUTE_PROGRESS", "0")
    assert progress_wanted() is False and progress_wanted(True) is True


def test_live_bar_moves_while_a_step_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A live one-step bar (a solver call) redraws its elapsed time without updates."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    bar = ProgressBar(1, "solving", enabled=True, live=True)
    time.sleep(1.3)
    bar.update(1)
    bar.close()
    lines = bar_lines(stderr.getvalue())
    assert len(lines) >= 3  # drawn at start, ticked at least twice, and at the end
    assert lines[-1].startswith("solving [" + "#" * 30 + "]") and lines[-1].endswith(" 1 s")


def test_allocate_reports_every_phase(tiny_network: Network, tiny_orders: dict[str, Order]) -> None:
    """The joint solver reports its phases in order, each ending with done == total."""
    seen: list[tuple[str, int, int]] = []
    allocate(
        list(tiny_orders.values()),
        Planner(tiny_network),
        progress=lambda phase, done, total: seen.append((phase, done, total)),
    )
    phases = list(dict.fromkeys(phase for phase, _, _ in seen))
    assert phases == [
        "planning each order in turn",
        "lower bound: building the LP relaxation",
        "lower bound: solving the LP relaxation",
        "solving groups of contending orders",
    ]
    for phase in phases:
        last = [(done, total) for p, done, total in seen if p == phase][-1]
        assert last[0] == last[1] > 0
    assert seen[0] == ("planning each order in turn", 0, len(tiny_orders))


def test_phase_progress_one_line_per_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each phase gets its own labelled line."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    phases = PhaseProgress("allocating", enabled=True)
    phases("planning", 0, 4)
    phases("planning", 4, 4)
    phases("solving", 1, 1)
    phases.close()
    finished = stderr.getvalue().split("\n")
    assert finished[0].split("\r")[-1].startswith("allocating: planning [" + "#" * 30 + "] 4/4")
    assert finished[1].split("\r")[-1].startswith("allocating: solving [" + "#" * 30 + "]")


# ----------------------------------------------------------------------------- words and units


def test_plain_words_for_methods_and_units() -> None:
    """Method names and rates read as plain words and percent."""
    assert method_label("single-node-bound (2 parts)") == (
        "one node per part, proven by a bound (2 independent parts)"
    )
    assert method_label("dp") == "exact search (dynamic programming)"
    assert method_label("branch-and-bound (2 parts)") == (
        "exact search (branch and bound) (2 independent parts)"
    )
    assert method_label("joint/joint") == "joint allocation: joint allocation of the batch"
    assert percent(0.017872) == "1.8%" and percent(0.0001) == "<0.1%" and percent(0) == "0.0%"
    assert kpi_cell("splitRate", 0.1731) == "17.3" and kpi_cell("costPerOrder", 21.1) == "21.10"


def test_allocate_prints_a_readable_summary(tmp_path: Path, data_dir: Path) -> None:
    """allocate: a forced bar that reaches the end of each phase on stderr; on stdout money
    with the currency and the gap in percent, while summary.json keeps the gap a fraction."""
    result = omniroute(
        "allocate",
        "--network",
        str(data_dir / "tiny_network.json"),
        "--orders",
        str(data_dir / "tiny_orders.jsonl"),
        "--out",
        str(tmp_path / "out"),
        forced=True,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    currency = json.loads((data_dir / "tiny_network.json").read_text()).get("currency", "")
    assert 0 <= summary["gap"] <= 1
    assert f"gap to the lower bound  {percent(summary['gap'])}" in re.sub(
        r" {2,}", "  ", result.stdout
    )
    assert f"{summary['totalCost']:,.2f} {currency}".strip() in result.stdout
    assert "totalCost" not in result.stdout  # no JSON keys for people
    lines = bar_lines(result.stderr)
    n = sum(1 for line in (data_dir / "tiny_orders.jsonl").read_text().splitlines() if line)
    assert any(f"allocating: planning each order in turn [{'#' * 30}] {n}/{n}" in x for x in lines)
    assert any(line.startswith("allocating: solving groups of contending orders") for line in lines)
    quiet = omniroute(
        "allocate",
        "--network",
        str(data_dir / "tiny_network.json"),
        "--orders",
        str(data_dir / "tiny_orders.jsonl"),
        "--out",
        str(tmp_path / "quiet"),
    )
    assert quiet.returncode == 0 and "[" not in quiet.stderr  # no terminal, not forced


# ----------------------------------------------------------------------------- demo


def test_offline_demo_summary_is_honest(tmp_path: Path) -> None:
    """demo --offline: progress while it works; incomplete orders counted by reason in plain
    words (adding up to the plans written); a delivery-days comment the plans support; no
    method jargon or bare fractions."""
    result = omniroute(
        "demo", "--offline", "--dir", str(tmp_path), "--orders", "600", "--seed", "3", forced=True
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    bars = bar_lines(result.stderr)
    assert bars[0].startswith("generating the demo network and 600 orders [")
    assert any(f"planning (cheapest) [{'#' * 30}] 600/600" in line for line in bars)
    assert "single-node-bound" not in out and not re.search(r"\(\d+ parts\)", out)
    assert "independent parts)" in out  # the readable label of split orders' methods
    assert re.search(r"split rate \(%\) +\d+\.\d  +\d+\.\d\n", out)
    assert "cost per order (AUD)" in out

    plans = [
        json.loads(line)["plan"]
        for line in (tmp_path / "plans-optimal.jsonl").read_text().splitlines()
    ]
    incomplete = [p for p in plans if p.get("status") != "COMPLETE"]
    assert f"{len(incomplete):,} of 600 orders are incomplete" in out
    reasons = {
        "OUT_OF_STOCK": "out of stock everywhere",
        "NO_SERVICE_TO_DESTINATION": "no carrier reaches the address",
        "NO_SERVICE_WITHIN_PROMISE": "stock too far away to meet the promise",
        "EXCEEDS_MAX_SHIPMENTS": "needs more shipments than the order allows",
    }
    counted = 0
    for code, words in reasons.items():
        expected = sum(
            1
            for p in incomplete
            if code in {u["reason"] for u in p["unfilledLines"]}
            and not any(
                earlier in {u["reason"] for u in p["unfilledLines"]}
                for earlier in list(reasons)[: list(reasons).index(code)]
            )
        )
        counted += expected
        if expected:
            assert re.search(rf"^{re.escape(words)} +{expected} ", out, re.MULTILINE), words
    assert counted == len(incomplete)

    baseline = [
        json.loads(line)["plan"]
        for line in (tmp_path / "plans-baseline.jsonl").read_text().splitlines()
    ]
    both = [
        (a.get("deliveryDays", 0), b.get("deliveryDays", 0))
        for a, b in zip(plans, baseline, strict=True)
        if a.get("status") == b.get("status") == "COMPLETE"
    ]
    later = sum(a > b for a, b in both)
    sooner = sum(a < b for a, b in both)
    difference = sum(a - b for a, b in both) / len(both)
    if difference >= 0.005:
        assert f"omniroute trades {difference:.2f} days on average for " in out
        assert f"({later:,} orders arrive later than the baseline's plan, {sooner:,} sooner)" in out
    elif difference <= -0.005:
        assert f"delivers {-difference:.2f} days sooner on average" in out
    orders = [json.loads(line) for line in (tmp_path / "orders.jsonl").read_text().splitlines()]
    promised = sum(
        1
        for order, a, b in zip(orders, plans, baseline, strict=True)
        if order.get("promiseDays") and a.get("status") == b.get("status") == "COMPLETE"
    )
    assert f"all {promised:,} orders with a delivery promise still meet it" in out


def test_sweep_prints_percent_and_a_real_rate(tmp_path: Path) -> None:
    """scenario sweep: a forced bar whose rate is never 0/s (slow runs read per minute or
    seconds each); a table with plain-word headers, rates in percent, money with currency."""
    assert omniroute("demo-data", "--out", str(tmp_path), "--orders", "150").returncode == 0
    (tmp_path / "grid.json").write_text(json.dumps({"grid": {"splitPenalty": [0, 10]}}))
    result = omniroute(
        "scenario",
        "sweep",
        "--network",
        str(tmp_path / "network.json"),
        "--orders",
        str(tmp_path / "orders.jsonl"),
        "--grid",
        str(tmp_path / "grid.json"),
        "--out",
        str(tmp_path / "sweep"),
        "--workers",
        "2",
        forced=True,
    )
    assert result.returncode == 0, result.stderr
    bars = [line for line in bar_lines(result.stderr) if line.startswith("sweep [")]
    assert bars[-1].startswith(f"sweep [{'#' * 30}] 2/2 runs  ")
    assert re.search(r"runs  [\d.,]+(/s|/min| s each)  ", bars[-1]) and " 0/s" not in bars[-1]
    header = result.stdout.splitlines()[0]
    for label in ("cost per order (AUD)", "total cost (AUD)", "split rate (%)", "on time (%)"):
        assert label in header
    runs = {r["name"]: r for r in json.loads((tmp_path / "sweep" / "sweep.json").read_text())}
    for line in result.stdout.splitlines()[2:]:
        name, cost, total, split, days, on_time = re.split(r"  +", line.strip())
        assert split == f"{100 * runs[name]['splitRate']:.1f}" and 0 <= runs[name]["splitRate"] <= 1
        assert on_time == f"{100 * runs[name]['onTimeRate']:.1f}"
        assert cost == f"{runs[name]['costPerOrder']:,.2f}"


def test_demo_through_the_service_prints_the_summary(tmp_path: Path) -> None:
    """demo (real server, real PlanOrder calls): bars for each stage when forced; the plans
    table in plain words; KPIs with units; incomplete orders by reason adding up."""
    result = omniroute(
        "demo",
        "--dir",
        str(tmp_path),
        "--orders",
        "1000",
        "--sample",
        "300",
        "--workers",
        "1",
        forced=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    bars = bar_lines(result.stderr)
    for stage in (
        "generating the demo network and 1,000 orders [" + "#" * 30 + "]",
        "starting omniroute serve (1 worker process) [" + "#" * 30 + "]",
        "routing through gRPC (cheapest) [" + "#" * 30 + "] 300/300 orders",
        "routing through gRPC (baseline) [" + "#" * 30 + "] 300/300 orders",
    ):
        assert any(line.startswith(stage) for line in bars), stage
    assert "decided by" in out and "single-node-bound" not in out
    assert "split rate (%)" in out and "cost per order (AUD)" in out
    complete = int(re.search(r"^complete orders +([\d,]+) ", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    if complete < 300:
        incomplete = re.search(r"^(\d+) of 300 orders are incomplete", out, re.MULTILINE)
        assert incomplete and int(incomplete.group(1)) == 300 - complete
        table = out.split("why incomplete", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
        assert sum(int(re.split(r"  +", row.strip())[1]) for row in table) == 300 - complete
    assert re.search(r"^omniroute saves [\d,]+\.\d\d AUD \(\d+\.\d%\)", out, re.MULTILINE)
    # the order life: shipments with tracking numbers, deliveries, a cancel after a shipment
    life = re.search(
        r"^order life \(OrderService\): 6 orders reserved, (\d+) shipments confirmed with "
        r"tracking numbers, (\d+) delivered, 1 cancelled after its first shipment "
        r"\((\d+) unshipped units? released\)$",
        out,
        re.MULTILINE,
    )
    assert life, out
    assert int(life.group(1)) == int(life.group(2)) >= 6 and int(life.group(3)) >= 1
    shown = out.split("order life", 1)[1]
    assert re.search(r"^order \S+: (SHIPPED|DELIVERED),", shown, re.MULTILINE)
    assert "cancelled" in shown.split("timeline", 1)[1] and "TRK-" in shown
    # future stock: a backorder waits for a purchase order, a pre-order for its release,
    # and the purchase order's slip promises the backorder again
    future = out.split("\nfuture stock: ", 1)[1]
    arrival = re.search(r"arriving (\S+);", future).group(1)  # type: ignore[union-attr]
    back = re.search(r"backorder: BACKORDER-1 .*: 2 from \S+@(\S+) shipping (\S+)$", future, re.M)
    assert back and back.group(1) == arrival and back.group(2) >= arrival
    pre = re.search(
        r"pre-order: PREORDER-1 of \S+ \(released (\S+)\): 1 from \S+ shipping (\S+)$", future, re.M
    )
    assert pre and pre.group(2) >= pre.group(1)
    slip = re.search(r"slipped to (\S+): BACKORDER-1 promised again: 2 from \S+@(\S+) ", future)
    assert slip and slip.group(1) == slip.group(2) > arrival
    assert "changed: now ships from" in future.split("timeline", 1)[1]
    assert out.rstrip().endswith("server stopped with SIGTERM (exit status 0)")


def test_compare_table_in_plain_words(tmp_path: Path) -> None:
    """scenario compare prints plain-word KPI labels with units, rates and their changes in
    percent (points), money with the currency; compare.json keeps fractions."""
    assert omniroute("demo-data", "--out", str(tmp_path), "--orders", "150").returncode == 0
    (tmp_path / "close.json").write_text(json.dumps({"closeNodes": ["DC-SYD"]}))
    for name, extra in (("base", []), ("no-syd", ["--changes", str(tmp_path / "close.json")])):
        run = omniroute(
            "scenario",
            "run",
            "--network",
            str(tmp_path / "network.json"),
            "--orders",
            str(tmp_path / "orders.jsonl"),
            "--out",
            str(tmp_path / name),
            *extra,
        )
        assert run.returncode == 0, run.stderr
    result = omniroute(
        "scenario",
        "compare",
        str(tmp_path / "base"),
        str(tmp_path / "no-syd"),
        "--out",
        str(tmp_path / "cmp"),
    )
    assert result.returncode == 0, result.stderr
    comparison = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    rows = {
        cells[0]: cells[1:]
        for cells in (re.split(r"  +", line.strip()) for line in result.stdout.splitlines()[2:])
    }
    base, changed = comparison["kpis"]["base"], comparison["kpis"]["no-syd"]
    delta = comparison["deltas"]["no-syd"]
    assert rows["split rate (%)"] == [
        f"{100 * base['splitRate']:.1f}",
        f"{100 * changed['splitRate']:.1f}",
        f"{100 * delta['splitRate']:+.1f}",
    ]
    assert rows["cost per order (AUD)"][2] == f"{delta['costPerOrder']:+,.2f}"
    assert "on time (%)" in rows and not any(re.search(r"[a-z][A-Z]", k) for k in rows)


def test_plan_summary_says_how_plans_were_decided(tmp_path: Path, data_dir: Path) -> None:
    """plan --out: the summary counts plans by method in plain words, parts included."""
    result = omniroute(
        "plan",
        "--network",
        str(data_dir / "tiny_network.json"),
        "--orders",
        str(data_dir / "tiny_orders.jsonl"),
        "--out",
        str(tmp_path / "plans.jsonl"),
    )
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("decided by"))
    counts = [int(n.replace(",", "")) for n in re.findall(r": ([\d,]+)(?:;|$)", line)]
    planned = len((tmp_path / "plans.jsonl").read_text().splitlines())
    assert sum(counts) == planned
    assert not re.search(r"single-node-bound|cp-sat|\bdp\b|candidates|\(\d+ parts\)", line)
