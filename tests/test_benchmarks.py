"""The benchmark suite runs end to end (smoke mode; no speed asserted); results files agree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import joint_bench, ledger_bench, suite

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def replot(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.suite", "--replot", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_suite_smoke(tmp_path: Path) -> None:
    """`python -m benchmarks.suite --mode smoke` (the path of `make bench-quick`, with 1 s
    steps) writes the JSON, the summary and both plots, with the many-channel and the
    one-channel modes, each against its own ceiling. No speed is asserted."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.suite", "--mode", "smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((tmp_path / "suite.json").read_text())
    assert set(data["sustainable"]) == {
        "ceiling unary",
        "omniroute unary",
        "ceiling stream",
        "omniroute stream",
        "omniroute reserve",
        "ceiling one-channel unary",
        "omniroute one-channel unary",
        "ceiling one stream",
        "omniroute one stream",
    }
    for steps in data["ladders"].values():
        assert steps[0]["calls"] > 0 and steps[0]["offered_rate"] == 40
    s, r = data["sustainable"], data["ratios"]
    assert r["one_channel_unary"] == pytest.approx(
        s["omniroute one-channel unary"] / s["ceiling one-channel unary"]
        if s["ceiling one-channel unary"]
        else 0.0
    )
    assert r["one_stream_vs_one_channel_unary"] == pytest.approx(
        s["omniroute one stream"] / s["omniroute one-channel unary"]
        if s["omniroute one-channel unary"]
        else 0.0
    )
    assert data["client_shapes"]["one"] == {"processes": 1, "channels": 1}
    low = data["low_load"]
    assert low["rate"] == 50 and low["rounds"] == 1
    for service in ("ceiling", "omniroute"):
        assert low[service]["calls"] > 0 and low[service]["p99_ms"] > 0
    assert low["p99_ratio"] == pytest.approx(low["omniroute"]["p99_ms"] / low["ceiling"]["p99_ms"])
    assert data["targets"]["one_channel_unary"] == 0.5
    assert data["targets"]["one_stream_vs_one_channel_unary"] == 3.0
    assert data["targets"]["low_load_p99_ratio"] == 2.0
    assert data["peak_day"]["calls"] > 0
    series = data["peak_day"]["series"]
    assert sum(series["completed_per_s"]) == data["peak_day"]["ok"]
    assert data["quality"]["peers"]["omniroute"]["proven_share"] == 1.0
    for name in ("suite.md", "latency_vs_load.png", "peak_day.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "latency_vs_load.png").read_bytes().startswith(b"\x89PNG")
    # the run's summary is exactly what --replot makes of its JSON
    summary = (tmp_path / "suite.md").read_text()
    (tmp_path / "suite.md").unlink()
    (tmp_path / "peak_day.png").unlink()
    assert replot(tmp_path).returncode == 0
    assert (tmp_path / "suite.md").read_text() == summary
    assert (tmp_path / "peak_day.png").read_bytes().startswith(b"\x89PNG")
    assert "## One channel (what a typical integrator's client sees)" in summary
    assert (
        f"| omniroute StreamPlanOrders, one stream | {s['omniroute one stream']:,.0f} |" in summary
    )
    # the README's table is made from the same JSON
    block = suite.readme_block(data)
    assert (
        f"| omniroute `PlanOrder`, one channel | 1 x 1 | {s['omniroute one-channel unary']:,.0f} |"
        in block
    )
    assert f"{low['p99_ratio']:.2f}x (target ≤ 2x" in block


def test_replot_redraws_the_committed_results(tmp_path: Path) -> None:
    """`--replot` rewrites suite.md (identical to the committed one) and latency_vs_load.png
    from the committed suite.json, and peak_day.png when the run kept its per-second series
    (an older run without one leaves the plot as it was)."""
    shutil.copy(RESULTS / "suite.json", tmp_path / "suite.json")
    (tmp_path / "peak_day.png").write_bytes(b"the run's plot")
    result = replot(tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "suite.json").read_text())
    if data["peak_day"].get("series"):
        assert (tmp_path / "peak_day.png").read_bytes().startswith(b"\x89PNG")
    else:
        assert "peak_day.png left as it was" in result.stderr
        assert (tmp_path / "peak_day.png").read_bytes() == b"the run's plot"
    assert (tmp_path / "latency_vs_load.png").read_bytes().startswith(b"\x89PNG")
    text = (tmp_path / "suite.md").read_text()
    assert text == suite.markdown(data)
    # the committed summary is the one --replot makes
    assert text == (RESULTS / "suite.md").read_text()
    # every failed first attempt is marked as retried, and only the retry counts
    marked = sum(sum(suite.retried(steps)) for steps in data["ladders"].values())
    assert text.count("| no, retried |") == marked
    assert (
        f"| omniroute PlanOrder with reserve | {data['sustainable']['omniroute reserve']:,.0f} |"
        in text
    )


def test_replot_draws_the_peak_day_from_its_series(tmp_path: Path) -> None:
    """With a per-second series in suite.json, --replot draws peak_day.png too, and suite.md
    counts the hold's completed calls from it."""
    data = json.loads((RESULTS / "suite.json").read_text())
    peak = data["peak_day"]
    seconds = sum(length for length, _ in peak["profile"])
    hold = suite.hold_window(peak["profile"])
    assert hold == (30.0, 60.0)
    completed = [1000 if hold[0] <= t < hold[1] else 300 for t in range(int(seconds))]
    peak["series"] = {
        "completed_per_s": completed,
        "shed_per_s": [0] * len(completed),
        "p99_ms_per_s": [20.0] * (len(completed) - 1) + [None],
        "memory_mb": [[t / 2, 800.0] for t in range(2 * int(seconds))],
    }
    (tmp_path / "suite.json").write_text(json.dumps(data))
    result = replot(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "peak_day.png").read_bytes().startswith(b"\x89PNG")
    assert "all of the hold's completed calls (30,000)" in (tmp_path / "suite.md").read_text()


def test_readme_block_is_rewritten_between_its_markers(tmp_path: Path) -> None:
    """--readme replaces only the lines between the README's markers, with the table made
    from suite.json (here the committed results; their one-channel rows when that run had
    the one-channel modes); the real README has the markers."""
    data = json.loads((RESULTS / "suite.json").read_text())
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{suite.README_BEGIN}\nold table\n{suite.README_END}\nafter\n")
    suite.update_readme(data, readme)
    text = readme.read_text()
    assert (
        text
        == f"before\n{suite.README_BEGIN}\n{suite.readme_block(data)}{suite.README_END}\nafter\n"
    )
    assert "old table" not in text
    one = "omniroute one-channel unary" in data["sustainable"]
    assert ("| omniroute `PlanOrder`, one channel | 1 x 1 |" in text) == one
    assert (
        f"| omniroute `PlanOrder` | 2 x 4 | {data['sustainable']['omniroute unary']:,.0f} |" in text
    )
    real = suite.README.read_text()
    assert real.count(suite.README_BEGIN) == 1 and real.count(suite.README_END) == 1


def test_replot_without_results_is_a_usage_error(tmp_path: Path) -> None:
    """--replot on a folder without suite.json exits 2 and says what to do."""
    result = replot(tmp_path)
    assert result.returncode == 2
    assert "suite.json does not exist; run the suite first or pass --out DIR" in result.stderr
    assert "Traceback" not in result.stderr
    (tmp_path / "suite.json").write_text("{not json")
    result = replot(tmp_path)
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_ledger_bench_quick_runs_sqlite_and_postgres_replicas(tmp_path: Path) -> None:
    """`python -m benchmarks.ledger_bench --quick` reserves through 1 and 2 `serve` replicas on
    SQLite and on PostgreSQL (a throwaway server it starts itself, with every commit synced,
    unless OMNIROUTE_TEST_POSTGRES names one), in one run; every acknowledged reservation is in
    the ledger, which reconciles, and ledger.md is made from ledger.json. No speed is asserted."""
    command = [sys.executable, "-m", "benchmarks.ledger_bench", "--quick", "--out", str(tmp_path)]
    if os.environ.get("OMNIROUTE_TEST_POSTGRES"):
        command += ["--postgres", os.environ["OMNIROUTE_TEST_POSTGRES"]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((tmp_path / "ledger.json").read_text())
    rows = data["rows"]
    assert [(r["backend"], r["replicas"]) for r in rows] == [
        ("SQLite", 1),
        ("SQLite", 2),
        ("PostgreSQL", 1),
        ("PostgreSQL", 2),
    ]
    for row in rows:
        assert row["reservations"] > 0, row
        # calls shed by an overloaded server (RESOURCE_EXHAUSTED: the machine is shared by
        # the replicas and the clients) are a measurement; any other failure is a bug
        assert set(row["errors"]) <= {"RESOURCE_EXHAUSTED"}, row
        assert row["failures"] == sum(row["errors"].values()), row
        assert row["acknowledged_missing"] == 0, row
        assert row["ledger_check_problems"] == 0, row
    if not os.environ.get("OMNIROUTE_TEST_POSTGRES"):
        assert data["postgres"]["started_here"]
        assert data["postgres"]["settings"]["fsync"] == "on"
    text = (tmp_path / "ledger.md").read_text()
    assert text == ledger_bench.markdown(data)
    assert "| PostgreSQL | 2 |" in text


def test_committed_ledger_results_are_made_from_their_json() -> None:
    """The committed ledger.md is what ledger_bench.markdown makes of ledger.json; that run
    measured SQLite and PostgreSQL with 1, 2 and 3 replicas, and after every row the ledger
    held every acknowledged reservation and reconciled."""
    data = json.loads((RESULTS / "ledger.json").read_text())
    assert (RESULTS / "ledger.md").read_text() == ledger_bench.markdown(data)
    replicas = [r for r in data["rows"] if r["path"] == "replicas"]
    assert [(r["backend"], r["replicas"]) for r in replicas] == [
        (backend, n) for backend in ("SQLite", "PostgreSQL") for n in (1, 2, 3)
    ]
    assert all(r["acknowledged_missing"] == 0 for r in replicas)
    assert all(r["ledger_check_problems"] == 0 for r in data["rows"])


def test_joint_bench_quick_proves_scarce_batches(tmp_path: Path) -> None:
    """`python -m benchmarks.joint_bench --quick` allocates two scarce 40- and 60-order batches
    with `allocate`'s defaults; the plans pass the benchmark's own feasibility check, the
    reported objective is the plans' and never above planning each order in turn, both are
    proven optimal, and joint.md is made from joint.json. No speed is asserted."""
    command = [sys.executable, "-m", "benchmarks.joint_bench", "--quick", "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((tmp_path / "joint-quick.json").read_text())
    assert json.loads(result.stdout) == data
    assert [row["orders"] for row in data["batches"]] == [40, 60]
    for row in data["batches"]:
        assert row["objective"] == pytest.approx(row["recomputedObjective"], abs=1e-6)
        assert row["lowerBound"] <= row["objective"] + 1e-6
        assert row["objective"] <= row["sequentialObjective"] + 1e-6
        assert row["proven"] and row["gap"] == 0.0  # dated orders with room on every day
    assert (tmp_path / "joint-quick.md").read_text() == joint_bench.markdown(data)


def test_committed_joint_results_are_made_from_their_json() -> None:
    """The committed joint.md is what joint_bench.markdown makes of joint.json, whose batches
    of up to 200 orders were all proven optimal (gap 0) within the default time limit."""
    data = json.loads((RESULTS / "joint.json").read_text())
    assert (RESULTS / "joint.md").read_text() == joint_bench.markdown(data)
    small = [row for row in data["batches"] if row["orders"] <= 200]
    assert len(small) == 7 and all(row["proven"] and row["gap"] == 0.0 for row in small)
